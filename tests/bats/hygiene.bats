#!/usr/bin/env bats
# COMMAND gets exactly what it would without ctxrun.
load helper

@test "arguments byte for byte" {
	args=("" " " "a b" $'new\nline' $'\t' '*' '$HOME' $'\377\001' -- --help -t)
	show='for a; do printf "[%s]" "$a"; done'
	want=$(sh -c "$show" sh "${args[@]}" | od -c)
	run sh -c '"$CTXRUN" -- sh -c "$1" sh "${@:2}" | od -c' _ "$show" "${args[@]}"
	got=$("$CTXRUN" -- sh -c "$show" sh "${args[@]}" | od -c)
	[ "$got" = "$want" ] || fail "got $got, want $want"
}

@test "the same open file descriptors, none of ctxrun's" {
	# The shell lists its own descriptors, with no pipeline of its own that
	# would open some while it looks (that made an earlier version flaky).
	list='cd /proc/$$/fd && echo *'
	want=$(sh -c "$list" 7</dev/null 9>"$T/f")
	got=$("$CTXRUN" -- sh -c "$list" 7</dev/null 9>"$T/f")
	[ "$got" = "$want" ] || fail "got '$got', want '$want'"
	got=$("$CTXRUN" -t 10 -- "$CTXRUN" -- sh -c "$list" 7</dev/null 9>"$T/f")
	[ "$got" = "$want" ] || fail "nested: got '$got', want '$want'"
}

@test "the caller's signal mask and ignored signals" {
	status='grep -E "^Sig(Blk|Ign)" /proc/self/status'
	want=$(exit_of --block ALRM,USR2 --ignore QUIT,INT,PIPE sh -c "$status")
	got=$(exit_of --block ALRM,USR2 --ignore QUIT,INT,PIPE "$CTXRUN" -t 10 -- sh -c "$status")
	[ "$got" = "$want" ] || fail "got $got, want $want"
	grep -q 'SigBlk:.*[^0]' <<<"$want"
}

@test "the same environment apart from the context variables" {
	want=$(env -i A=1 'B=two words' PATH="$PATH" env | sort)
	got=$(env -i A=1 'B=two words' PATH="$PATH" "$CTXRUN" -- env | grep -v '^CTXRUN_' | sort)
	[ "$got" = "$want" ] || fail "got $got, want $want"
	run env -i PATH="$PATH" "$CTXRUN" -- env
	assert_line --regexp '^CTXRUN_DEPTH=1$'
	assert_line --regexp '^CTXRUN_1=name=env pid=[0-9]+ token=[0-9a-f]{32} grace=10\.000000000$'
	[ "${#lines[@]}" -eq 3 ]
}

@test "COMMAND's process group: its own, or ctxrun's with --foreground" {
	run "$CTXRUN" -- sh -c 'echo $$ $(ps -o pgid= -p $$)'
	read -r pid pgid <<<"$output"
	[ "$pid" = "$pgid" ] || fail "expected a group of its own: $output"
	run "$CTXRUN" --foreground -- sh -c 'echo $(ps -o pgid= -p $$)'
	[ "$output" -eq "$(ps -o pgid= -p $$)" ] || fail "expected the caller's group"
}

@test "a low open-file limit: raised for ctxrun, the caller's for COMMAND" {
	run bash -c 'ulimit -Sn 12; "$CTXRUN" -t 0.5 -- sh -c "ulimit -n; for i in \$(seq 1 40); do sleep $U & done; wait"'
	assert_failure 124
	assert_line --index 0 12
	assert_no_leftovers
}

@test "an open-file limit too low to work with: one line, 125, nothing started" {
	run bash -c 'ulimit -n 10; "$CTXRUN" -- touch "$T/started"'
	assert_failure 125
	assert_output "ctxrun: the limit of 10 open files is too low to supervise a tree (16 needed)"
	[ ! -e "$T/started" ]
}

@test "closed standard descriptors: ctxrun works, and COMMAND finds them closed as the caller left them" {
	# Once ctxrun's own descriptors took those numbers: its signalfd read
	# as stdin by --replay-stdin, forever.
	cat > "$T/cmd" <<-EOF
		r=
		for fd in 0 1 2; do [ -e /proc/\$\$/fd/\$fd ] && r="\$r \$fd"; done
		echo "open:\$r" > $T/fds
		exec sleep $U
	EOF
	run -124 /usr/bin/timeout -s KILL 20 sh -c 'exec "$CTXRUN" -v -t 0.3 -- sh "$T/cmd" <&- >&- 2>&-'
	[ "$(cat "$T/fds")" = "open:" ] || fail "COMMAND's $(cat "$T/fds")"
	assert_no_leftovers
}
