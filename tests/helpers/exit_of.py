#!/usr/bin/env python3
"""Runs a command and prints how it ended: 'exit N' or 'signal NAME'.

A shell folds both into $? = 128+N; tests need to tell them apart."""
import signal
import subprocess
import sys

rc = subprocess.run(sys.argv[1:]).returncode
print(f"signal {signal.Signals(-rc).name}" if rc < 0 else f"exit {rc}")
