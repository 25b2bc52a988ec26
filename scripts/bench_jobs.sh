#!/bin/sh
# Job loading benchmark: the fake backend serves BENCH_JOBS_ACCOUNTS (10)
# accounts of BENCH_JOBS_PER_ACCOUNT (1000) ping device entities; pingbot
# loads them.  Prints the first load's time next to the time the fake needs
# to serve the same requests (replayed one after another on one kept-alive
# connection right after the load), for BENCH_JOBS_LOADS (5) starts of the
# bot against the same fake, and their median ratio (one load moves by
# +-30 % with the machine's load and the fake's garbage collections); then,
# for the last start, the steady-state RSS with every job loaded and the
# CPU an unchanged refresh costs (schedstat, less the idle rate measured
# before).
# Sensors run every 86400 s and first runs are spread over an hour, so
# pinging stays out of the figures.
# Usage: scripts/bench_jobs.sh [BUILD_DIR].  Needs root (pingbot's raw ICMP
# socket).  BENCH_JOBS_BOT=PATH benchmarks another bot binary (serving
# "ping"), BENCH_JOBS_PERF=FILE records a perf profile of the refresh,
# BENCH_JOBS_SMAPS=FILE saves /proc/PID/smaps once the jobs are loaded,
# BENCH_JOBS_TRACE=1 prints when each request of the first load came,
# BENCH_JOBS_MSTATS=1 prints glibc's malloc_stats() then (gdb).
set -eu
O=${1:-build}
export BENCH_BOT="${BENCH_JOBS_BOT:-$O/pingbot}"
exec python3 - <<'EOF'
import datetime
import http.client
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, "tests/fake")
from fake_grafolean import FakeGrafolean  # noqa: E402

BOT = os.environ["BENCH_BOT"]
TOKEN = "b3f2e5a8-1c4d-4e6f-8a9b-0c1d2e3f4a5b"
N_ACC = int(os.environ.get("BENCH_JOBS_ACCOUNTS", "10"))
PER_ACC = int(os.environ.get("BENCH_JOBS_PER_ACCOUNT", "1000"))
N = N_ACC * PER_ACC


def entity(i):
    return {"name": "dev%d" % i, "entity_type": "device",
            "details": {"ipv4": "127.%d.%d.%d" % (1 + i // 62500,
                                                   i // 250 % 250,
                                                   2 + i % 250)},
            "protocols": {"ping": {"credential": "@ping_credential",
                                   "bot": None,
                                   "sensors": [{"sensor": "@ping_sensor",
                                                "interval": 86400}]}}}


def cpu_ns(pid):
    with open("/proc/%d/schedstat" % pid) as f:
        return int(f.read().split()[0])


def status_kb(pid, key):
    with open("/proc/%d/status" % pid) as f:
        m = re.search(r"%s:\s+(\d+)" % key, f.read())
    return int(m.group(1)) if m else 0


def log_time(line):
    return datetime.datetime.strptime(
        line[:23], "%Y-%m-%dT%H:%M:%S.%f").timestamp()


def wait_for(pred, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.01)
    raise SystemExit("bench-jobs: timed out waiting for %s" % what)


def replay(fk, paths):
    """Seconds the fake needs to answer paths one after another."""
    c = http.client.HTTPConnection("127.0.0.1", fk.port)
    t0 = time.monotonic()
    for p in paths:
        c.request("GET", "/api/%s?b=%s" % (p, TOKEN))
        r = c.getresponse()
        r.read()
        if r.status != 200:
            raise SystemExit("bench-jobs: %s answered %d" % (p, r.status))
    dt = time.monotonic() - t0
    c.close()
    return dt


fk = FakeGrafolean(port=0, tokens=[TOKEN]).start()
accounts = [{"name": "acc%d" % a,
             "entities": [entity(a * PER_ACC + i) for i in range(PER_ACC)]}
            for a in range(N_ACC)]
fk.load_fixtures({"accounts": accounts})
d = tempfile.mkdtemp(prefix="bench-jobs-")
err_path = os.path.join(d, "stderr")
env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
       "BACKEND_URL": fk.api_url, "BOT_TOKEN": TOKEN,
       "JOBS_REFRESH_INTERVAL": "86400",
       "JOBS_FIRST_RUN_SPREAD_MS": "3600000",
       "BACKEND_WAIT_INTERVAL": "1", "LOG_LEVEL": "info"}
LOADS = max(1, int(os.environ.get("BENCH_JOBS_LOADS", "5")))
want = "jobs: %d ping jobs" % N
proc = None
err = None


def stderr():
    with open(err_path, "rb") as f:
        return f.read().decode("utf-8", "replace")


def first_load():
    """Starts the bot and times its first load: (load s, bot CPU ns, the
    fake's serving time s, the paths it asked for)."""
    global proc, err
    n0 = len(fk.requests())
    err = open(err_path, "wb")
    proc = subprocess.Popen([BOT], env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=err)
    wait_for(lambda: want in stderr(), 300, want)
    cpu = cpu_ns(proc.pid)  # the bot is idle once loaded
    lines = stderr().splitlines()
    t_ready = log_time([x for x in lines if "ready, we are bot" in x][0])
    t_jobs = log_time([x for x in lines if want in x][0])
    reqs = [r for r in fk.requests()[n0:] if r["method"] == "GET"]
    paths = [r["path"][len("/api/"):] for r in reqs
             if not r["path"].endswith(("status/info", "profile/"))]
    if os.environ.get("BENCH_JOBS_TRACE"):
        for r in reqs:
            print("  %7.1f ms +%6.1f ms  %s" % (
                (r["time"] - t_ready) * 1000, (r["duration"] or 0) * 1000,
                r["path"]), file=sys.stderr)
        print("  %7.1f ms jobs loaded" % ((t_jobs - t_ready) * 1000),
              file=sys.stderr)
    return t_jobs - t_ready, cpu, replay(fk, paths), paths


def stop_bot():
    if proc is not None and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    if err is not None:
        err.close()


try:
    loads = []
    for i in range(LOADS):
        if i > 0:
            stop_bot()
        loads.append(first_load())
    paths = loads[-1][3]
    time.sleep(3)
    rss_loaded = status_kb(proc.pid, "VmRSS")
    anon_loaded = status_kb(proc.pid, "RssAnon")
    file_loaded = status_kb(proc.pid, "RssFile")
    if os.environ.get("BENCH_JOBS_SMAPS"):
        with open("/proc/%d/smaps" % proc.pid) as f, \
                open(os.environ["BENCH_JOBS_SMAPS"], "w") as out:
            out.write(f.read())
    if os.environ.get("BENCH_JOBS_MSTATS"):
        n0 = len(stderr())
        subprocess.run(["gdb", "-p", str(proc.pid), "-batch", "-ex",
                        "call (void)malloc_stats()"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        print(stderr()[n0:], file=sys.stderr)
    # idle rate, then one unchanged refresh
    c0 = cpu_ns(proc.pid)
    time.sleep(2.0)
    idle_rate = (cpu_ns(proc.pid) - c0) / 2.0
    n_before = len(fk.requests())
    perf = None
    if os.environ.get("BENCH_JOBS_PERF"):
        perf = subprocess.Popen(["perf", "record", "-q", "--call-graph", "dwarf", "-o",
                                 os.environ["BENCH_JOBS_PERF"], "-p",
                                 str(proc.pid)])
        time.sleep(0.5)
    c0 = cpu_ns(proc.pid)
    t0 = time.monotonic()
    proc.send_signal(signal.SIGHUP)
    wait_for(lambda: len(fk.requests()) >= n_before + len(paths) and
             all(r["duration"] is not None for r in fk.requests()),
             60, "the refresh's requests")
    time.sleep(1.0)     # building and applying, in slices
    window = time.monotonic() - t0
    if perf is not None:
        perf.send_signal(signal.SIGINT)
        perf.wait()
    refresh_ms = (cpu_ns(proc.pid) - c0 - idle_rate * window) / 1e6
    rss_after = status_kb(proc.pid, "VmRSS")
    hwm = status_kb(proc.pid, "VmHWM")
    if "jobs: %d ping jobs (" % N in stderr().split(want, 1)[1]:
        print("bench-jobs: the refresh changed jobs", file=sys.stderr)
finally:
    stop_bot()
    fk.stop()

print("job loading: %d ping entities in %d accounts, %d requests"
      % (N, N_ACC, len(paths)))
print("  first load          %s ms (from readiness to \"%s\"; %d starts)"
      % (" ".join("%.0f" % (x[0] * 1000) for x in loads), want, LOADS))
print("  fake serving alone  %s ms (the same requests, one at a time)"
      % " ".join("%.0f" % (x[2] * 1000) for x in loads))
ratios = sorted(x[0] / x[2] for x in loads)
print("  ratio               %7.2f median (goal <= 1.5; each: %s)"
      % (ratios[len(ratios) // 2] if len(ratios) % 2 else
         (ratios[len(ratios) // 2 - 1] + ratios[len(ratios) // 2]) / 2,
         " ".join("%.2f" % (x[0] / x[2]) for x in loads)))
print("  bot CPU to loaded   %s ms (start-up included)"
      % " ".join("%.0f" % (x[1] / 1e6) for x in loads))
print("  RSS, jobs loaded    %7.1f MiB (goal <= 16 = 16384 KiB: %d KiB; "
      "%.1f anonymous, %.1f file-backed)"
      % (rss_loaded / 1024.0, rss_loaded, anon_loaded / 1024.0,
         file_loaded / 1024.0))
print("  RSS, after refresh  %7.1f MiB (%d KiB), peak %.1f MiB"
      % (rss_after / 1024.0, rss_after, hwm / 1024.0))
print("  unchanged refresh   %7.1f ms CPU (goal <= 50; idle %.2f ms/s "
      "subtracted)" % (refresh_ms, idle_rate / 1e6))
EOF
