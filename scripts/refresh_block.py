#!/usr/bin/env python3
"""How long a job refresh at scale holds a bot's loop (issue 13.3).

The fake backend serves N ping device entities with a null credential
(each one "not polled", so each makes a warning) spread over 10 accounts,
plus one good entity whose job runs every second.  The bot loads them, is
sent SIGHUP twice, and the script prints the first load's time and the
longest gap between the 1 s job's runs over the two refreshes (1 s when
nothing blocks the loop).

Usage: python3 scripts/refresh_block.py N BOT   (e.g. 200000
build/tests/testbot); run from the repository's top directory.
"""
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, "tests/fake")
from fake_grafolean import FakeGrafolean  # noqa: E402

TOKEN = "b3f2e5a8-1c4d-4e6f-8a9b-0c1d2e3f4a5b"
N, BOT = int(sys.argv[1]), sys.argv[2]
ACCOUNTS = 10


def ent(name, cred, interval):
    return {"name": name, "entity_type": "device",
            "details": {"ipv4": "127.0.0.1"},
            "protocols": {"ping": {"credential": cred, "bot": None,
                                   "sensors": [{"sensor": "@ping_sensor",
                                                "interval": interval}]}}}


ents = [ent("n%d" % i, None, 60) for i in range(N)]
accs = [{"name": "a%d" % a, "entities": ents[a::ACCOUNTS]}
        for a in range(ACCOUNTS)]
accs[0]["entities"].append(ent("fast", "@ping_credential", 1))
fk = FakeGrafolean(port=0, tokens=[TOKEN]).start()
fast = fk.load_fixtures({"accounts": accs})["accounts"][0]["entities"]["fast"]
err_path = os.path.join(tempfile.mkdtemp(prefix="refresh-block-"), "stderr")
err = open(err_path, "wb")
env = {"PATH": "/usr/bin:/bin", "BACKEND_URL": fk.api_url,
       "BOT_TOKEN": TOKEN, "JOBS_REFRESH_INTERVAL": "3600",
       "JOBS_FIRST_RUN_SPREAD_MS": "0", "LOG_LEVEL": "info"}
bot = subprocess.Popen([BOT], env=env, stderr=err, stdout=subprocess.DEVNULL)


def log():
    with open(err_path, "rb") as f:
        return f.read().decode("utf-8", "replace")


def lists_answered():
    return len([r for r in fk.requests() if "entities" in r["path"] and
                r["duration"] is not None])


t0 = time.time()
while "jobs: 1 ping job" not in log() and time.time() - t0 < 600:
    time.sleep(0.1)
print("first load %.1f s" % (time.time() - t0))
time.sleep(3)
for _ in range(2):
    n = lists_answered()
    bot.send_signal(signal.SIGHUP)
    while lists_answered() < n + ACCOUNTS:
        time.sleep(0.05)
    time.sleep(6)
bot.send_signal(signal.SIGTERM)
bot.wait(60)
err.close()
ts = sorted(v["t"] for v in fk.values(prefix="entity.%d.test.due.1" % fast))
gaps = [b - a for a, b in zip(ts, ts[1:])]
print("1 s job: %d runs, longest gap %.2f s; %s"
      % (len(ts), max(gaps) if gaps else -1,
         [x for x in log().splitlines() if "exiting:" in x][-1][25:]))
fk.stop()
