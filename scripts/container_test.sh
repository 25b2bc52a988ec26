#!/bin/sh
# The container test (`make container-test`): real images and containers,
# loopback and host networking only.
#
#  1. dockerd: uses the running one, or starts its own (no bridge, no
#     iptables: containers get host networking or none) and stops only
#     that one at the end;
#  2. the debian:12-slim base, built once with debootstrap from the Debian
#     mirror of this machine's apt sources (scripts/container/base_image.sh);
#  3. one image per bot (Dockerfile target = bot), tagged grafolean-<bot>:test,
#     its size over the base printed;
#  4. tests/container/test_images.py against the fake backend (each image;
#     pingbot also through both compose files, on the host's network);
#  5. `docker-compose config -q` on every compose file;
#  6. `make install DESTDIR=...` into a temporary directory, checked;
#  7. `systemd-analyze verify` (and `security`) on the installed units,
#     when systemd-analyze exists.
# Every container, compose project and volume is named deploy-ct-<pid>-...
# and removed; no network is created; images stay (the build cache makes
# the next run fast).
set -eu

BOTS="${BOTS:-pingbot}"
PYTHON="${PYTHON:-python3}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TMP="$(mktemp -d /tmp/deploy-ct.XXXXXX)"
OWN_DOCKERD=""
T0=$(date +%s)

say() { echo "container-test: $*"; }

cleanup() {
	rc=$?
	for c in $(docker ps -aq --filter "name=deploy-ct-$$-" 2>/dev/null); do
		docker rm -f -v "$c" >/dev/null 2>&1 || true
	done
	for v in $(docker volume ls -q --filter "name=deploy-ct-$$-" 2>/dev/null); do
		docker volume rm -f "$v" >/dev/null 2>&1 || true
	done
	if [ -n "$OWN_DOCKERD" ]; then
		say "stopping the dockerd this test started (pid $OWN_DOCKERD)"
		kill "$OWN_DOCKERD" 2>/dev/null || true
		i=0
		while kill -0 "$OWN_DOCKERD" 2>/dev/null && [ $i -lt 150 ]; do
			sleep 0.2
			i=$((i + 1))
		done
	fi
	rm -rf "$TMP"
	say "$(($(date +%s) - T0)) s, exit $rc"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for t in docker dockerd debootstrap docker-compose; do
	command -v "$t" >/dev/null || { say "$t is missing (make deps: $t)"; exit 1; }
done

# --- 1. dockerd ------------------------------------------------------------
if ! docker info >/dev/null 2>&1; then
	say "no dockerd answers; starting one (log: $TMP/dockerd.log)"
	dockerd --bridge=none --iptables=false --ip6tables=false --ip-masq=false \
		--pidfile "$TMP/dockerd.pid" >"$TMP/dockerd.log" 2>&1 &
	OWN_DOCKERD=$!
	i=0
	until docker info >/dev/null 2>&1; do
		if ! kill -0 "$OWN_DOCKERD" 2>/dev/null || [ $i -ge 300 ]; then
			tail -n 20 "$TMP/dockerd.log" >&2
			say "dockerd did not come up"
			OWN_DOCKERD=""
			exit 1
		fi
		sleep 0.1
		i=$((i + 1))
	done
fi

# --- 2. base image ----------------------------------------------------------
sh "$ROOT/scripts/container/base_image.sh" debian:12-slim
BASE_SIZE=$(docker image inspect -f '{{.Size}}' debian:12-slim)

# --- 3. one image per bot ---------------------------------------------------
# The legacy builder: no registry lookups, local images only; host
# networking so apt-get reaches the mirror (no bridge exists).
# The build stage gets a tag too, so pruning dangling images (the stale
# ones of earlier runs) keeps the cache the next run builds from.
for b in build $BOTS; do
	say "building $b"
	t=$(date +%s)
	DOCKER_BUILDKIT=0 docker build -q --network host --target "$b" \
		-t "grafolean-$b:test" "$ROOT" >"$TMP/build-$b.log" 2>&1 || {
		tail -n 40 "$TMP/build-$b.log" >&2
		exit 1
	}
	[ "$b" = build ] && continue
	size=$(docker image inspect -f '{{.Size}}' "grafolean-$b:test")
	say "image grafolean-$b:test: $size bytes, $(((size - BASE_SIZE) / 1000)) kB over debian:12-slim ($BASE_SIZE bytes); built in $(($(date +%s) - t)) s"
done
docker image prune -f >/dev/null 2>&1 || true

# --- 4. containers ----------------------------------------------------------
say "running tests/container/test_images.py for: $BOTS"
if ! BOTS="$BOTS" IMAGE_PREFIX=grafolean- IMAGE_TAG=test \
	CONTAINER_PREFIX="deploy-ct-$$" \
	"$PYTHON" "$ROOT/tests/container/test_images.py" >"$TMP/images.log" 2>&1; then
	cat "$TMP/images.log"
	exit 1
fi
grep -E '\.\.\. |^Ran |^OK' "$TMP/images.log"

# --- 5. compose files -------------------------------------------------------
for f in "$ROOT"/docker-compose*.yml; do
	docker-compose -f "$f" --env-file "$ROOT/.env.example" config -q
	say "$(basename "$f"): valid (with .env.example)"
done
: >"$TMP/empty.env"
docker-compose -f "$ROOT/docker-compose.yml" --env-file "$TMP/empty.env" config -q
say "docker-compose.yml: valid without .env"
if docker-compose -f "$ROOT/docker-compose.bots.yml" --env-file "$TMP/empty.env" \
	config -q >/dev/null 2>&1; then
	say "docker-compose.bots.yml accepted a missing BACKEND_URL"
	exit 1
fi

# --- 6. make install DESTDIR= ---------------------------------------------
D="$TMP/destdir"
make -C "$ROOT" -s install DESTDIR="$D" PREFIX=/usr SYSCONFDIR=/etc >/dev/null
for b in $BOTS; do
	unit="$D/usr/lib/systemd/system/grafolean-$b@.service"
	envf="$D/etc/grafolean-bots/$b.env.example"
	[ -x "$D/usr/bin/$b" ] || { say "install: no $D/usr/bin/$b"; exit 1; }
	"$D/usr/bin/$b" --version >/dev/null
	[ -f "$unit" ] || { say "install: no $unit"; exit 1; }
	[ -f "$envf" ] || { say "install: no $envf"; exit 1; }
	[ "$(stat -c %a "$envf")" = 600 ] || { say "install: $envf is not mode 600"; exit 1; }
	if grep -n '@[A-Z]*@' "$unit" "$envf"; then
		say "install: placeholders left"; exit 1
	fi
	grep -qx "ExecStart=/usr/bin/$b" "$unit"
	grep -qx "EnvironmentFile=/etc/grafolean-bots/$b-%i.env" "$unit"
	for k in DynamicUser=yes NoNewPrivileges=yes ProtectSystem=strict; do
		grep -qx "$k" "$unit" || { say "install: $unit lacks $k"; exit 1; }
	done
	caps=$(sed -n 's/^AmbientCapabilities=//p' "$unit")
	want=""
	[ "$b" = pingbot ] && want=CAP_NET_RAW
	[ "$caps" = "$want" ] || { say "install: $b has AmbientCapabilities=$caps"; exit 1; }
done
say "make install DESTDIR=: binaries, units, example env files in place"

# --- 7. systemd units -------------------------------------------------------
if ! command -v systemd-analyze >/dev/null; then
	say "systemd-analyze not found: units not verified (apt-get install systemd)"
else
	S="$TMP/sys"
	make -C "$ROOT" -s install PREFIX="$S/usr" SYSCONFDIR="$S/etc" >/dev/null
	mkdir -p "$S/units"
	for b in $BOTS; do
		cp "$S/etc/grafolean-bots/$b.env.example" "$S/etc/grafolean-bots/$b-ct.env"
		u="$S/units/grafolean-$b@ct.service"
		cp "$S/usr/lib/systemd/system/grafolean-$b@.service" "$u"
		out=$(systemd-analyze verify "$u" 2>&1) || { echo "$out"; exit 1; }
		if echo "$out" | grep -F "grafolean-$b@"; then
			say "systemd-analyze verify complains about grafolean-$b@.service"
			exit 1
		fi
		sec=$(systemd-analyze security --offline=true --threshold=25 "$u" 2>&1) || {
			echo "$sec" | tail -n 30
			say "grafolean-$b@.service: exposure above 2.5"
			exit 1
		}
		say "grafolean-$b@.service: verified; $(echo "$sec" | grep -o 'exposure level.*' | tr -s ' ')"
	done
fi
