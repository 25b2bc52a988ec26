#!/bin/sh
# make demo for netflowbot: replays the bundled export capture (NetFlow v9
# from 127.0.0.1, IPFIX from ::1, made with softflowd by
# tests/data/netflow/make_captures.py) on its own clock and prints every
# value a live run would have posted.  $1: the bot, $2: the job file.
exec "$1" --jobs "$2" --pcap examples/netflow-demo.pcap --once --output stdout
