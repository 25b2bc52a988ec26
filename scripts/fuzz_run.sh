#!/usr/bin/env bash
# `make fuzz`: runs every libFuzzer target given as argument with the test
# matrix's F1 budget (stop after FUZZ_RUNS inputs or FUZZ_TIME seconds,
# -timeout=2 -rss_limit_mb=512 -max_len=65535), FUZZ_JOBS targets at a time
# (default: the CPU count).  Each target fuzzes its seed corpus
# tests/fuzz/corpus/NAME plus build-fuzz/corpus-fuzz_NAME (new inputs), with
# tests/fuzz/NAME.dict when there is one; its log is build-fuzz/fuzz_NAME.log.
# Prints one line per finished target (runs, seconds); on any failure prints
# the end of that target's log and exits 1 after the running ones finish.
set -eu

FUZZ_TIME="${FUZZ_TIME:-20}"
FUZZ_RUNS="${FUZZ_RUNS:-1000000}"
FUZZ_JOBS="${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}"
[ "$FUZZ_JOBS" -ge 1 ] 2>/dev/null || FUZZ_JOBS=1

echo "fuzz: $# targets, each up to $FUZZ_RUNS inputs or $FUZZ_TIME s," \
	"$FUZZ_JOBS at a time"

one() {
	f=$1
	n=$(basename "$f")
	c=tests/fuzz/corpus/${n#fuzz_}
	d=tests/fuzz/${n#fuzz_}.dict
	mkdir -p "build-fuzz/corpus-$n"
	t0=$(date +%s)
	set -- "$f" -runs="$FUZZ_RUNS" -max_total_time="$FUZZ_TIME" -timeout=2 \
		-rss_limit_mb=512 -max_len=65535 -print_final_stats=0
	[ -f "$d" ] && set -- "$@" -dict="$d"
	if ASAN_OPTIONS=quarantine_size_mb=64 "$@" "build-fuzz/corpus-$n" "$c" \
		>"build-fuzz/$n.log" 2>&1; then
		runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "build-fuzz/$n.log" | tail -n 1)
		echo "fuzz: $n ok, ${runs:-?} runs in $(($(date +%s) - t0)) s"
		return 0
	fi
	echo "fuzz: $n FAILED after $(($(date +%s) - t0)) s; end of build-fuzz/$n.log:"
	tail -n 40 "build-fuzz/$n.log"
	return 1
}

# Up to FUZZ_JOBS targets at once; every exit code is collected (wait -n).
total=$#
fail=0
running=0
for f in "$@"; do
	if [ "$running" -ge "$FUZZ_JOBS" ]; then
		wait -n || fail=1
		running=$((running - 1))
	fi
	one "$f" &
	running=$((running + 1))
done
while [ "$running" -gt 0 ]; do
	wait -n || fail=1
	running=$((running - 1))
done
if [ "$fail" -ne 0 ]; then
	echo "fuzz: FAILED"
	exit 1
fi
echo "fuzz: all $total targets clean"
