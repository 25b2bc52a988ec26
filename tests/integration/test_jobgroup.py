"""Jobs per account (common/jobgroup.c, for NetFlow) through testbot: the
default NetFlow sensor has no interval, yet its entities make one job per
account that runs at the bot's own intervals, once per instant with the
due ones, and follows entities added at a refresh."""

import signal

from lib import ACCOUNT, BotTestCase, wait_until

OTHER = 1785295343


def exporter(name, ipv4):
    return {"name": name, "entity_type": "device", "details": {"ipv4": ipv4},
            "protocols": {"netflow": {"credential": "@netflow_credential", "bot": None,
                                      "sensors": [{"sensor": "@netflow_sensor",
                                                   "interval": None}]}}}


class JobgroupTest(BotTestCase):

    def test_one_job_per_account_at_the_bots_intervals(self):
        ids = self.fake.load_fixtures({"accounts": [
            {"id": ACCOUNT, "name": "Test account",
             "entities": [exporter("r1", "192.0.2.1"), exporter("r2", "192.0.2.2")]},
            {"id": OTHER, "name": "Other account",
             "entities": [exporter("r3", "198.51.100.3")]}]})
        st = self.fake.state()
        sensor = [s for s in st["accounts"][0]["sensors"]
                  if s["id"] == ids["accounts"][0]["defaults"]["netflow_sensor"]][0]
        self.assertIsNone(sensor["default_interval"])  # as in Grafolean
        bot = self.start_bot("tests/testbot", env={"TESTBOT_PROTOCOL": "netflow",
                                                   "TESTBOT_ACCOUNT_INTERVALS": "1,2"})
        self.wait_values("entity.%d.test.due.2" % ACCOUNT, 2, timeout=30)
        self.wait_values("entity.%d.test.entities" % OTHER, 1)
        self.assertEqual({v["v"] for v in self.values("entity.%d.test.entities" % ACCOUNT)}, {2})
        self.assertEqual({v["v"] for v in self.values("entity.%d.test.entities" % OTHER)}, {1})
        # every 2 s tick ran together with a 1 s tick: one run, both due
        t1 = [v["t"] for v in self.values("entity.%d.test.due.1" % ACCOUNT)]
        for v in self.values("entity.%d.test.due.2" % ACCOUNT):
            self.assertTrue(any(abs(v["t"] - t) < 0.05 for t in t1), (v, t1))
        # no per-entity jobs, no sensor skipped for lack of an interval
        for e in ids["accounts"][0]["entities"].values():
            self.assertEqual(self.values("entity.%d." % e), [])
        err = bot.stderr()
        self.assertNotIn("skipped", err)
        self.assertNotIn("not polled", err)
        self.assertIn("job %d (account %d): 2 entities, every 1,2 s" % (ACCOUNT, ACCOUNT), err)

        # a new exporter joins its account's job at the next refresh; the
        # other account's job is unchanged and keeps its phase
        self.fake.put_record(ACCOUNT, "entities", exporter("r4", "192.0.2.4"))
        bot.signal(signal.SIGHUP)
        wait_until(lambda: any(v["v"] == 3 for v in
                               self.values("entity.%d.test.entities" % ACCOUNT)),
                   20, what="the account job with 3 entities")
        self.assertEqual(bot.stop(), 0)
        self.assertIn("(0 new, 1 changed, 0 removed)", bot.stderr())
