"""apibot against what real HTTP JSON APIs send and what operators write
in their configs: compressed answers (gzip, deflate; some servers
compress whatever the request offered), chunked answers, a UTF-8 byte
order mark before the JSON, JSON sent as text/plain, 204 No Content,
a same-origin redirect with a relative Location, 429/503 with
Retry-After (that request held, the host's others not), a sensor path whose
query holds a URL, an entity URL carrying an API key in its query,
basic auth with a colon and non-ASCII in the password, big numbers and
negative zero, keys with dots and non-ASCII, and an identifiable
User-Agent on every request."""

import base64
import json
import os
import tempfile
import zlib

from lib import BotTestCase, wait_until
import test_apibot as ta

PASSWORD = "p:\u00e4ss w\u00f6rd"


def gzip_bytes(data):
    c = zlib.compressobj(6, zlib.DEFLATED, 31)
    return c.compress(data) + c.flush()


class ApibotRealApisTest(BotTestCase):

    def setUp(self):
        super().setUp()
        self.api = ta.ApiServer()
        self.api.start()
        self.tmp = tempfile.mkdtemp(prefix="apibot-real-")

    def tearDown(self):
        try:
            super().tearDown()
            for b in self.bots:
                self.assertNotIn(PASSWORD, b.stderr() + b.stdout())
        finally:
            self.api.stop()

    def load(self, entities, credentials, sensors):
        acc = {"id": ta.ACCOUNT, "name": "Test account",
               "entities": entities, "credentials": credentials,
               "sensors": sensors}
        return self.fake.load_fixtures({"accounts": [acc]})["accounts"][0]

    def series(self, path):
        return [(v["t"], v["v"]) for v in self.values(path)
                if v["p"] == path]

    def test_answers_and_configs_of_real_apis(self):
        r = self.api.routes

        # Compressed whatever Accept-Encoding said (misconfigured CDNs,
        # pre-compressed files).
        r["/gz"] = lambda k, h, b: (200, {
            "Content-Type": "application/json",
            "Content-Encoding": "gzip"}, gzip_bytes(b'{"v": 11}'))
        r["/deflate"] = lambda k, h, b: (200, {
            "Content-Type": "application/json",
            "Content-Encoding": "deflate"}, zlib.compress(b'{"v": 12}'))
        r["/bom"] = lambda k, h, b: (200, {
            "Content-Type": "text/plain; charset=utf-8"},
            b'\xef\xbb\xbf{"v": 13}\r\n')

        def chunked(k, h, b):
            def write(w):
                for part in (b'{"v":', b' 14, "pad": "', b'x' * 5000,
                             b'"}'):
                    w.write(b"%x\r\n%s\r\n" % (len(part), part))
                w.write(b"0\r\n\r\n")
            return 200, {"Content-Type": "application/json; charset=UTF-8",
                         "Transfer-Encoding": "chunked"}, write
        r["/chunked"] = chunked
        r["/base/old"] = lambda k, h, b: (
            301, {"Location": "new?from=old"}, b"")
        r["/base/new"] = lambda k, h, b: ta.js(
            {"v": 15 if h.path == "/base/new?from=old" else -1})

        def probe(k, h, b):
            return ta.js({"v": 16 if h.path ==
                          "/base/probe?target=http://x.example/y&key=k1"
                          else -1})
        r["/base/probe"] = probe
        r["/empty"] = lambda k, h, b: (204, {}, b"")

        def basic(k, h, b):
            want = "Basic " + base64.b64encode(
                ("carol:" + PASSWORD).encode()).decode()
            if h.headers.get("Authorization") == want:
                return ta.js({"v": 17})
            return 401, {"WWW-Authenticate": 'Basic realm="x"'}, b"{}"
        r["/basic"] = basic
        r["/numbers"] = lambda k, h, b: (200, {
            "Content-Type": "application/json"},
            b'{"big": 9223372036854775808, "huge": 1e308, "nz": -0.0,'
            b' "keys": {"a.b": 1, "\xc3\xa9t\xc3\xa9": 2}}')

        pwfile = os.path.join(self.tmp, "pw")
        with open(pwfile, "w", encoding="utf-8") as f:
            f.write(PASSWORD + "\n")
        creds = [
            {"name": "plain", "protocol": "api", "details": {}},
            {"name": "basic", "protocol": "api", "details": {
                "basic_auth": {"username": "carol",
                               "password": {"file": pwfile}}}},
        ]

        def one(name, path, out):
            return ta.sensor(name, {"path": path, "extract": [
                {"jq": ".v", "path": out}]})
        sensors = [
            one("gz", "/gz", "gz"),
            one("deflate", "deflate", "deflate"),
            one("bom", "/bom", "bom"),
            one("chunked", "/chunked", "chunked"),
            one("redirect", "/old", "redirect"),
            one("probe", "probe?target=http://x.example/y", "probe"),
            one("empty", "/empty", "empty"),
            one("basic", "/basic", "basic"),
            ta.sensor("numbers", {"path": "/numbers", "extract": [
                {"jq": ".big", "path": "big"},
                {"jq": ".huge", "path": "huge"},
                {"jq": ".nz", "path": "nz"},
                {"jq": ".keys", "path": "keys"}]}),
        ]
        ents = [
            ta.api_entity("root", {"url": self.api.base}, "@plain",
                          ["gz", "deflate", "bom", "chunked", "empty",
                           "numbers"]),
            ta.api_entity("based", {"url": self.api.base + "/base/?key=k1"},
                          "@plain", ["redirect", "probe"]),
            ta.api_entity("auth", {"url": self.api.base + "/"}, "@basic",
                          ["basic"]),
        ]
        acc = self.load(ents, creds, sensors)
        e = acc["entities"]
        sid = acc["sensors"]
        bot = self.start_bot("apibot")
        want = {
            "entity.%d.api.gz" % e["root"]: 11,
            "entity.%d.api.deflate" % e["root"]: 12,
            "entity.%d.api.bom" % e["root"]: 13,
            "entity.%d.api.chunked" % e["root"]: 14,
            "entity.%d.api.redirect" % e["based"]: 15,
            "entity.%d.api.probe" % e["based"]: 16,
            "entity.%d.api.basic" % e["auth"]: 17,
            "entity.%d.api.big" % e["root"]: 9223372036854775808.0,
            "entity.%d.api.huge" % e["root"]: 1e308,
            "entity.%d.api.nz" % e["root"]: 0,
            "entity.%d.api.keys.a-b" % e["root"]: 1,
            "entity.%d.api.keys.-t-" % e["root"]: 2,
        }
        empty_status = "entity.%d.api.%d.http.status" % (e["root"],
                                                         sid["empty"])
        wait_until(lambda: all(len(self.series(p)) >= 2 for p in want)
                   and len(self.series(empty_status)) >= 2, timeout=40,
                   what=lambda: "values: %r\n%s" % (
                       sorted({v["p"] for v in self.values("entity.")}),
                       bot.stderr()[-3000:]))
        self.assertEqual(bot.stop(), 0)
        for p, v in want.items():
            got = [x for _, x in self.series(p)]
            self.assertTrue(all(x == v for x in got), (p, got))
        # Every answer that carried JSON counted as ok; 204 did not.
        for name in ("gz", "deflate", "bom", "chunked", "numbers"):
            ok = self.series("entity.%d.api.%d.http.ok" % (e["root"],
                                                           sid[name]))
            self.assertTrue(ok and all(v == 1 for _, v in ok), (name, ok))
        self.assertTrue(all(v == 204 for _, v in self.series(empty_status)))
        self.assertTrue(all(v == 0 for _, v in self.series(
            "entity.%d.api.%d.http.ok" % (e["root"], sid["empty"]))))
        # Decoded size: the JSON, not the gzip bytes.
        self.assertTrue(all(v == 9 for _, v in self.series(
            "entity.%d.api.%d.http.size" % (e["root"], sid["gz"]))))
        reqs = self.api.requests()
        self.assertTrue(reqs)
        for q in reqs:
            self.assertTrue(q["headers"].get("User-Agent", "")
                            .startswith("grafolean-apibot"), q["headers"])
            self.assertIn("gzip", q["headers"].get("Accept-Encoding", ""))

    def test_retry_after_holds_the_request_not_the_host(self):
        import time
        banned = ta.ApiServer()
        banned.start()
        soon = ta.ApiServer()
        soon.start()
        try:
            banned.routes["/limited"] = lambda k, h, b: (
                429, {"Retry-After": "3600"}, b'{"message": "slow down"}')
            times = []

            def later(k, h, b):
                times.append(time.monotonic())
                if k == 1:
                    return 503, {"Retry-After": "2"}, b"{}"
                return ta.js({"v": 5})
            soon.routes["/later"] = later
            self.api.routes["/fine"] = lambda k, h, b: ta.js({"v": 1})
            banned.routes["/other"] = lambda k, h, b: ta.js({"v": 2})
            sensors = [
                ta.sensor("limited", {"path": "/limited", "extract": [
                    {"jq": ".v", "path": "limited"}]}),
                ta.sensor("limited2", {"path": "/limited?x=2", "extract": [
                    {"jq": ".v", "path": "limited2"}]}),
                ta.sensor("other", {"path": "/other", "extract": [
                    {"jq": ".v", "path": "other"}]}),
                ta.sensor("later", {"path": "/later", "extract": [
                    {"jq": ".v", "path": "later"}]}),
                ta.sensor("fine", {"path": "/fine", "extract": [
                    {"jq": ".v", "path": "fine"}]}),
            ]
            creds = [{"name": "plain", "protocol": "api", "details": {}}]
            ents = [
                ta.api_entity("banned", {"url": banned.base}, "@plain",
                              ["limited", "limited2", "other"]),
                ta.api_entity("soon", {"url": soon.base}, "@plain",
                              ["later"]),
                ta.api_entity("fine", {"url": self.api.base}, "@plain",
                              ["fine"]),
            ]
            acc = self.load(ents, creds, sensors)
            e = acc["entities"]
            bot = self.start_bot("apibot")
            fine = "entity.%d.api.fine" % e["fine"]
            wait_until(lambda: len(self.series(fine)) >= 5
                       and self.series("entity.%d.api.later" % e["soon"]),
                       timeout=40, what="fine and later values")
            self.assertEqual(bot.stop(), 0)
            # One 429 for each of the two requests (URLs differ), then
            # nothing for the hour asked; the host's other request goes on.
            self.assertEqual(banned.count("/limited"), 2)
            self.assertGreaterEqual(len(self.series(
                "entity.%d.api.other" % e["banned"])), 4)
            # The 503's 2 s were waited before the next request.
            self.assertGreaterEqual(len(times), 2)
            self.assertGreaterEqual(times[1] - times[0], 1.9)
            self.assertIn("(Retry-After)", bot.stderr())
            self.assertNotIn("slow down", bot.stderr())
        finally:
            banned.stop()
            soon.stop()

    def test_accept_and_content_type_sent_once(self):
        def echo(k, h, b):
            return ta.js({
                "ct": len(h.headers.get_all("Content-Type") or []),
                "ctjson": int(h.headers.get("Content-Type") ==
                              "application/json; charset=utf-8"),
                "acc": len(h.headers.get_all("Accept") or []),
                "accjson": int(h.headers.get("Accept") == "application/json"),
                "accgh": int(h.headers.get("Accept") ==
                             "application/vnd.github+json")})
        self.api.routes["/echo"] = echo
        creds = [
            {"name": "ct", "protocol": "api", "details": {"headers": {
                "content-type": "application/json; charset=utf-8"}}},
            {"name": "gh", "protocol": "api", "details": {"headers": {
                "Accept": "application/vnd.github+json"}}},
        ]
        keys = ("ct", "ctjson", "acc", "accjson", "accgh")
        ex = [{"jq": "." + k, "path": k} for k in keys]
        sensors = [
            ta.sensor("post", {"path": "/echo", "method": "POST",
                               "body": {"q": 1}, "extract": ex}),
            ta.sensor("get", {"path": "/echo", "extract": ex}),
        ]
        ents = [
            ta.api_entity("p", {"url": self.api.base}, "@ct", ["post"]),
            ta.api_entity("g", {"url": self.api.base}, "@gh", ["get"]),
        ]
        acc = self.load(ents, creds, sensors)
        e = acc["entities"]
        bot = self.start_bot("apibot")
        want = {"p": {"ct": 1, "ctjson": 1, "acc": 1, "accjson": 1,
                      "accgh": 0},
                "g": {"ct": 0, "ctjson": 0, "acc": 1, "accjson": 0,
                      "accgh": 1}}
        wait_until(lambda: all(self.series("entity.%d.api.%s" % (e[n], k))
                               for n in want for k in keys), timeout=40,
                   what="echo values")
        self.assertEqual(bot.stop(), 0)
        for n, kv in want.items():
            for k, v in kv.items():
                got = [x for _, x in self.series(
                    "entity.%d.api.%s" % (e[n], k))]
                self.assertTrue(got and all(x == v for x in got),
                                (n, k, got))

    def test_ipv6_literal_and_tls_by_host_name_with_sni(self):
        import shutil
        import ssl
        if shutil.which("openssl") is None:
            self.skipTest("openssl is not installed")
        try:
            v6 = ta.ApiServer(host="::1")
        except OSError:
            self.skipTest("no ::1 here")
        v6.routes["/v1/s"] = lambda k, h, b: ta.js({"v": 6})
        v6.start()
        self.addCleanup(v6.stop)
        pki = ta.test_security.Pki(self.tmp)
        j = lambda n: os.path.join(self.tmp, n)  # noqa: E731
        with open(j("lh.ext"), "w") as f:
            f.write("subjectAltName=DNS:localhost\n")
        ta.test_security.openssl(
            "x509", "-req", "-in", j("csr.pem"), "-CA", pki.ca, "-CAkey",
            j("ca.key"), "-set_serial", "77", "-days", "2", "-extfile",
            j("lh.ext"), "-out", j("lh.pem"))
        snis = []
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(j("lh.pem"), pki.key)
        ctx.sni_callback = lambda sock, name, c: snis.append(name)
        tls = ta.ApiServer(tls=ctx)
        tls.routes["/t"] = lambda k, h, b: ta.js({"v": 7})
        tls.start()
        self.addCleanup(tls.stop)
        creds = [{"name": "plain", "protocol": "api", "details": {}},
                 {"name": "ca", "protocol": "api",
                  "details": {"ca_file": pki.ca}}]
        sensors = [
            ta.sensor("s", {"path": "s", "extract": [
                {"jq": ".v", "path": "v6"}]}),
            ta.sensor("t", {"path": "/t", "extract": [
                {"jq": ".v", "path": "tls"}]}),
        ]
        ents = [
            ta.api_entity("six", {"url": v6.base + "/v1/"}, "@plain",
                          ["s"]),
            ta.api_entity("named", {"url": "https://localhost:%d" %
                                    tls.port}, "@ca", ["t"]),
        ]
        acc = self.load(ents, creds, sensors)
        e = acc["entities"]
        bot = self.start_bot("apibot")
        p6 = "entity.%d.api.v6" % e["six"]
        pt = "entity.%d.api.tls" % e["named"]
        wait_until(lambda: len(self.series(p6)) >= 2
                   and len(self.series(pt)) >= 2, timeout=40,
                   what=lambda: bot.stderr()[-2000:])
        self.assertEqual(bot.stop(), 0)
        self.assertTrue(all(v == 6 for _, v in self.series(p6)))
        self.assertTrue(all(v == 7 for _, v in self.series(pt)))
        self.assertIn("localhost", snis)
        self.assertTrue(all(n == "localhost" for n in snis), snis)
