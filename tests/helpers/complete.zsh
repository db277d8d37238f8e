#!/bin/zsh -f
# complete.zsh LINE: what zsh's completion system offers after typing LINE
# and TAB in an interactive zsh (driven through zpty).
zmodload zsh/zpty
dir=${0:A:h}/../../completions
zpty z zsh -f -i
zpty -w z "PS1='%% '; fpath=($dir \$fpath); autoload -U compinit; compinit -u -D; LISTMAX=1000; print -r READY\$((1+1))"
out=
while zpty -r -t z chunk; do out+=$chunk; done
for i in {1..50}; do
	[[ $out == *READY2* ]] && break
	sleep 0.1
	while zpty -r -t z chunk; do out+=$chunk; done
done
zpty -w -n z "$1"$'\t'
# Until the output has settled: something came, then nothing for 0.2 s.
out=
quiet=0
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
print -r -- "$out"
zpty -d z
