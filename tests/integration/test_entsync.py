"""Entity write-back (common/entsync.c) through testbot against the fake:
interface entities created, renamed, deleted under their device exactly as
discovered, nothing written when nothing changed, an account bot (refused
with 403) told once and left alone afterwards, an interface whose protocols
name a deleted bot (which the backend refuses in a PUT) held and said, and
error bodies quoting the token logged redacted, never in part."""

import os
import shutil
import tempfile

from lib import ACCOUNT, TOKEN, BotTestCase, wait_until

ACCOUNT_BOT_TOKEN = "0badc0de-0bad-4c0d-8bad-c0de0badc0de"


def device(name):
    return {"name": name, "entity_type": "device", "details": {"ipv4": "127.0.0.1"},
            "protocols": {"ping": {"credential": "@ping_credential", "bot": None,
                                   "sensors": [{"sensor": "@ping_sensor", "interval": 1}]}}}


class EntsyncTest(BotTestCase):

    def setUp(self):
        BotTestCase.setUp(self)
        d = tempfile.mkdtemp(prefix="entsync-it-")
        self.addCleanup(shutil.rmtree, d, True)
        self.iffile = os.path.join(d, "interfaces")

    def interfaces(self, text):
        with open(self.iffile + ".tmp", "w") as f:
            f.write(text)
        os.rename(self.iffile + ".tmp", self.iffile)

    def children(self, parent):
        acc = [a for a in self.fake.state()["accounts"] if a["id"] == ACCOUNT][0]
        return sorted((e["details"].get("snmp_index"), e["name"], e["details"].get("speed_bps"))
                      for e in acc["entities"]
                      if e.get("parent") == parent and e["entity_type"] == "interface")

    def writes(self):
        return [r for r in self.fake.requests()
                if r["method"] in ("POST", "PUT", "DELETE") and "/entities" in r["path"]]

    def discoveries(self, bot):
        return [l for l in bot.stderr().splitlines() if "discovery:" in l]

    def test_interfaces_follow_what_was_discovered(self):
        acc = self.fake.load_fixtures({"accounts": [{"id": ACCOUNT, "name": "Test account",
                                                     "entities": [device("router")]}]})
        router = acc["accounts"][0]["entities"]["router"]
        self.interfaces("1 eth0\n2 eth1\n")
        bot = self.start_bot("tests/testbot", env={"TESTBOT_DISCOVER_FILE": self.iffile})
        wait_until(lambda: self.children(router) == [("1", "eth0", "1000000"),
                                                      ("2", "eth1", "1000000")],
                   20, what="two interfaces")
        # a steady state writes nothing more
        n = len(self.discoveries(bot))
        wait_until(lambda: len(self.discoveries(bot)) >= n + 2, 20, what="two more discoveries")
        self.assertEqual(len(self.writes()), 2, self.writes())
        # eth1 gone, eth0 renamed, eth3 new
        self.interfaces("1 wan0\n3 eth3\n")
        wait_until(lambda: self.children(router) == [("1", "wan0", "1000000"),
                                                      ("3", "eth3", "1000000")],
                   20, what="the new set of interfaces")
        wait_until(lambda: any("1 created, 1 updated, 1 deleted, 0 failed" in l
                               for l in self.discoveries(bot)), 10, what="the log line")
        methods = sorted(r["method"] for r in self.writes())
        self.assertEqual(methods, ["DELETE", "POST", "POST", "POST", "PUT"])
        self.assertTrue(all(r["status"] in (201, 204) for r in self.writes()), self.writes())
        # the device itself and its values are untouched
        self.assertTrue(self.values("entity.%d.test." % router))
        self.assertEqual(bot.stop(), 0)

    def test_account_bot_is_told_once(self):
        fx = {"accounts": [{"id": ACCOUNT, "name": "Test account",
                            "entities": [device("router")]}],
              "bots": [{"token": ACCOUNT_BOT_TOKEN, "id": 1234567, "account": ACCOUNT}]}
        acc = self.fake.load_fixtures(fx)
        router = acc["accounts"][0]["entities"]["router"]
        self.interfaces("1 eth0\n")
        bot = self.start_bot("tests/testbot", token=ACCOUNT_BOT_TOKEN,
                             env={"TESTBOT_DISCOVER_FILE": self.iffile})
        bot.wait_log("(refused)")
        # runs go on and deliver values; no further write is tried
        n = len(self.values("entity.%d.test." % router))
        wait_until(lambda: len(self.values("entity.%d.test." % router)) >= n + 3, 20,
                   what="more values")
        self.assertEqual(len(self.writes()), 1, self.writes())
        self.assertEqual(self.writes()[0]["status"], 403)
        err = bot.stderr()
        self.assertEqual(err.count("does not let this bot write entities"), 1, err)
        self.assertIn("only systemwide bots may", err)
        self.assertEqual(self.children(router), [])
        self.assertEqual(bot.stop(), 0)
        self.assertNotIn(TOKEN, err)

    def test_interface_of_a_deleted_bot_is_held_and_bodies_are_redacted(self):
        """The entity list shows "bot": null once the assigned bot was
        deleted, and the backend refuses a PUT carrying it (400): such an
        interface is not written (one warning names it) while the others
        are.  A failed write's body that quotes the token just past the
        200-character cut is logged with the token redacted whole."""
        acc = self.fake.load_fixtures({"accounts": [{"id": ACCOUNT, "name": "Test account",
                                                     "entities": [device("router")]}]})
        router = acc["accounts"][0]["entities"]["router"]
        orphan = self.fake.put_record(ACCOUNT, "entities", {
            "name": "old0", "entity_type": "interface", "parent": router,
            "details": {"snmp_index": "1", "speed_bps": "1000000"},
            "protocols": {"snmp": {"credential": "@snmp_credential", "bot": None,
                                   "sensors": [{"sensor": "@snmp_traffic_in",
                                                "interval": None}]}}})
        self.fake.put_record(ACCOUNT, "entities", {
            "name": "old1", "entity_type": "interface", "parent": router,
            "details": {"snmp_index": "2", "speed_bps": "1000000"}})
        # the first write of eth2 fails with a body quoting the token
        # just past where the log line cuts it
        self.fake.add_fault(mode="status", code=500, method="POST", path_re="entities$",
                            body="z" * 170 + "invalid token: " + TOKEN, count=1)
        self.interfaces("1 eth0\n2 eth1\n3 eth2\n")
        bot = self.start_bot("tests/testbot", env={"TESTBOT_DISCOVER_FILE": self.iffile})
        wait_until(lambda: self.children(router) == [("1", "old0", "1000000"),
                                                      ("2", "eth1", "1000000"),
                                                      ("3", "eth2", "1000000")],
                   30, what="eth1 renamed, eth2 created, the orphan left alone")
        bot.wait_log("not updated (first: %d)" % orphan)
        self.assertEqual(bot.stop(), 0)
        writes = self.writes()
        self.assertFalse([r for r in writes if r["status"] == 400], writes)
        self.assertFalse([r for r in writes if r["path"].endswith("/%d" % orphan)], writes)
        err = bot.stderr()
        self.assertEqual(err.count("not updated (first: %d)" % orphan), 1, err)
        # Not assertNotIn: its message would print the log, token and all.
        self.assertFalse(TOKEN[:8] in err, "part of the token logged")
        self.assertIn("z" * 50 + "invalid token: <redacted>", err)

    def test_discoveries_at_once_share_the_entity_list(self):
        """The entity list holds every entity of the account, and devices'
        discoveries come together (1,000 SNMP devices, every 300 s): runs
        that start while the account's list request is in flight share it.
        20 devices whose runs start at the same instant each get their
        interface (exactly once, no duplicate) with far fewer list requests
        than discoveries; a write makes later runs fetch afresh."""
        ents = [device("d%02d" % i) for i in range(20)]
        acc = self.fake.load_fixtures({"accounts": [{"id": ACCOUNT, "name": "Test account",
                                                     "entities": ents}]})
        dev = sorted(acc["accounts"][0]["entities"].values())
        self.interfaces("1 eth0\n")
        bot = self.start_bot("tests/testbot", env={"TESTBOT_DISCOVER_FILE": self.iffile,
                                                   "JOBS_FIRST_RUN_SPREAD_MS": "0"})
        wait_until(lambda: all(self.children(d) == [("1", "eth0", "1000000")] for d in dev),
                   30, what="every device's interface")
        n = len(self.discoveries(bot))
        wait_until(lambda: len(self.discoveries(bot)) >= n + 60, 30,
                   what="three more rounds of discoveries")
        self.assertEqual(bot.stop(), 0)
        lists = [r for r in self.fake.requests()
                 if r["method"] == "GET" and r["path"].endswith("/entities/")]
        done = len(self.discoveries(bot))
        self.assertLess(len(lists) * 4, done, (len(lists), done))
        # nothing written twice: one POST per device, no duplicate child
        self.assertEqual(len(self.writes()), 20, self.writes())
        for d in dev:
            self.assertEqual(self.children(d), [("1", "eth0", "1000000")])
