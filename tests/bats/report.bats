#!/usr/bin/env bats
# --report=FILE: one JSON line per run, appended under a lock.
load helper

# report CHECK...: reads $T/r as strict UTF-8, checks that every line is a
# whole JSON object of the schema, then evaluates each CHECK (a Python
# expression) with `lines` (every object) and `r` (the last one).
report() {
	python3 - "$T/r" "$@" <<-'EOF'
	import json, re, sys
	text = open(sys.argv[1], encoding="utf-8").read()
	assert text.endswith("\n"), "the last line is not whole"
	lines = [json.loads(l) for l in text.split("\n")[:-1]]
	when = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
	num = (int, float)
	def instant(v):
	    return isinstance(v, str) and when.match(v)
	def opt(v, t):
	    return v is None or isinstance(v, t)
	for o in lines:
	    for k, t in [("schema", int), ("name", str), ("argv", list), ("values", dict),
	                 ("depth", int), ("duration", num), ("outcome", str),
	                 ("attempts", list), ("signals_sent", list), ("signals_omitted", int),
	                 ("leftovers_cancelled", int), ("cpu", num), ("max_rss_kib", int)]:
	        assert isinstance(o[k], t), (k, o)
	    assert o["schema"] == 1, o
	    h = o["hook"]
	    assert h is None or (instant(h["start"]) and isinstance(h["duration"], num) and
	                         isinstance(h["killed_at_limit"], bool) and
	                         (h["exit_status"] is None and h["signal"] is None
	                          if isinstance(h["error"], str) else
	                          h["error"] is None and
	                          (h["exit_status"] is None) != (h["signal"] is None))), o
	    assert instant(o["start"]) and instant(o["end"]) and o["start"] <= o["end"], o
	    assert o["deadline"] is None or instant(o["deadline"]), o
	    assert (o["deadline"] is None) == (o["deadline_owner"] is None), o
	    assert o["outcome"] in ("exited", "signaled", "deadline_exceeded", "idle",
	                            "cancelled", "signal_received", "failed"), o
	    assert opt(o["cause"], str), o
	    assert (o["exit_status"] is None) != (o["exit_signal"] is None), o
	    assert all(isinstance(a, str) for a in o["argv"]), o
	    for a in o["attempts"]:
	        assert isinstance(a["attempt"], int) and instant(a["start"]), a
	        assert isinstance(a["duration"], num) and a["duration"] <= o["duration"], a
	        assert (a["exit_status"] is None) != (a["signal"] is None), a
	        assert isinstance(a["outcome"], str), a
	    for s in o["signals_sent"]:
	        assert isinstance(s["signal"], str) and instant(s["at"]), s
	        assert isinstance(s["processes"], int) and isinstance(s["nested_ctxruns"], int), s
	        assert isinstance(s["why"], str), s
	r = lines[-1] if lines else None
	for check in sys.argv[2:]:
	    if not eval(check):
	        sys.exit("failed: %s\nreport: %s" % (check, json.dumps(lines)))
	EOF
}

@test "COMMAND exits 0, or non-zero: name, argv, values, times, one attempt, no cause" {
	run -0 "$CTXRUN" --report "$T/r" -t 1h --value A=1 --value B=two -- true
	report 'len(lines) == 1' 'r["name"] == "true" and r["argv"] == ["true"]' \
		'r["values"] == {"A": "1", "B": "two"}' 'r["depth"] == 1' \
		'r["outcome"] == "exited" and r["exit_status"] == 0 and r["cause"] is None' \
		'r["deadline"] > r["start"] and r["deadline_owner"] == "true"' \
		'[a["attempt"] for a in r["attempts"]] == [1]' \
		'r["attempts"][0]["exit_status"] == 0 and r["attempts"][0]["outcome"] == "exited"' \
		'r["signals_sent"] == [] and r["leftovers_cancelled"] == 0'
	run -3 "$CTXRUN" --report "$T/r" -n step -- sh -c 'exit 3'
	report 'len(lines) == 2' 'r["name"] == "step" and r["argv"] == ["sh", "-c", "exit 3"]' \
		'r["deadline"] is None and r["values"] == {}' \
		'r["outcome"] == "exited" and r["exit_status"] == 3 and r["exit_signal"] is None' \
		'r["attempts"][0]["exit_status"] == 3'
	assert_no_leftovers
}

@test "the leftovers cancelled when COMMAND exits are counted" {
	run -0 "$CTXRUN" --report "$T/r" -- sh -c "sleep $U & sleep $U & exit 0"
	report 'r["outcome"] == "exited" and r["leftovers_cancelled"] == 2' \
		'[(s["signal"], s["processes"], s["why"]) for s in r["signals_sent"]] == [("TERM", 2, "command_exited")]'
	assert_no_leftovers
}

@test "COMMAND killed by a signal: the report is written before ctxrun dies of it" {
	run exit_of "$CTXRUN" --report "$T/r" -- sh -c 'kill -USR1 $$'
	assert_output "signal SIGUSR1"
	report 'r["outcome"] == "signaled" and r["exit_signal"] == "USR1" and r["exit_status"] is None' \
		'r["attempts"][0]["signal"] == "USR1" and r["attempts"][0]["outcome"] == "signaled"' \
		'r["cause"] is None'
	assert_no_leftovers
}

@test "deadline exceeded: the cause as ctxrun says it, the signals sent, even with -q" {
	run -124 "$CTXRUN" -q --report "$T/r" -t 300ms -- sh -c "sleep $U & exec sleep $U"
	assert_output ""
	report 'r["outcome"] == "deadline_exceeded" and r["exit_status"] == 124' \
		'r["cause"] == "deadline exceeded after 300ms"' \
		'r["deadline_owner"] == "sh" and r["deadline"] >= r["start"]' \
		'0.3 <= r["duration"] < 30' \
		'[(s["signal"], s["processes"], s["why"]) for s in r["signals_sent"]] == [("TERM", 2, "deadline_exceeded")]' \
		'r["attempts"][0]["signal"] == "TERM" and r["attempts"][0]["outcome"] == "deadline_exceeded"'
	# Past already: not started, no attempt.
	run -124 "$CTXRUN" --report "$T/r" -d @1 -- true
	report 'r["outcome"] == "deadline_exceeded" and r["attempts"] == []' \
		'r["cause"] == "deadline already passed, not started"' \
		'r["deadline"] == "1970-01-01T00:00:01.000Z"'
	assert_no_leftovers
}

@test "a KILL after the grace period is listed" {
	run -124 "$CTXRUN" -q --report "$T/r" -t 200ms -k 200ms -- sh -c "trap '' TERM; sleep $U"
	report '[(s["signal"], s["why"]) for s in r["signals_sent"]][:2] == [("TERM", "deadline_exceeded"), ("KILL", "grace_period_over")]'
	assert_no_leftovers
}

@test "cancelled with ctxrun cancel from inside: the cause text and status" {
	run -7 "$CTXRUN" --report "$T/r" -- sh -c "\"\$CTXRUN\" cancel --cause 'tests are done' --status 7; exec sleep $U"
	report 'r["outcome"] == "cancelled" and r["exit_status"] == 7' \
		'r["cause"] == "cancelled: tests are done"' \
		'r["signals_sent"][0]["why"] == "cancelled"'
	assert_no_leftovers
}

@test "TERM from outside: signal_received, and ctxrun dies of TERM after writing it" {
	run exit_of --ready "$T/ready" --send TERM "$CTXRUN" --report "$T/r" -- sh -c "touch '$T/ready'; exec sleep $U"
	assert_output "signal SIGTERM"
	report 'r["outcome"] == "signal_received" and r["exit_signal"] == "TERM"' \
		'r["cause"] is None' \
		'[(s["signal"], s["why"]) for s in r["signals_sent"]] == [("TERM", "signal_received")]'
	assert_no_leftovers
}

@test "retries: each attempt listed with its own end" {
	run -3 "$CTXRUN" -q --report "$T/r" -r 2 --retry-delay 1ms -- sh -c 'exit 3'
	report '[a["attempt"] for a in r["attempts"]] == [1, 2, 3]' \
		'all(a["exit_status"] == 3 and a["outcome"] == "exited" for a in r["attempts"])' \
		'r["attempts"][0]["start"] <= r["attempts"][1]["start"] <= r["attempts"][2]["start"]' \
		'r["exit_status"] == 3'
	run -0 "$CTXRUN" -q --report "$T/r" -r 1 --attempt-timeout 300ms --retry-delay 1ms -- \
		sh -c "[ \$CTXRUN_ATTEMPT = 2 ] && exit 0; exec sleep $U"
	report '[(a["attempt"], a["outcome"], a["signal"], a["exit_status"]) for a in r["attempts"]] == [(1, "deadline_exceeded", "TERM", None), (2, "exited", None, 0)]' \
		'r["attempts"][0]["duration"] >= 0.25' \
		'[s["why"] for s in r["signals_sent"]] == ["attempt_timed_out"]' \
		'r["outcome"] == "exited" and r["exit_status"] == 0'
	assert_no_leftovers
}

@test "argv and values with bytes that are not UTF-8: still valid JSON, the bytes recoverable" {
	run -0 "$CTXRUN" --report "$T/r" --value K=$'\xfe\x01' -n $'n\xff' -- sh -c 'exit 0' $'\xff' $'caf\xc3\xa9' $'\xc2\x85' $'a"b\\c\n\t' $'\xed\xa0\x80'
	report 'r["argv"][3:] == ["\udcff", "café", "\x85", "a\"b\\c\n\t", "\udced\udca0\udc80"]' \
		'[a.encode("utf-8", "surrogateescape") for a in r["argv"][3:]] == [b"\xff", "café".encode(), b"\xc2\x85", b"a\"b\\c\n\t", b"\xed\xa0\x80"]' \
		'r["values"] == {"K": "\udcfe\x01"} and r["name"] == "n\udcff"'
	assert_no_leftovers
}

@test "a FILE that cannot be written: one line on stderr, the exit status unchanged" {
	run -3 "$CTXRUN" -q --report "$T/no/such/dir/r" -- sh -c 'exit 3'
	assert_output "ctxrun: sh: cannot write the report to '$T/no/such/dir/r': No such file or directory"
	run -3 "$CTXRUN" --report "$T" -n step -- sh -c 'exit 3'
	assert_output "ctxrun: step: cannot write the report to '$T': Is a directory"
	run exit_of "$CTXRUN" --report "$T/no/r" -- sh -c 'kill -USR1 $$'
	assert_output --partial "cannot write the report"
	assert_line --index 1 "signal SIGUSR1"
	mkfifo "$T/fifo"
	run -0 "$CTXRUN" --report "$T/fifo" -- true
	assert_output "ctxrun: true: cannot write the report to '$T/fifo': No such device or address"
	run -125 "$CTXRUN" --report "" -- true
	run -125 "$CTXRUN" timeout --report "$T/r" 1 true
	[ ! -e "$T/r" ]
	assert_no_leftovers
}

@test "twenty ctxruns in parallel append to one file: twenty whole lines" {
	big=$(printf '%*s' 100000 '' | tr ' ' x)
	local pids=()
	for i in $(seq 20); do
		"$CTXRUN" --report "$T/r" --value I=$i -- sh -c 'exit 0' "$big" &
		pids+=($!)
	done
	# Not a bare wait: bats has a job of its own (the test's timeout).
	wait "${pids[@]}"
	report 'len(lines) == 20' 'sorted(int(o["values"]["I"]) for o in lines) == list(range(1, 21))' \
		'all(len(o["argv"][3]) == 100000 for o in lines)'
	assert_no_leftovers
}

@test "nested ctxruns share one file: the inner line first, its deadline owned by the outer" {
	run -0 "$CTXRUN" --report "$T/r" -n outer -t 1h --value A=1 --value B=2 -- \
		"$CTXRUN" --report "$T/r" -n inner --value A=3 -- true
	report 'len(lines) == 2' '[o["name"] for o in lines] == ["inner", "outer"]' \
		'[o["depth"] for o in lines] == [2, 1]' \
		'lines[0]["deadline_owner"] == "outer" and lines[0]["deadline"] == lines[1]["deadline"]' \
		'lines[0]["values"] == {"B": "2", "A": "3"} and lines[1]["values"] == {"A": "1", "B": "2"}'
	assert_no_leftovers
}

@test "the tree's CPU time and peak memory include grandchildren" {
	run -0 "$CTXRUN" --report "$T/r" -- sh -c 'python3 -c "b = b\"x\" * (64 << 20); import time; t = time.process_time()
while time.process_time() - t < 0.2: pass"; true'
	report 'r["max_rss_kib"] >= 64 * 1024' 'r["cpu"] >= 0.2' 'r["cpu"] <= 2 * r["duration"] + 0.1'
	assert_no_leftovers
}

@test "a command that cannot run: outcome failed, its status and the cause" {
	run -127 "$CTXRUN" --report "$T/r" -- "$T/nonexistent"
	report 'r["outcome"] == "failed" and r["exit_status"] == 127 and r["attempts"] == []' \
		'r["cause"].startswith("cannot run ")'
}

@test "idle, the hook and the warning are reported" {
	run -124 "$CTXRUN" --report "$T/r" --idle-timeout 300ms --on-timeout 'exit 4' -- sleep "$U" </dev/null
	report 'r["outcome"] == "idle" and r["cause"] == "idle for 300ms"' \
		'r["hook"]["exit_status"] == 4 and not r["hook"]["killed_at_limit"]' \
		'r["attempts"][0]["outcome"] == "idle"' \
		'r["signals_sent"][0]["why"] == "idle"'
	run -124 "$CTXRUN" --report "$T/r" -t 200ms --on-timeout "sleep $U" --on-timeout-limit 100ms -- sleep "$U" </dev/null
	report 'r["hook"]["signal"] == "KILL" and r["hook"]["killed_at_limit"]' \
		'r["outcome"] == "deadline_exceeded"'
	run -124 "$CTXRUN" --report "$T/r" -t 600ms --warn USR1@400ms -- sh -c "trap '' USR1; exec sleep $U" </dev/null
	report 'r["hook"] is None' \
		'[s["why"] for s in r["signals_sent"]] == ["warning", "deadline_exceeded"]' \
		'r["signals_sent"][0]["signal"] == "USR1" and r["signals_sent"][0]["processes"] == 1'
	assert_no_leftovers
}

@test "every way a run stops: the report's cause is ctxrun's last line, so -q loses nothing" {
	# Each case: ctxrun's arguments; its last line of stderr (without
	# "ctxrun: NAME: ") must be the report's cause, and with -q the
	# report says the same.
	cases=(
		"-- true"
		"-- false"
		"-t 0.2 -- sleep $U"
		"-t 0.2 --on-timeout true -- sleep $U"
		"--idle-timeout 0.2 -- sleep $U"
		"-- sh -c '\"\$CTXRUN\" cancel --cause enough; sleep $U'"
		"-- no-such-command-$U"
		"-r 1 --retry-delay 1ms -- false"
		"-t 2 -r 3 --retry-delay 5s -- false"
		"-r 2 --retry-delay 1ms -- sh -c '\"\$CTXRUN\" retry --never --cause no; exit 1'"
		"-r 1 --retry-delay 1ms --attempt-timeout 0.2 -- sleep $U"
		"-t 0.3 -r 5 --retry-delay 1ms --attempt-timeout 1 -- sleep $U"
		"-- sh -c 'sleep $U & exit 4'"
	)
	for c in "${cases[@]}"; do
		rm -f "$T/r" "$T/rq"
		eval "\"\$CTXRUN\" --report \"\$T/r\" $c" 2>"$T/err" </dev/null || true
		eval "\"\$CTXRUN\" -q --report \"\$T/rq\" $c" 2>"$T/errq" </dev/null || true
		last=$(grep '^ctxrun: ' "$T/err" | tail -1)
		python3 - "$T/r" "$T/rq" "$last" "$c" <<-'EOF' || fail "case: $c"
		import json, sys
		r, rq = (json.loads(open(f).read().splitlines()[-1]) for f in sys.argv[1:3])
		last, case = sys.argv[3], sys.argv[4]
		# ctxrun's own failures are not named after the context.
		said = lambda c: c is not None and last in ("ctxrun: " + c,
		    "ctxrun: %s: %s" % (r["name"], c))
		assert said(r["cause"]) if last else r["cause"] is None, (case, r["cause"], last)
		assert rq["cause"] == r["cause"], (case, "-q", rq["cause"], r["cause"])
		EOF
		[ ! -s "$T/errq" ] || [ "$(grep -c '' "$T/errq")" -le 1 ] || fail "-q said: $(cat "$T/errq")"
	done
	assert_no_leftovers
}
