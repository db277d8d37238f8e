#!/usr/bin/env python3
"""int_logger.py LOG READY: appends its pid to LOG at every SIGINT, one line
to READY once the handler is in place, then sleeps until killed.  A shell
cannot do this in a background job: there INT is ignored on entry and
cannot be trapped."""
import os
import signal
import sys
import time

log, ready = sys.argv[1], sys.argv[2]
signal.signal(signal.SIGINT, lambda *_: open(log, "a").write(f"{os.getpid()}\n"))
open(ready, "a").write("r\n")
while True:
    time.sleep(3600)
