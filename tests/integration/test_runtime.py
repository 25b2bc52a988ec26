"""The common runtime against the fake backend, through testbot: readiness,
job fetching with the spec's selection rules, multi-interval scheduling,
refresh diffing, failure isolation, value delivery and shutdown."""

import os
import signal
import tempfile

from lib import ACCOUNT, TOKEN, BotTestCase, wait_until


def ping_entity(name, interval=1, bot=None, ipv4="127.0.0.1", sensors=None,
                entity_type="device", credential="@ping_credential"):
    proto = {"credential": credential, "bot": bot,
             "sensors": sensors if sensors is not None
             else [{"sensor": "@ping_sensor", "interval": interval}]}
    return {"name": name, "entity_type": entity_type,
            "details": {"ipv4": ipv4}, "protocols": {"ping": proto}}


class RuntimeTest(BotTestCase):

    def load(self, entities, extra_sensors=None, status=None):
        acc = {"id": ACCOUNT, "name": "Test account", "entities": entities,
               "sensors": extra_sensors or []}
        fx = {"accounts": [acc]}
        if status:
            fx["status"] = status
        ids = self.fake.load_fixtures(fx)
        return ids["accounts"][0]

    def test_values_arrive_with_put_and_measurement_time(self):
        acc = self.load([ping_entity("a"), ping_entity("b")])
        ea, eb = acc["entities"]["a"], acc["entities"]["b"]
        bot = self.start_bot("tests/testbot")
        self.wait_values("entity.%d.test." % ea, 4)
        self.wait_values("entity.%d.test." % eb, 4)
        self.assertEqual(bot.stop(), 0)
        puts = self.requests("PUT", "/values")
        self.assertTrue(puts)
        self.assertFalse(self.requests("POST", "/values"))
        self.assertTrue(all(r["status"] == 204 for r in puts), puts)
        sid = acc["defaults"]["ping_sensor"]
        counts = [v["v"] for v in self.values("entity.%d.test.%d.n" % (ea, sid))]
        self.assertEqual(counts, list(range(1, len(counts) + 1)))
        # every value once, stamped at distinct measurement times
        for v in self.values():
            self.assertEqual(v["count"], 1)
        err = bot.stderr()
        self.assertIn("jobs: 2 ping jobs", err)
        self.assertIn("job %d (a)" % ea, err)

    def test_multiple_intervals_run_once_with_affecting_intervals(self):
        sensors = [{"sensor": "@ping_sensor", "interval": 1},
                   {"sensor": "@slow", "interval": None}]
        acc = self.load([ping_entity("m", sensors=sensors)],
                        extra_sensors=[{"name": "slow", "protocol": "ping",
                                        "default_interval": 2, "details": {}}])
        e = acc["entities"]["m"]
        bot = self.start_bot("tests/testbot")
        self.wait_values("entity.%d.test.due.2" % e, 3, timeout=30)
        bot.stop()
        t1 = [v["t"] for v in self.values("entity.%d.test.due.1" % e)]
        t2 = [v["t"] for v in self.values("entity.%d.test.due.2" % e)]
        # each 2 s tick coincided with a 1 s tick and ran once with both:
        # their values were measured in the same run, microseconds apart
        for t in t2:
            self.assertTrue(any(abs(t - x) < 0.05 for x in t1), (t, t1))
        self.assertGreaterEqual(len(t1), 2 * len(t2) - 1)
        slow = acc["sensors"]["slow"]
        fast = acc["defaults"]["ping_sensor"]
        n_slow = len(self.values("entity.%d.test.%d.n" % (e, slow)))
        n_fast = len(self.values("entity.%d.test.%d.n" % (e, fast)))
        self.assertEqual(n_slow, len(t2))
        self.assertEqual(n_fast, len(t1))

    def test_selection_rules(self):
        ents = [ping_entity("mine", bot=self.fake.bot_id(0)),
                ping_entity("unassigned", bot=None),
                ping_entity("other-bot", bot=1234567),
                ping_entity("iface", entity_type="interface"),
                ping_entity("no-credential", credential=None),
                ping_entity("no-sensors", sensors=[])]
        acc = self.load(ents)
        ids = acc["entities"]
        bot = self.start_bot("tests/testbot")
        self.wait_values("entity.%d.test" % ids["mine"], 2)
        self.wait_values("entity.%d.test" % ids["unassigned"], 2)
        bot.wait_log("job %d: not polled: no ping credential is set" % ids["no-credential"])
        bot.wait_log("job %d: not polled: no ping sensors are set" % ids["no-sensors"])
        bot.stop()
        for name in ("other-bot", "iface", "no-credential", "no-sensors"):
            self.assertEqual(self.values("entity.%d." % ids[name]), [], name)

    def test_a_standing_note_is_said_once_across_refreshes(self):
        """An entity that is not polled says why once while it stands: an
        unchanged refresh reuses what was remembered of it (its note
        included), so when it is built again later the note is not new."""
        acc = self.load([ping_entity("mine"),
                         ping_entity("no-credential", credential=None)])
        ids = acc["entities"]
        line = ("job %d: not polled: no ping credential is set"
                % ids["no-credential"])
        bot = self.start_bot("tests/testbot", env={"JOBS_REFRESH_INTERVAL": "3600"})
        bot.wait_log(line)
        # refresh 1: the entity's text is unchanged (remembered, reused)
        self.fake.put_record(ACCOUNT, "entities", ping_entity("new1"))
        bot.signal(signal.SIGHUP)
        bot.wait_log("jobs: 2 ping jobs (1 new, 0 changed, 0 removed)")
        # refresh 2: its text changed (built again), the reason did not
        renamed = ping_entity("no-credential-2", credential=None)
        renamed["id"] = ids["no-credential"]
        self.fake.put_record(ACCOUNT, "entities", renamed)
        self.fake.put_record(ACCOUNT, "entities", ping_entity("new2"))
        bot.signal(signal.SIGHUP)
        bot.wait_log("jobs: 3 ping jobs (1 new, 0 changed, 0 removed)")
        bot.stop()
        self.assertEqual(bot.stderr().count(line), 1, bot.stderr()[-3000:])

    def test_records_fetched_once_per_refresh(self):
        acc = self.load([ping_entity("e%d" % i) for i in range(20)])
        bot = self.start_bot("tests/testbot")
        bot.wait_log("jobs: 20 ping jobs")
        bot.stop()
        cred = self.requests("GET", "/credentials/")
        sens = self.requests("GET", "/sensors/")
        self.assertEqual(len(cred), 1, cred)
        self.assertEqual(len(sens), 1, sens)
        self.assertEqual(len(self.requests("GET", "/entities")), 1)
        self.assertTrue(all(r["has_token"] for r in self.requests("GET", "accounts")))
        del acc

    def test_refresh_adds_changes_and_removes_jobs(self):
        acc = self.load([ping_entity("keep"), ping_entity("gone"),
                         ping_entity("change")])
        ids = acc["entities"]
        bot = self.start_bot("tests/testbot", env={"JOBS_REFRESH_INTERVAL": "3600"})
        for n in ("keep", "gone", "change"):
            self.wait_values("entity.%d.test" % ids[n], 2)
        self.fake.delete_record(ACCOUNT, "entities", ids["gone"])
        new = self.fake.put_record(ACCOUNT, "entities", ping_entity("new"))
        changed = ping_entity("change", interval=2)
        changed["id"] = ids["change"]
        self.fake.put_record(ACCOUNT, "entities", changed)
        bot.signal(signal.SIGHUP)
        bot.wait_log("(1 new, 1 changed, 1 removed)")
        self.wait_values("entity.%d.test" % new, 2)
        gone_before = len(self.values("entity.%d." % ids["gone"]))
        keep_before = len(self.values("entity.%d." % ids["keep"]))
        wait_until(lambda: len(self.values("entity.%d." % ids["keep"])) > keep_before + 4,
                   what="more values of the kept job")
        bot.stop()
        self.assertEqual(len(self.values("entity.%d." % ids["gone"])), gone_before)
        self.assertTrue(self.values("entity.%d.test.due.2" % ids["change"]))

    def test_failed_record_keeps_previous_job(self):
        acc = self.load([ping_entity("a")])
        e = acc["entities"]["a"]
        bot = self.start_bot("tests/testbot", env={"JOBS_REFRESH_INTERVAL": "3600"})
        self.wait_values("entity.%d.test" % e, 2)
        sid = acc["defaults"]["ping_sensor"]
        self.fake.add_fault(mode="status", code=500, method="GET",
                            path_re="sensors/%d" % sid)
        bot.signal(signal.SIGHUP)
        bot.wait_log("sensor %d failed" % sid)
        n = len(self.values("entity.%d." % e))
        wait_until(lambda: len(self.values("entity.%d." % e)) > n + 4,
                   what="the job to keep running")
        # a whole entity-list failure keeps the account's jobs too
        self.fake.add_fault(mode="garbage", method="GET", path_re="entities")
        bot.signal(signal.SIGHUP)
        bot.wait_log("entity list failed")
        n = len(self.values("entity.%d." % e))
        wait_until(lambda: len(self.values("entity.%d." % e)) > n + 4,
                   what="the job to keep running")
        self.assertEqual(bot.stop(), 0)
        self.assertNotIn("jobs: 0", bot.stderr())

    def test_waits_for_backend_readiness(self):
        acc = self.load([ping_entity("a")], status={"db_migration_needed": True})
        bot = self.start_bot("tests/testbot")
        bot.wait_log("not ready yet (database migration needed)")
        self.assertEqual(self.values(), [])
        self.fake.set_status(db_migration_needed=False)
        self.wait_values("entity.%d.test" % acc["entities"]["a"], 1)
        self.assertEqual(bot.stop(), 0)

    def test_redirect_from_status_info_is_named_not_followed(self):
        """A web server that redirects (http to https, say) is named in
        the log with where it leads; the bot never follows a redirect (the
        token travels in every URL) and goes on once the answer is right."""
        acc = self.load([ping_entity("a")])
        target = "https://grafolean.example/api/status/info"
        self.fake.add_fault(mode="status", code=301, method="GET", path_re="^status/info$",
                            headers={"Location": target}, count=1)
        bot = self.start_bot("tests/testbot", env={"BACKEND_WAIT_INTERVAL": "1"})
        bot.wait_log("status/info answered a redirect (HTTP 301 to %s)" % target)
        self.wait_values("entity.%d.test" % acc["entities"]["a"], 1)
        self.assertEqual(bot.stop(), 0)
        self.assertFalse([r for r in self.fake.requests() if "example" in r["path"]])
        self.assertNotIn("must end with /api", bot.stderr())

    def test_token_from_file_waits_for_the_file(self):
        acc = self.load([ping_entity("a")])
        d = tempfile.mkdtemp()
        path = os.path.join(d, "token")
        bot = self.start_bot("tests/testbot", token=None,
                             env={"BOT_TOKEN_FROM_FILE": path})
        bot.wait_log("does not exist yet")
        with open(path + ".tmp", "w") as f:
            f.write("  %s\n" % TOKEN)
        os.rename(path + ".tmp", path)
        bot.token = TOKEN
        self.wait_values("entity.%d.test" % acc["entities"]["a"], 1)
        self.assertEqual(bot.stop(), 0)

    def test_once_delivers_to_the_backend_or_fails(self):
        """--once against the backend: every value stored, exit 0; when the
        values cannot be delivered within SHUTDOWN_FLUSH_TIMEOUT, exit 1."""
        acc = self.load([ping_entity("a"), ping_entity("b")])
        bot = self.start_bot("tests/testbot", args=["--once"])
        self.assertEqual(bot.wait(30), 0, bot.stderr())
        sid = acc["defaults"]["ping_sensor"]
        for name in ("a", "b"):
            path = "entity.%d.test.%d.n" % (acc["entities"][name], sid)
            self.assertEqual([v["v"] for v in self.values(path)], [1])
        self.assertIn(" 0 undelivered", bot.stderr())
        self.fake.add_fault(mode="status", code=503, method="PUT", path_re="values")
        bot = self.start_bot("tests/testbot", args=["--once"],
                             env={"SHUTDOWN_FLUSH_TIMEOUT": "2"})
        self.assertEqual(bot.wait(30), 1, bot.stderr())
        self.assertIn("not delivered in time", bot.stderr())

    def test_start_up_errors_name_the_variable(self):
        cases = [({"BACKEND_URL": self.fake.url}, TOKEN, "BACKEND_URL must end with /api"),
                 ({}, "not-a-uuid", "BOT_TOKEN is not a UUID"),
                 ({}, None, "BOT_TOKEN is not set"),
                 ({"JOBS_REFRESH_INTERVAL": "soon"}, TOKEN,
                  "JOBS_REFRESH_INTERVAL: \"soon\" is not a whole number")]
        for env, token, msg in cases:
            bot = self.start_bot("tests/testbot", env=env, token=token)
            self.assertEqual(bot.wait(10), 1, msg)
            self.assertIn(msg, bot.stderr())
            self.assertEqual(len(bot.stderr().strip().splitlines()), 1, bot.stderr())

    def test_backend_without_api_suffix_is_explained(self):
        self.load([ping_entity("a")])
        # The URL ends in /api but the server answers HTML there, as the
        # web server of a Docker install does for a wrong prefix.
        self.fake.add_fault(mode="garbage", method="GET", path_re="status")
        bot = self.start_bot("tests/testbot")
        bot.wait_log("BACKEND_URL must end with /api")
        self.assertEqual(bot.stop(), 0)

    def test_invalid_values_are_dropped_locally(self):
        acc = self.load([ping_entity("a")])
        bot = self.start_bot("tests/testbot", env={"TESTBOT_BAD_VALUES": "1"})
        self.wait_values("entity.%d.test" % acc["entities"]["a"], 4)
        bot.wait_log("is not valid; value dropped")
        bot.stop()
        self.assertTrue(all(r["status"] == 204 for r in self.requests("PUT", "values")))
        self.assertEqual(self.values("system"), [])
        self.assertEqual(self.values("entity.%d.test.nan" % acc["entities"]["a"]), [])

    def test_sigterm_lets_runs_finish_and_delivers(self):
        acc = self.load([ping_entity("a", interval=60)])
        e = acc["entities"]["a"]
        bot = self.start_bot("tests/testbot", env={"TESTBOT_RUN_MS": "1500"})
        bot.wait_log("job %d (a)" % e)
        bot.wait_log("jobs: 1 ping job")
        bot.signal(signal.SIGTERM)
        self.assertEqual(bot.wait(15), 0)
        # the run in progress finished and its values were delivered
        self.assertEqual(len(self.values("entity.%d.test.due.60" % e)), 1)
        self.assertIn("0 undelivered", bot.stderr())

    def test_jobs_file_once_to_stdout(self):
        path = os.path.join(os.path.dirname(__file__), "..", "..", "examples",
                            "ping-jobs.json")
        bot = self.start_bot("tests/testbot", ["--jobs", path, "--once"],
                             token=None, backend=False)
        self.assertEqual(bot.wait(10), 0)
        lines = bot.stdout().strip().splitlines()
        paths = sorted(l.split()[0] for l in lines)
        self.assertEqual(paths, ["entity.101.test.2.n", "entity.101.test.due.60",
                                 "entity.102.test.2.n", "entity.102.test.due.30"])
        for l in lines:
            p, v, t = l.split()
            self.assertEqual(float(v), 1.0)
            self.assertGreater(float(t), 1.6e9)

    def test_failed_refresh_is_retried_before_the_interval(self):
        acc = self.load([ping_entity("a")])
        self.fake.add_fault(mode="status", code=503, method="GET",
                            path_re="entities", count=1)
        bot = self.start_bot("tests/testbot", env={"JOBS_REFRESH_INTERVAL": "3600"})
        bot.wait_log("refresh incomplete; trying again in 5 s")
        # no SIGHUP, and the interval is an hour: only the retry can do it
        self.wait_values("entity.%d.test" % acc["entities"]["a"], 1, timeout=30)
        self.assertEqual(bot.stop(), 0)
        self.assertEqual(len(self.requests("GET", "/entities")), 2)

    def test_sigterm_ends_the_wait_for_the_token_file(self):
        path = os.path.join(tempfile.mkdtemp(), "token")
        bot = self.start_bot("tests/testbot", token=None,
                             env={"BOT_TOKEN_FROM_FILE": path})
        bot.wait_log("does not exist yet")
        bot.signal(signal.SIGTERM)
        self.assertEqual(bot.wait(5), 0)
        self.assertIn("signal while waiting for the token file", bot.stderr())

    # -- refresh at scale (issue 13.3) and one deep entity (13.4) ------------

    @staticmethod
    def _max_overlap(reqs, slack=0.005):
        """The most requests the fake was serving at once (an answer's end is
        taken slack seconds early: the fake notes it after writing)."""
        ev = []
        for r in reqs:
            ev.append((r["time"], 1))
            ev.append((r["time"] + max(r["duration"] - slack, 0.0), -1))
        ev.sort()
        cur = best = 0
        for _, d in ev:
            cur += d
            best = max(best, cur)
        return best

    def test_refresh_requests_are_capped_and_timed_when_they_start(self):
        n = 160
        creds = [{"name": "c%d" % i, "protocol": "ping", "details": {}}
                 for i in range(n)]
        ents = [ping_entity("e%d" % i, interval=60, credential="@c%d" % i)
                for i in range(n)]
        acc = {"id": ACCOUNT, "name": "Test account", "entities": ents,
               "credentials": creds}
        self.fake.load_fixtures({"accounts": [acc]})
        # each credential takes 0.1 s: 16 s in all, 4 s with 4 at a time;
        # with everything queued at once behind 8 connections, those
        # queued past BACKEND_TIMEOUT would time out
        self.fake.add_fault(mode="delay", seconds=0.1, method="GET",
                            path_re="credentials/")
        bot = self.start_bot("tests/testbot",
                             env={"BACKEND_TIMEOUT": "3",
                                  "JOBS_REFRESH_INTERVAL": "3600"})
        bot.wait_log("jobs: %d ping jobs" % n, timeout=60)
        self.assertEqual(bot.stop(), 0)
        err = bot.stderr()
        self.assertNotIn("failed:", err)
        gets = [r for r in self.requests("GET", "/credentials/")
                if r["duration"] is not None]
        self.assertEqual(len(gets), n)
        self.assertLessEqual(self._max_overlap(gets), 4)

    def test_refresh_at_scale_loads_every_job_and_delivery_goes_on(self):
        n = 3000
        creds = [{"name": "c%d" % i, "protocol": "ping", "details": {}}
                 for i in range(n)]
        ents = [ping_entity("e%d" % i, interval=600, credential="@c%d" % i)
                for i in range(n)]
        ents.append(ping_entity("fast", interval=1))
        acc = {"id": ACCOUNT, "name": "Test account", "entities": ents,
               "credentials": creds}
        ids = self.fake.load_fixtures({"accounts": [acc]})["accounts"][0]
        fast = ids["entities"]["fast"]
        # 10 ms a credential: 30 s of answers in all.  Queued all at once
        # behind 8 connections, the later ones would pass BACKEND_TIMEOUT
        # (2 s) before they start, and value PUTs would wait behind them.
        self.fake.add_fault(mode="delay", seconds=0.01, method="GET",
                            path_re="credentials/")
        bot = self.start_bot("tests/testbot",
                             env={"JOBS_REFRESH_INTERVAL": "3600",
                                  "BACKEND_TIMEOUT": "2"})
        bot.wait_log("jobs: %d ping jobs" % (n + 1), timeout=120)
        self.wait_values("entity.%d.test" % fast, 2)
        # the next refresh takes seconds: the 1 s job's values keep
        # reaching the backend all along
        self.fake.clear_requests()
        self.fake.put_record(ACCOUNT, "entities", ping_entity("late", interval=600))
        bot.signal(signal.SIGHUP)
        bot.wait_log("(1 new, 0 changed, 0 removed)", timeout=120)
        gets = self.requests("GET", "/credentials/")
        self.assertGreaterEqual(len(gets), n)
        start, end = gets[0]["time"], gets[-1]["time"]
        puts = [r["time"] for r in self.requests("PUT", "/values")
                if start <= r["time"] <= end]
        self.assertGreater(end - start, 3.0)
        marks = [start] + puts + [end]
        gap = max(b - a for a, b in zip(marks, marks[1:]))
        self.assertLess(gap, 3.0, "no value PUT for %.1f s of a %.1f s refresh"
                        % (gap, end - start))
        self.assertEqual(bot.stop(), 0)
        err = bot.stderr()
        self.assertNotIn("failed:", err)
        self.assertNotIn("not delivered", err)
        self.assertIn("jobs: %d ping jobs" % (n + 2), err)

    def test_deep_entity_spoils_only_itself(self):
        deep = ping_entity("deep")
        d = {"x": 1}
        for _ in range(69):
            d = {"a": d}
        deep["details"] = {"ipv4": "127.0.0.1", "nested": d}
        acc = self.load([ping_entity("ok"), deep])
        ok = acc["entities"]["ok"]
        bot = self.start_bot("tests/testbot", env={"JOBS_REFRESH_INTERVAL": "3600"})
        self.wait_values("entity.%d.test" % ok, 2)
        bot.wait_log("not polled: details nest deeper than 64 levels")
        bot.signal(signal.SIGHUP)
        n = len(self.requests("GET", "/entities"))
        wait_until(lambda: len(self.requests("GET", "/entities")) > n,
                   what="a second refresh")
        n = len(self.values("entity.%d." % ok))
        wait_until(lambda: len(self.values("entity.%d." % ok)) > n + 2,
                   what="the healthy job to keep running")
        self.assertEqual(bot.stop(), 0)
        err = bot.stderr()
        self.assertEqual(err.count("deeper than 64 levels"), 1, err[-2000:])
        self.assertIn("jobs: 1 ping job", err)
        self.assertNotIn("not valid JSON", err)
        self.assertFalse(self.values("entity.%d." % acc["entities"]["deep"]))
