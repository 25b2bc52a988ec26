#!/usr/bin/env python3
"""Regenerates the captures made with softflowd: the demo export capture
(examples/netflow-demo.pcap: NetFlow v9 from 127.0.0.1 and IPFIX from ::1,
at fixed packet times) and the fuzz seeds (one datagram per file; for the
stateful target, datagrams framed as [exporter][length][bytes]).  Needs
softflowd.  Run from the repository root:
python3 tests/data/netflow/make_captures.py"""

import os
import struct
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

import nfexport  # noqa: E402
import nfpcap  # noqa: E402

T0 = 1700000000  # 2023-11-14 22:13:20 UTC


def main():
    tmp = tempfile.mkdtemp(prefix="nf-caps-")
    traffic = os.path.join(tmp, "traffic.pcap")
    nfpcap.write_pcap(traffic, nfpcap.traffic(T0))
    runs = {
        "v5": nfexport.export(traffic, 5),
        "v9": nfexport.export(traffic, 9, ("-6",)),
        "v9-sampled": nfexport.export(traffic, 9, ("-6", "-s", "10")),
        "ipfix-milli": nfexport.export(traffic, 10, ("-6", "-A", "milli")),
        "ipfix-micro": nfexport.export(traffic, 10, ("-6", "-A", "micro")),
        "ipfix-nano": nfexport.export(traffic, 10, ("-6", "-A", "nano")),
        "ipfix-sec": nfexport.export(traffic, 10, ("-6", "-A", "sec")),
    }
    corpus = os.path.join(ROOT, "tests", "fuzz", "corpus")
    for name, got in runs.items():
        target = "nf5" if name == "v5" else "nf9" if name.startswith(
            "v9") else "ipfix"
        d = os.path.join(corpus, target)
        os.makedirs(d, exist_ok=True)
        for i, (_, payload) in enumerate(got):
            with open(os.path.join(d, "softflowd-%s-%d" % (name, i)),
                      "wb") as f:
                f.write(payload)
        seq = b"".join(struct.pack("!BH", i % 3, len(p)) + p
                       for i, (_, p) in enumerate(got))
        d = os.path.join(corpus, "nfseq")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "softflowd-%s" % name), "wb") as f:
            f.write(seq)
    # The demo: v9 from 127.0.0.1 at T0 + 130 s, IPFIX from ::1 at
    # T0 + 200 s (a later minute), each datagram 10 ms apart.
    recs = []
    for i, (_, p) in enumerate(runs["v9"]):
        recs += nfpcap.export_records([(T0 + 130 + i * 0.01, p)],
                                      "127.0.0.1")
    for i, (_, p) in enumerate(runs["ipfix-milli"]):
        recs += nfpcap.export_records([(T0 + 200 + i * 0.01, p)], "::1")
    nfpcap.write_pcap(os.path.join(ROOT, "examples", "netflow-demo.pcap"),
                      recs, nfpcap.DLT_RAW)


if __name__ == "__main__":
    main()
