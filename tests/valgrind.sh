#!/bin/sh
# make valgrind: memcheck over a run, a timeout, a nested run, each
# subcommand and retries; any error or leak fails.
set -u
CTXRUN=$1
VG="valgrind -q --leak-check=full --show-leak-kinds=all --errors-for-leak-kinds=all --error-exitcode=99"
fail=0
check() {
	want=$1
	shift
	$VG "$@" </dev/null >/dev/null 2>/tmp/ctxrun-vg.$$
	got=$?
	if [ "$got" != "$want" ] || grep -q '^==' /tmp/ctxrun-vg.$$; then
		echo "valgrind: FAIL ($got, want $want): $*"
		cat /tmp/ctxrun-vg.$$
		fail=1
	else
		echo "valgrind: ok: $*"
	fi
}
check 0 "$CTXRUN" -t 10 --value A=1 -e X=1 -- true
check 124 "$CTXRUN" -q -t 0.3 -- sh -c 'setsid sleep 30 & sleep 30'
check 124 "$CTXRUN" timeout 0.3 sleep 30
check 124 "$CTXRUN" -q -t 0.5 -- "$CTXRUN" -q -n inner --value B=2 -- sh -c 'sleep 30'
check 0 "$CTXRUN" -t 10 --value A=1 -- sh -c "$VG --error-exitcode=99 $CTXRUN remaining && $VG --error-exitcode=99 $CTXRUN deadline --epoch && $VG --error-exitcode=99 $CTXRUN value A && $VG --error-exitcode=99 $CTXRUN show --json"
check 124 "$CTXRUN" -q -- sh -c "$VG --error-exitcode=99 $CTXRUN cancel --cause done; sleep 30"
check 125 "$CTXRUN" -t 1x true
check 3 "$CTXRUN" -q --report=/tmp/ctxrun-vg-report.$$ -r 1 --retry-delay 0 --value A=1 -- sh -c "sleep 30 & exit 3"
check 0 "$CTXRUN" --report=/nonexistent/r -- true
check 1 "$CTXRUN" -q -r 2 --retry-delay 0 --replay-stdin -- sh -c 'exit 1'
check 124 "$CTXRUN" -q -t 2 -r 1 --attempt-timeout 0.2 --retry-delay 0 -- sh -c "$CTXRUN retry --after 0; sleep 1"
check 124 "$CTXRUN" -q --idle-timeout 0.3 --on-timeout 'echo hook' --warn USR1@5s -t 10 -- sh -c 'echo hi; echo there >&2; sleep 30'
check 0 "$CTXRUN" --idle-timeout 5 -- sh -c 'head -c 300000 /dev/zero; echo done >&2'
rm -f /tmp/ctxrun-vg.$$ /tmp/ctxrun-vg-report.$$
exit $fail
