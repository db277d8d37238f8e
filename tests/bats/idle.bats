#!/usr/bin/env bats
# --idle-timeout: done when the tree writes nothing for a while, through an
# output relay that the command must not be able to tell from its real
# stdout and stderr.
load helper

pty_run() {
	python3 "$HELPERS/pty_run.py" "$@"
}

# Writes 1 MB of random bytes, in writes of every size from 0 to 64 KiB,
# alternately to stdout and stderr, each write announced on both (the
# order of the two streams in one file is what is compared).
interleave() {
	python3 -c '
import os, random
r = random.Random(7)
data = r.randbytes(1 << 20)
off = 0
while off < len(data):
    n = r.choice([0, 1, 7, 512, 4096, 65536, r.randrange(70000)])
    os.write(1 + (off // 3 % 2), data[off:off + n])
    off += n
'
}

@test "output to a file and to a pipe is byte for byte what a direct run writes" {
	head -c 3000000 /dev/urandom >"$T/data"
	"$CTXRUN" --idle-timeout 10s -- cat "$T/data" >"$T/to-file" </dev/null
	cmp "$T/data" "$T/to-file"
	"$CTXRUN" --idle-timeout 10s -- cat "$T/data" </dev/null | cat >"$T/to-pipe"
	cmp "$T/data" "$T/to-pipe"
	# Nothing written at all: nothing arrives.
	"$CTXRUN" --idle-timeout 10s -- true >"$T/empty" </dev/null
	[ ! -s "$T/empty" ]
}

@test "stdout and stderr into one file interleave exactly as they would without ctxrun" {
	export -f interleave
	bash -c interleave >"$T/direct" 2>&1 </dev/null
	"$CTXRUN" --idle-timeout 10s -- bash -c interleave >"$T/relayed" 2>&1 </dev/null
	[ "$(stat -c %s "$T/direct")" -eq 1048576 ]
	cmp "$T/direct" "$T/relayed"
}

@test "stdout and stderr to different places stay apart" {
	"$CTXRUN" --idle-timeout 10s -- sh -c 'echo out; echo err >&2' >"$T/out" 2>"$T/err" </dev/null
	[ "$(cat "$T/out")" = out ]
	[ "$(cat "$T/err")" = err ]
}

@test "a silent command is ended like a deadline: first signal, 124, 'idle for'" {
	SECONDS=0
	run -124 "$CTXRUN" --idle-timeout 500ms -t 1m -- sh -c "echo started; exec sleep $U" </dev/null
	assert_output "started
ctxrun: sh: idle for 500ms"
	[ "$SECONDS" -lt 20 ]
	assert_no_leftovers
}

@test "the idle time counts from the last output, not from the start" {
	run -124 "$CTXRUN" --idle-timeout 1s -- sh -c "echo a; sleep 0.5; echo b; sleep 0.5; echo c; exec sleep $U" </dev/null
	assert_output "a
b
c
ctxrun: sh: idle for 1s"
	assert_no_leftovers
}

@test "a talkative command is not idle, however long it runs" {
	run -0 "$CTXRUN" --idle-timeout 1s -- sh -c 'i=0; while [ $i -lt 15 ]; do echo $i; i=$((i + 1)); sleep 0.2; done' </dev/null
	assert_line 14
}

@test "output of grandchildren and of setsid escapees counts as the tree's" {
	# Each writes for longer than the idle timeout, at 0.2 s intervals:
	# far from it, on a loaded machine too.
	run -0 "$CTXRUN" --idle-timeout 1.5s -- sh -c "
		setsid sh -c 'i=0; while [ \$i -lt 12 ]; do echo esc \$i >&2; i=\$((i + 1)); sleep 0.2; done' &
		wait" </dev/null
	assert_line "esc 11"
	run -0 "$CTXRUN" --idle-timeout 1.5s -- sh -c "sh -c 'sh -c \"i=0; while [ \\\$i -lt 12 ]; do echo g\\\$i; i=\\\$((i + 1)); sleep 0.2; done\"'" </dev/null
	assert_line "g11"
}

@test "the deadline stays in force behind the idle timeout" {
	run -124 "$CTXRUN" --idle-timeout 10s -t 1s -- sh -c "while :; do echo talk; sleep 0.1; done" </dev/null
	assert_line --partial "deadline exceeded after 1s"
	refute_line --partial "idle for"
}

@test "a destination that is slow to read is not silence" {
	# 4 MB into a pipe nobody reads for 2 s: the command blocks on it, which
	# is not idleness.
	run -0 bash -c "'$CTXRUN' --idle-timeout 500ms -- head -c 4000000 /dev/zero </dev/null | { sleep 2; wc -c; }"
	assert_output 4000000
}

@test "without --idle-timeout COMMAND keeps ctxrun's own descriptors" {
	"$CTXRUN" -- sh -c 'readlink /proc/self/fd/1' >"$T/fd" </dev/null
	[ "$(cat "$T/fd")" = "$T/fd" ]
	"$CTXRUN" --idle-timeout 5s -- sh -c 'readlink /proc/self/fd/1' >"$T/fd" </dev/null
	[[ "$(cat "$T/fd")" == pipe:* ]]
}

@test "a closed stdout stays closed for the tree" {
	run -0 bash -c "'$CTXRUN' --idle-timeout 5s -- sh -c 'if echo x 2>/dev/null; then echo open >&2; else echo closed >&2; fi' >&- </dev/null"
	assert_output closed
	run -0 bash -c "'$CTXRUN' --idle-timeout 5s -- sh -c 'echo out; if echo x >&2; then echo open; fi' 2>&- </dev/null"
	assert_output out
}

@test "a reader that goes away: COMMAND gets SIGPIPE as without ctxrun, and ctxrun does not spin" {
	run bash -c "yes | head -c 2 >/dev/null; echo \${PIPESTATUS[0]}"
	local direct=$output
	run bash -c "'$CTXRUN' --idle-timeout 5s -- yes </dev/null | head -c 2 >/dev/null; echo \${PIPESTATUS[0]}"
	assert_output "$direct"
	# With PIPE ignored, the write fails with EPIPE instead.
	run bash -c "trap '' PIPE; yes 2>&1 2>$T/err | head -c 2 >/dev/null; cat $T/err"
	direct=$output
	assert_output --partial "Broken pipe"
	run bash -c "trap '' PIPE; '$CTXRUN' --idle-timeout 5s -- yes </dev/null 2>$T/err | head -c 2 >/dev/null; cat $T/err"
	assert_output "$direct"
	# The reader gone, a command that stays silent: ctxrun sleeps.
	"$CTXRUN" --idle-timeout 1m -- sh -c "trap '' PIPE; echo x; touch $T/wrote; sleep 1; echo y; touch $T/again; exec sleep $U" </dev/null 3>&- | head -c 1 >/dev/null 3>&- &
	wait_for '[ -e "$T/again" ]'
	local pid
	pid=$(pgrep -f "^$CTXRUN --idle-timeout 1m")
	local before after
	before=$(awk '{print $14 + $15}' /proc/$pid/stat)
	sleep 1
	after=$(awk '{print $14 + $15}' /proc/$pid/stat)
	[ $((after - before)) -le 5 ] || fail "ctxrun used $((after - before)) ticks in 1 s"
	kill -TERM "$pid"
	wait_for '! kill -0 $pid 2>/dev/null'
	assert_no_leftovers
}

@test "output written after COMMAND exits, by leftovers and in the grace period, is delivered" {
	run -0 "$CTXRUN" -w --idle-timeout 5s -- sh -c '(sleep 0.3; echo late) & echo early' </dev/null
	assert_output "early
late"
	# A leftover cancelled when COMMAND exits says goodbye in its grace.
	run -0 "$CTXRUN" --idle-timeout 5s -- sh -c "(trap 'echo bye; exit 0' TERM; touch $T/up; while :; do sleep 0.05; done) & while [ ! -e $T/up ]; do sleep 0.02; done; echo main" </dev/null
	assert_line --index 0 main
	assert_line bye
	# So does COMMAND ended by the idle timeout, and a big last write.
	local rc=0
	"$CTXRUN" --idle-timeout 300ms -- sh -c "trap 'head -c 200000 /dev/zero | tr \\\\0 x; echo; echo last words >&2; exit 0' TERM; echo hi; while :; do sleep 0.05; done" >"$T/out" 2>"$T/err" </dev/null || rc=$?
	[ "$rc" -eq 124 ]
	[ "$(head -1 "$T/out")" = hi ]
	[ "$(sed -n 2p "$T/out" | wc -c)" -eq 200001 ]
	grep -qx "last words" "$T/err"
	[ "$(tail -1 "$T/err")" = "ctxrun: sh: idle for 300ms" ]
}

@test "a nested ctxrun without --idle-timeout writes into its parent's relay, and counts" {
	run -0 "$CTXRUN" --idle-timeout 1s -- "$CTXRUN" -- sh -c 'for i in 1 2 3 4 5 6 7 8 9 10 11 12; do echo $i; sleep 0.2; done' </dev/null
	assert_line 12
	# Its descriptor is the outer relay's own.
	run -0 "$CTXRUN" --idle-timeout 5s -- sh -c 'readlink /proc/self/fd/1; "$CTXRUN" -- readlink /proc/self/fd/1' </dev/null
	[ "${lines[0]}" = "${lines[1]}" ]
}

@test "a nested ctxrun with its own --idle-timeout relays once more, and its idle ends it" {
	run -124 "$CTXRUN" -n outer --idle-timeout 10s -- "$CTXRUN" -n inner --idle-timeout 300ms -- sh -c "echo in; exec sleep $U" </dev/null
	assert_output "in
ctxrun: inner: idle for 300ms"
	assert_no_leftovers
}

@test "with retries, an idle attempt counts as timeout" {
	run -0 "$CTXRUN" -r 2 --retry-delay 1ms --idle-timeout 300ms -- sh -c "echo try \$CTXRUN_ATTEMPT; [ \$CTXRUN_ATTEMPT = 2 ] || exec sleep $U" </dev/null
	assert_output "try 1
ctxrun: sh: attempt 1/3 failed (idle for 300ms); retrying in 1ms
try 2"
	run -124 "$CTXRUN" -r 1 --retry-delay 1ms --retry-on 1 --idle-timeout 300ms -- sh -c "exec sleep $U" </dev/null
	assert_output "ctxrun: sh: idle for 300ms (attempt 1/2)"
	assert_no_leftovers
}

@test "-v says the idle timeout sent the first signal" {
	run -124 "$CTXRUN" -v --idle-timeout 200ms -- sleep "$U" </dev/null
	assert_line "ctxrun: sleep: sent TERM to 1 process (idle)"
	assert_line "ctxrun: sleep: idle for 200ms"
}

@test "a bad --idle-timeout is refused and nothing starts" {
	run -125 "$CTXRUN" --idle-timeout=x -- touch "$T/ran"
	assert_output --partial "ctxrun: --idle-timeout: "
	assert_output --partial "'x'"
	[ "${#lines[@]}" -eq 1 ]
	run -125 "$CTXRUN" --idle-timeout=-1s -- touch "$T/ran"
	[ ! -e "$T/ran" ]
	# 0 is no idle timeout, as -t 0 is no timeout.
	"$CTXRUN" --idle-timeout 0 -- sh -c 'readlink /proc/self/fd/1' >"$T/fd" </dev/null
	[ "$(cat "$T/fd")" = "$T/fd" ]
}

@test "through a terminal: a terminal, its size and resizes, input, Ctrl-C" {
	run pty_run limit:20 size:30x100 'expect:ready' size:40x120 "lines:$T/resized:1" 'send:hello\n' 'expect:got hello' -- \
		"$CTXRUN" --idle-timeout 10s -- sh -c "
			trap 'stty size <&1 >$T/resized' WINCH
			[ -t 1 ] && echo stdout-tty; [ -t 2 ] && echo stderr-tty >&2
			stty size <&1
			echo ready
			while [ ! -s $T/resized ]; do sleep 0.05; done
			python3 -c 'import os; print(os.get_terminal_size(1))'
			read x; echo got \$x"
	assert_line stdout-tty
	assert_line stderr-tty
	assert_line "30 100"
	assert_line "os.terminal_size(columns=120, lines=40)"
	assert_line "got hello"
	assert_line "exit 0"
	[ "$(cat "$T/resized")" = "40 120" ]
	# Ctrl-C reaches COMMAND from the keyboard, as without ctxrun.
	run pty_run limit:20 'expect:ready' 'send:\x03' -- \
		"$CTXRUN" --idle-timeout 10s -- sh -c "trap 'echo interrupted; exit 3' INT; echo ready; while :; do sleep 0.05; done"
	assert_line --partial interrupted
	assert_line "exit 3"
	refute_line --partial "pty_run:"
	assert_no_leftovers
}

@test "the terminal's modes are put back when ctxrun ends a program that changed them" {
	run pty_run limit:20 'expect:raw' 'expect:$ ' 'send:stty -a | grep -o -- "-icanon" || echo cooked\n' 'expect:cooked' 'send:exit\n' -- \
		sh -c "PS1='$ ' '$CTXRUN' --idle-timeout 500ms -- sh -c 'stty raw -echo; echo raw; exec sleep $U'; PS1='$ ' exec sh -i"
	assert_line --partial "idle for 500ms"
	refute_line "-icanon"
	refute_line --partial "pty_run:"
	assert_no_leftovers
}

@test "a reader gone before the next write: COMMAND dies of SIGPIPE, as without ctxrun" {
	run bash -c "sh -c 'echo a; sleep 1; echo b' | head -n1 >/dev/null; echo \${PIPESTATUS[0]}"
	assert_output 141
	run bash -c "'$CTXRUN' --idle-timeout 5s -- sh -c 'echo a; sleep 1; echo b' </dev/null | head -n1 >/dev/null; echo \${PIPESTATUS[0]}"
	assert_output 141
	# Gone before ctxrun even started.
	run bash -c "'$CTXRUN' --idle-timeout 5s -- sh -c 'sleep 0.5; echo a' </dev/null | true; echo \${PIPESTATUS[0]}"
	assert_output 141
}

@test "a destination that fails otherwise (a full disk) is said, and the command's next write fails" {
	run bash -c "'$CTXRUN' --idle-timeout 5s -- sh -c 'trap \"\" PIPE; echo a; sleep 0.5; echo b || echo \"write failed\" >&2' >/dev/full </dev/null"
	assert_line "ctxrun: sh: cannot pass on the command's output: No space left on device; its next write there fails with EPIPE"
	assert_line --partial "write failed"
}

@test "time stopped is not silence: stopped and continued, the run goes on" {
	setsid "$CTXRUN" --idle-timeout 1s -- sh -c "while :; do echo tick; sleep 0.1; done; sleep $U" >"$T/out" 2>&1 </dev/null 3>&- &
	local pid
	wait_for '[ "$(grep -c tick "$T/out")" -ge 3 ]'
	pid=$(pgrep -f "^$CTXRUN --idle-timeout 1s -- sh -c while")
	kill -STOP -- -"$pid"
	# Stopped for longer than the idle timeout, on purpose.
	sleep 2
	local n
	n=$(grep -c tick "$T/out")
	kill -CONT -- -"$pid"
	wait_for '[ "$(grep -c tick "$T/out")" -ge $((n + 5)) ]'
	kill -TERM "$pid"
	wait_for '! kill -0 $pid 2>/dev/null'
	run grep -c "idle for" "$T/out"
	assert_output 0
}

@test "several --idle-timeout: the shortest, as for -t; a value missing is said so" {
	run -124 "$CTXRUN" --idle-timeout 1s --idle-timeout 10s -- sleep "$U" </dev/null
	assert_output "ctxrun: sleep: idle for 1s"
	run -125 "$CTXRUN" --idle-timeout -- true
	assert_output "ctxrun: --idle-timeout: '--': not a duration (is the value missing?)"
	assert_no_leftovers
}

@test "through a terminal: input modes set through stdout (as curses does) reach the keyboard's terminal" {
	run pty_run limit:20 'expect:ready' 'send:x' 'expect:key x' -- \
		"$CTXRUN" --idle-timeout 10s -- sh -c '
			stty -icanon -echo min 1 <&1; echo ready
			k=$(dd bs=1 count=1 2>/dev/null); echo "key $k"
			stty icanon echo <&1; echo done'
	assert_line --partial "key x"
	assert_line done
	assert_line "exit 0"
	refute_line --partial "pty_run:"
}

@test "a FIFO whose reader comes back: the next write reaches the new reader, as without ctxrun" {
	mkfifo "$T/ff"
	{ head -n1 "$T/ff" >/dev/null; cat "$T/ff" >"$T/got"; } 3>&- &
	local readers=$! rc=0
	"$CTXRUN" --idle-timeout 5s -- sh -c "echo a; sleep 0.6; echo b; exit 3" >"$T/ff" </dev/null || rc=$?
	[ "$rc" -eq 3 ]
	wait "$readers"
	[ "$(cat "$T/got")" = b ]
}

@test "a SIGCONT from the tree does not make a silent tree look active" {
	run -124 "$CTXRUN" --idle-timeout 1s -t 30s -- sh -c "while :; do kill -CONT \$PPID; sleep 0.2; done" </dev/null
	assert_output "ctxrun: sh: idle for 1s"
}
