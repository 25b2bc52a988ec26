"""apibot against the fake backend and a local HTTP server started by the
test (Python standard library): fixtures read by jq filters into exact
paths and values, tables, booleans and numeric strings, delta and rate
modes on a counter that resets, sensors sharing one request, POST bodies,
credentials (headers from the environment, basic auth from a file, HTTP
Digest auth answering the server's MD5/qop=auth challenge), and
bad answers (non-JSON, 4xx/5xx, slow, over the body cap, too deep,
trailing garbage, redirects to file:// and to another host, redirect
loops) that each cost only their own sensor.  A filter that never ends is
halted, reported once and its sensor disabled until its config changes.
Requests to one host never exceed API_MAX_HOST_CONNECTIONS at once (the
others wait their turn, none lost), and a TLS server offering HTTP/2
(nghttpd, which speaks nothing else) is polled over HTTP/2."""

import hashlib
import http.server
import json
import os
import re
import shutil
import signal
import socket
import socketserver
import subprocess
import tempfile
import threading
import time
import unittest

from lib import ACCOUNT, TOKEN, BotTestCase, wait_until
import test_security

SECRET_HEADER = "Bearer s3cr3t-header-value"
SECRET_PASSWORD = "pa55-from-file"
SECRET_USERINFO = "url-pw-9876"
DIGEST_PASSWORD = "d1gest-pw-from-env"

STATS = {
    "queue": {"depth": 42},
    "healthy": True,
    "version": "2.4.1",
    "uptime_s": "86400",
    "workers": [{"name": "web 1", "busy": 3}, {"name": "web/2.x", "busy": 7}],
}


def md5hex(text):
    return hashlib.md5(text.encode()).hexdigest()


class DigestRoute(object):
    """A route behind HTTP Digest auth (RFC 7616, MD5, qop=auth): a request
    without a valid answer to a nonce it issued gets a 401 challenge with a
    fresh nonce; the client's response hash is recomputed from the known
    password, so a wrong password never passes."""

    REALM = "apibot-test@127.0.0.1"

    def __init__(self, lock, user, password, answer):
        self.lock = lock
        self.user = user
        self.password = password
        self.answer = answer
        self.nonces = set()
        self.verdicts = []      # (client port, "none" | "ok" | "bad")

    @staticmethod
    def params(header):
        return {m.group(1): m.group(2) if m.group(2) is not None
                else m.group(3)
                for m in re.finditer(r'(\w+)=(?:"([^"]*)"|([^,\s]*))',
                                     header)}

    def verdict(self, h):
        auth = h.headers.get("Authorization")
        if auth is None:
            return "none"
        if not auth.startswith("Digest "):
            return "bad"
        p = self.params(auth[len("Digest "):])
        with self.lock:
            known = p.get("nonce") in self.nonces
        if not known or p.get("username") != self.user or \
                p.get("realm") != self.REALM or p.get("uri") != h.path or \
                p.get("qop") != "auth" or p.get("opaque") != "op4que" or \
                p.get("algorithm", "MD5") != "MD5" or \
                not p.get("cnonce") or not p.get("nc"):
            return "bad"
        ha1 = md5hex("%s:%s:%s" % (self.user, self.REALM, self.password))
        ha2 = md5hex("%s:%s" % (h.command, p["uri"]))
        want = md5hex(":".join((ha1, p["nonce"], p["nc"], p["cnonce"],
                                "auth", ha2)))
        return "ok" if p.get("response") == want else "bad"

    def __call__(self, k, h, body):
        v = self.verdict(h)
        with self.lock:
            self.verdicts.append((h.client_address[1], v))
        if v == "ok":
            return self.answer()
        nonce = os.urandom(16).hex()
        with self.lock:
            self.nonces.add(nonce)
        return 401, {"WWW-Authenticate":
                     'Digest realm="%s", qop="auth", algorithm=MD5, '
                     'nonce="%s", opaque="op4que"' % (self.REALM, nonce),
                     "Content-Type": "application/json"}, b'{"detail": "auth"}'


class ApiServer(object):
    """A threaded HTTP server on 127.0.0.1 with scripted routes; it keeps a
    log of every request (path, headers, body)."""

    def __init__(self, tls=None, host="127.0.0.1"):
        self.lock = threading.Lock()
        self.log = []
        self.counts = {}
        self.routes = {}
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def handle_one(self, method):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                path = self.path.split("?")[0]
                with outer.lock:
                    outer.log.append({"method": method, "path": self.path,
                                      "headers": dict(self.headers),
                                      "body": body})
                    k = outer.counts[path] = outer.counts.get(path, 0) + 1
                    route = outer.routes.get(path)
                if route is None:
                    status, headers, data = 404, {}, b'{"detail": "no"}'
                else:
                    status, headers, data = route(k, self, body)
                self.send_response(status)
                for h, v in headers.items():
                    if isinstance(v, list):     # a header sent many times
                        for one in v:
                            self.send_header(h, one)
                    else:
                        self.send_header(h, v)
                if "Content-Length" not in headers and \
                        "Transfer-Encoding" not in headers:
                    self.send_header("Content-Length", str(len(data)))
                if headers.get("Connection") == "close":
                    self.close_connection = True
                self.end_headers()
                try:
                    if callable(data):          # writes the body itself
                        data(self.wfile)
                    else:
                        self.wfile.write(data)
                except OSError:
                    self.close_connection = True

            def do_GET(self):
                self.handle_one("GET")

            def do_POST(self):
                self.handle_one("POST")

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            address_family = socket.AF_INET6 if ":" in host \
                else socket.AF_INET
            daemon_threads = True
            allow_reuse_address = True

            def handle_error(self, request, client_address):
                pass    # clients that hang up (timeouts, body cap)

        self.httpd = Server((host, 0), Handler)
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket,
                                                server_side=True)
        self.port = self.httpd.server_address[1]
        self.base = "%s://%s:%d" % ("https" if tls else "http",
                                    "[%s]" % host if ":" in host else host,
                                    self.port)
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)

    def start(self):
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def count(self, path):
        with self.lock:
            return self.counts.get(path, 0)

    def requests(self):
        with self.lock:
            return list(self.log)


def js(obj):
    return 200, {"Content-Type": "application/json"}, json.dumps(obj).encode()


def counter(k, h, body):
    # 1000, 1100, 1200, then a reset to 50, 150, 250, ...
    v = 1000 + 100 * (k - 1) if k <= 3 else 50 + 100 * (k - 4)
    return js({"requests_total": v})


def api_entity(name, details, credential, sensors):
    return {"name": name, "entity_type": "device", "details": details,
            "protocols": {"api": {"credential": credential, "bot": None,
                                  "sensors": [{"sensor": "@" + s,
                                               "interval": None}
                                              for s in sensors]}}}


def sensor(name, details, interval=1):
    return {"name": name, "protocol": "api", "default_interval": interval,
            "details": details}


class ApibotTest(BotTestCase):

    def setUp(self):
        super().setUp()
        self.api = ApiServer()
        self.api.start()
        self.tmp = tempfile.mkdtemp(prefix="apibot-it-")

    def tearDown(self):
        try:
            super().tearDown()
            for b in self.bots:
                err = b.stderr()
                for secret in (SECRET_HEADER, SECRET_PASSWORD,
                               SECRET_USERINFO, DIGEST_PASSWORD):
                    self.assertNotIn(secret, err + b.stdout())
            # The bot token never reaches a polled URL.
            for r in self.api.requests():
                self.assertNotIn(TOKEN, r["path"])
                self.assertNotIn(TOKEN, json.dumps(r["headers"]))
                self.assertNotIn(TOKEN.encode(), r["body"])
        finally:
            self.api.stop()

    def load(self, entities, credentials, sensors):
        acc = {"id": ACCOUNT, "name": "Test account", "entities": entities,
               "credentials": credentials, "sensors": sensors}
        return self.fake.load_fixtures({"accounts": [acc]})["accounts"][0]

    def series(self, path):
        return [(v["t"], v["v"]) for v in self.values(path)
                if v["p"] == path]

    def test_values_tables_modes_credentials_and_shared_requests(self):
        self.api.routes["/stats"] = lambda k, h, b: js(STATS)
        self.api.routes["/counter"] = counter

        def echo(k, h, body):
            got = json.loads(body.decode())
            return js({"sum": got["a"] + got["b"],
                       "ctype": h.headers.get("Content-Type")})
        self.api.routes["/echo"] = echo

        def private(k, h, body):
            ok = (h.headers.get("Authorization") == SECRET_HEADER
                  and h.headers.get("X-Api-User") == "alice")
            return js({"ok": ok}) if ok else (401, {}, b'{"detail": "no"}')
        self.api.routes["/private"] = private

        def basic(k, h, body):
            import base64
            want = "Basic " + base64.b64encode(
                ("bob:" + SECRET_PASSWORD).encode()).decode()
            ok = h.headers.get("Authorization") == want
            return js({"ok": ok}) if ok else (401, {}, b'{}')
        self.api.routes["/basic"] = basic

        pwfile = os.path.join(self.tmp, "pw")
        with open(pwfile, "w") as f:
            f.write(SECRET_PASSWORD + "\n")
        creds = [
            {"name": "plain", "protocol": "api", "details": {"timeout": 5}},
            {"name": "hdr", "protocol": "api", "details": {
                "headers": {"Authorization": {"env": "API_TEST_AUTH"},
                            "X-Api-User": "alice"}}},
            {"name": "basic", "protocol": "api", "details": {
                "basic_auth": {"username": "bob",
                               "password": {"file": pwfile}}}},
        ]
        sensors = [
            sensor("stats-a", {"path": "/stats", "extract": [
                {"jq": ".queue.depth", "path": "queue.depth"},
                {"jq": ".healthy", "path": "healthy"},
                {"jq": ".uptime_s", "path": "uptime"}]}),
            sensor("stats-b", {"path": "stats", "method": "GET", "extract": [
                {"jq": ".workers[] | {(.name): .busy}",
                 "path": "workers.busy"}]}),
            sensor("count", {"path": "/counter", "extract": [
                {"jq": ".requests_total", "path": "req.rate",
                 "mode": "rate"},
                {"jq": ".requests_total", "path": "req.delta",
                 "mode": "delta"}]}),
            sensor("echo", {"path": "/echo", "method": "POST",
                            "body": {"a": 2, "b": 40},
                            "extract": [{"jq": ".sum", "path": "echo.sum"}]}),
            sensor("private", {"path": "/private", "extract": [
                {"jq": ".ok", "path": "private.ok"}]}),
            sensor("basic", {"path": "/basic", "extract": [
                {"jq": ".ok", "path": "basic.ok"}]}),
        ]
        ents = [
            api_entity("svc", {"url": self.api.base + "/"}, "@plain",
                       ["stats-a", "stats-b", "count", "echo"]),
            api_entity("hdr", {"url": self.api.base}, "@hdr", ["private"]),
            api_entity("bas", {"url": self.api.base + "/"}, "@basic",
                       ["basic"]),
        ]
        acc = self.load(ents, creds, sensors)
        eid = acc["entities"]["svc"]
        sid = acc["sensors"]
        bot = self.start_bot("apibot", env={"API_TEST_AUTH": SECRET_HEADER})
        pre = "entity.%d.api." % eid
        # Six polls of the counter: 1000, 1100, 1200, 50, 150, 250.
        wait_until(lambda: len(self.series(pre + "req.delta")) >= 4,
                   timeout=40, what="4 deltas")
        self.assertEqual(bot.stop(), 0)

        for path, want in (("queue.depth", 42), ("healthy", 1),
                           ("uptime", 86400), ("workers.busy.web-1", 3),
                           ("workers.busy.web-2-x", 7), ("echo.sum", 42)):
            s = self.series(pre + path)
            self.assertTrue(s, path)
            self.assertTrue(all(v == want for _, v in s), (path, s))
        # Nothing else under the entity: "version" is not asked for.
        got = {v["p"][len(pre):] for v in self.values(pre)}
        http_paths = {"%d.http.%s" % (sid[n], k)
                      for n in ("stats-a", "stats-b", "count", "echo")
                      for k in ("status", "time", "size", "ok")}
        self.assertEqual(got, http_paths | {
            "queue.depth", "healthy", "uptime", "workers.busy.web-1",
            "workers.busy.web-2-x", "echo.sum", "req.rate", "req.delta"})
        hp = "entity.%d.api.%d.http." % (eid, sid["stats-a"])
        hq = "entity.%d.api.%d.http." % (eid, sid["stats-b"])
        size = len(json.dumps(STATS).encode())
        self.assertTrue(all(v == 200 for _, v in self.series(hp + "status")))
        self.assertTrue(all(v == 1 for _, v in self.series(hp + "ok")))
        self.assertTrue(all(v == size for _, v in self.series(hp + "size")))
        self.assertTrue(all(0 <= v < 5 for _, v in self.series(hp + "time")))
        # stats-a and stats-b share each request: same figures, same times,
        # and one request per poll.
        self.assertEqual(self.series(hp + "time"), self.series(hq + "time"))
        polls = len(self.series(hp + "status"))
        # (A poll may be under way when the bot stops.)
        self.assertIn(self.api.count("/stats"), (polls, polls + 1))

        # Delta and rate against the previous answer; the reset gives
        # nothing for its poll.
        delta = self.series(pre + "req.delta")
        rate = self.series(pre + "req.rate")
        status_t = [t for t, _ in self.series(
            "entity.%d.api.%d.http.status" % (eid, sid["count"]))]
        self.assertTrue(all(v == 100 for _, v in delta), delta)
        n = len(status_t)
        # Polls 2, 3, 5, 6, ... give a delta; poll 1 and poll 4 (reset) not.
        self.assertEqual([t for t, _ in delta],
                         [status_t[i] for i in range(n) if i not in (0, 3)])
        self.assertEqual([t for t, _ in rate], [t for t, _ in delta])
        for (t, v) in rate:
            i = status_t.index(t)
            self.assertAlmostEqual(v, 100 / (t - status_t[i - 1]), places=2)

        # POST carried its JSON body.
        posts = [r for r in self.api.requests() if r["path"] == "/echo"]
        self.assertTrue(posts)
        for r in posts:
            self.assertEqual(r["method"], "POST")
            self.assertEqual(json.loads(r["body"]), {"a": 2, "b": 40})
        # Credentials: header from the environment, password from a file.
        self.assertTrue(all(v == 1 for _, v in self.series(
            "entity.%d.api.private.ok" % acc["entities"]["hdr"])))
        self.assertTrue(self.series(
            "entity.%d.api.private.ok" % acc["entities"]["hdr"]))
        self.assertTrue(all(v == 1 for _, v in self.series(
            "entity.%d.api.basic.ok" % acc["entities"]["bas"])))
        self.assertTrue(self.series(
            "entity.%d.api.basic.ok" % acc["entities"]["bas"]))
        # Only the non-private entity got no Authorization header.
        for r in self.api.requests():
            if r["path"] in ("/stats", "/counter", "/echo"):
                self.assertNotIn("Authorization", r["headers"])
        self.assertNotIn(" WARN ", bot.stderr())

    def test_digest_auth_answers_the_challenge(self):
        """A credential's "digest_auth" answers the server's Digest
        challenge (the 401 round trip inside one admitted request, on the
        kept-alive connection): values arrive with the right password;
        with a wrong one the sensor reports http.status 401 and no values.
        Basic is never sent and the password never logged."""
        good = DigestRoute(self.api.lock, "admin", DIGEST_PASSWORD,
                           lambda: js({"v": 7}))
        self.api.routes["/digest"] = good
        creds = [
            {"name": "right", "protocol": "api", "details": {
                "digest_auth": {"username": "admin",
                                "password": {"env": "API_TEST_DIGEST"}}}},
            {"name": "wrong", "protocol": "api", "details": {
                "digest_auth": {"username": "admin",
                                "password": DIGEST_PASSWORD + "x"}}},
        ]
        sensors = [sensor("dig", {"path": "/digest", "extract": [
            {"jq": ".v", "path": "dig.v"}]})]
        ents = [api_entity("right", {"url": self.api.base}, "@right",
                           ["dig"]),
                api_entity("wrong", {"url": self.api.base}, "@wrong",
                           ["dig"])]
        acc = self.load(ents, creds, sensors)
        sid = acc["sensors"]["dig"]
        er, ew = acc["entities"]["right"], acc["entities"]["wrong"]
        st_w = "entity.%d.api.%d.http.status" % (ew, sid)
        st_r = "entity.%d.api.%d.http.status" % (er, sid)
        bot = self.start_bot("apibot", env={
            "API_TEST_DIGEST": DIGEST_PASSWORD,
            "API_MAX_HOST_CONNECTIONS": "1"})
        self.wait_values("entity.%d.api.dig.v" % er, 3, timeout=40)
        wait_until(lambda: len(self.series(st_w)) >= 3, timeout=40,
                   what="3 statuses of the wrong password")
        self.assertEqual(bot.stop(), 0)

        vals = self.series("entity.%d.api.dig.v" % er)
        self.assertTrue(vals and all(v == 7 for _, v in vals), vals)
        self.assertTrue(all(v == 200 for _, v in self.series(st_r)))
        self.assertTrue(all(v == 401 for _, v in self.series(st_w)),
                        self.series(st_w))
        self.assertEqual(self.values("entity.%d.api.dig." % ew), [])
        # Every request began unauthenticated (no preemptive Basic) and was
        # answered with a Digest response: ok with the right password, bad
        # with the wrong one.
        for r in self.api.requests():
            self.assertFalse(r["headers"].get("Authorization", "")
                             .startswith("Basic"), r)
        with self.api.lock:
            verdicts = list(good.verdicts)
        kinds = [v for _, v in verdicts]
        self.assertGreaterEqual(kinds.count("ok"), 3, kinds)
        self.assertGreaterEqual(kinds.count("bad"), 3, kinds)
        # Each answer followed its own challenge (a 401 round trip).
        self.assertGreaterEqual(kinds.count("none"),
                                kinds.count("ok") + kinds.count("bad"), kinds)
        # One host, a cap of one connection: challenges and answers all
        # went over the same kept-alive connection.
        self.assertEqual(len({port for port, _ in verdicts}), 1, verdicts)

    def test_bad_answers_cost_only_their_sensor(self):
        api = self.api
        api.routes["/good"] = lambda k, h, b: js({"v": 7})
        api.routes["/notjson"] = lambda k, h, b: (200, {}, b"<html>hi</html>")
        api.routes["/empty"] = lambda k, h, b: (200, {}, b"")
        api.routes["/trailing"] = lambda k, h, b: (200, {}, b'{"v": 1} x')
        api.routes["/truncated"] = lambda k, h, b: (200, {}, b'{"v": [1, 2')
        api.routes["/e500"] = lambda k, h, b: (500, {}, b'{"v": 1}')
        api.routes["/e404"] = lambda k, h, b: (404, {}, b'{"v": 1}')
        api.routes["/deep"] = lambda k, h, b: (
            200, {}, b"[" * 40 + b"1" + b"]" * 40)
        api.routes["/verydeep"] = lambda k, h, b: (
            200, {}, b"[" * 10000 + b"]" * 10000)
        api.routes["/huge"] = lambda k, h, b: (
            200, {}, b'{"v": "' + b"x" * 3000000 + b'"}')
        api.routes["/numbers"] = lambda k, h, b: (
            200, {}, b'{"a": 1e400, "b": -0, "c": 9223372036854775808, '
                     b'"d": 1, "d": 2}')
        api.routes["/badutf8"] = lambda k, h, b: (
            200, {}, b'{"k": "\xff\xfe", "v": 5}')
        api.routes["/nulkey"] = lambda k, h, b: (
            200, {}, b'{"n\\u0000k": 1}')
        big = b"[" + b"0," * 999999 + b"0]"
        api.routes["/bigarray"] = lambda k, h, b: (200, {}, big)
        api.routes["/nullbody"] = lambda k, h, b: (200, {}, b"null")
        api.routes["/clshort"] = lambda k, h, b: (
            200, {"Content-Length": "100", "Connection": "close"},
            b'{"v": 1}  ')

        def endless(w):
            while True:
                w.write(b"2000\r\n" + b" " * 0x2000 + b"\r\n")
        api.routes["/chunked"] = lambda k, h, b: (
            200, {"Transfer-Encoding": "chunked"}, endless)
        api.routes["/manyheaders"] = lambda k, h, b: (
            200, {"X-Filler": ["v%d" % i for i in range(50000)]},
            b'{"v": 1}')
        import gzip
        bomb = gzip.compress(b"0" * 10000000)
        api.routes["/gzipbomb"] = lambda k, h, b: (
            200, {"Content-Encoding": "gzip"}, bomb)
        api.routes["/e429"] = lambda k, h, b: (
            429, {"Retry-After": "5"}, b'{"v": 1}')
        api.routes["/e400"] = lambda k, h, b: (
            400, {}, b'{"detail": "' + b"y" * 1000000 + b'"}')
        api.routes["/wrongtype"] = lambda k, h, b: js(
            {"v": "up", "n": None, "l": [1, 2]})
        api.routes["/tofile"] = lambda k, h, b: (
            301, {"Location": "file:///etc/passwd"}, b"")
        other = "http://localhost:%d/target" % api.port
        api.routes["/toother"] = lambda k, h, b: (
            302, {"Location": other}, b"")
        api.routes["/target"] = lambda k, h, b: js({"v": 1})
        api.routes["/loop"] = lambda k, h, b: (
            302, {"Location": "/loop?n=%d" % k}, b"")
        api.routes["/hop1"] = lambda k, h, b: (
            302, {"Location": "/hop2"}, b"")
        api.routes["/hop2"] = lambda k, h, b: (
            307, {"Location": "/good"}, b"")

        def slow(k, h, b):
            time.sleep(3)
            return js({"v": 1})
        api.routes["/slow"] = slow

        names = ["good", "notjson", "empty", "trailing", "truncated", "e500",
                 "e404", "deep", "verydeep", "huge", "wrongtype", "tofile",
                 "toother", "loop", "slow", "hops", "badjq", "numbers",
                 "badutf8", "nulkey", "bigarray", "nullbody", "clshort",
                 "chunked", "manyheaders", "gzipbomb", "e429", "e400"]
        paths = {n: "/" + n for n in names}
        paths["hops"] = "/hop1"
        sensors = []
        for n in names:
            ex = [{"jq": ".v", "path": n + ".v"}]
            if n == "wrongtype":
                ex = [{"jq": ".v, .n, .l", "path": "wt"}]
            if n == "badjq":
                ex = [{"jq": ".v |", "path": "bad"}]
            if n in ("numbers", "nulkey"):
                ex = [{"jq": ".", "path": n}]
            if n == "bigarray":
                ex = [{"jq": "length", "path": n}]
            sensors.append(sensor(n, {"path": paths[n], "extract": ex}))
        creds = [{"name": "quick", "protocol": "api",
                  "details": {"timeout": 1}}]
        base = "http://user:%s@127.0.0.1:%d/" % (SECRET_USERINFO, api.port)
        ents = [api_entity("svc", {"url": base}, "@quick", names)]
        acc = self.load(ents, creds, sensors)
        eid = acc["entities"]["svc"]
        sid = acc["sensors"]
        bot = self.start_bot("apibot", env={"API_MAX_BODY": "2500000"})
        pre = "entity.%d.api." % eid
        good = pre + "good.v"
        wait_until(lambda: len(self.series(good)) >= 4, timeout=40,
                   what="4 polls of the good sensor")
        wait_until(lambda: len(self.series(
            pre + "%d.http.ok" % sid["slow"])) >= 2, timeout=40,
            what="2 polls of the slow sensor")
        self.assertEqual(bot.stop(), 0)
        err = bot.stderr()

        self.assertTrue(all(v == 7 for _, v in self.series(good)))
        self.assertTrue(all(v == 7 for _, v in self.series(pre + "hops.v")))
        self.assertTrue(self.series(pre + "hops.v"))

        def http(n, k):
            return [v for _, v in self.series(
                pre + "%d.http.%s" % (sid[n], k))]
        expect_status = {"notjson": 200, "empty": 200, "trailing": 200,
                         "truncated": 200, "e500": 500, "e404": 404,
                         "deep": 200, "verydeep": 200, "huge": 0,
                         "tofile": 301, "toother": 302, "loop": 302,
                         "slow": 0, "clshort": 0, "chunked": 0,
                         # Decoded now (Accept-Encoding), so the bomb
                         # stops at the body cap like "huge".
                         "gzipbomb": 0, "e429": 429, "e400": 400}
        for n, st in expect_status.items():
            self.assertTrue(http(n, "ok"), n)
            self.assertTrue(all(v == 0 for v in http(n, "ok")), n)
            self.assertTrue(all(v == st for v in http(n, "status")),
                            (n, http(n, "status")))
            self.assertEqual(self.values(pre + n + "."), [], n)
            # One line for the sensor however many polls failed.
            lines = [ln for ln in err.splitlines()
                     if "sensor %d " % sid[n] in ln]
            self.assertEqual(len(lines), 1, (n, lines))
        self.assertTrue(all(v == 1 for v in http("wrongtype", "ok")))
        self.assertEqual(self.values(pre + "wt"), [])
        self.assertIn("skipped 3 values (first: text)", err)
        self.assertTrue(all(v == 1 for v in http("hops", "ok")))
        # The 307 kept the method; two hops then the answer.
        self.assertIn("HTTP 302: more than 3 redirects", err)
        loops = len(http("loop", "ok"))
        self.assertGreaterEqual(api.count("/loop"), 4 * loops)
        self.assertLessEqual(api.count("/loop"), 4 * loops + 4)
        self.assertIn("redirect to another scheme, host or port refused", err)
        self.assertEqual(api.count("/target"), 0)
        self.assertIn("JSON nested deeper than 32", err)
        self.assertIn("trailing data after the JSON value", err)
        self.assertIn("response body over 2500000 bytes", err)
        # Odd but valid JSON: what can be a number is one.
        self.assertEqual({v["p"][len(pre):]: v["v"]
                          for v in self.values(pre + "numbers.")},
                         {"numbers.b": 0, "numbers.c": 9223372036854775808,
                          "numbers.d": 2})
        self.assertIn("skipped 1 values (first: number)", err)
        for n, path, want in (("badutf8", "badutf8.v", 5),
                              ("nulkey", "nulkey.n", 1),
                              ("bigarray", "bigarray", 1000000)):
            self.assertTrue(self.series(pre + path), n)
            self.assertTrue(all(v == want for _, v in self.series(
                pre + path)), n)
            self.assertTrue(all(v == 1 for v in http(n, "ok")), n)
        self.assertTrue(all(v == 1 for v in http("nullbody", "ok")))
        self.assertEqual(self.values(pre + "nullbody"), [])
        # Too many response headers: refused by curl, whatever the status.
        self.assertTrue(http("manyheaders", "ok"))
        self.assertTrue(all(v == 0 for v in http("manyheaders", "ok")))
        self.assertEqual(self.values(pre + "manyheaders."), [])
        self.assertIn("HTTP 500", err)
        # The broken filter was reported once, at refresh, and its sensor
        # never polled.
        self.assertEqual(len(re.findall(
            r"sensor %d: skipped: extract\[0\]: jq filter does not compile"
            % sid["badjq"], err)), 1, err)
        self.assertEqual(api.count("/badjq"), 0)
        self.assertEqual(self.values(pre + "%d." % sid["badjq"]), [])
        # Log lines name the URL without its userinfo.
        self.assertIn("(http://127.0.0.1:%d/e500)" % api.port, err)

    def test_runaway_filter_is_halted_and_its_sensor_disabled(self):
        api = self.api
        api.routes["/a"] = lambda k, h, b: js({"v": 5})
        api.routes["/b"] = lambda k, h, b: js({"v": 6})
        sensors = [
            sensor("forever", {"path": "/a", "extract": [
                {"jq": "last(repeat(.))", "path": "forever"}]}),
            sensor("endless", {"path": "/b", "extract": [
                {"jq": "repeat(.v)", "path": "endless"}]}),
            sensor("fine", {"path": "/a", "extract": [
                {"jq": ".v", "path": "fine"}]}),
        ]
        creds = [{"name": "c", "protocol": "api", "details": {}}]
        ents = [api_entity("svc", {"url": api.base}, "@c",
                           ["forever", "endless", "fine"])]
        acc = self.load(ents, creds, sensors)
        eid = acc["entities"]["svc"]
        sid = acc["sensors"]
        bot = self.start_bot("apibot", env={"API_FILTER_TIMEOUT_MS": "500",
                                            "API_FILTER_THREADS": "1"})
        pre = "entity.%d.api." % eid
        bot.wait_log("sensor %d (" % sid["forever"])
        bot.wait_log("sensor %d (" % sid["endless"])
        wait_until(lambda: len(self.series(pre + "fine")) >= 4, timeout=40,
                   what="4 polls of the fine sensor")
        err = bot.stderr()
        for n in ("forever", "endless"):
            lines = [ln for ln in err.splitlines()
                     if "sensor %d " % sid[n] in ln]
            self.assertEqual(len(lines), 1, lines)
            self.assertIn("disabled until its config changes", lines[0])
        self.assertIn("still running at its deadline", err)
        self.assertIn("yields more than 10000 values", err)
        # Disabled: polled once, never again; the fine sensor shares /a.
        self.assertEqual(api.count("/b"), 1)
        self.assertEqual(len(self.series(pre + "%d.http.ok"
                                         % sid["forever"])), 1)
        self.assertTrue(all(v == 5 for _, v in self.series(pre + "fine")))
        self.assertEqual(self.values(pre + "forever"), [])
        self.assertEqual(self.values(pre + "endless"), [])

        # A changed config brings the sensor back.
        self.fake.put_record(ACCOUNT, "sensors", {
            "id": sid["endless"], "name": "endless", "protocol": "api",
            "default_interval": 1,
            "details": {"path": "/b", "extract": [
                {"jq": ".v", "path": "endless"}]}})
        bot.signal(signal.SIGHUP)
        wait_until(lambda: len(self.series(pre + "endless")) >= 2,
                   timeout=30, what="the fixed sensor's values")
        self.assertTrue(all(v == 6 for _, v in self.series(pre + "endless")))
        self.assertEqual(bot.stop(), 0)

    def test_a_rotated_secret_file_is_read_again_at_refresh(self):
        api = self.api
        want = {"token": "Bearer first-" + SECRET_PASSWORD}

        def rot(k, h, b):
            if h.headers.get("Authorization") == want["token"]:
                return js({"v": 1})
            return 401, {}, b"{}"
        api.routes["/rot"] = rot
        tokfile = os.path.join(self.tmp, "token")
        with open(tokfile, "w") as f:
            f.write(want["token"] + "\n")
        creds = [{"name": "rot", "protocol": "api", "details": {
            "headers": {"Authorization": {"file": tokfile}}}}]
        sensors = [sensor("rot", {"path": "/rot", "extract": [
            {"jq": ".v", "path": "rot"}]})]
        acc = self.load([api_entity("svc", {"url": api.base}, "@rot",
                                    ["rot"])], creds, sensors)
        eid = acc["entities"]["svc"]
        okp = "entity.%d.api.%d.http.ok" % (eid, acc["sensors"]["rot"])
        bot = self.start_bot("apibot")
        self.wait_values("entity.%d.api.rot" % eid, 1)
        # Rotate: the server now wants the new token only.
        new = "Bearer second-" + SECRET_PASSWORD
        with open(tokfile + ".new", "w") as f:
            f.write(new + "\n")
        os.rename(tokfile + ".new", tokfile)
        want["token"] = new
        wait_until(lambda: any(v == 0 for _, v in self.series(okp)),
                   timeout=20, what="a refused poll with the old token")
        bot.signal(signal.SIGHUP)
        wait_until(lambda: self.series(okp)[-1][1] == 1
                   and any(r["headers"].get("Authorization") == new
                           for r in api.requests()),
                   timeout=30, what="polls with the new token")
        self.assertEqual(bot.stop(), 0)

    def test_tls_is_verified_unless_turned_off(self):
        if shutil.which("openssl") is None:
            self.skipTest("openssl is not installed")
        pki = test_security.Pki(self.tmp)
        api = ApiServer(tls=pki.context("good"))
        api.routes["/v"] = lambda k, h, b: js({"v": 3})
        api.start()
        try:
            creds = [
                {"name": "default", "protocol": "api", "details": {}},
                {"name": "ca", "protocol": "api",
                 "details": {"ca_file": pki.ca}},
                {"name": "noverify", "protocol": "api",
                 "details": {"verify_tls": False}},
            ]
            sensors = [sensor("v", {"path": "/v", "extract": [
                {"jq": ".v", "path": "v"}]})]
            ents = [api_entity(n, {"url": api.base}, "@" + n, ["v"])
                    for n in ("default", "ca", "noverify")]
            acc = self.load(ents, creds, sensors)
            eids = acc["entities"]
            bot = self.start_bot("apibot")
            for n in ("ca", "noverify"):
                self.wait_values("entity.%d.api.v" % eids[n], 2)
            self.wait_values("entity.%d.api.%d.http.ok"
                             % (eids["default"], acc["sensors"]["v"]), 2)
            self.assertEqual(bot.stop(), 0)
        finally:
            api.stop()
        for n in ("ca", "noverify"):
            self.assertTrue(all(v == 3 for _, v in self.series(
                "entity.%d.api.v" % eids[n])))
        d = "entity.%d.api." % eids["default"]
        self.assertEqual(self.values(d + "v"), [])
        self.assertTrue(all(v == 0 for _, v in self.series(
            d + "%d.http.ok" % acc["sensors"]["v"])))
        self.assertTrue(all(v == 0 for _, v in self.series(
            d + "%d.http.status" % acc["sensors"]["v"])))
        line = [ln for ln in bot.stderr().splitlines()
                if "job %d sensor" % eids["default"] in ln]
        self.assertEqual(len(line), 1, line)
        self.assertIn("SSL certificate problem", line[0])


    def test_concurrency_is_capped_per_host(self):
        """Six entities on one host, answers taking 0.4 s, all due at the
        same instant: the server never sees more than
        API_MAX_HOST_CONNECTIONS (2) requests at once, sees that many
        (the cap is not a queue of one), and every sensor gets its
        values."""
        state = {"now": 0, "max": 0, "ports": set()}

        def slow(i):
            def route(k, h, body):
                with self.api.lock:
                    state["now"] += 1
                    state["max"] = max(state["max"], state["now"])
                    state["ports"].add(h.client_address[1])
                time.sleep(0.4)
                with self.api.lock:
                    state["now"] -= 1
                return js({"v": i})
            return route
        n = 6
        for i in range(n):
            self.api.routes["/e%d/slow" % i] = slow(i)
        creds = [{"name": "c", "protocol": "api", "details": {"timeout": 20}}]
        sensors = [sensor("slow", {"path": "slow", "extract": [
            {"jq": ".v", "path": "v"}]}, interval=2)]
        ents = [api_entity("e%d" % i, {"url": "%s/e%d/" % (self.api.base, i)},
                           "@c", ["slow"]) for i in range(n)]
        acc = self.load(ents, creds, sensors)
        bot = self.start_bot("apibot", env={
            "API_MAX_HOST_CONNECTIONS": "2", "JOBS_FIRST_RUN_SPREAD_MS": "0"})
        for i in range(n):
            self.wait_values("entity.%d.api.v" % acc["entities"]["e%d" % i],
                             2, timeout=40)
        self.assertEqual(bot.stop(), 0)
        self.assertEqual(state["max"], 2, state)
        # Kept-alive connections: no more than the cap were opened.
        self.assertLessEqual(len(state["ports"]), 2, state)
        for i in range(n):
            vals = self.series("entity.%d.api.v" % acc["entities"]["e%d" % i])
            self.assertTrue(vals and all(v == i for _, v in vals), (i, vals))
        self.assertIn("2 connections per host", bot.stderr())

    def test_http2_when_the_server_offers_it(self):
        """nghttpd (Debian nghttp2-server) speaks only HTTP/2, offered over
        TLS by ALPN: the values arriving at all show apibot spoke it, and
        the server's frame log shows apibot's requests as HTTP/2 streams."""
        nghttpd = shutil.which("nghttpd") or "/usr/sbin/nghttpd"
        if not os.path.exists(nghttpd) or shutil.which("openssl") is None:
            self.skipTest("nghttpd (nghttp2-server) or openssl missing")
        pki = test_security.Pki(self.tmp)
        docs = os.path.join(self.tmp, "docs")
        os.mkdir(docs)
        with open(os.path.join(docs, "v.json"), "w") as f:
            json.dump({"v": 5, "w": [{"name": "a", "n": 1}]}, f)
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        log = open(os.path.join(self.tmp, "nghttpd.log"), "w")
        srv = subprocess.Popen(
            [nghttpd, "-v", "-a", "127.0.0.1", "-d", docs, str(port),
             pki.key, os.path.join(self.tmp, "good.pem")],
            stdout=log, stderr=subprocess.STDOUT)
        self.addCleanup(srv.wait)
        self.addCleanup(srv.terminate)
        self.addCleanup(log.close)
        wait_until(lambda: socket.socket().connect_ex(("127.0.0.1", port))
                   == 0, timeout=10, what="nghttpd listening")
        creds = [{"name": "ca", "protocol": "api",
                  "details": {"ca_file": pki.ca}}]
        sensors = [sensor("v", {"path": "/v.json", "extract": [
            {"jq": ".v", "path": "v"},
            {"jq": ".w[] | {(.name): .n}", "path": "w"}]})]
        ents = [api_entity("h2", {"url": "https://127.0.0.1:%d" % port},
                           "@ca", ["v"])]
        acc = self.load(ents, creds, sensors)
        eid = acc["entities"]["h2"]
        bot = self.start_bot("apibot")
        self.wait_values("entity.%d.api.v" % eid, 2)
        self.assertEqual(bot.stop(), 0)
        self.assertTrue(all(v == 5 for _, v in self.series(
            "entity.%d.api.v" % eid)))
        self.assertTrue(all(v == 1 for _, v in self.series(
            "entity.%d.api.w.a" % eid)))
        ok = self.series("entity.%d.api.%d.http.ok" % (eid, acc["sensors"]["v"]))
        self.assertTrue(ok and all(v == 1 for _, v in ok), ok)
        with open(os.path.join(self.tmp, "nghttpd.log")) as f:
            frames = f.read()
        self.assertIn(":path: /v.json", frames)
        self.assertIn("user-agent: grafolean-apibot", frames)
        self.assertRegex(frames, r"recv HEADERS frame <[^>]*stream_id=3>")


if __name__ == "__main__":
    unittest.main()
