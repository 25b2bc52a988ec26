#!/bin/sh
# Prints, one a line, the Debian packages that own the shared libraries a
# binary loads (ldd, and those it opens itself), so a bot's image installs exactly those.  Used in the
# Dockerfile's build stage: scripts/container/runtime_pkgs.sh build/pingbot
set -eu

# Libraries a bot opens itself (dlopen by soname, e.g. libmicrohttpd for
# the Prometheus endpoint: common/mhdlib.c) are named in the binary as
# text; ldconfig says where each one is.
opened() {
	grep -ao 'lib[a-z0-9_+-]*\.so\.[0-9][0-9.]*' "$1" | sort -u |
		while read -r so; do
			ldconfig -p | awk -v so="$so" '$1 == so { print $NF; exit }'
		done
}

for lib in $({ ldd "$1" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'; opened "$1"; } | sort -u); do
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
