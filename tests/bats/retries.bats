#!/usr/bin/env bats
# Retries: each attempt a child context of the run, under the run's deadline.
load helper

@test "a failing command is tried again, up to --retries more times; the last status is ctxrun's" {
	run -3 "$CTXRUN" -r 3 --retry-delay 1ms --retry-max-delay 1ms -- sh -c 'echo "$CTXRUN_ATTEMPT/$CTXRUN_ATTEMPTS"; exit 3'
	assert_output "1/4
ctxrun: sh: attempt 1/4 failed (exit 3); retrying in 1ms
2/4
ctxrun: sh: attempt 2/4 failed (exit 3); retrying in 1ms
3/4
ctxrun: sh: attempt 3/4 failed (exit 3); retrying in 1ms
4/4
ctxrun: sh: attempt 4/4 failed (exit 3); no attempts left"
}

@test "an attempt that succeeds ends the run with 0; -q says nothing of the failures" {
	run -0 "$CTXRUN" -q -r 5 --retry-delay 1ms -- sh -c '[ "$CTXRUN_ATTEMPT" = 3 ] || exit 1; echo done'
	assert_output "done"
}

@test "the wait doubles from --retry-delay up to --retry-max-delay, without jitter when asked" {
	run -1 "$CTXRUN" -r 4 --retry-delay 10ms --retry-max-delay 30ms --no-retry-jitter -- false
	assert_line --index 0 "ctxrun: false: attempt 1/5 failed (exit 1); retrying in 10ms"
	assert_line --index 1 "ctxrun: false: attempt 2/5 failed (exit 1); retrying in 20ms"
	assert_line --index 2 "ctxrun: false: attempt 3/5 failed (exit 1); retrying in 30ms"
	assert_line --index 3 "ctxrun: false: attempt 4/5 failed (exit 1); retrying in 30ms"
}

@test "with jitter the wait stays between half the delay and the delay" {
	run -1 "$CTXRUN" -r 6 --retry-delay 40ms --retry-max-delay 40ms -- false
	for i in 0 1 2 3 4 5; do
		ms=$(printf '%s\n' "${lines[$i]}" | sed -n 's/.*retrying in \([0-9]*\)ms$/\1/p')
		[ -n "$ms" ] && [ "$ms" -ge 20 ] && [ "$ms" -le 40 ] || fail "line: ${lines[$i]}"
	done
}

@test "--retry-on: only the statuses, ranges and causes listed; 125-127 not by default" {
	run -4 "$CTXRUN" -q -r 3 --retry-on 2,5-7 --retry-delay 1ms -- sh -c 'echo $CTXRUN_ATTEMPT >> "$T/n"; [ $CTXRUN_ATTEMPT = 1 ] && exit 6; exit 4'
	[ "$(wc -l < "$T/n")" -eq 2 ] || fail "attempts: $(cat "$T/n")"
	rm -f "$T/n"
	run -126 "$CTXRUN" -q -r 3 --retry-delay 1ms -- sh -c 'echo x >> "$T/n"; exit 126'
	[ "$(wc -l < "$T/n")" -eq 1 ]
	rm -f "$T/n"
	run -126 "$CTXRUN" -q -r 2 --retry-on any --retry-delay 1ms -- sh -c 'echo x >> "$T/n"; exit 126'
	[ "$(wc -l < "$T/n")" -eq 3 ]
}

@test "a command that cannot run is not tried again" {
	run -127 "$CTXRUN" -r 3 --retry-delay 1ms -- /nonexistent/cmd
	assert_output "ctxrun: cannot run '/nonexistent/cmd': No such file or directory"
}

@test "COMMAND dying of a signal ctxrun did not send: final, unless --retry-on signal" {
	run exit_of "$CTXRUN" -q -r 2 --retry-delay 1ms -- sh -c 'echo x >> "$T/n"; kill -USR1 $$'
	assert_output "signal SIGUSR1"
	[ "$(wc -l < "$T/n")" -eq 1 ]
	rm -f "$T/n"
	run exit_of "$CTXRUN" -q -r 2 --retry-on signal --retry-delay 1ms -- sh -c 'echo x >> "$T/n"; kill -USR1 $$'
	assert_output "signal SIGUSR1"
	[ "$(wc -l < "$T/n")" -eq 3 ]
}

@test "--attempt-timeout: each attempt its own deadline, ended like a deadline, retried as timeout" {
	run -124 "$CTXRUN" -r 2 --attempt-timeout 300ms --retry-delay 1ms -- sh -c '"$CTXRUN" remaining --ms > "$T/left.$CTXRUN_ATTEMPT"; exec sleep '$U
	assert_line --index 0 "ctxrun: sh: attempt 1/3 failed (timed out after 300ms); retrying in 1ms"
	assert_line --index 2 "ctxrun: sh: attempt 3/3 failed (timed out after 300ms); no attempts left"
	for i in 1 2 3; do
		[ "$(cat "$T/left.$i")" -le 300 ] || fail "attempt $i saw $(cat "$T/left.$i") ms left"
	done
	assert_no_leftovers
}

@test "an attempt's deadline is never later than the run's" {
	run -124 "$CTXRUN" -t 400ms -r 5 --attempt-timeout 1h --retry-delay 1ms -- sh -c '"$CTXRUN" remaining --ms > "$T/left"; exec sleep '$U
	[ "$(cat "$T/left")" -le 400 ]
	assert_output "ctxrun: sh: deadline exceeded after 400ms (attempt 1/6)"
	assert_no_leftovers
}

@test "never sleeps past the deadline: when the next wait would end after it, stop with the last status" {
	start=$EPOCHREALTIME
	run -1 "$CTXRUN" -t 2 -r 9 --retry-delay 700ms --no-retry-jitter -- false
	assert_line --index 0 "ctxrun: false: attempt 1/10 failed (exit 1); retrying in 700ms"
	assert_line --index 1 "ctxrun: false: attempt 2/10 failed (exit 1); no time left for attempt 3"
	awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { exit !(b - a < 1.9) }' || fail "slept too long"
}

@test "the leftovers of an attempt are gone before the next one starts" {
	# Attempt 1 leaves a setsid daemon; attempt 2 checks for itself.
	run -0 "$CTXRUN" -q -r 1 --retry-delay 1ms -- sh -c '
		if [ "$CTXRUN_ATTEMPT" = 1 ]; then
			setsid sh -c "echo \$\$ > $T/daemon; exec sleep '$U'" &
			while [ ! -s "$T/daemon" ]; do sleep 0.01; done
			exit 1
		fi
		kill -0 "$(cat "$T/daemon")" 2>/dev/null && exit 9
		exit 0'
	assert_no_leftovers
}

@test "TERM during an attempt is final: no retry, ctxrun dies of it" {
	run exit_of --ready "$T/ready" --send TERM "$CTXRUN" -r 3 --retry-delay 1ms -- sh -c "echo x >> $T/n; touch $T/ready; exec sleep $U"
	assert_output "signal SIGTERM"
	[ "$(wc -l < "$T/n")" -eq 1 ]
	assert_no_leftovers
}

@test "a signal during the wait between attempts ends the run at once" {
	start=$EPOCHREALTIME
	# Sent once ctxrun says it waits: a signal that beats ctxrun to the
	# attempt's end falls in the attempt, whose own status is then final.
	run exit_of --ready "$T/err" --ready-text "retrying in" --send INT \
		sh -c 'exec "$CTXRUN" -r 3 --retry-delay 20s -- sh -c "echo x >> $T/n; exit 1" 2>"$T/err"'
	assert_output "signal SIGINT"
	[ "$(wc -l < "$T/n")" -eq 1 ]
	awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { exit !(b - a < 10) }' || fail "waited on"
}

@test "ctxrun cancel inside an attempt is final, with its status" {
	run -7 "$CTXRUN" -r 3 --retry-delay 1ms -- sh -c 'echo x >> "$T/n"; "$CTXRUN" cancel --status 7 --cause enough; exit 1'
	assert_output "ctxrun: sh: cancelled: enough"
	[ "$(wc -l < "$T/n")" -eq 1 ]
}

@test "nested retries are bounded by the outer attempt's deadline" {
	start=$EPOCHREALTIME
	run -124 "$CTXRUN" -q -r 1 --attempt-timeout 500ms --retry-delay 1ms -- \
		"$CTXRUN" -q -r 100 --retry-delay 1ms -- sh -c 'echo x >> "$T/n"; sleep 0.2; exit 1'
	awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { exit !(b - a < 3) }' || fail "the inner retries outlived the outer attempts"
	[ "$(wc -l < "$T/n")" -le 8 ] || fail "$(wc -l < "$T/n") inner attempts"
}

@test "bad retry input: one line, 125, nothing started" {
	for args in "--retries=-1" "--retries=x" "--retry-on=3-1" "--retry-on=bogus" "--retry-on=256" \
	    "--retry-on=" "-r 1 --retry-delay=x" "-r 1 --retry-max-delay=-1s" "--retry-delay=1s" \
	    "--retry-on=1" "--no-retry-jitter" "--attempt-timeout=soon"; do
		run -125 "$CTXRUN" $args -- touch "$T/started"
		[ "${#lines[@]}" -eq 1 ] || fail "$args: $output"
		assert_output --regexp "^ctxrun: --"
		[ ! -e "$T/started" ] || fail "$args: started"
	done
}

@test "--replay-stdin: every attempt reads the same bytes, binary and big; without it they share stdin" {
	head -c 3000000 /dev/urandom > "$T/in"
	want=$(cksum < "$T/in")
	run -1 "$CTXRUN" -q -r 2 --retry-delay 1ms --replay-stdin -- sh -c "cksum >> $T/sums; exit 1" < "$T/in"
	[ "$(sort -u "$T/sums")" = "$want" ] && [ "$(wc -l < "$T/sums")" -eq 3 ] || fail "sums: $(cat "$T/sums")"
	printf 'a\nb\n' | "$CTXRUN" -q -r 1 --retry-delay 1ms -- sh -c "read x; echo \$x >> $T/shared; exit 1" || true
	[ "$(cat "$T/shared")" = "a
b" ] || fail "shared: $(cat "$T/shared")"
	# A closed stdin reads as empty (it once made ctxrun read its own
	# signalfd, forever).
	run -1 /usr/bin/timeout -s KILL 20 sh -c 'exec "$CTXRUN" -q -r 1 --retry-delay 1ms --replay-stdin -- sh -c "cat; exit 1" <&-'
	assert_output ""
}

@test "--replay-stdin: a TERM while stdin is read ends the run, nothing started" {
	mkfifo "$T/fifo"
	"$CTXRUN" -r 1 --replay-stdin -- touch "$T/started" < "$T/fifo" 3>&- &
	pid=$!
	exec 4>"$T/fifo"
	echo partial >&4
	kill -TERM $pid
	wait $pid && st=0 || st=$?
	exec 4>&-
	[ "$st" -eq 143 ] || fail "status $st"
	[ ! -e "$T/started" ]
}

@test "ctxrun retry --never: this failure is final, with its cause" {
	run -1 "$CTXRUN" -r 5 --retry-delay 1ms -- sh -c '[ "$CTXRUN_ATTEMPT" = 2 ] && "$CTXRUN" retry --never --cause "bad credentials"; exit 1'
	assert_output "ctxrun: sh: attempt 1/6 failed (exit 1); retrying in 1ms
ctxrun: sh: attempt 2/6 failed (exit 1); not retried: bad credentials"
}

@test "ctxrun retry --after: the next wait, still bounded by the deadline and the attempts" {
	run -1 "$CTXRUN" -r 1 --retry-delay 1ms -- sh -c '"$CTXRUN" retry --after 300ms; exit 1'
	assert_line --index 0 "ctxrun: sh: attempt 1/2 failed (exit 1); retrying in 300ms"
	start=$EPOCHREALTIME
	run -1 "$CTXRUN" -t 1 -r 5 --retry-delay 1ms -- sh -c '"$CTXRUN" retry --after 1h; exit 1'
	assert_output "ctxrun: sh: attempt 1/6 failed (exit 1); no time left for attempt 2"
	awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { exit !(b - a < 0.9) }' || fail "waited"
}

@test "ctxrun retry outside a ctxrun with retries: exit 1, one line; bad use: 125" {
	run -1 "$CTXRUN" retry --never
	assert_output "ctxrun: retry: no enclosing ctxrun makes retries"
	run -1 "$CTXRUN" -- "$CTXRUN" retry --after 1s
	assert_output "ctxrun: retry: no enclosing ctxrun makes retries"
	# The nearest ctxrun with retries, through one without.
	run -1 "$CTXRUN" -r 1 --retry-delay 1ms -- "$CTXRUN" -- sh -c '"$CTXRUN" retry --never --cause deep; exit 1'
	assert_output "ctxrun: ctxrun: attempt 1/2 failed (exit 1); not retried: deep"
	for args in "" "--after" "--after x" "--never --after 1s" "--after 1s --cause x" "--bogus"; do
		run -125 "$CTXRUN" retry $args
		[ "${#lines[@]}" -eq 1 ] || fail "$args: $output"
	done
}

pty_run() {
	python3 "$HELPERS/pty_run.py" "$@"
}

@test "Ctrl-C at the terminal: the attempt ends as COMMAND decides, and no other attempt follows" {
	run pty_run limit:15 "lines:$T/ready:1" 'send:\x03' -- "$CTXRUN" -r 3 --retry-delay 1ms -- \
		sh -c "trap 'exit 1' INT; echo \$CTXRUN_ATTEMPT >> $T/ready; while :; do sleep 0.05; done"
	assert_line --partial "attempt 1/4 failed (exit 1); not retried: interrupted at the terminal"
	assert_line "exit 1"
	[ "$(wc -l < "$T/ready")" -eq 1 ]
}

@test "Ctrl-C at the terminal during the wait between attempts ends the run at once" {
	run pty_run limit:15 'expect:retrying in' 'send:\x03' -- "$CTXRUN" -r 3 --retry-delay 20s --no-retry-jitter -- false
	assert_line --partial "attempt 1/4 failed (exit 1); retrying in 20s"
	assert_output --regexp "signal SIGINT$"
	refute_output --partial "gave up"
}

@test "--replay-stdin: an attempt cannot change what the next one reads" {
	run -1 sh -c 'echo hello | "$CTXRUN" -q -r 1 --retry-delay 0 --replay-stdin -- sh -c "[ \$CTXRUN_ATTEMPT = 1 ] && printf JUNK >&0 2>/dev/null; echo a\$CTXRUN_ATTEMPT: \$(cat); exit 1"'
	assert_output "a1: hello
a2: hello"
}

@test "ctxrun retry --after 0: the next attempt at once" {
	run -3 "$CTXRUN" -r 1 --retry-delay 5s --no-retry-jitter -- sh -c '"$CTXRUN" retry --after 0; exit 3'
	assert_line --index 0 "ctxrun: sh: attempt 1/2 failed (exit 3); retrying in 0s"
}

@test "memory stays flat over many attempts" {
	# The release build: under AddressSanitizer the heap grows by design
	# (freed memory is quarantined).
	"$BATS_TEST_DIRNAME/../../build/ctxrun" -q -t 4 -r 999999 --retry-delay 0 -- /bin/false 3>&- &
	pid=$!
	sleep 1
	a=$(awk '/^VmData/ { print $2 }' /proc/$pid/status)
	sleep 2
	b=$(awk '/^VmData/ { print $2 }' /proc/$pid/status)
	wait $pid || true
	[ $((b - a)) -lt 256 ] || fail "VmData grew from $a to $b kB in 2 s of attempts"
}

@test "ctxrun cancel from a leftover while an attempt's tree is cleaned up: final, with its status" {
	cat > "$T/cmd" <<-EOF
		sh -c 'trap "\"\$CTXRUN\" cancel --status 33; exit" TERM; echo > $T/ready; while :; do sleep 0.05; done' &
		while [ ! -e $T/ready ]; do sleep 0.01; done
		exit 3
	EOF
	# The grace is long: the leftover ends it itself once its cancel is
	# answered, and a cancel slow to start (the sanitizer build on a
	# loaded machine) must not find it KILLed.  Its cancel, born after the
	# first signal went out, does not get it (it did, when the sweep
	# walked again for forks while it started).
	run -33 "$CTXRUN" -k 20 -r 1 --retry-delay 10ms -- sh "$T/cmd"
	refute_output --partial "retrying"
	assert_no_leftovers
}

@test "--retry-on never takes 0: success is not retried" {
	for list in 0 0-255 1,0; do
		run -125 "$CTXRUN" -r 1 --retry-on "$list" -- touch "$T/started"
		assert_output --partial "0 is success, never retried"
	done
	[ ! -e "$T/started" ]
}

@test "-r 0 is one attempt: no attempt variables, ctxrun retry says there are no retries" {
	run -1 "$CTXRUN" -r 0 -- sh -c 'echo "[$CTXRUN_ATTEMPTS]"; "$CTXRUN" retry --never'
	assert_output "[]
ctxrun: retry: no enclosing ctxrun makes retries"
}

@test "an attempt that times out as the run's time runs out: one line, not two" {
	run -124 "$CTXRUN" -t 1.5 -k 0.2 -r 3 --attempt-timeout 1 --retry-delay 1s --no-retry-jitter -- sleep $U
	assert_output "ctxrun: sleep: attempt 1/4 failed (timed out after 1s); no time left for attempt 2"
	assert_no_leftovers
}

@test "COMMAND found again through PATH when the file an attempt ran is gone" {
	# Later attempts exec the path that worked before; if it is gone, the
	# search starts over.
	mkdir "$T/a" "$T/b"
	printf '#!/bin/sh\nrm -f "$0"; echo one; exit 1\n' > "$T/a/tool"
	printf '#!/bin/sh\necho two\n' > "$T/b/tool"
	chmod +x "$T/a/tool" "$T/b/tool"
	run -0 env PATH="$T/a:$T/b:$PATH" "$CTXRUN" -q -r 1 --retry-delay 0 -- tool
	assert_output "one
two"
	# A script without #! runs through /bin/sh, as execvp does.
	printf 'echo plain script\n' > "$T/a/plain"
	chmod +x "$T/a/plain"
	run -0 env PATH="$T/a:$PATH" "$CTXRUN" -- plain
	assert_output "plain script"
}

@test "-q with --report loses nothing: the report's cause says why the retries stopped" {
	cause() {
		python3 -c 'import json, sys; print(json.loads(open(sys.argv[1]).readlines()[-1])["cause"])' "$T/r.jsonl"
	}
	run -1 "$CTXRUN" -q --report "$T/r.jsonl" -r 2 --retry-delay 1ms -- false
	assert_output ""
	assert_equal "$(cause)" "attempt 3/3 failed (exit 1); no attempts left"
	run -1 "$CTXRUN" -q --report "$T/r.jsonl" -t 5 -r 2 --retry-delay 20s -- false
	assert_equal "$(cause)" "attempt 1/3 failed (exit 1); no time left for attempt 2"
	run -1 "$CTXRUN" -q --report "$T/r.jsonl" -r 2 --retry-delay 1ms -- sh -c '"$CTXRUN" retry --never --cause "bad input"; exit 1'
	assert_equal "$(cause)" "attempt 1/3 failed (exit 1); not retried: bad input"
	# Without -q, the same words are the last line.
	run -1 "$CTXRUN" --report "$T/r.jsonl" -r 1 --retry-delay 1ms -- false
	assert_line --index 1 "ctxrun: false: attempt 2/2 failed (exit 1); no attempts left"
	assert_equal "$(cause)" "attempt 2/2 failed (exit 1); no attempts left"
}

# The longest value a ctxrun with $1 retries accepts, found by bisection
# (131000 bytes is refused: the level takes more than one environment
# string may).
longest_value() {
	local lo=0 hi=131000 mid
	accepted() { "$CTXRUN" -q -r "$1" --value "V=$(a "$2")" -- true 2>/dev/null; [ $? -ne 125 ]; }
	! accepted "$1" "$hi" || fail "$hi bytes accepted"
	while [ $((hi - lo)) -gt 1 ]; do
		mid=$(((lo + hi) / 2))
		if accepted "$1" "$mid"; then lo=$mid; else hi=$mid; fi
	done
	echo "$lo"
}

a() { head -c "$1" /dev/zero | tr '\0' a; }

@test "size limits hold for the widest attempt: what is accepted up front runs every attempt" {
	# Attempt 100's level is the widest.
	len=$(longest_value 99)
	run "$CTXRUN" -r 99 --retry-delay 1ms --retry-max-delay 1ms --value "V=$(a "$len")" -- \
		sh -c "echo x >> $T/n; exit 1"
	assert_equal "$status" 1
	refute_output --partial "Argument list too long"
	[ "$(wc -l < "$T/n")" -eq 100 ]
	# With a million attempts, the first one's level already carries the
	# attempt's number.
	len=$(longest_value 999999)
	run "$CTXRUN" -r 999999 --value "V=$(a "$len")" -- sh -c 'echo "$CTXRUN_ATTEMPTS"'
	assert_success
	assert_output 1000000
}
