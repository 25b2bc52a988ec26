"""Reliable delivery (issue 3, test matrix 5.1 R1-R15) through testbot and the
fake backend's fault injection.  The matrix's durations are scaled down so the
file runs in a few minutes; each test's docstring says by how much.  Every test
asserts the exact set of (path, t) the backend stored and how often each was
received.  R16 (wall clock stepped back) is the unit test
sender_r16_wall_clock_step in tests/unit/t_sender.c.

testbot makes the sets checkable: with TESTBOT_VALUES=K each run of entity E
emits entity.E.test.v.0..K-1 = the run's number, all with one timestamp, next
to entity.E.test.<sensor>.n = the run's number and entity.E.test.due.1; so the
run numbers of every path must be exactly 1..N, and the v.* paths of a run
must share its timestamp.  TESTBOT_MAX_RUNS=N stops the values after N runs,
which makes "everything measured" a known quantity.

Waiting is always polling for a condition (a log line, a request in the fake's
log, values stored); timing checks are lower bounds, or upper bounds with
seconds of slack, so a loaded 2-core machine does not make them flaky."""

import calendar
import collections
import email.utils
import math
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time

from lib import ACCOUNT, BUILD, TOKEN, BotTestCase, wait_until

# Short timings for tests: backoff capped at 2 s, counters every second.
FAST = {"SEND_RETRY_MAX_MS": "2000", "SEND_STATS_INTERVAL": "1",
        "JOBS_REFRESH_INTERVAL": "3600"}
K = 10  # extra values per run: 12 values per run with .n and due.1

TOTALS_RE = re.compile(
    r"values: (\d+) measured, (\d+) delivered, (\d+) dropped \((\d+) buffer full, "
    r"(\d+) too old, (\d+) refused, (\d+) too old for POST\), (\d+) retried, "
    r"(\d+) of (\d+) requests failed, (\d+) undelivered")
TOTALS_KEYS = ("measured", "delivered", "dropped", "dropped_full", "dropped_old",
               "dropped_refused", "dropped_stale", "retried", "failed", "requests",
               "undelivered")
BUFFERED_RE = re.compile(r"values: last \d+ s: .*; (\d+) buffered")
LOG_TIME_RE = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{3})Z ")


def ping_entity(name, interval=1):
    return {"name": name, "entity_type": "device", "details": {"ipv4": "127.0.0.1"},
            "protocols": {"ping": {"credential": "@ping_credential", "bot": None,
                                   "sensors": [{"sensor": "@ping_sensor",
                                                "interval": interval}]}}}


def log_time(line):
    """Unix time of a bot log line."""
    m = LOG_TIME_RE.match(line)
    if not m:
        return None
    y, mo, d, h, mi, s, ms = (int(x) for x in m.groups())
    return calendar.timegm((y, mo, d, h, mi, s)) + ms / 1000.0


def is_sanitized():
    try:
        with open(os.path.join(BUILD, "tests", "testbot"), "rb") as f:
            return b"AddressSanitizer" in f.read()
    except OSError:
        return False


SANITIZED = is_sanitized()


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


class DeliveryTest(BotTestCase):

    def setUp(self):
        self.t_start = time.monotonic()
        BotTestCase.setUp(self)

    def tearDown(self):
        BotTestCase.tearDown(self)
        print("[%.1f s]" % (time.monotonic() - self.t_start), end=" ")

    # -- helpers -----------------------------------------------------------

    def load(self, n, interval=1):
        acc = {"id": ACCOUNT, "name": "Test account",
               "entities": [ping_entity("e%03d" % i, interval) for i in range(n)]}
        ids = self.fake.load_fixtures({"accounts": [acc]})["accounts"][0]
        self.sensor = ids["defaults"]["ping_sensor"]
        self.eids = sorted(ids["entities"].values())
        return self.eids

    def start(self, env=None, **kw):
        e = dict(FAST)
        e["TESTBOT_VALUES"] = str(K)
        e.update(env or {})
        return self.start_bot("tests/testbot", env=e, **kw)

    def totals(self, bot):
        m = None
        for m in TOTALS_RE.finditer(bot.stderr()):
            pass
        self.assertIsNotNone(m, bot.stderr()[-3000:])
        return dict(zip(TOTALS_KEYS, (int(x) for x in m.groups())))

    def buffered(self, bot):
        found = BUFFERED_RE.findall(bot.stderr())
        return int(found[-1]) if found else 0

    def value_puts(self, since=0.0):
        return [r for r in self.fake.requests()
                if r["method"] == "PUT" and "/values" in r["path"] and r["time"] >= since]

    def lines(self, bot, text):
        return [l for l in bot.stderr().splitlines() if text in l]

    def runs(self, max_count=1, n_runs=None, eids=None, exact_total=True):
        """Checks every entity's values run by run and returns {eid: (N, run_t)}:
        .n and each v.i hold exactly the runs 1..N, the v.i of one run share
        one timestamp, due.1 has N values, nothing is stored more than
        max_count times and nothing else is stored."""
        by = collections.defaultdict(list)
        allv = self.fake.values()
        for v in allv:
            self.assertLessEqual(v["count"], max_count, v)
            by[v["p"]].append(v)
        out = {}
        for e in (eids or self.eids):
            n = by.get("entity.%d.test.%d.n" % (e, self.sensor), [])
            got = sorted(int(x["v"]) for x in n)
            self.assertEqual(got, list(range(1, len(got) + 1)), "entity %d .n" % e)
            if n_runs is not None:
                self.assertEqual(len(got), n_runs, "entity %d" % e)
            run_t = None
            for i in range(K):
                vi = by.get("entity.%d.test.v.%d" % (e, i), [])
                m = {int(x["v"]): x["t"] for x in vi}
                self.assertEqual(len(m), len(vi))
                self.assertEqual(sorted(m), got, "entity %d v.%d" % (e, i))
                if run_t is None:
                    run_t = m
                self.assertEqual(m, run_t, "entity %d v.%d timestamps" % (e, i))
            self.assertEqual(len(by.get("entity.%d.test.due.1" % e, [])), len(got))
            out[e] = (len(got), run_t or {})
        if exact_total:
            expect = sum(n * (K + 2) for n, _ in out.values())
            self.assertEqual(len(allv), expect)
        return out

    def wait_runs_done(self, bot, n_jobs, n_runs, timeout=60):
        wait_until(lambda: len(re.findall(r"testbot: job \d+: %d runs done" % n_runs,
                                          bot.stderr())) >= n_jobs,
                   timeout, what="%d jobs to finish %d runs" % (n_jobs, n_runs))

    def drained_past(self, t_mark, slack=1.5):
        """True when every entity's runs are contiguous and reach past t_mark:
        the queue is FIFO, so everything measured before t_mark is stored."""
        for e in self.eids:
            n = self.fake.values(prefix="entity.%d.test.%d.n" % (e, self.sensor))
            if not n or max(x["t"] for x in n) < t_mark + slack:
                return False
            got = sorted(int(x["v"]) for x in n)
            if got != list(range(1, len(got) + 1)):
                return False
        return True

    def stop_and_check(self, bot, max_count=1, **kw):
        self.assertEqual(bot.stop(15), 0)
        tot = self.totals(bot)
        out = self.runs(max_count=max_count, **kw)
        self.assertEqual(tot["undelivered"], 0)
        self.assertEqual(tot["dropped"], 0)
        self.assertEqual(tot["measured"], tot["delivered"])
        self.assertEqual(tot["delivered"], sum(n * (K + 2) for n, _ in out.values()))
        self.assertFalse([r for r in self.fake.requests()
                          if r["method"] == "POST" and "/values" in r["path"]])
        return tot, out

    # -- R1 ------------------------------------------------------------------

    def test_r1_outage_buffered_and_drained_exactly_once(self):
        """R1, scaled 40x shorter and 10x faster: a 15 s outage (not 10 min) with
        100 entities x 12 values every 1 s (not 10 s), so about 18,000 values
        are buffered (not 60,000).  All are stored exactly once with their
        collection times, drained within 20 s in PUTs of <= 1,000 values,
        RSS grows by less than the matrix's 32 MiB per 60,000 values (scaled),
        and no POST is made."""
        self.load(100)
        bot = self.start()
        self.wait_values("entity.", 2400, timeout=30)
        rss0 = rss_kib(bot.proc.pid)
        fid = self.fake.add_fault(mode="down", method="PUT", path_re="values")
        t_down = time.time()
        wait_until(lambda: self.buffered(bot) >= 17000, 60, what="18,000 values buffered")
        peak = self.buffered(bot)
        rss1 = rss_kib(bot.proc.pid)
        self.fake.clear_faults(fid)
        t_up = time.time()
        wait_until(lambda: self.drained_past(t_up), 30, what="the backlog to drain")
        drain_s = time.time() - t_up
        tot, runs = self.stop_and_check(bot)
        self.assertLess(drain_s, 20)
        self.assertGreaterEqual(tot["retried"], 1)
        for r in self.value_puts():
            self.assertLessEqual(r["n_values"] or 0, 1000)
        # collection times spread over the outage, not the recovery instant
        ts = sorted(t for _, m in runs.values() for t in m.values() if t_down < t < t_up)
        self.assertGreater(ts[-1] - ts[0], (t_up - t_down) - 3)
        self.assertGreaterEqual(len(ts) * (K + 2), peak * 0.8)
        if not SANITIZED:
            budget_kib = 32 * 1024 * peak / 60000.0 + 4096
            self.assertLess(rss1 - rss0, budget_kib, (rss0, rss1, peak))
        print("\n    R1: %d values buffered, drained in %.1f s, RSS +%d KiB"
              % (peak, drain_s, rss1 - rss0), end=" ")

    # -- R2 ------------------------------------------------------------------

    def test_r2_bounded_buffer_keeps_the_newest(self):
        """R2, scaled: 20 entities x 12 values x 10 runs (2,400 values, not
        60,000) measured during an outage with SEND_BUFFER_MAX_VALUES=1000 (not
        10,000): exactly the newest 1,000 are delivered, values_dropped is
        exactly 1,400 and they are the oldest, one warning line (the matrix
        allows one per minute).  Retries are held off (60 s) while the runs
        happen, so no request is in flight when values are dropped; the
        shutdown flush then delivers the buffer."""
        self.load(20)
        fid = self.fake.add_fault(mode="down", method="PUT", path_re="values")
        bot = self.start({"TESTBOT_MAX_RUNS": "10", "SEND_BUFFER_MAX_VALUES": "1000",
                          "SEND_RETRY_MIN_MS": "60000", "SEND_RETRY_MAX_MS": "60000"})
        self.wait_runs_done(bot, 20, 10)
        self.fake.clear_faults(fid)
        self.assertEqual(bot.stop(15), 0)
        tot = self.totals(bot)
        self.assertEqual(tot["measured"], 2400)
        self.assertEqual(tot["delivered"], 1000)
        self.assertEqual(tot["dropped"], 1400)
        self.assertEqual(tot["dropped_full"], 1400)
        self.assertEqual(tot["undelivered"], 0)
        vals = self.values("entity.")
        self.assertEqual(len(vals), 1000)
        self.assertTrue(all(v["count"] == 1 for v in vals))
        # The dropped ones are the oldest: per path the delivered runs are
        # the last ones, and all paths are cut within one tick.
        starts = []
        for e in self.eids:
            for suffix in ["%d.n" % self.sensor] + ["v.%d" % i for i in range(K)]:
                p = "entity.%d.test.%s" % (e, suffix)
                got = sorted(int(v["v"]) for v in vals if v["p"] == p)
                self.assertTrue(got, p)
                self.assertEqual(got, list(range(got[0], 11)), p)
                starts.append(got[0])
        self.assertLessEqual(max(starts) - min(starts), 1, starts)
        self.assertEqual(len(self.lines(bot, "values: buffer full")), 1)

    # -- R3 ------------------------------------------------------------------

    def test_r3_lost_acks_stored_once_no_gap(self):
        """R3, scaled 12x shorter: for 10 s (not 2 min) every second values
        request is committed and then its connection dropped (50 %).  Every
        (p, t) is stored once as a row (upsert), the receive counts add up to
        exactly the values in processed requests, lost answers are resent
        (failed requests <= successful ones + 1, well within the matrix's
        2x the batch count) and no run is missing."""
        self.load(20)
        bot = self.start()
        self.wait_values("entity.", 240)
        fid = self.fake.add_fault(mode="commit_then_drop", method="PUT",
                                  path_re="values", every=2)
        t0 = time.time()
        wait_until(lambda: len([r for r in self.value_puts(t0)
                                if r["outcome"] == "dropped-after-commit"]) >= 5
                   and time.time() - t0 > 10, 60, what="lost answers")
        self.fake.clear_faults(fid)
        t_up = time.time()
        wait_until(lambda: self.drained_past(t_up), 30, what="catch-up")
        self.assertEqual(bot.stop(15), 0)
        out = self.runs(max_count=2)
        tot = self.totals(bot)
        self.assertEqual(tot["undelivered"], 0)
        self.assertEqual(tot["dropped"], 0)
        puts = self.value_puts()
        lost = [r for r in puts if r["outcome"] == "dropped-after-commit"]
        ok = [r for r in puts if r["status"] == 204 and r["outcome"] == "answered"]
        self.assertEqual(len(lost) + len(ok), len(puts))
        self.assertLessEqual(len(lost), len(ok) + 1)
        receipts = sum(v["count"] for v in self.fake.values())
        self.assertEqual(receipts, sum(r["n_values"] for r in lost + ok))
        self.assertEqual(tot["delivered"], sum(n * (K + 2) for n, _ in out.values()))
        self.assertTrue(any(v["count"] == 2 for v in self.fake.values()))

    # -- R4 ------------------------------------------------------------------

    def test_r4_5xx_backoff_doubles_with_jitter(self):
        """R4, scaled 15x: 500, 502, 504, then 503 for 20 s (not 5 min) with
        the backoff cap at 4 s (SEND_RETRY_MAX_MS; 60 s in production).  The
        bot stays up; values requests come at most once a second; gap k is at
        least 1 s and at most min(2^(k-1), 4) s (plus scheduling slack); the
        first gap is the 1 s floor; after recovery everything drains once."""
        self.load(20)
        bot = self.start({"SEND_RETRY_MAX_MS": "4000"})
        self.wait_values("entity.", 240)
        for code in (500, 502, 504):
            self.fake.add_fault(mode="status", code=code, method="PUT",
                                path_re="values", count=1)
        self.fake.add_fault(mode="status", code=503, method="PUT", path_re="values")
        t0 = time.time()
        wait_until(lambda: time.time() - t0 > 20 and len(self.value_puts(t0)) >= 6,
                   60, what="20 s of 5xx")
        self.assertIsNone(bot.proc.poll())
        failed = [r["time"] for r in self.value_puts()
                  if r["status"] in (500, 502, 503, 504)]
        self.fake.clear_faults()
        gaps = [b - a for a, b in zip(failed, failed[1:])]
        slack = 2.0
        for k, g in enumerate(gaps, 1):
            self.assertGreaterEqual(g, 0.95, gaps)
            self.assertLessEqual(g, min(2 ** (k - 1), 4) + slack, gaps)
        self.assertLessEqual(gaps[0], 1 + slack)
        self.assertGreaterEqual(len(failed), 6)
        self.assertLessEqual(len(failed), 21)
        t_up = time.time()
        wait_until(lambda: self.drained_past(t_up), 30, what="catch-up")
        self.stop_and_check(bot)
        print("\n    R4: %d attempts in %.0f s, gaps %s" % (
            len(failed), failed[-1] - failed[0], " ".join("%.1f" % g for g in gaps)), end=" ")

    def test_r4b_413_forever_keeps_the_request_rate_bounded(self):
        """Issue 13.2: a backend that answers 413 to every values request for
        15 s.  The request size halves down to 4 KiB, then each 413 backs off
        like a 5xx, so the backend sees a few dozen requests (it saw ~4,000 a
        second before); nothing is dropped, and after recovery everything
        drains exactly once."""
        self.load(20)
        bot = self.start({"SEND_RETRY_MAX_MS": "4000"})
        self.wait_values("entity.", 240)
        fid = self.fake.add_fault(mode="status", code=413, method="PUT",
                                  path_re="values", body="<html>413 Request Entity Too Large</html>")
        t0 = time.time()
        wait_until(lambda: time.time() - t0 > 15, 30, what="15 s of 413")
        self.assertIsNone(bot.proc.poll())
        too_big = [r for r in self.value_puts(t0) if r["status"] == 413]
        self.fake.clear_faults(fid)
        # 8 halvings, 4 in flight, then at most one probe per second.
        self.assertGreaterEqual(len(too_big), 3)
        self.assertLessEqual(len(too_big), 8 + 4 + 16 + 8, len(too_big))
        t_up = time.time()
        wait_until(lambda: self.drained_past(t_up), 60, what="catch-up")
        self.stop_and_check(bot)
        print("\n    413 forever: %d requests in 15 s" % len(too_big), end=" ")

    # -- R5 ------------------------------------------------------------------

    def test_r5_retry_after_seconds_and_date(self):
        """R5, scaled 6x: 429 with Retry-After: 5 (not 30), then 503 with an
        HTTP-date 6 s ahead.  No values request before the time the backend
        asked for, and the next one soon after; then a normal drain."""
        self.load(5)
        bot = self.start({"SEND_RETRY_MAX_MS": "1000"})
        self.wait_values("entity.", 60)
        t0 = time.time()
        self.fake.add_fault(mode="status", code=429, method="PUT", path_re="values",
                            count=1, headers={"Retry-After": "5"})
        wait_until(lambda: len(self.value_puts(t0)) >= 2, 30, what="the retry")
        first, nxt = self.value_puts(t0)[:2]
        self.assertEqual(first["status"], 429)
        self.assertGreaterEqual(nxt["time"] - first["time"], 5.0)
        self.assertLess(nxt["time"] - first["time"], 5.0 + 2.5)
        date_t = int(time.time()) + 6
        t1 = time.time()
        self.fake.add_fault(mode="status", code=503, method="PUT", path_re="values",
                            count=1,
                            headers={"Retry-After": email.utils.formatdate(date_t, usegmt=True)})
        wait_until(lambda: len(self.value_puts(t1)) >= 2, 30, what="the retry")
        first, nxt = self.value_puts(t1)[:2]
        self.assertEqual(first["status"], 503)
        self.assertGreaterEqual(nxt["time"], date_t - 0.02)
        self.assertLess(nxt["time"], date_t + 2.5)
        t_up = time.time()
        wait_until(lambda: self.drained_past(t_up), 30, what="catch-up")
        self.stop_and_check(bot)

    # -- R6 ------------------------------------------------------------------

    def test_r6_bad_value_bisected_out(self):
        """R6: 100 entities x 12 values x 3 runs are buffered while PUT is down;
        run 2 of one entity carries a path the backend refuses
        (system.injected.<id>, put in behind run_emit's back).  On recovery
        (the shutdown flush sends the 3,601 values at once) the batch holding
        it is bisected with at most ceil(log2(size)) + 1 extra requests, the
        backend's answer is logged verbatim, only that value is dropped, the
        other 3,600 are stored exactly once."""
        self.load(100)
        bad = self.eids[37]
        fid = self.fake.add_fault(mode="down", method="PUT", path_re="values")
        bot = self.start({"TESTBOT_MAX_RUNS": "3", "TESTBOT_INJECT_BAD_RUN": "2",
                          "TESTBOT_INJECT_BAD_JOB": str(bad),
                          "SEND_RETRY_MIN_MS": "60000", "SEND_RETRY_MAX_MS": "60000"})
        self.wait_runs_done(bot, 100, 3)
        self.fake.clear_faults(fid)
        t_up = time.time()
        self.assertEqual(bot.stop(15), 0)
        puts = self.value_puts(t_up)
        refused = [r for r in puts if r["status"] == 400]
        self.assertTrue(refused)
        size = refused[0]["n_values"]
        extra = len(puts) - math.ceil(3601 / 1000.0)
        self.assertLessEqual(extra, math.ceil(math.log2(size)) + 1, (size, len(puts)))
        body = ("HTTP 400: Input validation failed: Invalid Path format: "
                "system.injected.%d (paths starting with 'system.' are reserved)" % bad)
        self.assertIn("the backend refused system.injected.%d = 1 at " % bad, bot.stderr())
        self.assertIn("value dropped: " + body, bot.stderr())
        tot = self.totals(bot)
        self.assertEqual(tot["dropped"], 1)
        self.assertEqual(tot["dropped_refused"], 1)
        self.assertEqual(tot["delivered"], 3600)
        self.assertEqual(tot["undelivered"], 0)
        self.runs(n_runs=3)
        self.assertEqual(self.fake.values(prefix="system"), [])
        print("\n    R6: batch of %d bisected with %d extra requests" % (size, extra), end=" ")

    # -- R7 ------------------------------------------------------------------

    def test_r7_revoked_token_pauses_and_resumes(self):
        """R7, scaled: the token is refused (401 on every request, then 403 on
        every request) for about 4 s each (the matrix has no duration).
        Sending pauses (only profile/ checks, no values requests), the
        buffer is kept, "backend rejected bot token" is logged at most once
        a minute (so once for both pauses), no token in any output
        (tearDown), and sending resumes when 2xx returns, with every value
        stored once."""
        self.load(10)
        bot = self.start()
        self.wait_values("entity.", 120)
        for code in (401, 403):
            fid = self.fake.add_fault(mode="status", code=code)
            t0 = time.time()

            def checks():
                return [r for r in self.fake.requests()
                        if r["time"] > t0 and "profile" in r["path"]]
            wait_until(lambda: time.time() - t0 > 4 and len(checks()) >= 3,
                       30, what="profile/ checks")
            self.assertTrue(all(r["status"] == code for r in checks()))
            puts = self.value_puts(t0)
            self.assertLessEqual(len(puts), 2, puts)  # the one that found out
            self.assertGreater(self.buffered(bot), 0)
            self.fake.clear_faults(fid)
            t_up = time.time()
            wait_until(lambda: self.drained_past(t_up), 30, what="catch-up")
        lines = self.lines(bot, "backend rejected bot token")
        self.assertEqual(len(lines), 1, lines)
        self.assertIn("backend rejected bot token (HTTP 401)", lines[0])
        self.stop_and_check(bot)

    def test_r7b_put_forbidden_falls_back_to_post(self):
        """PUT refused with 403 while the token works (profile/ answers): the
        bot says so once and sends fresh values with POST, which cannot carry
        their time (the backend stamps them on arrival); older ones would be
        dropped (SEND_POST_MAX_AGE).  Each run's values still arrive, one
        value per path and request."""
        self.load(5)
        bot = self.start()
        self.wait_values("entity.", 60)
        self.fake.add_fault(mode="status", code=403, method="PUT", path_re="values")
        t0 = time.time()
        bot.wait_log("falling back to POST")
        wait_until(lambda: len([r for r in self.fake.requests()
                                if r["method"] == "POST" and r["time"] > t0
                                and r["status"] == 204]) >= 5, 30, what="POSTs")
        self.assertEqual(bot.stop(15), 0)
        self.assertEqual(len(self.lines(bot, "falling back to POST")), 1)
        self.assertLessEqual(len(self.value_puts(t0)), 2)
        posts = [r for r in self.fake.requests() if r["method"] == "POST"]
        self.assertTrue(all(r["status"] == 204 for r in posts), posts)
        tot = self.totals(bot)
        self.assertEqual(tot["undelivered"], 0)
        self.assertEqual(tot["measured"], tot["delivered"] + tot["dropped_stale"])
        self.assertEqual(tot["dropped_stale"], 0)
        # every measured value stored once; POSTed ones under arrival times
        vals = self.values("entity.")
        self.assertEqual(len(vals), tot["delivered"])
        self.assertTrue(all(v["count"] == 1 for v in vals))

    # -- R8 / R9 ---------------------------------------------------------------

    def test_r8_hung_backend_times_out_polls_on_time(self):
        """R8, scaled 10x: the backend accepts connections and never answers
        values requests for 8 s; BACKEND_TIMEOUT=3 (not 30) aborts each
        request after 3 s; runs keep their 1 s schedule (start times stay
        within 1 s of start + k x interval); then everything drains once."""
        self.load(5)
        bot = self.start({"BACKEND_TIMEOUT": "3"})
        self.wait_values("entity.", 60)
        fid = self.fake.add_fault(mode="hang", method="PUT", path_re="values")
        t0 = time.time()
        wait_until(lambda: self.value_puts(t0), 10, what="a hung request")
        t_hung = self.value_puts(t0)[0]["time"]
        bot.wait_log("Operation timed out", 15)
        waited = log_time(self.lines(bot, "Operation timed out")[0]) - t_hung
        self.assertGreaterEqual(waited, 2.5)  # curl's 3 s count from its start
        self.assertLess(waited, 3 + 3)
        wait_until(lambda: time.time() - t0 > 8, 20, what="8 s of hanging")
        self.fake.clear_faults(fid)
        t_up = time.time()
        wait_until(lambda: self.drained_past(t_up), 30, what="catch-up")
        tot, runs = self.stop_and_check(bot)
        for e, (n, run_t) in runs.items():
            ts = [run_t[r] for r in sorted(run_t)]
            for k, t in enumerate(ts):
                self.assertLess(abs(t - ts[0] - k), 1.0, (e, k, t - ts[0]))

    def test_r9_dripping_backend_aborted_by_low_speed_limit(self):
        """R9, scaled: answers drip at 1 byte/s; BACKEND_LOW_SPEED_LIMIT=10
        bytes/s for BACKEND_LOW_SPEED_TIME=2 s (the matrix: 15 s) aborts each
        request long before BACKEND_TIMEOUT (30 s).  curl judges the speed
        over its last ~5 s, so the abort comes 2 s after the fast upload has
        left that window: about 7-8 s.  The drip mode stores the values
        before answering, so resent values are received twice (upsert: one
        row); everything else once."""
        self.load(5)
        bot = self.start({"BACKEND_TIMEOUT": "30", "BACKEND_LOW_SPEED_LIMIT": "10",
                          "BACKEND_LOW_SPEED_TIME": "2"})
        self.wait_values("entity.", 60)
        fid = self.fake.add_fault(mode="slow", method="PUT", path_re="values",
                                  interval=1.0)
        t0 = time.time()
        wait_until(lambda: self.value_puts(t0), 10, what="a dripping request")
        t_slow = self.value_puts(t0)[0]["time"]
        bot.wait_log("Operation too slow", 15)
        waited = log_time(self.lines(bot, "Operation too slow")[0]) - t_slow
        self.assertGreaterEqual(waited, 1.9)
        self.assertLess(waited, 15)
        wait_until(lambda: len(self.value_puts(t0)) >= 3, 20, what="more attempts")
        self.fake.clear_faults(fid)
        t_up = time.time()
        wait_until(lambda: self.drained_past(t_up), 30, what="catch-up")
        self.stop_and_check(bot, max_count=2)

    def test_r9b_slow_backend_gets_smaller_requests(self):
        """The real backend spends a few queries and an MQTT message per
        value, so a big PUT can outlast the client's timeout: the backend
        stores it, but the answer never arrives and the same request would
        time out forever.  Scaled: BACKEND_TIMEOUT=6 s while every PUT is
        processed only after 8 s (a failure counts as slow after 5 s).  A
        timed-out request halves the next ones (down to 50 values), with one
        warning; once the backend is fast again the requests grow back to
        1,000 values and everything is stored (resent values more than
        once: upsert, one row each)."""
        self.load(20)
        bot = self.start({"BACKEND_TIMEOUT": "6"})
        self.wait_values("entity.", 240)
        fid = self.fake.add_fault(mode="delay", seconds=8.0, method="PUT", path_re="values")
        bot.wait_log("until requests succeed again", 60)
        line = self.lines(bot, "until requests succeed again")[0]
        m = re.search(r"a request of (\d+) values failed after ([\d.]+) s .*"
                      r"sending at most (\d+) values per request", line)
        self.assertIsNotNone(m, line)
        n, took, most = int(m.group(1)), float(m.group(2)), int(m.group(3))
        self.assertGreaterEqual(took, 5.0)
        self.assertEqual(most, max(n // 2, 50), line)
        t_warn = log_time(line)
        # requests started after the warning carry at most that many
        # (their size is known once the fake processes them, 8 s later)
        wait_until(lambda: [r for r in self.value_puts(t_warn + 0.5) if r["n_values"]],
                   30, what="a processed request sent after the warning")
        later = [r["n_values"] for r in self.value_puts(t_warn + 0.5) if r["n_values"]]
        self.assertLessEqual(max(later), most, later)
        self.fake.clear_faults(fid)
        t_up = time.time()
        wait_until(lambda: self.drained_past(t_up), 60, what="catch-up")
        bot.wait_log("requests carry up to 1000 values again", 30)
        self.assertEqual(len(self.lines(bot, "until requests succeed again")), 1)
        self.stop_and_check(bot, max_count=16)

    # -- R10 -----------------------------------------------------------------

    def test_r10_bad_job_configs_keep_last_known_good(self):
        """R10, scaled: the entity list answers, one refresh each: truncated
        JSON, HTML with 200, an empty 200, "[" x 100,000, a 50 MB body (over
        the 16 MiB cap), wrong types / interval 0, -1, 1e12 / duplicate ids;
        then 10,000 entities.  The bot never exits, the running job keeps
        its schedule and its values arrive throughout; invalid entries are
        logged.  (Refetching a failed config with backoff is jobfetch's:
        it refetches at JOBS_REFRESH_INTERVAL; not checked here.)"""
        self.load(1)
        e = self.eids[0]
        bot = self.start()
        self.wait_values("entity.%d." % e, 24)
        state = self.fake.state()["accounts"][0]
        good = [x for x in state["entities"] if x["id"] == e][0]

        def variant(i, interval):
            x = dict(good, id=i, name="bad%d" % i)
            x["protocols"] = {"ping": dict(good["protocols"]["ping"],
                                           sensors=[{"sensor": self.sensor,
                                                     "interval": interval}])}
            return x

        odd = {"list": [good, good, variant(999001, "x"), variant(999002, 0),
                        variant(999003, -1), variant(999004, 1e12)]}
        cases = [
            ({"mode": "truncate"}, "entity list failed"),
            ({"mode": "garbage"}, "entity list failed"),
            ({"mode": "garbage", "body": ""}, "entity list failed"),
            ({"mode": "garbage", "body": "[", "repeat": 100000,
              "content_type": "application/json"}, "entity list failed"),
            ({"mode": "garbage", "body": "x" * 1000, "repeat": 50000},
             "response body over"),
            ({"mode": "garbage", "body": odd, "content_type": "application/json"},
             "999004"),
        ]
        for spec, expect in cases:
            n_before = len(self.lines(bot, expect))
            self.fake.add_fault(dict(spec, method="GET", path_re=r"entities$", count=1))
            have = len(self.values("entity.%d." % e))
            bot.signal(signal.SIGHUP)
            wait_until(lambda: len(self.lines(bot, expect)) > n_before, 30,
                       what=lambda: "%r; stderr:\n%s" % (expect, bot.stderr()[-2000:]))
            wait_until(lambda: len(self.values("entity.%d." % e)) >= have + 24, 20,
                       what="the job to keep running")
            self.assertIsNone(bot.proc.poll())
        for i in (999001, 999002, 999003, 999004):
            self.assertIn("job %d" % i, bot.stderr())
            self.assertEqual(self.values("entity.%d." % i), [])
        self.assertIn("appears twice", bot.stderr())
        # 10,000 entities
        for i in range(10000):
            self.fake.put_record(ACCOUNT, "entities", ping_entity("m%05d" % i, 3600))
        bot.signal(signal.SIGHUP)
        bot.wait_log("jobs: 10001 ping jobs", 60)
        have = len(self.values("entity.%d." % e))
        wait_until(lambda: len(self.values("entity.%d." % e)) >= have + 24, 30,
                   what="the job to keep running")
        wait_until(lambda: len(self.values("entity.")) >= 10000 * 12, 60,
                   what="the new jobs' values")
        self.assertEqual(bot.stop(15), 0)
        self.assertEqual(self.totals(bot)["undelivered"], 0)
        self.runs(eids=[e], exact_total=False)

    # -- R11 -----------------------------------------------------------------

    def test_r11_flapping_backend(self):
        """R11, scaled (the matrix's nightly 60 min of 30 s up / 30 s down):
        6 cycles, each down until 2 values requests failed and up until 3
        succeeded (a few seconds each).  No loss, no duplicates, open file
        descriptors stable (+-5) and, unsanitized, RSS growth after warm-up
        under 10 % (plus 2 MiB for allocator noise); one warning line and
        one recovery note however often it flaps within a minute."""
        self.load(10)
        bot = self.start()
        self.wait_values("entity.", 120)
        pid = bot.proc.pid
        fds = rss = None
        for cycle in range(6):
            t0 = time.time()
            fid = self.fake.add_fault(mode="down", method="PUT", path_re="values")
            wait_until(lambda: len(self.value_puts(t0)) >= 2, 30, what="failures")
            self.fake.clear_faults(fid)
            t1 = time.time()
            wait_until(lambda: len([r for r in self.value_puts(t1)
                                    if r["status"] == 204]) >= 3, 30, what="successes")
            if cycle == 1:
                fds, rss = fd_count(pid), rss_kib(pid)
        fds2, rss2 = fd_count(pid), rss_kib(pid)
        t_up = time.time()
        wait_until(lambda: self.drained_past(t_up), 30, what="catch-up")
        self.stop_and_check(bot)
        self.assertLessEqual(abs(fds2 - fds), 5, (fds, fds2))
        # six outages in well under a minute: one warning, one recovery note
        self.assertEqual(len(self.lines(bot, "values: sending failed")), 1)
        self.assertEqual(len(self.lines(bot, "takes values again")), 1)
        if not SANITIZED:
            self.assertLess(rss2 - rss, rss * 0.10 + 2048, (rss, rss2))
        print("\n    R11: fds %d -> %d, RSS %d -> %d KiB" % (fds, fds2, rss, rss2), end=" ")

    # -- R12 / R13 -------------------------------------------------------------

    def test_r12_sigterm_delivers_the_buffer(self):
        """R12: 50 entities x 12 values x 9 runs = 5,400 values buffered while
        PUT is down (retries held off); the backend comes back and SIGTERM
        follows at once: the bot delivers all 5,400 (each once), then exits
        0 within 10 s."""
        self.load(50)
        fid = self.fake.add_fault(mode="down", method="PUT", path_re="values")
        bot = self.start({"TESTBOT_MAX_RUNS": "9", "SEND_RETRY_MIN_MS": "60000",
                          "SEND_RETRY_MAX_MS": "60000"})
        self.wait_runs_done(bot, 50, 9)
        self.fake.clear_faults(fid)
        t = time.monotonic()
        bot.signal(signal.SIGTERM)
        self.assertEqual(bot.wait(10), 0)
        self.assertLess(time.monotonic() - t, 10)
        tot = self.totals(bot)
        self.assertEqual(tot["measured"], 5400)
        self.assertEqual(tot["delivered"], 5400)
        self.assertEqual(tot["undelivered"], 0)
        self.runs(n_runs=9)
        self.assertIn("values: shutdown: everything delivered", bot.stderr())

    def test_r13_sigterm_with_backend_down(self):
        """R13: 20 entities x 12 values x 3 runs = 720 values buffered, the
        backend stays down; SIGTERM: the bot keeps trying (about once a
        second) for SHUTDOWN_FLUSH_TIMEOUT (8 s), logs that the 720 values
        are lost, exits 0 within 10 s."""
        self.load(20)
        self.fake.add_fault(mode="down", method="PUT", path_re="values")
        bot = self.start({"TESTBOT_MAX_RUNS": "3"})
        self.wait_runs_done(bot, 20, 3)
        t = time.monotonic()
        t_sig = time.time()
        bot.signal(signal.SIGTERM)
        self.assertEqual(bot.wait(10), 0)
        self.assertLess(time.monotonic() - t, 10)
        self.assertIn("values: shutdown: 720 values not delivered in time; they are lost",
                      bot.stderr())
        tot = self.totals(bot)
        self.assertEqual(tot["measured"], 720)
        self.assertEqual(tot["undelivered"], 720)
        self.assertEqual(self.values("entity."), [])
        tries = [r["time"] for r in self.value_puts(t_sig)]
        self.assertGreaterEqual(len(tries), 4)
        self.assertTrue(all(b - a >= 0.95 for a, b in zip(tries, tries[1:])), tries)

    # -- R14 -----------------------------------------------------------------

    def spool_records(self, d):
        recs = []
        for name in sorted(os.listdir(d)):
            if name.startswith("seg-"):
                with open(os.path.join(d, name), "rb") as f:
                    recs.append((name, f.read()))
        return recs

    def test_r14_spool_survives_sigkill_and_torn_tail(self):
        """R14: 20 entities x 12 values x 3 runs (720 values) measured during
        an outage with SEND_SPOOL_DIR set; SIGKILL; the last spooled record
        is cut in half (a torn write); restart with the backend up: the 719
        complete records are delivered exactly once with their original
        times, the torn one is skipped with a warning, and the spool is
        empty after a clean stop.  (The spool's byte bound is unit-tested.)"""
        spool = tempfile.mkdtemp(prefix="spool-it-")
        self.addCleanup(shutil.rmtree, spool, True)
        self.load(20)
        fid = self.fake.add_fault(mode="down", method="PUT", path_re="values")
        env = {"TESTBOT_MAX_RUNS": "3", "SEND_SPOOL_DIR": spool}
        bot = self.start(env)
        self.wait_runs_done(bot, 20, 3)
        bot.proc.kill()
        bot.wait()
        segs = self.spool_records(spool)
        self.assertTrue(segs)
        lines = b"".join(data for _, data in segs).splitlines()
        self.assertEqual(len(lines), 720)
        last_name, last_data = segs[-1]
        cut = last_data[:-1].rfind(b"\n") + 1  # start of the last record
        torn = last_data[cut:].split()
        with open(os.path.join(spool, last_name), "r+b") as f:
            f.truncate(cut + (len(last_data) - cut) // 2)
        expect = set()
        for l in lines[:-1]:
            acc, t, v, p = l.decode().split()
            expect.add((p, round(float(t), 6)))
        self.fake.clear_faults(fid)
        t_restart = time.time()
        bot2 = self.start(dict(env, TESTBOT_MAX_RUNS="1"))
        bot2.wait_log("the last record is truncated")
        bot2.wait_log("719 values loaded")
        wait_until(lambda: len(self.values("entity.")) >= 719 + 20 * 12, 30,
                   what="the spooled values")
        self.assertEqual(bot2.stop(15), 0)
        stored = {(v["p"], v["t"]): v["count"] for v in self.values("entity.")}
        old = {k: c for k, c in stored.items() if k[1] < t_restart}
        self.assertEqual(set(old), expect)
        self.assertTrue(all(c == 1 for c in old.values()))
        self.assertNotIn((torn[3].decode(), round(float(torn[1]), 6)), stored)
        self.assertEqual(self.totals(bot2)["undelivered"], 0)
        self.assertEqual(self.spool_records(spool), [])

    # -- R15 -----------------------------------------------------------------

    def jobs_file(self):
        d = tempfile.mkdtemp(prefix="jobs-it-")
        self.addCleanup(shutil.rmtree, d, True)
        path = os.path.join(d, "jobs.json")
        ent = ping_entity("local", 1)
        ent["id"] = 101
        ent["protocols"]["ping"]["credential"] = {"id": 1, "details": {}}
        ent["protocols"]["ping"]["sensors"] = [
            {"sensor": {"id": 2, "default_interval": 1, "details": {}}, "interval": None}]
        with open(path, "w") as f:
            f.write(__import__("json").dumps([ent]))
        return path

    def attempts(self, bot):
        """(log time, delay ms, error) of every failed attempt the bot
        logged before it was told to stop."""
        out = []
        for l in bot.stderr().splitlines():
            if "stopping: signal" in l:
                break
            m = re.search(r"values: attempt (\d+) failed \((.*)\); next in (\d+) ms", l)
            if m:
                out.append((log_time(l), int(m.group(3)), m.group(2)))
        return out

    def check_backoff(self, att, cap_ms):
        for k, (t, delay, _) in enumerate(att, 1):
            self.assertGreaterEqual(delay, 1000)
            self.assertLessEqual(delay, min(1000 * 2 ** (k - 1), cap_ms))
        for (t1, d1, _), (t2, _, _) in zip(att, att[1:]):
            self.assertGreaterEqual(t2 - t1, d1 / 1000.0 - 0.02)

    def test_r15_dns_refused_tls_use_the_retry_path(self):
        """R15: values to an unresolvable host, to a closed port, and to a TLS
        server with a self-signed certificate all take the R4 retry path
        (backoff from 1 s, doubling, capped at 4 s here); the certificate is
        never accepted, so that server never sees an HTTP request.  Jobs come
        from a file (--jobs, --output backend)."""
        jobs = self.jobs_file()
        # A bound socket that never listens: connecting is refused, and no
        # test running beside this one can take the port meanwhile.
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.addCleanup(s.close)
        closed_port = s.getsockname()[1]
        env = {"SEND_RETRY_MAX_MS": "4000", "LOG_LEVEL": "debug",
               "BACKEND_CONNECT_TIMEOUT": "2", "SHUTDOWN_FLUSH_TIMEOUT": "1"}
        for url, err in (("http://nonexistent.invalid/api", "resol"),
                         ("http://127.0.0.1:%d/api" % closed_port, "onnect")):
            bot = self.start(dict(env, BACKEND_URL=url),
                             args=["--jobs", jobs, "--output", "backend"])
            wait_until(lambda: len(self.attempts(bot)) >= 4, 40,
                       what=lambda: "4 attempts; stderr:\n%s" % bot.stderr()[-2000:])
            self.assertEqual(bot.stop(15), 0)
            att = self.attempts(bot)
            self.assertIn(err, att[0][2].lower())
            self.check_backoff(att, 4000)
        # TLS with a certificate curl must refuse
        if shutil.which("openssl") is None:
            self.skipTest("openssl is not installed")
        d = tempfile.mkdtemp(prefix="tls-it-")
        self.addCleanup(shutil.rmtree, d, True)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                        "-keyout", os.path.join(d, "k.pem"), "-out", os.path.join(d, "c.pem"),
                        "-days", "2", "-subj", "/CN=127.0.0.1"],
                       check=True, capture_output=True)
        srv = TlsServer(os.path.join(d, "c.pem"), os.path.join(d, "k.pem"))
        srv.start()
        self.addCleanup(srv.stop)
        bot = self.start(dict(env, BACKEND_URL="https://127.0.0.1:%d/api" % srv.port),
                         args=["--jobs", jobs, "--output", "backend"])
        wait_until(lambda: len(srv.accepts) >= 4, 40, what="4 TLS attempts")
        # SIGTERM makes one more, immediate, flush attempt: leave it out
        # of the spacing check below
        stopped_at = time.time()
        self.assertEqual(bot.stop(15), 0)
        self.assertEqual(srv.handshakes, 0)
        self.assertEqual(srv.requests, 0)
        att = self.attempts(bot)
        self.assertIn("certificate", att[0][2])
        self.check_backoff(att, 4000)
        before = [t for t in srv.accepts if t < stopped_at]
        gaps = [b - a for a, b in zip(before, before[1:])]
        self.assertTrue(all(g >= 0.95 for g in gaps), gaps)


class TlsServer(threading.Thread):
    """Accepts TCP, tries a TLS handshake with a self-signed certificate and
    counts what got through."""

    def __init__(self, cert, key):
        threading.Thread.__init__(self, daemon=True)
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert, key)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.accepts = []
        self.handshakes = 0
        self.requests = 0
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepts.append(time.time())
            conn.settimeout(2)
            try:
                tls = self.ctx.wrap_socket(conn, server_side=True)
                self.handshakes += 1
                if tls.recv(100):
                    self.requests += 1
            except (ssl.SSLError, OSError):
                pass
            finally:
                conn.close()

    def stop(self):
        self.done.set()
        self.join(2)
        self.sock.close()

