"""Scaling out: two pingbot instances, each with its own token (two bots in
Grafolean), share one backend.  Entities assigned to one bot are pinged by
that instance only; together they cover every entity, with no entity
measured by both.  Real ICMP to loopback addresses."""

import re
import unittest

from lib import ACCOUNT, TOKEN, BotTestCase, wait_until

TOKEN_B = "beef0123-beef-4abc-8def-0123456789ab"
# Ids the fake gives the tokens it is started with (in this order).
BOT_A, BOT_B = 2039155163, 2039155164
FAST = {"n_packets": "1", "sleep_packets": "0.2", "timeout": "0.5",
        "retry": "0"}


def entity(name, addr, bot):
    return {"name": name, "entity_type": "device",
            "details": {"ipv4": addr},
            "protocols": {"ping": {"credential": "@fast", "bot": bot,
                                   "sensors": [{"sensor": "@every2",
                                                "interval": None}]}}}


class ScaleOutTest(BotTestCase):
    tokens = [TOKEN, TOKEN_B]

    def test_two_instances_split_their_entities(self):
        addrs = {}
        ents = []
        for i in range(8):
            bot = BOT_A if i % 2 == 0 else BOT_B
            name = "dev%d" % i
            addr = "127.0.9.%d" % (10 + i)
            addrs[name] = (addr, bot)
            ents.append(entity(name, addr, bot))
        acc = {"id": ACCOUNT, "name": "Test account", "entities": ents,
               "credentials": [{"name": "fast", "protocol": "ping",
                                "details": FAST}],
               "sensors": [{"name": "every2", "protocol": "ping",
                            "default_interval": 2, "details": {}}]}
        ids = self.fake.load_fixtures({"accounts": [acc]})["accounts"][0]["entities"]
        env = {"LOG_LEVEL": "debug", "JOBS_REFRESH_INTERVAL": "5"}
        a = self.start_bot("pingbot", env=env, token=TOKEN)
        b = self.start_bot("pingbot", env=env, token=TOKEN_B)

        def every_entity_measured_twice():
            return all(len(self.values("entity.%d.ping.success" % ids[n])) >= 2
                       for n in addrs)
        wait_until(every_entity_measured_twice, 60,
                   what="two runs of every entity; A:\n%s\nB:\n%s"
                   % (a.stderr()[-2000:], b.stderr()[-2000:]))
        self.assertEqual(a.stop(), 0)
        self.assertEqual(b.stop(), 0)

        queued = re.compile(r"job (\d+) \(([0-9.]+)\): queued")
        seen = {}
        for bot, proc in ((BOT_A, a), (BOT_B, b)):
            err = proc.stderr()
            self.assertIn("jobs: 4 ping jobs (4 new", err)
            got = {(int(m.group(1)), m.group(2)) for m in queued.finditer(err)}
            want = {(ids[n], addr) for n, (addr, owner) in addrs.items()
                    if owner == bot}
            self.assertEqual(got, want, "bot %d pinged %s" % (bot, sorted(got)))
            seen[bot] = got
        self.assertFalse(seen[BOT_A] & seen[BOT_B])
        self.assertEqual(len(seen[BOT_A] | seen[BOT_B]), len(addrs))
        # Each run is one success value per entity and round: had both
        # instances pinged an entity, it would carry twice as many
        # values as runs were queued for it.
        for n, (addr, owner) in addrs.items():
            proc = a if owner == BOT_A else b
            runs = len(re.findall(r"job %d \(%s\): queued" % (ids[n], re.escape(addr)),
                                  proc.stderr()))
            got = self.values("entity.%d.ping.success" % ids[n])
            self.assertEqual(sum(v.get("count", 1) for v in got), runs, (n, got))


if __name__ == "__main__":
    unittest.main()
