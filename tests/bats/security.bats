#!/usr/bin/env bats
# Trust nothing that can be reused, block on nothing ctxrun does not own
# (ctxrun(1), SECURITY).  A second user is nobody, through setpriv; PIDs are
# reused on purpose in a PID namespace of the test's own.

load helper

# The second user's side: a folder it can write, and Debian's python3 (a
# python3 of root's own may be out of its reach).
setup() {
	common_setup
	W=$(mktemp -d /tmp/ctxrun-security.XXXXXX)
	chmod 777 "$W"
}

teardown() {
	common_teardown
	rm -rf "$W"
}

# The token of the ctxrun whose CTXRUN_1 is in $1.
token_of() {
	sed 's/.*token=\([0-9a-f]*\).*/\1/' "$1"
}

@test "another user's flood of connections is closed at once: the tree's own cancel is still answered" {
	[ "$(id -u)" = 0 ] || skip "needs root to run a second user"
	# The shell notes cancel's status before acting on the TERM that follows.
	"$CTXRUN" -t 60 -k 1 -- sh -c "
		trap : TERM
		echo \"\$CTXRUN_1\" > $T/ctx.tmp; mv $T/ctx.tmp $T/ctx
		while [ ! -e $T/go ]; do sleep 0.02; done
		\"\$CTXRUN\" cancel --status 7 --cause 'from the tree' 2> $T/cancel.err
		echo \$? > $T/cancel.rc
		exec sleep $U" 3>&- 2>"$T/err" &
	local pid=$!
	wait_for '[ -e "$T/ctx" ]'
	# More than the descriptors ctxrun keeps for its peers (a quarter of
	# 4096), held open by a process outside the tree and of another user.
	prlimit --nofile=4096 setpriv --reuid=nobody --regid=nogroup --clear-groups \
		/usr/bin/python3 "$HELPERS/peer.py" flood "$(token_of "$T/ctx")" 1500 "$W/kept" 3>&- &
	local flood=$!
	wait_for '[ -e "$W/kept" ]'
	touch "$T/go"
	local st=0
	wait $pid || st=$?
	kill $flood; wait $flood 2>/dev/null || true
	[ "$(cat "$W/kept")" -eq 0 ] || fail "$(cat "$W/kept") connections of nobody kept open"
	[ "$(cat "$T/cancel.rc")" -eq 0 ] || fail "the tree's cancel: $(cat "$T/cancel.err")"
	[ "$st" -eq 7 ] || fail "status $st, want 7: $(cat "$T/err")"
	grep -q "cancelled: from the tree" "$T/err"
	assert_no_leftovers
}

@test "another user's connections opened and closed as fast as taken: the deadline and the tree's own still come first" {
	[ "$(id -u)" = 0 ] || skip "needs root to run a second user"
	"$CTXRUN" -t 2 -k 1 -- sh -c "
		echo \"\$CTXRUN_1\" > $T/ctx.tmp; mv $T/ctx.tmp $T/ctx
		while [ ! -e $W/churn ]; do sleep 0.02; done
		\"\$CTXRUN\" -- true; echo \$? > $T/nested
		exec sleep $U" 3>&- 2>"$T/err" &
	local pid=$!
	wait_for '[ -e "$T/ctx" ]'
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
		/usr/bin/python3 "$HELPERS/peer.py" churn "$(token_of "$T/ctx")" 4 "$W/churn" 3>&- &
	local churn=$!
	# The last main took connections for as long as they came: the
	# deadline passed, the tree ran on, and ctxrun was still at it hours
	# later.  A watchdog ends the churn if ctxrun never does.
	( sleep 30; kill $churn ) 3>&- &
	local watchdog=$!
	local st=0 began=$SECONDS
	wait $pid || st=$?
	local took=$((SECONDS - began))
	kill $churn $watchdog 2>/dev/null || true
	wait $churn $watchdog 2>/dev/null || true
	[ -e "$W/churn" ] || fail "the churn never started"
	[ "$st" -eq 124 ] || fail "status $st after ${took} s, want 124: $(cat "$T/err")"
	[ "$took" -lt 20 ] || fail "a 2 s deadline took ${took} s"
	[ "$(cat "$T/nested" 2>/dev/null)" = 0 ] || fail "the nested ctxrun did not finish: $(cat "$T/err")"
	wait_for '! pgrep -u nobody -f "peer.py churn" >/dev/null'
	assert_no_leftovers
}

@test "a PID reused by the tree does not make another user's connection a member's" {
	[ "$(id -u)" = 0 ] || skip "needs root to set ns_last_pid and to run a second user"
	unshare --pid --fork --mount-proc true 2>/dev/null || skip "unshare --pid is unavailable"
	# nobody, outside the tree, connects while the ctxrun is stopped, and
	# exits leaving the connection to its child; the tree is handed its
	# PID; the ctxrun runs again, and the child asks for a cancel.
	run timeout -s KILL 60 unshare --pid --fork --mount-proc bash -c "
		\"\$CTXRUN\" -t 30 -k 1 -- sh -c '
			echo \"\$CTXRUN_1\" > $T/ctx.tmp; mv $T/ctx.tmp $T/ctx
			while [ ! -e $T/reuse ]; do sleep 0.02; done
			echo \$((\$(cat $W/pid) - 1)) > /proc/sys/kernel/ns_last_pid
			sleep $U & echo \$! > $T/reused.tmp; mv $T/reused.tmp $T/reused
			wait' &
		ctx=\$!
		while [ ! -e $T/ctx ]; do sleep 0.02; done
		kill -STOP \$ctx
		setpriv --reuid=nobody --regid=nogroup --clear-groups \
			/usr/bin/python3 \"$HELPERS/peer.py\" fork-cancel \"\$(sed 's/.*token=\([0-9a-f]*\).*/\1/' $T/ctx)\" $W
		mkfifo $T/nap; exec 9<>$T/nap
		touch $T/reuse
		# Waiting without a fork of its own, which would take the PID.
		while [ ! -e $T/reused ]; do read -t 0.02 -u 9 || true; done
		kill -CONT \$ctx
		touch $W/send
		while [ ! -e $W/answer ]; do sleep 0.02; done
		echo \"reused \$(cat $T/reused) for \$(cat $W/pid)\"
		echo \"answer: \$(cat $W/answer)\"
		kill -TERM \$ctx; wait \$ctx; echo \"ctxrun: \$?\""
	assert_success
	# The PID was handed on, or the test shows nothing.
	[ "$(cat "$T/reused")" = "$(cat "$W/pid")" ] || fail "PID not reused: $output"
	refute_line "answer: ack"
	assert_line --partial "answer: "
	refute_output --partial "from a reused PID"
	assert_line "ctxrun: 143"
	assert_no_leftovers
}

# --- blocking on what ctxrun does not own ----------------------------------

@test "a terminal of another user, stopped with Ctrl-S: messages and the relay wait, the deadline does not" {
	[ "$(id -u)" = 0 ] || skip "needs root to run a second user"
	# The terminal is root's: nobody cannot open a description of its own
	# (through /proc/self/fd) to make non-blocking.
	run timeout -s KILL 60 python3 "$HELPERS/pty_run.py" expect:started 'send:\x13' limit:20 -- \
		setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$CTXRUN" -v -t 1 -k 1 -- sh -c "echo started; exec sleep $U"
	refute_output --partial "still running"
	assert_line --partial "exit 124"
	run timeout -s KILL 60 python3 "$HELPERS/pty_run.py" expect:started 'send:\x13' limit:20 -- \
		setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$CTXRUN" -t 1 -k 1 --idle-timeout 5m -- sh -c "echo started; while :; do echo 0123456789abcdef; done"
	refute_output --partial "still running"
	assert_line --partial "exit 124"
	assert_no_leftovers
}

@test "the report's lock held forever by a process deaf to TERM: the line goes out without it, said so, on time" {
	flock "$T/r.jsonl" sh -c "trap '' TERM; touch $T/locked; exec sleep $U" 3>&- &
	wait_for '[ -e "$T/locked" ]'
	local t0=$SECONDS
	run -124 timeout -s KILL 30 "$CTXRUN" -n job -t 0.2 --report "$T/r.jsonl" -- sleep 5
	[ $((SECONDS - t0)) -lt 10 ] || fail "took $((SECONDS - t0)) s"
	assert_line "ctxrun: job: the report's lock on '$T/r.jsonl' was held elsewhere for 1s: appended without it"
	run python3 -c 'import json, sys; r = json.loads(open(sys.argv[1]).read()); print(r["outcome"], r["unlocked"])' "$T/r.jsonl"
	assert_output "deadline_exceeded True"
}

@test "a report to a FIFO that is full and never read: one line, on time" {
	mkfifo "$T/fifo"
	# A reader that holds the FIFO open and never reads, and a full pipe.
	sh -c "exec sleep $U" 7<>"$T/fifo" 3>&- &
	timeout 10 dd if=/dev/zero of="$T/fifo" bs=1k count=64 oflag=nonblock 2>/dev/null || true
	run -124 timeout -s KILL 30 "$CTXRUN" -n job -t 0.2 --report "$T/fifo" -- sleep 5
	assert_line "ctxrun: job: cannot write the report to '$T/fifo': not read within 1s"
}

# --- time, read once ---------------------------------------------------------

@test "a deadline is printed as enforced, rounded down: deadline, show, the report and the message agree" {
	# Past the millisecond: rounded to the nearest, the report said .001
	# while ctxrun deadline said .000.
	run -0 "$CTXRUN" -d 2031-01-01T08:00:00.0006Z --report "$T/r.jsonl" -- sh -c '
		"$CTXRUN" deadline
		"$CTXRUN" show --json'
	assert_line --index 0 "2031-01-01T08:00:00.000Z"
	assert_line --index 1 --partial '"deadline":"2031-01-01T08:00:00.000Z"'
	grep -q '"deadline":"2031-01-01T08:00:00.000Z"' "$T/r.jsonl" || fail "report: $(cat "$T/r.jsonl")"
	# A budget of 299.6 ms is said as the 299 ms it holds, never 300.
	run -124 "$CTXRUN" -n job -t 0.2996 -- sleep $U
	assert_output "ctxrun: job: deadline exceeded after 299ms"
	# Passed down, a nested ctxrun's budget is rounded down too.
	run -0 "$CTXRUN" -t 0.5 -- "$CTXRUN" remaining --ms
	[ "$output" -lt 500 ] || fail "remaining: $output ms of 500"
	assert_no_leftovers
}
