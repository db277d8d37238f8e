#!/usr/bin/env python3
"""pty_run.py ACTION... -- CMD...

Runs CMD as the session leader of a new pseudo-terminal, as a terminal
emulator would, and plays the actions in order:
  expect:TEXT      wait until the terminal has printed TEXT (Python escapes)
                   after what the previous expect matched
  lines:FILE:N     wait until FILE has N lines
  send:TEXT        type TEXT (Python escapes: \\n, \\x03 for Ctrl-C)
  until:SHELLCMD   wait until the shell command SHELLCMD succeeds
  signal:SIG       send SIG (a name without SIG) to CMD with kill(2)
  size:ROWSxCOLS   resize the terminal (its foreground group gets WINCH)
  limit:SECONDS    how long each later action, and the final wait for CMD
                   to end, may take (default 20 and 30)
Then prints everything the terminal showed and how CMD ended
('exit N' or 'signal NAME').  An action that gave up adds a line
'pty_run: gave up on ACTION'; a CMD still running at the end adds
'pty_run: still running, session killed', after which every process of the
terminal's session is killed with KILL (processes that left the session are
the caller's to clean up)."""
import fcntl
import os
import pty
import struct
import termios
import select
import signal
import subprocess
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


def unescape(text):
    return text.encode().decode("unicode_escape").encode("latin-1")


def lines(path):
    try:
        with open(path) as f:
            return sum(1 for _ in f)
    except OSError:
        return 0


def session_members(sid):
    """Every live process whose session is sid (the terminal's session)."""
    found = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z" and int(fields[3]) == sid:
            found.append(int(d))
    return found


notes = []
mark = 0    # where the next expect starts looking
step, final = 20.0, 30.0
for action in actions:
    kind, _, arg = action.partition(":")
    limit = time.monotonic() + step
    done = True
    if kind == "expect":
        while unescape(arg) not in seen[mark:]:
            if time.monotonic() >= limit or not pump(0.05):
                done = unescape(arg) in seen[mark:]
                break
        if done:
            mark = seen.index(unescape(arg), mark) + len(unescape(arg))
    elif kind == "lines":
        path, n = arg.rsplit(":", 1)
        while lines(path) < int(n):
            if time.monotonic() >= limit:
                done = False
                break
            pump(0.02)
    elif kind == "until":
        while subprocess.run(["sh", "-c", arg], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL).returncode != 0:
            if time.monotonic() >= limit:
                done = False
                break
            pump(0.02)
    elif kind == "send":
        os.write(fd, unescape(arg))
    elif kind == "signal":
        os.kill(pid, signal.Signals["SIG" + arg])
    elif kind == "size":
        rows, cols = (int(x) for x in arg.split("x"))
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    elif kind == "limit":
        step = final = float(arg)
    else:
        sys.exit(f"pty_run: unknown action {action}")
    if not done:
        notes.append(f"pty_run: gave up on {action}")
limit = time.monotonic() + final
while time.monotonic() < limit and pump(0.1):
    pass
ended, status = os.waitpid(pid, os.WNOHANG)
while ended == 0 and time.monotonic() < limit:
    time.sleep(0.05)
    ended, status = os.waitpid(pid, os.WNOHANG)
if ended == 0:
    notes.append("pty_run: still running, session killed")
    for _ in range(50):
        members = session_members(pid)
        if not members:
            break
        for p in members:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.02)
    _, status = os.waitpid(pid, 0)
sys.stdout.write(seen.decode(errors="replace").replace("\r\n", "\n"))
for note in notes:
    print(note)
if os.WIFSIGNALED(status):
    print(f"signal {signal.Signals(os.WTERMSIG(status)).name}")
else:
    print(f"exit {os.WEXITSTATUS(status)}")
