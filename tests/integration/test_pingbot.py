"""pingbot against the fake backend with real ICMP: many loopback targets
(every 127.x.y.z answers) and ::1, addresses that never answer and
addresses answered by a scripted responder (both inside network namespaces
the test creates; no test packet leaves loopback and our own namespaces), a
name that does not resolve, a bad credential, and a start without
CAP_NET_RAW.  Paths and value ranges are asserted exactly."""

import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import unittest

from lib import ACCOUNT, Bot, BotTestCase, HostsFile, binary, wait_until

N_LOOPBACK = 60
# Documentation prefixes, routed into our own namespace only.
DEAD_V4 = "198.51.100.77"
DEAD_V4B = "198.51.100.78"
DEAD_V6 = "2001:db8:ffff::77"

FAST = {"n_packets": "3", "sleep_packets": "0.2", "timeout": "0.5",
        "retry": "0"}
PACKET_PATHS = ["p%d.%s" % (i, k) for i in range(3) for k in ("ok", "rtt")]
STAT_PATHS = ["rtt.min", "rtt.avg", "rtt.max", "rtt.stddev"]


def entity(name, details, credential="@fast", sensor="@every2"):
    return {"name": name, "entity_type": "device", "details": details,
            "protocols": {"ping": {"credential": credential, "bot": None,
                                   "sensors": [{"sensor": sensor,
                                                "interval": None}]}}}


def loopback(i):
    # Outside 127.0.0.0/16, which the other entities use.
    return "127.%d.%d.%d" % (1 + i // 62500, i // 250 % 250, 2 + i % 250)


def run(cmd):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True)


def require_netns():
    if os.geteuid() != 0 or shutil.which("ip") is None:
        raise unittest.SkipTest("needs root and iproute2 for ip netns")


def setup_steps(owner, steps):
    owner.up = True
    for cmd in steps:
        r = run(cmd)
        if r.returncode != 0:
            owner.teardown()
            raise unittest.SkipTest("%s: %s" % (" ".join(cmd),
                                                r.stderr.strip()))


def check_routes(owner, addrs):
    """Never ping unless the kernel really sends these into our veth."""
    for addr in addrs:
        fam = "-6" if ":" in addr else "-4"
        r = run(["ip", fam, "route", "get", addr])
        if r.returncode != 0 or (" dev %s " % owner.near) not in r.stdout:
            owner.teardown()
            raise unittest.SkipTest("route to %s is not ours: %s"
                                    % (addr, r.stdout + r.stderr))


class DeadEnd(object):
    """A veth pair whose far end sits DOWN in a namespace of our own, with
    /32 and /128 routes to the far end's addresses: packets to them go into
    our veth and nowhere else, and never get an answer."""

    def __init__(self):
        tag = "%d" % (os.getpid() % 100000)
        self.ns = "pbit" + tag
        self.near = "pbn" + tag
        self.far = "pbf" + tag
        self.up = False

    def setup(self):
        require_netns()
        setup_steps(self, [
            ["ip", "netns", "add", self.ns],
            ["ip", "link", "add", self.near, "type", "veth", "peer", "name",
             self.far],
            ["ip", "link", "set", self.far, "netns", self.ns],
            ["ip", "-n", self.ns, "addr", "add", DEAD_V4 + "/32", "dev",
             self.far],
            ["ip", "-n", self.ns, "-6", "addr", "add", DEAD_V6 + "/128",
             "dev", self.far, "nodad"],
            ["ip", "-n", self.ns, "link", "set", self.far, "down"],
            ["ip", "link", "set", self.near, "up"],
            ["ip", "route", "add", DEAD_V4 + "/32", "dev", self.near],
            ["ip", "route", "add", DEAD_V4B + "/32", "dev", self.near],
            ["ip", "-6", "route", "add", DEAD_V6 + "/128", "dev", self.near],
        ])
        check_routes(self, (DEAD_V4, DEAD_V4B, DEAD_V6))

    def teardown(self):
        if not self.up:
            return
        run(["ip", "link", "del", self.near])   # also removes the peer
        run(["ip", "netns", "del", self.ns])
        self.up = False


# Answers ICMP echo requests in its namespace (the kernel's own answers are
# off there) the way each address is told to, counting requests per address.
RESPONDER = r"""
import socket, struct, sys, threading, time

modes = dict(a.split("=") for a in sys.argv[1:])
rx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
tx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
count = {}


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return ~s & 0xffff


def reply(src, dst, ident, seq, payload, delay=0.0):
    icmp = struct.pack("!BBHHH", 0, 0, 0, ident, seq) + payload
    icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), 0, 0, 64, 1,
                     0, socket.inet_aton(src), socket.inet_aton(dst))
    if delay:
        threading.Timer(delay, tx.sendto, (ip + icmp, (dst, 0))).start()
    else:
        tx.sendto(ip + icmp, (dst, 0))


print("ready", flush=True)
while True:
    pkt = rx.recv(65535)
    ihl = (pkt[0] & 15) * 4
    src, dst = socket.inet_ntoa(pkt[12:16]), socket.inet_ntoa(pkt[16:20])
    mode = modes.get(dst)
    if mode is None or len(pkt) < ihl + 8 or pkt[ihl] != 8:
        continue
    ident, seq = struct.unpack("!HH", pkt[ihl + 4:ihl + 8])
    payload = pkt[ihl + 8:]
    n = count[dst] = count.get(dst, 0) + 1
    if mode == "odd-lost" and n % 2 == 1:
        continue
    if mode == "dup-stale":
        if n % 2 == 0:
            continue
        reply(dst, src, ident, seq, payload)
        reply(dst, src, ident, seq, payload)
        reply(dst, src, ident, seq, payload, 1.1)
    elif mode == "late":
        reply(dst, src, ident, seq, payload, 1.2)
    elif mode == "wrong-seq":
        reply(dst, src, ident, (seq + 1) & 0xffff, payload)
    else:
        reply(dst, src, ident, seq, payload)
"""

NEAR_V4 = "198.51.100.89"
RESPONDER_MODES = {
    "198.51.100.90": "odd-lost",    # with retry 1: every packet recovered
    "198.51.100.91": "odd-lost",    # without retry: every other one lost
    "198.51.100.92": "dup-stale",   # 2 copies now, a 3rd in the next round
    "198.51.100.93": "late",        # each answer lands in the next round
    "198.51.100.94": "wrong-seq",
    "198.51.100.95": "normal",
}


class Responder(object):
    """A namespace behind an UP veth whose addresses are answered by the
    RESPONDER script instead of the kernel."""

    def __init__(self):
        tag = "%d" % (os.getpid() % 100000)
        self.ns = "pbir" + tag
        self.near = "pbrn" + tag
        self.far = "pbrf" + tag
        self.up = False
        self.proc = None

    def setup(self):
        require_netns()
        steps = [
            ["ip", "netns", "add", self.ns],
            ["ip", "link", "add", self.near, "type", "veth", "peer", "name",
             self.far],
            ["ip", "link", "set", self.far, "netns", self.ns],
            ["ip", "netns", "exec", self.ns, "sysctl", "-q", "-w",
             "net.ipv4.icmp_echo_ignore_all=1"],
            ["ip", "-n", self.ns, "link", "set", self.far, "up"],
            ["ip", "addr", "add", NEAR_V4 + "/32", "dev", self.near],
            ["ip", "link", "set", self.near, "up"],
            ["ip", "-n", self.ns, "route", "add", NEAR_V4 + "/32", "dev",
             self.far],
        ]
        for addr in sorted(RESPONDER_MODES):
            steps.append(["ip", "-n", self.ns, "addr", "add", addr + "/32",
                          "dev", self.far])
            steps.append(["ip", "route", "add", addr + "/32", "dev",
                          self.near, "src", NEAR_V4])
        setup_steps(self, steps)
        check_routes(self, sorted(RESPONDER_MODES))
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", self.ns, sys.executable, "-c",
             RESPONDER] + ["%s=%s" % kv for kv in RESPONDER_MODES.items()],
            stdout=subprocess.PIPE, universal_newlines=True)
        if self.proc.stdout.readline().strip() != "ready":
            self.teardown()
            raise AssertionError("the ICMP responder did not start")

    def teardown(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc.stdout.close()
            self.proc = None
        if not self.up:
            return
        run(["ip", "link", "del", self.near])
        run(["ip", "netns", "del", self.ns])
        self.up = False


class HeldDns(threading.Thread):
    """A DNS server on 127.0.0.99:53 (UDP) that answers A queries with
    127.0.0.1 and others with no record, but only once released: until
    then every query waits, as with a name server that hangs."""

    ADDR = "127.0.0.99"

    def __init__(self):
        threading.Thread.__init__(self, daemon=True)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((self.ADDR, 53))
        self.sock.settimeout(0.05)
        self.queries = []
        self.answered = 0
        self.released = threading.Event()
        self.done = threading.Event()
        self.lock = threading.Lock()

    @staticmethod
    def answer(q):
        i = 12
        while q[i]:
            i += 1 + q[i]
        qtype = struct.unpack("!H", q[i + 1:i + 3])[0]
        question = q[12:i + 5]
        head = q[:2] + struct.pack("!HHHHH", 0x8180, 1, 1 if qtype == 1 else 0, 0, 0)
        rr = b""
        if qtype == 1:
            rr = struct.pack("!HHHIH", 0xc00c, 1, 1, 60, 4) + bytes([127, 0, 0, 1])
        return head + question + rr

    def run(self):
        held = []
        while not self.done.is_set():
            try:
                q, peer = self.sock.recvfrom(512)
                with self.lock:
                    self.queries.append(q)
                held.append((q, peer))
            except socket.timeout:
                pass
            if self.released.is_set():
                for q, peer in held:
                    self.sock.sendto(self.answer(q), peer)
                    with self.lock:
                        self.answered += 1
                held = []

    def stop(self):
        self.done.set()
        self.join(2)
        self.sock.close()


def file_job(eid, addr, details, interval):
    """One entity of a --jobs file, with its own credential and sensor."""
    return {"id": eid, "name": "job%d" % eid, "entity_type": "device",
            "details": {"ipv4": addr},
            "protocols": {"ping": {
                "credential": {"id": eid + 1, "name": "c%d" % eid,
                               "protocol": "ping", "details": details},
                "sensors": [{"sensor": {
                    "id": eid + 2, "name": "s%d" % eid, "protocol": "ping",
                    "default_interval": interval, "details": {}},
                    "interval": None}]}}}


def stdout_values(bot, eid, key="success"):
    """[(t, v), ...] of one entity's ping.<key> lines in --output stdout."""
    out = []
    for line in bot.stdout().splitlines():
        f = line.split()
        if len(f) == 3 and f[0] == "entity.%d.ping.%s" % (eid, key):
            out.append((float(f[2]), float(f[1])))
    return sorted(out)


class PingbotTest(BotTestCase):
    # Fixed routes and namespaces (DeadEnd, Responder), a DNS server on
    # 127.0.0.99:53, and raw ICMP sockets that see each other's replies:
    # one pingbot test at a time (run.py's -j).
    exclusive = "pingbot"

    def load(self, entities, credentials=()):
        acc = {"id": ACCOUNT, "name": "Test account", "entities": entities,
               "credentials": [{"name": "fast", "protocol": "ping",
                                "details": FAST}] + list(credentials),
               "sensors": [{"name": "every2", "protocol": "ping",
                            "default_interval": 2, "details": {}},
                           {"name": "every4", "protocol": "ping",
                            "default_interval": 4, "details": {}},
                           {"name": "every10", "protocol": "ping",
                            "default_interval": 10, "details": {}}]}
        return self.fake.load_fixtures({"accounts": [acc]})["accounts"][0]

    def runs(self, eid):
        """{suffix: [(t, v), ...]} of one entity's values."""
        prefix = "entity.%d.ping." % eid
        out = {}
        for v in self.values(prefix):
            out.setdefault(v["p"][len(prefix):], []).append((v["t"], v["v"]))
        for lst in out.values():
            lst.sort()
        return out

    def wait_runs(self, eids, n=2, timeout=30):
        for eid in eids:
            self.wait_values("entity.%d.ping.success" % eid, n, timeout)

    def assert_answered(self, eid):
        r = self.runs(eid)
        self.assertEqual(sorted(r), sorted(PACKET_PATHS + ["success"]
                                           + STAT_PATHS), eid)
        for k in ("p0.ok", "p1.ok", "p2.ok", "success"):
            self.assertTrue(all(v == 1 for _, v in r[k]), (eid, k, r[k]))
        for k in ("p0.rtt", "p1.rtt", "p2.rtt") + tuple(STAT_PATHS):
            self.assertTrue(all(0 <= v < 0.5 for _, v in r[k]),
                            (eid, k, r[k]))
        for (t, lo), (_, avg), (_, hi) in zip(r["rtt.min"], r["rtt.avg"],
                                              r["rtt.max"]):
            self.assertLessEqual(lo, avg)
            self.assertLessEqual(avg, hi)
        # The summary carries the first round's time; every packet value
        # carries its own round's time, sleep_packets (0.2 s) apart.
        self.assertEqual([t for t, _ in r["success"]],
                         [t for t, _ in r["p0.ok"]])
        self.assertEqual([t for t, _ in r["p1.rtt"]],
                         [t for t, _ in r["p1.ok"]])
        for (t0, _), (t1, _), (t2, _) in zip(r["p0.ok"], r["p1.ok"],
                                             r["p2.ok"]):
            self.assertGreater(t1 - t0, 0.15, r)
            self.assertGreater(t2 - t1, 0.15, r)
            self.assertLess(t2 - t0, 1.5, r)
        return r

    def assert_down(self, eid, n_packets=3):
        r = self.runs(eid)
        self.assertEqual(sorted(r), ["p%d.ok" % i for i in range(n_packets)]
                         + ["success"], (eid, r))
        for k, lst in r.items():
            self.assertTrue(all(v == 0 for _, v in lst), (eid, k, lst))

    def assert_clean_log(self, bot, allowed=()):
        for line in bot.stderr().splitlines():
            if " WARN " in line or " ERR" in line:
                self.assertTrue(any(a in line for a in allowed), line)

    def test_loopback_targets_and_ipv6(self):
        ents = [entity("lo%d" % i, {"ipv4": loopback(i)})
                for i in range(N_LOOPBACK)]
        ents.append(entity("v6", {"ipv6": "::1"}))
        ents.append(entity("same-a", {"ipv4": "127.0.0.1"}))
        ents.append(entity("same-b", {"host": "127.0.0.1"}))
        ents.append(entity("by-name", {"hostname": "localhost"}))
        acc = self.load(ents)
        ids = acc["entities"]
        bot = self.start_bot("pingbot")
        self.wait_runs(ids.values())
        self.assertEqual(bot.stop(), 0)
        firsts = set()
        for name, eid in ids.items():
            r = self.assert_answered(eid)
            if name.startswith("lo") or name == "v6":
                firsts.add(r["p0.ok"][0][0])
        # All targets due in the same tick went out in the same round.
        self.assertEqual(len(firsts), 1, firsts)
        for v in self.values():
            self.assertEqual(v["count"], 1, v)
        self.assertTrue(self.requests("PUT", "/values"))
        self.assert_clean_log(bot)
        self.assertIn("ICMP ready: IPv4 and IPv6", bot.stderr())

    def test_unanswered_target_is_down_alone(self):
        """Matrix: unreachable targets plus 100 reachable loopback ones give
        success=0 for the unreachable ones only."""
        dead = DeadEnd()
        dead.setup()
        self.addCleanup(dead.teardown)
        # A round now lasts the longest timeout plus the retries (0.9 s),
        # so runs take about 2.7 s: every 4 s leaves room.
        ents = [entity("lo%d" % i, {"ipv4": loopback(i)}, sensor="@every4")
                for i in range(100)]
        ents.append(entity("dead4", {"ipv4": DEAD_V4}, sensor="@every4"))
        ents.append(entity("dead6", {"ipv6": DEAD_V6}, sensor="@every4"))
        ents.append(entity("dead-retry", {"host": DEAD_V4B},
                           credential="@retry", sensor="@every4"))
        acc = self.load(ents, credentials=[{
            "name": "retry", "protocol": "ping",
            "details": {"n_packets": 3, "sleep_packets": 0.2,
                        "timeout": 0.6, "retry": 2}}])
        ids = acc["entities"]
        bot = self.start_bot("pingbot")
        self.wait_runs(ids.values())
        self.assertEqual(bot.stop(), 0)
        for name in ("dead4", "dead6", "dead-retry"):
            self.assert_down(ids[name])
        for i in range(100):
            r = self.runs(ids["lo%d" % i])
            self.assertEqual(sorted(r), sorted(PACKET_PATHS + ["success"]
                                               + STAT_PATHS))
            self.assertTrue(all(v == 1 for _, v in r["success"]), r)
        self.assert_clean_log(bot)

    def test_a_slow_job_never_delays_another(self):
        """Issue 13.1: job A (127.0.0.1, 1 packet, 0.5 s timeout, every 1 s)
        next to job B (a target that never answers, 100 packets 60 s apart
        with a 60 s timeout, every 60 s) in a --jobs file.  A delivers every
        second while B's run is still under way; B's credential, which
        cannot finish within its interval, is clamped with one warning."""
        dead = DeadEnd()
        dead.setup()
        self.addCleanup(dead.teardown)

        d = tempfile.mkdtemp(prefix="pingbot-it-")
        self.addCleanup(shutil.rmtree, d, True)
        jobs = os.path.join(d, "jobs.json")
        with open(jobs, "w") as f:
            json.dump([file_job(100, "127.0.0.1", {"n_packets": 1, "timeout": 0.5,
                                              "sleep_packets": 0, "retry": 0},
                           1),
                       file_job(200, DEAD_V4, {"n_packets": 100,
                                          "sleep_packets": 60,
                                          "timeout": 60, "retry": 0}, 60)], f)
        # B's run is still under way at the end; do not wait 8 s for it.
        bot = self.start_bot("pingbot", ["--jobs", jobs, "--output", "stdout"],
                             env={"SHUTDOWN_FLUSH_TIMEOUT": "1"},
                             backend=False)

        def success(eid):
            return stdout_values(bot, eid)

        wait_until(lambda: len(success(100)) >= 1, 15,
                   what="job A's first run")
        first = len(success(100))
        # Both jobs were due at start; B's run (one packet now, waiting
        # out its timeout) is in flight the whole time A keeps running.
        wait_until(lambda: len(success(100)) >= first + 10, 25,
                   what="10 more runs of job A; it has %d; stderr:\n%s"
                   % (len(success(100)), bot.stderr()[-2000:]))
        a = success(100)
        self.assertTrue(all(v == 1 for _, v in a), a)
        gaps = [t1 - t0 for (t0, _), (t1, _) in zip(a, a[1:])]
        self.assertLess(max(gaps), 3.0, a)
        self.assertEqual(success(200), [])
        self.assertEqual(bot.stop(), 0)
        err = bot.stderr()
        self.assertEqual(err.count("job 200 (job200): credential"), 1, err)
        self.assertIn("job 200 (job200): credential: 100 packets 60 s apart "
                      "with a 60 s timeout take up to 6000 s, more than "
                      "the job's 60 s interval; sending 1 packet with a "
                      "59 s timeout instead", err)
        self.assert_clean_log(bot, allowed=("job 200 (job200): credential",
                                            "runs still in progress"))

    def test_runs_of_one_credential_at_other_times_never_wait(self):
        """Jobs sharing a credential but due at different moments (a 3 s
        first-run spread) never wait for each other's batch: with
        unanswered targets a run lasts 3 s of a 4 s interval, so waiting
        for a batch already out would skip runs."""
        dead = DeadEnd()
        dead.setup()
        self.addCleanup(dead.teardown)
        cred = {"n_packets": 1, "sleep_packets": 0, "timeout": 3,
                "retry": 0}
        addrs = [DEAD_V4, DEAD_V4B, DEAD_V4, "127.0.0.5", DEAD_V4B,
                 "127.0.0.6", DEAD_V4]
        ids = [300 + 10 * i for i in range(len(addrs))]
        d = tempfile.mkdtemp(prefix="pingbot-it-")
        self.addCleanup(shutil.rmtree, d, True)
        jobs = os.path.join(d, "jobs.json")
        with open(jobs, "w") as f:
            json.dump([file_job(eid, a, cred, 4)
                       for eid, a in zip(ids, addrs)], f)
        bot = self.start_bot("pingbot", ["--jobs", jobs, "--output", "stdout"],
                             env={"JOBS_FIRST_RUN_SPREAD_MS": "3000",
                                  "SHUTDOWN_FLUSH_TIMEOUT": "5"},
                             backend=False)
        for eid in ids:
            wait_until(lambda: len(stdout_values(bot, eid)) >= 4, 40,
                       what="4 runs of job %d; stderr:\n%s"
                       % (eid, bot.stderr()[-2000:]))
        self.assertEqual(bot.stop(), 0)
        err = bot.stderr()
        self.assertNotIn("skipped (", err)
        self.assertNotIn("missed", err)
        self.assertRegex(err, r"exiting: \d+ runs, 0 skipped")
        for eid, a in zip(ids, addrs):
            want = 1 if a.startswith("127.") else 0
            vals = stdout_values(bot, eid)
            self.assertTrue(all(v == want for _, v in vals), (eid, vals))
            # Each run is stamped when its packet went out: 4 s apart
            # (give or take the wait for company and a loaded machine).
            gaps = [t1 - t0 for (t0, _), (t1, _) in zip(vals, vals[1:])]
            self.assertLess(max(gaps), 5.5, (eid, vals))
        self.assert_clean_log(bot)

    def test_worker_bound_is_kept_and_said(self):
        """PING_WORKERS bounds the batches out at once: with 1, a quick job
        waits while a slow one holds the only worker, and the bot says so
        once (rate-limited) instead of starting more threads."""
        dead = DeadEnd()
        dead.setup()
        self.addCleanup(dead.teardown)
        d = tempfile.mkdtemp(prefix="pingbot-it-")
        self.addCleanup(shutil.rmtree, d, True)
        jobs = os.path.join(d, "jobs.json")
        with open(jobs, "w") as f:
            json.dump([file_job(400, "127.0.0.1", {"n_packets": 1,
                                                   "timeout": 0.5}, 1),
                       file_job(500, DEAD_V4, {"n_packets": 1,
                                               "timeout": 3}, 4)], f)
        bot = self.start_bot("pingbot", ["--jobs", jobs, "--output", "stdout"],
                             env={"PING_WORKERS": "1"}, backend=False)
        bot.wait_log("all 1 ping workers are busy; ")
        wait_until(lambda: len(stdout_values(bot, 500)) >= 2, 20,
                   what="2 runs of the slow job")
        wait_until(lambda: len(stdout_values(bot, 400)) >= 3, 20,
                   what="3 runs of the quick job")
        self.assertEqual(bot.stop(), 0)
        err = bot.stderr()
        self.assertIn("up to 8192 targets per batch, 1 batch at once", err)
        self.assertEqual(err.count("ping workers are busy"), 1, err)
        self.assertTrue(all(v == 1 for _, v in stdout_values(bot, 400)))
        self.assertTrue(all(v == 0 for _, v in stdout_values(bot, 500)))

    def test_replies_are_matched_to_their_packet(self):
        resp = Responder()
        resp.setup()
        self.addCleanup(resp.teardown)
        # Rounds 1 s apart; a round waits 0.5 s, plus 0.25 s for a retry.
        slow = {"n_packets": 4, "sleep_packets": 1, "timeout": 0.5,
                "retry": 0}
        retry = dict(slow, retry=1)
        names = {"198.51.100.90": "retry", "198.51.100.91": "lossy",
                 "198.51.100.92": "dup", "198.51.100.93": "late",
                 "198.51.100.94": "wrong-seq", "198.51.100.95": "normal"}
        ents = [entity(n, {"ipv4": a},
                       credential="@retry" if n == "retry" else "@slow",
                       sensor="@every10") for a, n in names.items()]
        acc = self.load(ents, credentials=[
            {"name": "slow", "protocol": "ping", "details": slow},
            {"name": "retry", "protocol": "ping", "details": retry}])
        ids = acc["entities"]
        bot = self.start_bot("pingbot")
        self.wait_runs(ids.values(), n=1)
        self.assertEqual(bot.stop(), 0)

        def oks(name):
            r = self.runs(ids[name])
            return [r["p%d.ok" % i][0][1] for i in range(4)], r

        # The retry recovers every packet the first attempt lost.
        ok, r = oks("retry")
        self.assertEqual(ok, [1, 1, 1, 1], r)
        self.assertTrue(all(v < 0.25 for _, v in r["rtt.max"]), r)
        # Without retry, exactly the dropped requests are lost.
        ok, r = oks("lossy")
        self.assertEqual(ok, [0, 1, 0, 1], r)
        self.assertEqual(r["success"][0][1], 0.5)
        # Duplicates count once; a stale copy never fills a later loss.
        ok, r = oks("dup")
        self.assertEqual(ok, [1, 0, 1, 0], r)
        self.assertEqual(r["success"][0][1], 0.5)
        # Answers to an earlier round or with another sequence: lost.
        for name in ("late", "wrong-seq"):
            self.assert_down(ids[name], 4)
        ok, r = oks("normal")
        self.assertEqual(ok, [1, 1, 1, 1], r)
        self.assert_clean_log(bot)

    def test_unresolvable_name_and_bad_credential(self):
        ents = [entity("nowhere", {"host": "no-such-host.invalid"}),
                entity("fine", {"ipv4": "127.0.0.3"}),
                entity("broken", {"ipv4": "127.0.0.4"}, credential="@broken"),
                entity("no-target", {"snmp_index": "3"})]
        acc = self.load(ents, credentials=[{
            "name": "broken", "protocol": "ping",
            "details": {"n_packets": "three"}}])
        ids = acc["entities"]
        bot = self.start_bot("pingbot")
        self.wait_runs([ids["nowhere"], ids["fine"]], n=3)
        self.assertEqual(bot.stop(), 0)
        self.assert_down(ids["nowhere"])
        self.assert_answered(ids["fine"])
        self.assertEqual(self.values("entity.%d." % ids["broken"]), [])
        self.assertEqual(self.values("entity.%d." % ids["no-target"]), [])
        err = bot.stderr()
        # Said once, not once per run.
        self.assertEqual(err.count("(no-such-host.invalid): does not "
                                   "resolve: "), 1, err)
        self.assertIn("credential: n_packets must be a number, got "
                      "\"three\"", err)
        self.assertIn("entity details have no ipv4, ipv6 or host", err)
        self.assert_clean_log(bot, allowed=("does not resolve",
                                            "not polled"))

    def test_without_cap_net_raw_says_what_to_do(self):
        capsh = shutil.which("capsh")
        if os.geteuid() != 0 or capsh is None:
            raise unittest.SkipTest("needs root and capsh to drop a "
                                    "capability")
        path = binary("pingbot")
        d = tempfile.mkdtemp(prefix="pingbot-it-")
        self.addCleanup(shutil.rmtree, d, True)
        jobs = os.path.join(d, "jobs.json")
        with open(jobs, "w") as f:
            json.dump([entity("x", {"ipv4": "127.0.0.1"},
                              credential={"id": 1, "name": "c",
                                          "protocol": "ping",
                                          "details": FAST},
                              sensor={"id": 2, "name": "s",
                                      "protocol": "ping",
                                      "default_interval": 60,
                                      "details": {}})], f)
        bot = Bot(capsh, ["--drop=cap_net_raw", "--", "-c",
                          'exec "$0" "$@"', path, "--jobs", jobs, "--once"],
                  token=None)
        self.bots.append(bot)
        self.assertEqual(bot.wait(15), 1)
        err = bot.stderr()
        self.assertIn("CAP_NET_RAW", err)
        self.assertIn("FATAL", err)
        self.assertIn("setcap cap_net_raw=p %s" % path, err)
        self.assertIn("cap_add: [NET_RAW]", err)
        self.assertNotIn("Operation not permitted", err)
        self.assertEqual(bot.stdout(), "")

    def test_runs_unprivileged_with_only_cap_net_raw(self):
        """S3: as nobody with only CAP_NET_RAW (ambient, via setpriv) the
        bot pings, and that is the only capability it holds."""
        setpriv = shutil.which("setpriv")
        if os.geteuid() != 0 or setpriv is None:
            raise unittest.SkipTest("needs root and setpriv")
        path = binary("pingbot")
        d = path
        while d != "/":
            if os.stat(d).st_mode & 0o005 != 0o005:
                raise unittest.SkipTest("%s is not readable by nobody" % d)
            d = os.path.dirname(d)
        acc = self.load([entity("lo", {"ipv4": "127.0.0.1"})])
        eid = acc["entities"]["lo"]
        env = {"BACKEND_URL": self.fake.api_url, "JOBS_FIRST_RUN_SPREAD_MS": "0"}
        bot = Bot(setpriv, ["--reuid=65534", "--regid=65534", "--clear-groups",
                            "--inh-caps=-all,+net_raw",
                            "--ambient-caps=+net_raw", path], env)
        self.bots.append(bot)
        self.wait_runs([eid], n=1)
        self.assert_answered(eid)
        with open("/proc/%d/status" % bot.proc.pid) as f:
            status = dict(l.split(":", 1) for l in f.read().splitlines() if ":" in l)
        self.assertEqual(status["Uid"].split()[0], "65534")
        self.assertEqual(int(status["CapEff"], 16), 1 << 13)  # CAP_NET_RAW only
        self.assertEqual(bot.stop(), 0)

    def test_names_are_resolved_again_at_refresh(self):
        """The bot runs in a mount namespace whose /etc/hosts is a file the
        test edits: a name that did not resolve starts working, then moves
        to another address, each after a refresh (SIGHUP)."""
        hosts = HostsFile(self)
        write_hosts = hosts.write
        acc = self.load([entity("named", {"hostname": "pingtest.invalid"})])
        eid = acc["entities"]["named"]
        env = {"BACKEND_URL": self.fake.api_url,
               "JOBS_REFRESH_INTERVAL": "3600",
               "JOBS_FIRST_RUN_SPREAD_MS": "0"}
        bot = hosts.bot("pingbot", env)
        self.bots.append(bot)
        self.wait_values("entity.%d.ping.success" % eid, 1)
        self.assertEqual(self.values("entity.%d.ping.success" % eid)[0]["v"], 0)
        write_hosts("127.3.0.5 pingtest.invalid\n")
        bot.signal(signal.SIGHUP)
        bot.wait_log("job %d (pingtest.invalid): now resolves to 127.3.0.5"
                     % eid)
        wait_until(lambda: any(v["v"] == 1 for v in self.values(
            "entity.%d.ping.success" % eid)), what="an answered run")
        write_hosts("127.3.0.6 pingtest.invalid\n")
        bot.signal(signal.SIGHUP)
        bot.wait_log("now resolves to 127.3.0.6")
        write_hosts("")
        bot.signal(signal.SIGHUP)
        bot.wait_log("still pinging 127.3.0.6")
        self.assertEqual(bot.stop(), 0)

    def test_a_hanging_name_server_holds_up_nothing_else(self):
        """A name whose lookup hangs (a held DNS server, reached through a
        private resolv.conf in a mount namespace) does not delay the other
        targets, value delivery or refreshes; its own runs wait for the
        answer instead of reporting the device down, then ping it."""
        unshare = shutil.which("unshare")
        if os.geteuid() != 0 or unshare is None:
            raise unittest.SkipTest("needs root and unshare")
        d = tempfile.mkdtemp(prefix="pingbot-it-")
        self.addCleanup(shutil.rmtree, d, True)
        with open(os.path.join(d, "hosts"), "w") as f:
            f.write("127.0.0.1 localhost\n")
        with open(os.path.join(d, "resolv.conf"), "w") as f:
            f.write("nameserver %s\noptions timeout:30 attempts:1\n" % HeldDns.ADDR)
        try:
            dns = HeldDns()
        except OSError as ex:
            raise unittest.SkipTest("cannot bind %s:53: %s" % (HeldDns.ADDR, ex))
        dns.start()
        self.addCleanup(dns.stop)
        acc = self.load([entity("named", {"hostname": "held.example"}),
                         entity("fast", {"ipv4": "127.0.0.1"})])
        named, fast = acc["entities"]["named"], acc["entities"]["fast"]
        env = {"BACKEND_URL": self.fake.api_url, "JOBS_FIRST_RUN_SPREAD_MS": "0"}
        bot = Bot(unshare, ["-m", "sh", "-c",
                            'mount --bind "$0/hosts" /etc/hosts && '
                            'mount --bind "$0/resolv.conf" /etc/resolv.conf && exec "$1"',
                            d, binary("pingbot")], env)
        self.bots.append(bot)
        wait_until(lambda: dns.queries, 20, what="the bot's DNS query")
        self.wait_runs([fast], 2)
        n_lists = len(self.requests("GET", "/entities"))
        bot.signal(signal.SIGHUP)
        wait_until(lambda: len(self.requests("GET", "/entities")) > n_lists, 20,
                   what="a refresh")
        self.wait_runs([fast], 4)
        # all that happened while the lookup was still held
        self.assertEqual(dns.answered, 0)
        self.assertEqual(self.values("entity.%d." % named), [])
        dns.released.set()
        self.wait_runs([named], 1)
        self.assertEqual(bot.stop(), 0)
        self.assertTrue(all(v == 1 for _, v in self.runs(named)["success"]))
        self.assertNotIn("reporting it down", bot.stderr())


if __name__ == "__main__":
    unittest.main()
