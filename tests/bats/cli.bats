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
	bad -d @-5 "'@-5'"
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
