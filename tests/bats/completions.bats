#!/usr/bin/env bats
# The completions, each in its real shell: bash with bash-completion, zsh
# with compinit (typed into an interactive zsh through zpty), fish with
# complete -C.
load helper

bash_complete() { "$HELPERS/complete.bash" "$@"; }
# zsh_complete LINE...: zsh's answer to each LINE and TAB, in $T/zsh.N
# (one zsh for all of them).
zsh_complete() {
	zsh -f "$HELPERS/complete.zsh" "$@" | tr -d '\r\a\b' | sed 's/\x1b\[[0-9;]*[A-Za-z]//g' |
		awk -v dir="$T" '/^=== [0-9]+$/ { f = dir "/zsh." $2; next } f { print > f }'
}
fish_complete() {
	# A home of its own: no user configuration, but fish's own completions.
	HOME=$T XDG_CONFIG_HOME=$T fish -c "source '$BATS_TEST_DIRNAME/../../completions/ctxrun.fish'; complete -C '$1'"
}

@test "bash: options, values, subcommands, then the command and its arguments" {
	run bash_complete ctxrun --ti
	assert_output "--timeout="
	run bash_complete ctxrun --preserve
	assert_output "--preserve-status"
	run bash_complete ctxrun -s TE
	assert_line TERM
	run bash_complete ctxrun --signal SIGK
	assert_line SIGKILL
	run bash_complete ctxrun rem
	assert_line remaining
	run bash_complete ctxrun remaining --
	assert_output "--ms"
	run bash_complete ctxrun deadline --
	assert_output "--epoch"
	run bash_complete ctxrun show --
	assert_output "--json"
	run bash_complete ctxrun cancel --
	assert_output "--cause
--status"
	run bash_complete ctxrun ret
	assert_line retry
	run bash_complete ctxrun retry --
	assert_output "--after
--cause
--never"
	run bash_complete ctxrun --retry-on ti
	assert_output "timeout"
	run bash_complete ctxrun -r 3 --retry-on any -- ls --al
	assert_line --all
	run bash_complete ctxrun --idle-timeout 1m gre
	assert_line grep
	run bash_complete ctxrun --warn US
	assert_line USR1@
	run bash_complete ctxrun --on-timeout 'echo hi' --warn USR1@1s gre
	assert_line grep
	run bash_complete ctxrun -t 5 -- ls --al
	assert_line --all
	run bash_complete ctxrun -t 5 ls --al
	assert_line --all
	run bash_complete ctxrun -t 5 gre
	assert_line grep
	run bash_complete ctxrun --job-dead
	assert_output "--job-deadline"
	run bash_complete ctxrun --job-deadline=10s gre
	assert_line grep
	run bash_complete ctxrun --job-deadline gre
	assert_line grep
	run bash_complete ctxrun timeout -s KI
	assert_line KILL
	run bash_complete ctxrun timeout --pres
	assert_output "--preserve-status"
	run bash_complete ctxrun timeout 5 ls --al
	assert_line --all
	touch "$T/report.jsonl"
	run bash_complete ctxrun --report "$T/repo"
	assert_output "$T/report.jsonl"
	run bash_complete ctxrun --report="$T/repo"
	assert_output "$T/report.jsonl"
	run bash_complete ctxrun --report "$T/report.jsonl" gre
	assert_line grep
}

@test "zsh: options, values, subcommands, then the command and its arguments" {
	touch "$T/report.jsonl"
	zsh_complete \
		'ctxrun --ti' \
		'ctxrun -s TE' \
		'ctxrun rem' \
		'ctxrun show --j' \
		'ctxrun remaining --' \
		'ctxrun -- ls --al' \
		'ctxrun -t 5 ls --al' \
		'ctxrun --retry-d' \
		'ctxrun --idle' \
		'ctxrun --on-timeout-l' \
		'ctxrun --job-d' \
		'ctxrun --job-deadline=10s ls --al' \
		'ctxrun retry --n' \
		'ctxrun timeout --ver' \
		'ctxrun timeout -k 1 5 ls --al' \
		"ctxrun --report=$T/repo"
	run cat "$T/zsh.1"
	assert_output --partial "ctxrun --timeout="
	run cat "$T/zsh.2"
	assert_output --partial "ctxrun -s TERM"
	run cat "$T/zsh.3"
	assert_output --partial "remaining  -- print the time left"
	run cat "$T/zsh.4"
	assert_output --partial "ctxrun show --json"
	run cat "$T/zsh.5"
	assert_output --partial "ctxrun remaining --ms"
	run cat "$T/zsh.6"
	assert_output --partial "--almost-all"
	run cat "$T/zsh.7"
	assert_output --partial "--almost-all"
	run cat "$T/zsh.8"
	assert_output --partial "ctxrun --retry-delay="
	run cat "$T/zsh.9"
	assert_output --partial "ctxrun --idle-timeout="
	run cat "$T/zsh.10"
	assert_output --partial "ctxrun --on-timeout-limit="
	run cat "$T/zsh.11"
	assert_output --partial "ctxrun --job-deadline"
	run cat "$T/zsh.12"
	assert_output --partial "--almost-all"
	run cat "$T/zsh.13"
	assert_output --partial "ctxrun retry --never"
	run cat "$T/zsh.14"
	assert_output --partial "--verbose  -- report each signal sent"
	run cat "$T/zsh.15"
	assert_output --partial "--almost-all"
	run cat "$T/zsh.16"
	assert_output --partial "ctxrun --report=$T/report.jsonl"
}

@test "fish: options, values, subcommands, then the command and its arguments" {
	run fish_complete 'ctxrun --ti'
	assert_output --regexp '^--timeout'
	run fish_complete 'ctxrun -s TE'
	assert_line --regexp '^TERM'
	run fish_complete 'ctxrun rem'
	assert_line --regexp '^remaining'
	run fish_complete 'ctxrun show --j'
	assert_output --regexp '^--json'
	run fish_complete 'ctxrun cancel --st'
	assert_output --regexp '^--status'
	run fish_complete 'ctxrun retry --ne'
	assert_output --regexp '^--never'
	run fish_complete 'ctxrun --replay'
	assert_output --regexp '^--replay-stdin'
	run fish_complete 'ctxrun --idle-timeout 1m gre'
	assert_line --regexp '^grep'
	run fish_complete 'ctxrun --on-timeout-limit 1s --warn USR1@1s gre'
	assert_line --regexp '^grep'
	run fish_complete 'ctxrun --job-d'
	assert_output --regexp '^--job-deadline'
	# Its optional MARGIN is not a word of its own: then comes COMMAND.
	run fish_complete 'ctxrun --job-deadline gre'
	assert_line --regexp '^grep'
	run fish_complete 'ctxrun -r 2 --retry-delay 1s gre'
	assert_line --regexp '^grep'
	run fish_complete 'ctxrun -t 5 -- ls --al'
	assert_line --regexp '^--all'
	run fish_complete 'ctxrun -t 5 gre'
	assert_line --regexp '^grep'
	run fish_complete 'ctxrun timeout --pre'
	assert_output --regexp '^--preserve-status'
	run fish_complete 'ctxrun timeout 5 ls --al'
	assert_line --regexp '^--all'
	touch "$T/report.jsonl"
	run fish_complete "ctxrun --report $T/repo"
	assert_output "$T/report.jsonl"
	run fish_complete "ctxrun --report $T/report.jsonl gre"
	assert_line --regexp '^grep'
}

@test "every long option of --help is completed by all three shells" {
	for o in $("$CTXRUN" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
		for f in ctxrun.bash _ctxrun ctxrun.fish; do
			grep -q -- "${o#--}" "$BATS_TEST_DIRNAME/../../completions/$f" ||
				fail "$o is not in completions/$f"
		done
		grep -q -- "${o#--}" "$BATS_TEST_DIRNAME/../../cmd/ctxrun.1" || fail "$o is not in the man page"
	done
}
