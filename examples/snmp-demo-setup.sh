#!/bin/sh
# make demo, snmpbot: starts Debian's snmpd on a free loopback port with a
# config of its own (community "public"), points a copy of the example job
# file at that port, runs snmpbot once and stops snmpd again.
# Usage: snmp-demo-setup.sh BOT JOBS
set -eu
bot=$1
jobs=$2
command -v snmpd >/dev/null || { echo "snmpd is not installed (apt-get install snmpd)" >&2; exit 1; }
dir=$(mktemp -d /tmp/snmp-demo.XXXXXX)
port=$(python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$dir/snmpd.conf" <<CONF
agentAddress udp:127.0.0.1:$port
rocommunity public 127.0.0.1
load 12 10 5
sysservices 72
CONF
SNMP_PERSISTENT_DIR=$dir/persist snmpd -f -Lf "$dir/snmpd.log" -C -c "$dir/snmpd.conf" \
	-p "$dir/snmpd.pid" -M /nonexistent -m "" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
i=0
until snmpget -v2c -c public -t 0.5 -r 0 "127.0.0.1:$port" 1.3.6.1.2.1.1.7.0 >/dev/null 2>&1; do
	i=$((i + 1))
	[ "$i" -lt 40 ] || { echo "snmpd did not start" >&2; exit 1; }
	sleep 0.25
done
sed "s/\"port\": 1161/\"port\": $port/" "$jobs" >"$dir/jobs.json"
# --once polls once: counters (Traffic IN) need two samples, so only the
# gauges and the load thresholds show here.
"$bot" --jobs "$dir/jobs.json" --once --output stdout
