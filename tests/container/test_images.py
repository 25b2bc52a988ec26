#!/usr/bin/env python3
"""Real containers of each bot image against the fake Grafolean backend
(host networking, loopback only).  Run by scripts/container_test.sh after
it built the images; IMAGE_PREFIX (grafolean-) and IMAGE_TAG (test) name
them, BOTS lists the bots to test.

Per image: it runs as nobody; --help works; it delivers values; the health
check turns healthy, then unhealthy when the backend goes away; `docker
stop` exits 0 within the grace period with queued values delivered.
pingbot also: without NET_RAW it prints its own FATAL line; its services in
docker-compose.bots.yml and docker-compose.yml come up (on the host's
network, through an override file) and deliver, the latter waiting for
the root-owned 0644 token file Grafolean writes into shared-secrets.

Adding a bot: a BotSpec subclass below (fixtures with one entity named
"one", the value prefix of its values, extra `docker run` arguments, and
setup() starting what it measures on loopback), listed in SPECS."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

from lib import ACCOUNT, TOKEN, wait_until  # noqa: E402
from fake_grafolean import FakeGrafolean  # noqa: E402

PREFIX = os.environ.get("IMAGE_PREFIX", "grafolean-")
TAG = os.environ.get("IMAGE_TAG", "test")
# Unique per run: every container this test makes carries it.
RUN_ID = os.environ.get("CONTAINER_PREFIX") or "deploy-ct-%d" % os.getpid()
GRACE_S = 10  # docker stop's default


def docker(*args, check=True, timeout=120):
    r = subprocess.run(["docker"] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True,
                       timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError("docker %s: %s" % (" ".join(args), r.stderr.strip()))
    return r


class BotSpec(object):
    """What the generic tests need to know about one bot."""
    name = None
    run_args = ()      # extra `docker run` arguments
    env = {}           # extra environment of the container
    # How long the delivery test waits for values, and for a delivery
    # the backend refuses (a bot that posts only now and then needs more).
    delivery_wait_s = 60
    refusal_wait_s = 30

    def setup(self, test):
        """Starts what the bot measures (an snmpd, an HTTP server, an
        exporter...) on loopback; register its cleanup with
        test.addCleanup.  The container shares the host's network."""

    def __init__(self, name=None):
        if name is not None:
            self.name = name

    def fixtures(self):
        """Fixtures with one entity this bot can measure from inside a
        host-networked container, named "one"; None: no entity (the
        generic spec of a bot without its own: delivery is not tested)."""
        return None

    def value_prefix(self, eid):
        raise NotImplementedError


class PingbotSpec(BotSpec):
    name = "pingbot"
    # As the compose files run it.
    run_args = ("--cap-drop", "ALL", "--cap-add", "NET_RAW", "--read-only",
                "--tmpfs", "/tmp")

    def fixtures(self):
        return {"accounts": [{
            "id": ACCOUNT, "name": "Test account",
            "credentials": [{"name": "fast", "protocol": "ping",
                             "details": {"n_packets": "1",
                                         "sleep_packets": "0.2",
                                         "timeout": "0.5", "retry": "0"}}],
            "sensors": [{"name": "every1", "protocol": "ping",
                         "default_interval": 1, "details": {}}],
            "entities": [{"name": "one", "entity_type": "device",
                          "details": {"ipv4": "127.0.0.1"},
                          "protocols": {"ping": {
                              "credential": "@fast", "bot": None,
                              "sensors": [{"sensor": "@every1",
                                           "interval": None}]}}}]}]}

    def value_prefix(self, eid):
        return "entity.%d.ping.success" % eid


class SnmpbotSpec(BotSpec):
    """snmpd on a loopback port (the integration tests' Snmpd), polled
    for sysUpTime.0 with SNMPv2c."""
    name = "snmpbot"
    run_args = ("--cap-drop", "ALL", "--security-opt",
                "no-new-privileges:true", "--read-only", "--tmpfs", "/tmp")

    def setup(self, test):
        from test_snmpbot import Snmpd
        self.snmpd = Snmpd()
        test.addCleanup(self.snmpd.stop)

    def fixtures(self):
        return {"accounts": [{
            "id": ACCOUNT, "name": "Test account",
            "sensors": [{"name": "uptime", "protocol": "snmp",
                         "default_interval": 1,
                         "details": {"oids": [{"oid": "1.3.6.1.2.1.1.3.0",
                                               "fetch_method": "get"}],
                                     "expression": "$1",
                                     "output_path": "sysuptime"}}],
            "entities": [{"name": "one", "entity_type": "device",
                          "details": {"ipv4": "127.0.0.1",
                                      "port": self.snmpd.port},
                          "protocols": {"snmp": {
                              "credential": "@snmp_credential", "bot": None,
                              "sensors": [{"sensor": "@uptime",
                                           "interval": None}]}}}]}]}

    def value_prefix(self, eid):
        return "entity.%d.snmp.sysuptime" % eid


class ApibotSpec(BotSpec):
    """A local HTTP server answering {"queue": {"depth": N}}."""
    name = "apibot"
    run_args = ("--cap-drop", "ALL", "--security-opt",
                "no-new-privileges:true", "--read-only", "--tmpfs", "/tmp")

    def setup(self, test):
        import http.server
        import threading

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                body = b'{"queue": {"depth": 7}}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()
        test.addCleanup(self.srv.server_close)
        test.addCleanup(self.srv.shutdown)

    def fixtures(self):
        return {"accounts": [{
            "id": ACCOUNT, "name": "Test account",
            "credentials": [{"name": "none", "protocol": "api",
                             "details": {}}],
            "sensors": [{"name": "queue", "protocol": "api",
                         "default_interval": 1,
                         "details": {"path": "/stats",
                                     "extract": [{"jq": ".queue.depth",
                                                  "path": "queue.depth"}]}}],
            "entities": [{"name": "one", "entity_type": "device",
                          "details": {"url": "http://127.0.0.1:%d"
                                      % self.srv.server_address[1]},
                          "protocols": {"api": {
                              "credential": "@none", "bot": None,
                              "sensors": [{"sensor": "@queue",
                                           "interval": None}]}}}]}]}

    def value_prefix(self, eid):
        return "entity.%d.api.queue.depth" % eid


class NetflowbotSpec(BotSpec):
    """NetFlow v5 datagrams sent from 127.0.0.1 to the container's port,
    two every second while the test runs (an exporter never stops).  The
    bot posts when a one-minute window closes, so the delivery test waits
    up to two minutes for values and 90 s for a refused delivery: the
    smallest honest bound, windows are one minute by definition."""
    name = "netflowbot"
    run_args = ("--cap-drop", "ALL", "--security-opt",
                "no-new-privileges:true", "--read-only", "--tmpfs", "/tmp")
    delivery_wait_s = 150
    refusal_wait_s = 90

    def setup(self, test):
        import socket
        import threading
        sys.path.insert(0, os.path.join(ROOT, "tests", "data", "netflow"))
        import gen_cases as gc

        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        self.env = {"NETFLOW_PORT": str(port), "NETFLOW_EMIT_INTERVAL": "1",
                    "NETFLOW_BIND": "127.0.0.1"}
        stop = threading.Event()

        def send():
            out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            while not stop.wait(0.5):
                out.sendto(gc.v5(2), ("127.0.0.1", port))
            out.close()

        t = threading.Thread(target=send, daemon=True)
        t.start()
        test.addCleanup(t.join)
        test.addCleanup(stop.set)

    def fixtures(self):
        return {"accounts": [{
            "id": ACCOUNT, "name": "Test account",
            "entities": [{"name": "one", "entity_type": "device",
                          "details": {"ipv4": "127.0.0.1"},
                          "protocols": {"netflow": {
                              "credential": "@netflow_credential",
                              "bot": None,
                              "sensors": [{"sensor": "@netflow_sensor",
                                           "interval": None}]}}}]}]}

    def value_prefix(self, eid):
        return "netflow.1min.ingress.entity.%d" % eid


SPECS = {s.name: s for s in (PingbotSpec(), SnmpbotSpec(), ApibotSpec(),
                             NetflowbotSpec())}


class ImageTest(unittest.TestCase):
    """The generic tests; one subclass per bot sets spec."""
    spec = None
    seq = 0

    def setUp(self):
        if self.spec is None:
            raise unittest.SkipTest("generic base")
        self.image = "%s%s:%s" % (PREFIX, self.spec.name, TAG)
        self.containers = []
        self.fake = FakeGrafolean(port=0, tokens=[TOKEN])
        self.fake.start()
        self.addCleanup(self.fake.stop)
        self.spec.setup(self)
        self.eid = None
        fx = self.spec.fixtures()
        if fx is not None:
            ids = self.fake.load_fixtures(fx)
            self.eid = ids["accounts"][0]["entities"]["one"]

    def tearDown(self):
        for c in self.containers:
            docker("rm", "-f", "-v", c, check=False)

    def container_name(self):
        ImageTest.seq += 1
        name = "%s-%s-%d-%d" % (RUN_ID, self.spec.name, ImageTest.seq,
                                int(time.time() * 1000) % 1000000)
        self.containers.append(name)
        return name

    def start(self, extra_env=None, extra_args=()):
        name = self.container_name()
        env = {"BACKEND_URL": self.fake.api_url, "BOT_TOKEN": TOKEN,
               "JOBS_FIRST_RUN_SPREAD_MS": "0", "BACKEND_WAIT_INTERVAL": "1",
               "JOBS_REFRESH_INTERVAL": "2", "HEALTH_BACKEND_MAX_AGE": "4",
               "SEND_RETRY_MIN_MS": "200", "SEND_RETRY_MAX_MS": "1000"}
        env.update(self.spec.env)
        env.update(extra_env or {})
        args = ["run", "-d", "--name", name, "--network", "host",
                "--health-interval", "1s", "--health-retries", "1",
                "--health-timeout", "5s", "--health-start-period", "0s"]
        for k, v in sorted(env.items()):
            args += ["-e", "%s=%s" % (k, v)]
        args += list(self.spec.run_args) + list(extra_args) + [self.image]
        docker(*args)
        return name

    def logs(self, name):
        r = docker("logs", name, check=False)
        return r.stdout + r.stderr

    def state(self, name):
        r = docker("inspect", "-f", "{{json .State}}", name)
        return json.loads(r.stdout)

    def health(self, name):
        h = self.state(name).get("Health") or {}
        return h.get("Status")

    def values(self):
        return self.fake.values(prefix=self.spec.value_prefix(self.eid))

    def assert_no_token(self, text):
        self.assertNotIn(TOKEN, text)

    def test_runs_as_nobody_and_help_works(self):
        cfg = json.loads(docker("image", "inspect", "-f", "{{json .Config}}",
                                self.image).stdout)
        self.assertEqual(cfg["User"], "nobody")
        self.assertIn("--health", " ".join(cfg["Healthcheck"]["Test"]))
        self.assertIn("BOT=%s" % self.spec.name, cfg["Env"])
        r = docker("run", "--rm", "--network", "none", "--name",
                   self.container_name(), "--entrypoint", "id", self.image,
                   "-u")
        self.assertEqual(r.stdout.strip(), "65534")
        r = docker("run", "--rm", "--network", "none", "--name",
                   self.container_name(), self.image, "--help", check=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        for word in ("BACKEND_URL", "BOT_TOKEN_FROM_FILE", "HEALTH_FILE",
                     "--health"):
            self.assertIn(word, r.stdout)

    def test_delivers_turns_healthy_and_stops_cleanly(self):
        name = self.start()
        if self.eid is not None:
            wait_until(lambda: len(self.values()) >= 2,
                       self.spec.delivery_wait_s,
                       what="values from the container; logs:\n%s"
                       % self.logs(name)[-3000:])
        wait_until(lambda: self.health(name) == "healthy", 30,
                   what="healthy; logs:\n%s" % self.logs(name)[-3000:])
        self.assertEqual(self.state(name)["Running"], True)
        # Values queue while the backend refuses them, then go out
        # during the stop.
        if self.eid is not None:
            self.fake.add_fault(mode="status", code=503,
                                method=["PUT", "POST"], path_re="values")
            wait_until(lambda: "503" in self.logs(name),
                       self.spec.refusal_wait_s,
                       what="a refused delivery")
            self.fake.clear_faults()
        t0 = time.monotonic()
        docker("stop", name, timeout=GRACE_S + 30)
        took = time.monotonic() - t0
        st = self.state(name)
        logs = self.logs(name)
        self.assertEqual(st["ExitCode"], 0, logs[-3000:])
        self.assertFalse(st["OOMKilled"])
        self.assertLess(took, GRACE_S, logs[-3000:])
        self.assertIn("stopping: signal 15", logs)
        self.assertIn(" 0 undelivered", logs)
        self.assertNotIn("FATAL", logs)
        self.assert_no_token(logs)
        if self.eid is None:
            self.skipTest("%s has no BotSpec with fixtures: healthy and clean "
                          "stop tested, delivery not" % self.spec.name)

    def test_prometheus_endpoint_serves_from_the_image(self):
        """The image carries libmicrohttpd, which bots open themselves
        (not linked: runtime_pkgs.sh must find it in the binary)."""
        import socket
        import urllib.request
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        name = self.start(extra_env={
            "OUTPUTS": "grafolean,prometheus://127.0.0.1:%d" % port})
        url = "http://127.0.0.1:%d/metrics" % port

        def scrape():
            try:
                return urllib.request.urlopen(url, timeout=5).read().decode()
            except OSError:
                return ""
        wait_until(lambda: "grafolean_bot_runs_total" in scrape(), 60,
                   what="/metrics from the container; logs:\n%s"
                   % self.logs(name)[-3000:])
        self.assert_no_token(self.logs(name))

    def test_unhealthy_when_the_backend_goes_away(self):
        name = self.start()
        wait_until(lambda: self.health(name) == "healthy", 60,
                   what="healthy; logs:\n%s" % self.logs(name)[-3000:])
        self.fake.stop()
        wait_until(lambda: self.health(name) == "unhealthy", 60,
                   what="unhealthy; logs:\n%s" % self.logs(name)[-3000:])
        out = self.state(name)["Health"]["Log"][-1]["Output"]
        self.assertIn("last answer from the backend", out)
        self.assertEqual(self.state(name)["Running"], True)


class PingbotImageTest(ImageTest):
    spec = SPECS["pingbot"]

    def compose_delivers(self, project, service="pingbot"):
        r = project.run("up", "-d", "--no-build", "--no-deps", service)
        self.assertEqual(r.returncode, 0, r.stderr)
        cid = project.container(service)
        self.assertTrue(cid)
        wait_until(lambda: len(self.values()) >= 2, 60,
                   what="values; logs:\n%s" % self.logs(cid)[-3000:])
        r = project.run("stop", service)
        self.assertEqual(r.returncode, 0, r.stderr)
        st = self.state(cid)
        logs = self.logs(cid)
        self.assertEqual(st["ExitCode"], 0, logs[-3000:])
        self.assertIn(" 0 undelivered", logs)
        self.assertNotIn("WARN", logs)
        self.assertNotIn("FATAL", logs)
        self.assert_no_token(logs)
        return logs

    def test_bots_compose_file_runs(self):
        """docker-compose.bots.yml as the README sets it up: a token file
        owned by the bots' uid, mode 600, given in .env."""
        d = tempfile.mkdtemp(prefix="deploy-ct-secrets-")
        self.addCleanup(shutil.rmtree, d, True)
        os.chmod(d, 0o755)
        tok = os.path.join(d, "ping-bot.token")
        with open(tok, "w") as f:
            f.write(TOKEN + "\n")
        os.chmod(tok, 0o600)
        os.chown(tok, 65534, 65534)
        project = ComposeProject(self, "docker-compose.bots.yml", {
            "BACKEND_URL": self.fake.api_url, "PINGBOT_TOKEN_FILE": tok})
        self.compose_delivers(project)

    def test_grafolean_compose_file_runs_its_pingbot(self):
        """docker-compose.yml's pingbot (Grafolean itself cannot be pulled
        here): it waits for the token file, which a root container then
        writes into the shared-secrets volume as Grafolean does (root,
        0644), and reads it as nobody without a warning."""
        project = ComposeProject(self, "docker-compose.yml", {
            "BACKEND_URL": self.fake.api_url})
        r = project.run("up", "-d", "--no-build", "--no-deps", "pingbot")
        self.assertEqual(r.returncode, 0, r.stderr)
        cid = project.container("pingbot")
        wait_until(lambda: "does not exist yet" in self.logs(cid), 30,
                   what="waiting for the token file")
        docker("run", "--rm", "--network", "none", "--name",
               self.container_name(), "-u", "0", "--entrypoint", "sh",
               "-v", "%s_shared-secrets:/shared-secrets" % project.name,
               self.image, "-c",
               "mkdir -p /shared-secrets/tokens && umask 022 && "
               "echo %s > /shared-secrets/tokens/ping-bot.token" % TOKEN)
        logs = self.compose_delivers(project)
        self.assertIn("read the token from", logs)

    def test_without_net_raw_says_so(self):
        r = docker("run", "--rm", "--network", "host", "--name",
                   self.container_name(), "--cap-drop", "NET_RAW",
                   "-e", "BACKEND_URL=%s" % self.fake.api_url,
                   "-e", "BOT_TOKEN=%s" % TOKEN, self.image, check=False)
        out = r.stdout + r.stderr
        self.assertEqual(r.returncode, 1, out)
        self.assertIn("FATAL pingbot: not permitted to open raw ICMP sockets", out)
        self.assertIn("--cap-add NET_RAW", out)
        self.assertNotIn("operation not permitted", out.lower().replace(
            "not permitted to open", ""))
        self.assert_no_token(out)


class ComposeProject(object):
    """One of our compose files brought up under a unique project name,
    with an override that puts the bots on the host's network (no
    networks are created) and the image under test (BOTS_TAG)."""

    def __init__(self, test, compose_file, env):
        ImageTest.seq += 1
        self.name = "%s-c%d" % (RUN_ID, ImageTest.seq)
        self.dir = tempfile.mkdtemp(prefix="deploy-ct-compose-")
        test.addCleanup(shutil.rmtree, self.dir, True)
        override = os.path.join(self.dir, "override.yml")
        with open(override, "w") as f:
            f.write("services:\n  pingbot:\n    network_mode: host\n"
                    "    environment:\n"
                    "      - BACKEND_URL=%s\n"
                    "      - JOBS_FIRST_RUN_SPREAD_MS=0\n"
                    "      - BACKEND_WAIT_INTERVAL=1\n"
                    % env["BACKEND_URL"])
        env_file = os.path.join(self.dir, "env")
        with open(env_file, "w") as f:
            for k, v in sorted(dict(env, BOTS_TAG=TAG).items()):
                f.write("%s=%s\n" % (k, v))
        self.base = ["docker-compose", "-p", self.name,
                     "-f", os.path.join(ROOT, compose_file),
                     "-f", override, "--env-file", env_file]
        test.addCleanup(self.run, "down", "-v", "--remove-orphans")

    def run(self, *args):
        return subprocess.run(self.base + list(args), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, universal_newlines=True,
                              timeout=120)

    def container(self, service):
        r = self.run("ps", "-q", service)
        return r.stdout.strip()


# Bots with tests of their own beyond the generic ones.
EXTRA = {"pingbot": PingbotImageTest}


def load_tests(loader, tests, pattern):
    wanted = os.environ.get("BOTS", "pingbot").split()
    suite = unittest.TestSuite()
    for b in wanted:
        if b not in SPECS:
            print("container test: %s has no BotSpec in %s: its delivery "
                  "test is skipped" % (b, __file__), file=sys.stderr)
        spec = SPECS.get(b) or BotSpec(b)
        cls = EXTRA.get(b) or type("%sImageTest" % b.capitalize(),
                                   (ImageTest,), {"spec": spec})
        suite.addTests(loader.loadTestsFromTestCase(cls))
    return suite


if __name__ == "__main__":
    unittest.main(verbosity=2)
