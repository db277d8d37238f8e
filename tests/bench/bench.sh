#!/bin/sh
# make bench: ctxrun and GNU timeout side by side, in one run, alternating,
# on the same machine.  Prints each figure for both and the ratio.
set -eu
CTXRUN=$1
TIMEIT=$2
RUNS=${BENCH_RUNS:-500}
tag=$$

# ratio A B: A/B with two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print (a == 0 ? "1.00" : "inf"); else printf "%.2f", a / b }'; }
row() { printf '%-44s %12s %12s %7s   %s\n' "$@"; }

echo "ctxrun $("$CTXRUN" --version | cut -d' ' -f2) vs $(timeout --version | head -1), $(nproc) cores, $RUNS runs"
row "figure" "ctxrun" "timeout" "ratio" "target"

# timeit prints 7 fields per command: median p10 p90 maxrss cpu vcsw ivcsw.

# 1 and 5: start-up of a trivial command, and peak resident memory.
set -- $("$TIMEIT" "$RUNS" "$CTXRUN" -t 10 -- /bin/true --- timeout 10 /bin/true)
c_med=$1 c_rss=$4 t_med=$8 t_rss=${11}
row "-t 10 -- /bin/true, median wall (us)" "$c_med" "$t_med" "$(ratio "$c_med" "$t_med")" "<= 0.75"

# 2: how long past a 0.2 s deadline until exit.
set -- $("$TIMEIT" 21 "$CTXRUN" -q -t 0.2 -- sleep 10 --- timeout 0.2 sleep 10)
c_late=$(($1 - 200000)) t_late=$(($8 - 200000))
row "-t 0.2 -- sleep 10, past deadline (us)" "$c_late" "$t_late" "$(ratio "$c_late" "$t_late")" "<= 1.00"

# 3: a 300-process tree, 100 of them in sessions of their own.  Building it
# takes about 2 s here: the deadline, 5 s, finds it complete and idle.
tree="exec >/dev/null 2>&1; for i in \$(seq 1 100); do setsid sleep 4$tag & sleep 4$tag & sleep 4$tag & done; wait"
c_tot=0 t_tot=0 c_surv=0 t_surv=0
for i in 1 2 3 4 5; do
	set -- $("$TIMEIT" 1 "$CTXRUN" -q -t 5 -- sh -c "$tree")
	c_tot=$((c_tot + $1 - 5000000))
	c_surv=$((c_surv + $(pgrep -c -f "sleep 4$tag" || true)))
	pkill -KILL -f "sleep 4$tag" || true
	set -- $("$TIMEIT" 1 timeout 5 sh -c "$tree")
	t_tot=$((t_tot + $1 - 5000000))
	sleep 0.2	# let the survivors finish starting before they are counted
	t_surv=$((t_surv + $(pgrep -c -f "sleep 4$tag" || true)))
	pkill -KILL -f "sleep 4$tag" || true
done
row "300-process tree, deadline to exit (us)" "$((c_tot / 5))" "$((t_tot / 5))" "$(ratio "$c_tot" "$t_tot")" "<= 1.20"
row "300-process tree, survivors per run" "$((c_surv / 5))" "$((t_surv / 5))" "" "0"

# 4: a sleeping command, measured while it sleeps (after start-up).
watch() {
	"$@" 3>&- &
	pid=$!
	sleep 0.5
	a=$(awk '{print $14 + $15}' /proc/$pid/stat)
	av=$(awk '/ctxt_switches/ {s += $2} END {print s}' /proc/$pid/status)
	sleep 2
	b=$(awk '{print $14 + $15}' /proc/$pid/stat)
	bv=$(awk '/ctxt_switches/ {s += $2} END {print s}' /proc/$pid/status)
	wait $pid || true
	echo "$((b - a)) $((bv - av))"
}
set -- $(watch "$CTXRUN" -t 10 -- sleep 3) $(watch timeout 10 sleep 3)
row "sleeping command: CPU ticks while it sleeps" "$1" "$3" "" "0"
row "sleeping command: context switches meanwhile" "$2" "$4" "" "<= timeout"
set -- $("$TIMEIT" 5 "$CTXRUN" -t 10 -- sleep 0.3 --- timeout 10 sleep 0.3)
c_sw=$(awk -v a="$6" -v b="$7" 'BEGIN { print a + b }')
t_sw=$(awk -v a="${13}" -v b="${14}" 'BEGIN { print a + b }')
row "sleeping command: switches per whole run" "$c_sw" "$t_sw" "$(ratio "$c_sw" "$t_sw")" "(start-up incl.)"

# 6: an 8-deep nest, from the outer deadline (0.3 s) until the outer
# process exits, having reaped everything.  GNU timeout may leave
# processes behind: counted, then killed, so that they do not weigh on the
# next figures.
nest_c="$CTXRUN -q -t 0.3 --" nest_t="timeout 0.3"
for i in 2 3 4 5 6 7 8; do
	nest_c="$nest_c $CTXRUN -q --"
	nest_t="$nest_t timeout 100"
done
NEST_RUNS=${BENCH_NEST_RUNS:-15}
set -- $("$TIMEIT" "$NEST_RUNS" $nest_c sleep 5$tag --- $nest_t sleep 5$tag)
c_nest=$(($1 - 300000)) t_nest=$(($8 - 300000))
sleep 0.2	# let the survivors, if any, be counted
nest_surv=$(pgrep -c -f "sleep 5$tag" || true)
pkill -KILL -f "sleep 5$tag" || true
row "8-deep nest, deadline to all reaped (us)" "$c_nest" "$t_nest" "$(ratio "$c_nest" "$t_nest")" "<= 1.00"
row "8-deep nest, survivors after $NEST_RUNS+$NEST_RUNS runs" "$nest_surv" "(both)" "" "0"

# 6b: the same nest through shells that do not exec (sh -c 'ctxrun ...; :'):
# every level is a ctxrun in its own shell, and ends its own subtree.
# GNU's outer timeout kills one shell and exits: the levels below it
# survive (counted).
lvl=$(mktemp)
cat > "$lvl" <<-EOS
	n=\$1; shift
	if [ "\$n" -gt 0 ]; then "\$@" sh "$lvl" \$((n - 1)) "\$@"; else sleep 5$tag; fi
	:
EOS
set -- $("$TIMEIT" "$NEST_RUNS" $CTXRUN -q -t 0.3 -- sh "$lvl" 7 $CTXRUN -q -- \
	--- timeout 0.3 sh "$lvl" 7 timeout 100)
c_shnest=$(($1 - 300000)) t_shnest=$(($8 - 300000))
sleep 0.2
shnest_surv=$(pgrep -c -f "sleep 5$tag" || true)
pkill -KILL -f "sleep 5$tag" || true
pkill -KILL -f "timeout 100 sh $lvl" || true
rm -f "$lvl"
row "8-deep nest of shells, deadline to exit (us)" "$c_shnest" "$t_shnest" "$(ratio "$c_shnest" "$t_shnest")" "<= 1.00"
row "8-deep nest of shells, survivors after $NEST_RUNS+$NEST_RUNS runs" "$shnest_surv" "(both)" "" "0"

# 7: retries, against Debian's retry(1): 50 attempts of false, no delay.
set -- $("$TIMEIT" 30 "$CTXRUN" -q -r 49 --retry-delay 0 -- false --- retry -t 50 -d 0 -- false 2>/dev/null)
row "50 attempts of false, no delay (us)" "$1" "$8" "$(ratio "$1" "$8")" "<= 0.80 (retry(1))"

row "peak resident memory (KiB)" "$c_rss" "$t_rss" "$(ratio "$c_rss" "$t_rss")" "<= 1.10"

# 8: the output relay of --idle-timeout.  Throughput of 2 GiB from head to
# cat through it, against the same pipeline without ctxrun (the target is
# on the throughput, the inverse of these times); the CPU the relay costs
# the whole pipeline per GiB (ctxrun's own, and the extra wake-ups of head
# and cat); what a line written alone gains in latency.
RELAY_RUNS=${BENCH_RELAY_RUNS:-5}
set -- $("$TIMEIT" "$RELAY_RUNS" sh -c "'$CTXRUN' --idle-timeout 1m -- head -c 2G /dev/zero | cat >/dev/null" \
	--- sh -c "head -c 2G /dev/zero | cat >/dev/null")
row "2 GiB through the relay, median wall (us)" "$1" "$8" "$(ratio "$8" "$1")" ">= 0.95 (throughput)"
tick_ms=$((1000 / $(getconf CLK_TCK)))
row "relay CPU per GiB, whole pipeline (ms)" "$(($5 * tick_ms / RELAY_RUNS / 2))" "$((${12} * tick_ms / RELAY_RUNS / 2))" \
	"$(ratio "$5" "${12}")" "(extra = the relay's)"
latency=$(dirname "$0")/latency.py
set -- $("$CTXRUN" --idle-timeout 1m -- python3 "$latency" write 2000 | python3 "$latency" read) \
	$(python3 "$latency" write 2000 | python3 "$latency" read)
row "a line's latency, median (us)" "$1" "$3" "+$(($1 - $3))" "(direct pipe)"
row "a line's latency, 99th percentile (us)" "$2" "$4" "+$(($2 - $4))" "(direct pipe)"
