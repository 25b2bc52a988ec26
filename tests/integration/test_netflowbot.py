"""netflowbot end to end: softflowd turns a traffic capture we build into
NetFlow v5 / v9 / IPFIX exports; the bot gets them over UDP on loopback
(with the fake backend) or from an export capture through --pcap, and its
totals and top lists must equal what nfdump computes over the same export
stream (nfcapd receives a copy of every datagram).  Hand-built datagrams
cover options templates, variable-length and enterprise fields, template
refresh and withdrawal, two exporters with the same template id and
sampled exports, and an unknown exporter is suggested as an entity."""

import collections
import csv
import io
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

from lib import ACCOUNT, Bot, BotTestCase, ROOT, binary, wait_until

import nfexport
import nfpcap

sys.path.insert(0, os.path.join(ROOT, "tests", "data", "netflow"))
import gen_cases as gc  # noqa: E402

T0 = 1700000000
PROTO = {1: "ICMP", 6: "TCP", 17: "UDP", 58: "IPv6-ICMP"}


def esc(ip):
    return ip.replace(".", "%2e").replace(":", "%3a")


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def free_privileged_udp_port():
    """A UDP port below 1024 that nothing holds on 127.0.0.1 now."""
    import random
    ports = list(range(600, 1000))
    random.shuffle(ports)
    for port in ports:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            s.close()
        return port
    raise unittest.SkipTest("no free UDP port below 1024")


def proc_ids(pid):
    """(real, effective, saved, fs) uids and gids of a process, and its
    supplementary groups, from /proc/<pid>/status."""
    ids = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("Uid", "Gid", "Groups"):
                ids[key] = [int(x) for x in rest.split()]
    return ids


def exporter_entity(name, details):
    return {"name": name, "entity_type": "device", "details": details,
            "protocols": {"netflow": {"credential": "@netflow_credential",
                                      "bot": None,
                                      "sensors": [{"sensor": "@netflow_sensor",
                                                   "interval": None}]}}}


def jobs_file(path, entities):
    """A --jobs file: [(id, details)]."""
    out = []
    for eid, details in entities:
        out.append({
            "id": eid, "name": "e%d" % eid, "entity_type": "device",
            "details": details,
            "protocols": {"netflow": {
                "credential": {"id": 1, "name": "NetFlow",
                               "protocol": "netflow", "details": {}},
                "sensors": [{"sensor": {"id": 2, "name": "NetFlow",
                                        "protocol": "netflow",
                                        "default_interval": None,
                                        "details": {}},
                             "interval": None}]}}})
    with open(path, "w") as f:
        json.dump(out, f)


class Nfdump(object):
    """nfcapd on a free loopback port; flows() reads what it stored."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="nf-nfcapd-")
        self.port = free_udp_port()
        self.proc = subprocess.Popen(
            ["nfcapd", "-b", "127.0.0.1", "-p", str(self.port), "-w",
             self.dir], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def flows(self):
        """Stops nfcapd and returns its flows as dicts (nfdump csv)."""
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=20)
        r = subprocess.run(["nfdump", "-R", self.dir, "-o", "csv"],
                           stdout=subprocess.PIPE, universal_newlines=True,
                           check=True)
        shutil.rmtree(self.dir, ignore_errors=True)
        lines = [ln for ln in r.stdout.splitlines()
                 if ln.count(",") > 10]
        return list(csv.DictReader(io.StringIO("\n".join(lines))))


def expected(flows):
    """Totals and top-10 lists from nfdump's flows, keyed like our
    paths (ingress: top source IPs)."""
    total = 0
    ip = collections.Counter()
    port = collections.Counter()
    proto = collections.Counter()
    conn = collections.Counter()
    for f in flows:
        b = int(f["ibyt"])
        total += b
        ip[f["sa"]] += b
        port[int(f["dp"])] += b
        proto[f["pr"]] += b
        conn[(f["sa"], f["da"])] += b
    return total, ip, port, proto, conn


def top10(counter):
    items = counter.most_common()
    # a tie at the 10th place could pick either: not in this data
    if len(items) > 10:
        assert items[9][1] != items[10][1], items[8:12]
    return dict(items[:10])


def parse_stdout(text):
    """{(path, t): value} from --output stdout lines."""
    out = {}
    for ln in text.splitlines():
        parts = ln.split()
        if len(parts) == 3 and parts[0].startswith("netflow."):
            out[(parts[0], float(parts[2]))] = float(parts[1])
    return out


class NetflowbotTest(BotTestCase):

    @classmethod
    def setUpClass(cls):
        nfexport.require_tools("softflowd", "softflowctl", "nfcapd", "nfdump")
        binary("netflowbot")
        cls.tmp = tempfile.mkdtemp(prefix="nf-it-")
        cls.traffic = os.path.join(cls.tmp, "traffic.pcap")
        nfpcap.write_pcap(cls.traffic, nfpcap.traffic(T0))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def export_to(self, version, extra, targets):
        """softflowd's exports of the traffic, sent on to targets; returns
        the (time, payload) list."""
        r = nfexport.Receiver(forward=targets)
        try:
            nfexport.softflowd(self.traffic, r.port, version, extra)
            wait_until(lambda: len(r.got) > 0, 10, what="exports")
            time.sleep(0.3)  # the last datagrams are on their way
        finally:
            r.close()
        return r.got

    def run_pcap(self, datagrams, entities, exporter="127.0.0.1", env=None,
                 records=None):
        """Runs netflowbot --pcap --once on an export capture; returns
        {(path, t): v} and the bot."""
        pcap = os.path.join(self.tmp, "exports-%d.pcap" % len(self.bots))
        if records is None:
            records = nfpcap.export_records(datagrams, exporter)
        nfpcap.write_pcap(pcap, records, nfpcap.DLT_RAW)
        jobs = os.path.join(self.tmp, "jobs-%d.json" % len(self.bots))
        jobs_file(jobs, entities)
        bot = self.start_bot("netflowbot", ["--jobs", jobs, "--pcap", pcap,
                                            "--once", "--output", "stdout"],
                             env=env, token=None, backend=False)
        self.assertEqual(bot.proc.wait(timeout=60), 0, bot.stderr()[-3000:])
        return parse_stdout(bot.stdout()), bot

    def check_against(self, vals, flows, entity, label, t=None):
        """vals (one window label) equal nfdump's totals and top lists."""
        total, ip, port, proto, conn = expected(flows)
        self.assertGreater(total, 0)

        def pick(path):
            got = {t_: v for (p, t_), v in vals.items() if p == path}
            self.assertEqual(len(got), 1, (path, got))
            return list(got.values())[0]

        base = "netflow.%s.ingress" % label
        ent = "%s.entity.%d" % (base, entity)
        self.assertEqual(pick(base), total)
        self.assertEqual(pick(ent), total)
        self.assertEqual(pick(ent + ".if.0"), total)
        for name, counter, fmt in (
                ("topip", ip, esc),
                ("topdstports", port, str),
                ("topprotocol", proto, str)):
            want = top10(counter)
            got = {p[len(ent) + len(name) + 2:]: v
                   for (p, _), v in vals.items()
                   if p.startswith(ent + "." + name + ".")}
            self.assertEqual(got, {fmt(k): v for k, v in want.items()},
                             name)
        want = top10(conn)
        got = {p[len(ent) + 9:]: v for (p, _), v in vals.items()
               if p.startswith(ent + ".topconn.")}
        self.assertEqual(got, {"%s.%s" % (esc(a), esc(b)): v
                               for (a, b), v in want.items()})
        # per interface: IP and protocol lists, not conn and ports
        got = {p for (p, _), v in vals.items()
               if p.startswith(ent + ".if.0.top")}
        self.assertEqual(len([p for p in got if ".topip." in p]),
                         len(top10(ip)))
        self.assertFalse([p for p in got if "topconn" in p or "dstports" in p])
        # egress: zero account totals, no entity values
        self.assertEqual(pick("netflow.%s.egress" % label), 0)

    # --- through --pcap, each version against nfdump -------------------

    def pcap_version(self, version, extra):
        nf = Nfdump()
        got = self.export_to(version, extra, [("127.0.0.1", nf.port)])
        flows = nf.flows()
        self.assertTrue(flows)
        # the capture's own clock: all exports in the minute after T0+130
        dgs = [(T0 + 130 + i * 0.01, p) for i, (_, p) in enumerate(got)]
        vals, bot = self.run_pcap(dgs, [(501, {"ipv4": "127.0.0.1"})])
        for label, end in (("1min", T0 + 160), ("15min", T0 + 1000),
                           ("1h", T0 + 2800), ("4h", T0 + 6400),
                           ("24h", T0 + 6400)):
            one = {k: v for k, v in vals.items()
                   if k[0].startswith("netflow.%s." % label)}
            self.assertTrue(one, label)
            self.assertEqual({t for (_, t) in one}, {float(end)}, label)
            self.check_against(one, flows, 501, label)
        self.assertIn("%d datagrams, %d flows" % (len(dgs), len(flows)),
                      bot.stderr())

    def test_pcap_v5_against_nfdump(self):
        self.pcap_version(5, ())

    def test_pcap_v9_against_nfdump(self):
        self.pcap_version(9, ("-6",))

    def test_pcap_ipfix_ms_against_nfdump(self):
        self.pcap_version(10, ("-6", "-A", "milli"))

    def test_pcap_ipfix_ns_against_nfdump(self):
        self.pcap_version(10, ("-6", "-A", "nano"))

    def test_pcap_windows_close_on_capture_clock(self):
        # the same exports in two minutes: two 1min windows, one 15min
        got = nfexport.export(self.traffic, 9, ("-6",))
        dgs = [(T0 + 130, p) for _, p in got] + \
              [(T0 + 230, p) for _, p in got]
        vals, _ = self.run_pcap(dgs, [(501, {"ipv4": "127.0.0.1"})])
        one = {t: v for (p, t), v in vals.items()
               if p == "netflow.1min.ingress"}
        self.assertEqual(sorted(one), [T0 + 160.0, T0 + 220.0, T0 + 280.0])
        self.assertEqual(one[T0 + 220.0], 0)  # the idle minute between
        self.assertEqual(one[T0 + 160.0], one[T0 + 280.0])
        q = {t: v for (p, t), v in vals.items()
             if p == "netflow.15min.ingress"}
        self.assertEqual(q, {T0 + 1000.0: 2 * one[T0 + 160.0]})

    def test_pcap_fragmented_exports_reassembled(self):
        # the same IPFIX exports whole and in IP fragments of at most 200
        # bytes (IPv4 and IPv6 exporters): the same values
        got = nfexport.export(self.traffic, 10, ("-6",))
        dgs = [(T0 + 130 + i * 0.01, p) for i, (_, p) in enumerate(got)]
        self.assertTrue(any(len(p) > 400 for _, p in dgs))
        for eid, exporter, details in (
                (501, "127.0.0.1", {"ipv4": "127.0.0.1"}),
                (502, "2001:db8::9", {"ipv6": "2001:db8::9"})):
            whole, _ = self.run_pcap(dgs, [(eid, details)],
                                     exporter=exporter)
            self.assertIn(("netflow.1min.ingress.entity.%d" % eid,
                           float(T0 + 160)), whole)
            recs = nfpcap.fragment(
                nfpcap.export_records(dgs, exporter), 200)
            self.assertGreater(len(recs), 2 * len(dgs))
            vals, bot = self.run_pcap(None, [(eid, details)], records=recs)
            self.assertEqual(vals, whole, exporter)
            self.assertIn("%d datagrams" % len(dgs), bot.stderr())

    # --- live over UDP with the fake backend, against nfdump -----------

    def test_live_udp_v9_against_nfdump_and_suggestion(self):
        ids = self.fake.load_fixtures({"accounts": [
            {"id": ACCOUNT, "name": "Test account",
             "entities": [exporter_entity("router", {"ipv4": "127.0.0.1"})]}]})
        eid = list(ids["accounts"][0]["entities"].values())[0]
        port = free_udp_port()
        bot = self.start_bot("netflowbot", env={
            "NETFLOW_PORT": str(port), "NETFLOW_EMIT_INTERVAL": "1",
            "NETFLOW_SUGGEST_INTERVAL": "1", "NETFLOW_RCVBUF": "1048576"})
        bot.wait_log("input: UDP port %d" % port)
        bot.wait_log("jobs: 1 netflow job")
        nf = Nfdump()
        # keep the export burst inside one minute
        wait_until(lambda: time.time() % 60 < 45, 20, what="minute start")
        got = self.export_to(9, ("-6",), [("127.0.0.1", port),
                                          ("127.0.0.1", nf.port)])
        flows = nf.flows()
        minute = int(got[0][0]) // 60 * 60
        self.assertEqual(int(got[-1][0]) // 60 * 60, minute)
        end = minute + 60
        # an exporter that is no entity: counted and suggested
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.3", 0))
        s.sendto(gc.v5(1), ("127.0.0.1", port))
        s.close()
        wait_until(lambda: any(e["name"] == "127.0.0.3 (NetFlow exporter)"
                               and e["details"] == {"ipv4": "127.0.0.3"}
                               for e in self.fake.state()["accounts"][0]["entities"]),
                   30, what="the exporter suggestion")
        wait_until(lambda: [v for v in self.values("netflow.1min.ingress")
                            if v["p"] == "netflow.1min.ingress"
                            and v["t"] == end], 90,
                   what="the 1min window ending at %d" % end)
        vals = {(v["p"], v["t"]): v["v"]
                for v in self.values("netflow.1min.") if v["t"] == end}
        self.check_against(vals, flows, eid, "1min")
        self.assertEqual(bot.stop(), 0)
        err = bot.stderr()
        self.assertIn("exporter 127.0.0.3 is not a NetFlow entity", err)
        self.assertIn("suggested 1 NetFlow exporter", err)

    # --- live capture and IPv6 --------------------------------------------

    def test_live_capture_on_loopback(self):
        if os.geteuid() != 0:
            raise unittest.SkipTest("live capture needs root")
        self.fake.load_fixtures({"accounts": [
            {"id": ACCOUNT, "name": "Test account",
             "entities": [exporter_entity("router", {"ipv4": "127.0.0.1"})]}]})
        port = free_udp_port()  # nobody listens there: we only capture
        bot = self.start_bot("netflowbot", ["--pcap-live", "lo"], env={
            "NETFLOW_PCAP_FILTER": "udp and dst port %d" % port,
            "NETFLOW_STATS_INTERVAL": "1"})
        bot.wait_log("input: live capture on lo")
        bot.wait_log("jobs: 1 netflow job")
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.sendto(gc.v5(3), ("127.0.0.1", port))
        s.close()
        bot.wait_log("netflow: 1 datagrams, 3 flows (0 from unknown")
        self.assertEqual(bot.stop(), 0)

    def test_ipv6_exporter_over_udp(self):
        if not socket.has_ipv6:
            raise unittest.SkipTest("no IPv6")
        self.fake.load_fixtures({"accounts": [
            {"id": ACCOUNT, "name": "Test account",
             "entities": [exporter_entity("router6", {"ipv6": "::1"})]}]})
        port = free_udp_port()
        bot = self.start_bot("netflowbot", env={
            "NETFLOW_PORT": str(port), "NETFLOW_STATS_INTERVAL": "1"})
        bot.wait_log("input: UDP port %d" % port)
        bot.wait_log("jobs: 1 netflow job")
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.sendto(gc.v5(2), ("::1", port))
        s.close()
        bot.wait_log("netflow: 1 datagrams, 2 flows (0 from unknown")
        self.assertNotIn("is not a NetFlow entity", bot.stderr())
        self.assertEqual(bot.stop(), 0)

    # --- privilege drop (test-matrix S4) ------------------------------------

    def test_user_drops_root_after_binding_a_privileged_port(self):
        if os.geteuid() != 0:
            raise unittest.SkipTest("needs root")
        import pwd
        nobody = pwd.getpwnam("nobody")
        ids = self.fake.load_fixtures({"accounts": [
            {"id": ACCOUNT, "name": "Test account",
             "entities": [exporter_entity("router", {"ipv4": "127.0.0.1"})]}]})
        eid = list(ids["accounts"][0]["entities"].values())[0]
        port = free_privileged_udp_port()
        bot = self.start_bot("netflowbot", ["--user", "nobody"], env={
            "NETFLOW_PORT": str(port), "NETFLOW_BIND": "127.0.0.1",
            "NETFLOW_EMIT_INTERVAL": "1", "NETFLOW_STATS_INTERVAL": "1"})
        bot.wait_log("input: UDP port %d" % port)
        bot.wait_log("privileges dropped: now running as user nobody, "
                     "uid %d, gid %d" % (nobody.pw_uid, nobody.pw_gid))
        bot.wait_log("jobs: 1 netflow job")
        # before any datagram: every uid and gid is nobody's, no root group
        st = proc_ids(bot.proc.pid)
        self.assertEqual(st["Uid"], [nobody.pw_uid] * 4, st)
        self.assertEqual(st["Gid"], [nobody.pw_gid] * 4, st)
        self.assertEqual(st["Groups"], [nobody.pw_gid], st)
        self.assertNotIn("netflow: 1 datagrams", bot.stderr())
        sent = time.time()
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.sendto(gc.v5(2), ("127.0.0.1", port))
        s.close()
        bot.wait_log("netflow: 1 datagrams, 2 flows (0 from unknown")
        path = "netflow.1min.ingress.entity.%s" % eid
        got = wait_until(lambda: [v for v in self.values(path)
                                  if v["p"] == path and v["t"] > sent],
                         90, what="the 1min window after the datagram")
        self.assertEqual(got[0]["v"], 2000)
        self.assertEqual(bot.stop(), 0)

    def test_user_root_or_unknown_refused(self):
        if os.geteuid() != 0:
            raise unittest.SkipTest("needs root")
        for user, why in (("root", 'user "root" has uid 0: refusing to run '
                                   'as root'),
                          ("no-such-user", 'no such user "no-such-user"')):
            bot = self.start_bot("netflowbot", ["--user", user], env={
                "NETFLOW_PORT": str(free_udp_port()),
                "NETFLOW_BIND": "127.0.0.1"})
            self.assertEqual(bot.wait(), 1, bot.stderr()[-2000:])
            err = bot.stderr()
            self.assertIn("FATAL netflowbot: cannot switch to user %s "
                          "(--user/NETFLOW_USER): %s" % (user, why), err)
            self.assertNotIn("privileges dropped", err)

    def test_account_bot_suggestion_refused_once(self):
        account_token = "0badc0de-0bad-4c0d-8bad-c0de0badc0de"
        self.fake.load_fixtures({
            "accounts": [{"id": ACCOUNT, "name": "Test account",
                          "entities": [exporter_entity(
                              "router", {"ipv4": "127.0.0.1"})]}],
            "bots": [{"token": account_token, "id": 1234567,
                      "account": ACCOUNT}]})
        port = free_udp_port()
        bot = self.start_bot("netflowbot", token=account_token, env={
            "NETFLOW_PORT": str(port), "NETFLOW_SUGGEST_INTERVAL": "1",
            "NETFLOW_STATS_INTERVAL": "1"})
        bot.wait_log("jobs: 1 netflow job")
        for addr in ("127.0.0.3", "127.0.0.4"):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((addr, 0))
            s.sendto(gc.v5(1), ("127.0.0.1", port))
            s.close()
        bot.wait_log("does not let this bot write entities")
        # several suggestion rounds later: still the one refused write
        n = bot.stderr().count("netflow: ")
        wait_until(lambda: bot.stderr().count("netflow: ") >= n + 4, 20,
                   what="four more counter lines")
        writes = [r for r in self.fake.requests()
                  if r["method"] == "POST" and "/entities" in r["path"]]
        self.assertLessEqual(len(writes), 2, writes)  # one round, v4 only
        self.assertTrue(all(r["status"] == 403 for r in writes), writes)
        err = bot.stderr()
        self.assertEqual(err.count("does not let this bot write entities"),
                         1, err)
        self.assertEqual(bot.stop(), 0)

    # --- checkpoint ------------------------------------------------------

    def test_checkpoint_restart_loses_no_window(self):
        ids = self.fake.load_fixtures({"accounts": [
            {"id": ACCOUNT, "name": "Test account",
             "entities": [exporter_entity("router", {"ipv4": "127.0.0.1"})]}]})
        eid = list(ids["accounts"][0]["entities"].values())[0]
        state = os.path.join(self.tmp, "nf.state")
        port = free_udp_port()
        env = {"NETFLOW_PORT": str(port), "NETFLOW_EMIT_INTERVAL": "1",
               "NETFLOW_STATS_INTERVAL": "1", "NETFLOW_STATE_FILE": state,
               "NETFLOW_RCVBUF": "1048576"}
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        bot = self.start_bot("netflowbot", env=env)
        bot.wait_log("checkpoint: %s does not exist yet" % state)
        bot.wait_log("jobs: 1 netflow job")
        wait_until(lambda: time.time() % 60 < 40, 25, what="minute start")
        end = int(time.time()) // 60 * 60 + 60
        s.sendto(gc.v5(2), ("127.0.0.1", port))  # 2 x 1000 bytes
        bot.wait_log("netflow: 1 datagrams, 2 flows")
        self.assertEqual(bot.stop(), 0)
        self.assertTrue(os.path.exists(state))
        # the restarted bot has the first 2000 bytes of the open window
        bot = self.start_bot("netflowbot", env=env)
        bot.wait_log("checkpoint: restored the windows of 1 account")
        bot.wait_log("jobs: 1 netflow job")
        s.sendto(gc.v5(3), ("127.0.0.1", port))
        s.close()
        path = "netflow.1min.ingress.entity.%d" % eid
        got = wait_until(lambda: [v for v in self.values(path)
                                  if v["p"] == path and v["t"] == end], 90,
                         what="the 1min window ending at %d" % end)
        self.assertEqual(got[0]["v"], 5000)
        self.assertEqual(bot.stop(), 0)
        # a corrupt checkpoint is reported and ignored
        with open(state, "r+b") as f:
            f.seek(40)
            f.write(b"garbage")
        bot = self.start_bot("netflowbot", env=env)
        bot.wait_log("checkpoint %s ignored: checksum mismatch" % state)
        bot.wait_log("jobs: 1 netflow job")
        self.assertEqual(bot.stop(), 0)

    # --- hand-built edge cases ------------------------------------------

    def test_edge_cases_hand_built(self):
        e1, e2 = "127.0.0.1", "127.0.0.2"
        t = T0 + 10
        recs = []

        def add(exporter, payload, dt=0.0):
            recs.extend(nfpcap.export_records([(t + dt, payload)], exporter))

        # two exporters, same template id 256, different layouts
        add(e1, gc.ipfix([gc.fs(2, gc.tmplx(256, [(8, 4), (12, 4), (1, 4),
                                                  (11, 2), (4, 1)])),
                          gc.fs(256, bytes([10, 9, 0, 1, 192, 0, 2, 9]) +
                                struct.pack("!IHB", 1000, 80, 6))]))
        add(e2, gc.ipfix([gc.fs(2, gc.tmplx(256, [(1, 8), (8, 4), (4, 1)])),
                          gc.fs(256, struct.pack("!Q", 2000) +
                                bytes([10, 9, 0, 2, 17]))]))
        # data only, later: each exporter's own template decodes it
        add(e1, gc.ipfix([gc.fs(256, bytes([10, 9, 0, 1, 192, 0, 2, 9]) +
                                struct.pack("!IHB", 100, 80, 6))]), 1)
        add(e2, gc.ipfix([gc.fs(256, struct.pack("!Q", 200) +
                                bytes([10, 9, 0, 2, 17]))]), 1)
        # variable-length and enterprise fields between the ones we read
        add(e1, gc.ipfix([gc.fs(2, gc.tmplx(300, [(8, 4), (82, 0xffff),
                                                  (100, 4, 9), (1, 4),
                                                  (200, 0xffff, 29305),
                                                  (4, 1)])),
                          gc.fs(300, bytes([10, 9, 0, 3]) + b"\x03eth" +
                                b"\0" * 4 + struct.pack("!I", 30) +
                                b"\xff\x00\x02ab" + b"\x06")]), 2)
        # template refresh with another layout, then withdrawal
        add(e1, gc.ipfix([gc.fs(2, gc.tmplx(300, [(1, 4), (8, 4)])),
                          gc.fs(300, struct.pack("!I", 40) +
                                bytes([10, 9, 0, 4]))]), 3)
        add(e1, gc.ipfix([gc.fs(2, gc.tmplx(300, [])),
                          gc.fs(300, struct.pack("!I", 999999) +
                                bytes([10, 9, 0, 5]))]), 4)
        # options template: sampling 1 in 100 by selector id 7 (v9
        # options with sampler id + interval for the other exporter)
        add(e1, gc.ipfix([gc.fs(3, gc.optx(301, 1, [(302, 4), (305, 4),
                                                    (306, 4)])),
                          gc.fs(301, struct.pack("!III", 7, 1, 99)),
                          gc.fs(2, gc.tmplx(302, [(8, 4), (1, 4), (302, 4),
                                                  (4, 1)])),
                          gc.fs(302, bytes([10, 9, 0, 6]) +
                                struct.pack("!IIB", 5, 7, 1))]), 5)
        add(e2, gc.v9([gc.fs(1, gc.opt9(400, [(1, 4)], [(48, 1), (34, 4)])),
                       gc.fs(400, struct.pack("!IBI", 0, 3, 50) + b"\0" * 3),
                       gc.fs(0, gc.tmpl9(401, gc.V9_FIELDS + [(48, 1)])),
                       gc.fs(401, gc.v9rec(7, 10) + b"\3")]), 6)
        # NetFlow v5 with a sampled header (mode 1, interval 10)
        add(e2, gc.v5(1, sampling=0x4000 | 10), 7)
        vals, bot = self.run_pcap(None, [(601, {"ipv4": e1}),
                                         (602, {"ipv4": e2})], records=recs)
        end = float(T0 + 40)  # T0 + 10 is in the minute T0 - 20 .. T0 + 40

        def v(path):
            return vals.get((path, end))

        ent1 = "netflow.1min.ingress.entity.601"
        ent2 = "netflow.1min.ingress.entity.602"
        self.assertEqual(v(ent1 + ".topip.10%2e9%2e0%2e1"), 1100)
        self.assertEqual(v(ent2 + ".topip.10%2e9%2e0%2e2"), 2200)
        self.assertEqual(v(ent1 + ".topip.10%2e9%2e0%2e3"), 30)
        self.assertEqual(v(ent1 + ".topip.10%2e9%2e0%2e4"), 40)
        self.assertIsNone(v(ent1 + ".topip.10%2e9%2e0%2e5"))  # withdrawn
        self.assertEqual(v(ent1 + ".topip.10%2e9%2e0%2e6"), 500)  # x100
        self.assertEqual(v(ent2 + ".topip.10%2e0%2e0%2e7"), 500)  # 10 x 50
        self.assertEqual(v(ent2 + ".topip.10%2e0%2e0%2e1"), 10000)  # v5 x10
        self.assertEqual(v(ent1), 1100 + 30 + 40 + 500)
        self.assertEqual(v(ent2), 2200 + 500 + 10000)
        self.assertEqual(v("netflow.1min.ingress"), 1670 + 12700)
        self.assertEqual(v(ent1 + ".topprotocol.ICMP"), 500)
        self.assertEqual(v(ent2 + ".topprotocol.UDP"), 2200)
        self.assertIn("without template", bot.stderr())

    def test_cisco_asa_nsel_events(self):
        """A Cisco ASA (NSEL, NetFlow v9) counts both directions of a
        connection in one record (initiator/responder octets, IEs 231/232)
        and reports it in events: create (no counts), flow-update (bytes
        since the last one) and teardown (the connection's total).  Each
        direction is counted once, with its own source, ports and
        interfaces; a teardown after updates is not counted again."""
        asa = [(148, 4), (8, 4), (7, 2), (10, 2), (12, 4), (11, 2), (14, 2),
               (4, 1), (233, 1), (231, 4), (232, 4), (298, 4), (299, 4)]

        def rec(conn, src, sport, dst, dport, proto, event, ib, rb):
            return struct.pack("!I4sHH4sHHBBIIII", conn, bytes(src), sport,
                               3, bytes(dst), dport, 4, proto, event, ib, rb,
                               max(1, ib // 100), max(1, rb // 100))

        a, b, c = [10, 0, 0, 1], [10, 0, 0, 2], [10, 0, 0, 9]
        t = T0 + 10
        dgs = [
            (t, gc.v9([gc.fs(0, gc.tmpl9(263, asa)),
                       gc.fs(263, rec(100, a, 40000, b, 443, 6, 1, 0, 0) +
                             rec(100, a, 40000, b, 443, 6, 5, 1000, 5000))])),
            (t + 1, gc.v9([gc.fs(263,
                                 rec(100, a, 40000, b, 443, 6, 5, 10, 20) +
                                 rec(100, a, 40000, b, 443, 6, 2, 1010, 5020) +
                                 rec(200, c, 40001, b, 53, 17, 2, 60, 120))]))]
        vals, bot = self.run_pcap(dgs, [(701, {"ipv4": "127.0.0.1"})])
        end = float(T0 + 40)
        ent = "netflow.1min.ingress.entity.701"

        def v(path):
            return vals.get((path, end))

        self.assertEqual(v(ent), 1010 + 5020 + 60 + 120)
        self.assertEqual(v(ent + ".if.3"), 1010 + 60)
        self.assertEqual(v(ent + ".if.4"), 5020 + 120)
        self.assertEqual(v(ent + ".topip.10%2e0%2e0%2e1"), 1010)
        self.assertEqual(v(ent + ".topip.10%2e0%2e0%2e2"), 5020 + 120)
        self.assertEqual(v(ent + ".topip.10%2e0%2e0%2e9"), 60)
        self.assertEqual(v(ent + ".topdstports.443"), 1010)
        self.assertEqual(v(ent + ".topdstports.40000"), 5020)
        self.assertEqual(v(ent + ".topdstports.40001"), 120)
        self.assertEqual(v(ent + ".topprotocol.TCP"), 6030)
        self.assertEqual(v(ent + ".topprotocol.UDP"), 180)

    def test_bad_input_logged_and_nothing_else_lost(self):
        recs = []
        bad = sorted(os.listdir(os.path.join(ROOT, "tests", "data",
                                             "netflow", "cases")))
        for i, name in enumerate(bad):
            with open(os.path.join(ROOT, "tests", "data", "netflow",
                                   "cases", name), "rb") as f:
                recs.extend(nfpcap.export_records([(T0 + 1 + i * 0.01,
                                                    f.read())], "127.0.0.9"))
        recs.extend(nfpcap.export_records([(T0 + 5, gc.v5(2))], "127.0.0.1"))
        vals, bot = self.run_pcap(None, [(701, {"ipv4": "127.0.0.1"})],
                                  records=recs)
        self.assertEqual(vals[("netflow.1min.ingress.entity.701",
                               T0 + 40.0)], 2000)
        err = bot.stderr()
        self.assertIn("exporter 127.0.0.9: ", err)
        # rate-limited: one line per exporter per 10 s, not one per file
        self.assertLess(err.count("exporter 127.0.0.9: "), 3)


if __name__ == "__main__":
    unittest.main()
