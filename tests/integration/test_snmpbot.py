"""snmpbot against the fake backend and real agents on loopback ports:
Debian's snmpd with its own config (v1 and v2c communities, SNMPv3 authPriv
users) and snmpsim serving a recorded device the test writes (an ifTable
whose ifDescr hold spaces, slashes and a NUL; counters that grow at known
rates, one Counter32 about to wrap, a Counter64 above 2^63; an lmsensors
table).  Values are checked against snmpbulkwalk/snmpget of the same agent,
rates against the known slopes, and Grafolean's default SNMP sensors are
used as every new account gets them.  Also: a device that never answers
among ones that do, an unknown OID, v1 (GETNEXT, noSuchName) and an SNMPv3
user with the wrong key."""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from lib import ACCOUNT, BotTestCase, HostsFile, wait_until

LA_NAMES = "1.3.6.1.4.1.2021.10.1.2"    # UCD laNames: Load-1, Load-5, Load-15
LA_CONFIG = "1.3.6.1.4.1.2021.10.1.4"   # UCD laConfig: the thresholds, text
SYS_SERVICES = "1.3.6.1.2.1.1.7.0"
UNKNOWN = "1.3.6.1.4.1.99999.1.0"
V3_USER = ("v3user", "authpass123", "privpass123")
V3_OTHER = ("v3other", "otherauth123", "otherpriv123")

IF_DESCR = "1.3.6.1.2.1.2.2.1.2"
IF_IN = "1.3.6.1.2.1.2.2.1.10"
IF_OUT = "1.3.6.1.2.1.2.2.1.16"
IF_SPEED = "1.3.6.1.2.1.2.2.1.5"
ACCOUNT_BOT_TOKEN = "0badc0de-0000-4000-8000-00000000abcd"
LM_DEV = "1.3.6.1.4.1.2021.13.16.2.1.2"
LM_VAL = "1.3.6.1.4.1.2021.13.16.2.1.3"
# (index, ifDescr bytes, its slug as the official bot makes it, in rate,
#  out rate); row 2's Counter32 wraps a few seconds after the start, row
#  3's Counter64 starts above 2^63 (where snmpsim computes in floating
#  point, in steps of 2048: hence its high rate).
IF_ROWS = [
    (1, b"Port 1/0/1 (uplink)", "Port-1-0-1-uplink", 1000, 5000),
    (2, b"MS TCP Loopback interface\0", "MS-TCP-Loopback-interface", 250, 7),
    (3, b"/usr/local", "usr-local", 40, 10000000),
]
LM_ROWS = [(1, b"Core 0", "Core-0", 45000), (2, b"temp/1", "temp-1", 51500),
           (3, b"no value", None, None)]


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def need(*tools):
    for t in tools:
        if shutil.which(t) is None:
            raise unittest.SkipTest("%s is not installed" % t)


def snmp_cmd(tool, port, oid, version="2c", community="public",
             host="127.0.0.1"):
    """Runs a net-snmp tool; returns {oid: value text} (strings as hex)."""
    cmd = [tool, "-v" + version, "-c", community, "-On", "-Oq", "-Ox",
           "-Oe", "-Ot", "-t", "2", "-r", "2", "%s:%d" % (host, port), oid]
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         universal_newlines=True, check=True,
                         env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                              "MIBS": ""}).stdout
    res = {}
    for line in out.splitlines():
        name, _, value = line.partition(" ")
        res[name.lstrip(".")] = value.strip()
    return res


def hex_text(v):
    return bytes.fromhex(v.strip('"').replace(" ", "")).decode()


class Snmpd(object):
    """snmpd on a random loopback port with a config of its own (or on
    addr:port, telling itself apart by its sysServices)."""

    def __init__(self, addr="127.0.0.1", port=None, services=72,
                 engine_id=None, communities=(), v3_users=()):
        need("snmpd", "snmpget", "snmpbulkwalk")
        self.dir = tempfile.mkdtemp(prefix="snmp-it-")
        self.addr = addr
        self.port = port or free_udp_port()
        conf = os.path.join(self.dir, "snmpd.conf")
        with open(conf, "w") as f:
            f.write("agentAddress udp:%s:%d\n" % (addr, self.port))
            f.write("rocommunity public 127.0.0.0/8\n")
            f.write("rocommunity oldv1 127.0.0.0/8\n")
            for c in communities:
                f.write('rocommunity "%s" 127.0.0.0/8\n' % c)
            f.write("load 12 10 5\n")
            f.write("sysservices %d\n" % services)
            if engine_id is not None:
                f.write("engineID %s\n" % engine_id)
            for user, auth, priv in (V3_USER, V3_OTHER):
                f.write('createUser %s SHA "%s" AES "%s"\n' % (user, auth, priv))
                f.write("rouser %s priv\n" % user)
            for u in v3_users:
                # (user, auth protocol, auth key, priv key[, priv protocol])
                user, proto, auth, priv = u[:4]
                privproto = u[4] if len(u) > 4 else "AES"
                f.write('createUser %s %s "%s" %s "%s"\n'
                        % (user, proto, auth, privproto, priv))
                f.write("rouser %s priv\n" % user)
        self.conf = conf
        self.keep = engine_id is not None
        self.start()

    def start(self):
        env = dict(os.environ, SNMP_PERSISTENT_DIR=os.path.join(self.dir, "p"),
                   MIBS="")
        conf = ["-C", "-c", self.conf]
        if self.keep:
            # Only the test's config and the persistent file (engineBoots
            # and the engine ID are kept there; -C would skip it).
            env["SNMPCONFPATH"] = "%s:%s" % (self.dir, env["SNMP_PERSISTENT_DIR"])
            conf = []
        self.proc = subprocess.Popen(
            ["snmpd", "-f", "-Lf", os.path.join(self.dir, "log")] + conf +
            ["-p", os.path.join(self.dir, "pid"), "-M", "/nonexistent",
             "-m", ""], env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def up():
            try:
                return snmp_cmd("snmpget", self.port, SYS_SERVICES,
                                host=self.addr)
            except subprocess.CalledProcessError:
                return None
        wait_until(up, 20, 0.2, "snmpd on %s:%d" % (self.addr, self.port))

    def restart(self):
        """The agent restarts on the same port: sysUpTime from 0; a new
        engine ID unless one was named, and then engineBoots one more."""
        self.proc.terminate()
        self.proc.wait(10)
        self.start()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


class Snmpsim(object):
    """snmpsimd serving public.snmprec: a recorded device with counters
    that grow at known rates (its numeric variation module)."""

    def __init__(self, extra=()):
        need("snmpsimd", "snmpbulkwalk")
        self.dir = tempfile.mkdtemp(prefix="snmp-sim-")
        os.chmod(self.dir, 0o755)
        data = os.path.join(self.dir, "data")
        cache = os.path.join(self.dir, "cache")
        os.mkdir(data)
        os.mkdir(cache)
        os.chmod(data, 0o755)
        os.chmod(cache, 0o777)
        recs = [("1.3.6.1.2.1.1.3.0", "67", "4200")]
        for idx, descr, _, rin, rout in IF_ROWS:
            recs.append(("%s.%d" % (IF_DESCR, idx), "4x", descr.hex()))
            recs.append(("%s.%d" % (IF_SPEED, idx), "66", str(10 ** (6 + idx))))
            initial = 4294967295 - 4 * rin if idx == 2 else 1000 * idx
            recs.append(("%s.%d" % (IF_IN, idx), "65:numeric",
                         "rate=%d,initial=%d,wrap=1" % (rin, initial)))
            initial = 2 ** 63 + 4096 if idx == 3 else 1000 * idx
            recs.append(("%s.%d" % (IF_OUT, idx), "70:numeric",
                         "rate=%d,initial=%d" % (rout, initial)))
        for idx, dev, _, val in LM_ROWS:
            recs.append(("%s.%d" % (LM_DEV, idx), "4x", dev.hex()))
            if val is not None:
                recs.append(("%s.%d" % (LM_VAL, idx), "66", str(val)))
        recs.extend(extra)
        recs.sort(key=lambda r: [int(x) for x in r[0].split(".")])
        with open(os.path.join(data, "public.snmprec"), "w") as f:
            for oid, tag, value in recs:
                f.write("%s|%s|%s\n" % (oid, tag, value))
        os.chmod(os.path.join(data, "public.snmprec"), 0o644)
        self.port = free_udp_port()
        args = ["snmpsimd", "--data-dir=" + data, "--cache-dir=" + cache,
                "--agent-udpv4-endpoint=127.0.0.1:%d" % self.port,
                "--logging-method=file:" + os.path.join(self.dir, "log"),
                "--variation-modules-dir=/usr/share/snmpsim/variation"]
        if os.geteuid() == 0:
            args += ["--process-user=nobody", "--process-group=nogroup"]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)

        def up():
            try:
                return snmp_cmd("snmpget", self.port, "1.3.6.1.2.1.1.3.0")
            except subprocess.CalledProcessError:
                return None
        wait_until(up, 60, 0.5, "snmpsimd on port %d" % self.port)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


# Values as real devices send them (snmpsim records: tag|value): a
# net-snmp UCD float (Opaque holding 0x9f78, a 4-byte IEEE float 23.5),
# a printer's or UPS's number as an OCTET STRING, Gauge32, TimeTicks,
# and an ipNetToMedia-like table (index ifIndex.a.b.c.d) whose IpAddress
# column misses one row.
QUIRK = "1.3.6.1.4.1.99999.1"
ARP = "1.3.6.1.2.1.4.22.1"
QUIRK_RECS = [
    (QUIRK + ".1.0", "68x", "9f780441bc0000"),
    (QUIRK + ".2.0", "4", "23.5"),
    (QUIRK + ".3.0", "66", "7"),
    (QUIRK + ".4.0", "67", "12345"),
    (ARP + ".3.2.10.0.0.1", "64", "10.0.0.1"),
    (ARP + ".3.3.192.168.1.1", "64", "192.168.1.1"),
    (ARP + ".4.2.10.0.0.1", "2", "3"),
    (ARP + ".4.2.10.0.0.2", "2", "4"),
    (ARP + ".4.3.192.168.1.1", "2", "5"),
]


def sensor(name, oids, expression, output_path, interval=None):
    return {"name": name, "protocol": "snmp", "default_interval": interval,
            "details": {"oids": [{"oid": o, "fetch_method": m}
                                 for o, m in oids],
                        "expression": expression,
                        "output_path": output_path}}


def v3cred(name, user, auth, priv):
    return {"name": name, "protocol": "snmp",
            "details": {"version": "snmpv3", "snmpv3_securityName": user,
                        "snmpv3_securityLevel": "authPriv",
                        "snmpv3_authProtocol": "SHA", "snmpv3_authKey": auth,
                        "snmpv3_privProtocol": "AES", "snmpv3_privKey": priv}}


def entity(name, port, credential, sensors, interval=2):
    return {"name": name, "entity_type": "device",
            "details": {"ipv4": "127.0.0.1", "port": port},
            "protocols": {"snmp": {"credential": credential, "bot": None,
                                   "sensors": [{"sensor": s,
                                                "interval": interval}
                                               for s in sensors]}}}


class SnmpbotTest(BotTestCase):

    def load(self, entities, credentials=(), sensors=()):
        acc = {"id": ACCOUNT, "name": "Test account", "entities": entities,
               "credentials": list(credentials), "sensors": list(sensors)}
        return self.fake.load_fixtures({"accounts": [acc]})["accounts"][0]

    def by_path(self, prefix):
        out = {}
        for v in self.values(prefix):
            out.setdefault(v["p"], []).append((v["t"], v["v"]))
        for lst in out.values():
            lst.sort()
        return out

    def assert_clean_log(self, bot, allowed=()):
        for line in bot.stderr().splitlines():
            if " WARN " in line or " ERR" in line:
                self.assertTrue(any(a in line for a in allowed), line)

    def test_snmpd_v1_v2c_v3_match_the_net_snmp_tools(self):
        """Paths and values equal what snmpbulkwalk/snmpget read from the
        same agent, over v1 (GETNEXT, noSuchName for the unknown OID),
        v2c (GETBULK) and v3 authPriv; the unknown OID costs its sensor
        alone, a GET-only sensor's {$index} is "0" (as the official bot
        writes it), and a v3 user with the wrong key gets a clear error."""
        agent = Snmpd()
        self.addCleanup(agent.stop)
        port = agent.port
        creds = [
            {"name": "v1", "protocol": "snmp",
             "details": {"version": "snmpv1", "snmpv12_community": "oldv1"}},
            {"name": "v2", "protocol": "snmp",
             "details": {"version": "snmpv2c", "snmpv12_community": "public"}},
            v3cred("v3", *V3_USER),
            v3cred("v3wrong", V3_OTHER[0], "not-the-key-1", V3_OTHER[2]),
        ]
        sensors = [
            sensor("load", [(LA_NAMES, "walk"), (LA_CONFIG, "walk")],
                   "$2 * 2", "load.limit.{$index}.{$1}"),
            sensor("services", [(SYS_SERVICES, "get")], "$1 + 0.5",
                   "sys.services"),
            # GET only: {$index} is "0", the official bot's dummy index
            sensor("servidx", [(SYS_SERVICES, "get")], "$1", "sys.idx.{$index}"),
            sensor("unknown", [(UNKNOWN, "get")], "$1", "nothing.here"),
            sensor("badexpr", [(SYS_SERVICES, "get")], "$1 * (2", "bad"),
        ]
        ents = [entity(n, port, "@" + n, ["@load", "@services", "@servidx", "@unknown"]
                       + (["@badexpr"] if n == "v2" else []))
                for n in ("v1", "v2", "v3", "v3wrong")]
        acc = self.load(ents, creds, sensors)
        ids = acc["entities"]
        bot = self.start_bot("snmpbot")
        for n in ("v1", "v2", "v3"):
            self.wait_values("entity.%d.snmp.sys.services" % ids[n], 2)
        bot.wait_log("job %d (127.0.0.1): SNMPv3 error report from the "
                     "agent: Authentication failure" % ids["v3wrong"])
        self.assertEqual(bot.stop(), 0)

        names = snmp_cmd("snmpbulkwalk", port, LA_NAMES)
        limits = snmp_cmd("snmpbulkwalk", port, LA_CONFIG)
        services = snmp_cmd("snmpget", port, SYS_SERVICES)[SYS_SERVICES]
        self.assertEqual(len(names), 3)
        want = {"sys.services": float(services) + 0.5, "sys.idx.0": float(services)}
        for oid, name in names.items():
            idx = oid[len(LA_NAMES) + 1:]
            want["load.limit.%s.%s" % (idx, hex_text(name))] = \
                2 * float(hex_text(limits["%s.%s" % (LA_CONFIG, idx)]))
        self.assertIn("load.limit.1.Load-1", want)
        for n in ("v1", "v2", "v3"):
            prefix = "entity.%d.snmp." % ids[n]
            got = self.by_path(prefix)
            self.assertEqual(sorted(got), sorted(prefix + p for p in want), n)
            for p, v in want.items():
                self.assertTrue(all(x == v for _, x in got[prefix + p]),
                                (n, p, got[prefix + p], v))
        self.assertEqual(self.values("entity.%d." % ids["v3wrong"]), [])
        self.assertEqual(self.values("entity.%d.snmp.nothing" % ids["v2"]), [])
        err = bot.stderr()
        for n in ("v1", "v2", "v3"):
            self.assertIn("job %d (127.0.0.1): %s: 1 value(s) missing"
                          % (ids[n], UNKNOWN), err)
        # Every SNMP request's answers arrived in one run per tick: one
        # value per path and timestamp.
        for v in self.values():
            self.assertEqual(v["count"], 1, v)
        for secret in ("oldv1", "authpass123", "privpass123",
                       "not-the-key-1", "otherpriv123"):
            self.assertNotIn(secret, err)
        # A bad sensor is reported at refresh and costs only itself.
        bad = [x["id"] for x in self.fake.state()["accounts"][0]["sensors"]
               if x["name"] == "badexpr"][0]
        self.assertIn("job %d (127.0.0.1): skipping sensor %d: expression "
                      "\"$1 * (2\": expected ')'" % (ids["v2"], bad), err)
        self.assert_clean_log(bot, allowed=[UNKNOWN, "SNMPv3 error report",
                                            "skipping sensor %d" % bad])

    def test_names_are_resolved_again_at_refresh(self):
        """A device named by "host" (common/target.c): the bot runs in a
        mount namespace whose /etc/hosts the test edits.  A name that does
        not resolve fails its polls with the reason; once it resolves, the
        agent there answers; when it moves to another agent (same port,
        another loopback address, another sysServices) the session follows
        at the next poll; when it stops resolving, polling goes on at the
        last good address."""
        hosts = HostsFile(self)
        write_hosts = hosts.write
        first = Snmpd(services=72)
        self.addCleanup(first.stop)
        second = Snmpd(addr="127.0.0.2", port=first.port, services=76)
        self.addCleanup(second.stop)
        ent = {"name": "named", "entity_type": "device",
               "details": {"host": "snmptest.invalid", "port": first.port},
               "protocols": {"snmp": {"credential": "@v2", "bot": None,
                                      "sensors": [{"sensor": "@services",
                                                   "interval": 1}]}}}
        acc = self.load(
            [ent],
            [{"name": "v2", "protocol": "snmp",
              "details": {"version": "snmpv2c",
                          "snmpv12_community": "public"}}],
            [sensor("services", [(SYS_SERVICES, "get")], "$1",
                    "sys.services")])
        eid = acc["entities"]["named"]
        path = "entity.%d.snmp.sys.services" % eid
        env = {"BACKEND_URL": self.fake.api_url,
               "JOBS_REFRESH_INTERVAL": "3600",
               "JOBS_FIRST_RUN_SPREAD_MS": "0",
               "SNMP_TIMEOUT_MS": "500", "SNMP_RETRIES": "0"}
        bot = hosts.bot("snmpbot", env)
        self.bots.append(bot)
        bot.wait_log("job %d (snmptest.invalid): does not resolve" % eid)
        self.assertEqual(self.values(path), [])

        write_hosts("127.0.0.1 snmptest.invalid\n")
        bot.signal(signal.SIGHUP)
        bot.wait_log("job %d (snmptest.invalid): now resolves to 127.0.0.1"
                     % eid)
        wait_until(lambda: any(v["v"] == 72 for v in self.values(path)),
                   what="a value from the first agent")

        write_hosts("127.0.0.2 snmptest.invalid\n")
        bot.signal(signal.SIGHUP)
        bot.wait_log("now resolves to 127.0.0.2")
        wait_until(lambda: any(v["v"] == 76 for v in self.values(path)),
                   what="a value from the second agent")

        write_hosts("")
        bot.signal(signal.SIGHUP)
        bot.wait_log("job %d (snmptest.invalid): does not resolve: " % eid
                     + "Name or service not known; still polling 127.0.0.2")
        n = len(self.values(path))
        wait_until(lambda: len(self.values(path)) >= n + 2,
                   what="polls at the last good address")
        self.assertEqual({v["v"] for v in self.values(path)[n:]}, {76})
        self.assertEqual(bot.stop(), 0)

    def test_v3_wrong_key_sends_nothing_in_clear(self):
        """SNMPv3 authPriv with a wrong key: a clear error, and no request
        OID ever crosses the wire in clear (the engine ID discovery probe
        carries no varbind; every request is encrypted)."""
        need("tcpdump")
        if os.geteuid() != 0:
            raise unittest.SkipTest("tcpdump needs root")
        agent = Snmpd()
        self.addCleanup(agent.stop)
        pcap = os.path.join(agent.dir, "v3.pcap")
        dump = subprocess.Popen(["tcpdump", "-i", "lo", "-U", "-w", pcap,
                                 "udp", "port", str(agent.port)],
                                stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        self.addCleanup(lambda: dump.poll() is None and dump.kill())
        wait_until(lambda: os.path.exists(pcap), 10, what="tcpdump")
        time.sleep(0.5)  # tcpdump opened its file before it listens
        sensors = [sensor("load", [(LA_NAMES, "walk"), (LA_CONFIG, "walk")],
                          "$2", "load.{$index}.{$1}"),
                   sensor("services", [(SYS_SERVICES, "get")], "$1",
                          "sys.services")]
        acc = self.load([entity("v3wrong", agent.port, "@v3wrong",
                                ["@load", "@services"])],
                        [v3cred("v3wrong", V3_OTHER[0], "not-the-key-1",
                                V3_OTHER[2])], sensors)
        eid = acc["entities"]["v3wrong"]
        bot = self.start_bot("snmpbot", env={"SNMP_DISCOVERY_INTERVAL": "0"})
        bot.wait_log("job %d (127.0.0.1): SNMPv3 error report from the "
                     "agent: Authentication failure" % eid)
        self.assertEqual(bot.stop(), 0)
        time.sleep(0.5)
        dump.send_signal(signal.SIGINT)
        dump.wait(10)
        raw = open(pcap, "rb").read()
        self.assertGreater(len(raw), 200)       # packets were captured
        self.assertIn(b"v3other", raw)          # USM user names are clear
        for oid in (LA_NAMES, LA_CONFIG, SYS_SERVICES, "1.3.6.1.2.1.1.3.0"):
            parts = [int(x) for x in oid.split(".")]
            ber = bytes([40 * parts[0] + parts[1]])
            for v in parts[2:]:
                enc = [v & 0x7f]
                v >>= 7
                while v:
                    enc.insert(0, 0x80 | (v & 0x7f))
                    v >>= 7
                ber += bytes(enc)
            self.assertNotIn(ber, raw, oid)
        self.assertEqual(self.values(), [])

    def test_default_sensors_on_a_recorded_device(self):
        """Grafolean's default sensors (Traffic IN/OUT, lmsensors
        temperature) on snmpsim's recorded device: slugged ifDescr paths,
        per-second rates at the recorded slopes (through a Counter32 wrap
        and above 2^63 for Counter64), a row without a value skipped alone;
        a device that never answers costs nothing to the others."""
        sim = Snmpsim()
        self.addCleanup(sim.stop)
        dead = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        dead.bind(("127.0.0.1", 0))
        self.addCleanup(dead.close)
        dead_port = dead.getsockname()[1]
        defaults = ["@snmp_traffic_in", "@snmp_traffic_out",
                    "@snmp_lmsensors_temperature"]
        acc = self.load([entity("sim", sim.port, "@snmp_credential", defaults),
                         entity("dead", dead_port, "@snmp_credential",
                                defaults)])
        ids = acc["entities"]
        eid = ids["sim"]
        bot = self.start_bot("snmpbot", env={"SNMP_TIMEOUT_MS": "3000",
                                             "SNMP_RETRIES": "1"})
        prefix = "entity.%d.snmp." % eid
        # Four polls: three rates per row, the second one after row 2's
        # Counter32 wrapped.
        for idx, _, slug, _, _ in IF_ROWS:
            self.wait_values("%sif.in-octets.%d.%s" % (prefix, idx, slug), 3,
                             timeout=40)
        bot.wait_log("job %d (127.0.0.1): no answer (timeout after 3000 ms"
                     % ids["dead"])
        self.assertEqual(bot.stop(), 0)
        got = self.by_path(prefix)
        want = set()
        for idx, _, slug, rin, rout in IF_ROWS:
            for kind, rate in (("in", rin), ("out", rout)):
                p = "%sif.%s-octets.%d.%s" % (prefix, kind, idx, slug)
                want.add(p)
                for t, v in got.get(p, []):
                    self.assertAlmostEqual(v, rate, delta=rate * 0.1 + 1,
                                           msg=(p, t, v))
        for idx, _, slug, val in LM_ROWS:
            if val is not None:
                p = "%slmsensors.temp.%d.%s" % (prefix, idx, slug)
                want.add(p)
                self.assertTrue(all(v == val / 1000.0 for _, v in got[p]),
                                got[p])
        self.assertEqual(sorted(got), sorted(want))
        self.assertEqual(self.values("entity.%d." % ids["dead"]), [])
        # The live device was polled at its pace while the dead one's
        # requests waited 6 s for nothing: 2 s apart, never 6 s.
        times = sorted({t for lst in got.values() for t, _ in lst})
        self.assertGreaterEqual(len(times), 3)
        for a, b in zip(times, times[1:]):
            self.assertLess(b - a, 4.5, times)
        err = bot.stderr()
        self.assertIn("sensor", err)
        # The dead device's polls outlast its interval: those ticks are
        # skipped and said so.
        self.assert_clean_log(bot, allowed=[
            "no answer (timeout", "rows skipped: a needed value is "
            "missing (1)", "job %d (dead): still running" % ids["dead"]])

    def children(self, parent):
        acc = [a for a in self.fake.state()["accounts"]
               if a["id"] == ACCOUNT][0]
        return sorted((e["details"].get("snmp_index"), e["name"],
                       e["details"].get("speed_bps"))
                      for e in acc["entities"]
                      if e.get("parent") == parent
                      and e["entity_type"] == "interface")

    def test_interface_discovery(self):
        """A systemwide bot keeps the device's interfaces as child
        entities (ifDescr cut at a NUL, ifIndex, ifSpeed); an account bot
        is refused once and keeps polling."""
        sim = Snmpsim()
        self.addCleanup(sim.stop)
        # "dup.x" is the same path for every row: all but the first are
        # dropped here (the backend would refuse the whole batch).
        dup = sensor("dup", [(IF_DESCR, "walk")], "7", "dup.x", 2)
        acc = self.load([entity("sim", sim.port, "@snmp_credential",
                                ["@snmp_traffic_in", "@dup"])],
                        sensors=[dup])
        eid = acc["entities"]["sim"]
        bot = self.start_bot("snmpbot")
        self.wait_values("entity.%d.snmp.dup.x" % eid, 2)
        want = sorted((str(idx), descr.split(b"\0")[0].decode(),
                       str(10 ** (6 + idx)))
                      for idx, descr, _, _, _ in IF_ROWS)
        wait_until(lambda: self.children(eid) == want, 20,
                   what="interfaces %r" % (want,))
        bot.wait_log("job %d: interface discovery: 3 created" % eid)
        self.assertEqual(bot.stop(), 0)
        self.assertTrue(all(v["v"] == 7 and v["count"] == 1
                            for v in self.values("entity.%d.snmp.dup" % eid)))
        self.assertFalse([r for r in self.requests("PUT", "/values")
                          if r["status"] != 204])
        self.assertIn("2 values dropped: path already used in this batch, "
                      "e.g. \"entity.%d.snmp.dup.x\"" % eid, bot.stderr())
        self.assert_clean_log(bot, allowed=["path already used"])


    def test_interface_discovery_refused_for_account_bots(self):
        """An account bot may not write entities: told once, polling goes
        on."""
        sim = Snmpsim()
        self.addCleanup(sim.stop)
        acc = self.load([entity("sim", sim.port, "@snmp_credential",
                                ["@snmp_traffic_in"])])
        eid = acc["entities"]["sim"]
        self.fake.add_bot(ACCOUNT_BOT_TOKEN, id=1234567, account=ACCOUNT)
        bot = self.start_bot("snmpbot", token=ACCOUNT_BOT_TOKEN)
        bot.wait_log("only systemwide bots may")
        self.wait_values("entity.%d.snmp.if.in-octets.1" % eid, 3)
        self.assertEqual(bot.stop(), 0)
        self.assertEqual(
            bot.stderr().count("does not let this bot write entities"), 1)
        self.assertEqual(self.children(eid), [])


class Agent(object):
    """tests/bench/snmpagent.c: a non-blocking responder of our own, here
    one agent that loops (answers the same OID again) after the K-th
    object."""

    def __init__(self, args):
        need("cc")
        self.dir = tempfile.mkdtemp(prefix="snmp-agent-")
        exe = os.path.join(self.dir, "snmpagent")
        src = os.path.join(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__))), "bench", "snmpagent.c")
        subprocess.run(["cc", "-std=c11", "-D_DEFAULT_SOURCE", "-O1", "-o",
                        exe, src], check=True)
        pf = os.path.join(self.dir, "ports")
        self.proc = subprocess.Popen([exe, "-o", pf] + list(args))
        wait_until(lambda: os.path.exists(pf) and open(pf).read().strip(),
                   10, what="snmpagent ports")
        self.ports = [int(x) for x in open(pf).read().split()]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


class SnmpbotWalkEndTest(BotTestCase):

    def test_walk_stops_on_a_repeated_oid_and_at_the_row_cap(self):
        """Matrix: an agent whose GETNEXT/GETBULK loops stops the walk
        after one repeated OID, with a log line naming the device; the
        rows before it still count.  A second device is cut at the row
        cap (SNMP_ROW_CAP) the same way."""
        looping = Agent(["-n", "1", "-L", "5"])
        self.addCleanup(looping.stop)
        plain = Agent(["-n", "1", "-R", "30"])
        self.addCleanup(plain.stop)
        sens = {"name": "descr", "protocol": "snmp", "default_interval": 2,
                "details": {"oids": [{"oid": IF_DESCR,
                                      "fetch_method": "walk"}],
                            "expression": "1", "output_path": "if.{$index}"}}
        v1 = {"name": "v1", "protocol": "snmp",
              "details": {"version": "snmpv1", "snmpv12_community": "public"}}
        acc = self.fake.load_fixtures({"accounts": [{
            "id": ACCOUNT, "name": "Test account", "sensors": [sens],
            "credentials": [v1],
            "entities": [
                entity("loop", looping.ports[0], "@snmp_credential",
                       ["@descr"]),
                entity("cap", plain.ports[0], "@snmp_credential",
                       ["@descr"]),
                entity("loop1", looping.ports[0], "@v1", ["@descr"]),
                entity("cap1", plain.ports[0], "@v1", ["@descr"])]}]})
        ids = acc["accounts"][0]["entities"]
        bot = self.start_bot("snmpbot", env={"SNMP_ROW_CAP": "12"})
        for suffix in ("", "1"):
            loop, cap = ids["loop" + suffix], ids["cap" + suffix]
            # Objects 1..5 are ifDescr.1..5 (0 is sysUpTime): 5 rows, then
            # the agent repeats ifDescr.5.
            bot.wait_log("job %d (127.0.0.1): walk of %s stopped: the agent "
                         "answered an OID that does not increase (after 5 "
                         "rows)" % (loop, IF_DESCR))
            bot.wait_log("job %d (127.0.0.1): walk of %s stopped at the row "
                         "cap (12 rows)" % (cap, IF_DESCR))
            self.wait_values("entity.%d.snmp.if.5" % loop)
            self.wait_values("entity.%d.snmp.if.12" % cap)
        self.assertEqual(bot.stop(), 0)
        for suffix in ("", "1"):
            loop, cap = ids["loop" + suffix], ids["cap" + suffix]
            self.assertEqual(
                {v["p"] for v in self.values("entity.%d." % loop)},
                {"entity.%d.snmp.if.%d" % (loop, i) for i in range(1, 6)})
            self.assertEqual(
                {v["p"] for v in self.values("entity.%d." % cap)},
                {"entity.%d.snmp.if.%d" % (cap, i) for i in range(1, 13)})

    def test_error_status_costs_only_the_walk(self):
        """An agent answering every walk step with genErr: one log line
        naming the device, the GETs of the same device still give their
        values, poll after poll."""
        agent = Agent(["-n", "1", "-E", "5"])
        self.addCleanup(agent.stop)
        walk = {"name": "walk", "protocol": "snmp", "default_interval": 2,
                "details": {"oids": [{"oid": IF_DESCR,
                                      "fetch_method": "walk"}],
                            "expression": "1", "output_path": "if.{$index}"}}
        get = {"name": "up", "protocol": "snmp", "default_interval": 2,
               "details": {"oids": [{"oid": "1.3.6.1.2.1.1.3.0",
                                     "fetch_method": "get"}],
                           "expression": "$1 >= 0", "output_path": "up"}}
        acc = self.fake.load_fixtures({"accounts": [{
            "id": ACCOUNT, "name": "Test account", "sensors": [walk, get],
            "entities": [entity("gen", agent.ports[0], "@snmp_credential",
                                ["@walk", "@up"])]}]})
        eid = acc["accounts"][0]["entities"]["gen"]
        bot = self.start_bot("snmpbot", env={"SNMP_DISCOVERY_INTERVAL": "0"})
        self.wait_values("entity.%d.snmp.up" % eid, 3)
        self.assertEqual(bot.stop(), 0)
        self.assertEqual({v["p"] for v in self.values("entity.%d." % eid)},
                         {"entity.%d.snmp.up" % eid})
        err = bot.stderr()
        line = ("job %d (127.0.0.1): error-status 5 ((genError)"
                % eid)
        self.assertEqual(err.count(line), 1, err)
        for l in err.splitlines():
            if " WARN " in l:
                self.assertIn(line, l)

    def test_too_big_answers_split_the_request(self):
        """An agent that answers tooBig to any request asking for more
        than one varbind (v1 and v2c): GETs are split and a walk of two
        columns is asked one column at a time, so every value still
        arrives; no error-status line."""
        agent = Agent(["-n", "1", "-R", "3", "-T", "1"])
        self.addCleanup(agent.stop)
        up = "1.3.6.1.2.1.1.3.0"
        get = {"name": "get", "protocol": "snmp", "default_interval": 2,
               "details": {"oids": [
                   {"oid": IF_DESCR + ".2", "fetch_method": "get"},
                   {"oid": up, "fetch_method": "get"},
                   {"oid": IF_DESCR + ".3", "fetch_method": "get"}],
                   "expression": "$2 >= 0",
                   "output_path": "up.{$1}.{$3}"}}
        walk = {"name": "walk", "protocol": "snmp", "default_interval": 2,
                "details": {"oids": [
                    {"oid": IF_DESCR, "fetch_method": "walk"},
                    {"oid": IF_IN, "fetch_method": "walk"}],
                    "expression": "$2 >= 0",
                    "output_path": "if.{$index}.{$1}"}}
        v1 = {"name": "v1", "protocol": "snmp",
              "details": {"version": "snmpv1", "snmpv12_community": "public"}}
        acc = self.fake.load_fixtures({"accounts": [{
            "id": ACCOUNT, "name": "Test account", "sensors": [get, walk],
            "credentials": [v1],
            "entities": [
                entity("big2", agent.ports[0], "@snmp_credential",
                       ["@get", "@walk"]),
                entity("big1", agent.ports[0], "@v1", ["@get", "@walk"])]}]})
        ids = acc["accounts"][0]["entities"]
        bot = self.start_bot("snmpbot", env={"SNMP_DISCOVERY_INTERVAL": "0"})
        for name in ("big2", "big1"):
            eid = ids[name]
            self.wait_values("entity.%d.snmp.up.eth0-2.eth0-3" % eid)
            for i in range(1, 4):
                self.wait_values("entity.%d.snmp.if.%d.eth0-%d" % (eid, i, i))
        self.assertEqual(bot.stop(), 0)
        self.assertNotIn("error-status", bot.stderr())


class SnmpbotValueTypesTest(BotTestCase):
    load = SnmpbotTest.load
    by_path = SnmpbotTest.by_path
    assert_clean_log = SnmpbotTest.assert_clean_log

    def test_value_types_and_multi_part_indexes(self):
        """What real devices send, through snmpsim: an Opaque-wrapped
        float, a number in an OCTET STRING, Gauge32 + TimeTicks, and a
        table indexed by ifIndex.a.b.c.d with an IpAddress column
        missing on one row: {$index} is the whole index, the IpAddress
        value goes into the path, and the row without it is skipped
        alone."""
        sim = Snmpsim(QUIRK_RECS)
        self.addCleanup(sim.stop)
        got = snmp_cmd("snmpget", sim.port, QUIRK + ".1.0")
        self.assertEqual(float(got[QUIRK + ".1.0"]), 23.5)  # a float
        sensors = [
            sensor("float", [(QUIRK + ".1.0", "get")], "$1 * 2", "f"),
            sensor("str", [(QUIRK + ".2.0", "get")], "$1", "s"),
            sensor("gt", [(QUIRK + ".3.0", "get"), (QUIRK + ".4.0", "get")],
                   "$1 + $2", "g"),
            sensor("arp", [(ARP + ".4", "walk"), (ARP + ".3", "walk")],
                   "$1", "arp.{$index}.{$2}")]
        acc = self.load([entity("quirks", sim.port, "@snmp_credential",
                                ["@float", "@str", "@gt", "@arp"])],
                        sensors=sensors)
        eid = acc["entities"]["quirks"]
        bot = self.start_bot("snmpbot", env={"SNMP_DISCOVERY_INTERVAL": "0"})
        pre = "entity.%d.snmp." % eid
        self.wait_values(pre + "arp.3.192.168.1.1")
        self.wait_values(pre + "f")
        self.wait_values(pre + "s")
        self.wait_values(pre + "g")
        self.assertEqual(bot.stop(), 0)
        vals = self.by_path(pre)
        self.assertEqual(set(vals), {
            pre + "f", pre + "s", pre + "g",
            pre + "arp.2.10.0.0.1.10-0-0-1",
            pre + "arp.3.192.168.1.1.192-168-1-1"})
        self.assertEqual({v for _, v in vals[pre + "arp.2.10.0.0.1.10-0-0-1"]},
                         {3})
        self.assertEqual(
            {v for _, v in vals[pre + "arp.3.192.168.1.1.192-168-1-1"]}, {5})
        self.assertEqual({v for _, v in vals[pre + "f"]}, {47})
        self.assertEqual({v for _, v in vals[pre + "s"]}, {23.5})
        self.assertEqual({v for _, v in vals[pre + "g"]}, {12352})


class SnmpbotRestartTest(BotTestCase):
    load = SnmpbotTest.load
    by_path = SnmpbotTest.by_path
    assert_clean_log = SnmpbotTest.assert_clean_log

    def test_agent_restart_v2c_and_v3(self):
        """snmpd restarts between polls with a new engine ID (this
        snmpd does not keep it): the open v3 session, bound to the old
        engine ID, gets no answer, so after a failed poll the next one
        opens a fresh session that discovers the engine again.  Over
        v2c, sysUpTime going back is logged as a restart; values keep
        coming over both."""
        agent = Snmpd()
        self.addCleanup(agent.stop)
        creds = [
            {"name": "v2", "protocol": "snmp",
             "details": {"version": "snmpv2c", "snmpv12_community": "public"}},
            v3cred("v3", *V3_USER)]
        sensors = [sensor("services", [(SYS_SERVICES, "get")], "$1",
                          "sys.services")]
        acc = self.load([entity(n, agent.port, "@" + n, ["@services"])
                         for n in ("v2", "v3")], creds, sensors)
        ids = acc["entities"]
        bot = self.start_bot("snmpbot", env={"SNMP_DISCOVERY_INTERVAL": "0"})
        for n in ("v2", "v3"):
            self.wait_values("entity.%d.snmp.sys.services" % ids[n], 2)
        before = {n: len(self.values("entity.%d." % ids[n]))
                  for n in ("v2", "v3")}
        agent.restart()
        bot.wait_log("job %d (127.0.0.1): sysUpTime went back: the agent "
                     "restarted, counters start over" % ids["v2"])
        for n in ("v2", "v3"):
            self.wait_values("entity.%d.snmp.sys.services" % ids[n],
                             before[n] + 2)
        self.assertEqual(bot.stop(), 0)
        # The v3 request in flight across the restart times out (and the
        # next run may find it still running); nothing else.
        self.assert_clean_log(bot, allowed=[
            "job %d (127.0.0.1): no answer (timeout" % ids["v3"],
            "job %d (v3): still running when its next run was due"
            % ids["v3"]])

    def test_agent_restart_same_engine_id(self):
        """snmpd keeps its engine ID across the restart and counts one
        more engineBoots (as devices do): the v3 session's next request
        is outside the time window; values keep coming."""
        agent = Snmpd(engine_id="snmp-audit-engine")
        self.addCleanup(agent.stop)
        sensors = [sensor("services", [(SYS_SERVICES, "get")], "$1",
                          "sys.services")]
        acc = self.load([entity("v3", agent.port, "@v3", ["@services"])],
                        [v3cred("v3", *V3_USER)], sensors)
        eid = acc["entities"]["v3"]
        bot = self.start_bot("snmpbot", env={"SNMP_DISCOVERY_INTERVAL": "0"})
        self.wait_values("entity.%d.snmp.sys.services" % eid, 2)
        boots = snmp_cmd("snmpget", agent.port, "1.3.6.1.6.3.10.2.1.2.0")
        agent.restart()
        self.assertEqual(
            int(snmp_cmd("snmpget", agent.port, "1.3.6.1.6.3.10.2.1.2.0")
                ["1.3.6.1.6.3.10.2.1.2.0"]),
            int(boots["1.3.6.1.6.3.10.2.1.2.0"]) + 1)
        n = len(self.values("entity.%d." % eid))
        self.wait_values("entity.%d.snmp.sys.services" % eid, n + 2)
        self.assertEqual(bot.stop(), 0)
        self.assert_clean_log(bot, allowed=[
            "job %d (127.0.0.1): no answer (timeout" % eid,
            "job %d (v3): still running when its next run was due" % eid])


class SnmpbotAgentQuirkTest(BotTestCase):
    load = SnmpbotTest.load

    def test_restart_seen_by_another_sensor_gives_no_bogus_rate(self):
        """The agent reboots every 9 s (sysUpTime and its Counter32 start
        over; the counter wraps 5 s after boot, so a sample from before
        the reboot can be below the next one).  The counter's sensor is
        due every 4 s, another every 1 s: the poll that sees sysUpTime go
        back is mostly not the counter's, and the counter's next rate
        must still be no bogus one (the agent's slope is 1,000,000/s)."""
        agent = Agent(["-n", "1", "-R", "2", "-r", "9"])
        self.addCleanup(agent.stop)
        sensors = [
            {"name": "ctr", "protocol": "snmp", "default_interval": 4,
             "details": {"oids": [{"oid": IF_IN, "fetch_method": "walk"}],
                         "expression": "$1", "output_path": "in.{$index}"}},
            {"name": "up", "protocol": "snmp", "default_interval": 1,
             "details": {"oids": [{"oid": "1.3.6.1.2.1.1.3.0",
                                   "fetch_method": "get"}],
                         "expression": "$1 >= 0", "output_path": "up"}}]
        ent = entity("boot", agent.ports[0], "@snmp_credential", [])
        ent["protocols"]["snmp"]["sensors"] = [
            {"sensor": "@ctr", "interval": 4}, {"sensor": "@up", "interval": 1}]
        acc = self.fake.load_fixtures({"accounts": [{
            "id": ACCOUNT, "name": "Test account", "sensors": sensors,
            "entities": [ent]}]})
        eid = acc["accounts"][0]["entities"]["boot"]
        bot = self.start_bot("snmpbot", env={"SNMP_DISCOVERY_INTERVAL": "0"})
        line = ("job %d (127.0.0.1): sysUpTime went back: the agent "
                "restarted, counters start over" % eid)
        wait_until(lambda: bot.stderr().count(line) >= 4, 60, 0.5,
                   "four agent restarts")
        self.assertEqual(bot.stop(), 0)
        rates = [v["v"] for v in self.values("entity.%d.snmp.in." % eid)]
        self.assertTrue(len(rates) >= 4, rates)
        for r in rates:
            self.assertTrue(5e5 < r < 2e6, rates)

    def test_v2c_agent_without_getbulk_is_walked_with_getnext(self):
        """A v2c agent that answers GET and GETNEXT but never GETBULK:
        after one unanswered GETBULK (the poll's GET was answered) the
        device is walked with GETNEXT, with one log line; after
        SNMP_GETBULK_RETRY GETBULK is tried again (and, unanswered again,
        gives the same line once more) while values keep coming."""
        agent = Agent(["-n", "1", "-R", "3", "-B"])
        self.addCleanup(agent.stop)
        walk = {"name": "walk", "protocol": "snmp", "default_interval": 2,
                "details": {"oids": [{"oid": IF_DESCR,
                                      "fetch_method": "walk"}],
                            "expression": "1", "output_path": "if.{$index}"}}
        acc = self.fake.load_fixtures({"accounts": [{
            "id": ACCOUNT, "name": "Test account", "sensors": [walk],
            "entities": [entity("nobulk", agent.ports[0], "@snmp_credential",
                                ["@walk"])]}]})
        eid = acc["accounts"][0]["entities"]["nobulk"]
        bot = self.start_bot("snmpbot", env={"SNMP_DISCOVERY_INTERVAL": "0",
                                             "SNMP_TIMEOUT_MS": "300",
                                             "SNMP_GETBULK_RETRY": "5"})
        line = ("job %d (127.0.0.1): no answer to GETBULK, walking with "
                "GETNEXT for 5 s" % eid)
        for i in range(1, 4):
            self.wait_values("entity.%d.snmp.if.%d" % (eid, i), 2)
        self.assertEqual(bot.stderr().count(line), 1, bot.stderr())
        wait_until(lambda: bot.stderr().count(line) >= 2, 30,
                   what=lambda: "GETBULK tried again; stderr:\n%s"
                   % bot.stderr()[-2000:])
        n = len(self.values("entity.%d.snmp.if.1" % eid))
        self.wait_values("entity.%d.snmp.if.1" % eid, n + 1)
        self.assertEqual(bot.stop(), 0)
        self.assertEqual({v["p"] for v in self.values("entity.%d." % eid)},
                         {"entity.%d.snmp.if.%d" % (eid, i)
                          for i in range(1, 4)})

    def test_community_with_special_characters(self):
        """A community with spaces, quotes' neighbours, '@', ':', '/',
        '#', '%' and a non-ASCII letter works over v1 and v2c and never
        appears in the bot's output."""
        comm = "p@ss w:rd/#1%s\u00e9!"
        agent = Snmpd(communities=[comm])
        self.addCleanup(agent.stop)
        creds = [{"name": v, "protocol": "snmp",
                  "details": {"version": "snmp" + v,
                              "snmpv12_community": comm}}
                 for v in ("v1", "v2c")]
        sensors = [sensor("services", [(SYS_SERVICES, "get")], "$1",
                          "sys.services"),
                   sensor("names", [(LA_NAMES, "walk")], "1",
                          "la.{$index}")]
        acc = self.load([entity(v, agent.port, "@" + v,
                                ["@services", "@names"])
                         for v in ("v1", "v2c")], creds, sensors)
        ids = acc["entities"]
        bot = self.start_bot("snmpbot", env={"SNMP_DISCOVERY_INTERVAL": "0",
                                             "LOG_LEVEL": "debug"})
        for v in ("v1", "v2c"):
            self.wait_values("entity.%d.snmp.sys.services" % ids[v])
            self.wait_values("entity.%d.snmp.la.3" % ids[v])
        self.assertEqual(bot.stop(), 0)
        out = bot.stderr() + bot.stdout()
        for part in (comm, "p@ss", "rd/#1"):
            self.assertNotIn(part, out)

    def test_v3_aes_192_256_priv_protocols(self):
        """authPriv users with AES-192/256 privacy in both key extensions
        (Blumenthal "AES-256", Reeder/Cisco "AES-256-C"), with SHA-1 auth
        (its 20-byte hash must be extended to the 24/32-byte key) and with
        SHA-512, give values; the keys never appear in the output.  With
        SHA-512 the hash is long enough for a 32-byte key, no extension is
        made and the two flavours agree (the last user: the bot's AES-256-C
        against the agent's AES-256)."""
        protos = (("SHA", "AES-192"), ("SHA", "AES-256"),
                  ("SHA", "AES-192-C"), ("SHA", "AES-256-C"),
                  ("SHA-512", "AES-256"), ("MD5", "AES-256-C"),
                  ("SHA-512", "AES-256", "AES-256-C"))
        users = [("p%d" % i, p[0], "auth%dpass" % i, "priv%dpass" % i, p[1])
                 for i, p in enumerate(protos)]
        agent = Snmpd(v3_users=users)
        self.addCleanup(agent.stop)
        creds = []
        for (user, auth, authkey, privkey, priv), p in zip(users, protos):
            c = v3cred(user, user, authkey, privkey)
            c["details"]["snmpv3_authProtocol"] = auth
            c["details"]["snmpv3_privProtocol"] = p[-1].lower()
            creds.append(c)
        sensors = [sensor("services", [(SYS_SERVICES, "get")], "$1",
                          "sys.services")]
        acc = self.load([entity(u[0], agent.port, "@" + u[0], ["@services"])
                         for u in users], creds, sensors)
        bot = self.start_bot("snmpbot", env={"SNMP_DISCOVERY_INTERVAL": "0"})
        for user in users:
            self.wait_values("entity.%d.snmp.sys.services"
                             % acc["entities"][user[0]])
        self.assertEqual(bot.stop(), 0)
        out = bot.stderr() + bot.stdout()
        for user in users:
            self.assertNotIn(user[2], out)
            self.assertNotIn(user[3], out)

    def test_v3_sha2_auth_protocols(self):
        """authPriv users with SHA-224/256/384/512 auth and AES privacy
        (net-snmp names, as its own tools and snmpd take them) give
        values; the keys never appear in the output."""
        protos = ("SHA-224", "SHA-256", "SHA-384", "SHA-512")
        users = [("u%s" % p[4:], p, "auth%spass" % p[4:],
                  "priv%spass" % p[4:]) for p in protos]
        agent = Snmpd(v3_users=users)
        self.addCleanup(agent.stop)
        creds = []
        for user, proto, auth, priv in users:
            c = v3cred(user, user, auth, priv)
            c["details"]["snmpv3_authProtocol"] = proto
            creds.append(c)
        sensors = [sensor("services", [(SYS_SERVICES, "get")], "$1",
                          "sys.services")]
        acc = self.load([entity(u[0], agent.port, "@" + u[0], ["@services"])
                         for u in users], creds, sensors)
        bot = self.start_bot("snmpbot", env={"SNMP_DISCOVERY_INTERVAL": "0"})
        for user in users:
            self.wait_values("entity.%d.snmp.sys.services"
                             % acc["entities"][user[0]])
        self.assertEqual(bot.stop(), 0)
        out = bot.stderr() + bot.stdout()
        for user in users:
            self.assertNotIn(user[2], out)
            self.assertNotIn(user[3], out)
