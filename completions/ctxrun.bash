# bash completion for ctxrun                               -*- shell-script -*-

# Signal names with and without SIG, as --signal takes them.
_ctxrun_signals()
{
    local s
    for s in $(compgen -A signal); do
        printf '%s %s ' "$s" "${s#SIG}"
    done
}

_ctxrun()
{
    local cur prev words cword split
    _init_completion -s || return

    local subcommands="remaining deadline value show cancel retry timeout"
    local opts_with_arg="-t --timeout -d --deadline -s --signal -k --kill-after
        -e --env -u --unset --value -n --name -r --retries --attempt-timeout
        --retry-on --retry-delay --retry-max-delay --idle-timeout --on-timeout
        --on-timeout-limit --warn --report"

    # --opt=VALUE as the first word is split into prev and cur: a value.
    if ((cword == 1)) && [[ $cur != -* && $split != true ]]; then
        COMPREPLY=($(compgen -W "$subcommands" -- "$cur"))
        compopt -o default 2>/dev/null
        COMPREPLY+=($(compgen -c -- "$cur" | sort -u))
        return
    fi

    case ${words[1]} in
        remaining) ((cword == 2)) && COMPREPLY=($(compgen -W '--ms' -- "$cur")); return ;;
        deadline) ((cword == 2)) && COMPREPLY=($(compgen -W '--epoch' -- "$cur")); return ;;
        show) ((cword == 2)) && COMPREPLY=($(compgen -W '--json' -- "$cur")); return ;;
        value) return ;;
        timeout)
            # GNU timeout's options, then DURATION, then COMMAND and its own.
            local j nonopt=0
            for ((j = 2; j < cword; j++)); do
                case ${words[j]} in
                    -s | --signal | -k | --kill-after) ((j++)) ;;
                    -*) ;;
                    *)
                        ((++nonopt == 2)) && { _command_offset $j; return; }
                        ;;
                esac
            done
            if ((nonopt == 1)); then
                COMPREPLY=($(compgen -c -- "$cur"))
                return
            fi
            case $prev in
                -s | --signal)
                    COMPREPLY=($(compgen -W "$(_ctxrun_signals)" -- "$cur"))
                    return
                    ;;
                -k | --kill-after) return ;;
            esac
            [[ $cur == -* ]] && COMPREPLY=($(compgen -W '-s --signal= -k --kill-after= -p
                --preserve-status -f --foreground -v --verbose --help --version' -- "$cur"))
            [[ ${COMPREPLY-} == *= ]] && compopt -o nospace
            return
            ;;
        cancel)
            [[ $prev == --cause || $prev == --status ]] && return
            COMPREPLY=($(compgen -W '--cause --status' -- "$cur"))
            return
            ;;
        retry)
            [[ $prev == --cause || $prev == --after ]] && return
            COMPREPLY=($(compgen -W '--never --after --cause' -- "$cur"))
            return
            ;;
    esac

    # Past the options: complete COMMAND, then COMMAND's own arguments.
    local i
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
            --)
                _command_offset $((i + 1))
                return
                ;;
            -*=*) ;;
            -t | --timeout | -d | --deadline | -s | --signal | -k | --kill-after | \
                -e | --env | -u | --unset | --value | -n | --name | -r | --retries | \
                --attempt-timeout | --retry-on | --retry-delay | --retry-max-delay | \
                --idle-timeout | --on-timeout | --on-timeout-limit | --warn | --report)
                ((i++))
                ;;
            -*) ;;
            *)
                _command_offset $i
                return
                ;;
        esac
    done

    case $prev in
        -s | --signal)
            COMPREPLY=($(compgen -W "$(_ctxrun_signals)" -- "$cur"))
            return
            ;;
        -u | --unset)
            COMPREPLY=($(compgen -e -- "$cur"))
            return
            ;;
        -e | --env)
            COMPREPLY=($(compgen -e -S = -- "$cur"))
            compopt -o nospace
            return
            ;;
        --retry-on)
            COMPREPLY=($(compgen -W 'timeout signal any' -- "$cur"))
            return
            ;;
        --warn)
            # SIG@DURATION: the signal, then the duration is typed.
            COMPREPLY=($(compgen -W "$(_ctxrun_signals)" -S @ -- "$cur"))
            compopt -o nospace
            return
            ;;
        --report)
            _filedir
            return
            ;;
        -t | --timeout | -d | --deadline | -k | --kill-after | --value | -n | --name | \
            -r | --retries | --attempt-timeout | --retry-delay | --retry-max-delay | \
            --idle-timeout | --on-timeout | --on-timeout-limit)
            return
            ;;
    esac

    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W '-t --timeout= -d --deadline= -s --signal= -k
            --kill-after= -e --env= -u --unset= --value= -n --name= -w --wait
            --preserve-status --foreground -r --retries= --attempt-timeout=
            --retry-on= --retry-delay= --retry-max-delay= --no-retry-jitter
            --replay-stdin --idle-timeout= --job-deadline --on-timeout=
            --on-timeout-limit= --warn= --report=
            -v --verbose -q --quiet -h --help --version --' -- "$cur"))
        [[ ${COMPREPLY-} == *= ]] && compopt -o nospace
        return
    fi
    COMPREPLY=($(compgen -c -- "$cur"))
} &&
    complete -F _ctxrun ctxrun

# ex: filetype=sh
