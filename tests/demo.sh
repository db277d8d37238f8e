#!/bin/sh
# make demo: ctxrun on a tree that GNU timeout cannot clean up.
set -u
CTXRUN=${1:-build/ctxrun}
tag=$$
step() { printf '\n$ %s\n' "$*"; }
survivors() { n=$(pgrep -c -f "sleep 31$tag" || true); echo "survivors: $n"; }

echo "A script that starts a server in a new session (setsid), then hangs:"
script="setsid sleep 31$tag >/dev/null 2>&1 & sleep 31$tag"

step "timeout 1 sh -c '$script'"
timeout 1 sh -c "$script"
echo "exit status: $?"
survivors
pkill -f "sleep 31$tag"

step "ctxrun -v -t 1 -- sh -c '$script'"
"$CTXRUN" -v -t 1 -- sh -c "$script"
echo "exit status: $?"
survivors

step "ctxrun -n job -t 2 --value RUN=7 -- sh -c 'ctxrun -n step -t 1h -- sh -c \"ctxrun show; ctxrun value RUN; sleep 10\"'"
PATH=$(dirname "$CTXRUN"):$PATH "$CTXRUN" -n job -t 2 --value RUN=7 -- sh -c 'ctxrun -n step -t 1h -- sh -c "ctxrun show; ctxrun value RUN; sleep 10"'
echo "exit status: $?"
echo
echo "The inner step could not extend the job's 2 s budget, and nothing was left behind."
