#!/bin/sh
# Runs every benchmark: the common microbenchmarks, then each bot's
# side-by-side comparison (scripts/bench_<bot>.sh) when that bot is built.
# Results go to stdout; BENCHMARKS.md records them with this command.
set -eu
O=${1:-build}
echo "== common microbenchmarks"
for b in "$O"/tests/bench_*; do
	[ -x "$b" ] && "$b"
done
for s in scripts/bench_*.sh; do
	[ -f "$s" ] || continue
	name=$(basename "$s" .sh)
	name=${name#bench_}
	# bench_<x>.sh compares <x>bot; bench_jobs.sh measures job loading
	# (with pingbot).
	bot=${name}bot
	[ "$name" = jobs ] && bot=pingbot
	if [ -x "$O/$bot" ]; then
		echo "== $name ($bot)"
		sh "$s" "$O"
	fi
done
