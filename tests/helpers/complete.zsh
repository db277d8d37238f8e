#!/bin/zsh -f
# complete.zsh LINE...: what zsh's completion system offers after typing
# each LINE and TAB in one interactive zsh (driven through zpty), each
# answer after a line "=== N" (N from 1).  One zsh for all: compinit alone
# takes most of a second.
zmodload zsh/zpty
dir=${0:A:h}/../../completions
zpty z zsh -f -i
zpty -w z "PS1='%% '; fpath=($dir \$fpath); autoload -U compinit; compinit -u -D; LISTMAX=1000; print -r READY\$((1+1))"
out=
while zpty -r -t z chunk; do out+=$chunk; done
for i in {1..100}; do
	[[ $out == *READY2* ]] && break
	sleep 0.05
	while zpty -r -t z chunk; do out+=$chunk; done
done
# What comes until the output has settled: something came, then nothing
# for 0.2 s.
settle() {
	out=
	local quiet=0 i
	for i in {1..100}; do
		sleep 0.05
		if zpty -r -t z chunk; then
			out+=$chunk
			while zpty -r -t z chunk; do out+=$chunk; done
			quiet=0
		elif [[ -n $out ]] && (( ++quiet >= 4 )); then
			break
		fi
	done
}
n=0
for line in "$@"; do
	zpty -w -n z "$line"$'\t'
	settle
	print -r -- "=== $((++n))"
	print -r -- "$out"
	# Ctrl-C: the line and any listing are given up, a new prompt comes.
	zpty -w -n z $'\x03'
	settle
done
zpty -d z
