"""The token's exposure, through testbot: TLS that fails closed (self-signed,
expired, wrong host name) and works with BACKEND_CA_FILE; one warning when
plain http carries the token to a public address (and none on loopback);
one warning when the token file is readable by others."""

import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import unittest

from lib import ACCOUNT, ROOT, TOKEN, Bot, BotTestCase, binary, wait_until
from fake_grafolean import FakeGrafolean


def ping_entity(name):
    return {"name": name, "entity_type": "device", "details": {"ipv4": "127.0.0.1"},
            "protocols": {"ping": {"credential": "@ping_credential", "bot": None,
                                   "sensors": [{"sensor": "@ping_sensor", "interval": 1}]}}}


def fixtures():
    return {"accounts": [{"id": ACCOUNT, "name": "Test account",
                          "entities": [ping_entity("a")]}]}


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, capture_output=True)


class Pki(object):
    """A test CA and server certificates for 127.0.0.1: good, expired, for
    another host name, and one self-signed."""

    def __init__(self, d):
        self.d = d
        j = lambda n: os.path.join(d, n)  # noqa: E731
        self.ca = j("ca.pem")
        self.key = j("key.pem")
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=bot test CA",
                "-days", "2", "-keyout", j("ca.key"), "-out", self.ca)
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
                "-keyout", self.key, "-out", j("csr.pem"))
        for name, days, san in (("good", "2", "IP:127.0.0.1"),
                                ("expired", "-1", "IP:127.0.0.1"),
                                ("wronghost", "2", "DNS:wrong.example")):
            with open(j(name + ".ext"), "w") as f:
                f.write("subjectAltName=%s\n" % san)
            openssl("x509", "-req", "-in", j("csr.pem"), "-CA", self.ca, "-CAkey", j("ca.key"),
                    "-set_serial", str(len(name)), "-days", days, "-extfile", j(name + ".ext"),
                    "-out", j(name + ".pem"))
        openssl("req", "-x509", "-new", "-key", self.key, "-subj", "/CN=127.0.0.1",
                "-addext", "subjectAltName=IP:127.0.0.1", "-days", "2", "-out", j("self.pem"))

    def context(self, name):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(self.d, name + ".pem"), self.key)
        return ctx


class SecurityTest(BotTestCase):

    def tls_fake(self, pki, cert):
        fk = FakeGrafolean(port=0, tokens=[TOKEN], fixtures=fixtures(), tls=pki.context(cert))
        fk.start()
        self.addCleanup(fk.stop)
        return fk

    def test_tls_fails_closed_and_trusts_the_ca_file(self):
        """S2: a self-signed, an expired and a wrong-host certificate are all
        refused with a clear error (even with the CA file for the latter
        two); the good certificate works only with the CA, given as
        BACKEND_CA_FILE or --ca-file."""
        if shutil.which("openssl") is None:
            self.skipTest("openssl is not installed")
        d = tempfile.mkdtemp(prefix="pki-it-")
        self.addCleanup(shutil.rmtree, d, True)
        pki = Pki(d)
        cases = (("self", False, "self-signed certificate"),
                 ("expired", True, "certificate has expired"),
                 ("wronghost", True, "127.0.0.1"),
                 ("good", False, "unable to get local issuer certificate"))
        for cert, with_ca, why in cases:
            fk = self.tls_fake(pki, cert)
            env = {"BACKEND_URL": fk.api_url}
            if with_ca:
                env["BACKEND_CA_FILE"] = pki.ca
            bot = self.start_bot("tests/testbot", env=env, backend=False)
            bot.wait_log("not reachable")
            self.assertEqual(bot.stop(), 0)
            err = bot.stderr()
            line = [l for l in err.splitlines() if "not reachable" in l][0]
            self.assertIn("SSL", line, cert)
            self.assertIn(why, line, cert)
            # no request ever got through the handshake
            self.assertEqual(fk.requests(), [], cert)
        for how in ("env", "flag"):
            fk = self.tls_fake(pki, "good")
            env = {"BACKEND_URL": fk.api_url}
            args = []
            if how == "env":
                env["BACKEND_CA_FILE"] = pki.ca
            else:
                args = ["--ca-file", pki.ca]
            bot = self.start_bot("tests/testbot", args=args, backend=False, env=env)
            wait_until(lambda: len(fk.values(account=None, prefix="entity.")) >= 2, 20,
                       what=lambda: "values over https; stderr:\n%s" % bot.stderr()[-2000:])
            self.assertEqual(bot.stop(), 0)
            self.assertNotIn("not reachable", bot.stderr())
            self.assertTrue([r for r in fk.requests() if r["method"] == "PUT"])

    def test_plain_http_to_a_public_address_is_flagged_once(self):
        """4.1: plain http to an address outside loopback and private space
        gets one warning; the fake and the bot share a network namespace of
        their own in which 198.51.100.7 (public, documentation space) is on
        lo."""
        if os.geteuid() != 0 or shutil.which("unshare") is None or shutil.which("ip") is None:
            raise unittest.SkipTest("needs root, unshare and ip")
        d = tempfile.mkdtemp(prefix="clear-it-")
        self.addCleanup(shutil.rmtree, d, True)
        fx = os.path.join(d, "fixtures.json")
        with open(fx, "w") as f:
            json.dump(fixtures(), f)
        port_file, pid_file = os.path.join(d, "port"), os.path.join(d, "pid")
        script = (
            'set -e; ip link set lo up; ip addr add 198.51.100.7/32 dev lo\n'
            '"$PY" "$FAKE" --host 198.51.100.7 --port-file "$PORTF" --token "$BOT_TOKEN" '
            '--fixtures "$FX" >/dev/null 2>&1 &\n'
            'echo $! > "$PIDF"\n'
            'n=0; while [ ! -s "$PORTF" ]; do n=$((n+1)); [ $n -lt 400 ]; sleep 0.05; done\n'
            'BACKEND_URL="http://198.51.100.7:$(cat "$PORTF")/api" exec "$BOT" --once\n')
        env = {"PY": sys.executable, "FAKE": os.path.join(ROOT, "tests", "fake", "fake_grafolean.py"),
               "PORTF": port_file, "PIDF": pid_file, "FX": fx,
               "BOT": binary("tests/testbot")}
        bot = Bot("/usr/bin/unshare", ["-n", "sh", "-c", script], env)
        self.bots.append(bot)

        def kill_fake():
            try:
                with open(pid_file) as f:
                    os.kill(int(f.read()), 15)
            except (OSError, ValueError):
                pass
        self.addCleanup(kill_fake)
        self.assertEqual(bot.wait(30), 0, bot.stderr())
        err = bot.stderr()
        self.assertEqual(err.count("travels in clear text"), 1, err)
        self.assertIn("198.51.100.7", [l for l in err.splitlines() if "clear text" in l][0])
        self.assertIn(" 0 undelivered", err)

    def test_plain_http_on_loopback_is_not_flagged(self):
        self.fake.load_fixtures(fixtures())
        bot = self.start_bot("tests/testbot", args=["--once"])
        self.assertEqual(bot.wait(30), 0, bot.stderr())
        self.assertIn(" 0 undelivered", bot.stderr())
        self.assertNotIn("clear text", bot.stderr())

    def test_token_file_readable_by_others_is_flagged(self):
        self.fake.load_fixtures(fixtures())
        d = tempfile.mkdtemp(prefix="tok-it-")
        self.addCleanup(shutil.rmtree, d, True)
        path = os.path.join(d, "token")
        for mode, flagged in ((0o644, True), (0o640, True), (0o600, False), (0o400, False)):
            with open(path, "w") as f:
                f.write(TOKEN + "\n")
            os.chmod(path, mode)
            bot = self.start_bot("tests/testbot", args=["--once"], token=None,
                                 env={"BOT_TOKEN_FROM_FILE": path})
            bot.token = TOKEN
            self.assertEqual(bot.wait(30), 0, bot.stderr())
            err = bot.stderr()
            self.assertEqual("readable by group or others" in err, flagged, (oct(mode), err))
            if flagged:
                self.assertIn("mode %03o" % mode, err)

    def test_answers_echoing_the_url_never_leak_the_token(self):
        """S1: error answers that echo the request URL, token and all, on
        status/info, the entity list and values (500, 400 bisected and
        logged verbatim, 404 refused and logged) show up in the log only
        redacted."""
        self.fake.load_fixtures(fixtures())
        echo = "<html>error at {url}</html>"
        self.fake.add_fault(mode="status", code=500, body=echo, method="GET",
                            path_re="status/info", count=1)
        self.fake.add_fault(mode="status", code=500, body=echo, method="GET",
                            path_re="entities$", count=1)
        for code in (500, 400, 404):
            self.fake.add_fault(mode="status", code=code, body=echo, method="PUT",
                                path_re="values", count=1)
        bot = self.start_bot("tests/testbot", env={"BACKEND_WAIT_INTERVAL": "1",
                                                   "SEND_RETRY_MAX_MS": "1000"})
        wait_until(lambda: all(f["remaining"] == 0 for f in self.fake.faults()), 30,
                   what=lambda: "every echoing fault used; stderr:\n%s" % bot.stderr()[-3000:])
        self.wait_values("entity.", 2)
        self.assertEqual(bot.stop(), 0)
        err = bot.stderr()
        self.assertNotIn(TOKEN, err)
        self.assertNotIn(TOKEN.replace("-", ""), err)
        echoed = [l for l in err.splitlines() if "error at" in l]
        self.assertGreaterEqual(len(echoed), 3, err)
        for l in echoed:
            self.assertIn("b=<redacted>", l)

    def test_cut_bodies_never_show_part_of_the_token(self):
        """Issue 13.5: error bodies that quote the token just past where the
        log cuts them (the entity list's 160-character snippet, a refused
        batch's 1,000-character body) show it redacted whole, never in
        part."""
        self.fake.load_fixtures(fixtures())
        short = "x" * 110 + "invalid token: " + TOKEN
        long_ = "y" * 975 + "invalid token: " + TOKEN
        self.fake.add_fault(mode="status", code=500, body=short, method="GET",
                            path_re="entities$", count=1)
        self.fake.add_fault(mode="status", code=404, body=long_, method="PUT",
                            path_re="values", count=1)
        self.fake.add_fault(mode="status", code=404, body=short, method="PUT",
                            path_re="values", count=1)
        bot = self.start_bot("tests/testbot", env={"BACKEND_WAIT_INTERVAL": "1"})
        wait_until(lambda: all(f["remaining"] == 0 for f in self.fake.faults()), 30,
                   what=lambda: "every fault used; stderr:\n%s" % bot.stderr()[-3000:])
        self.wait_values("entity.", 2)
        self.assertEqual(bot.stop(), 0)
        err = bot.stderr()
        # Not assertNotIn: its message would print the log, token and all.
        self.assertFalse("token: " + TOKEN[:1] in err, "part of the token logged")
        self.assertFalse(TOKEN[:8] in err, "part of the token logged")
        self.assertIn("x" * 50 + "invalid token: <redacted>", err)
        self.assertIn("y" * 50 + "invalid token: <redacted>", err)

    def test_backend_url_with_userinfo_is_refused(self):
        """Issue 13.6: BACKEND_URL=http://user:pass@host/api is refused at
        start-up with a clear error that does not repeat the password, and
        no request is made."""
        url = self.fake.api_url.replace("http://", "http://alice:pa55word@")
        n0 = len(self.fake.requests())
        bot = self.start_bot("tests/testbot", env={"BACKEND_URL": url})
        self.assertNotEqual(bot.proc.wait(10), 0)
        err = bot.stderr()
        self.assertIn("user:pass@", err)
        self.assertIn("FATAL", err)
        self.assertNotIn("pa55word", err)
        self.assertEqual(len(self.fake.requests()), n0)

    def test_entity_name_cannot_forge_a_log_line(self):
        """Issue 13.8: an entity named with a newline, a forged log line and
        terminal escapes is logged on its event's one line, escaped."""
        evil = "evil\n2026-01-01T00:00:00.000Z FATAL testbot: forged\x1b[2J\r"
        self.fake.load_fixtures({"accounts": [{"id": ACCOUNT, "name": "Test account",
                                               "entities": [ping_entity(evil)]}]})
        bot = self.start_bot("tests/testbot", env={"LOG_LEVEL": "debug"})
        self.wait_values("entity.", 2)
        wait_until(lambda: "evil\\n2026" in bot.stderr(), 10,
                   what="the entity's name logged")
        self.assertEqual(bot.stop(), 0)
        err = bot.stderr()
        self.assertNotIn("\x1b", err)
        self.assertNotIn("\r", err)
        for line in err.splitlines():
            self.assertNotIn("FATAL", line.split(" ")[1] if " " in line else "", line)
            self.assertFalse(line.startswith("2026-01-01T00:00:00.000Z"), line)
        self.assertIn("evil\\n2026-01-01T00:00:00.000Z FATAL testbot: forged\\x1b[2J\\r", err)
