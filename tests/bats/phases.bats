#!/usr/bin/env bats
# A final signal or cancel is final in every phase of an attempt: running,
# its hook, its grace (after its deadline, or after COMMAND exited with
# leftovers), its KILL, and the wait between attempts.  Each test reaches
# the phase first (a line of -v, a marker file), then sends.
load helper

# exit_of, sending TERM to ctxrun once its stderr (in $T/err) holds $1.
term_when() {
	local text=$1
	shift
	run exit_of --ready "$T/err" --ready-text "$text" --send TERM \
		sh -c 'exec "$@" 2>"$T/err"' sh "$@"
}

@test "TERM in the grace after an attempt timed out: no further attempt" {
	term_when "sent TERM" "$CTXRUN" -v -r 3 --attempt-timeout 0.3 --retry-delay 1ms -k 2 \
		-- sh -c "echo x >> $T/n; trap '' TERM; exec sleep $U"
	assert_output "exit 124"
	[ "$(wc -l < "$T/n")" -eq 1 ] || fail "$(wc -l < "$T/n") attempts: $(cat "$T/err")"
	run cat "$T/err"
	assert_line "ctxrun: sh: attempt 1/4 failed (timed out after 300ms); not retried: ctxrun received TERM"
	assert_no_leftovers
}

@test "TERM in the grace of COMMAND's leftovers: no further attempt, COMMAND's status" {
	term_when "sent TERM" "$CTXRUN" -v -r 3 --retry-delay 1ms -k 2 -- sh -c "
		echo x >> $T/n
		(trap '' TERM; touch $T/left; exec sleep $U) &
		while [ ! -e $T/left ]; do sleep 0.01; done
		exit 3"
	assert_output "exit 3"
	[ "$(wc -l < "$T/n")" -eq 1 ] || fail "$(wc -l < "$T/n") attempts: $(cat "$T/err")"
	run cat "$T/err"
	assert_line --partial "not retried: ctxrun received TERM"
	assert_no_leftovers
}

@test "TERM while the --on-timeout hook runs: the hook is cut short, no further attempt" {
	run exit_of --ready "$T/hook" --send TERM sh -c '
		exec "$CTXRUN" -r 3 --attempt-timeout 0.3 --retry-delay 1ms \
			--on-timeout "touch $T/hook; exec sleep $U" \
			-- sh -c "echo x >> $T/n; exec sleep $U" 2>"$T/err"'
	assert_output "exit 124"
	[ "$(wc -l < "$T/n")" -eq 1 ] || fail "$(wc -l < "$T/n") attempts: $(cat "$T/err")"
	run cat "$T/err"
	assert_line --partial "not retried: ctxrun received TERM"
	assert_no_leftovers
}

@test "ctxrun cancel in the grace after an attempt timed out: no further attempt" {
	run sh -c '"$CTXRUN" -v -r 3 --attempt-timeout 0.3 --retry-delay 1ms -k 2 -- sh -c "
		echo x >> $T/n
		trap \"\" TERM
		until grep -q \"sent TERM\" $T/err; do sleep 0.01; done
		\"\$CTXRUN\" cancel --cause enough
		exec sleep $U" 2>"$T/err"'
	assert_equal "$status" 124
	[ "$(wc -l < "$T/n")" -eq 1 ] || fail "$(wc -l < "$T/n") attempts: $(cat "$T/err")"
	run cat "$T/err"
	assert_line --partial "not retried: ctxrun cancel"
	assert_no_leftovers
}

@test "TERM in the wait between attempts: ctxrun dies of it, and its last line and the report say why" {
	term_when "retrying in" "$CTXRUN" --report "$T/r.jsonl" -r 3 --retry-delay 20s -- sh -c "echo x >> $T/n; exit 1"
	assert_output "signal SIGTERM"
	[ "$(wc -l < "$T/n")" -eq 1 ]
	run tail -1 "$T/err"
	assert_output "ctxrun: sh: attempt 1/4 failed (exit 1); not retried: ctxrun received TERM"
	run python3 -c 'import json, sys; print(json.loads(open(sys.argv[1]).read())["cause"])' "$T/r.jsonl"
	assert_output "attempt 1/4 failed (exit 1); not retried: ctxrun received TERM"
}

@test "stopped past its deadline while COMMAND exited: the deadline came first, 124 (as GNU says)" {
	"$CTXRUN" -t 1 -- sh -c "touch $T/started
		until [ -e $T/stopped ]; do sleep 0.01; done
		echo \$\$ > $T/cmd" 2>"$T/err" &
	pid=$!
	start=$EPOCHREALTIME
	until [ -e "$T/started" ]; do sleep 0.01; done
	kill -STOP "$pid"
	touch "$T/stopped"
	# COMMAND has exited (a zombie: ctxrun, stopped, cannot reap it), and
	# the deadline has passed.
	until [ -s "$T/cmd" ] && [ "$(cut -d' ' -f3 "/proc/$(cat "$T/cmd")/stat" 2>/dev/null)" = Z ]; do
		sleep 0.01
	done
	until awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { exit !(b - a > 1.5) }'; do
		sleep 0.05
	done
	kill -CONT "$pid"
	status=0
	wait "$pid" || status=$?
	assert_equal "$status" 124
	run cat "$T/err"
	assert_output "ctxrun: sh: deadline exceeded after 1s"
}
