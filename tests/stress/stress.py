#!/usr/bin/env python3
"""stress.py [--runs N] [--seed S] [--killed N] [--shapes A,B,...] CTXRUN

Randomised runs of ctxrun, two at a time: trees of different shapes, nested
ctxruns up to 8 deep, deadlines that fire and commands that finish first,
signals sent to ctxrun at random moments.  After every run, nothing of its
tree may be alive and the exit status must be the one the contract gives
for what happened.  Then --killed runs where ctxrun itself is killed with
KILL: COMMAND must still be told, and what survives is counted.
Exits 1 if any run leaked or had a wrong status.

Hostile shapes (not in the default set; name them with --shapes):
  zombie          COMMAND's main thread has exited, another thread runs on
                  (state Z in /proc, yet alive), with a child
  stopped         COMMAND stops itself with SIGSTOP
  stopped-nested  a nested ctxrun is stopped by its own command; that
                  command must still be told at the deadline
  otheruser       the tree runs as nobody (only when run as root)
  sigflood        USR1 and PIPE sent to ctxrun over and over (COMMAND
                  ignores them)
  closedpipe      ctxrun -v with stderr to a pipe nobody reads
Each must end with 124 by the deadline + the grace + 2 s, nothing left.

  retries         ctxrun -r with a plan per attempt (exit N, time out, die
                  of a signal, succeed), each attempt leaving a daemon that
                  ignores TERM; sometimes a TERM at ctxrun.  Attempts must
                  never overlap, nothing may leak, and the status is the
                  last attempt's (or death by the TERM)."""
import argparse
import concurrent.futures
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TREE = os.path.join(HERE, "tree.sh")
SHAPES = ["plain", "setsid", "double", "ignore", "forking"]
HOSTILE = ["zombie", "stopped", "stopped-nested", "otheruser", "sigflood",
           "closedpipe"]
RETRIES = ["retries"]
ZOMBIE_LEADER = None    # compiled by main() when the zombie shape is asked
# Seconds around a deadline or an exit where either outcome is fair.
MARGIN = 0.25


def alive(mark):
    r = subprocess.run(["pgrep", "-f", mark], capture_output=True, text=True)
    return [int(p) for p in r.stdout.split()]


def kill_left(mark):
    """What is still alive of a run: killed, and returned to be counted."""
    left = alive(mark)
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return left


def default_signals():
    # A background job of a shell starts with INT and QUIT ignored, and
    # ctxrun rightly keeps them so: the runs here need them at default.
    for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGHUP, signal.SIGTERM,
                signal.SIGUSR1):
        signal.signal(sig, signal.SIG_DFL)


def one_run(ctxrun, rnd, n, tmp, margin, shapes):
    mark = f"{9000000 + n}.{rnd.randrange(10**6)}"
    shape = rnd.choice(shapes)
    depth, width = rnd.choice([(0, 1), (1, 5), (2, 3), (3, 2), (0, 20)])
    nest = rnd.choice([0, 0, 1, 2, 8])
    timeout = rnd.uniform(0.4, 1.0)
    finish = rnd.uniform(0.1, 1.4)       # when COMMAND exits on its own
    code = rnd.randrange(0, 4)
    sig = rnd.choice([None, None, "INT", "TERM", "HUP", "USR1"])
    sig_at = rnd.uniform(0.1, 1.2)
    count = os.path.join(tmp, mark)
    began = os.path.join(tmp, mark + ".began")
    # The command notes when it really began: under load, nested ctxruns
    # take a while to start, and its own clock starts then.
    script = (f'date +%s.%N > {began}; "{TREE}" {mark} {shape} {depth} {width} & '
              f'sleep {finish:.3f}; exit {code}')
    cmd = ["sh", "-c", script]
    for i in range(nest):
        cmd = [ctxrun, "-q", "-k", "0.4", "--value", f"L{i}=x", "--"] + cmd
    cmd = [ctxrun, "-q", "-t", f"{timeout:.3f}", "-k", "0.5", "--"] + cmd
    env = dict(os.environ, STRESS_COUNT=count)
    errfile = os.path.join(tmp, mark + ".err")
    start = time.time()
    with open(errfile, "w") as ef:
        p = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=ef,
                             preexec_fn=default_signals)
    sent = None
    if sig is not None:
        try:
            p.wait(timeout=sig_at)
        except subprocess.TimeoutExpired:
            sent = time.time() - start
            p.send_signal(getattr(signal, "SIG" + sig))
    hung = False
    try:
        rc = p.wait(timeout=60)
    except subprocess.TimeoutExpired:
        hung = True
        subprocess.run(["ps", "-o", "pid,ppid,stat,args", "--forest", "-g",
                        str(os.getpgid(p.pid))], stderr=subprocess.DEVNULL)
        p.kill()
        rc = p.wait()
    err = open(errfile).read()
    left = kill_left(mark)
    # What the contract says, for each event that could have come first.
    try:
        finish += float(open(began).read()) - start
    except (OSError, ValueError):
        finish = float("inf")  # never began: stopped while starting
    # An event is a window: a nested ctxrun whose tree ignores TERM takes
    # its grace to clean up after COMMAND exits, and only then does the
    # outer one see its COMMAND exit.
    cleanup = 0.45 if nest and shape in ("ignore", "forking") else 0
    events = [(timeout, timeout, {124}), (finish, finish + cleanup, {code})]
    if sent is not None:
        # USR1 only ends COMMAND, which then exits like on its own.
        events.append((sent, sent + (cleanup if sig == "USR1" else 0),
                       {-getattr(signal, "SIG" + sig)}))
    events.sort(key=lambda e: e[0])
    ok = set(events[0][2])
    for t, _, outcome in events[1:]:
        if t < events[0][1] + margin:
            ok |= outcome
    started = sum(1 for _ in open(count)) if os.path.exists(count) else 0
    desc = f"shape={shape} depth={depth} width={width} nest={nest} t={timeout:.2f} finish={finish:.2f} code={code} sig={sig}@{sent}"
    if hung:
        desc += " HUNG (still running after 60 s)"
    return {"started": started, "leaked": len(left), "wrong": rc not in ok or hung,
            "desc": desc, "rc": rc, "ok": sorted(ok), "err": err.strip()}


def hostile_run(ctxrun, rnd, n, tmp, margin, shapes):
    """One run of a hostile shape: ctxrun must exit 124 by the deadline,
    plus the grace, plus 2 s, and leave nothing behind."""
    mark = f"{7500000 + n}.{rnd.randrange(10**6)}"
    shape = rnd.choice(shapes)
    timeout = rnd.uniform(0.4, 1.0)
    grace = 0.5
    told = os.path.join(tmp, mark + ".told")
    leader = os.path.join(tmp, mark + ".leader")
    ready = os.path.join(tmp, mark + ".ready")
    sleeps = f"sleep {mark} & setsid sleep {mark} & (sleep {mark} &);"
    head = [ctxrun, "-q", "-t", f"{timeout:.3f}", "-k", f"{grace}", "--"]
    stderr = subprocess.DEVNULL
    if shape == "zombie":
        cmd = head + [ZOMBIE_LEADER, leader, "sh", "-c", sleeps + " wait"]
    elif shape == "stopped":
        cmd = head + ["sh", "-c", sleeps + " kill -STOP $$; wait"]
    elif shape == "stopped-nested":
        cmd = head + [ctxrun, "-q", "--", "sh", "-c",
                      f"trap 'echo > {told}; exit' TERM; {sleeps} "
                      "kill -STOP $PPID; wait"]
    elif shape == "otheruser":
        cmd = head + ["setpriv", "--reuid=nobody", "--regid=nogroup",
                      "--clear-groups", "sh", "-c", sleeps + " wait"]
    elif shape == "sigflood":
        cmd = head + ["sh", "-c", f"trap '' USR1 PIPE; {sleeps} echo > {ready}; wait"]
    elif shape == "closedpipe":
        cmd = [ctxrun, "-v"] + head[2:] + ["sh", "-c", sleeps + " wait"]
    rfd, wfd = os.pipe()
    if shape == "closedpipe":
        stderr = wfd
    start = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=stderr,
                         preexec_fn=default_signals)
    os.close(rfd)       # the reader is gone before ctxrun writes a word
    os.close(wfd)
    sent = 0
    if shape == "sigflood":
        # From COMMAND's start: before, ctxrun has not yet taken the signals.
        while not os.path.exists(ready) and p.poll() is None and \
                time.monotonic() - start < timeout:
            time.sleep(0.005)
        while p.poll() is None and time.monotonic() - start < timeout + grace + 2:
            for sig in (signal.SIGUSR1, signal.SIGPIPE):
                try:
                    os.kill(p.pid, sig)
                    sent += 1
                except ProcessLookupError:
                    break
            time.sleep(0.0005)
    limit = timeout + grace + 2 + margin
    hung = False
    try:
        rc = p.wait(timeout=max(0.0, limit - (time.monotonic() - start)))
    except subprocess.TimeoutExpired:
        hung = True
        cpu = ""
        try:
            with open(f"/proc/{p.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            cpu = f", {(int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK'):.1f} s of CPU"
        except (OSError, IndexError):
            pass
        p.kill()
        rc = p.wait()
    took = time.monotonic() - start
    left = alive(mark)
    try:
        lpid = int(open(leader).read())
        with open(f"/proc/{lpid}/stat") as f:
            if f.read().rsplit(")", 1)[1].split()[0] != "Z" or hung:
                left.append(lpid)
    except (OSError, ValueError, IndexError):
        pass
    for pid in left:
        try:
            os.kill(pid, signal.SIGCONT)
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    wrong = hung or rc != 124
    desc = f"shape={shape} t={timeout:.2f} k={grace} took={took:.2f}"
    if shape == "sigflood":
        desc += f" signals={sent}"
    if hung:
        desc += f" HUNG (still running {limit:.1f} s after the start{cpu})"
    if shape == "stopped-nested" and not hung and not os.path.exists(told):
        wrong = True
        desc += " NOT TOLD (the stopped nested ctxrun's command never got TERM)"
    return {"started": 3, "leaked": len(left), "wrong": wrong,
            "desc": desc, "rc": rc, "ok": [124], "err": ""}


def retry_run(ctxrun, rnd, n, tmp, margin, shapes):
    """Retries: attempts one after the other, never side by side."""
    mark = f"{7000000 + n}.{rnd.randrange(10**6)}"
    plan = [rnd.choice(["e1", "e3", "t", "s", "e0"]) for _ in range(rnd.randrange(1, 6))]
    log = os.path.join(tmp, mark + ".log")
    # Each attempt checks that no daemon of an earlier one is alive, leaves
    # one of its own (TERM ignored: KILL at the end of the grace), then does
    # what the plan says for it.
    script = f"""
        if pgrep -f '^sleep 100{mark}' >/dev/null; then echo OVERLAP >> {log}; fi
        n=${{CTXRUN_ATTEMPT:-1}}   # -r 0: one attempt, no variables
        echo "$n" >> {log}
        setsid sh -c "trap '' TERM; exec sleep 100{mark}" </dev/null >/dev/null 2>&1 &
        case $(echo {" ".join(plan)} | cut -d' ' -f$n) in
        e*) a=$(echo {" ".join(plan)} | cut -d' ' -f$n); exit ${{a#e}} ;;
        t) exec sleep 200{mark} ;;
        s) kill -USR1 $$ ;;
        esac"""
    cmd = [ctxrun, "-q", "-t", "30", "-k", "0.3", "-r", str(len(plan) - 1),
           "--attempt-timeout", "0.4", "--retry-on", "any", "--retry-delay", "10ms",
           "--", "sh", "-c", script]
    # What the last attempt that runs gives.
    natural = None
    for step in plan:
        natural = {"e0": 0, "e1": 1, "e3": 3, "t": 124, "s": -signal.SIGUSR1}[step]
        if step == "e0":
            break
    term_at = rnd.choice([None, None, rnd.uniform(0.05, 1.5)])
    start = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, preexec_fn=default_signals)
    if term_at is not None:
        try:
            p.wait(timeout=term_at)
        except subprocess.TimeoutExpired:
            p.send_signal(signal.SIGTERM)
    hung = False
    try:
        rc = p.wait(timeout=len(plan) * 1.0 + 5)
    except subprocess.TimeoutExpired:
        hung = True
        p.kill()
        rc = p.wait()
    left = kill_left(mark)
    lines = open(log).read().split() if os.path.exists(log) else []
    overlap = "OVERLAP" in lines
    ok = {natural} | ({-signal.SIGTERM} if term_at is not None else set())
    desc = f"retries plan={','.join(plan)} term@{term_at} attempts={lines}"
    if overlap:
        desc += " OVERLAP (an attempt started beside an earlier one's daemon)"
    if hung:
        desc += " HUNG"
    return {"started": len(lines), "leaked": len(left),
            "wrong": hung or overlap or rc not in ok,
            "desc": desc, "rc": rc, "ok": sorted(ok), "err": ""}


def killed_run(ctxrun, n, tmp):
    """ctxrun killed with KILL: COMMAND must still get the first signal."""
    mark = f"{8000000 + n}.{n}"
    told = os.path.join(tmp, f"told-{n}")
    ready = os.path.join(tmp, f"ready-{n}")
    count = os.path.join(tmp, mark)
    script = (f'trap "touch {told}; exit" TERM; "{TREE}" {mark} setsid 1 3 & '
              f'touch {ready}; while :; do sleep 0.05; done')
    p = subprocess.Popen([ctxrun, "-t", "60", "--", "sh", "-c", script],
                         env=dict(os.environ, STRESS_COUNT=count))
    deadline = time.monotonic() + 10
    while not os.path.exists(ready) and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)
    p.kill()
    p.wait()
    deadline = time.monotonic() + 5
    while not os.path.exists(told) and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.3)
    left = alive(mark)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    return os.path.exists(told), len(left)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--killed", type=int, default=20)
    ap.add_argument("--margin", type=float, default=MARGIN)
    ap.add_argument("--shapes", default=",".join(SHAPES),
                    help="comma-separated subset of " + ",".join(SHAPES + HOSTILE + RETRIES))
    ap.add_argument("ctxrun")
    a = ap.parse_args()
    ctxrun = os.path.abspath(a.ctxrun)
    shapes = a.shapes.split(",")
    unknown = [x for x in shapes if x not in SHAPES + HOSTILE + RETRIES]
    if unknown:
        ap.error("unknown shapes: " + ",".join(unknown))
    if "otheruser" in shapes and os.getuid() != 0:
        print("stress: not root, no otheruser runs", flush=True)
        shapes.remove("otheruser")
    if not shapes:
        ap.error("no shape to run")
    print(f"stress: {a.runs} runs, two at a time, seed {a.seed}", flush=True)
    totals = {"runs": 0, "started": 0, "leaked": 0, "wrong": 0}
    global ZOMBIE_LEADER
    with tempfile.TemporaryDirectory() as tmp, \
            concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        if "zombie" in shapes:
            ZOMBIE_LEADER = os.path.join(tmp, "zombie_leader")
            subprocess.run(["cc", "-O2", "-pthread", "-o", ZOMBIE_LEADER,
                            os.path.join(HERE, "..", "helpers", "zombie_leader.c")],
                           check=True)
        futures = []
        for i in range(a.runs):
            # With hostile shapes asked for, each run draws its kind first
            # (without, the runs are those of a given seed as they always were).
            rnd = random.Random(a.seed * 100003 + i)
            hostile = [x for x in shapes if x in HOSTILE]
            if "retries" in shapes and (len(shapes) == 1 or rnd.choice(shapes) == "retries"):
                futures.append(pool.submit(retry_run, ctxrun, rnd, i, tmp, a.margin, shapes))
            elif hostile and (len(hostile) == len(shapes) or rnd.choice(shapes) in HOSTILE):
                futures.append(pool.submit(hostile_run, ctxrun, rnd, i, tmp, a.margin,
                                           [x for x in shapes if x in HOSTILE]))
            else:
                futures.append(pool.submit(one_run, ctxrun, rnd, i, tmp, a.margin,
                                           [x for x in shapes if x in SHAPES]))
        for f in concurrent.futures.as_completed(futures):
            r = f.result()
            totals["runs"] += 1
            totals["started"] += r["started"]
            totals["leaked"] += r["leaked"]
            totals["wrong"] += r["wrong"]
            if r["leaked"] or r["wrong"]:
                print(f"  FAIL {r['desc']}: status {r['rc']} (allowed {r['ok']}), "
                      f"{r['leaked']} left; {r['err']}", flush=True)
        told = survivors = 0
        for i in range(a.killed):
            t, s = killed_run(ctxrun, i, tmp)
            told += t
            survivors += s
    print(f"runs {totals['runs']}, processes started {totals['started']}, "
          f"leaked {totals['leaked']}, wrong statuses {totals['wrong']}")
    print(f"ctxrun killed with KILL: {a.killed} runs, COMMAND told in {told}, "
          f"processes left behind {survivors} (descendants of COMMAND are not "
          f"told when ctxrun itself is killed; see SIGNALS in ctxrun(1))")
    return 1 if totals["leaked"] or totals["wrong"] or told < a.killed else 0


sys.exit(main())
