"""Outputs beyond Grafolean, through testbot: Graphite plaintext to a
Carbon-like listener started here (every line checked against the same
run's stdout output, across a listener restart and a listener that stops
reading), the Prometheus /metrics endpoint scraped while values flow
(checked with promtool when installed, and always with a strict parser
here), and one output failing while another keeps delivering."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.request

from lib import BotTestCase, wait_until, ACCOUNT


def entity(eid, interval=1):
    return {"id": eid, "name": "e%d" % eid, "entity_type": "device",
            "details": {"ipv4": "127.0.0.1"},
            "protocols": {"ping": {
                "credential": {"id": 1, "name": "c", "protocol": "ping",
                               "details": {}},
                "sensors": [{"sensor": {"id": 2, "name": "s",
                                        "protocol": "ping",
                                        "default_interval": interval,
                                        "details": {}},
                             "interval": interval}]}}}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Carbon(object):
    """A Carbon-like plaintext listener: records every line received.
    restart() drains the connection (half-close, then read to EOF) before
    it stops listening, as a graceful Carbon restart would; pause() stops
    reading without closing."""

    def __init__(self, port=0, rcvbuf=None):
        self.lines = []
        self.lock = threading.Lock()
        self.reading = threading.Event()
        self.reading.set()
        self.rcvbuf = rcvbuf
        self.connections = 0
        self._listen(port)

    def _listen(self, port):
        self.srv = socket.socket()
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if self.rcvbuf:
            self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.rcvbuf)
        self.srv.bind(("127.0.0.1", port))
        self.srv.listen(4)
        self.port = self.srv.getsockname()[1]
        self.stopping = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stopping:
            try:
                conn, _ = self.srv.accept()
            except OSError:
                return
            self.connections += 1
            self.conn = conn
            self._read(conn)

    def _read(self, conn):
        pending = b""
        conn.settimeout(0.2)
        while True:
            self.reading.wait()
            try:
                data = conn.recv(65536)
            except socket.timeout:
                if self.stopping:
                    conn.shutdown(socket.SHUT_WR)
                    self.stopping = "draining"
                continue
            except OSError:
                break
            if not data:
                break
            pending += data
            *full, pending = pending.split(b"\n")
            with self.lock:
                self.lines.extend(l.decode() for l in full)
        conn.close()

    def restart(self, down_s=1.5):
        self.stopping = True
        self.srv.close()
        self.thread.join(10)
        time.sleep(down_s)  # the outage itself, not a synchronisation
        self._listen(self.port)

    def pause(self):
        self.reading.clear()

    def resume(self):
        self.reading.set()

    def close(self):
        self.stopping = True
        self.reading.set()
        try:
            self.srv.close()
        except OSError:
            pass

    def got(self):
        with self.lock:
            return list(self.lines)


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*"'
                    r'(,[a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*")*)\})? '
                    r'(-?[0-9.eE+-]+|NaN|[+-]Inf)( -?[0-9]+)?$')


def parse_exposition(text, test):
    """A strict reader of the text format: every line a comment or a
    sample, one TYPE per name given before its samples, names contiguous."""
    samples = {}
    typed = {}
    seen_names = []
    for line in text.splitlines():
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            test.assertNotIn(name, typed, "second TYPE line for " + name)
            test.assertIn(kind, ("gauge", "counter"))
            typed[name] = kind
            continue
        m = SAMPLE.match(line)
        test.assertIsNotNone(m, "not a sample line: %r" % line)
        name = m.group(1)
        family = name[:-6] if name.endswith("_total") and name[:-6] in typed else name
        test.assertTrue(family in typed or name in typed, "no TYPE before " + line)
        if seen_names and seen_names[-1] != family:
            test.assertNotIn(family, seen_names, "samples of %s not together" % family)
        if not seen_names or seen_names[-1] != family:
            seen_names.append(family)
        key = name + (m.group(2) or "")
        test.assertNotIn(key, samples, "duplicate series " + key)
        samples[key] = float(m.group(7))
    return samples


class OutputsTest(BotTestCase):

    def jobs_file(self, entities):
        fd, path = tempfile.mkstemp(prefix="outputs-jobs-", suffix=".json")
        with os.fdopen(fd, "w") as f:
            json.dump(entities, f)
        self.addCleanup(os.unlink, path)
        return path

    def start_local(self, path, outputs, env=None):
        args = ["--jobs", path]
        for o in outputs:
            args += ["--output", o]
        return self.start_bot("tests/testbot", args, env=env, token=None,
                              backend=False)

    def test_graphite_every_line_once_across_listener_restart(self):
        carbon = Carbon()
        self.addCleanup(carbon.close)
        path = self.jobs_file([entity(11), entity(12)])
        bot = self.start_local(path, ["graphite://127.0.0.1:%d" % carbon.port,
                                      "stdout"], env={"TESTBOT_VALUES": "50"})
        wait_until(lambda: len(carbon.got()) >= 300, what="lines before restart")
        carbon.restart()
        n = len(carbon.got())
        wait_until(lambda: len(carbon.got()) >= n + 300, what="lines after restart")
        self.assertEqual(bot.stop(), 0)
        carbon.close()
        got = carbon.got()
        printed = bot.stdout().strip().splitlines()
        self.assertEqual(len(got), len(set(got)), "a line arrived twice")
        self.assertEqual(sorted(got), sorted(printed))
        self.assertGreaterEqual(carbon.connections, 2)
        for line in got:
            p, v, t = line.split(" ")
            self.assertRegex(p, r"^entity\.1[12]\.test\.")
            float(v)
            self.assertGreater(float(t), 1.6e9)
        self.assertIn("graphite 127.0.0.1:%d: connected" % carbon.port, bot.stderr())
        self.assertIn("0 undelivered", bot.stderr())

    def test_graphite_listener_that_stops_reading_blocks_nothing(self):
        carbon = Carbon(rcvbuf=4096)
        self.addCleanup(carbon.close)
        prom = free_port()
        # 20 jobs x 1,000 values a second: the socket buffers fill fast.
        path = self.jobs_file([entity(100 + i) for i in range(20)])
        bot = self.start_local(path, ["graphite://127.0.0.1:%d" % carbon.port,
                                      "prometheus://127.0.0.1:%d" % prom,
                                      "stdout"],
                               env={"TESTBOT_VALUES": "1000",
                                    "SHUTDOWN_FLUSH_TIMEOUT": "30"})
        wait_until(lambda: len(carbon.got()) > 0, what="first lines")
        carbon.pause()
        bot.wait_log("prometheus port %d" % prom)

        def sent():
            text = urllib.request.urlopen(
                "http://127.0.0.1:%d/metrics" % prom, timeout=5).read().decode()
            m = re.search(r'grafolean_bot_graphite_values_total\{[^}]*state="sent"\} (\d+)', text)
            return int(m.group(1))

        # The socket buffers fill and stay full: nothing more is acknowledged.
        def stalled():
            a = sent()
            time.sleep(1.0)  # measuring a rate over a second
            return sent() == a
        wait_until(stalled, timeout=60, what="graphite output to stall")
        lines_before = bot.stdout().count("\n")
        # Polling and the other outputs go on while Carbon does not read.
        wait_until(lambda: bot.stdout().count("\n") >= lines_before + 3 * 20 * 1002,
                   timeout=30, what="three more rounds printed during the stall")
        carbon.resume()
        self.assertEqual(bot.stop(60), 0)
        got = carbon.got()
        printed = bot.stdout().strip().splitlines()
        self.assertEqual(len(got), len(set(got)), "a line arrived twice")
        self.assertEqual(sorted(got), sorted(printed))

    def test_prometheus_scrape_while_values_flow(self):
        prom = free_port()
        path = self.jobs_file([entity(31), entity(32)])
        bot = self.start_local(path, ["prometheus://127.0.0.1:%d" % prom],
                               env={"TESTBOT_VALUES": "3"})
        url = "http://127.0.0.1:%d/metrics" % prom
        bot.wait_log("prometheus port %d" % prom)

        def scrape():
            return urllib.request.urlopen(url, timeout=5).read().decode()

        key = 'grafolean_test_v{entity="31",index="0"}'
        first = wait_until(lambda: (lambda s: s.get(key))(parse_exposition(scrape(), self)),
                           what="a series of entity 31")
        wait_until(lambda: parse_exposition(scrape(), self).get(key, 0) > first,
                   what="the value to move on")
        text = scrape()
        samples = parse_exposition(text, self)
        for eid in (31, 32):
            for i in range(3):
                self.assertIn('grafolean_test_v{entity="%d",index="%d"}' % (eid, i), samples)
            self.assertIn('grafolean_test_due{entity="%d",index="1"}' % eid, samples)
        self.assertGreater(samples['grafolean_bot_runs_total{bot="testbot"}'], 0)
        self.assertRegex(text, r'grafolean_test_v\{entity="31",index="0"\} \d+ \d{13}\n')
        if shutil.which("promtool"):
            p = subprocess.run(["promtool", "check", "metrics"], input=text.encode(),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            self.assertEqual(p.returncode, 0, p.stdout.decode())
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen("http://127.0.0.1:%d/nope" % prom, timeout=5)
        self.assertEqual(cm.exception.code, 404)
        self.assertIn("libmicrohttpd", self.mapped(bot))
        self.assertEqual(bot.stop(), 0)

    def mapped(self, bot):
        with open("/proc/%d/maps" % bot.proc.pid) as f:
            return f.read()

    def test_libmicrohttpd_is_opened_only_for_the_prometheus_endpoint(self):
        """Bots are not linked with libmicrohttpd (its constructor starts
        GnuTLS, which no bot uses otherwise): a bot without the endpoint
        never maps it (the scrape test above checks that one with it does)."""
        path = self.jobs_file([entity(33)])
        bot = self.start_local(path, ["stdout"], env={"TESTBOT_VALUES": "1"})
        wait_until(lambda: "entity.33." in bot.stdout(), what="a value on stdout")
        self.assertNotIn("libmicrohttpd", self.mapped(bot))
        self.assertEqual(bot.stop(), 0)

    def test_prometheus_removes_series_after_two_intervals(self):
        prom = free_port()
        path = self.jobs_file([entity(41), entity(42)])
        bot = self.start_local(path, ["prometheus://127.0.0.1:%d" % prom],
                               env={"JOBS_REFRESH_INTERVAL": "3600"})
        url = "http://127.0.0.1:%d/metrics" % prom
        bot.wait_log("prometheus port %d" % prom)

        def series():
            return parse_exposition(
                urllib.request.urlopen(url, timeout=5).read().decode(), self)

        gone = 'grafolean_test_due{entity="42",index="1"}'
        kept = 'grafolean_test_due{entity="41",index="1"}'
        runs = 'grafolean_test_value{entity="42",index="2",key="n"}'
        # Two runs, so the series' interval (1 s) is known.
        wait_until(lambda: series().get(runs, 0) >= 2 and kept in series(),
                   what="two runs of entity 42")
        with open(path, "w") as f:
            json.dump([entity(41)], f)
        bot.signal(signal.SIGHUP)
        bot.wait_log("1 removed")
        t0 = time.monotonic()
        wait_until(lambda: gone not in series(), timeout=10, what="series of the removed job to go")
        self.assertLess(time.monotonic() - t0, 5)
        self.assertIn(kept, series())
        self.assertEqual(bot.stop(), 0)

    def test_failing_output_does_not_block_the_backend(self):
        self.fake.load_fixtures({"accounts": [{
            "id": ACCOUNT, "name": "Test account",
            "entities": [{"name": "a", "entity_type": "device",
                          "details": {"ipv4": "127.0.0.1"},
                          "protocols": {"ping": {"credential": "@ping_credential",
                                                 "bot": None,
                                                 "sensors": [{"sensor": "@ping_sensor",
                                                              "interval": 1}]}}}]}]})
        dead = free_port()  # nothing listens there
        bot = self.start_bot("tests/testbot",
                             ["--output", "grafolean",
                              "--output", "graphite://127.0.0.1:%d" % dead],
                             env={"SHUTDOWN_FLUSH_TIMEOUT": "2"})
        self.wait_values("entity.", 8)
        bot.wait_log("graphite 127.0.0.1:%d: Connection refused" % dead)
        t0 = time.monotonic()
        self.assertEqual(bot.stop(), 0)
        self.assertLess(time.monotonic() - t0, 10)
        err = bot.stderr()
        self.assertRegex(err, r"graphite 127\.0\.0\.1:%d: \d+ values not delivered in time" % dead)
        for v in self.values():
            self.assertEqual(v["count"], 1)

    def test_bad_output_is_a_usage_error(self):
        path = self.jobs_file([entity(51)])
        bot = self.start_local(path, ["kafka://x"])
        self.assertEqual(bot.wait(10), 2)
        self.assertIn("unknown output", bot.stderr())


if __name__ == "__main__":
    unittest.main()
