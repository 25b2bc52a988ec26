"""Helpers for integration tests: a fake Grafolean in-process, bots as real
subprocesses, polling (never sleeping) for conditions, and a check that the
bot token never shows up in anything a bot prints."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "fake"))

from fake_grafolean import FakeGrafolean  # noqa: E402

BUILD = os.environ.get("BUILD_DIR", os.path.join(ROOT, "build"))
# A canary token: a valid UUID that is easy to grep for.
TOKEN = "cafe0123-cafe-4abc-8def-0123456789ab"
ACCOUNT = 1785295342


def binary(name):
    path = os.path.join(BUILD, name)
    if not os.path.exists(path):
        raise unittest.SkipTest("%s is not built" % path)
    return path


def wait_until(predicate, timeout=20.0, interval=0.02, what="condition"):
    """Polls predicate() until it returns something true; fails on timeout.
    what may be a callable, called only on timeout (e.g. for a log's end)."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            if callable(what):
                what = what()
            raise AssertionError("timed out after %.0f s waiting for %s"
                                 % (timeout, what))
        time.sleep(interval)


class Bot(object):
    """A bot process with captured stdout/stderr (files, so nothing blocks)."""

    def __init__(self, path, args=(), env=None, token=TOKEN):
        self.dir = tempfile.mkdtemp(prefix="bot-it-")
        self.out_path = os.path.join(self.dir, "stdout")
        self.err_path = os.path.join(self.dir, "stderr")
        full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                    "JOBS_FIRST_RUN_SPREAD_MS": "0",
                    "BACKEND_WAIT_INTERVAL": "1",
                    "LOG_LEVEL": "info"}
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if k in os.environ:
                full_env[k] = os.environ[k]
        if token is not None:
            full_env["BOT_TOKEN"] = token
        full_env.update(env or {})
        self.token = token
        self.out = open(self.out_path, "wb")
        self.err = open(self.err_path, "wb")
        self.proc = subprocess.Popen([path] + list(args), env=full_env,
                                     stdin=subprocess.DEVNULL,
                                     stdout=self.out, stderr=self.err)

    def stderr(self):
        with open(self.err_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stdout(self):
        with open(self.out_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_log(self, text, timeout=20.0):
        return wait_until(lambda: text in self.stderr(), timeout,
                          what=lambda: "log line %r; stderr:\n%s"
                          % (text, self.stderr()[-3000:]))

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=15.0):
        """SIGTERM, wait, return the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.wait(timeout)

    def wait(self, timeout=30.0):
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("bot did not exit within %.0f s; stderr:\n%s"
                                 % (timeout, self.stderr()[-3000:]))
        self.out.close()
        self.err.close()
        return rc

    def assert_no_secret(self, test):
        """The token must not appear anywhere in what the bot printed."""
        if self.token:
            both = self.stdout() + self.stderr()
            test.assertNotIn(self.token, both)
            test.assertNotIn(self.token.replace("-", ""), both)

    def assert_no_sanitizer_report(self, test):
        err = self.stderr()
        for marker in ("AddressSanitizer", "LeakSanitizer", "runtime error:",
                       "UndefinedBehaviorSanitizer"):
            test.assertNotIn(marker, err, err[-4000:])


class HostsFile(object):
    """A private /etc/hosts for one bot: the bot runs in a mount namespace
    where a file the test edits (write) is bind-mounted over /etc/hosts,
    so names resolve as the test says, and change when it says.  Skips the
    test without root or unshare."""

    def __init__(self, testcase):
        self.unshare = shutil.which("unshare")
        if os.geteuid() != 0 or self.unshare is None:
            raise unittest.SkipTest("needs root and unshare")
        d = tempfile.mkdtemp(prefix="hosts-it-")
        testcase.addCleanup(shutil.rmtree, d, True)
        self.path = os.path.join(d, "hosts")
        self.write("")

    def write(self, text):
        """Replaces the names (localhost stays); in place, because the
        bind mount follows the inode, not the name."""
        with open(self.path, "w") as f:
            f.write("127.0.0.1 localhost\n" + text)

    def bot(self, name, env):
        """The bot `name` (a binary of BUILD) started in the namespace."""
        return Bot(self.unshare, ["-m", "sh", "-c",
                                  'mount --bind "$0" /etc/hosts && exec "$1"',
                                  self.path, binary(name)], env)


class BotTestCase(unittest.TestCase):
    """Starts a fake backend per test and stops every bot the test started."""

    tokens = [TOKEN]

    def setUp(self):
        self.fake = FakeGrafolean(port=0, tokens=self.tokens)
        self.fake.start()
        self.bots = []

    def tearDown(self):
        for b in self.bots:
            if b.proc.poll() is None:
                b.proc.kill()
                b.proc.wait()
            b.assert_no_secret(self)
            b.assert_no_sanitizer_report(self)
        self.fake.stop()

    def start_bot(self, name, args=(), env=None, token=TOKEN, backend=True):
        e = {}
        if backend:
            e["BACKEND_URL"] = self.fake.api_url
        e.update(env or {})
        b = Bot(binary(name), args, e, token)
        self.bots.append(b)
        return b

    def values(self, prefix=None):
        return self.fake.values(account=None, prefix=prefix)

    def wait_values(self, prefix, n=1, timeout=20.0):
        return wait_until(lambda: len(self.values(prefix)) >= n and self.values(prefix),
                          timeout, what="%d values under %s" % (n, prefix))

    def requests(self, method=None, path_part=None):
        out = []
        for r in self.fake.requests():
            if method and r["method"] != method:
                continue
            if path_part and path_part not in r["path"]:
                continue
            out.append(r)
        return out
