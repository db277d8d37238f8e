#!/bin/sh
# run-bats.sh NAME WORKERS U_BASE BATS-OPTION... -- FILE...: runs the bats
# files with WORKERS workers side by side, each taking the next file, the
# largest first (the scenarios mostly wait, so two workers keep about one
# core busy each); every worker marks its processes apart (U_BASE, see
# tests/bats/helper.bash).  Prints each file's output in the order given,
# under build/NAME/, and fails if any file failed.
set -u
name=$1 workers=$2 base=$3
shift 3
opts=
while [ "$1" != -- ]; do opts="$opts $1"; shift; done
shift
dir=build/$name
rm -rf "$dir"
mkdir -p "$dir/claimed"
# The queue: largest file first.
stat -c '%s %n' "$@" | sort -rn | awk '{ print $2 }' > "$dir/queue"
worker() {
	w=$1
	while read -r f; do
		# The first worker to make the directory takes the file.
		mkdir "$dir/claimed/$(basename "$f")" 2>/dev/null || continue
		# A job started with & ignores INT and QUIT; ctxrun would keep
		# them ignored, and the scenarios of Ctrl-C would fail.
		U_BASE=$((base + w * 125000)) env --default-signal=INT,QUIT \
			bats $opts "$f" > "$dir/$(basename "$f").log" 2>&1
		echo $? > "$dir/$(basename "$f").rc"
	done < "$dir/queue"
}
i=0
while [ $i -lt "$workers" ]; do
	worker $i &
	i=$((i + 1))
done
wait
status=0
for f in "$@"; do
	b=$(basename "$f")
	echo "-- $b"
	cat "$dir/$b.log"
	[ "$(cat "$dir/$b.rc" 2>/dev/null)" = 0 ] || status=1
done
exit $status
