#!/bin/bash
# complete.bash WORD...: what bash-completion offers for "WORD..." (the last
# word is the one being completed), one candidate per line.
source /usr/share/bash-completion/bash_completion
source "$(dirname "$0")/../../completions/ctxrun.bash"
COMP_WORDS=("$@")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMP_LINE="$*"
COMP_POINT=${#COMP_LINE}
COMPREPLY=()
# _command_offset calls compopt, which only works inside real completion.
compopt() { :; }
_ctxrun ctxrun "${COMP_WORDS[-1]}" "${COMP_WORDS[-2]}"
printf '%s\n' "${COMPREPLY[@]}" | sort -u
