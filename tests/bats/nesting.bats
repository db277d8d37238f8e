#!/usr/bin/env bats
# ctxrun inside ctxrun: deadlines, values and grace are inherited.
load helper

@test "an inner ctxrun cannot extend the outer deadline" {
	run -124 "$CTXRUN" -n outer -t 0.5 -- "$CTXRUN" -n inner -t 1h -- sleep $U
	# The inner budget is what was left when it started: at most 0.5 s, to
	# the millisecond (a fast start rounds to 500ms; a loaded machine can
	# start it a quarter of a second late).
	assert_line --regexp "^ctxrun: inner: deadline exceeded after ([1-9][0-9]?|[1-4][0-9][0-9]|500)ms \\(inherited from 'outer'\\)$"
	assert_line "ctxrun: outer: deadline exceeded after 500ms"
	assert_no_leftovers
}

@test "an inner ctxrun can shorten its budget" {
	run "$CTXRUN" -n outer -t 1h -- sh -c "\"\$CTXRUN\" -n inner -t 0.3 -- sleep $U; echo inner=\$?"
	assert_success
	assert_output "ctxrun: inner: deadline exceeded after 300ms
inner=124"
	assert_no_leftovers
}

@test "the inherited deadline is the same instant, not a new budget" {
	run "$CTXRUN" -t 100 -- sh -c '"$CTXRUN" -- "$CTXRUN" deadline --epoch; "$CTXRUN" deadline --epoch'
	assert_success
	[ "${lines[0]}" = "${lines[1]}" ] || fail "inner ${lines[0]} vs outer ${lines[1]}"
}

@test "inner values shadow outer ones" {
	run "$CTXRUN" --value A=outer --value B=outer-b -- "$CTXRUN" --value A=inner -- sh -c '"$CTXRUN" value A; "$CTXRUN" value B'
	assert_success
	assert_output "inner
outer-b"
}

@test "a nested ctxrun's grace ends before its parent's" {
	run "$CTXRUN" -k 1 -- "$CTXRUN" -k 100 -- sh -c 'echo "$CTXRUN_2"'
	assert_output --partial "grace=0.800000000"
	run "$CTXRUN" -- "$CTXRUN" -k 2 -- sh -c 'echo "$CTXRUN_2"'
	assert_output --partial "grace=2.000000000"
}

@test "the inner ctxrun reaps its own tree and reports before the outer kills it" {
	# The inner subtree ignores TERM: the inner ctxrun must KILL it itself,
	# 0.2 s before the outer one would.
	run -124 "$CTXRUN" -v -n outer -t 0.3 -k 1 -- "$CTXRUN" -v -n inner -- sh -c "trap '' TERM; setsid sleep $U & sleep $U"
	assert_line --partial "ctxrun: inner: sent KILL to"
	assert_line --regexp "^ctxrun: inner: deadline exceeded after [23][0-9][0-9]ms \\(inherited from 'outer'\\)$"
	refute_line --partial "ctxrun: outer: sent KILL"
	assert_no_leftovers
}

@test "the outer ctxrun tells the inner one; the inner subtree gets TERM once" {
	"$CTXRUN" -n outer -- "$CTXRUN" -k 1 -n inner -- sh -c "
		for i in 1 2 3; do
			setsid sh -c 'trap \"echo \$\$ >> $T/log\" TERM; echo r >> $T/ready; while :; do sleep $U & wait; done' &
		done
		wait" 3>&- 2>"$T/err" &
	pid=$!
	wait_for '[ "$(wc -l < "$T/ready" 2>/dev/null)" = 3 ]'
	kill -TERM $pid
	wait $pid || true
	[ "$(wc -l < "$T/log")" -eq 3 ] || fail "TERM count: $(cat "$T/log")"
	[ "$(sort -u "$T/log" | wc -l)" -eq 3 ]
	assert_no_leftovers
}

@test "ctxrun cancel in a nested tree cancels the nearest ctxrun only" {
	run "$CTXRUN" -n outer -- sh -c "\"\$CTXRUN\" -n inner -- sh -c '\"\$CTXRUN\" cancel --cause stop; sleep $U'; echo inner=\$?"
	assert_success
	assert_output "ctxrun: inner: cancelled: stop
inner=124"
	assert_no_leftovers
}

@test "nested eight deep: the innermost sees every value and the outer deadline" {
	cmd=(sh -c '"$CTXRUN" value L1; "$CTXRUN" value L8; echo "$CTXRUN_DEPTH"; exec sleep '$U)
	for i in 8 7 6 5 4 3 2; do
		cmd=("$CTXRUN" --value "L$i=v$i" -- "${cmd[@]}")
	done
	run -124 "$CTXRUN" -q -t 1 --value L1=v1 -- "${cmd[@]}"
	assert_line --index 0 v1
	assert_line --index 1 v8
	assert_line --index 2 8
	assert_no_leftovers
}

# An inherited context, written by hand: wall-clock deadline WALL, the same
# instant as MONO seconds on CLOCK_MONOTONIC of boot BOOT.
context() {
	printf 'name=outer pid=1 token=0123456789abcdef0123456789abcdef grace=10 deadline=%s mono=%s boot=%s' "$1" "$2" "$3"
}

@test "on the same boot the inherited deadline follows the monotonic clock, not the wall clock" {
	mono=$(python3 -c 'import time; print(f"{time.monotonic() + 100:.9f}")')
	boot=$(cat /proc/sys/kernel/random/boot_id)
	# The wall-clock field says 1970: as if the wall clock had jumped ahead.
	CTXRUN_DEPTH=1 CTXRUN_1=$(context 1.0 "$mono" "$boot") run "$CTXRUN" remaining
	assert_success
	assert_output --regexp '^(99|100)\.[0-9]{3}$'
	# On another machine or boot only the wall clock is shared.
	CTXRUN_DEPTH=1 CTXRUN_1=$(context 1.0 "$mono" "not-this-boot") run -124 "$CTXRUN" remaining
	assert_output 0
	# date +%s is up to a second old, and a loaded machine is slow to start.
	CTXRUN_DEPTH=1 CTXRUN_1=$(context "$(($(date +%s) + 50)).0" "$mono" "not-this-boot") run "$CTXRUN" remaining
	assert_output --regexp '^(4[5-9]|50)\.[0-9]{3}$'
}

@test "depth 3: the message names the context whose deadline it was" {
	run -124 "$CTXRUN" -n a -t 1 -- "$CTXRUN" -n b -t 5 -- "$CTXRUN" -n c -t 9 -- sleep $U
	assert_line --regexp "^ctxrun: c: deadline exceeded after [0-9.]+m?s \\(inherited from 'a'\\)$"
	assert_line --regexp "^ctxrun: b: deadline exceeded after [0-9.]+m?s \\(inherited from 'a'\\)$"
	assert_line "ctxrun: a: deadline exceeded after 1s"
	assert_no_leftovers
}

@test "depth 5: the message names the context whose deadline it was" {
	run -124 "$CTXRUN" -n a -t 9 -- "$CTXRUN" -n b -t 1 -- "$CTXRUN" -n c -t 5 -- \
		"$CTXRUN" -n d -- "$CTXRUN" -n e -t 9 -- sleep $U
	for n in c d e; do
		assert_line --regexp "^ctxrun: $n: deadline exceeded after [0-9.]+m?s \\(inherited from 'b'\\)$"
	done
	assert_line "ctxrun: b: deadline exceeded after 1s"
	refute_line --partial "ctxrun: a:"
	assert_no_leftovers
}

@test "equal deadlines at two levels: credited to the outermost" {
	at=@$(python3 -c 'import time; print(f"{time.time() + 1:.3f}")')
	run -124 "$CTXRUN" -n a -d "$at" -- "$CTXRUN" -n b -d "$at" -- "$CTXRUN" -n c -- \
		"$CTXRUN" -n d -d "$at" -- "$CTXRUN" -n e -- sleep $U
	for n in b c d e; do
		assert_line --regexp "^ctxrun: $n: deadline exceeded after [0-9.]+m?s \\(inherited from 'a'\\)$"
	done
	assert_line --regexp "^ctxrun: a: deadline exceeded after [0-9.]+m?s$"
	assert_no_leftovers
}

@test "told by its parent before its own timer: still the right context named" {
	# b's environment claims a's deadline is 100 s away: only a's signal,
	# relayed by b, can tell c, three levels down.
	# The time is read before a starts: python3 can take longer to start
	# than a's whole budget on a loaded machine.
	export mono=$(python3 -c 'import time; print(f"{time.monotonic() + 100:.9f}")')
	run -124 "$CTXRUN" -n a -t 1 -- sh -c '
		export CTXRUN_1="$(printf %s "$CTXRUN_1" | sed "s/ mono=[0-9.]*/ mono=$mono/")"
		exec "$CTXRUN" -n b -t 200 -- "$CTXRUN" -n c -t 300 -- "$CTXRUN" -n d -- sleep '$U
	for n in b c d; do
		assert_line --regexp "^ctxrun: $n: deadline exceeded after [0-9.hms]+ \\(inherited from 'a'\\)$"
	done
	assert_line "ctxrun: a: deadline exceeded after 1s"
	assert_no_leftovers
}

# unshare --time --fork --monotonic OFFSET: same boot id, CLOCK_MONOTONIC
# OFFSET seconds ahead (needs root and a kernel with time namespaces).
in_time_ns() {
	local off=$1
	shift
	unshare --time --fork --monotonic "$off" "$@"
}

@test "in another time namespace the inherited deadline is read on the wall clock" {
	in_time_ns 1 true 2>/dev/null || skip "no time namespaces here (needs root)"
	for off in 100000 -50; do
		run "$CTXRUN" -t 100 -- unshare --time --fork --monotonic "$off" "$CTXRUN" remaining
		assert_success
		assert_output --regexp '^(99|100)\.[0-9]{3}$'
		# A nested ctxrun there runs its command, under the same deadline.
		run "$CTXRUN" -n outer -t 0.5 -- unshare --time --fork --monotonic "$off" \
			"$CTXRUN" -n inner -- sh -c 'echo started; exec sleep '$U
		assert_failure 124
		assert_line started
		assert_line --regexp "^ctxrun: inner: deadline exceeded after [0-9]+ms \\(inherited from 'outer'\\)$"
		assert_no_leftovers
	done
	# Back in the parent's namespace, through the nested one: monotonic again.
	run "$CTXRUN" -t 100 -- unshare --time --fork --monotonic 100000 \
		"$CTXRUN" -- sh -c 'echo "$CTXRUN_1"; echo "$CTXRUN_2"'
	assert_success
	[ "$(sed -n 's/.* boot=\([^ ]*\).*/\1/p' <<<"${lines[0]}")" != \
	  "$(sed -n 's/.* boot=\([^ ]*\).*/\1/p' <<<"${lines[1]}")" ] || fail "same clock id: $output"
}

# nest N CMD...: CMD under N nested ctxruns named L1 (outermost) to LN.
nest() {
	local n=$1 i
	shift
	cmd=("$@")
	for ((i = n; i >= 1; i--)); do
		cmd=("$CTXRUN" -q -n "L$i" -- "${cmd[@]}")
	done
}

@test "the deepest nesting a ctxrun accepts works; one more is refused up front" {
	nest 64 sh -c 'echo "$CTXRUN_DEPTH"; "$CTXRUN" show | tail -1'
	run "${cmd[@]}"
	assert_success
	assert_output "64
64 L64 no-deadline"
	# Level 65 would be refused by any ctxrun below it: the ctxrun that
	# would create it says so, and starts nothing.
	nest 65 touch "$T/started"
	run "${cmd[@]}"
	assert_failure 125
	[ "${#lines[@]}" -eq 1 ] || fail "$output"
	assert_output "ctxrun: nested too deep: this context would be level 65, and a nested ctxrun accepts at most 64"
	[ ! -e "$T/started" ]
}

@test "a value too big for one environment string is refused up front with 125" {
	# Percent-encoded, each byte 0xff takes three: 50000 of them make more
	# than the 128 KiB execve takes in one string.
	big=$(head -c 50000 /dev/zero | tr '\0' '\377')
	run "$CTXRUN" --value "V=$big" -- touch "$T/started"
	assert_failure 125
	[ "${#lines[@]}" -eq 1 ] || fail "$output"
	assert_output --regexp "^ctxrun: the context's name and values take [0-9]+ bytes encoded in CTXRUN_1, more than the 131072 bytes that execve allows one environment string$"
	[ ! -e "$T/started" ]
	# Just under: it works, byte for byte.
	fits=$(head -c 43000 /dev/zero | tr '\0' '\377')
	run "$CTXRUN" --value "V=$fits" -- "$CTXRUN" value V
	assert_success
	[ "$output" = "$fits" ] || fail "value changed"
	# A long name counts too.
	run "$CTXRUN" -n "$big" -- touch "$T/started"
	assert_failure 125
	[ ! -e "$T/started" ]
}

@test "context variables that would make the whole environment too big are refused up front" {
	# With a 640 KiB stack, execve takes 160 KiB of arguments and
	# environment.  Each level's value encodes to 90 KB: the second level's
	# ctxrun starts (30 KB of arguments, 90 KB inherited), but its command
	# would get 180 KB of context.
	v=$(head -c 30000 /dev/zero | tr '\0' '\377')
	run bash -c 'ulimit -s 640; "$CTXRUN" --value "A=$1" -- "$CTXRUN" -n inner --value "B=$1" -- touch "$T/started"' _ "$v"
	assert_failure 125
	assert_output --regexp "^ctxrun: with the context's [0-9]+ bytes, COMMAND's arguments and environment would take [0-9]+ bytes, more than the 163840 that execve allows$"
	[ ! -e "$T/started" ]
}

@test "an inherited context made incomplete is refused, naming the variable; nothing starts" {
	# The enclosing deadline must never be dropped silently: unsetting
	# CTXRUN_DEPTH leaves CTXRUN_1 behind, a level left over.
	run "$CTXRUN" -t 30 -- sh -c 'unset CTXRUN_DEPTH; "$CTXRUN" -- touch "$T/started"'
	assert_equal "$status" 125
	assert_output --partial "CTXRUN_1 is set but CTXRUN_DEPTH is not"
	[ ! -e "$T/started" ]
	run "$CTXRUN" -t 30 -- sh -c 'CTXRUN_2=$CTXRUN_1 "$CTXRUN" -- touch "$T/started"'
	assert_equal "$status" 125
	assert_output --partial "CTXRUN_2 is left over: CTXRUN_DEPTH is 1"
	run "$CTXRUN" -r 1 -- sh -c 'unset CTXRUN_ATTEMPTS; "$CTXRUN" -- touch "$T/started"'
	assert_equal "$status" 125
	assert_output --partial "CTXRUN_ATTEMPTS is missing"
	[ ! -e "$T/started" ]
	run "$CTXRUN" -r 1 -- sh -c 'CTXRUN_ATTEMPT=2 "$CTXRUN" -- touch "$T/started"'
	assert_equal "$status" 125
	assert_output --partial "CTXRUN_ATTEMPT: '2' is not 1"
	run env -i PATH="$PATH" CTXRUN_ATTEMPT=1 CTXRUN_ATTEMPTS=3 "$CTXRUN" -- touch "$T/started"
	assert_equal "$status" 125
	assert_output --partial "CTXRUN_ATTEMPT is left over"
	[ ! -e "$T/started" ]
	# In a retried attempt's hook, the attempt is the hook's: a ctxrun
	# there runs.
	run -124 "$CTXRUN" -r 1 --retry-delay 1ms --attempt-timeout 0.2 \
		--on-timeout '"$CTXRUN" -- sh -c "echo hook \$CTXRUN_ATTEMPT"' -- sleep "$U"
	assert_line "hook 1"
	assert_line "hook 2"
	# Everything of the context removed: a context of its own.
	run "$CTXRUN" -t 30 -- sh -c 'unset CTXRUN_DEPTH CTXRUN_1; "$CTXRUN" show'
	assert_success
	[ "$(printf '%s\n' "$output" | wc -l)" -eq 1 ]
}
