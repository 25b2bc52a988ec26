#!/bin/sh
# Side-by-side HTTP JSON polling benchmark on loopback: a local asyncio
# server answers N URLs (keep-alive, ~200-byte JSON bodies); each tool
# polls every URL once a second and picks two numbers out of each answer:
#   apibot          N entities, one sensor each (2 jq extractions), all
#                   firing together (as collectd does) and spread over 1 s
#   collectd        curl_json plugin, N <URL> blocks with 2 <Key>s, csv out
#   curl | jq       one shell loop per URL (the way people script it),
#                   run on BENCH_API_LOOPS URLs only (forks dominate)
# Prints CPU microseconds per request, peak RSS and requests per poll, and
# apibot's requests per poll when 10 sensors of an entity share a URL.
# Usage: scripts/bench_api.sh [BUILD_DIR]; BENCH_API_URLS=1000,
# BENCH_API_SECONDS=20, BENCH_API_LOOPS=20; BENCH_API_TOOLS picks some of
# apibot,spread,collectd,loops,shared (default all), e.g. to compare two
# builds quickly.  BENCH_API_CALLGRIND=DIR runs the apibot rows under
# valgrind's callgrind (profiles in DIR; use BENCH_API_URLS=200, which it
# keeps up with) and prints instructions per request: user-space work,
# steady enough to compare builds where CPU time is too noisy.
set -eu
O=${1:-build}
export BENCH_BOT="$O/apibot"
exec python3 - <<'EOF'
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

BOT = os.environ["BENCH_BOT"]
N = int(os.environ.get("BENCH_API_URLS", "1000"))
SECS = int(os.environ.get("BENCH_API_SECONDS", "20"))
LOOPS = int(os.environ.get("BENCH_API_LOOPS", "20"))
TOOLS = os.environ.get("BENCH_API_TOOLS",
                       "apibot,spread,collectd,loops,shared").split(",")
CALLGRIND = os.environ.get("BENCH_API_CALLGRIND")
WARM = 5
TICK = os.sysconf("SC_CLK_TCK")

SERVER = r"""
import asyncio, json, signal, sys
counts = {}
BODY = {}
def body(i):
    b = BODY.get(i)
    if b is None:
        b = json.dumps({"queue": {"depth": i % 97, "requests_total": 1000 + i},
                        "healthy": True, "version": "1.2.3",
                        "workers": [{"name": "w%d" % k, "busy": k}
                                    for k in range(3)]}).encode()
        BODY[i] = b
    return b
async def handle(r, w):
    try:
        while True:
            line = await r.readline()
            if not line:
                break
            ua = "?"
            while True:
                h = await r.readline()
                if h in (b"\r\n", b"\n", b""):
                    break
                if h[:11].lower() == b"user-agent:":
                    ua = h[11:].strip().decode("latin-1").split("/")[0]
            parts = line.split()
            path = parts[1].decode() if len(parts) > 1 else "/"
            if path == "/__counts":
                b = json.dumps(counts).encode()
            else:
                counts[ua] = counts.get(ua, 0) + 1
                try:
                    b = body(int(path.rsplit("/", 1)[1]))
                except ValueError:
                    b = body(0)
            w.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\n\r\n" % len(b) + b)
            await w.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    w.close()
async def main():
    srv = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=4096)
    print(srv.sockets[0].getsockname()[1], flush=True)
    await srv.serve_forever()
asyncio.run(main())
"""


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def peak_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        m = re.search(r"VmHWM:\s+(\d+)", f.read())
    return int(m.group(1)) if m else 0


def counts(port):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /__counts HTTP/1.1\r\nHost: x\r\nUser-Agent: bench\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(65536)
    head, rest = data.split(b"\r\n\r\n", 1)
    n = int(re.search(rb"Content-Length: (\d+)", head).group(1))
    while len(rest) < n:
        rest += s.recv(65536)
    s.close()
    return json.loads(rest)


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def callgrind_instr(proc, cg_out, dump):
    """Zeroes (dump False) or dumps the counts of a callgrind run; returns
    the instructions of the dump."""
    subprocess.run(["callgrind_control", "-d" if dump else "-z",
                    str(proc.pid)], stdout=subprocess.DEVNULL, check=True)
    if not dump:
        return 0
    with open(cg_out + ".1") as f:
        for line in f:
            if line.startswith(("totals:", "summary:")):
                return int(line.split()[1])
    return 0


def measure(proc, port, ua, polls_per_s=1.0, cg_out=None):
    """CPU and requests of one long-running poller over SECS after WARM;
    under callgrind (cg_out) also its instructions per request."""
    time.sleep(WARM if cg_out is None else WARM + 5)
    if cg_out is not None:
        callgrind_instr(proc, cg_out, False)
    c0, r0 = cpu_s(proc.pid), counts(port).get(ua, 0)
    t0 = time.monotonic()
    time.sleep(SECS)
    c1, r1 = cpu_s(proc.pid), counts(port).get(ua, 0)
    dt = time.monotonic() - t0
    req = r1 - r0
    res = {"cpu_us": 1e6 * (c1 - c0) / max(req, 1), "req": req,
           "req_per_s": req / dt, "rss_kb": peak_kb(proc.pid)}
    if cg_out is not None:
        res["instr"] = callgrind_instr(proc, cg_out, True) / max(req, 1)
    return res


def jobs_file(path, port, n, sensors_per_url=1):
    ents = []
    for i in range(n):
        sens = []
        for k in range(sensors_per_url):
            sens.append({"sensor": {
                "id": 100000 + i * 10 + k, "name": "s", "protocol": "api",
                "default_interval": 1,
                "details": {"path": "/u/%d" % i, "extract": [
                    {"jq": ".queue.depth", "path": "q%d.depth" % k},
                    {"jq": ".queue.requests_total", "path": "q%d.req" % k,
                     "mode": "rate"}]}}, "interval": None})
        ents.append({"id": 1 + i, "name": "e%d" % i, "entity_type": "device",
                     "details": {"url": "http://127.0.0.1:%d/" % port},
                     "protocols": {"api": {"credential": {
                         "id": 1, "name": "c", "protocol": "api",
                         "details": {"timeout": 5}}, "sensors": sens}}})
    with open(path, "w") as f:
        json.dump(ents, f)


def bench_apibot(port, tmp, spread="0"):
    """spread 0: every job fires at the same instant, as collectd reads
    all its URLs each interval; 1000: the jobs' phases spread over the
    second (JOBS_FIRST_RUN_SPREAD_MS), so answers arrive one by one."""
    jf = os.path.join(tmp, "jobs.json")
    jobs_file(jf, port, N)
    env = dict(os.environ, LOG_LEVEL="warn", JOBS_FIRST_RUN_SPREAD_MS=spread)
    cmd = [BOT, "--jobs", jf, "--output", "stdout"]
    cg_out = None
    if CALLGRIND:
        os.makedirs(CALLGRIND, exist_ok=True)
        cg_out = os.path.join(os.path.abspath(CALLGRIND), "callgrind.apibot-%s"
                              % ("spread" if spread != "0" else "together"))
        for old in (cg_out, cg_out + ".1"):
            if os.path.exists(old):
                os.unlink(old)
        cmd = ["valgrind", "--tool=callgrind",
               "--callgrind-out-file=" + cg_out] + cmd
    proc = subprocess.Popen(cmd,
                            env=env, stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(tmp, "apibot.log"), "w"))
    try:
        return measure(proc, port, "grafolean-apibot", cg_out=cg_out)
    finally:
        stop(proc)


def bench_apibot_shared(port, tmp):
    """100 entities x 10 sensors on one URL each: requests per poll."""
    jf = os.path.join(tmp, "jobs10.json")
    n = 100
    jobs_file(jf, port, n, sensors_per_url=10)
    env = dict(os.environ, LOG_LEVEL="warn", JOBS_FIRST_RUN_SPREAD_MS="0")
    proc = subprocess.Popen([BOT, "--jobs", jf, "--output", "stdout"],
                            env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        m = measure(proc, port, "grafolean-apibot")
        m["per_poll"] = m["req_per_s"] / n
        return m
    finally:
        stop(proc)


def bench_collectd(port, tmp):
    collectd = shutil.which("collectd") or "/usr/sbin/collectd"
    if not os.path.exists(collectd) or \
            not os.path.exists("/usr/lib/collectd/curl_json.so"):
        return None
    conf = os.path.join(tmp, "collectd.conf")
    with open(conf, "w") as f:
        f.write('Interval 1\nReadThreads 5\nHostname "bench"\nFQDNLookup false\n'
                'PIDFile "%s/collectd.pid"\nPluginDir "/usr/lib/collectd"\n'
                'TypesDB "/usr/share/collectd/types.db"\nLoadPlugin curl_json\n'
                'LoadPlugin csv\n<Plugin csv>\n  DataDir "%s/csv"\n</Plugin>\n'
                '<Plugin curl_json>\n' % (tmp, tmp))
        for i in range(N):
            f.write('  <URL "http://127.0.0.1:%d/u/%d">\n    Instance "u%d"\n'
                    '    <Key "queue/depth">\n      Type "gauge"\n    </Key>\n'
                    '    <Key "queue/requests_total">\n      Type "derive"\n'
                    '    </Key>\n  </URL>\n' % (port, i, i))
        f.write('</Plugin>\n')
    proc = subprocess.Popen([collectd, "-f", "-C", conf],
                            stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(tmp, "collectd.log"), "w"))
    try:
        return measure(proc, port, "collectd")
    finally:
        stop(proc)


def bench_loops(port, tmp):
    if not shutil.which("curl") or not shutil.which("jq"):
        return None
    rounds = SECS
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    r0 = counts(port).get("curl", 0)
    procs = []
    for i in range(LOOPS):
        script = ("for i in $(seq %d); do curl -s http://127.0.0.1:%d/u/%d | "
                  "jq '.queue.depth, .queue.requests_total' >/dev/null; "
                  "sleep 1; done" % (rounds, port, i))
        procs.append(subprocess.Popen(["sh", "-c", script]))
    for p in procs:
        p.wait()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    req = counts(port).get("curl", 0) - r0
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"cpu_us": 1e6 * cpu / max(req, 1), "req": req,
            "req_per_s": req / rounds, "rss_kb": after.ru_maxrss,
            "urls": LOOPS}


def main():
    if not os.path.exists(BOT):
        sys.exit("bench_api: %s is not built" % BOT)
    tmp = tempfile.mkdtemp(prefix="bench-api-")
    srv = subprocess.Popen([sys.executable, "-c", SERVER],
                           stdout=subprocess.PIPE, universal_newlines=True)
    port = int(srv.stdout.readline())
    try:
        res = {}
        # The loops first: their peak RSS is read from RUSAGE_CHILDREN,
        # which would otherwise hold collectd's and apibot's.
        loops = bench_loops(port, tmp) if "loops" in TOOLS else None
        for key, name, fn in (
                ("apibot", "apibot", bench_apibot),
                ("spread", "apibot, jobs spread over 1 s",
                 lambda p, t: bench_apibot(p, t, "1000")),
                ("collectd", "collectd curl_json", bench_collectd)):
            r = fn(port, tmp) if key in TOOLS else None
            if r is not None:
                res[name] = r
        if loops is not None:
            res["curl | jq loops"] = loops
        shared = bench_apibot_shared(port, tmp) if "shared" in TOOLS else None
    finally:
        stop(srv)
    print("HTTP JSON polling, %d URLs (curl | jq: %d), every 1 s, %d s "
          "measured after %d s" % (N, LOOPS, SECS, WARM))
    print("| tool | URLs | requests/s | CPU µs/request | peak RSS |")
    print("|---|---|---|---|---|")
    for name, r in res.items():
        rss = ("%.0f MiB" % (r["rss_kb"] / 1024.0)) if "urls" not in r else \
              ("%.1f MiB per process (largest)" % (r["rss_kb"] / 1024.0))
        print("| %s | %d | %.0f | %.1f | %s |" % (
            name, r.get("urls", N), r["req_per_s"], r["cpu_us"], rss))
    for name, r in res.items():
        if "instr" in r:
            print("%s under callgrind: %.0f instructions per request "
                  "(profile in %s)" % (name, r["instr"], CALLGRIND))
    for base in ("apibot", "apibot, jobs spread over 1 s"):
        if base not in res:
            continue
        a = res[base]["cpu_us"]
        for name, r in res.items():
            if name not in ("apibot", "apibot, jobs spread over 1 s"):
                print("CPU per request, %s / %s: %.1f" % (
                    name, base, r["cpu_us"] / a))
    if shared is not None:
        print("apibot, 100 URLs x 10 sensors each: %.2f requests per URL per poll "
              "(%.0f requests/s), CPU %.1f µs/request, peak RSS %.0f MiB" % (
                  shared["per_poll"], shared["req_per_s"], shared["cpu_us"],
                  shared["rss_kb"] / 1024.0))
    shutil.rmtree(tmp, ignore_errors=True)


main()
EOF
