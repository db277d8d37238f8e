#!/usr/bin/env bats
# Running a command: exit statuses, messages, options.
load helper

@test "COMMAND's own exit status comes through" {
	run "$CTXRUN" -t 10 -- true
	assert_success
	run "$CTXRUN" -- sh -c 'exit 42'
	assert_failure 42
	run "$CTXRUN" -t 1h30m -- false
	assert_failure 1
}

@test "not found is 127, cannot run is 126, with one line" {
	run -127 "$CTXRUN" -- /nonexistent/cmd
	assert_output "ctxrun: cannot run '/nonexistent/cmd': No such file or directory"
	run -127 "$CTXRUN" -- no-such-command-$U
	run -126 "$CTXRUN" -- "$T"
	assert_output --partial "Permission denied"
	printf 'not executable\n' > "$T/script"
	run -126 "$CTXRUN" -- "$T/script"
}

@test "the deadline ends COMMAND: 124 and one line with the cause" {
	run -124 "$CTXRUN" -t 0.3 -- sleep $U
	assert_output "ctxrun: sleep: deadline exceeded after 300ms"
	assert_no_leftovers
}

@test "an absolute deadline works like a timeout" {
	run -124 "$CTXRUN" -n build -d "@$(date -d '+1 sec' +%s.%N)" -- sleep $U
	assert_output --regexp '^ctxrun: build: deadline exceeded after (0|[0-9.]+m?s)$'
	run -124 "$CTXRUN" -q -d "$(date -u -d '+1 sec' +%Y-%m-%dT%H:%M:%S.%NZ | cut -c1-23)Z" -- sleep $U
	assert_output ""
	assert_no_leftovers
}

@test "the earliest of --timeout and --deadline wins" {
	run -124 "$CTXRUN" -t 0.2 -d "@$(( $(date +%s) + 3600 ))" -- sleep $U
	assert_output --partial "after 200ms"
	run -124 "$CTXRUN" -d "@$(date -d '+0.3 sec' +%s.%N)" -t 1h -- sleep $U
	assert_no_leftovers
}

@test "--timeout 0 means no timeout" {
	run "$CTXRUN" -t 0 -- sh -c 'ctxrun_remaining=$("$CTXRUN" remaining); echo "rc=$?"'
	assert_success
	assert_output "rc=1"
}

@test "--quiet says nothing, --name names the context" {
	run -124 "$CTXRUN" -q -t 0.1 -- sleep $U
	assert_output ""
	run -124 "$CTXRUN" --name=my-job -t 0.1 -- sleep $U
	assert_output "ctxrun: my-job: deadline exceeded after 100ms"
}

@test "--preserve-status exits with COMMAND's status" {
	run -143 "$CTXRUN" --preserve-status -t 0.2 -- sleep $U
	run -7 "$CTXRUN" --preserve-status -t 0.2 -- sh -c "trap 'exit 7' TERM; sleep $U & wait"
	assert_no_leftovers
}

@test "--signal picks the first signal; --verbose reports each one" {
	run -124 "$CTXRUN" -v -s INT -t 0.2 -- sleep $U
	assert_line --index 0 "ctxrun: sleep: sent INT to 1 process (deadline exceeded)"
	run -124 "$CTXRUN" -v -s 9 -t 0.2 -- sleep $U
	assert_line --index 0 "ctxrun: sleep: sent KILL to 1 process (deadline exceeded)"
}

@test "after the grace period what ignores the first signal is killed" {
	start=$(date +%s%N)
	run -124 "$CTXRUN" -v -t 0.2 -k 0.5 -- sh -c "trap '' TERM; sleep $U"
	assert_line --index 0 --partial "sent TERM to 2 processes"
	assert_line --index 1 "ctxrun: sh: sent KILL to 2 processes (grace period of 500ms over)"
	elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
	[ "$elapsed" -ge 700 ] || fail "killed after ${elapsed}ms, before the grace ended"
	assert_no_leftovers
}

@test "a COMMAND killed by a signal ctxrun did not send: ctxrun dies of it" {
	run exit_of "$CTXRUN" -- sh -c 'kill -SEGV $$'
	assert_output "signal SIGSEGV"
	run exit_of "$CTXRUN" -- sh -c 'kill -USR1 $$'
	assert_output "signal SIGUSR1"
	run exit_of "$CTXRUN" -t 5 -- sh -c 'kill -KILL $$'
	assert_output "signal SIGKILL"
}

@test "--env and --unset change COMMAND's environment, in order" {
	A=outer B=keep run "$CTXRUN" -e A=inner -u B -e C=new -e D=1 -u D -- sh -c 'echo "${A-unset} ${B-unset} ${C-unset} ${D-unset}"'
	assert_output "inner unset new unset"
	# The command is looked up in the new PATH, as env(1) does.
	run -127 "$CTXRUN" -e 'PATH=/nonexistent' -- sh -c 'echo $PATH'
}
