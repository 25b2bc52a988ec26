#!/bin/sh
# Builds the debian:12-slim base image the Dockerfile starts from, without
# an image registry: debootstrap (minbase, bookworm) from the Debian mirror
# that this machine's own apt sources name, with those sources and apt
# settings copied in so apt-get works during `docker build`, then
# `docker import`.  Does nothing when the image exists (FORCE=1 rebuilds).
#
# Usage: scripts/container/base_image.sh [IMAGE]   (default debian:12-slim)
set -eu

IMAGE="${1:-debian:12-slim}"
SUITE=bookworm

if [ "${FORCE:-0}" != 1 ] && docker image inspect "$IMAGE" >/dev/null 2>&1; then
	echo "base: $IMAGE present"
	exit 0
fi

# The files apt itself reads: sources.list and sources.list.d/*.list
# (one-line format), sources.list.d/*.sources (deb822).
apt_source_files() {
	[ -f /etc/apt/sources.list ] && echo /etc/apt/sources.list
	for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] && echo "$f"
	done
	return 0
}

# Prints the first http(s) URI whose suites include $SUITE itself.
find_mirror() {
	for f in $(apt_source_files); do
		case "$f" in
		*.sources)
			awk -v suite="$SUITE" '
			function flush() {
				if (uris != "" && index(" " suites " ", " " suite " ") &&
				    types ~ /(^| )deb( |$)/) { split(uris, u, " "); print u[1]; exit }
				uris = ""; suites = ""; types = ""
			}
			/^[ \t]*#/ { next }
			/^[ \t]*$/ { flush(); next }
			tolower($1) == "types:" { $1 = ""; types = $0 }
			tolower($1) == "uris:" { $1 = ""; sub(/^ +/, ""); uris = $0 }
			tolower($1) == "suites:" { $1 = ""; suites = $0 }
			tolower($1) == "enabled:" && tolower($2) == "no" { types = "" }
			END { flush() }' "$f"
			;;
		*)
			awk -v suite="$SUITE" '
			$1 == "deb" {
				i = 2
				if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
				if ($(i + 1) == suite) { print $i; exit }
			}' "$f"
			;;
		esac
	done | grep -E '^https?://' | head -n 1
}

MIRROR="$(find_mirror)"
if [ -z "$MIRROR" ]; then
	echo "base: no Debian $SUITE mirror in this machine's apt sources" >&2
	exit 1
fi
echo "base: debootstrap --variant=minbase $SUITE from $MIRROR (read from the apt sources)"

ROOT="$(mktemp -d /tmp/deploy-base.XXXXXX)"
chmod 755 "$ROOT"  # the image's /, and apt's _apt user must enter it
trap 'rm -rf "$ROOT"' EXIT INT TERM

debootstrap --variant=minbase "$SUITE" "$ROOT" "$MIRROR" >"$ROOT.log" 2>&1 || {
	tail -n 30 "$ROOT.log" >&2
	rm -f "$ROOT.log"
	exit 1
}
rm -f "$ROOT.log"

# This machine's sources and settings, so apt-get works in the build.
rm -f "$ROOT/etc/apt/sources.list"
mkdir -p "$ROOT/etc/apt/sources.list.d" "$ROOT/etc/apt/apt.conf.d" \
	"$ROOT/etc/apt/trusted.gpg.d" "$ROOT/usr/share/keyrings"
for f in $(apt_source_files); do
	case "$f" in
	/etc/apt/sources.list) cp "$f" "$ROOT/etc/apt/sources.list" ;;
	*) cp "$f" "$ROOT/etc/apt/sources.list.d/" ;;
	esac
	# Keyrings the entries name (Signed-By / signed-by=).
	for k in $(sed -n 's/.*[Ss]igned-[Bb]y[:=] *\([^] ]*\).*/\1/p' "$f"); do
		[ -f "$k" ] && mkdir -p "$ROOT$(dirname "$k")" && cp "$k" "$ROOT$k"
	done
done
cp -r /etc/apt/apt.conf.d/. "$ROOT/etc/apt/apt.conf.d/"
if [ -d /etc/apt/trusted.gpg.d ]; then
	cp -r /etc/apt/trusted.gpg.d/. "$ROOT/etc/apt/trusted.gpg.d/"
fi

# The updates and security fixes those sources carry (debootstrap takes
# the release as it was), as the published image has them.
chroot "$ROOT" sh -c 'export DEBIAN_FRONTEND=noninteractive;
	apt-get update -qq && apt-get -y -qq upgrade' >"$ROOT.log" 2>&1 || {
	tail -n 30 "$ROOT.log" >&2
	rm -f "$ROOT.log"
	echo "base: apt-get upgrade in the new root failed" >&2
	exit 1
}
rm -f "$ROOT.log"

# Slim like the published image: no documentation, manuals or locales in
# any package installed later, and no caches.
cat >"$ROOT/etc/dpkg/dpkg.cfg.d/slim" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
CFG
rm -rf "$ROOT"/usr/share/doc/* "$ROOT"/usr/share/man/* \
	"$ROOT"/usr/share/info/* "$ROOT"/usr/share/locale/* \
	"$ROOT"/var/lib/apt/lists/* "$ROOT"/var/cache/apt/*.bin \
	"$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/log/*.log

tar -C "$ROOT" -c . | docker import \
	-c 'CMD ["bash"]' \
	-c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
	-m "debootstrap --variant=minbase $SUITE" - "$IMAGE" >/dev/null
echo "base: imported $IMAGE ($(docker image inspect -f '{{.Size}}' "$IMAGE") bytes)"
