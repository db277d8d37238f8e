#!/usr/bin/env bats
# Before the end: --on-timeout looks at the tree before it is signalled,
# --warn tells COMMAND that the deadline is near.
load helper

@test "the hook runs before the first signal and sees the tree alive" {
	run -124 "$CTXRUN" -n job -t 300ms --on-timeout "
		echo \"hook: \$CTXRUN_NAME, \$CTXRUN_CAUSE\"
		grep -q '^State:' /proc/\$CTXRUN_COMMAND_PID/status && echo command alive
		for p in \$CTXRUN_TREE_PIDS; do cat /proc/\$p/cmdline | tr '\\0' ' '; echo; done | grep -c '^sleep $U'
		touch $T/hook-done" -- sh -c "trap 'if [ -e $T/hook-done ]; then echo TERM after the hook; fi; exit 1' TERM
			setsid sleep $U & sleep $U & wait" </dev/null
	assert_line "hook: job, deadline exceeded"
	assert_line "command alive"
	assert_line 2
	assert_line "TERM after the hook"
	assert_line "ctxrun: job: deadline exceeded after 300ms"
	assert_no_leftovers
}

@test "the hook writes to ctxrun's stderr, and is no nested context of this one" {
	"$CTXRUN" -t 200ms --on-timeout 'echo out of the hook; echo "depth=${CTXRUN_DEPTH:-none}"' -- sleep "$U" >"$T/out" 2>"$T/err" </dev/null || true
	[ ! -s "$T/out" ]
	grep -qx "out of the hook" "$T/err"
	grep -qx "depth=none" "$T/err"
	run -124 "$CTXRUN" -n outer -t 1m -- "$CTXRUN" -n inner -t 200ms --on-timeout "\"$CTXRUN\" show" -- sleep "$U" </dev/null
	assert_line --regexp '^1 outer '
	refute_line --partial "inner deadline"
	assert_no_leftovers
}

@test "the hook is bounded: killed at its limit, with what it started" {
	SECONDS=0
	run -124 "$CTXRUN" -t 200ms --on-timeout "sleep $U & setsid sleep $U & sleep $U" --on-timeout-limit 300ms -- sleep "$U" </dev/null
	assert_line "ctxrun: sleep: the --on-timeout hook was killed at its limit of 300ms"
	assert_line "ctxrun: sleep: deadline exceeded after 200ms"
	[ "$SECONDS" -lt 20 ]
	assert_no_leftovers
}

@test "the hook's limit defaults to half the grace period, and a failing hook is said" {
	run -124 "$CTXRUN" -t 100ms -k 600ms --on-timeout "sleep $U" -- sleep "$U" </dev/null
	assert_line "ctxrun: sleep: the --on-timeout hook was killed at its limit of 300ms"
	run -124 "$CTXRUN" -t 100ms --on-timeout "exit 3" -- sleep "$U" </dev/null
	assert_line "ctxrun: sleep: the --on-timeout hook exited with 3"
	assert_no_leftovers
}

@test "a TERM while the hook runs cuts it short" {
	"$CTXRUN" -t 100ms --on-timeout "touch $T/hook; sleep $U" -- sleep "$U" 3>&- </dev/null &
	local pid=$!
	wait_for '[ -e "$T/hook" ]'
	kill -TERM $pid
	local rc=0
	wait $pid || rc=$?
	[ "$rc" -eq 124 ]
	assert_no_leftovers
}

@test "the hook runs for the idle timeout, and never for a cancel, a signal or an exit" {
	run -124 "$CTXRUN" --idle-timeout 200ms --on-timeout 'echo "cause: $CTXRUN_CAUSE"' -- sleep "$U" </dev/null
	assert_line "cause: idle"
	run -124 "$CTXRUN" -t 1m --on-timeout "touch $T/ran" -- sh -c 'ctxrun_cancel() { "$CTXRUN" cancel; }; ctxrun_cancel; sleep 5' </dev/null
	run -0 "$CTXRUN" -t 1m --on-timeout "touch $T/ran" -- true </dev/null
	"$CTXRUN" -t 1m --on-timeout "touch $T/ran" -- sh -c "touch $T/up; exec sleep $U" 3>&- </dev/null &
	local pid=$!
	wait_for '[ -e "$T/up" ]'
	kill -TERM $pid
	wait $pid || true
	[ ! -e "$T/ran" ]
	assert_no_leftovers
}

@test "with retries the hook runs for each attempt that times out" {
	run -124 "$CTXRUN" -t 1m -r 1 --retry-delay 1ms --attempt-timeout 200ms --on-timeout 'echo "hook for attempt $CTXRUN_ATTEMPT"' -- sleep "$U" </dev/null
	assert_line "hook for attempt 1"
	assert_line "hook for attempt 2"
	assert_no_leftovers
}

@test "--warn reaches COMMAND once, before the deadline, and no other process" {
	run -124 "$CTXRUN" -t 1500ms --warn USR1@1s -- sh -c "
		trap 'echo warned' USR1
		trap 'echo TERM; exit 1' TERM
		sh -c 'trap \"echo child warned\" USR1; while :; do sleep 0.05; done' &
		while :; do sleep 0.05; done" </dev/null
	assert_line --index 0 warned
	assert_line TERM
	refute_line "child warned"
	[ "$(grep -c warned <<<"$output")" -eq 1 ]
}

@test "--warn at the right time, also for an inherited deadline" {
	# Warned 700 ms before the outer deadline: what is left then is at
	# most 700 ms, and (generously) not much less.  python3 gets 2.3 s to
	# start and take USR2 (behind a pyenv shim, loaded, it took 0.8 s).
	# What is left is read at the start, so that the handler itself runs
	# nothing that a loaded machine could keep past the deadline.
	run -124 "$CTXRUN" -t 3s -- "$CTXRUN" --warn USR2@700ms -- python3 -c '
import os, signal, subprocess, time
t0 = time.monotonic()
left0 = int(subprocess.run([os.environ["CTXRUN"], "remaining", "--ms"],
                           capture_output=True, text=True).stdout.strip())
def on(sig, frame):
    left = left0 - (time.monotonic() - t0) * 1000
    print("warned with %d ms left" % max(left, 0), flush=True)
signal.signal(signal.SIGUSR2, on)
while True:
    time.sleep(0.01)
' </dev/null
	assert_line --regexp '^warned with [0-9]+ ms left$'
	local ms
	ms=$(sed -n 's/^warned with \([0-9]*\) ms left$/\1/p' <<<"$output")
	[ "$ms" -le 700 ] || fail "warned with $ms ms left: too early"
	[ "$ms" -ge 100 ] || fail "warned with $ms ms left: too late"
}

@test "a warning already due when COMMAND starts is not sent, and -v says so" {
	run -124 "$CTXRUN" -v -t 300ms --warn USR1@1s -- sleep "$U" </dev/null
	assert_line "ctxrun: sleep: did not send USR1: less than 1s was left when the command started"
	refute_line --partial "sent USR1"
	assert_no_leftovers
}

@test "bad --warn, --on-timeout and --on-timeout-limit are refused and nothing starts" {
	for args in --warn=USR1 --warn=NOPE@1s --warn=USR1@x --warn=@1s --warn=USR1@0 \
		--on-timeout-limit=x "--on-timeout=x --on-timeout-limit=-1s" --on-timeout= \
		--on-timeout-limit=1s; do
		run -125 "$CTXRUN" $args -- touch "$T/ran"
		[ "${#lines[@]}" -eq 1 ] || fail "$args: ${#lines[@]} lines: $output"
		assert_output --regexp "^ctxrun: --(warn|on-timeout|on-timeout-limit): "
	done
	[ ! -e "$T/ran" ]
}

@test "a stderr nobody reads does not hold ctxrun up: the hook floods it, the deadline still works" {
	mkfifo "$T/f"
	sh -c "exec 3<'$T/f'; exec sleep $U" 3>&- &
	local reader=$!
	SECONDS=0
	local rc=0
	"$CTXRUN" -k 1 -t 300ms --on-timeout-limit 500ms --on-timeout 'head -c 200000 /dev/zero' \
		-- sleep "$U" 2>"$T/f" </dev/null || rc=$?
	[ "$rc" -eq 124 ]
	[ "$SECONDS" -lt 15 ] || fail "ctxrun took $SECONDS s"
	rc=0
	"$CTXRUN" -v -k 1 -t 300ms -- sh -c "head -c 200000 /dev/zero >&2; sleep $U" 2>"$T/f" </dev/null || rc=$?
	[ "$rc" -eq 124 ]
	[ "$SECONDS" -lt 25 ] || fail "ctxrun took $SECONDS s"
	kill "$reader"
	wait "$reader" 2>/dev/null || true
	assert_no_leftovers
}

@test "nested, the hook's time comes out of the grace: the inner ctxrun reports before the outer kills" {
	run -124 "$CTXRUN" -n outer -k 2 -t 1 --report "$T/r" -- "$CTXRUN" -n inner --report "$T/r" \
		--on-timeout "sleep $U" -- sh -c "trap '' TERM; exec sleep $U" </dev/null
	assert_line --regexp "^ctxrun: inner: deadline exceeded after .* \(inherited from 'outer'\)$"
	run python3 -c "import json,sys; print(' '.join(json.loads(l)['name'] for l in open(sys.argv[1])))" "$T/r"
	assert_output "inner outer"
	assert_no_leftovers
}

@test "a hook cut short by TERM is said so, not as killed at its limit" {
	"$CTXRUN" -k 4 -t 200ms --on-timeout "touch $T/hook; sleep $U" -- sleep "$U" >"$T/out" 2>&1 3>&- </dev/null &
	local pid=$!
	wait_for '[ -e "$T/hook" ]'
	kill -TERM $pid
	wait $pid || true
	run cat "$T/out"
	assert_line "ctxrun: sleep: the --on-timeout hook was cut short: ctxrun received TERM"
	refute_line --partial "at its limit"
	assert_no_leftovers
}

@test "a --warn signal that ends COMMAND is ctxrun's own: exit 128+N, not retried as a signal; KILL and STOP refused" {
	run -143 "$CTXRUN" -t 1500ms --warn TERM@1s -- sleep "$U" </dev/null
	run -143 "$CTXRUN" -r 1 --retry-delay 1ms --retry-on signal -t 1m --attempt-timeout 1s --warn TERM@500ms -- sleep "$U" </dev/null
	refute_output --partial "retrying"
	run -125 "$CTXRUN" --warn KILL@1s -- true
	assert_output "ctxrun: --warn: 'KILL@1s': KILL cannot be caught, it warns of nothing"
	run -125 "$CTXRUN" --warn STOP@1s -- true
	assert_no_leftovers
}

@test "-v: a warning not sent because COMMAND had exited says so" {
	run -124 "$CTXRUN" -v -w -t 1s --warn USR1@500ms -- sh -c "sleep $U & exit 0" </dev/null
	assert_line "ctxrun: sh: did not send USR1: the command had exited"
	assert_no_leftovers
}

@test "an outer ctxrun's hook sees the subtree of a nested ctxrun alive, under the same deadline" {
	run -124 "$CTXRUN" -q -k 4 -t 500ms --on-timeout "l=\$(cat $T/leaf); [ -d /proc/\$l ] && echo leaf alive || echo leaf gone" \
		-- "$CTXRUN" -q -- sh -c "echo \$\$ >$T/leaf; exec sleep $U" </dev/null
	assert_output "leaf alive"
	# The nested one shows the hook's limit to its own nested ctxruns.
	run -0 "$CTXRUN" -k 4 --on-timeout true -- sh -c 'echo "$CTXRUN_1"'
	assert_output --partial " hook=2.000000000"
	assert_no_leftovers
}

@test "retries, a hook and a deadline together: the context stays whole for nested ctxruns" {
	run -0 "$CTXRUN" -t 1m -r 1 --value A=1 --on-timeout true -- sh -c '"$CTXRUN" value A && "$CTXRUN" remaining >/dev/null && echo fine'
	assert_output "1
fine"
}

@test "a full stderr: ctxrun's lines wait in memory, never hold it up, and come out when the reader reads" {
	mkfifo "$T/f"
	sh -c "exec 3<'$T/f'; exec sleep $U" 3>&- &
	local reader=$! rc=0
	SECONDS=0
	# The FIFO filled, then twenty 'attempt failed' lines into it.
	head -c 65536 /dev/zero >"$T/f"
	"$CTXRUN" -r 20 --retry-delay 1ms --retry-max-delay 1ms -- false 2>"$T/f" </dev/null || rc=$?
	[ "$rc" -eq 1 ]
	[ "$SECONDS" -lt 10 ] || fail "took $SECONDS s"
	kill "$reader"
	wait "$reader" 2>/dev/null || true
	# A slow reader gets the lines late, but gets them.
	run bash -c "'$CTXRUN' -t 300ms -- sh -c 'head -c 70000 /dev/zero >&2; exec sleep $U' 2>&1 </dev/null | { sleep 1; tr -d '\\0'; }"
	assert_output "ctxrun: sh: deadline exceeded after 300ms"
	assert_no_leftovers
}

@test "the hook is run by /bin/sh, not by a sh found on the PATH that COMMAND's environment chose" {
	mkdir "$T/evil"
	printf '#!/bin/sh\ntouch "%s/evil/ran"\nexec /bin/sh "$@"\n' "$T" > "$T/evil/sh"
	chmod +x "$T/evil/sh"
	run -124 "$CTXRUN" -e PATH="$T/evil:$PATH" -t 0.2 --on-timeout 'echo hook ran' -- sleep "$U"
	assert_line "hook ran"
	[ ! -e "$T/evil/ran" ] || fail "the PATH's sh ran the hook"
	assert_no_leftovers
}

@test "a hook that cannot start: one line (even with -q), the report says why, and the kill comes on time" {
	[ "$(id -u)" = 0 ] || skip "needs root to mount over /bin/sh in a mount namespace of its own"
	unshare -m true 2>/dev/null || skip "unshare -m is unavailable"
	start=$EPOCHREALTIME
	run unshare -m /bin/bash -c 'mount --bind /dev/null "$(readlink -f /bin/sh)" &&
		exec "$CTXRUN" -q --report "$T/r.jsonl" -t 0.3 -k 5 --on-timeout "echo hook" -- sleep "$U"'
	assert_equal "$status" 124
	assert_output "ctxrun: sleep: the --on-timeout hook could not start: /bin/sh: Permission denied"
	awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { exit !(b - a < 4) }' || fail "the kill came late"
	run python3 -c 'import json, sys; h = json.loads(open(sys.argv[1]).read())["hook"]; print(h["error"], h["exit_status"], h["signal"])' "$T/r.jsonl"
	assert_output "Permission denied None None"
	assert_no_leftovers
}
