#!/bin/sh
# tree.sh MARK KIND DEPTH WIDTH: a process tree for the stress test.  Every
# process has MARK in its command line and adds a line to $STRESS_COUNT.
# KIND: plain, setsid (each level in a new session), double (double-forked
# orphans), ignore (TERM ignored throughout), forking (TERM ignored, keeps
# forking until killed).
mark=$1 kind=$2 depth=$3 width=$4
echo >> "$STRESS_COUNT"
case $kind in ignore | forking) trap '' TERM ;; esac
i=0
while [ "$i" -lt "$width" ]; do
	if [ "$depth" -gt 0 ]; then
		case $kind in
		setsid) setsid "$0" "$mark" "$kind" $((depth - 1)) "$width" & ;;
		double) ("$0" "$mark" "$kind" $((depth - 1)) "$width" &) ;;
		*) "$0" "$mark" "$kind" $((depth - 1)) "$width" & ;;
		esac
	else
		echo >> "$STRESS_COUNT"
		sleep "$mark" &
	fi
	i=$((i + 1))
done
if [ "$kind" = forking ]; then
	while :; do
		echo >> "$STRESS_COUNT"
		sleep "$mark" &
		sleep 0.02
	done
fi
wait
