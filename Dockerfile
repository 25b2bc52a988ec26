# One image with all bots; docker-compose.yml picks the program per service.
FROM debian:12-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends \
        build-essential pkg-config libcurl4-openssl-dev libjson-c-dev \
        libsnmp-dev libpcap-dev liboping-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN make clean && make -j2 all && make install PREFIX=/opt/bots

FROM debian:12-slim
RUN apt-get update && apt-get install -y --no-install-recommends \
        libcurl4 libjson-c5 libsnmp40 libpcap0.8 liboping0 ca-certificates \
        libcap2-bin && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/bots/bin/ /usr/local/bin/
# Unprivileged by default: pingbot carries CAP_NET_RAW as a file capability,
# which works when the container is given NET_RAW (cap_add).
RUN if [ -x /usr/local/bin/pingbot ]; then \
        setcap cap_net_raw=ep /usr/local/bin/pingbot; fi
USER nobody
