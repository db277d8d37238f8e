#!/usr/bin/env bats
# coreutils' own tests of timeout (tests/timeout/*.sh and timeout-blocked.pl,
# as of coreutils 9.11), ported to run against "$CTXRUN timeout": the same
# checks, with "sleep $U" for the processes that must not outlive a test,
# and conditions polled instead of coreutils' retry_delay_.
load helper

# A "timeout" on PATH that is ctxrun, for the scripts that call timeout by
# name (and for nested timeouts).
setup_file() {
	mkdir -p "$BATS_FILE_TMPDIR/bin"
	ln -sf "$CTXRUN" "$BATS_FILE_TMPDIR/bin/timeout"
}

# returns_ N CMD...: CMD exits with status N (coreutils' helper).
returns_() {
	local want=$1 got
	shift
	"$@" && got=0 || got=$?
	[ "$got" -eq "$want" ] || {
		echo "$*: status $got, expected $want" >&2
		return 1
	}
}

timeout() {
	"$CTXRUN" timeout "$@"
}

# ---- timeout.sh: basic operation ----------------------------------------

@test "timeout.sh: no timeout, suffix, disabled, status propagated" {
	timeout 10 true
	timeout 1d true
	timeout 0 true
	returns_ 2 timeout 10 sh -c 'exit 2'
}

@test "timeout.sh: timeout, --preserve-status, -s0 -k with and without --foreground" {
	returns_ 124 timeout .1 sleep $U
	# 128+TERM, not 124
	! returns_ 124 timeout --preserve-status .1 sleep $U 2>/dev/null
	returns_ 143 timeout --preserve-status .1 sleep $U
	# Once the limit is reached it is 124 even if the command then exits
	# by itself; here KILL ends it: 128+KILL, not 124.
	! returns_ 124 timeout -s0 -k1 .1 sleep $U 2>/dev/null
	! returns_ 124 timeout --foreground -s0 -k1 .1 sleep $U 2>/dev/null
	assert_no_leftovers
}

@test "timeout.sh: immune to the parent's ignored SIGCHLD" {
	( trap '' CHLD; exec "$CTXRUN" timeout 10 true )
}

@test "timeout.sh: not confused when starting off with a child (Bug#9098)" {
	out=$(sleep .1 & exec "$CTXRUN" timeout .5 sh -c "sleep $U; echo foo") &&
		status=0 || status=$?
	[ "$out" = "" ] && [ $status = 124 ]
	assert_no_leftovers
}

@test "timeout.sh: --verbose output" {
	# needs supervisor change: GNU names signal 0 EXIT (sig2str); the
	# supervisor prints "0" (report_signal uses signal_name, not
	# gnu_signal_name).
	local opt
	for opt in -v --verbose; do
		run "$CTXRUN" timeout $opt -s0 -k .1 .1 sleep $U
		assert_output "timeout: sending signal EXIT to command 'sleep'
timeout: sending signal KILL to command 'sleep'"
	done
	assert_no_leftovers
}

@test "timeout.sh: --verbose to a closed pipe still gives 124" {
	# needs supervisor change: ctxrun spins on SIGPIPE raised by its own
	# -v message to a pipe with no reader (the contract: "Nothing that
	# happens to ctxrun's own output changes what it does").  Bounded
	# here to 10 s, so that a spin fails the test instead of hanging it.
	bash -c "{ \"\$CTXRUN\" timeout -v .1 sleep $U 2>&1; echo \$? >'$T/status'; } | :" &
	local i
	for ((i = 0; i < 500; i++)); do
		[ -s "$T/status" ] && break
		sleep 0.02
	done
	[ -s "$T/status" ] || fail "timeout -v did not finish within 10 s"
	[ "$(cat "$T/status")" = 124 ] || fail "status $(cat "$T/status")"
	assert_no_leftovers
}

# ---- timeout-parameters.sh: parameter combinations ---------------------

@test "timeout-parameters.sh: internal errors are 125" {
	returns_ 125 timeout invalid sleep 0
	returns_ 125 timeout ' -0.1' sleep 0
	returns_ 125 timeout ' -1e-10000' sleep 0
	returns_ 125 timeout --kill-after=invalid 1 sleep 0
	returns_ 125 timeout 42D sleep 0
	returns_ 125 timeout --signal=invalid 1 sleep 0
}

@test "timeout-parameters.sh: floats, nanoseconds, underflow rounded up" {
	timeout 10.34 sleep 0
	timeout 9.999999999 sleep 0
	returns_ 124 timeout 1e-10000 sleep $U
	assert_no_leftovers
}

@test "timeout-parameters.sh: cannot run 126, not found 127" {
	if returns_ 126 env . 2>/dev/null; then
		returns_ 126 timeout 10 .
	fi
	returns_ 127 timeout 10 no_such
}

# ---- timeout-large-parameters.sh ---------------------------------------

@test "timeout-large-parameters.sh: huge durations are clamped, not refused" {
	local TIME_T_OFLOW=9223372036854775808 UINT_OFLOW=4294967296
	local LDBL_MAX=1.18973149535723176502e+4932
	# A kernel time_t overflow would fire at once: not here.
	run timeout $TIME_T_OFLOW sleep 3
	[ "$status" -ne 124 ] || fail "timed out immediately"
	timeout $UINT_OFLOW sleep 0
	timeout ${TIME_T_OFLOW}d sleep 0
	timeout 2.34e+5d sleep 0
	timeout $LDBL_MAX sleep 0
	returns_ 125 timeout -- -$LDBL_MAX sleep 0
}

# ---- timeout-blocked.pl ------------------------------------------------

@test "timeout-blocked.pl: SIGALRM blocked by the parent" {
	run exit_of --block ALRM "$CTXRUN" timeout .1 sleep $U
	assert_output "exit 124"
	assert_no_leftovers
}

# ---- init-parent.sh (9.11) ---------------------------------------------

@test "init-parent.sh: with init (PID 1 of a new namespace) as parent" {
	unshare --pid --fork --map-root-user true 2>/dev/null ||
		skip "unshare --pid --fork --map-root-user is unavailable"
	run unshare --pid --fork --map-root-user "$CTXRUN" timeout .1 sleep $U
	[ "$status" = 124 ] || fail "status $status"
	assert_no_leftovers
}

# ---- timeout-group.sh: process group handling --------------------------

# timeout.cmd COUNT: notes that it runs, then waits up to COUNT seconds for
# INT, which it notes.  A "sleep $U" stands for coreutils' "sleep 1" steps.
make_timeout_cmd() {
	cat >"$T/timeout.cmd" <<EOS
#!/bin/sh
trap 'touch "$T/int.received"; exit' INT
touch "$T/timeout.running"
count=\$1
until test -e "$T/int.received" || test \$count = 0; do
  sleep 1
  count=\$(expr \$count - 1)
done
EOS
	chmod a+x "$T/timeout.cmd"
}

@test "timeout-group.sh: Ctrl-C to a separate group reaches a --foreground command" {
	# Adapted: the stored group.sh (2023) starts timeout as a background
	# job with INT ignored.  Since GNU 9.10 ("timeout now honors ignored
	# signals"), as by ctxrun's contract, an ignored INT stays ignored for
	# COMMAND, whose shell then cannot trap it: that case is checked below.
	# Here group.sh runs timeout in its foreground, as a terminal's job.
	command -v setsid >/dev/null || skip "setsid required to control groups"
	make_timeout_cmd
	cat >"$T/group.sh" <<EOS
#!/bin/sh
"$CTXRUN" timeout --foreground 25 "$T/timeout.cmd" 20
EOS
	chmod a+x "$T/group.sh"
	# bats' background jobs start with INT ignored: not this one.
	setsid env --default-signal=INT "$T/group.sh" & pid=$!
	wait_for '[ -e "$T/timeout.running" ]'
	# As a Ctrl-C to that group.  group.sh itself dies of it at once:
	# timeout.cmd's trap may come after that, on a loaded machine.
	kill -INT -- -$pid
	wait $pid || true
	wait_for '[ -e "$T/int.received" ]'
	assert_no_leftovers
}

@test "timeout-group.sh, with INT ignored as in the stored group.sh: it stays ignored for COMMAND" {
	make_timeout_cmd
	cat >"$T/group.sh" <<EOS
#!/bin/sh
trap '' INT
"$CTXRUN" timeout --foreground 25 "$T/timeout.cmd" 2 &
wait
EOS
	chmod a+x "$T/group.sh"
	setsid "$T/group.sh" & pid=$!
	wait_for '[ -e "$T/timeout.running" ]'
	kill -INT -- -$pid
	wait $pid
	[ ! -e "$T/int.received" ] || fail "an INT ignored by the caller reached COMMAND"
}

@test "timeout-group.sh: cascaded timeouts; a command in its own group is timed out" {
	make_timeout_cmd
	PATH=$BATS_FILE_TMPDIR/bin:$PATH
	start=$(date +%s)
	# The outer timeout's signal must be one the inner one handles.
	"$CTXRUN" timeout -sALRM 30 timeout -sINT 25 "$T/timeout.cmd" 20 & pid=$!
	wait_for '[ -e "$T/timeout.running" ]'
	kill -ALRM $pid
	wait $pid && ret=0 || ret=$?
	[ $ret -eq 124 ] || fail "timeout returned $ret: SIGALRM not handled?"
	[ -e "$T/int.received" ] || fail "timeout.cmd did not get INT"
	end=$(date +%s)
	[ $((end - start)) -lt 20 ] || fail "timeout.cmd was signalled only after its sleep"
}
