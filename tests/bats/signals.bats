#!/usr/bin/env bats
# Signals that ctxrun receives: INT, TERM and HUP end the context; the rest
# are passed to COMMAND; a shell sees what it would without ctxrun.
load helper

@test "TERM to ctxrun: forwarded, and ctxrun dies of it as COMMAND did" {
	run exit_of --ready "$T/ready" --send TERM "$CTXRUN" -- sh -c "touch '$T/ready'; exec sleep $U"
	assert_output "signal SIGTERM"
	assert_no_leftovers
}

@test "INT and HUP likewise, to the whole tree" {
	for sig in INT HUP; do
		rm -f "$T/ready"
		# The background job ignores INT (sh starts it so): KILL after -k.
		run exit_of --ready "$T/ready" --send $sig "$CTXRUN" -k 0.5 -- sh -c "setsid sleep $U & touch '$T/ready'; exec sleep $U"
		assert_output "signal SIG$sig"
		assert_no_leftovers
	done
}

@test "a COMMAND that handles the forwarded signal keeps its own exit status" {
	run exit_of --ready "$T/ready" --send TERM "$CTXRUN" -- sh -c "trap 'echo got >> $T/log; exit 0' TERM; sleep $U & touch '$T/ready'; wait"
	assert_output "exit 0"
	[ "$(cat "$T/log")" = got ]
	assert_no_leftovers
}

@test "USR1 is passed to COMMAND and does not end the context" {
	run exit_of --ready "$T/ready" --send USR1 "$CTXRUN" -v -- sh -c "trap 'echo usr1 >> $T/log; exit 5' USR1; sleep $U & touch '$T/ready'; wait"
	assert_output --partial "ctxrun: sh: forwarded USR1 to the command"
	assert_output --partial "exit 5"
	refute_output --partial "signal received"
	[ "$(cat "$T/log")" = usr1 ]
	assert_no_leftovers
}

@test "a signal ignored by the caller stays ignored, for ctxrun and COMMAND" {
	run exit_of --ignore INT "$CTXRUN" -- sh -c 'grep ^SigIgn /proc/self/status'
	ign=$(printf %s "$output" | awk '/SigIgn/ {print $2}')
	(( (0x$ign & 2) != 0 )) || fail "INT is not ignored by COMMAND: $output"
	# INT sent to ctxrun is ignored: COMMAND finishes normally.
	run exit_of --ignore INT --ready "$T/ready" --send INT "$CTXRUN" -- sh -c "touch '$T/ready'; sleep 0.3; exit 9"
	assert_output "exit 9"
}

@test "ctxrun killed with KILL: COMMAND still receives the first signal" {
	assert_told_when_killed -s USR2 --
}

@test "a caller that ignores SIGCHLD: ctxrun still reaps, COMMAND inherits the ignore" {
	run exit_of --ignore CHLD "$CTXRUN" -- grep ^SigIgn /proc/self/status
	assert_line --index 1 "exit 0"
	ign=$(printf %s "${lines[0]}" | awk '{print $2}')
	(( (0x$ign & (1 << 16)) != 0 )) || fail "CHLD not ignored in COMMAND: ${lines[0]}"
	run exit_of --ignore CHLD "$CTXRUN" -q -t 0.2 -- sh -c "setsid sleep $U & sleep $U"
	assert_output "exit 124"
	assert_no_leftovers
}

@test "TERM to ctxrun, COMMAND ignores it and is killed: ctxrun dies of TERM" {
	run exit_of --ready "$T/ready" --send TERM "$CTXRUN" -k 0.3 -- sh -c "trap '' TERM; touch '$T/ready'; sleep $U"
	assert_output "signal SIGTERM"
	assert_no_leftovers
}

@test "QUIT, USR2 and WINCH are passed on; only the command gets them" {
	run exit_of --ready "$T/ready" --send QUIT "$CTXRUN" -- sh -c "trap 'exit 3' QUIT; sleep $U & touch '$T/ready'; wait"
	assert_output "exit 3"
	rm -f "$T/ready"
	run exit_of --ready "$T/ready" --send WINCH "$CTXRUN" -- sh -c "trap 'exit 4' WINCH; sleep $U & touch '$T/ready'; wait"
	assert_output "exit 4"
	assert_no_leftovers
}
