#!/bin/sh
# make demo for apibot: serves examples/api-demo/ with python3 -m
# http.server on a free loopback port, points a copy of the job file at it
# and runs apibot once.  Usage: api-demo-setup.sh BOT JOBS
set -eu
bot=$1
jobs=$2
dir=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server --bind 127.0.0.1 --directory examples/api-demo "$port" \
	>"$dir/http.log" 2>&1 &
srv=$!
trap 'kill $srv 2>/dev/null; rm -rf "$dir"' EXIT
# Wait until it answers.
i=0
until python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/stats.json', timeout=1)" 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 50 ] || { echo "demo: http.server did not start" >&2; exit 1; }
	sleep 0.1
done
sed "s,http://127.0.0.1:8080/,http://127.0.0.1:$port/," "$jobs" >"$dir/jobs.json"
JOBS_FIRST_RUN_SPREAD_MS=0 "$bot" --jobs "$dir/jobs.json" --once --output stdout
