#!/usr/bin/env python3
"""exit_of.py [--ready FILE [--ready-text TEXT] --send SIG] [--block SIGS] [--ignore SIGS] CMD...

Runs CMD and prints how it ended: 'exit N' or 'signal NAME' (a shell folds
both into $? = 128+N; tests need to tell them apart).  With --ready and
--send, sends SIG to CMD once FILE exists (and, with --ready-text, holds
TEXT: a line CMD writes when it is where the test wants it).  --block and --ignore start CMD
with those signals (comma-separated names) blocked or ignored."""
import os
import signal
import subprocess
import sys
import time

args = sys.argv[1:]
opts = {}
while args and args[0].startswith("--"):
    opts[args[0]] = args[1]
    args = args[2:]


def sigs(names):
    return [signal.Signals["SIG" + n] for n in names.split(",")] if names else []


def prepare():
    signal.pthread_sigmask(signal.SIG_BLOCK, sigs(opts.get("--block")))
    for s in sigs(opts.get("--ignore")):
        signal.signal(s, signal.SIG_IGN)


def ready(path, text):
    try:
        with open(path) as f:
            return text is None or text in f.read()
    except FileNotFoundError:
        return False


proc = subprocess.Popen(args, preexec_fn=prepare)
if "--ready" in opts:
    deadline = time.monotonic() + 20
    while not ready(opts["--ready"], opts.get("--ready-text")) and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.Signals["SIG" + opts["--send"]])
rc = proc.wait()
print(f"signal {signal.Signals(-rc).name}" if rc < 0 else f"exit {rc}")
