# fish completion for ctxrun

set -l subcommands remaining deadline value show cancel retry timeout

# __ctxrun_operands SKIP OPTION...: where the operands are among the words
# typed after the first SKIP (1-based, one per line); each OPTION takes a
# value.  After '--' every word is one, the word being typed included.
function __ctxrun_operands
    set -l with_value $argv[2..-1]
    set -l tokens (commandline -opc)
    set -e tokens[1..$argv[1]]
    set -l skip 0
    set -l rest 0
    set -l i 0
    for t in $tokens
        set i (math $i + 1)
        if test $rest = 1
            echo $i
        else if test $skip = 1
            set skip 0
        else if test "$t" = '--'
            set rest 1
        else if contains -- $t $with_value
            set skip 1
        else if not string match -q -- '-*' $t
            echo $i
        end
    end
    test $rest = 1; and math $i + 1
end

# Where COMMAND starts among the words after "ctxrun", or failure while
# the options are still being typed.
function __ctxrun_command_index
    set -l ops (__ctxrun_operands 1 -t -d -s -k -e -u -n -r --timeout --deadline \
        --signal --kill-after --env --unset --value --name --retries \
        --attempt-timeout --retry-on --retry-delay --retry-max-delay --idle-timeout \
        --on-timeout --on-timeout-limit --warn --report)
    test (count $ops) -gt 0; and echo $ops[1]
end

function __ctxrun_in_options
    not __ctxrun_command_index >/dev/null
end

# COMMAND and its own arguments, as sudo's completion does.
function __ctxrun_command
    set -l i (__ctxrun_command_index); or return
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l rest
    if test $i -le (count $tokens)
        set rest $tokens[$i..-1]
    end
    __fish_complete_subcommand --commandline "$rest "(commandline -ct)
end

complete -c ctxrun -f
complete -c ctxrun -n '__ctxrun_in_options; and test (count (commandline -opc)) -eq 1' -a "$subcommands"
complete -c ctxrun -n __ctxrun_in_options -a '(__fish_complete_command)'
complete -c ctxrun -n 'not __ctxrun_in_options; and not __fish_seen_subcommand_from remaining deadline value show cancel retry timeout' -a '(__ctxrun_command)'

complete -c ctxrun -n __ctxrun_in_options -s t -l timeout -x -d 'Done after DURATION'
complete -c ctxrun -n __ctxrun_in_options -s d -l deadline -x -d 'Done at TIME (RFC 3339 or @EPOCH)'
complete -c ctxrun -n __ctxrun_in_options -s s -l signal -x -a 'HUP INT QUIT ILL TRAP ABRT BUS FPE KILL USR1 SEGV USR2 PIPE ALRM TERM STKFLT CHLD CONT STOP TSTP TTIN TTOU URG XCPU XFSZ VTALRM PROF WINCH IO PWR SYS RTMIN RTMAX' -d 'First signal sent when done'
complete -c ctxrun -n __ctxrun_in_options -s k -l kill-after -x -d 'Grace before KILL'
complete -c ctxrun -n __ctxrun_in_options -s e -l env -x -a '(set -xn | string replace -r "\$" "=")' -d 'Set an environment variable'
complete -c ctxrun -n __ctxrun_in_options -s u -l unset -x -a '(set -xn)' -d 'Remove an environment variable'
complete -c ctxrun -n __ctxrun_in_options -l value -x -d 'Attach KEY=VALUE to the context'
complete -c ctxrun -n __ctxrun_in_options -s n -l name -x -d "The context's name"
complete -c ctxrun -n __ctxrun_in_options -s w -l wait -d 'Let the tree finish when COMMAND exits'
complete -c ctxrun -n __ctxrun_in_options -l preserve-status -d "Exit with COMMAND's status when done"
complete -c ctxrun -n __ctxrun_in_options -l foreground -d "Keep COMMAND in ctxrun's process group"
complete -c ctxrun -n __ctxrun_in_options -s r -l retries -x -d 'Up to N more attempts when COMMAND fails'
complete -c ctxrun -n __ctxrun_in_options -l attempt-timeout -x -d "Each attempt's own deadline"
complete -c ctxrun -n __ctxrun_in_options -l retry-on -x -a 'timeout signal any' -d 'What is retried'
complete -c ctxrun -n __ctxrun_in_options -l retry-delay -x -d 'First wait between attempts'
complete -c ctxrun -n __ctxrun_in_options -l retry-max-delay -x -d 'Longest wait between attempts'
complete -c ctxrun -n __ctxrun_in_options -l idle-timeout -x -d 'Done after this long without output'
complete -c ctxrun -n __ctxrun_in_options -l on-timeout -x -d 'Shell command run before the tree is signalled'
complete -c ctxrun -n __ctxrun_in_options -l on-timeout-limit -x -d 'How long the hook may take'
complete -c ctxrun -n __ctxrun_in_options -l warn -x -a 'USR1@ USR2@ INT@ TERM@ HUP@ ALRM@ QUIT@ WINCH@' -d 'SIG@DURATION: SIG to COMMAND before the deadline'
complete -c ctxrun -n __ctxrun_in_options -l no-retry-jitter -d 'Wait exactly the delay'
complete -c ctxrun -n __ctxrun_in_options -l replay-stdin -d 'Read stdin once, give each attempt its bytes'
# Its MARGIN is optional and only after '=': nothing to offer for it.
complete -c ctxrun -n __ctxrun_in_options -l job-deadline -d "Done MARGIN before the CI job's end"
complete -c ctxrun -n __ctxrun_in_options -l report -r -F -d 'Append a JSON line on the run to FILE'
complete -c ctxrun -n __ctxrun_in_options -s v -l verbose -d 'Report every signal sent'
complete -c ctxrun -n __ctxrun_in_options -s q -l quiet -d 'Say nothing when the context ends COMMAND'
complete -c ctxrun -n __ctxrun_in_options -s h -l help -d 'Show help'
complete -c ctxrun -n __ctxrun_in_options -l version -d 'Show the version'

complete -c ctxrun -n '__fish_seen_subcommand_from remaining' -l ms -d 'Whole milliseconds'
complete -c ctxrun -n '__fish_seen_subcommand_from deadline' -l epoch -d 'Seconds since the epoch'
complete -c ctxrun -n '__fish_seen_subcommand_from show' -l json -d 'As JSON'
complete -c ctxrun -n '__fish_seen_subcommand_from cancel' -l cause -x -d 'The cause reported'
complete -c ctxrun -n '__fish_seen_subcommand_from retry' -l never -d 'This failure is final'
complete -c ctxrun -n '__fish_seen_subcommand_from retry' -l after -x -d 'The wait before the next attempt'
complete -c ctxrun -n '__fish_seen_subcommand_from retry' -l cause -x -d 'Why the failure is final'
complete -c ctxrun -n '__fish_seen_subcommand_from cancel' -l status -x -d 'Exit status of the enclosing ctxrun'

# ctxrun timeout: GNU timeout's options, DURATION, then COMMAND and its own.
function __ctxrun_timeout_state
    set -l ops (__ctxrun_operands 2 -s -k --signal --kill-after)
    switch (count $ops)
        case 0
            echo options
        case 1
            echo name
        case '*'
            echo command $ops[2]
    end
end

function __ctxrun_timeout_command
    set -l state (string split " " -- (__ctxrun_timeout_state))
    set -l tokens (commandline -opc)
    set -e tokens[1..2]
    switch $state[1]
        case name
            __fish_complete_command
        case command
            __fish_complete_subcommand --commandline "$tokens[$state[2]..-1] "(commandline -ct)
    end
end

set -l in_timeout '__fish_seen_subcommand_from timeout; and test "$(__ctxrun_timeout_state)" = options'
complete -c ctxrun -n '__fish_seen_subcommand_from timeout' -a '(__ctxrun_timeout_command)'
complete -c ctxrun -n $in_timeout -s s -l signal -x -a 'HUP INT QUIT KILL USR1 USR2 PIPE ALRM TERM CONT STOP' -d 'Signal sent at the time limit'
complete -c ctxrun -n $in_timeout -s k -l kill-after -x -d 'Also send KILL after DURATION'
complete -c ctxrun -n $in_timeout -s p -l preserve-status -d "Exit with COMMAND's status"
complete -c ctxrun -n $in_timeout -s f -l foreground -d 'No process group of its own'
complete -c ctxrun -n $in_timeout -s v -l verbose -d 'Report each signal sent'
