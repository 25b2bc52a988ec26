#!/bin/sh
# Side-by-side NetFlow collector benchmark on loopback: a sendmmsg
# replayer (tests/bench/bench_nfreplay.c) offers synthetic NetFlow v9 and
# IPFIX exports (30 flows of 1000 bytes per datagram, templates every 50
# datagrams, 200,000 distinct source addresses with a skewed popularity)
# at set rates for a set time to netflowbot (decode + aggregation into all
# five windows), nfcapd (nfdump: decode + write to disk) and nfacctd
# (pmacct: decode + aggregation by protocol, print plugin).  Reports
# accounted flows vs sent, CPU microseconds per accounted flow (all of the
# collector's processes), peak RSS; then a 200,000-flow burst at full
# speed, and netflowbot --pcap throughput.
# Usage: scripts/bench_netflow.sh [BUILD_DIR]
#   BENCH_NF_RATES="100000 400000 1000000" BENCH_NF_SECONDS=10
#   BENCH_NF_PCAP_ONLY=1: only the --pcap throughput (BENCH_NF_PCAP_RUNS
#   runs, 1 by default, each line printed; BENCH_NF_KEEP_PCAP=FILE keeps
#   the capture there, e.g. for perf)
#   BENCH_NF_COLLECTORS="netflowbot nfcapd nfacctd" (the ones run),
#   BENCH_NF_PROTOS="9 10" (v9, IPFIX), BENCH_NF_BURST=1 (0: no burst row),
#   BENCH_NF_RUNS=1 (runs of each UDP row, each line printed),
#   BENCH_NF_PCAP=1 (0: no --pcap line), BENCH_NF_BOT=PATH (another
#   netflowbot binary, e.g. to compare builds)
set -eu
O=${1:-build}
# the collectors compared (the bench's own package list)
DEPS_PACKAGES="nfdump pmacct" sh scripts/deps.sh
make -s "$O/tests/bench_nfreplay" O="$O" >/dev/null
export BENCH_BOT="${BENCH_NF_BOT:-$O/netflowbot}" BENCH_REPLAY="$O/tests/bench_nfreplay"
export BENCH_RATES="${BENCH_NF_RATES:-100000 400000 1000000}"
export BENCH_SECONDS="${BENCH_NF_SECONDS:-10}"
export BENCH_PCAP_ONLY="${BENCH_NF_PCAP_ONLY:-0}"
export BENCH_PCAP_RUNS="${BENCH_NF_PCAP_RUNS:-1}"
export BENCH_KEEP_PCAP="${BENCH_NF_KEEP_PCAP:-}"
export BENCH_COLLECTORS="${BENCH_NF_COLLECTORS:-netflowbot nfcapd nfacctd}"
export BENCH_PROTOS="${BENCH_NF_PROTOS:-9 10}"
export BENCH_BURST="${BENCH_NF_BURST:-1}"
export BENCH_RUNS="${BENCH_NF_RUNS:-1}"
export BENCH_PCAP="${BENCH_NF_PCAP:-1}"
exec python3 - <<'PYEOF'
import glob
import json
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

BOT = os.environ["BENCH_BOT"]
REPLAY = os.environ["BENCH_REPLAY"]
RATES = [int(x) for x in os.environ["BENCH_RATES"].split()]
SECONDS = int(os.environ["BENCH_SECONDS"])
TICK = os.sysconf("SC_CLK_TCK")
FLOW_BYTES = 1000
PER_DG = 30
TMP = tempfile.mkdtemp(prefix="nf-bench-")
sys.path.insert(0, os.path.join(os.getcwd(), "tests", "integration"))
import nfpcap  # noqa: E402

FIELDS = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (1, 4), (2, 4),
          (10, 2), (14, 2), (22, 4), (21, 4)]


def gen(version, n_dgs=4000, seed=1):
    """[(payload, flows)]: v9 or IPFIX datagrams of PER_DG flows."""
    rnd = random.Random(seed)
    out = []
    tmpl_body = struct.pack("!HH", 256, len(FIELDS)) + b"".join(
        struct.pack("!HH", t, l) for t, l in FIELDS)
    for i in range(n_dgs):
        recs = b""
        for _ in range(PER_DG):
            k = int(200000 * rnd.random() ** 3)  # skewed popularity
            recs += struct.pack("!4s4sHHBIIHHII",
                                bytes([10, (k >> 16) & 255, (k >> 8) & 255,
                                       k & 255]),
                                bytes([192, 0, 2, rnd.randrange(256)]),
                                rnd.randrange(1024, 65535),
                                rnd.choice((80, 443, 53, 22, 123, 8443)),
                                rnd.choice((6, 17)), FLOW_BYTES, 1,
                                rnd.randrange(1, 5), rnd.randrange(1, 5),
                                1000, 2000)
        sets = b""
        if i % 50 == 0:
            sets += struct.pack("!HH", 0 if version == 9 else 2,
                                4 + len(tmpl_body)) + tmpl_body
        sets += struct.pack("!HH", 256, 4 + len(recs)) + recs
        if version == 9:
            hdr = struct.pack("!HHIIII", 9, PER_DG, 5000, int(time.time()),
                              i, 1)
        else:
            hdr = struct.pack("!HHIII", 10, 16 + len(sets), int(time.time()),
                              i, 1)
        out.append((hdr + sets, PER_DG))
    return out


def write_dgs(path, dgs):
    with open(path, "wb") as f:
        for p, n in dgs:
            f.write(struct.pack("!HH", len(p), n) + p)


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def proc_tree(pid):
    out = [pid]
    try:
        kids = subprocess.run(["pgrep", "-P", str(pid)], stdout=subprocess.PIPE,
                              universal_newlines=True).stdout.split()
    except OSError:
        kids = []
    for k in kids:
        out += proc_tree(int(k))
    return out


def cpu_s(pids):
    total = 0.0
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / TICK
        except OSError:
            pass
    return total


def peak_kb(pids):
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/status" % pid) as f:
                m = re.search(r"VmHWM:\s+(\d+)", f.read())
            total += int(m.group(1)) if m else 0
        except OSError:
            pass
    return total


def wait_for(pred, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return False


def stop(proc, timeout=30):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


JOBS = os.path.join(TMP, "jobs.json")
with open(JOBS, "w") as f:
    json.dump([{"id": 1, "name": "r", "entity_type": "device",
                "details": {"ipv4": "127.0.0.1"},
                "protocols": {"netflow": {
                    "credential": {"id": 1, "name": "n", "protocol": "netflow",
                                   "details": {}},
                    "sensors": [{"sensor": {"id": 2, "name": "n",
                                            "protocol": "netflow",
                                            "default_interval": None,
                                            "details": {}},
                                 "interval": None}]}}}], f)


class Netflowbot(object):
    name = "netflowbot"

    def start(self, port):
        self.err = open(os.path.join(TMP, "bot.err"), "w+")
        self.p = subprocess.Popen(
            [BOT, "--jobs", JOBS, "--output", "stdout"],
            env={"PATH": os.environ["PATH"], "NETFLOW_PORT": str(port),
                 "NETFLOW_STATS_INTERVAL": "0", "LOG_LEVEL": "info"},
            stdout=subprocess.DEVNULL, stderr=self.err)
        wait_for(lambda: "input: UDP port" in open(self.err.name).read(), 10)
        return self.p.pid

    def finish(self):
        stop(self.p)
        text = open(self.err.name).read()
        m = re.findall(r"netflow: \d+ datagrams, (\d+) flows", text)
        return int(m[-1]) if m else 0


class Nfcapd(object):
    name = "nfcapd"

    def start(self, port):
        self.dir = tempfile.mkdtemp(dir=TMP)
        self.p = subprocess.Popen(["nfcapd", "-b", "127.0.0.1", "-p",
                                   str(port), "-w", self.dir, "-B", "33554432"],
                                  stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        return self.p.pid

    def finish(self):
        stop(self.p)
        r = subprocess.run(["nfdump", "-R", self.dir, "-I"],
                           stdout=subprocess.PIPE, universal_newlines=True)
        m = re.search(r"^Flows:\s+(\d+)", r.stdout, re.M)
        return int(m.group(1)) if m else 0


class Nfacctd(object):
    name = "nfacctd"

    def start(self, port):
        self.out = os.path.join(TMP, "nfacct-%d.csv" % port)
        conf = os.path.join(TMP, "nfacctd-%d.conf" % port)
        with open(conf, "w") as f:
            f.write("daemonize: false\nnfacctd_port: %d\nnfacctd_ip: 127.0.0.1\n"
                    "nfacctd_pipe_size: 33554432\n"
                    "plugins: print[p]\naggregate[p]: proto\n"
                    "print_output[p]: csv\nprint_output_file[p]: %s\n"
                    "print_output_file_append[p]: true\n"
                    "print_refresh_time[p]: 1\n" % (port, self.out))
        self.p = subprocess.Popen(["nfacctd", "-f", conf],
                                  stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        time.sleep(1.0)
        return self.p.pid

    def finish(self):
        time.sleep(2.5)  # the print plugin writes every second
        stop(self.p)
        total = 0
        if os.path.exists(self.out):
            for line in open(self.out):
                parts = line.strip().split(",")
                if len(parts) == 3 and parts[2].isdigit():
                    total += int(parts[2])
        return total // FLOW_BYTES


def run(collector, dg_file, rate, flows):
    port = free_port()
    pid = collector.start(port)
    pids = proc_tree(pid)
    c0 = cpu_s(pids)
    r = subprocess.run([REPLAY, dg_file, "127.0.0.1", str(port), str(rate),
                        str(flows)], stdout=subprocess.PIPE,
                       universal_newlines=True)
    time.sleep(1.0)  # let the collector drain its socket
    pids = proc_tree(pid)
    c1 = cpu_s(pids)
    rss = peak_kb(pids)
    got = collector.finish()
    m = re.search(r"sent \d+ datagrams (\d+) flows in ([\d.]+) s", r.stdout)
    sent, secs = int(m.group(1)), float(m.group(2))
    us = (c1 - c0) * 1e6 / got if got else float("nan")
    return sent, secs, got, us, rss


def main():
    wanted = os.environ["BENCH_COLLECTORS"].split()
    collectors = [Netflowbot()] if "netflowbot" in wanted else []
    for name, cls in (("nfcapd", Nfcapd), ("nfacctd", Nfacctd)):
        if name in wanted and shutil.which(name):
            collectors.append(cls())
    protos = [int(x) for x in os.environ["BENCH_PROTOS"].split()]
    if os.environ["BENCH_PCAP_ONLY"] == "1":
        protos = []
    extra = ["burst"] if os.environ["BENCH_BURST"] == "1" else []
    m = re.search(r"^model name\s*:\s*(.*)$", open("/proc/cpuinfo").read(),
                  re.M)
    print("date: %s; host: %d CPUs, %s" % (
        time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), os.cpu_count(),
        m.group(1) if m else "?"))
    print("%-6s %-9s %-10s %12s %12s %8s %10s %10s" % (
        "proto", "offered", "collector", "sent", "accounted", "loss%",
        "cpu_us/flow", "peak_rss_MiB"))
    files = {}
    for version in protos:
        path = os.path.join(TMP, "dgs-%d.bin" % version)
        write_dgs(path, gen(version))
        files[version] = path
    for version in protos:
        for rate in RATES + extra:
            for c in collectors * int(os.environ["BENCH_RUNS"]):
                if rate == "burst":
                    sent, secs, got, us, rss = run(c, files[version], 0, 200000)
                    label = "burst200k"
                else:
                    sent, secs, got, us, rss = run(c, files[version], rate,
                                                   rate * SECONDS)
                    label = "%dk/s" % (rate // 1000)
                print("%-6s %-9s %-10s %12d %12d %8.1f %10.2f %10.1f" % (
                    "v9" if version == 9 else "ipfix", label, c.name, sent,
                    got, 100.0 * (sent - got) / sent, us, rss / 1024.0))
                sys.stdout.flush()
    if os.environ["BENCH_PCAP"] != "1":
        return
    # --pcap throughput: 1,200,000 flows of IPFIX from one capture
    dgs = gen(10, 4000)
    recs = nfpcap.export_records([(1700000000 + i * 0.001, p)
                                  for i, (p, _) in enumerate(dgs * 10)])
    pcap = os.path.join(TMP, "bench.pcap")
    nfpcap.write_pcap(pcap, recs, nfpcap.DLT_RAW)
    if os.environ["BENCH_KEEP_PCAP"]:
        shutil.copyfile(pcap, os.environ["BENCH_KEEP_PCAP"])
        shutil.copyfile(JOBS, os.environ["BENCH_KEEP_PCAP"] + ".jobs.json")
    for _ in range(int(os.environ["BENCH_PCAP_RUNS"])):
        pcap_run(pcap, len(dgs) * 10 * PER_DG)


def pcap_run(pcap, flows):
    t0 = time.monotonic()
    p = subprocess.run(["/usr/bin/time", "-f", "%U %S %M", BOT, "--jobs", JOBS,
                        "--pcap", pcap, "--once", "--output", "stdout"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       universal_newlines=True)
    wall = time.monotonic() - t0
    u, s, m = p.stderr.strip().splitlines()[-1].split()
    print("--pcap: %d flows in %.2f s wall, %.0f flows/s, cpu %.2f us/flow, "
          "peak RSS %.1f MiB" % (flows, wall, flows / wall,
                                 (float(u) + float(s)) * 1e6 / flows,
                                 int(m) / 1024.0))


try:
    main()
finally:
    shutil.rmtree(TMP, ignore_errors=True)
PYEOF
