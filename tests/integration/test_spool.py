"""The disk spool under the faults of issue 13 item 7, through testbot and the
fake backend: a full spool (7a), a spool bigger than the memory buffer (7b), a
restart after part of a segment was delivered (7e) and an unsafe directory
(7d).  Every test counts values: what the bot says it keeps, what the next
start loads, and what the backend stored and how often."""

import os
import re
import shutil
import stat
import tempfile
import time

from lib import ACCOUNT, BUILD, BotTestCase, wait_until

FAST = {"SEND_RETRY_MAX_MS": "2000", "SEND_STATS_INTERVAL": "1",
        "JOBS_REFRESH_INTERVAL": "3600", "SHUTDOWN_FLUSH_TIMEOUT": "1"}
OTHER_ACCOUNT = 1785295399

TOTALS_RE = re.compile(r"values: (\d+) measured, (\d+) delivered, (\d+) dropped .*"
                       r" (\d+) undelivered")
LOADED_RE = re.compile(r"spool \S+: (\d+) values loaded from (\d+) files")
SHUTDOWN_RE = re.compile(r"values: shutdown: (\d+) values not delivered in time; "
                         r"(?:they|(\d+) of them) stay in the spool")


def is_sanitized():
    try:
        with open(os.path.join(BUILD, "tests", "testbot"), "rb") as f:
            data = f.read()
        # statically (clang) or dynamically (gcc: libasan.so) linked
        return b"AddressSanitizer" in data or b"__asan_init" in data
    except OSError:
        return False


def ping_entity(name):
    return {"name": name, "entity_type": "device", "details": {"ipv4": "127.0.0.1"},
            "protocols": {"ping": {"credential": "@ping_credential", "bot": None,
                                   "sensors": [{"sensor": "@ping_sensor",
                                                "interval": 1}]}}}


def peak_rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


class SpoolTest(BotTestCase):

    def spool_dir(self):
        d = tempfile.mkdtemp(prefix="spool-it-")
        self.addCleanup(shutil.rmtree, d, True)
        return d

    def start(self, env, values=10):
        e = dict(FAST)
        e["TESTBOT_VALUES"] = str(values)
        e.update(env)
        return self.start_bot("tests/testbot", env=e)

    def load(self, accounts):
        """accounts: [(account id, number of entities)]."""
        fx = {"accounts": [{"id": a, "name": "Account %d" % a,
                            "entities": [ping_entity("e%d-%03d" % (a, i))
                                         for i in range(n)]}
                           for a, n in accounts]}
        self.fake.load_fixtures(fx)

    def wait_runs_done(self, bot, n_jobs, n_runs, timeout=60):
        wait_until(lambda: len(re.findall(r"testbot: job \d+: %d runs done" % n_runs,
                                          bot.stderr())) >= n_jobs,
                   timeout, what="%d jobs to finish %d runs" % (n_jobs, n_runs))

    def totals(self, bot):
        m = None
        for m in TOTALS_RE.finditer(bot.stderr()):
            pass
        self.assertIsNotNone(m, bot.stderr()[-3000:])
        return [int(x) for x in m.groups()]

    def loaded(self, bot):
        m = LOADED_RE.search(bot.stderr())
        return int(m.group(1)) if m else 0

    def kept_at_shutdown(self, bot):
        """(not delivered, of them in the spool) from the shutdown line."""
        m = SHUTDOWN_RE.search(bot.stderr())
        self.assertIsNotNone(m, bot.stderr()[-3000:])
        n = int(m.group(1))
        return n, int(m.group(2)) if m.group(2) else n

    def on_disk(self, d):
        """Records in the segment files."""
        n = 0
        for name in os.listdir(d):
            if name.startswith("seg-"):
                with open(os.path.join(d, name), "rb") as f:
                    n += f.read().count(b"\n")
        return n

    # -- 7a ------------------------------------------------------------------

    def test_full_spool_shutdown_count_is_what_the_next_start_loads(self):
        """7a: a 1 MiB spool during an outage of 10 entities x 1,002 values x
        3 runs (30,060 values, about 1.7 MB of records): the spool fills and
        the rest lives in memory only.  The shutdown line must say how many
        stay in the spool, and the next start must load exactly that many
        (the old line counted the values in memory: some were silently
        lost); once delivered, each is stored exactly once."""
        spool = self.spool_dir()
        self.load([(ACCOUNT, 10)])
        fid = self.fake.add_fault(mode="down", method="PUT", path_re="values")
        env = {"SEND_SPOOL_DIR": spool, "SEND_SPOOL_MAX_BYTES": "1048576",
               "TESTBOT_MAX_RUNS": "3"}
        bot = self.start(env, values=1000)
        self.wait_runs_done(bot, 10, 3)
        self.assertIn("full", bot.stderr())
        self.assertEqual(bot.stop(15), 0)
        n, kept = self.kept_at_shutdown(bot)
        self.assertEqual(n, 30060)
        self.assertLess(kept, n)
        self.assertGreater(kept, 10000)
        self.assertIn("%d (the spool was full) are lost" % (n - kept), bot.stderr())
        self.assertEqual(self.on_disk(spool), kept)
        self.fake.clear_faults(fid)
        t_restart = time.time()
        bot2 = self.start(dict(env, TESTBOT_MAX_RUNS="1"))
        bot2.wait_log("values loaded")
        self.assertEqual(self.loaded(bot2), kept)
        # the spooled values and one run of 10 x 12 new ones
        wait_until(lambda: len(self.values("entity.")) >= kept + 120, 60,
                   what="the spooled values")
        self.assertEqual(bot2.stop(15), 0)
        old = [v for v in self.values("entity.") if v["t"] < t_restart]
        self.assertEqual(len(old), kept)
        self.assertTrue(all(v["count"] == 1 for v in old))
        self.assertEqual(self.on_disk(spool), 0)

    # -- 7e ------------------------------------------------------------------

    def test_restart_after_partial_delivery_sends_only_what_is_pending(self):
        """7e: two accounts share a segment; one account's values are
        delivered while the other's PUTs fail, then SIGTERM.  The next start
        must load and send only the 360 undelivered values (the old code
        reloaded the whole segment and sent the other account's 360 values a
        second time), and its counters must add up."""
        spool = self.spool_dir()
        self.load([(ACCOUNT, 10), (OTHER_ACCOUNT, 10)])
        fid = self.fake.add_fault(mode="down", method="PUT",
                                  path_re="^accounts/%d/values" % ACCOUNT)
        env = {"SEND_SPOOL_DIR": spool, "TESTBOT_MAX_RUNS": "3"}
        bot = self.start(env)
        self.wait_runs_done(bot, 20, 3)
        wait_until(lambda: len(self.fake.values(account=OTHER_ACCOUNT)) >= 360, 30,
                   what="the other account's values")
        t_stop = time.time()
        self.assertEqual(bot.stop(15), 0)
        self.assertEqual(self.kept_at_shutdown(bot), (360, 360))
        self.fake.clear_faults(fid)
        bot2 = self.start(dict(env, TESTBOT_MAX_RUNS="1"))
        bot2.wait_log("values loaded")
        self.assertEqual(self.loaded(bot2), 360)
        self.assertIn("360 finished before the restart were skipped", bot2.stderr())
        wait_until(lambda: len(self.fake.values(account=ACCOUNT)) >= 360 + 120, 30,
                   what="the spooled values and one new run")
        self.assertEqual(bot2.stop(15), 0)
        for acc in (ACCOUNT, OTHER_ACCOUNT):
            vals = self.fake.values(account=acc)
            self.assertEqual(len([v for v in vals if v["t"] < t_stop]), 360, acc)
            self.assertTrue(all(v["count"] == 1 for v in vals), acc)
        measured, delivered, dropped, undelivered = self.totals(bot2)
        # 360 loaded + 20 entities x 12 values of one run
        self.assertEqual((measured, delivered, dropped, undelivered), (600, 600, 0, 0))
        self.assertEqual(self.on_disk(spool), 0)
        self.assertEqual([n for n in os.listdir(spool) if n != "lock"], [])

    # -- 7b ------------------------------------------------------------------

    def write_segments(self, d, n_segs, per_seg):
        """n_segs segment files of per_seg records each; v = the record's
        number, times 1 ms apart, two hours ago."""
        t0 = time.time() - 7200
        i = 0
        for s in range(1, n_segs + 1):
            lines = []
            for _ in range(per_seg):
                lines.append("%d %.6f %d spool.big.p%d\n" % (ACCOUNT, t0 + i / 1000.0, i,
                                                           i % 1000))
                i += 1
            with open(os.path.join(d, "seg-%010d.spool" % s), "w") as f:
                f.write("".join(lines))
        return i

    def test_load_stays_within_the_buffer_bound(self):
        """7b: three segments of 400,000 records (about 19 MB each, 57 MB in
        all) and a 2 MiB memory buffer (SEND_BUFFER_MAX_BYTES).  Loading must
        keep only the newest values that fit, drop the older ones (counted and
        logged) and mark them done, so peak RSS stays near the bound (the old
        code read everything in: hundreds of MB); the kept values are exactly
        the newest, delivered once each; the spool is empty afterwards."""
        spool = self.spool_dir()
        n = self.write_segments(spool, 3, 400000)
        size = sum(os.path.getsize(os.path.join(spool, f)) for f in os.listdir(spool))
        self.assertGreater(size, 50 * 1024 * 1024)
        fid = self.fake.add_fault(mode="down", method="PUT", path_re="values")
        env = {"SEND_SPOOL_DIR": spool, "SEND_BUFFER_MAX_BYTES": str(2 * 1024 * 1024),
               "TESTBOT_MAX_RUNS": "1"}
        bot = self.start(env)
        bot.wait_log("of the values loaded dropped", timeout=120)
        m = re.search(r"spool \S+: (\d+) of the values loaded dropped, oldest first",
                      bot.stderr())
        self.assertIsNotNone(m, bot.stderr()[-3000:])
        dropped = int(m.group(1))
        kept = n - dropped
        self.assertEqual(self.loaded(bot), n)
        self.assertGreater(kept, 5000)
        self.assertLess(kept, 2 * 1024 * 1024 // 40)
        peak = peak_rss_kib(bot.proc.pid)
        if not is_sanitized():
            # 2 MiB of values plus the program: far below one segment
            self.assertLess(peak, 24 * 1024, "peak RSS %d KiB" % peak)
        # the dropped ones are marked done on disk: only segment 3 is left
        self.assertEqual(sorted(f for f in os.listdir(spool) if f.startswith("seg-")),
                         ["seg-0000000003.spool"])
        self.fake.clear_faults(fid)
        wait_until(lambda: len(self.values("spool.big.")) >= kept, 60,
                   what="the kept values")
        self.assertEqual(bot.stop(15), 0)
        vals = self.values("spool.big.")
        self.assertEqual(sorted(int(v["v"]) for v in vals), list(range(n - kept, n)))
        self.assertTrue(all(v["count"] == 1 for v in vals))
        self.assertEqual([f for f in os.listdir(spool) if f.startswith("seg-")], [])
        print("\n    7b: %d of %d values kept, peak RSS %d KiB" % (kept, n, peak), end=" ")

    # -- 7d ------------------------------------------------------------------

    def test_world_writable_spool_is_refused(self):
        """7d: an existing spool directory anyone may write in (values,
        links or FIFOs could be planted) is refused at start with a clear
        error; nothing is created in it."""
        spool = self.spool_dir()
        os.chmod(spool, 0o777)
        bot = self.start({"SEND_SPOOL_DIR": spool}, values=0)
        rc = bot.wait(20)
        self.assertNotEqual(rc, 0)
        self.assertIn("writable by every user", bot.stderr())
        self.assertEqual(os.listdir(spool), [])
        self.assertEqual(stat.S_IMODE(os.stat(spool).st_mode), 0o777)
