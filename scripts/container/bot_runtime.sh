#!/bin/sh
# Run inside a bot's image stage (Dockerfile), as root:
#   bot_runtime.sh install BOT [PACKAGE...]  installs the packages listed in
#       /usr/local/share/grafolean-bots/BOT.pkgs (scripts/container/
#       runtime_pkgs.sh wrote them in the build stage) plus PACKAGEs;
#   bot_runtime.sh purge PACKAGE...           removes packages again;
# both leave no apt lists, caches or logs behind.
set -eu

clean() {
	apt-get clean
	rm -rf /var/lib/apt/lists/* /var/log/apt /var/log/dpkg.log \
		/var/cache/debconf/*-old /var/lib/dpkg/*-old
}

export DEBIAN_FRONTEND=noninteractive
case "${1:-}" in
install)
	bot="$2"
	shift 2
	# Only what is missing: naming an installed package would upgrade
	# it, a second copy of it in this layer.
	want=""
	for p in $(cat "/usr/local/share/grafolean-bots/$bot.pkgs") "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
			grep -q '^install ok installed$' || want="$want $p"
	done
	if [ -n "$want" ]; then
		apt-get update -qq
		# shellcheck disable=SC2086
		apt-get install -y -qq --no-install-recommends $want >/dev/null
	fi
	clean
	;;
purge)
	shift
	apt-get purge -y -qq --auto-remove "$@" >/dev/null
	clean
	;;
*)
	echo "usage: $0 install BOT [PACKAGE...] | purge PACKAGE..." >&2
	exit 2
	;;
esac
