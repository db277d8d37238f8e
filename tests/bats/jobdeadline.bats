#!/usr/bin/env bats
# --job-deadline and CTXRUN_JOB_DEADLINE: the enclosing CI job's end, from
# made-up CI variables, as an inherited deadline named after the CI.
load helper

# The machine running the tests may itself be a CI job.
unset CI_JOB_TIMEOUT CI_JOB_STARTED_AT SLURM_JOB_END_TIME TEST_TIMEOUT \
	BUILD_WORKSPACE_DIRECTORY BUILDKITE_TIMEOUT CTXRUN_JOB_DEADLINE

# ago N: RFC 3339 in UTC, with nanoseconds, N seconds ago.
ago() {
	date -u -d "-$1 sec" +%Y-%m-%dT%H:%M:%S.%NZ
}

# A COMMAND that says it started, then lives until signalled.
started_sleep() {
	echo "touch '$T/started'; exec sleep $U"
}

@test "GitLab: started 10 s ago with a 12 s timeout and 1 s margin, TERMed about 1 s later" {
	CI_JOB_TIMEOUT=12 CI_JOB_STARTED_AT=$(ago 10) \
		run -124 "$CTXRUN" --job-deadline=1s -- sh -c "$(started_sleep)"
	[ -e "$T/started" ] || fail "COMMAND never started"
	assert_output --regexp "^ctxrun: sh: deadline exceeded after ([5-9][0-9]{2}ms|1(\\.[0-9]+)?s) \\(inherited from 'gitlab-job'\\)$"
	assert_no_leftovers
}

@test "Slurm: SLURM_JOB_END_TIME, margin earlier" {
	SLURM_JOB_END_TIME=$(($(date +%s) + 3)) \
		run -124 "$CTXRUN" --job-deadline=1.5s -- sh -c "$(started_sleep)"
	[ -e "$T/started" ]
	assert_output --regexp "^ctxrun: sh: deadline exceeded after [0-9.]+m?s \\(inherited from 'slurm-job'\\)$"
	assert_no_leftovers
}

@test "Bazel: TEST_TIMEOUT counts from ctxrun's start" {
	TEST_TIMEOUT=2 run -124 "$CTXRUN" --job-deadline=1s -- sh -c "$(started_sleep)"
	[ -e "$T/started" ]
	# From ctxrun's own start: exactly the timeout less the margin.
	assert_output "ctxrun: sh: deadline exceeded after 1s (inherited from 'bazel-test')"
	assert_no_leftovers
}

@test "Bazel: not under bazel run, which sets TEST_TIMEOUT without enforcing it" {
	TEST_TIMEOUT=1 BUILD_WORKSPACE_DIRECTORY=/src run "$CTXRUN" --job-deadline=0 -- "$CTXRUN" remaining
	assert_failure 1
	assert_output ""
}

@test "Buildkite: BUILDKITE_TIMEOUT in minutes from ctxrun's start; false is no timeout" {
	BUILDKITE_TIMEOUT=1 run -124 "$CTXRUN" --job-deadline=59s -- sh -c "$(started_sleep)"
	[ -e "$T/started" ]
	assert_output "ctxrun: sh: deadline exceeded after 1s (inherited from 'buildkite-job')"
	assert_no_leftovers
	BUILDKITE_TIMEOUT=false run "$CTXRUN" --job-deadline -- "$CTXRUN" remaining
	assert_failure 1
	assert_output ""
}

@test "a job deadline already past, or within the margin: 124, not started" {
	CI_JOB_TIMEOUT=60 CI_JOB_STARTED_AT=$(ago 120) \
		run -124 "$CTXRUN" --job-deadline -- touch "$T/started"
	assert_output "ctxrun: touch: deadline already passed (inherited from 'gitlab-job'), not started"
	[ ! -e "$T/started" ] || fail "COMMAND was started"
	# 20 s left, within the default margin of 30 s.
	CI_JOB_TIMEOUT=30 CI_JOB_STARTED_AT=$(ago 10) \
		run -124 "$CTXRUN" --job-deadline -- touch "$T/started"
	assert_output "ctxrun: touch: deadline already passed (inherited from 'gitlab-job'), not started"
	[ ! -e "$T/started" ] || fail "COMMAND was started"
}

@test "no source: no effect, not a word" {
	run "$CTXRUN" --job-deadline -- sh -c '"$CTXRUN" remaining; echo "remaining=$?"; "$CTXRUN" show'
	assert_success
	assert_output --regexp "^remaining=1
1 sh no-deadline$"
	CTXRUN_JOB_DEADLINE=5s run "$CTXRUN" -- true
	assert_success
	assert_output ""
}

@test "malformed sources: one line naming the variable, 125, nothing started" {
	local cases=(
		"CI_JOB_TIMEOUT=abc CI_JOB_STARTED_AT=$(ago 1)|CI_JOB_TIMEOUT: 'abc' is not a whole number of seconds"
		"CI_JOB_TIMEOUT=-5 CI_JOB_STARTED_AT=$(ago 1)|CI_JOB_TIMEOUT: '-5' is negative"
		"CI_JOB_TIMEOUT=99999999999999999999 CI_JOB_STARTED_AT=$(ago 1)|CI_JOB_TIMEOUT: too large"
		"CI_JOB_TIMEOUT=60 CI_JOB_STARTED_AT=yesterday|CI_JOB_STARTED_AT: 'yesterday' is not an RFC 3339 time"
		"CI_JOB_TIMEOUT=60|CI_JOB_TIMEOUT is set, but not CI_JOB_STARTED_AT"
		"SLURM_JOB_END_TIME=soon|SLURM_JOB_END_TIME: 'soon' is not a whole number"
		"TEST_TIMEOUT=1.5|TEST_TIMEOUT: '1.5' is not a whole number of seconds"
		"BUILDKITE_TIMEOUT=true|BUILDKITE_TIMEOUT: 'true' is not a whole number of minutes"
	)
	local c
	for c in "${cases[@]}"; do
		# shellcheck disable=SC2086
		run -125 env ${c%%|*} "$CTXRUN" --job-deadline -- touch "$T/started"
		assert_output --regexp "^ctxrun: job deadline: ${c#*|}"
		[ "${#lines[@]}" -eq 1 ] || fail "more than one line for ${c%%|*}"
		[ ! -e "$T/started" ] || fail "started despite ${c%%|*}"
	done
	# Not switched on: the CI's variables are none of ctxrun's business.
	CI_JOB_TIMEOUT=abc run "$CTXRUN" -- true
	assert_success
}

@test "a bad margin: 125, nothing started" {
	run -125 "$CTXRUN" --job-deadline=-1 -- touch "$T/started"
	assert_output "ctxrun: --job-deadline: '-1': negative duration"
	run -125 "$CTXRUN" --job-deadline=x -- touch "$T/started"
	assert_output --regexp "^ctxrun: --job-deadline: 'x': "
	CTXRUN_JOB_DEADLINE=x run -125 "$CTXRUN" -- touch "$T/started"
	assert_output --regexp "^ctxrun: CTXRUN_JOB_DEADLINE: 'x': "
	# Bad even without a source: it is a mistake in the configuration.
	[ ! -e "$T/started" ]
	# The option overrides the variable, margin and all.
	CTXRUN_JOB_DEADLINE=x TEST_TIMEOUT=100 run "$CTXRUN" --job-deadline=10s -- "$CTXRUN" remaining --ms
	assert_success
}

@test "CTXRUN_JOB_DEADLINE switches it on; empty is the default margin" {
	CTXRUN_JOB_DEADLINE=1s CI_JOB_TIMEOUT=12 CI_JOB_STARTED_AT=$(ago 10) \
		run -124 "$CTXRUN" -- sh -c "$(started_sleep)"
	assert_output --regexp "\\(inherited from 'gitlab-job'\\)$"
	assert_no_leftovers
	CTXRUN_JOB_DEADLINE= TEST_TIMEOUT=100 run "$CTXRUN" -- "$CTXRUN" remaining --ms
	assert_success
	# 100 s less the default 30 s, less the time to start.
	[ "$output" -gt 65000 ] && [ "$output" -le 70000 ] || fail "remaining $output ms"
}

@test "ctxrun remaining in COMMAND: the job's time, margin taken off" {
	CI_JOB_TIMEOUT=3600 CI_JOB_STARTED_AT=$(ago 100) \
		run "$CTXRUN" --job-deadline=30s -- "$CTXRUN" remaining --ms
	assert_success
	[ "$output" -gt 3465000 ] && [ "$output" -le 3470000 ] || fail "remaining $output ms"
	TEST_TIMEOUT=100 run "$CTXRUN" --job-deadline=10s -- "$CTXRUN" deadline --epoch
	assert_success
	now=$(date +%s)
	[ "${output%.*}" -ge $((now + 85)) ] && [ "${output%.*}" -le $((now + 90)) ] ||
		fail "deadline $output, now $now"
}

@test "nested: the job is named once, in every ctxrun's message and nowhere in show" {
	# Switched on by the variable, every ctxrun applies it: both name it.
	CTXRUN_JOB_DEADLINE=1s CI_JOB_TIMEOUT=12 CI_JOB_STARTED_AT=$(ago 10) \
		run -124 "$CTXRUN" -n outer -- "$CTXRUN" -n inner -- sh -c "$(started_sleep)"
	assert_line --regexp "^ctxrun: inner: deadline exceeded after .* \\(inherited from 'gitlab-job'\\)$"
	assert_line --regexp "^ctxrun: outer: deadline exceeded after .* \\(inherited from 'gitlab-job'\\)$"
	assert_no_leftovers
	# Not a level of the environment: it does not pile up.
	CTXRUN_JOB_DEADLINE= CI_JOB_TIMEOUT=3600 CI_JOB_STARTED_AT=$(ago 1) \
		run "$CTXRUN" -n outer -- "$CTXRUN" -n inner -- "$CTXRUN" show
	assert_success
	assert_line --index 0 --regexp "^1 outer deadline="
	assert_line --index 1 --regexp "^2 inner deadline="
	[ "${#lines[@]}" -eq 2 ]
	# The option alone is this ctxrun's: a nested one inherits the deadline
	# from it, and names it.
	CI_JOB_TIMEOUT=12 CI_JOB_STARTED_AT=$(ago 10) \
		run -124 "$CTXRUN" --job-deadline=1s -n outer -- "$CTXRUN" -n inner -- sh -c "$(started_sleep)"
	assert_line --regexp "^ctxrun: inner: deadline exceeded after .* \\(inherited from 'outer'\\)$"
	assert_line --regexp "^ctxrun: outer: deadline exceeded after .* \\(inherited from 'gitlab-job'\\)$"
	assert_no_leftovers
}

@test "--env and --unset accept CTXRUN_JOB_DEADLINE, a setting rather than context" {
	TEST_TIMEOUT=100 run "$CTXRUN" --env CTXRUN_JOB_DEADLINE=50s -- "$CTXRUN" -- "$CTXRUN" remaining --ms
	assert_success
	[ "$output" -gt 45000 ] && [ "$output" -le 50000 ] || fail "remaining $output ms"
	CTXRUN_JOB_DEADLINE=50s TEST_TIMEOUT=100 run "$CTXRUN" --unset CTXRUN_JOB_DEADLINE -- "$CTXRUN" -- sh -c 'echo "${CTXRUN_JOB_DEADLINE-unset}"'
	assert_success
	assert_output "unset"
}
