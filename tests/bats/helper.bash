# Shared by every scenario: assertions, the binary under test, and a marker
# that finds whatever a test's process tree left behind.
bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

# A failed tree kill must fail the test, not hang the suite.
export BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-60}

CTXRUN=${CTXRUN:-$BATS_TEST_DIRNAME/../../build/ctxrun}
HELPERS=$BATS_TEST_DIRNAME/../helpers
export CTXRUN
# The scenarios' own context must not leak in from an enclosing ctxrun
# (all of it: a level without its depth is refused), nor a CI
# configuration's job deadline (see jobdeadline.bats).
for v in $(compgen -e); do
	case $v in CTXRUN_*) unset "$v" ;; esac
done
unset v

common_setup() {
	# Every long-lived process a test starts is "sleep $U": U is unique to
	# this test, so leftovers are found by their command line.
	# U_BASE keeps two passes of the suite, run side by side, apart.
	U=$((7000000 + ${U_BASE:-0} + BATS_TEST_NUMBER * 1000 + $$ % 1000))
	export U
	T=$BATS_TEST_TMPDIR
	export T
}

common_teardown() {
	pkill -KILL -f "sleep $U" 2>/dev/null || true
}

setup() { common_setup; }
teardown() { common_teardown; }

# How many processes of this test are still alive (zombies included).
count_leftovers() {
	pgrep -c -f "sleep $U" || true
}

assert_no_leftovers() {
	local n
	n=$(count_leftovers)
	[ "$n" -eq 0 ] || {
		ps -o pid,ppid,pgid,sid,stat,args -p "$(pgrep -d, -f "sleep $U")" >&2
		fail "$n process(es) of the tree survived"
	}
}

# wait_for CONDITION: polls a shell condition for up to 20 s.
wait_for() {
	local i
	for ((i = 0; i < 1000; i++)); do
		eval "$1" && return 0
		sleep 0.02
	done
	fail "timed out waiting for: $1"
}

# exit_of CMD...: "exit N" or "signal NAME", as a parent sees the wait status.
exit_of() {
	python3 "$HELPERS/exit_of.py" "$@"
}

# assert_told_when_killed CTXRUN-ARGS...: starts "$CTXRUN ARGS... sh -c ...",
# whose COMMAND notes USR2; kills ctxrun with KILL; COMMAND must be told.
assert_told_when_killed() {
	"$CTXRUN" "$@" sh -c "trap 'touch $T/told; exit' USR2; sleep $U & touch '$T/ready'; wait" 3>&- &
	local pid=$!
	wait_for '[ -e "$T/ready" ]'
	kill -KILL $pid
	wait_for '[ -e "$T/told" ]'
	pkill -KILL -f "sleep $U" || true
}
