#!/usr/bin/env python3
"""latency.py write N | latency.py read

The writer writes N lines, each its own write(2) holding the monotonic time
it was written at, 2 ms apart; the reader reads them as they come and prints
the median and the 99th percentile of the delay, in microseconds.  Run with
ctxrun --idle-timeout between the two, the difference is what a line gains
through the relay."""
import os
import sys
import time

if sys.argv[1] == "write":
    for _ in range(int(sys.argv[2])):
        os.write(1, b"%d\n" % time.monotonic_ns())
        time.sleep(0.002)
else:
    delays, rest = [], b""
    while True:
        chunk = os.read(0, 65536)
        if not chunk:
            break
        now = time.monotonic_ns()
        lines = (rest + chunk).split(b"\n")
        rest = lines.pop()
        delays += [(now - int(line)) / 1000 for line in lines]
    delays.sort()
    print("%d %d" % (delays[len(delays) // 2], delays[len(delays) * 99 // 100]))
