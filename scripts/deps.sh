#!/bin/sh
# Installs the Debian packages the build, tests, demo and benchmarks need.
# Run as root it installs what is missing (running apt-get update first,
# once); otherwise it prints the exact apt-get line to run.
set -eu

PACKAGES="${DEPS_PACKAGES:-build-essential pkg-config python3 \
libcurl4-openssl-dev libjson-c-dev libsnmp-dev libpcap-dev liboping-dev \
libjq-dev libmicrohttpd-dev libcap-dev softflowd nfdump tcpdump snmpsim \
python3-slugify prometheus nghttp2-server \
snmpd snmp fping iproute2 procps libcap2-bin \
clang libclang-rt-14-dev clang-format cppcheck valgrind}"

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
	    grep -q '^install ok installed$'; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	echo "deps: missing Debian packages; run as root:" >&2
	echo "  apt-get update && apt-get install -y$missing" >&2
	exit 1
fi

echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
# Debian starts daemons on install where it can; the tests start their own.
