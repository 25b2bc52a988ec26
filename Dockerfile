# One image per bot, from one multi-stage file: `docker build --target
# pingbot -t grafolean-pingbot .` (docker-compose.yml does this per
# service).  Each bot's image carries only the shared libraries that bot
# loads, runs as nobody, reports its health (HEALTHCHECK: `<bot> --health`
# reads the file the running bot rewrites) and stops cleanly on SIGTERM
# within Docker's 10 s grace period (SHUTDOWN_FLUSH_TIMEOUT=8).
#
# The base is debian:12-slim; without a registry, scripts/container/
# base_image.sh builds an equivalent one with debootstrap.
#
# The build stage lists, per bot, the Debian packages owning the shared
# libraries its binary loads (ldd + dpkg -S, scripts/container/
# runtime_pkgs.sh); each bot's stage installs exactly those.
#
# Adding a bot: one stage of six lines below, as snmpbot's (pingbot's adds
# its file capability); snmpbot, netflowbot and apibot have theirs already.

FROM debian:12-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends \
        build-essential pkg-config ca-certificates \
        libcurl4-openssl-dev libjson-c-dev libcap-dev liboping-dev \
        libsnmp-dev libpcap-dev libjq-dev libmicrohttpd-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN make clean && make -j"$(nproc)" all && install -d /out && \
    for b in build/*bot; do \
        install -m 0755 "$b" /out/ && \
        sh scripts/container/runtime_pkgs.sh "$b" >"/out/${b#build/}.pkgs" \
        || exit 1; \
    done

# What every bot needs: libcurl (OpenSSL) and json-c (one layer all bot
# images share), the CA bundle for an https backend (the file only: the
# ca-certificates package would bring openssl and its tools), the
# install script of the bot stages, and the defaults for running under
# Docker.
FROM debian:12-slim AS runtime
COPY scripts/container/bot_runtime.sh /usr/local/sbin/bot_runtime
RUN apt-get update && apt-get install -y --no-install-recommends \
        libcurl4 libjson-c5 \
    && apt-get clean && rm -rf /var/lib/apt/lists/* /var/log/apt \
        /var/log/dpkg.log /var/cache/debconf/*-old /var/lib/dpkg/*-old
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/
ENV HEALTH_FILE=/tmp/bot.health \
    SHUTDOWN_FLUSH_TIMEOUT=8
# Grafolean's compose starts the backend first; give a bot a minute to
# find it and do a first job refresh before failed checks count.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["/bin/sh", "-c", "exec \"$BOT\" --health"]
USER nobody

# pingbot (liboping, libcap).  The file gets CAP_NET_RAW as permitted
# only, so the container starts even without NET_RAW and pingbot says
# itself what is missing (run it with `--cap-add NET_RAW`, compose
# `cap_add: [NET_RAW]`).  setcap comes and goes in the same layer.
FROM runtime AS pingbot
USER root
COPY --from=build /out/pingbot.pkgs /usr/local/share/grafolean-bots/
COPY --from=build /out/pingbot /usr/local/bin/
RUN bot_runtime install pingbot libcap2-bin \
    && setcap cap_net_raw=p /usr/local/bin/pingbot \
    && bot_runtime purge libcap2-bin
ENV BOT=pingbot
USER nobody
ENTRYPOINT ["pingbot"]

# The next bots.  A stage is only built when asked for (--target), so
# these wait harmlessly until the bot's directory lands.

# snmpbot (net-snmp; its Perl dependency stays in this image only).
FROM runtime AS snmpbot
USER root
COPY --from=build /out/snmpbot.pkgs /usr/local/share/grafolean-bots/
COPY --from=build /out/snmpbot /usr/local/bin/
RUN bot_runtime install snmpbot
ENV BOT=snmpbot
USER nobody
ENTRYPOINT ["snmpbot"]

# netflowbot (libpcap).  Run it with host networking (compose:
# network_mode: host) so exporters' source addresses are seen as sent.
FROM runtime AS netflowbot
USER root
COPY --from=build /out/netflowbot.pkgs /usr/local/share/grafolean-bots/
COPY --from=build /out/netflowbot /usr/local/bin/
RUN bot_runtime install netflowbot
ENV BOT=netflowbot
USER nobody
ENTRYPOINT ["netflowbot"]

# apibot (libjq).
FROM runtime AS apibot
USER root
COPY --from=build /out/apibot.pkgs /usr/local/share/grafolean-bots/
COPY --from=build /out/apibot /usr/local/bin/
RUN bot_runtime install apibot
ENV BOT=apibot
USER nobody
ENTRYPOINT ["apibot"]
