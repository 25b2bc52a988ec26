#!/bin/sh
# Side-by-side ping benchmark on loopback (every 127.x.y.z answers, so a
# lost packet is the tool's fault): N targets x 3 packets, 1 s apart, 1 s
# timeout, for pingbot (steady state, batches after the first, at
# LOG_LEVEL=info; the round time from a debug run), fping -C 3
# and collectd's ping plugin (liboping too, one round per second).  Prints
# wall time per round, CPU microseconds per ping, peak RSS and loss.
# Usage: scripts/bench_ping.sh [BUILD_DIR]; BENCH_PING_TARGETS="1000 4000".
# Needs root (raw ICMP sockets); fping and collectd-core when present.
set -eu
O=${1:-build}
export BENCH_BOT="$O/pingbot"
export BENCH_TARGETS="${BENCH_PING_TARGETS:-1000 4000}"
exec python3 - <<'EOF'
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

BOT = os.environ["BENCH_BOT"]
TICK = os.sysconf("SC_CLK_TCK")
BATCHES = 6          # pingbot batches measured after the first one


def targets(n):
    # 127.1.0.0/16 and up: outside 127.0.0.0/16 that services may use.
    return ["127.%d.%d.%d" % (1 + i // 62500, i // 250 % 250, 2 + i % 250)
            for i in range(n)]


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def peak_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        m = re.search(r"VmHWM:\s+(\d+)", f.read())
    return int(m.group(1)) if m else 0


def wait_for(pred, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return False


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_pingbot(addrs, tmp, level):
    """Runs pingbot on addrs until BATCHES batches after the first are done.
    Batches are counted in the values it prints (one ping.success line per
    target and batch) so that at LOG_LEVEL=info nothing else is needed; at
    debug the per-batch lines also give the longest round."""
    cred = {"id": 1, "name": "bench", "protocol": "ping",
            "details": {"n_packets": 3, "sleep_packets": 1.0,
                        "timeout": 1.0, "retry": 0}}
    sensor = {"id": 2, "name": "bench", "protocol": "ping",
              "default_interval": 4, "details": {}}
    ents = [{"id": 1000 + i, "name": "t%d" % i, "entity_type": "device",
             "details": {"ipv4": a},
             "protocols": {"ping": {"credential": cred, "sensors": [
                 {"sensor": sensor, "interval": None}]}}}
            for i, a in enumerate(addrs)]
    jobs = os.path.join(tmp, "jobs.json")
    with open(jobs, "w") as f:
        json.dump(ents, f)
    outp = os.path.join(tmp, "pingbot-%s.out" % level)
    errp = os.path.join(tmp, "pingbot-%s.err" % level)
    out = open(outp, "wb")
    err = open(errp, "wb")
    env = dict(os.environ, LOG_LEVEL=level, JOBS_FIRST_RUN_SPREAD_MS="0")
    proc = subprocess.Popen([BOT, "--jobs", jobs, "--output", "stdout"],
                            env=env, stdout=out, stderr=err)

    def batches():
        with open(outp, "rb") as f:
            return f.read().count(b".ping.success ") // len(addrs)

    def rounds():
        with open(errp) as f:
            return re.findall(r"ping batch of \d+ targets: .*longest round "
                              r"(\d+) ms", f.read())
    try:
        if not wait_for(lambda: batches() >= 1, 60):
            raise SystemExit("pingbot: no batch finished; see " + errp)
        c0, n0 = cpu_s(proc.pid), batches()
        if not wait_for(lambda: batches() >= n0 + BATCHES, 60):
            raise SystemExit("pingbot: batches stalled; see " + errp)
        c1 = cpu_s(proc.pid)
        rss = peak_kb(proc.pid)
    finally:
        stop(proc)
        out.close()
        err.close()
    lost = sent = 0
    with open(outp) as f:
        for line in f:
            if ".ok " in line:
                sent += 1
                lost += line.split()[1] == "0"
    pings = BATCHES * 3 * len(addrs)
    r = rounds()
    return {"round_ms": max(int(x) for x in r[1:]) if len(r) > 1 else None,
            "cpu_us": (c1 - c0) * 1e6 / pings, "rss_kb": rss,
            "loss": "%d/%d" % (lost, sent)}


def bench_pingbot(addrs, tmp):
    """CPU, memory and loss at LOG_LEVEL=info, as deployed; the longest
    round from a second run at debug, whose per-run log lines would
    otherwise count against pingbot's CPU."""
    info = run_pingbot(addrs, tmp, "info")
    info["round_ms"] = run_pingbot(addrs, tmp, "debug")["round_ms"]
    return info


def bench_fping(addrs, tmp):
    fping = shutil.which("fping")
    if fping is None:
        return None
    lst = os.path.join(tmp, "targets.txt")
    with open(lst, "w") as f:
        f.write("\n".join(addrs) + "\n")
    t0 = time.monotonic()
    r = subprocess.run(["/usr/bin/time", "-f", "TIME %U %S %M", fping,
                        "-C", "3", "-q", "-p", "1000", "-t", "1000",
                        "-i", "0", "-r", "0", "-f", lst],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True)
    wall = time.monotonic() - t0
    m = re.search(r"TIME (\S+) (\S+) (\d+)", r.stderr)
    res = [l.split(":", 1)[1].split() for l in r.stderr.splitlines()
           if " : " in l]
    lost = sum(x == "-" for l in res for x in l)
    sent = sum(len(l) for l in res)
    return {"round_ms": int((wall - 2.0) * 1000),
            "cpu_us": (float(m.group(1)) + float(m.group(2))) * 1e6
            / (3 * len(addrs)),
            "rss_kb": int(m.group(3)), "loss": "%d/%d" % (lost, sent)}


def bench_collectd(addrs, tmp):
    collectd = shutil.which("collectd") or "/usr/sbin/collectd"
    if not os.path.exists(collectd) or \
            not os.path.exists("/usr/lib/collectd/ping.so"):
        return None
    csv = os.path.join(tmp, "csv")
    conf = os.path.join(tmp, "collectd.conf")
    with open(conf, "w") as f:
        f.write('Hostname "bench"\nInterval 1\nBaseDir "%s"\n'
                'PIDFile "%s/collectd.pid"\nPluginDir "/usr/lib/collectd"\n'
                'TypesDB "/usr/share/collectd/types.db"\nLoadPlugin ping\n'
                'LoadPlugin csv\n<Plugin csv>\n  DataDir "%s"\n</Plugin>\n'
                '<Plugin ping>\n%s  Interval 1\n  Timeout 0.9\n</Plugin>\n'
                % (tmp, tmp, csv,
                   "".join('  Host "%s"\n' % a for a in addrs)))
    proc = subprocess.Popen([collectd, "-f", "-C", conf],
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        time.sleep(3)
        c0, t0 = cpu_s(proc.pid), time.monotonic()
        time.sleep(6)
        c1, t1 = cpu_s(proc.pid), time.monotonic()
        rss = peak_kb(proc.pid)
    finally:
        stop(proc)
    # One file per host, one line per second: the share of that second's
    # ping that got no answer.
    files = glob.glob(os.path.join(csv, "*", "ping", "ping_droprate-*"))
    drops = []
    for p in files:
        with open(p) as f:
            drops += [float(l.split(",")[1]) for l in f
                      if l[0].isdigit()]
    rounds = t1 - t0     # one ping per host per second
    return {"round_ms": None,
            "cpu_us": (c1 - c0) * 1e6 / (rounds * len(addrs)),
            "rss_kb": rss,
            "loss": "%.0f/%d, %d of %d hosts reported"
            % (sum(drops), len(drops), len(files), len(addrs))}


def show(name, n, r):
    if r is None:
        print("%-9s %5d  (not installed)" % (name, n))
        return
    rnd = "%d" % r["round_ms"] if r["round_ms"] is not None else "-"
    print("%-9s %5d  %9s  %10.1f  %8d  %s"
          % (name, n, rnd, r["cpu_us"], r["rss_kb"] // 1024 + 1, r["loss"]))


print("%-9s %5s  %9s  %10s  %8s  %s" % ("tool", "N", "round ms",
                                        "CPU us/ping", "peak MiB", "lost/sent"))
for n in [int(x) for x in os.environ["BENCH_TARGETS"].split()]:
    addrs = targets(n)
    for name, fn in (("pingbot", bench_pingbot), ("fping", bench_fping),
                     ("collectd", bench_collectd)):
        tmp = tempfile.mkdtemp(prefix="bench-ping-")
        try:
            show(name, n, fn(addrs, tmp))
        finally:
            shutil.rmtree(tmp, True)
EOF
