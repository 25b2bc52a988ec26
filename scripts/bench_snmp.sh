#!/bin/sh
# Side-by-side SNMP benchmark on loopback against tests/bench/snmpagent.c
# (one process, N agents on N UDP ports, a 2-column 48-row ifTable slice,
# optional per-agent delay): one full round of N device polls (walk ifDescr
# and ifInOctets) by snmpbot (--once, round time from its debug log: first
# "run starts" to last "run done"), by collectd's snmp plugin (5 read
# threads, the default; round = start until every host's value is written)
# (given up after 90 s) and by snmpbulkwalk per agent (64 at a time, the physical floor of one
# walk with the net-snmp tools).  BENCH_SNMP_TOOLS picks some of
# "snmpbot collectd snmp-exporter snmpbulkwalk".  Prints round time, CPU per 1,000
# device-polls (snmpbot also at steady state: rounds 2-4 of a
# long-running bot at LOG_LEVEL=info) and peak RSS.
# Usage: scripts/bench_snmp.sh [BUILD_DIR]; BENCH_SNMP_AGENTS="50 500 2000",
# BENCH_SNMP_DELAYS="0 20".
set -eu
O=${1:-build}
mkdir -p "$O/tests"
cc -std=c11 -D_DEFAULT_SOURCE -O2 -Wall -Wextra -o "$O/tests/snmpagent" \
	tests/bench/snmpagent.c
export BENCH_BOT="$O/snmpbot" BENCH_AGENT="$O/tests/snmpagent"
export BENCH_AGENTS="${BENCH_SNMP_AGENTS:-50 500 2000}"
export BENCH_DELAYS="${BENCH_SNMP_DELAYS:-0 20}"
export BENCH_TOOLS="${BENCH_SNMP_TOOLS:-snmpbot collectd snmp-exporter snmpbulkwalk}"
exec python3 - <<'EOF'
import datetime
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import tempfile
import time

BOT = os.environ["BENCH_BOT"]
AGENT = os.environ["BENCH_AGENT"]
TICK = os.sysconf("SC_CLK_TCK")
IFDESCR = "1.3.6.1.2.1.2.2.1.2"
IFIN = "1.3.6.1.2.1.2.2.1.10"
TOOLS = os.environ["BENCH_TOOLS"].split()


def start_agents(d, n, delay):
    pf = os.path.join(d, "ports")
    p = subprocess.Popen([AGENT, "-n", str(n), "-d", str(delay), "-o", pf])
    deadline = time.time() + 20
    while time.time() < deadline:
        if os.path.exists(pf):
            ports = [int(x) for x in open(pf).read().split()]
            if len(ports) == n:
                return p, ports
        time.sleep(0.05)
    raise SystemExit("agents did not start")


def bot_round(d, ports):
    ents = []
    sensor = {"id": 1, "name": "in", "protocol": "snmp", "default_interval": 60,
              "details": {"oids": [{"oid": IFDESCR, "fetch_method": "walk"},
                                   {"oid": IFIN, "fetch_method": "walk"}],
                          "expression": "$2",
                          "output_path": "if.in.{$index}.{$1}"}}
    cred = {"id": 1, "name": "v2", "protocol": "snmp",
            "details": {"version": "snmpv2c", "snmpv12_community": "public"}}
    for i, port in enumerate(ports):
        ents.append({"id": 1000 + i, "name": "a%d" % i, "entity_type": "device",
                     "details": {"ipv4": "127.0.0.1", "port": port},
                     "protocols": {"snmp": {"credential": cred,
                                            "sensors": [{"sensor": sensor,
                                                         "interval": None}]}}})
    jf = os.path.join(d, "jobs.json")
    json.dump(ents, open(jf, "w"))
    env = dict(os.environ, LOG_LEVEL="debug", JOBS_FIRST_RUN_SPREAD_MS="0",
               SNMP_TIMEOUT_MS="2000", SNMP_RETRIES="1",
               SNMP_MAX_REPETITIONS="50", SNMP_MAX_INFLIGHT="5000")
    err = open(os.path.join(d, "bot.err"), "w")
    t0 = time.time()
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    p = subprocess.Popen([BOT, "--jobs", jf, "--once", "--output", "stdout"],
                         stdout=subprocess.DEVNULL, stderr=err, env=env)
    rss = 0
    while p.poll() is None:
        try:
            rss = max(rss, rss_kb(p.pid))
        except (OSError, ValueError):
            pass
        time.sleep(0.002)
    rc = p.returncode
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.time() - t0
    err.close()
    text = open(os.path.join(d, "bot.err")).read()
    ts = lambda l: datetime.datetime.strptime(l[:23], "%Y-%m-%dT%H:%M:%S.%f")
    starts = [ts(l) for l in text.splitlines() if l.endswith("run starts")]
    dones = [ts(l) for l in text.splitlines() if "run done, 48 values" in l
             or "run done, 0 values" in l]
    rnd = (max(dones) - min(starts)).total_seconds() if starts and dones else -1
    timeouts = text.count("no answer")
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return {"round": rnd, "wall": wall, "cpu": cpu, "rss": rss,
            "ok": len(dones), "timeouts": timeouts, "rc": rc}


def bot_steady(d, ports):
    """CPU per poll at steady state: snmpbot polling every 5 s at
    LOG_LEVEL=info, measured over 3 rounds after the first."""
    jf = os.path.join(d, "jobs.json")
    ents = json.load(open(jf))
    for e in ents:
        e["protocols"]["snmp"]["sensors"][0]["interval"] = 5
    json.dump(ents, open(jf, "w"))
    env = dict(os.environ, LOG_LEVEL="info", JOBS_FIRST_RUN_SPREAD_MS="0",
               SNMP_TIMEOUT_MS="2000", SNMP_RETRIES="1",
               SNMP_MAX_REPETITIONS="50", SNMP_MAX_INFLIGHT="5000")
    p = subprocess.Popen([BOT, "--jobs", jf, "--output", "stdout"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         env=env)
    time.sleep(2.5)
    c0 = cpu_s(p.pid)
    time.sleep(15)
    c1 = cpu_s(p.pid)
    rss = rss_kb(p.pid)
    p.send_signal(signal.SIGTERM)
    p.wait(30)
    return {"round": -1, "cpu": (c1 - c0) / 3.0, "rss": rss}


def exporter_round(d, ports):
    """prometheus-snmp-exporter (0.21, Debian): one scrape per agent, 64 at
    a time with curl, as a Prometheus server would; its own CPU and RSS."""
    if shutil.which("prometheus-snmp-exporter") is None:
        return None
    conf = os.path.join(d, "snmp.yml")
    with open(conf, "w") as f:
        f.write("if2:\n  walk:\n  - %s\n  - %s\n  metrics:\n"
                "  - name: ifInOctets\n    oid: %s\n    type: counter\n"
                "    help: octets in\n    indexes:\n    - labelname: ifIndex\n"
                "      type: gauge\n    lookups:\n    - labels:\n"
                "      - ifIndex\n      labelname: ifDescr\n      oid: %s\n"
                "      type: DisplayString\n  version: 2\n"
                "  max_repetitions: 50\n  retries: 1\n  timeout: 2s\n"
                "  auth:\n    community: public\n"
                % (IFDESCR, IFIN, IFIN, IFDESCR))
    s = __import__("socket").socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    p = subprocess.Popen(["prometheus-snmp-exporter", "--config.file=" + conf,
                          "--web.listen-address=127.0.0.1:%d" % port],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = "http://127.0.0.1:%d/" % port
    for _ in range(200):
        if subprocess.call(["curl", "-s", "-o", "/dev/null", url]) == 0:
            break
        time.sleep(0.05)
    lst = os.path.join(d, "urls")
    with open(lst, "w") as f:
        for ap in ports:
            f.write("%ssnmp?module=if2&target=127.0.0.1:%d\n" % (url, ap))
    c0 = cpu_s(p.pid)
    t0 = time.time()
    subprocess.call("xargs -P 64 -n 16 curl -s < %s > /dev/null" % lst,
                    shell=True)
    wall = time.time() - t0
    c1 = cpu_s(p.pid)
    rss = rss_kb(p.pid)
    p.terminate()
    p.wait(10)
    return {"round": wall, "cpu": c1 - c0, "rss": rss}


def walk_round(d, ports):
    lst = os.path.join(d, "walks")
    with open(lst, "w") as f:
        for port in ports:
            f.write("127.0.0.1:%d\n" % port)
    cmd = ("xargs -P 64 -I@ sh -c 'snmpbulkwalk -v2c -c public -Cr50 -On "
           "-t 2 -r 1 @ %s >/dev/null; snmpbulkwalk -v2c -c public -Cr50 "
           "-On -t 2 -r 1 @ %s >/dev/null' < %s" % (IFDESCR, IFIN, lst))
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.time()
    subprocess.call(cmd, shell=True, env=dict(os.environ, MIBS=""))
    wall = time.time() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    # Peak RSS of one snmpbulkwalk process, measured alone.
    q = subprocess.Popen(["snmpbulkwalk", "-v2c", "-c", "public", "-Cr50",
                          "-On", "127.0.0.1:%d" % ports[0], IFIN],
                         stdout=subprocess.DEVNULL, env=dict(os.environ, MIBS=""))
    rss = 0
    while q.poll() is None:
        try:
            rss = max(rss, rss_kb(q.pid))
        except (OSError, ValueError):
            pass
        time.sleep(0.001)
    return {"round": wall, "cpu": (r1.ru_utime - r0.ru_utime)
            + (r1.ru_stime - r0.ru_stime), "rss": rss}


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def collectd_round(d, ports):
    if shutil.which("collectd") is None:
        return None
    data = os.path.join(d, "csv")
    conf = os.path.join(d, "collectd.conf")
    with open(conf, "w") as f:
        f.write('Interval 3600\nFQDNLookup false\nLoadPlugin snmp\n'
                'LoadPlugin csv\n<Plugin csv>\n  DataDir "%s"\n'
                '  StoreRates false\n</Plugin>\n<Plugin snmp>\n'
                '  <Data "ifin">\n    Type "derive"\n    Table true\n'
                '    Instance "%s"\n    Values "%s"\n  </Data>\n'
                % (data, IFDESCR, IFIN))
        for i, port in enumerate(ports):
            f.write('  <Host "a%d">\n    Address "127.0.0.1:%d"\n'
                    '    Version 2\n    Community "public"\n'
                    '    Collect "ifin"\n    Interval 3600\n  </Host>\n'
                    % (i, port))
        f.write("</Plugin>\n")
    t0 = time.time()
    p = subprocess.Popen(["collectd", "-f", "-C", conf],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         env=dict(os.environ, MIBS=""))
    done = -1
    while time.time() - t0 < 90 and p.poll() is None:
        if os.path.isdir(data):
            hosts = [h for h in os.listdir(data)
                     if os.path.isdir(os.path.join(data, h, "snmp"))
                     and len(os.listdir(os.path.join(data, h, "snmp"))) >= 48]
            if len(hosts) == len(ports):
                done = time.time() - t0
                break
        time.sleep(0.05)
    cpu = cpu_s(p.pid) if p.poll() is None else -1
    rss = rss_kb(p.pid) if p.poll() is None else -1
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(20)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    return {"round": done, "cpu": cpu, "rss": rss}


def main():
    print("%-6s %-6s %-14s %10s %14s %10s  %s" % (
        "agents", "delay", "tool", "round s", "CPU ms/1k pol", "peak MiB",
        "notes"))
    for n in [int(x) for x in os.environ["BENCH_AGENTS"].split()]:
        for delay in [int(x) for x in os.environ["BENCH_DELAYS"].split()]:
            d = tempfile.mkdtemp(prefix="bench-snmp-")
            agents, ports = start_agents(d, n, delay)
            try:
                rows = []
                for tool, fn in (("snmpbot", bot_round),
                                 ("snmpbot steady", bot_steady),
                                 ("collectd", collectd_round),
                                 ("snmp-exporter", exporter_round),
                                 ("snmpbulkwalk", walk_round)):
                    if tool.split()[0] in TOOLS:
                        rows.append((tool, fn(d, ports)))
            finally:
                agents.terminate()
                agents.wait()
                shutil.rmtree(d, ignore_errors=True)
            for tool, r in rows:
                if r is None:
                    print("%-6d %-6d %-14s not installed" % (n, delay, tool))
                    continue
                note = ""
                if tool == "collectd" and r["round"] < 0:
                    note = "not done after 90 s (CPU and RSS at 90 s)"
                if tool == "snmpbot steady":
                    note = "CPU of 3 rounds at 5 s intervals / 3; round " \
                        "time: the --once row"
                if tool == "snmpbot":
                    note = "%d/%d polls done, %d timeouts, wall %.2f s" % (
                        r["ok"], n, r["timeouts"], r["wall"])
                print("%-6d %-6d %-14s %10.3f %14.1f %10.1f  %s" % (
                    n, delay, tool, r["round"], r["cpu"] * 1e6 / n
                    if r["cpu"] >= 0 else -1, r["rss"] / 1024.0, note))


main()
EOF
