#!/usr/bin/env bats
# ctxrun timeout: GNU timeout's interface, compared with GNU timeout itself
# where they should agree, and ctxrun's whole-tree signalling where they
# should not.
load helper

# status_of CMD...: the $? a calling shell sees.
status_of() {
	"$@" >/dev/null 2>&1
	echo $?
}

# same ARGS...: GNU timeout and ctxrun timeout give the calling shell the
# same status for these arguments.
same() {
	local gnu ours
	gnu=$(status_of timeout "$@")
	ours=$(status_of "$CTXRUN" timeout "$@")
	[ "$gnu" = "$ours" ] || fail "timeout $*: GNU $gnu, ctxrun $ours"
}

@test "exit statuses agree with GNU timeout" {
	same 5 true
	same 5 false
	same 5 sh -c 'exit 42'
	same 0.2 sleep 5
	same --preserve-status 0.2 sleep 5
	same -s KILL 0.2 sleep 5
	same -k 0.3 0.2 sh -c "trap '' TERM; sleep 5"
	same -s 0 0.2 sleep 1
	same 5 /nonexistent
	same 5 /
	same 0 true
	same 5 sh -c 'kill -USR1 $$'
}

@test "durations as GNU reads them: floats, hex, inf, one suffix" {
	for d in 0.2 0x1p-2 .2s 0.004m 1e-400 " 0.2"; do
		run -124 "$CTXRUN" timeout "$d" sleep $U
	done
	for d in inf 1d 1e9 0; do
		run -0 "$CTXRUN" timeout "$d" true
	done
	for d in -1 1x nan 1ss "" "1 " 5ms; do
		run -125 "$CTXRUN" timeout -- "$d" true
		assert_output "timeout: invalid time interval '$d'"
		same -- "$d" true
	done
	assert_no_leftovers
}

@test "signals by name or number, with or without SIG, any case" {
	for s in TERM sigterm SigTerm 15 INT 9 0 RTMIN+1; do
		run "$CTXRUN" timeout -s "$s" 5 true
		assert_success
	done
	run -125 "$CTXRUN" timeout -s FOO 5 true
	assert_output "timeout: 'FOO': invalid signal"
	same -s FOO 5 true
}

@test "bad usage: one line, 125, as GNU" {
	run -125 "$CTXRUN" timeout
	assert_output "timeout: missing operand"
	run -125 "$CTXRUN" timeout 5
	assert_output "timeout: missing operand after '5'"
	run -125 "$CTXRUN" timeout --bogus 5 true
	assert_output "timeout: unrecognized option '--bogus'"
	run -125 "$CTXRUN" timeout -k
	same
	same 5
	same --bogus 5 true
}

@test "--verbose says what GNU says" {
	run -124 "$CTXRUN" timeout -v 0.2 sleep $U
	assert_output "timeout: sending signal TERM to command 'sleep'"
	run -137 "$CTXRUN" timeout -v -k 0.2 0.2 sh -c "trap '' TERM; sleep $U"
	assert_output "timeout: sending signal TERM to command 'sh'
timeout: sending signal KILL to command 'sh'"
	assert_no_leftovers
}

@test "options stop at the first operand; -f and -p are short options" {
	run -0 "$CTXRUN" timeout 5 sh -c 'echo "$@"' sh -v -k 1
	assert_output "-v -k 1"
	run -143 "$CTXRUN" timeout -p 0.2 sleep $U
	run -124 "$CTXRUN" timeout -f 0.2 sleep $U
	assert_no_leftovers
}

@test "invoked through a link named timeout, ctxrun is timeout" {
	ln -s "$CTXRUN" "$T/timeout"
	run -124 "$T/timeout" -v 0.2 sleep $U
	assert_output "timeout: sending signal TERM to command 'sleep'"
	run "$T/timeout" --version
	assert_output --partial "timeout (ctxrun)"
	assert_no_leftovers
}

@test "at the time limit the whole tree is signalled, unlike GNU timeout" {
	run -124 "$CTXRUN" timeout 0.3 sh -c "setsid sleep $U >/dev/null 2>&1 & (setsid sleep $U >/dev/null 2>&1 &); sleep $U"
	assert_no_leftovers
}

@test "leftovers are left alone when COMMAND exits on its own, as GNU does" {
	run -3 "$CTXRUN" timeout 10 sh -c "sleep $U >/dev/null 2>&1 & exit 3"
	[ "$(count_leftovers)" -eq 1 ] || fail "the leftover was touched"
}

@test "-k after a timeout: KILL reaches stragglers of the tree too" {
	run -124 "$CTXRUN" timeout -k 0.3 0.2 sh -c "setsid sh -c \"trap '' TERM; sleep $U\" >/dev/null 2>&1 & exec sleep $U"
	assert_no_leftovers
}

@test "a signal received is passed to the tree, and is not a timeout" {
	run exit_of --ready "$T/ready" --send TERM "$CTXRUN" timeout 10 sh -c "touch '$T/ready'; exec sleep $U"
	assert_output "signal SIGTERM"
	rm -f "$T/ready"
	# The job exists before the signal: one forked after it would not get
	# it (nor would it with GNU timeout's kill(0)).
	run exit_of --ready "$T/ready" --send USR1 "$CTXRUN" timeout 10 sh -c "trap 'exit 7' USR1; sleep $U >/dev/null 2>&1 & touch '$T/ready'; wait"
	assert_output "exit 7"
	rm -f "$T/ready"
	# An external ALRM is a timeout.
	run exit_of --ready "$T/ready" --send ALRM "$CTXRUN" timeout 10 sh -c "touch '$T/ready'; exec sleep $U"
	assert_output "exit 124"
	assert_no_leftovers
}

@test "a caller that blocked ALRM or ignores CHLD, or ignores the -s signal" {
	run exit_of --block ALRM "$CTXRUN" timeout 0.2 sleep $U
	assert_output "exit 124"
	run exit_of --ignore CHLD "$CTXRUN" timeout 0.2 sleep $U
	assert_output "exit 124"
	run exit_of --ignore USR1 "$CTXRUN" timeout -s USR1 0.2 sleep $U
	assert_output "exit 124"
	assert_no_leftovers
}

@test "TTIN and TTOU: ignored by timeout, at their default for COMMAND" {
	run "$CTXRUN" timeout 5 grep ^SigIgn /proc/self/status
	ign=$(awk '{print $2}' <<<"$output")
	(( (0x$ign & ((1 << 20) | (1 << 21))) == 0 )) || fail "COMMAND ignores TTIN/TTOU: $output"
}

@test "timeout killed with KILL: COMMAND still gets the -s signal" {
	assert_told_when_killed timeout -s USR2 60
}

@test "as PID 1 of a new PID namespace, without its own /proc" {
	run -124 unshare --pid --fork "$CTXRUN" timeout 0.3 sh -c "setsid sleep $U >/dev/null 2>&1 & sleep $U"
	assert_no_leftovers
	run -124 unshare --pid --fork "$CTXRUN" -q -t 0.3 -- sh -c "setsid sleep $U >/dev/null 2>&1 & sleep $U"
	assert_no_leftovers
}
