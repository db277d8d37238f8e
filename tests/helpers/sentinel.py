#!/usr/bin/env python3
"""sentinel.py LOG READY MARK...: a process outside every tree under test;
logs any catchable signal it receives, so a test can show that no signal
strayed out of a tree (a reused PID signalled by mistake).  Sleeps until
killed with KILL."""
import signal
import sys
import time

log, ready = sys.argv[1], sys.argv[2]
for s in signal.valid_signals():
    if s not in (signal.SIGKILL, signal.SIGSTOP, signal.SIGCHLD, signal.SIGWINCH):
        try:
            signal.signal(s, lambda n, _f: open(log, "a").write(f"{n}\n"))
        except (OSError, ValueError):
            pass
open(ready, "w").close()
while True:
    time.sleep(3600)
