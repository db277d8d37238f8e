#!/usr/bin/env bats
# ctxrun timeout: GNU timeout's interface, compared with GNU timeout itself
# where they should agree, and ctxrun's whole-tree signalling where they
# should not.
load helper

# status_of CMD...: the $? a calling shell sees.
status_of() {
	"$@" >/dev/null 2>&1
	echo $?
}

# same ARGS...: GNU timeout and ctxrun timeout give the calling shell the
# same status for these arguments.
same() {
	local gnu ours
	gnu=$(status_of timeout "$@")
	ours=$(status_of "$CTXRUN" timeout "$@")
	[ "$gnu" = "$ours" ] || fail "timeout $*: GNU $gnu, ctxrun $ours"
}

@test "exit statuses agree with GNU timeout" {
	same 5 true
	same 5 false
	same 5 sh -c 'exit 42'
	same 0.2 sleep 5
	same --preserve-status 0.2 sleep 5
	same -s KILL 0.2 sleep 5
	same -k 0.3 0.2 sh -c "trap '' TERM; sleep 5"
	same -s 0 0.2 sleep 1
	same 5 /nonexistent
	same 5 /
	same 0 true
	same 5 sh -c 'kill -USR1 $$'
}

@test "durations as GNU reads them: floats, hex, inf, one suffix" {
	for d in 0.2 0x1p-2 .2s 0.004m 1e-400 " 0.2"; do
		run -124 "$CTXRUN" timeout "$d" sleep $U
	done
	for d in inf 1d 1e9 0; do
		run -0 "$CTXRUN" timeout "$d" true
	done
	for d in -1 1x nan 1ss "" "1 " 5ms; do
		run -125 "$CTXRUN" timeout -- "$d" true
		assert_output "timeout: invalid time interval '$d'
$TRY"
		same -- "$d" true
	done
	assert_no_leftovers
}

@test "a negative duration is refused even when it underflows to -0" {
	# coreutils' timeout-parameters.sh; GNU 9.1 accepted it, 9.11 does not.
	run -125 "$CTXRUN" timeout ' -1e-10000' sleep 0
	assert_output "timeout: invalid time interval ' -1e-10000'
$TRY"
	run -125 "$CTXRUN" timeout -k -1e-400 1 sleep 0
	# A plain negative zero is zero: no limit.
	for d in -0 -0.0 -0x0p0 -0e5 -0s -0d; do
		run -0 "$CTXRUN" timeout -- "$d" true
		same -- "$d" true
	done
	# A positive underflow still times out.
	run -124 "$CTXRUN" timeout 1e-10000 sleep $U
	run -124 "$CTXRUN" timeout 1e-10000d sleep $U
	# Huge values are clamped; negative huge ones refused.
	run -0 "$CTXRUN" timeout 1e400 true
	run -125 "$CTXRUN" timeout -- -1e400 true
	assert_no_leftovers
}

@test "signals by name or number, with or without SIG, any case" {
	for s in TERM sigterm SigTerm 15 INT 9 0 RTMIN+1; do
		run "$CTXRUN" timeout -s "$s" 5 true
		assert_success
	done
	run -125 "$CTXRUN" timeout -s FOO 5 true
	assert_output "timeout: 'FOO': invalid signal
$TRY"
	same -s FOO 5 true
}

@test "-s takes what GNU's operand2sig takes, and refuses the rest" {
	# EXIT is 0; leading zeros; 128+N and 256+N (a shell's $?) are N;
	# SIG before a number; RTMIN/RTMAX with what strtol reads as offset.
	for s in EXIT exit SIGEXIT 0015 00000000000000000009 143 271 128 256 \
	    SIG15 sig0015 Sig64 sigrtmin+1 RTMIN RTMIN1 "RTMIN 1" RTMIN+01 \
	    RTMIN-0 RTMIN+30 RTMAX-0 RTMAX+0 RTMAX-30 SIGRTMAX-30 64 IOT CLD \
	    POLL IO STKFLT PWR; do
		run -0 "$CTXRUN" timeout -s "$s" 5 true
		same_output -s "$s" 5 true
	done
	# 32 and 33 are glibc's own, 65 is past RTMAX.
	for s in 32 33 65 127 255 383 4294967311 -1 +1 " 1" "15 " 1x 0x1 -0 \
	    "" SIG SIG32 SIG65 SIGSIG15 EXIT0 UNUSED RTMIN+ RTMIN+31 \
	    "RTMIN+ 1" RTMIN-1 RTMAX+1 RTMAX1 SIGRTMAX-31; do
		run -125 "$CTXRUN" timeout -s "$s" 5 true
		same_output -s "$s" 5 true
	done
	run -125 "$CTXRUN" timeout -s 32 5 true
	assert_output "timeout: '32': invalid signal
$TRY"
}

@test "-s 0 at the limit signals nothing: COMMAND runs to its end, status 124" {
	# GNU 9.1 and 9.11 say 124 here (the limit was reached), and the
	# command is started and finishes all the same.
	run -124 "$CTXRUN" timeout -s 0 0.000001 sh -c "sleep 0.2; touch '$T/ran'"
	[ -e "$T/ran" ] || fail "COMMAND was not run to its end"
	run -0 "$CTXRUN" timeout -p -s 0 0.000001 sh -c 'sleep 0.1'
	same -s 0 0.000001 sh -c 'sleep 0.1'
}

@test "--verbose names signals as GNU's sig2str: EXIT, POLL, RTMAX-n" {
	# needs supervisor change: report_signal() in lib/supervise.c must
	# use gnu_signal_name() and gnu_quote() in GNU mode.
	run -137 "$CTXRUN" timeout -v -s 0 -k 0.2 0.1 sleep $U
	assert_output "timeout: sending signal EXIT to command 'sleep'
timeout: sending signal KILL to command 'sleep'"
	run -124 "$CTXRUN" timeout -v -s IO 0.1 sleep $U
	assert_output "timeout: sending signal POLL to command 'sleep'"
	run -124 "$CTXRUN" timeout -v -s 50 0.1 sleep $U
	assert_output "timeout: sending signal RTMAX-14 to command 'sleep'"
	ln -s "$(command -v sleep)" "$T/it's"
	run -124 env LC_ALL=C "$CTXRUN" timeout -v 0.1 "$T/it's" $U
	assert_output "timeout: sending signal TERM to command '$T/it\\'s'"
	assert_no_leftovers
}

@test "failure to run COMMAND: quoted as GNU quotes it" {
	# needs supervisor change: the "failed to run command" message in
	# lib/supervise.c must quote argv[0] with gnu_quote().
	run -127 "$CTXRUN" timeout 5 "no'such"
	assert_output "timeout: failed to run command 'no\\'such': No such file or directory"
	same_output 5 "no'such"
}

# same_output ARGS...: GNU timeout and ctxrun timeout print the same
# diagnostics and exit with the same status, in the C locale.
same_output() {
	local gnu ours
	gnu=$(LC_ALL=C timeout "$@" 2>&1 >/dev/null; echo "status $?")
	ours=$(LC_ALL=C "$CTXRUN" timeout "$@" 2>&1 >/dev/null; echo "status $?")
	[ "$gnu" = "$ours" ] || fail "timeout $*:
GNU:
$gnu
ctxrun:
$ours"
}

TRY="Try 'timeout --help' for more information."

@test "bad usage: GNU's message then its Try line, 125" {
	# No operand, or DURATION alone: the Try line only, and DURATION is
	# not even read.
	for args in "" 5 abc; do
		run -125 "$CTXRUN" timeout $args
		assert_output "$TRY"
	done
	run -125 "$CTXRUN" timeout --bogus 5 true
	assert_output "timeout: unrecognized option '--bogus'
$TRY"
	run -125 "$CTXRUN" timeout -k
	assert_output "timeout: option requires an argument -- 'k'
$TRY"
	run -125 "$CTXRUN" timeout -x 5 true
	assert_output "timeout: invalid option -- 'x'
$TRY"
	run -125 "$CTXRUN" timeout --sig
	assert_output "timeout: option '--signal' requires an argument
$TRY"
	run -125 "$CTXRUN" timeout --ver=1
	assert_output "timeout: option '--ver=1' is ambiguous; possibilities: '--verbose' '--version'
$TRY"
	run -125 "$CTXRUN" timeout 1x true
	assert_output "timeout: invalid time interval '1x'
$TRY"
	run -125 "$CTXRUN" timeout -s FOO 5 true
	assert_output "timeout: 'FOO': invalid signal
$TRY"
	for args in "" 5 abc "--bogus=1 5 true" "-k" "-x 5 true" "--sig" "--ver=1" \
	    "--kill 1 true" "-k 1x 1 true" "--kill-after= 1 true" "-s" "-vs" \
	    "1x true" "-s FOO 5 true"; do
		same_output $args
	done
}

@test "a long option given a value it does not take is named in full" {
	run -125 "$CTXRUN" timeout --foreground=1 5 true
	assert_output "timeout: option '--foreground' doesn't allow an argument
$TRY"
	run -125 "$CTXRUN" timeout --fore=1 5 true
	assert_output "timeout: option '--foreground' doesn't allow an argument
$TRY"
	for args in "--foreground=1 5 true" "--verbose=3 5 true" "--he=x" \
	    "--preserve-status=1 1 true" "--foregroundx 5 true"; do
		same_output $args
	done
	# Abbreviations that are not ambiguous work.
	run -0 "$CTXRUN" timeout --fore --pres --verb --sig=TERM --kill=1 5 true
}

@test "arguments in messages are quoted as GNU's quote() does in the C locale" {
	run -125 env LC_ALL=C "$CTXRUN" timeout "'1" true
	assert_output "timeout: invalid time interval '\\'1'
$TRY"
	run -125 env LC_ALL=C "$CTXRUN" timeout "10€" true
	assert_output "timeout: invalid time interval '10\\342\\202\\254'
$TRY"
	run -125 "$CTXRUN" timeout -s "$(printf 'a\tb\\c')" 1 true
	assert_output "timeout: 'a\\tb\\\\c': invalid signal
$TRY"
	run -125 "$CTXRUN" timeout ""  true
	assert_output "timeout: invalid time interval ''
$TRY"
	# Every byte but NUL, against GNU.
	local i b
	for ((i = 1; i < 256; i++)); do
		printf -v b "\\$(printf %03o $i)"
		same_output "x${b}y" true
	done
	same_output -s "$(printf '\a\b\t\n\v\f\r\033 ?"`$')" 1 true
}

@test "messages name the program as GNU does: by argv[0], never ctxrun" {
	ln -s "$CTXRUN" "$T/timeout"
	run -125 "$T/timeout" -x
	assert_output "$T/timeout: invalid option -- 'x'
Try '$T/timeout --help' for more information."
	run -125 "$T/timeout" 1
	assert_output "Try '$T/timeout --help' for more information."
	for args in "" "1" "-x" "--bogus" "1x true" "-s 32 1 true" "--foreground=1 5 true"; do
		run "$CTXRUN" timeout $args
		refute_output --partial ctxrun
		run "$T/timeout" $args
		refute_output --partial ctxrun
	done
}

@test "--verbose says what GNU says" {
	run -124 "$CTXRUN" timeout -v 0.2 sleep $U
	assert_output "timeout: sending signal TERM to command 'sleep'"
	run -137 "$CTXRUN" timeout -v -k 0.2 0.2 sh -c "trap '' TERM; sleep $U"
	assert_output "timeout: sending signal TERM to command 'sh'
timeout: sending signal KILL to command 'sh'"
	assert_no_leftovers
}

@test "options stop at the first operand; -f and -p are short options" {
	run -0 "$CTXRUN" timeout 5 sh -c 'echo "$@"' sh -v -k 1
	assert_output "-v -k 1"
	run -143 "$CTXRUN" timeout -p 0.2 sleep $U
	run -124 "$CTXRUN" timeout -f 0.2 sleep $U
	assert_no_leftovers
}

@test "invoked through a link named timeout, ctxrun is timeout" {
	ln -s "$CTXRUN" "$T/timeout"
	run -124 "$T/timeout" -v 0.2 sleep $U
	# GNU names itself by its argv[0], path and all.
	assert_output "$T/timeout: sending signal TERM to command 'sleep'"
	run "$T/timeout" --version
	assert_output --partial "timeout (ctxrun)"
	assert_no_leftovers
}

@test "at the time limit the whole tree is signalled, unlike GNU timeout" {
	run -124 "$CTXRUN" timeout 0.3 sh -c "setsid sleep $U >/dev/null 2>&1 & (setsid sleep $U >/dev/null 2>&1 &); sleep $U"
	assert_no_leftovers
}

@test "leftovers are left alone when COMMAND exits on its own, as GNU does" {
	run -3 "$CTXRUN" timeout 10 sh -c "sleep $U >/dev/null 2>&1 & exit 3"
	[ "$(count_leftovers)" -eq 1 ] || fail "the leftover was touched"
}

@test "-k after a timeout: KILL reaches stragglers of the tree too" {
	run -124 "$CTXRUN" timeout -k 0.3 0.2 sh -c "setsid sh -c \"trap '' TERM; sleep $U\" >/dev/null 2>&1 & exec sleep $U"
	assert_no_leftovers
}

@test "a signal received is passed to the tree, and is not a timeout" {
	run exit_of --ready "$T/ready" --send TERM "$CTXRUN" timeout 10 sh -c "touch '$T/ready'; exec sleep $U"
	assert_output "signal SIGTERM"
	rm -f "$T/ready"
	# The job exists before the signal: one forked after it would not get
	# it (nor would it with GNU timeout's kill(0)).
	run exit_of --ready "$T/ready" --send USR1 "$CTXRUN" timeout 10 sh -c "trap 'exit 7' USR1; sleep $U >/dev/null 2>&1 & touch '$T/ready'; wait"
	# The job's child may still be sh when USR1 comes, and sh may then
	# say "User defined signal 1" of it: the shell's line, not timeout's.
	[ "${lines[-1]}" = "exit 7" ] || fail "$output"
	rm -f "$T/ready"
	# An external ALRM is a timeout.
	run exit_of --ready "$T/ready" --send ALRM "$CTXRUN" timeout 10 sh -c "touch '$T/ready'; exec sleep $U"
	assert_output "exit 124"
	assert_no_leftovers
}

@test "a caller that blocked ALRM or ignores CHLD, or ignores the -s signal" {
	run exit_of --block ALRM "$CTXRUN" timeout 0.2 sleep $U
	assert_output "exit 124"
	run exit_of --ignore CHLD "$CTXRUN" timeout 0.2 sleep $U
	assert_output "exit 124"
	run exit_of --ignore USR1 "$CTXRUN" timeout -s USR1 0.2 sleep $U
	assert_output "exit 124"
	assert_no_leftovers
}

@test "TTIN and TTOU: ignored by timeout, at their default for COMMAND" {
	run "$CTXRUN" timeout 5 grep ^SigIgn /proc/self/status
	ign=$(awk '{print $2}' <<<"$output")
	(( (0x$ign & ((1 << 20) | (1 << 21))) == 0 )) || fail "COMMAND ignores TTIN/TTOU: $output"
}

@test "timeout killed with KILL: COMMAND still gets the -s signal" {
	assert_told_when_killed timeout -s USR2 60
}

@test "as PID 1 of a new PID namespace, without its own /proc" {
	run -124 unshare --pid --fork "$CTXRUN" timeout 0.3 sh -c "setsid sleep $U >/dev/null 2>&1 & sleep $U"
	assert_no_leftovers
	run -124 unshare --pid --fork "$CTXRUN" -q -t 0.3 -- sh -c "setsid sleep $U >/dev/null 2>&1 & sleep $U"
	assert_no_leftovers
}

@test "a failed write of --help or --version: GNU's one line, 125, never ctxrun:" {
	run -125 sh -c '"$CTXRUN" timeout --help >/dev/full'
	assert_output "timeout: write error: No space left on device"
	ln -s "$CTXRUN" "$T/timeout"
	run -125 sh -c '"$T/timeout" --version >&-'
	assert_output --regexp "^$T/timeout: write error"
}
