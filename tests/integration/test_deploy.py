"""What the deployments rely on, outside containers: the health file and
--health, pingbot raising CAP_NET_RAW from the permitted set as nobody
(the file capability the image and `setcap cap_net_raw=p` give), and
Grafolean's root-owned 0644 token file read by an unprivileged bot without
a warning it could not follow."""

import json
import os
import resource
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from lib import ACCOUNT, ROOT, TOKEN, Bot, BotTestCase, binary, wait_until

FAST = {"n_packets": "1", "sleep_packets": "0.2", "timeout": "0.5",
        "retry": "0"}


def health(path, health_file):
    env = {"PATH": "/usr/bin:/bin"}
    if health_file is not None:
        env["HEALTH_FILE"] = health_file
    r = subprocess.run([path, "--health"], env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True,
                       timeout=10)
    return r.returncode, r.stdout + r.stderr


def nobody_dir(test):
    """A temporary directory nobody can enter."""
    d = tempfile.mkdtemp(prefix="deploy-it-")
    test.addCleanup(shutil.rmtree, d, True)
    os.chmod(d, 0o755)
    return d


def need_root(*tools):
    if os.geteuid() != 0:
        raise unittest.SkipTest("needs root")
    for t in tools:
        if shutil.which(t) is None:
            raise unittest.SkipTest("needs %s" % t)


class DeployTest(BotTestCase):

    def load_one(self):
        acc = {"id": ACCOUNT, "name": "Test account",
               "entities": [{"name": "lo", "entity_type": "device",
                             "details": {"ipv4": "127.0.0.1"},
                             "protocols": {"ping": {
                                 "credential": "@fast", "bot": None,
                                 "sensors": [{"sensor": "@every2",
                                              "interval": None}]}}}],
               "credentials": [{"name": "fast", "protocol": "ping",
                                "details": FAST}],
               "sensors": [{"name": "every2", "protocol": "ping",
                            "default_interval": 2, "details": {}}]}
        return self.fake.load_fixtures({"accounts": [acc]})["accounts"][0]

    def test_health_follows_the_loop_and_the_backend(self):
        path = binary("pingbot")
        d = tempfile.mkdtemp(prefix="deploy-it-")
        self.addCleanup(shutil.rmtree, d, True)
        hf = os.path.join(d, "health")
        rc, out = health(path, None)
        self.assertEqual(rc, 1)
        self.assertIn("HEALTH_FILE is not set", out)
        rc, out = health(path, hf)
        self.assertEqual(rc, 1)
        self.assertIn("cannot read", out)

        self.load_one()
        bot = self.start_bot("pingbot", env={
            "HEALTH_FILE": hf, "HEALTH_BACKEND_MAX_AGE": "3",
            "JOBS_REFRESH_INTERVAL": "1", "BACKEND_TIMEOUT": "2",
            "SHUTDOWN_FLUSH_TIMEOUT": "1"})
        wait_until(lambda: health(path, hf)[0] == 0, 30,
                   what=lambda: "healthy; stderr:\n%s" % bot.stderr()[-2000:])
        self.assertIn("backend answered", health(path, hf)[1])

        # A stuck loop stops rewriting the file: stale is unhealthy.
        bot.signal(signal.SIGSTOP)
        try:
            old = time.time() - 120
            os.utime(hf, (old, old))
            rc, out = health(path, hf)
            self.assertEqual(rc, 1)
            self.assertIn("not rewritten", out)
        finally:
            bot.signal(signal.SIGCONT)
        wait_until(lambda: health(path, hf)[0] == 0, 30, what="healthy again")

        # The backend goes away: unhealthy once no answer came for 3 s.
        self.fake.stop()
        wait_until(lambda: health(path, hf)[0] == 1, 30,
                   what="unhealthy without a backend")
        self.assertIn("last answer from the backend", health(path, hf)[1])
        self.assertEqual(bot.stop(), 0)
        self.assertFalse(os.path.exists(hf))

    def test_stdout_mode_is_healthy_without_a_backend(self):
        path = binary("pingbot")
        d = tempfile.mkdtemp(prefix="deploy-it-")
        self.addCleanup(shutil.rmtree, d, True)
        hf = os.path.join(d, "health")
        jobs = os.path.join(d, "jobs.json")
        with open(jobs, "w") as f:
            f.write("[]")
        bot = Bot(path, ["--jobs", jobs], {"HEALTH_FILE": hf}, token=None)
        self.bots.append(bot)
        wait_until(lambda: health(path, hf)[0] == 0, 20, what="healthy")
        self.assertIn("no backend", health(path, hf)[1])
        self.assertEqual(bot.stop(), 0)

    def test_nobody_raises_cap_net_raw_from_the_permitted_set(self):
        need_root("setpriv", "setcap")
        d = nobody_dir(self)
        exe = os.path.join(d, "pingbot")
        shutil.copy(binary("pingbot"), exe)
        r = subprocess.run(["setcap", "cap_net_raw=p", exe])
        if r.returncode != 0:
            raise unittest.SkipTest("setcap failed here")
        eid = self.load_one()["entities"]["lo"]
        bot = Bot("/usr/bin/setpriv",
                  ["--reuid=65534", "--regid=65534", "--clear-groups", exe],
                  {"BACKEND_URL": self.fake.api_url})
        self.bots.append(bot)
        self.wait_values("entity.%d.ping.success" % eid, 1, 30)
        err = bot.stderr()
        self.assertIn("CAP_NET_RAW raised from the permitted set", err)
        self.assertEqual([v["v"] for v in
                          self.values("entity.%d.ping.success" % eid)][:1], [1])
        self.assertEqual(bot.stop(), 0)

    def test_nobody_without_the_capability_gets_a_fatal_line(self):
        need_root("setpriv")
        d = nobody_dir(self)
        exe = os.path.join(d, "pingbot")
        shutil.copy(binary("pingbot"), exe)
        bot = Bot("/usr/bin/setpriv",
                  ["--reuid=65534", "--regid=65534", "--clear-groups", exe],
                  {"BACKEND_URL": self.fake.api_url})
        self.bots.append(bot)
        self.assertEqual(bot.wait(15), 1)
        err = bot.stderr()
        self.assertIn("FATAL pingbot: not permitted to open raw ICMP sockets", err)
        self.assertIn("not in the permitted set", err)
        self.assertIn("setcap cap_net_raw=p %s" % exe, err)
        self.assertIn("AmbientCapabilities=CAP_NET_RAW", err)
        self.assertNotIn("WARN", err)

    def test_every_start_up_failure_ends_with_a_fatal_line(self):
        """Start-up failures logged at WARN (pipe, resolver threads, ...)
        end with one FATAL line: with a few file descriptors only, each
        limit fails somewhere else, and every failure says FATAL."""
        need_root("setpriv")  # raw sockets: the failures come after them
        d = nobody_dir(self)
        jobs = os.path.join(d, "jobs.json")
        with open(jobs, "w") as f:
            json.dump([{
                "id": 10, "name": "lo", "entity_type": "device",
                "details": {"ipv4": "127.0.0.1"},
                "protocols": {"ping": {
                    "credential": {"id": 1, "name": "c", "protocol": "ping",
                                   "details": FAST},
                    "bot": None,
                    "sensors": [{"sensor": {"id": 2, "name": "s",
                                            "protocol": "ping",
                                            "default_interval": 60,
                                            "details": {}},
                                 "interval": None}]}}}], f)
        init_failures = successes = 0
        for n in range(4, 16):
            def limit(n=n):
                resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))
            r = subprocess.run([binary("pingbot"), "--jobs", jobs, "--once"],
                               env={"PATH": "/usr/bin:/bin"},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               universal_newlines=True, timeout=30,
                               preexec_fn=limit)
            if r.returncode == 0:
                successes += 1
                continue
            self.assertIn(" FATAL pingbot: ", r.stderr, (n, r.stderr))
            if "FATAL pingbot: pingbot cannot start (see the lines above)" in r.stderr:
                init_failures += 1
                self.assertIn(" WARN pingbot: ", r.stderr)
        self.assertGreater(init_failures, 0)
        self.assertGreater(successes, 0)  # the limits were not all too low

    def test_runs_as_the_systemd_unit_would(self):
        """No systemd here: the unit template's environment (its
        Environment= lines, with %S, %t and %i expanded, then the example
        env file as EnvironmentFile= gives it) and privileges (a user of
        its own, NoNewPrivileges, CAP_NET_RAW as the only bounding and
        ambient capability) reproduced with setpriv.  pingbot measures,
        delivers, keeps its spool and health file where the unit says."""
        need_root("setpriv")
        with open(os.path.join(ROOT, "deploy", "systemd",
                               "grafolean-bot@.service.in")) as f:
            unit = f.read().replace("@BOT@", "pingbot")
        for want in ("DynamicUser=yes", "NoNewPrivileges=yes",
                     "ProtectSystem=strict", "AmbientCapabilities=@CAPS@",
                     "CapabilityBoundingSet=@CAPS@"):
            self.assertIn("\n%s\n" % want, unit)
        d = nobody_dir(self)
        state, run = os.path.join(d, "state"), os.path.join(d, "run")
        uid = 61234  # as DynamicUser picks one: no other process has it
        env = {"PATH": "/usr/bin:/bin"}
        for line in unit.splitlines():
            if line.startswith("Environment="):
                k, v = line[len("Environment="):].split("=", 1)
                env[k] = (v.replace("%S", state).replace("%t", run)
                          .replace("%i", "it"))
        with open(os.path.join(ROOT, "deploy", "env", "pingbot.env")) as f:
            for line in f:
                line = line.strip()
                if line and not line.startswith("#"):
                    k, v = line.split("=", 1)
                    env[k] = v
        env["BACKEND_URL"] = self.fake.api_url
        env["BOT_TOKEN"] = TOKEN
        env["JOBS_FIRST_RUN_SPREAD_MS"] = "0"
        # StateDirectory= and RuntimeDirectory=, owned by the service user.
        for sub in (os.path.join(state, "grafolean-pingbot-it"),
                    os.path.join(run, "grafolean-pingbot-it")):
            os.makedirs(sub, 0o755)
            os.chown(sub, uid, uid)
        exe = os.path.join(d, "pingbot")
        shutil.copy(binary("pingbot"), exe)
        eid = self.load_one()["entities"]["lo"]
        bot = Bot("/usr/bin/setpriv",
                  ["--reuid=%d" % uid, "--regid=%d" % uid, "--clear-groups",
                   "--no-new-privs", "--bounding-set=-all,+net_raw",
                   "--inh-caps=-all,+net_raw", "--ambient-caps=+net_raw",
                   exe], env, token=None)
        bot.token = TOKEN
        self.bots.append(bot)
        self.wait_values("entity.%d.ping.success" % eid, 2, 30)
        hf = env["HEALTH_FILE"]
        self.assertTrue(hf.startswith(run))
        wait_until(lambda: health(exe, hf)[0] == 0, 30,
                   what=lambda: "healthy; stderr:\n%s" % bot.stderr()[-2000:])
        with open("/proc/%d/status" % bot.proc.pid) as f:
            status = dict(l.split(":", 1) for l in f.read().splitlines()
                          if ":" in l)
        self.assertEqual(status["Uid"].split()[0], str(uid))
        self.assertEqual(int(status["CapEff"], 16), 1 << 13)
        self.assertEqual(int(status["CapBnd"], 16), 1 << 13)
        self.assertEqual(status["NoNewPrivs"].strip(), "1")
        self.assertEqual(bot.stop(), 0)
        self.assertNotIn("WARN", bot.stderr())
        spool = env["SEND_SPOOL_DIR"]
        self.assertTrue(spool.startswith(state))
        self.assertEqual(os.stat(spool).st_uid, uid)

    def test_grafolean_token_file_read_by_nobody_is_not_warned_of(self):
        """Grafolean writes /shared-secrets/tokens/<protocol>-bot.token as
        root, mode 0644; `chmod 600` would lock the bot out, so no warning.
        The same mode on a file the bot owns is still flagged."""
        need_root("setpriv")
        self.load_one()
        d = nobody_dir(self)
        exe = os.path.join(d, "pingbot")
        shutil.copy(binary("pingbot"), exe)
        tok = os.path.join(d, "ping-bot.token")
        with open(tok, "w") as f:
            f.write(TOKEN + "\n")
        os.chmod(tok, 0o644)
        env = {"BACKEND_URL": self.fake.api_url, "BOT_TOKEN_FROM_FILE": tok,
               "LOG_LEVEL": "debug"}
        bot = Bot("/usr/bin/setpriv",
                  ["--reuid=65534", "--regid=65534", "--clear-groups",
                   "--inh-caps=-all,+net_raw", "--ambient-caps=+net_raw",
                   exe], env, token=None)
        bot.token = TOKEN
        self.bots.append(bot)
        bot.wait_log("jobs: 1 ping job ")
        self.assertEqual(bot.stop(), 0)
        err = bot.stderr()
        self.assertNotIn("WARN", err)
        self.assertNotIn("chmod", err)
        self.assertIn("owned by uid 0, not by this process", err)

        os.chown(tok, 65534, 65534)
        bot = Bot("/usr/bin/setpriv",
                  ["--reuid=65534", "--regid=65534", "--clear-groups",
                   "--inh-caps=-all,+net_raw", "--ambient-caps=+net_raw",
                   exe], env, token=None)
        bot.token = TOKEN
        self.bots.append(bot)
        bot.wait_log("jobs: 1 ping job ")
        self.assertEqual(bot.stop(), 0)
        self.assertIn("readable by group or others (mode 644); chmod 600 it",
                      bot.stderr())


if __name__ == "__main__":
    unittest.main()
