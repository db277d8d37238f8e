#!/usr/bin/env bats
# In a terminal, COMMAND behaves as it would without ctxrun.  These run
# through a real pseudo-terminal, with ctxrun as its session leader.
load helper

pty_run() {
	python3 "$HELPERS/pty_run.py" "$@"
}

@test "an interactive program can read the terminal and is not stopped" {
	run pty_run 'expect:name? ' 'send:bob\n' -- "$CTXRUN" -t 20 -- sh -c 'printf "name? "; read x; echo "hello $x"'
	assert_line "hello bob"
	assert_line "exit 0"
}

@test "Ctrl-C reaches every process of the tree exactly once" {
	# One logger in the terminal's foreground group (the kernel tells it),
	# one in a session of its own (only ctxrun can tell it).  Both carry
	# on: a Ctrl-C is not a cancellation, so TERM ends the run.
	run pty_run "lines:$T/ready:2" 'send:\x03' "lines:$T/log:2" 'signal:TERM' -- "$CTXRUN" -k 1 -- sh -c "
		setsid python3 '$HELPERS/int_logger.py' '$T/log' '$T/ready' sleep $U &
		exec python3 '$HELPERS/int_logger.py' '$T/log' '$T/ready' sleep $U"
	assert_output --regexp "signal SIGTERM$"
	refute_output --partial "gave up"
	[ "$(wc -l < "$T/log")" -eq 2 ] || fail "INT deliveries: $(cat "$T/log")"
	[ "$(sort -u "$T/log" | wc -l)" -eq 2 ] || fail "one process got INT twice"
	assert_no_leftovers
}

@test "Ctrl-C ends a plain command as it would without ctxrun" {
	run pty_run "lines:$T/ready:1" 'send:\x03' -- "$CTXRUN" -t 30 -- sh -c "echo r > $T/ready; exec sleep $U"
	assert_output --regexp "signal SIGINT$"
	refute_output --partial "deadline"
	assert_no_leftovers
}
