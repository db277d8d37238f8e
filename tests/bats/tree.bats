#!/usr/bin/env bats
# The whole tree: nothing survives, everything is told once, and ctxrun
# exits only when all of it is reaped.
load helper

@test "the deadline reaches setsid grandchildren, daemons and background jobs" {
	run -124 "$CTXRUN" -t 0.5 -- sh -c "
		sleep $U &                                  # background job
		setsid sleep $U &                           # new session
		(sleep $U &) &                              # orphan, re-parented
		sh -c 'setsid sh -c \"sleep $U & sleep $U\" &' &   # double fork + setsid
		sleep $U"
	assert_output --partial "deadline exceeded"
	assert_no_leftovers
}

@test "GNU timeout leaves the setsid grandchild behind; ctxrun does not" {
	run -124 timeout 0.3 sh -c "setsid sleep $U >/dev/null 2>&1 & sleep $U"
	[ "$(count_leftovers)" -eq 1 ] || fail "expected GNU timeout to leak one process"
	pkill -KILL -f "sleep $U"
	wait_for '[ "$(count_leftovers)" -eq 0 ]'
	run -124 "$CTXRUN" -t 0.3 -- sh -c "setsid sleep $U & sleep $U"
	assert_no_leftovers
}

@test "when COMMAND exits, the background jobs it forgot are cancelled" {
	run "$CTXRUN" -v -t 60 -- sh -c "sleep $U & setsid sleep $U & exit 3"
	assert_failure 3
	assert_output --partial "sent TERM to 2 processes (command exited, cleaning up its tree)"
	refute_output --partial "deadline exceeded"
	assert_no_leftovers
}

@test "--wait lets the rest of the tree finish" {
	run "$CTXRUN" -w -t 60 -- sh -c "(sleep 0.3; touch '$T/done') & exit 0"
	assert_success
	[ -e "$T/done" ] || fail "ctxrun returned before the background job finished"
}

@test "--wait still ends the tree at the deadline: 124" {
	run -124 "$CTXRUN" -w -t 0.4 -- sh -c "setsid sleep $U & exit 0"
	assert_output --partial "deadline exceeded"
	assert_no_leftovers
}

@test "every process of the tree gets the first signal exactly once" {
	# Shells that log each TERM and carry on; half of them in new sessions.
	"$CTXRUN" -k 1 -- sh -c "
		for i in 1 2 3 4 5 6; do
			\$([ \$((i % 2)) = 0 ] && echo setsid) sh -c '
				trap \"echo \$\$ >> $T/log\" TERM
				echo ready >> $T/ready
				while :; do sleep $U & wait; done' &
		done
		wait" 3>&- &
	pid=$!
	wait_for '[ "$(wc -l < "$T/ready" 2>/dev/null)" = 6 ]'
	kill -TERM $pid
	wait $pid || true
	[ "$(wc -l < "$T/log")" -eq 6 ] || fail "$(cat "$T/log")"
	[ "$(sort -u "$T/log" | wc -l)" -eq 6 ] || fail "some process got TERM twice: $(cat "$T/log")"
	assert_no_leftovers
}

@test "a tree that keeps forking through the grace period is killed" {
	run -124 "$CTXRUN" -t 0.3 -k 0.3 -- sh -c "
		trap '' TERM
		for i in \$(seq 1 3000); do sleep $U & done
		wait"
	assert_no_leftovers
}

@test "no zombies: orphans re-parented to ctxrun are reaped as they exit" {
	"$CTXRUN" -w -- sh -c "
		for i in 1 2 3 4 5; do (sleep 0.1 &) ; done
		touch '$T/spawned'
		sleep $U" 3>&- &
	pid=$!
	wait_for '[ -e "$T/spawned" ]'
	# The five orphans are re-parented to ctxrun and die 0.1 s later.
	wait_for '[ "$(ps -o pid= --ppid $pid | wc -l)" -eq 1 ]'
	run ps -o stat= --ppid $pid
	refute_output --partial "Z"
	kill -TERM $pid
	wait $pid || true
	assert_no_leftovers
}

@test "a 300-process tree with 100 in their own sessions: none survives" {
	run -124 "$CTXRUN" -t 1 -- sh -c "
		for i in \$(seq 1 100); do setsid sleep $U & sleep $U & sleep $U & done
		wait"
	assert_no_leftovers
}

@test "a tree that forks faster than it can be walked still gets its signal, then KILL" {
	# Found by the stress test: the first-signal sweep walked this forever.
	# (The forkers may reach the PID limit on a slow machine: their
	# "Cannot fork" is not ctxrun's to report.)
	run -124 "$CTXRUN" -v -t 0.3 -k 0.3 -- sh -c "
		trap '' TERM
		for i in \$(seq 1 12); do
			sh -c 'while :; do sleep $U & done' 2>/dev/null &
		done
		wait"
	assert_line --index 0 --partial "sent TERM to"
	assert_line --partial "sent KILL to"
	assert_no_leftovers
}

@test "what a TERM handler starts is not TERMed with the tree: the cleanup runs in the grace" {
	# 200 processes make the first signal's sweep walk long enough that
	# it walks again after the handler has started its cleanup.  The
	# cleanup is born after the signal: not of the tree it was for.
	run -0 "$CTXRUN" -k 20 -- sh -c "
		trap 'sh -c \"sleep 0.3; echo cleanup done >> $T/log\"; exit 0' TERM
		for i in \$(seq 200); do sleep $U & done
		\"\$CTXRUN\" cancel --status 0
		wait"
	[ "$(cat "$T/log" 2>/dev/null)" = "cleanup done" ] || fail "the cleanup was cut short"
	assert_no_leftovers
}

@test "after PIDs wrap, the tree from before the signal still gets it, and a handler's cleanup still does not" {
	[ "$(id -u)" = 0 ] || skip "needs root to set ns_last_pid in a PID namespace of its own"
	unshare --pid --fork --mount-proc true 2>/dev/null || skip "unshare --pid is unavailable"
	# In a PID namespace of its own, the next PIDs are set by hand: the
	# tree is born near pid_max, then PIDs wrap before the first signal.
	run unshare --pid --fork --mount-proc sh -c "
		echo 32000 > /proc/sys/kernel/ns_last_pid
		exec \"\$CTXRUN\" -v -k 20 -- sh -c '
			trap \"sh -c \\\"sleep 0.3; echo cleanup done >> $T/log\\\"; exit 0\" TERM
			for i in \$(seq 300); do sleep $U & done
			echo 100 > /proc/sys/kernel/ns_last_pid
			\"\$CTXRUN\" cancel --status 0
			wait'"
	assert_success
	refute_output --partial "sent KILL"
	[ "$(cat "$T/log" 2>/dev/null)" = "cleanup done" ] || fail "the cleanup was cut short"
	assert_no_leftovers
}
