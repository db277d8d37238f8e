#!/usr/bin/env bats
# The command line: help, version, and bad input refused before anything runs.
load helper

@test "--help lists every option and exits 0" {
	run "$CTXRUN" --help
	assert_success
	for o in --timeout --deadline --signal --kill-after --env --unset --value \
		--name --wait --preserve-status --foreground --verbose --quiet --help --version; do
		assert_output --partial -- "$o"
	done
}

@test "--version prints the version" {
	run "$CTXRUN" --version
	assert_success
	assert_output --regexp '^ctxrun [0-9]+\.[0-9]+\.[0-9]+$'
}

# bad ARGS... EXPECTED-WORD: one line naming the input, 125, nothing started.
bad() {
	local word=${*: -1}
	run "$CTXRUN" "${@:1:$#-1}" -- touch "$T/started"
	assert_failure 125
	[ "${#lines[@]}" -eq 1 ] || fail "expected one line, got: $output"
	assert_line --index 0 --regexp '^ctxrun: '
	assert_output --partial -- "$word"
	[ ! -e "$T/started" ] || fail "the command was started"
}

@test "bad durations are refused with 125" {
	bad -t 1x "'1x'"
	bad -t -1 "'-1'"
	bad --timeout= "empty duration"
	bad -t nan "'nan'"
	bad -t 1h30 "'1h30'"
	bad -t 99999999999999999999 "out of range"
	bad -k 5q "--kill-after"
	bad -t "1 s" "'1 s'"
}

@test "bad deadlines are refused with 125" {
	bad -d yesterday "'yesterday'"
	bad -d 2026-13-01T00:00:00Z "no such date"
	bad -d 2026-11-25T08:00:00 "RFC 3339"
	bad -d @--5 "'@--5'"
	bad -d @-x "'@-x'"
	bad -d 9999-01-01T00:00:00Z "too far"
}

@test "bad signals, environment and values are refused with 125" {
	bad -s FOO "'FOO'"
	bad -s 99 "'99'"
	bad -e NOEQUALS "'NOEQUALS'"
	bad -e =x "empty variable name"
	bad -u A=B "'A=B'"
	bad -e CTXRUN_DEPTH=5 "CTXRUN_"
	bad --value 1A=x "'1A'"
	bad --value A-B=x "'A-B'"
	bad --value noequals "'noequals'"
	bad -n "" "empty name"
	bad -v -q "contradict"
}

@test "unknown options and missing values are refused with 125" {
	bad --bogus "'--bogus'"
	bad -Z "'-Z'"
	run "$CTXRUN" -t
	assert_failure 125
	assert_output "ctxrun: option '-t' needs a value"
	run "$CTXRUN" --timeout
	assert_failure 125
	assert_output "ctxrun: option '--timeout' needs a value"
}

@test "a bad option is named as it was typed, never a letter made up nor a control byte" {
	says() {
		local want=$1
		shift
		run -125 "$CTXRUN" "$@" -- touch "$T/started"
		assert_output "ctxrun: $want"
	}
	says "option '--wait=3': --wait takes no value" --wait=3
	says "option '--preserve-status=x': --preserve-status takes no value" --preserve-status=x
	says "option '--verb=1': --verbose takes no value" --verb=1
	says "option '--re' is ambiguous (see ctxrun --help)" --re
	says "unknown option '--frob=1' (see ctxrun --help)" --frob=1
	says "unknown option '--\\001' (see ctxrun --help)" $'--\x01'
	says "unknown option '-Z' (see ctxrun --help)" -qZ
	says "unknown option '-Z' (see ctxrun --help)" --verbose -Zq
	says "unknown option '-\\033' (see ctxrun --help)" $'-\x1b'
	[ ! -e "$T/started" ]
	run -125 "$CTXRUN" remaining $'\x01'
	assert_output "ctxrun: remaining: unexpected argument '\\001' (usage: ctxrun remaining [--ms])"
}

@test "a missing command is refused with 125" {
	run "$CTXRUN" -t 5
	assert_failure 125
	assert_output --partial "missing command"
	run "$CTXRUN"
	assert_failure 125
}

@test "a malformed inherited context is refused with 125, nothing started" {
	CTXRUN_DEPTH=1 CTXRUN_1=garbage run "$CTXRUN" -- touch "$T/started"
	assert_failure 125
	[ "${#lines[@]}" -eq 1 ]
	assert_output --partial "malformed inherited context: CTXRUN_1"
	[ ! -e "$T/started" ]
	CTXRUN_DEPTH=x run "$CTXRUN" -- touch "$T/started"
	assert_failure 125
	assert_output --partial "CTXRUN_DEPTH"
	for sub in remaining deadline show "value A" cancel; do
		CTXRUN_DEPTH=2 run "$CTXRUN" $sub
		assert_failure 125
		[ "${#lines[@]}" -eq 1 ]
	done
}

@test "a subcommand is recognised only as the first argument" {
	run -127 "$CTXRUN" -- value A
	assert_output --partial "cannot run 'value'"
	run "$CTXRUN" value
	assert_failure 125
	run "$CTXRUN" remaining --bogus
	assert_failure 125
	assert_output --partial "'--bogus'"
}

@test "a deadline already past: not started, 124" {
	run "$CTXRUN" -d @1 -- touch "$T/started"
	assert_failure 124
	assert_output --partial "deadline already passed"
	[ ! -e "$T/started" ]
	run "$CTXRUN" -q -d 2001-01-01T00:00:00Z -- touch "$T/started"
	assert_failure 124
	assert_output ""
}

@test "a deadline before 1970 is past: not started, 124" {
	for d in @-1 @-1.5 @-0.000000001 1969-12-31T23:59:59Z 1969-12-31T23:59:59.999+00:00 \
		1900-01-01T00:00:00Z 0001-01-01T00:00:00Z; do
		run "$CTXRUN" -d "$d" -- touch "$T/started"
		assert_failure 124
		assert_output --partial "deadline already passed"
		[ ! -e "$T/started" ] || fail "started with -d $d"
	done
}

@test "a positive timeout, however small, is a timeout: only 0 means none" {
	for t in 0.5ns .1ns 0.0000000001 0.00000000000000000000001s 0.4ns0.4ns; do
		run "$CTXRUN" -q -t "$t" -- sleep 5
		assert_failure 124
	done
}

@test "repeated --timeout: the earliest; 0 adds no timeout of its own" {
	# remaining: 1 with nothing printed when there is no deadline.  What
	# is left of 1 s once the inner ctxrun runs: loaded, under the
	# sanitizers, it took 116 ms to get there.
	for ts in "-t 5 -t 1" "-t 1 -t 5" "-t 0 -t 1" "-t 1 -t 0" "-t 0 -t 1 -t 0 -t 9"; do
		run "$CTXRUN" $ts -- "$CTXRUN" remaining
		assert_success
		assert_output --regexp '^(0\.[5-9][0-9]{2}|1\.000)$'
	done
	run "$CTXRUN" -t 1 -d @4102444800 -t 5 -- "$CTXRUN" remaining
	assert_output --regexp '^(0\.[5-9][0-9]{2}|1\.000)$'
	run -1 "$CTXRUN" -t 0 -t 0 -- "$CTXRUN" remaining
	assert_output ""
}

@test "--help and --version: a failed write is an error, 125 with one line" {
	for o in --help --version; do
		for redir in '>/dev/full' '>&-'; do
			run bash -c "\"\$CTXRUN\" $o $redir"
			assert_failure 125
			[ "${#lines[@]}" -eq 1 ] || fail "$o $redir: $output"
			assert_output --regexp '^ctxrun: write error on standard output: (No space left on device|Bad file descriptor)$'
		done
	done
	# Running a command prints nothing: a closed stdout is COMMAND's business.
	run bash -c '"$CTXRUN" -- true >&-'
	assert_success
	assert_output ""
}

@test "a deadline too far for the clock is the latest it holds, never none; remaining, show and the report agree" {
	# What a nested ctxrun reads of its context, for each source: the
	# latest instant the wall clock shows, and the time left until then.
	far() {
		run "$@" sh -c '"$CTXRUN" remaining; echo "rc=$?"; "$CTXRUN" deadline --epoch; "$CTXRUN" show | tail -1'
		assert_success
		assert_line --index 1 "rc=0"
		assert_line --regexp "^[0-9]+ .* deadline=2262-04-11T23:47:1[56]\.[0-9]{3}Z left=[0-9]{7}h"
		refute_output --partial "no-deadline"
		# remaining and deadline agree: now + remaining is the deadline.
		python3 -c 'import sys, time; left, at = float(sys.argv[1]), float(sys.argv[2]); sys.exit(abs(time.time() + left - at) > 5)' \
			"${lines[0]}" "${lines[2]}" || fail "remaining ${lines[0]}, deadline ${lines[2]}"
	}
	far "$CTXRUN" -t 2562047h --
	far "$CTXRUN" -t 9223372036854775807ns --
	far "$CTXRUN" -t 87600d --
	far "$CTXRUN" -r 1 --attempt-timeout 9223372036854775807ns --
	far "$CTXRUN" -d @9223372036.854775807 --
	far env TEST_TIMEOUT=9223372030 "$CTXRUN" --job-deadline=1s --
	far env TEST_TIMEOUT=7500000000 "$CTXRUN" --job-deadline=1s --
	far "$CTXRUN" timeout 2562047h
	far "$CTXRUN" timeout inf
	boot=$(cat /proc/sys/kernel/random/boot_id)
	far env CTXRUN_DEPTH=1 CTXRUN_1="name=x pid=1 token=0123456789abcdef0123456789abcdef grace=1 deadline=9223372036.854775807 mono=9223372036.854775807 boot=$boot" "$CTXRUN" --
	run "$CTXRUN" -q --report "$T/r.jsonl" -t 2562047h -- true
	run python3 -c 'import json, sys; print(json.loads(open(sys.argv[1]).read())["deadline"])' "$T/r.jsonl"
	assert_output "2262-04-11T23:47:16.854Z"
	# One past what a duration holds is refused, as a -d past 2262 is.
	run -125 "$CTXRUN" -t 9223372036854775808ns -- true
	assert_output --partial "out of range"
}

@test "@EPOCH out of range: long before 1677 is past (124); after 2262 is refused, saying so" {
	run -124 "$CTXRUN" -q -d @-9999999999 -- touch "$T/started"
	run -124 "$CTXRUN" -q -d @-9223372036.854775808 -- touch "$T/started"
	[ ! -e "$T/started" ]
	run -125 "$CTXRUN" -d @9223372037 -- true
	assert_output "ctxrun: --deadline: '@9223372037': too far in the future (after 2262)"
	run -125 "$CTXRUN" -d @1x -- true
	assert_output --partial "expected @[-]SECONDS[.FRACTION] since the epoch"
}

@test "arguments and environment near execve's limit: what is accepted up front starts, every attempt" {
	# Padding in variables of 100 kB; the largest total that ctxrun
	# accepts, found by bisection, must start (not 126, "Argument list too
	# long"), with a long name, without, and for the last of 10 attempts.
	python3 - "$CTXRUN" <<-'EOF'
	import subprocess, sys
	C = sys.argv[1]
	def env(n):
	    e = {"PATH": "/usr/bin:/bin"}
	    for i in range(0, n, 100000):
	        e["X%d" % i] = "a" * min(100000, n - i)
	    return e
	def status(n, args):
	    try:
	        return subprocess.run([C] + args, env=env(n), capture_output=True).returncode
	    except OSError:
	        return None     # ctxrun itself could not start
	for args in (["-n", "x" * 3000, "true"], ["true"], ["-r", "9", "--retry-delay", "1ms",
	             "--retry-max-delay", "1ms", "sh", "-c", 'test "$CTXRUN_ATTEMPT" = 10']):
	    lo, hi = 2000000, 2097152
	    while hi - lo > 1:
	        mid = (lo + hi) // 2
	        if status(mid, args) in (125, None):
	            hi = mid
	        else:
	            lo = mid
	    rc = status(lo, args)
	    assert rc == 0, (args[0], len(args), lo, rc)
	EOF
}
