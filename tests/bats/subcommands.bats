#!/usr/bin/env bats
# remaining, deadline, value, show, cancel: reading the context from scripts.
load helper

@test "outside any ctxrun: nothing to read" {
	run -1 "$CTXRUN" remaining
	assert_output ""
	run -1 "$CTXRUN" deadline
	run -1 "$CTXRUN" value A
	run "$CTXRUN" show
	assert_success
	assert_output ""
	run "$CTXRUN" show --json
	assert_output "[]"
	run -1 "$CTXRUN" cancel
	assert_output "ctxrun: cancel: not inside a ctxrun"
}

@test "remaining: seconds with a fraction, or whole milliseconds" {
	run "$CTXRUN" -t 100 -- sh -c '"$CTXRUN" remaining; "$CTXRUN" remaining --ms'
	assert_success
	assert_line --index 0 --regexp '^(99|100)\.[0-9]{3}$'
	assert_line --index 1 --regexp '^(99|100)[0-9]{3}$'
}

@test "remaining: 1 with nothing printed without a deadline" {
	run "$CTXRUN" -- sh -c '"$CTXRUN" remaining; echo "rc=$?"'
	assert_output "rc=1"
}

@test "remaining: 0 and 124 once the deadline has passed" {
	run -124 "$CTXRUN" -q -t 0.2 -k 10 -- sh -c "trap '' TERM; while \"\$CTXRUN\" remaining >/dev/null; do :; done; \"\$CTXRUN\" remaining; echo rc=\$?"
	assert_output "0
rc=124"
}

@test "deadline: RFC 3339 in UTC with milliseconds, or epoch seconds" {
	run "$CTXRUN" -d 2030-01-02T03:04:05.678+01:00 -- sh -c '"$CTXRUN" deadline; "$CTXRUN" deadline --epoch'
	assert_success
	assert_line --index 0 --regexp '^2030-01-02T02:04:05\.67[6-9]Z$'
	assert_line --index 1 --regexp '^1893549845\.67[6-9]$'
	run "$CTXRUN" -- "$CTXRUN" deadline
	assert_failure 1
}

@test "value: the value and a newline; 1 when unset; 125 for a bad key" {
	run "$CTXRUN" --value 'GREETING=hello, world' --value EMPTY= -- sh -c '"$CTXRUN" value GREETING; "$CTXRUN" value EMPTY; "$CTXRUN" value NOPE; echo "rc=$?"'
	assert_output "hello, world

rc=1"
	run -125 "$CTXRUN" value 1BAD
	run -125 "$CTXRUN" value A B
}

@test "value: any byte but NUL survives, newlines included" {
	v=$(printf 'a\nb\tc %%41 \001\177\377=;"\x27')
	run "$CTXRUN" --value "V=$v" -- "$CTXRUN" value V
	assert_success
	[ "$output" = "$v" ] || fail "got $(printf %s "$output" | od -c)"
}

@test "show: the chain outermost first, with deadlines and values" {
	run "$CTXRUN" -n ci -t 1h --value JOB=42 -- "$CTXRUN" -n step --value 'X=a b' -- "$CTXRUN" show
	assert_success
	assert_line --index 0 --regexp '^1 ci deadline=[0-9-]+T[0-9:.]+Z left=(59m59|1h0m0)[0-9.]*s JOB=42$'
	assert_line --index 1 --regexp '^2 step deadline=[0-9-]+T[0-9:.]+Z left=.* X=a b$'
	[ "${#lines[@]}" -eq 2 ]
}

@test "show --json: valid JSON with every level" {
	run "$CTXRUN" -n ci --value 'Q=say "hi"\' -- "$CTXRUN" -n step -t 60 -- "$CTXRUN" show --json
	assert_success
	run python3 -c 'import json, sys
levels = json.loads(sys.argv[1])
assert [l["name"] for l in levels] == ["ci", "step"], levels
assert levels[0]["values"] == {"Q": "say \"hi\"\\"}, levels[0]
assert levels[0]["deadline"] is None and levels[1]["remaining_ms"] > 50000
print("ok")' "$output"
	assert_output "ok"
}

@test "cancel: the enclosing ctxrun ends its tree and exits 124" {
	run -124 "$CTXRUN" -n job -- sh -c "setsid sleep $U & \"\$CTXRUN\" cancel; sleep $U"
	assert_output "ctxrun: job: cancelled: ctxrun cancel"
	assert_no_leftovers
}

@test "cancel --cause --status: the cause is reported, the status used" {
	run -3 "$CTXRUN" -n job -- sh -c "\"\$CTXRUN\" cancel --cause 'tests are done' --status 3; sleep $U"
	assert_output "ctxrun: job: cancelled: tests are done"
	run -125 "$CTXRUN" -- "$CTXRUN" cancel --status 256
	assert_output --partial "'256'"
	run -125 "$CTXRUN" -- "$CTXRUN" cancel --bogus
	assert_no_leftovers
}

@test "show --json: valid UTF-8 JSON whatever bytes names and values hold" {
	# Well-formed UTF-8 passes unchanged; every other byte is \udcXX, which
	# Python's surrogateescape turns back into that byte.
	run python3 - "$CTXRUN" <<'PY'
import json, subprocess, sys
ctxrun = sys.argv[1].encode()
cases = [b"plain", b"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xef\xbf\xbf \xf4\x8f\xbf\xbf",
         b"\xff", b"a\x80b", b"\xc3", b"\xc3(", b"\xe2\x82", b"\xe2\x82x",
         b"\xed\xa0\x80", b"\xc0\xaf", b"\xe0\x80\xaf", b"\xf0\x80\x80\xaf",
         b"\xf4\x90\x80\x80", b"\xf8\x88\x80\x80\x80", b"\xfe\xff",
         b"\x01\x1f\x7f\n\t\r\x1b[0m", b'say "hi" \\ / \\u0041', b"\xe2\x80\xa8",
         bytes(range(1, 256))]
for c in cases:
    out = subprocess.run([ctxrun, b"-n", b"n" + c, b"--value", b"V=" + c, b"--",
                          ctxrun, b"show", b"--json"],
                         stdout=subprocess.PIPE, check=True).stdout
    levels = json.loads(out.decode("utf-8"))  # strict UTF-8, strict JSON
    name = levels[0]["name"].encode("utf-8", "surrogateescape")
    value = levels[0]["values"]["V"].encode("utf-8", "surrogateescape")
    assert name == b"n" + c, (c, name)
    assert value == c, (c, value)
    if c.startswith(b"caf"):
        assert c in out, out  # valid multibyte UTF-8 is not escaped
print("ok")
PY
	assert_output "ok"
}

@test "subcommands: a failed write is an error, 125 with one line naming it" {
	for sub in remaining "remaining --ms" deadline "deadline --epoch" "value A" show "show --json"; do
		for redir in '>/dev/full' '>&-'; do
			run "$CTXRUN" -q -t 100 --value A=x -- bash -c "\"\$CTXRUN\" $sub $redir"
			assert_failure 125
			[ "${#lines[@]}" -eq 1 ] || fail "$sub $redir: $output"
			assert_output --regexp "^ctxrun: ${sub% *}: write error on standard output: (No space left on device|Bad file descriptor)\$"
		done
	done
	# Nothing to print, nothing to fail: show outside any ctxrun, cancel.
	run bash -c '"$CTXRUN" show >&-'
	assert_success
	run -124 "$CTXRUN" -q -- bash -c '"$CTXRUN" cancel >/dev/full; sleep 5'
	assert_output ""
}

@test "show: bytes that are not UTF-8, and C0/C1 controls, are escaped; UTF-8 text is kept" {
	run -0 "$CTXRUN" -n "$(printf 'n\376')" --value "K=$(printf 'a\200\377\302\233 \303\251\001')" -- "$CTXRUN" show
	assert_output '1 n\xfe no-deadline K=a\x80\xff\xc2\x9b é\x01'
}

@test "show --json escapes C1 controls too (NEL, CSI)" {
	run -0 "$CTXRUN" -n "$(printf 'a\302\205b\302\233c\302\240d')" -- "$CTXRUN" show --json
	assert_output --partial '"name":"a\u0085b\u009bc'
	printf '%s' "$output" | python3 -c 'import json, sys; json.load(sys.stdin)'
}
