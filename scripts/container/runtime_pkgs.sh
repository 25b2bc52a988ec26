#!/bin/sh
# Prints, one a line, the Debian packages that own the shared libraries a
# binary loads (ldd), so a bot's image installs exactly those.  Used in the
# Dockerfile's build stage: scripts/container/runtime_pkgs.sh build/pingbot
set -eu

for lib in $(ldd "$1" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
	# Debian 12 registers some libraries under /lib, others under
	# /usr/lib (merged /usr): ask for both spellings.
	case "$lib" in
	/usr/*) alt="${lib#/usr}" ;;
	*) alt="/usr$lib" ;;
	esac
	dpkg -S "$lib" 2>/dev/null || dpkg -S "$alt" 2>/dev/null || {
		echo "runtime_pkgs: no package owns $lib" >&2
		exit 1
	}
done | sed 's/:.*//; s/, /\n/g' | sort -u
