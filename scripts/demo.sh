#!/bin/sh
# make demo: runs every built bot once in standalone mode on its example
# job file (loopback targets only) and prints the values it measured as
# "path value timestamp" lines.
set -eu
O=${1:-build}
ran=0
for bot in pingbot snmpbot netflowbot apibot; do
	jobs=examples/${bot%bot}-jobs.json
	[ -x "$O/$bot" ] && [ -f "$jobs" ] || continue
	setup=examples/${bot%bot}-demo-setup.sh
	echo "== $bot --jobs $jobs --once --output stdout"
	if [ -f "$setup" ]; then
		# A bot whose targets need a local daemon (snmpd, an exporter)
		# starts it here and stops it when the demo ends.
		sh "$setup" "$O/$bot" "$jobs"
	else
		"$O/$bot" --jobs "$jobs" --once --output stdout
	fi
	ran=$((ran + 1))
done
if [ "$ran" = 0 ]; then
	echo "demo: no bot is built yet" >&2
	exit 1
fi
