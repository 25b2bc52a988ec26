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
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/bots/bin/ /usr/local/bin/
# Unprivileged by default; pingbot gets CAP_NET_RAW through cap_add.
USER nobody
