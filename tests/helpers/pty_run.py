#!/usr/bin/env python3
"""pty_run.py ACTION... -- CMD...

Runs CMD as the session leader of a new pseudo-terminal, as a terminal
emulator would, and plays the actions in order:
  expect:TEXT      wait until the terminal has printed TEXT
  lines:FILE:N     wait until FILE has N lines
  send:TEXT        type TEXT (Python escapes: \\n, \\x03 for Ctrl-C)
Then prints everything the terminal showed and how CMD ended
('exit N' or 'signal NAME').  Gives up after 20 s per action."""
import os
import pty
import select
import signal
import sys
import time

split = sys.argv.index("--")
actions, cmd = sys.argv[1:split], sys.argv[split + 1:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(cmd[0], cmd)

seen = b""


def pump(timeout):
    global seen
    r, _, _ = select.select([fd], [], [], timeout)
    if r:
        try:
            data = os.read(fd, 4096)
        except OSError:
            return False
        if not data:
            return False
        seen += data
    return True


for action in actions:
    kind, _, arg = action.partition(":")
    limit = time.monotonic() + 20
    if kind == "expect":
        while arg.encode() not in seen and time.monotonic() < limit:
            if not pump(0.05):
                break
    elif kind == "lines":
        path, n = arg.rsplit(":", 1)
        while time.monotonic() < limit:
            if os.path.exists(path) and sum(1 for _ in open(path)) >= int(n):
                break
            pump(0.02)
    elif kind == "send":
        os.write(fd, arg.encode().decode("unicode_escape").encode("latin-1"))
limit = time.monotonic() + 30
while time.monotonic() < limit and pump(0.1):
    pass
_, status = os.waitpid(pid, 0)
sys.stdout.write(seen.decode(errors="replace").replace("\r\n", "\n"))
if os.WIFSIGNALED(status):
    print(f"signal {signal.Signals(os.WTERMSIG(status)).name}")
else:
    print(f"exit {os.WEXITSTATUS(status)}")
