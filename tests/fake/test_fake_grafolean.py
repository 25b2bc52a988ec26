"""Tests of the fake Grafolean backend itself: it must accept what the real one accepts
and refuse what the real one refuses.

    python3 -m unittest discover -s tests/fake -v
"""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fake_grafolean import FIRST_ACCOUNT_ID, FIRST_BOT_ID, FakeGrafolean  # noqa: E402

T0 = "0b6c1a6e-6d5f-4c1e-9a43-1f0f8a3c2d10"
T1 = "7d3e2f10-2b4c-4d5e-8f60-718293a4b5c6"
T_ACC = "c0ffee00-1111-4222-8333-444455556666"
T_BAD = "deadbeef-0000-4000-8000-000000000000"
A = FIRST_ACCOUNT_ID
VALUES = "/api/accounts/%d/values/" % A


class Base(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fk = FakeGrafolean(port=0, tokens=[T0, T1], seed=1)
        cls.fk.start()

    @classmethod
    def tearDownClass(cls):
        cls.fk.stop()

    def setUp(self):
        self.fk.reset()

    # -- helpers -----------------------------------------------------------

    def req(self, method, path, body=None, token=T0, headers=None, raw=None, timeout=5,
            ctype="application/json"):
        """Returns (status, headers, body bytes); never raises for HTTP errors."""
        url = self.fk.url + path
        if token is not None:
            url += ("&" if "?" in url else "?") + "b=" + token
        data = raw
        if data is None and body is not None:
            data = json.dumps(body).encode()
        hdrs = dict(headers or {})
        if data is not None and ctype is not None:
            hdrs.setdefault("Content-Type", ctype)
        r = urllib.request.Request(url, data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(r, timeout=timeout) as resp:
                return resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def get_json(self, path, token=T0):
        code, _, body = self.req("GET", path, token=token)
        self.assertEqual(code, 200, body)
        return json.loads(body)

    def put_values(self, values, **kw):
        return self.req("PUT", VALUES, values, **kw)

    def ids(self):
        return self.fk.state()["accounts"][0]["defaults"]


class TestRoutingAndAuth(Base):
    def test_outside_api_is_403(self):
        for path in ("/", "/index.html", "/apix/status/info", "/status/info"):
            code, hdrs, body = self.req("GET", path, token=None)
            self.assertEqual(code, 403, path)
            self.assertNotIn(b"{", body)
            self.assertTrue(hdrs["Content-Type"].startswith("text/plain"))

    def test_unknown_api_route_is_404(self):
        for path in ("/api", "/api/", "/api/nothing", "/api/accounts/abc/entities",
                     "/api/accounts/%d/entities/x1" % A, "/api/accounts/%d/sensors/-1" % A,
                     "/api/accounts/%d/values//" % A):
            code, _, body = self.req("GET", path)
            self.assertEqual(code, 404, path)
            self.assertEqual(body, b"Resource not found")
        # a method the route does not take
        code, _, _ = self.req("DELETE", "/api/accounts/%d/values" % A)
        self.assertEqual(code, 404)

    def test_401_without_token(self):
        code, hdrs, body = self.req("GET", "/api/accounts/", token=None)
        self.assertEqual((code, body), (401, b"Access denied"))
        self.assertTrue(hdrs["Content-Type"].startswith("text/"))

    def test_401_with_wrong_token(self):
        for tok in (T_BAD, "", T0.upper(), T0 + "%20", "{" + T0 + "}"):
            code, _, body = self.req("GET", "/api/accounts/", token=tok)
            self.assertEqual((code, body), (401, b"Access denied"), repr(tok))

    def test_401_with_authorization_header(self):
        code, _, body = self.req("GET", "/api/accounts/",
                                 headers={"Authorization": "Bearer " + T0})
        self.assertEqual((code, body), (401, b"Access denied"))
        code, _, _ = self.req("GET", "/api/status/info", token=None,
                              headers={"Authorization": "Bearer x"})
        self.assertEqual(code, 200)

    def test_401_for_unknown_account(self):
        code, _, body = self.req("GET", "/api/accounts/12345/entities")
        self.assertEqual((code, body), (401, b"Access denied"))
        code, _, _ = self.req("PUT", "/api/accounts/12345/values",
                              [{"p": "a.b", "v": 1, "t": 1600000000}])
        self.assertEqual(code, 401)
        self.assertEqual(self.fk.values(), [])

    def test_trailing_slash_optional(self):
        for path in ("/api/accounts", "/api/accounts/", "/api/profile", "/api/profile/",
                     "/api/accounts/%d/entities" % A, "/api/accounts/%d/entities/" % A,
                     "/api/status/info", "/api/status/info/"):
            code, hdrs, _ = self.req("GET", path)
            self.assertEqual(code, 200, path)
            self.assertNotIn("Location", hdrs)
        for i, path in enumerate(("/api/accounts/%d/values" % A, VALUES)):
            code, _, body = self.req("PUT", path, [{"p": "x.y", "v": i, "t": 1600000000 + i}])
            self.assertEqual(code, 204, body)
        self.assertEqual(len(self.fk.values()), 2)

    def test_status_info(self):
        info = self.get_json("/api/status/info", token=None)
        self.assertEqual(info, {"alive": True, "db_migration_needed": False, "db_version": 30,
                                "user_exists": True, "cors_domains": [], "mqtt_ws_hostname": "",
                                "mqtt_ws_port": 0, "enable_signup": False})
        self.fk.set_status(db_migration_needed=True)
        info = self.get_json("/api/status/info", token=None)
        self.assertTrue(info["db_migration_needed"])
        self.assertIsNone(info["user_exists"])
        self.fk.set_status(db_migration_needed=False, user_exists=False)
        self.assertFalse(self.get_json("/api/status/info")["user_exists"])

    def test_profile(self):
        self.assertEqual(self.get_json("/api/profile/"), {
            "user_id": FIRST_BOT_ID, "user_type": "bot",
            "record": {"id": FIRST_BOT_ID, "name": "Systemwide bot 0", "protocol": None,
                       "tied_to_account": None}})
        self.assertEqual(self.get_json("/api/profile/", token=T1)["user_id"], FIRST_BOT_ID + 1)

    def test_accounts(self):
        self.assertEqual(self.get_json("/api/accounts/"),
                         {"list": [{"id": A, "name": "Test account"}]})
        self.assertEqual(self.get_json("/api/accounts/%d" % A), {"id": A, "name": "Test account"})

    def test_head_and_options(self):
        code, hdrs, body = self.req("HEAD", "/api/accounts/")
        self.assertEqual(code, 200)
        self.assertEqual(body, b"")
        self.assertGreater(int(hdrs["Content-Length"]), 0)
        code, hdrs, _ = self.req("OPTIONS", "/api/accounts/%d/values" % A, token=None)
        self.assertEqual(code, 200)
        self.assertIn("PUT", hdrs["Allow"])


class TestRecords(Base):
    def test_default_records(self):
        creds = self.get_json("/api/accounts/%d/credentials/" % A)["list"]
        sensors = self.get_json("/api/accounts/%d/sensors/" % A)["list"]
        by_proto = {}
        for c in creds:
            self.assertEqual(set(c), {"id", "name", "protocol", "details"})
            self.assertTrue(0 < c["id"] < 2 ** 31)
            by_proto[c["protocol"]] = c
        self.assertEqual(by_proto["ping"]["details"], {"n_packets": "3", "sleep_packets": "1.0",
                                                       "timeout": "1.0", "retry": "0"})
        self.assertEqual(by_proto["snmp"]["details"], {"version": "snmpv2c",
                                                       "snmpv12_community": "public"})
        self.assertEqual(by_proto["netflow"]["details"], {})
        self.assertEqual(len(sensors), 5)
        outputs = {}
        for s in sensors:
            self.assertEqual(set(s), {"id", "name", "protocol", "default_interval", "details"})
            if s["protocol"] == "snmp":
                outputs[s["details"]["output_path"]] = s
        self.assertEqual(outputs["if.in-octets.{$index}.{$1}"]["details"]["oids"], [
            {"oid": "1.3.6.1.2.1.2.2.1.2", "fetch_method": "walk"},
            {"oid": "1.3.6.1.2.1.2.2.1.10", "fetch_method": "walk"}])
        self.assertEqual(outputs["if.out-octets.{$index}.{$1}"]["details"]["oids"][1]["oid"],
                         "1.3.6.1.2.1.2.2.1.16")
        lm = outputs["lmsensors.temp.{$index}.{$1}"]
        self.assertEqual(lm["details"]["expression"], "$2 / 1000.0")
        self.assertEqual([o["oid"] for o in lm["details"]["oids"]],
                         ["1.3.6.1.4.1.2021.13.16.2.1.2", "1.3.6.1.4.1.2021.13.16.2.1.3"])
        ping = [s for s in sensors if s["protocol"] == "ping"][0]
        self.assertEqual((ping["default_interval"], ping["details"]), (60, {}))
        nf = [s for s in sensors if s["protocol"] == "netflow"][0]
        self.assertEqual((nf["default_interval"], nf["details"]), (None, {}))
        self.assertEqual(self.get_json("/api/accounts/%d/entities/" % A), {"list": []})

    def test_entity_list_with_protocols(self):
        out = self.fk.load_fixtures({"accounts": [{
            "id": A, "name": "Test account",
            "entities": [{"id": 53709761, "name": "router1", "details": {"ipv4": "192.0.2.10"},
                          "protocols": {"snmp": {"credential": "@snmp_credential",
                                                 "bot": FIRST_BOT_ID,
                                                 "sensors": [{"sensor": "@snmp_traffic_in", "interval": None},
                                                             {"sensor": "@Traffic OUT [bps]", "interval": 120}]},
                                        "ping": {"credential": "@ping_credential", "bot": None,
                                                 "sensors": [{"sensor": "@ping_sensor", "interval": None}]}}},
                         {"name": "eth0", "entity_type": "interface", "parent": "@router1",
                          "details": {"snmp_index": "1"}}]}]})
        d = out["accounts"][0]["defaults"]
        lst = self.get_json("/api/accounts/%d/entities/" % A)["list"]
        self.assertEqual(len(lst), 2)
        e = [x for x in lst if x["id"] == 53709761][0]
        self.assertEqual(e, {
            "id": 53709761, "name": "router1", "entity_type": "device", "parent": None,
            "details": {"ipv4": "192.0.2.10"},
            "protocols": {
                "snmp": {"credential": d["snmp_credential"], "bot": FIRST_BOT_ID,
                         "sensors": [{"sensor": d["snmp_traffic_in"], "interval": None},
                                     {"sensor": d["snmp_traffic_out"], "interval": 120}]},
                "ping": {"credential": d["ping_credential"], "bot": None,
                         "sensors": [{"sensor": d["ping_sensor"], "interval": None}]}}})
        child = [x for x in lst if x["id"] != 53709761][0]
        self.assertEqual((child["parent"], child["protocols"]), (53709761, {}))
        self.assertEqual(self.get_json("/api/accounts/%d/entities/53709761" % A), e)
        self.assertEqual(out["accounts"][0]["entities"]["eth0"], child["id"])

    def test_credential_sensor_fetch_and_404(self):
        d = self.ids()
        c = self.get_json("/api/accounts/%d/credentials/%d" % (A, d["snmp_credential"]))
        self.assertEqual(c["protocol"], "snmp")
        s = self.get_json("/api/accounts/%d/sensors/%d/" % (A, d["ping_sensor"]))
        self.assertEqual(s["default_interval"], 60)
        for kind, word in (("credentials", "credential"), ("sensors", "sensor"),
                           ("entities", "entity")):
            code, hdrs, body = self.req("GET", "/api/accounts/%d/%s/1" % (A, kind))
            self.assertEqual(code, 404)
            self.assertEqual(json.loads(body), {"detail": "No such %s" % word})
        # ids of another account are not found here
        other = self.fk.add_account({"name": "Other"})
        code, _, _ = self.req("GET", "/api/accounts/%d/sensors/%d" % (A, other["defaults"]["ping_sensor"]))
        self.assertEqual(code, 404)

    def test_entity_crud_and_validation(self):
        d = self.ids()
        ent = {"name": "10.0.0.1 (NetFlow exporter)", "entity_type": "device",
               "details": {"ipv4": "10.0.0.1"}}
        code, _, body = self.req("POST", "/api/accounts/%d/entities/" % A, ent)
        self.assertEqual(code, 201, body)
        eid = json.loads(body)["id"]
        self.assertTrue(0 < eid < 2 ** 31)
        got = self.get_json("/api/accounts/%d/entities/%d" % (A, eid))
        self.assertEqual((got["parent"], got["protocols"]), (None, {}))
        child = {"name": "eth0", "entity_type": "interface", "parent": eid,
                 "details": {"snmp_index": "2", "speed_bps": "1000000000"}}
        code, _, body = self.req("POST", "/api/accounts/%d/entities" % A, child)
        self.assertEqual(code, 201, body)
        cid = json.loads(body)["id"]
        child["details"]["speed_bps"] = "100000000"
        code, _, _ = self.req("PUT", "/api/accounts/%d/entities/%d" % (A, cid), child)
        self.assertEqual(code, 204)
        self.assertEqual(self.get_json("/api/accounts/%d/entities/%d" % (A, cid))["details"]["speed_bps"],
                         "100000000")
        code, _, _ = self.req("PUT", "/api/accounts/%d/entities/999" % A, child)
        self.assertEqual(code, 404)
        bad = [
            {"name": "x", "entity_type": "device"},                         # no details
            {"name": 1, "entity_type": "device", "details": {}},
            {"name": "x", "entity_type": "device", "details": {}, "extra": 1},
            {"name": "x", "entity_type": "device", "details": {}, "parent": 4242},
            {"name": "x", "entity_type": "device", "details": {},
             "protocols": {"snmp": {"credential": d["snmp_credential"], "bot": None,
                                    "sensors": []}}},
            {"name": "x", "entity_type": "device", "details": {},
             "protocols": {"snmp": {"credential": 1, "bot": FIRST_BOT_ID, "sensors": []}}},
            {"name": "x", "entity_type": "device", "details": {},
             "protocols": {"snmp": {"credential": d["snmp_credential"], "bot": FIRST_BOT_ID,
                                    "sensors": [{"sensor": d["ping_sensor"], "interval": "x"}]}}},
            [],
        ]
        for b in bad:
            code, _, body = self.req("POST", "/api/accounts/%d/entities" % A, b)
            self.assertEqual(code, 400, b)
            self.assertTrue(body.startswith(b"Input validation failed: "), body)
        good = {"name": "x", "entity_type": "device", "details": {},
                "protocols": {"snmp": {"credential": str(d["snmp_credential"]), "bot": FIRST_BOT_ID,
                                       "sensors": [{"sensor": d["snmp_traffic_in"]}]}}}
        code, _, body = self.req("POST", "/api/accounts/%d/entities" % A, good)
        self.assertEqual(code, 201, body)
        e = self.get_json("/api/accounts/%d/entities/%d" % (A, json.loads(body)["id"]))
        self.assertEqual(e["protocols"]["snmp"], {"credential": d["snmp_credential"], "bot": FIRST_BOT_ID,
                                                  "sensors": [{"sensor": d["snmp_traffic_in"], "interval": None}]})
        # deleting the parent takes the child with it
        code, _, _ = self.req("DELETE", "/api/accounts/%d/entities/%d" % (A, eid))
        self.assertEqual(code, 204)
        for i in (eid, cid):
            code, _, _ = self.req("GET", "/api/accounts/%d/entities/%d" % (A, i))
            self.assertEqual(code, 404)
        code, _, _ = self.req("DELETE", "/api/accounts/%d/entities/%d" % (A, eid))
        self.assertEqual(code, 404)

    def test_unstorable_records_500_nothing_stored(self):
        # Past the schema, PostgreSQL refuses a NUL, a lone surrogate and
        # NaN/Infinity: the real backend answers 500 and stores nothing.
        ents = "/api/accounts/%d/entities/" % A
        bad_bodies = [
            b'{"name": "eth0\\u0000", "entity_type": "interface", "details": {}}',
            b'{"name": "x", "entity_type": "device", "details": {"ipv4": "\\ud800"}}',
            b'{"name": "x", "entity_type": "device", "details": {"a": [1, NaN]}}',
            b'{"name": "x", "entity_type": "device", "details": {"k\\u0000": 1}}',
        ]
        before = len(self.fk.state()["accounts"][0]["entities"])
        for b in bad_bodies:
            code, _, body = self.req("POST", ents, raw=b)
            self.assertEqual(code, 500, (b, body))
        self.assertEqual(len(self.fk.state()["accounts"][0]["entities"]), before)
        code, _, body = self.req("POST", "/api/accounts/%d/credentials/" % A,
                                 raw=b'{"name": "c", "protocol": "snmp", "details": '
                                     b'{"snmpv12_community": "pub\\u0000lic"}}')
        self.assertEqual(code, 500, body)
        # a PUT too: the record keeps its old name
        code, _, body = self.req("POST", ents, {"name": "ok", "entity_type": "device",
                                                "details": {}})
        self.assertEqual(code, 201, body)
        eid = json.loads(body)["id"]
        code, _, body = self.req("PUT", ents + str(eid),
                                 raw=b'{"name": "o\\u0000k", "entity_type": "device", '
                                     b'"details": {}}')
        self.assertEqual(code, 500, body)
        self.assertEqual(self.get_json(ents + str(eid))["name"], "ok")
        # non-ASCII text is fine
        code, _, body = self.req("POST", ents, {"name": "Port \u00e9t\u00e9 \U0001f600",
                                                "entity_type": "device", "details": {}})
        self.assertEqual(code, 201, body)

    def test_validation_message_mentions_content_type(self):
        code, _, body = self.req("POST", "/api/accounts/%d/entities" % A, {"name": 1},
                                 ctype="application/json; charset=utf-8")
        self.assertEqual(code, 400)
        self.assertIn(b"maybe Content-Type header was not set", body)

    def test_account_bot(self):
        other = self.fk.add_account({"name": "Other"})
        self.fk.add_bot(T_ACC, id=1234567, account=A)
        self.assertEqual(self.get_json("/api/accounts/", token=T_ACC),
                         {"list": [{"id": A, "name": "Test account"}]})
        prof = self.get_json("/api/profile", token=T_ACC)
        self.assertEqual(prof["record"]["tied_to_account"], A)
        self.get_json("/api/accounts/%d/entities" % A, token=T_ACC)
        self.get_json("/api/accounts/%d/sensors/%d" % (A, self.ids()["ping_sensor"]), token=T_ACC)
        code, _, body = self.req("POST", "/api/accounts/%d/entities" % A,
                                 {"name": "x", "entity_type": "device", "details": {}}, token=T_ACC)
        self.assertEqual((code, body), (403, b"Access denied"))
        code, _, _ = self.req("DELETE", "/api/accounts/%d/sensors/%d" % (A, self.ids()["ping_sensor"]),
                              token=T_ACC)
        self.assertEqual(code, 403)
        code, _, _ = self.put_values([{"p": "a.b", "v": 1, "t": 1600000000}], token=T_ACC)
        self.assertEqual(code, 204)
        code, _, _ = self.req("POST", VALUES, [{"p": "a.c", "v": 1}], token=T_ACC)
        self.assertEqual(code, 204)
        code, _, body = self.req("GET", "/api/accounts/%d/entities" % other["id"], token=T_ACC)
        self.assertEqual((code, body), (401, b"Access denied"))
        code, _, _ = self.req("PUT", "/api/accounts/%d/values" % other["id"],
                              [{"p": "a.b", "v": 1, "t": 1600000000}], token=T_ACC)
        self.assertEqual(code, 401)
        self.fk.set_options(permission_denied_status=401)
        code, _, _ = self.req("POST", "/api/accounts/%d/entities" % A,
                              {"name": "x", "entity_type": "device", "details": {}}, token=T_ACC)
        self.assertEqual(code, 401)
        # the systemwide bot sees both accounts, ordered by name
        self.assertEqual([a["name"] for a in self.get_json("/api/accounts")["list"]],
                         ["Other", "Test account"])


class TestValues(Base):
    def test_put_upsert(self):
        v = [{"p": "entity.1.ping.success", "v": 1, "t": 1600000000.5}]
        self.assertEqual(self.put_values(v)[0], 204)
        v[0]["v"] = 0.5
        v[0]["t"] = "1600000000.500000"       # same instant, string form
        self.assertEqual(self.put_values(v)[0], 204)
        self.assertEqual(self.fk.values(), [{"account": A, "p": "entity.1.ping.success",
                                             "v": 0.5, "t": 1600000000.5, "count": 2}])

    def test_put_rounds_t_to_microsecond(self):
        self.assertEqual(self.put_values([{"p": "a", "v": 1, "t": 1600000000.1234564}])[0], 204)
        self.assertEqual(self.put_values([{"p": "a", "v": 2, "t": 1600000000.1234561}])[0], 204)
        vals = self.fk.values()
        self.assertEqual(len(vals), 1)
        self.assertEqual((vals[0]["t"], vals[0]["count"]), (1600000000.123456, 2))

    def test_put_valid_paths(self):
        good = ["a", "entity.1.snmp.if.in-octets.2.eth0", "netflow.1min.ingress.entity.5.topip.10%2e0%2e0%2e1",
                "x.fe80%3a%3a1", "A_b-C", "a.b.c.d.e.f"]
        self.assertEqual(self.put_values([{"p": p, "v": 1, "t": 1600000000} for p in good])[0], 204)
        self.assertEqual(len(self.fk.values()), len(good))

    def test_bad_path_400_nothing_stored(self):
        for bad in ("a..b", ".a", "a.", "a b", "a/b", "a%2Eb", "a%20b", "", "ü", 12, None,
                    "a.b\n", "a:b"):
            code, _, body = self.put_values([{"p": "ok.path", "v": 1, "t": 1600000000},
                                             {"p": bad, "v": 2, "t": 1600000001}])
            self.assertEqual(code, 400, repr(bad))
            self.assertTrue(body.startswith(b"Input validation failed: "), body)
        self.assertEqual(self.fk.values(), [])

    def test_system_prefix_400(self):
        for p in ("system.x", "system.stats.inserted"):
            code, _, body = self.put_values([{"p": p, "v": 1, "t": 1600000000}])
            self.assertEqual(code, 400)
        code, _, _ = self.put_values([{"p": "systemx.a", "v": 1, "t": 1600000000},
                                      {"p": "a.system.b", "v": 1, "t": 1600000000}])
        self.assertEqual(code, 204)

    def test_bad_t_400(self):
        for t in ("1600000000.1234567", "0160000000", "1", "1e9", " 1600000000", "1600000000.",
                  "16000000000", "-5", "abc", 0, -1.5, True, None, [1], "1600000000\n"):
            code, _, body = self.put_values([{"p": "ok", "v": 1, "t": 1700000000},
                                             {"p": "a", "v": 1, "t": t}])
            self.assertEqual(code, 400, repr(t))
            self.assertTrue(body.startswith(b"Input validation failed: "), body)
        self.assertEqual(self.fk.values(), [])
        for t in ("10", "1600000000", "9999999999.999999", 1600000000, 1.5):
            self.assertEqual(self.put_values([{"p": "a", "v": 1, "t": t}])[0], 204, t)

    def test_bad_v_400(self):
        for v in ("1.5", True, None, [1], {"x": 1}):
            code, _, body = self.put_values([{"p": "a", "v": v, "t": 1600000000}])
            self.assertEqual(code, 400, repr(v))
        code, _, _ = self.put_values([{"p": "a", "v": 1, "t": 1600000000}],
                                     raw=b'[{"p": "a", "v": NaN, "t": 1600000000}]')
        self.assertEqual(code, 400)
        self.assertEqual(self.fk.values(), [])
        self.assertEqual(self.put_values([{"p": "a", "v": -1e300, "t": 1600000000},
                                          {"p": "b", "v": 0, "t": 1600000000}])[0], 204)

    def test_duplicate_in_one_request_500_nothing_stored(self):
        code, _, body = self.put_values([{"p": "a", "v": 1, "t": 1600000000},
                                         {"p": "b", "v": 1, "t": 1600000000},
                                         {"p": "a", "v": 2, "t": "1600000000.000000"}])
        self.assertEqual(code, 500)
        self.assertEqual(self.fk.values(), [])
        code, _, _ = self.req("POST", VALUES, [{"p": "a", "v": 1}, {"p": "a", "v": 2}])
        self.assertEqual(code, 500)
        self.assertEqual(self.fk.values(), [])

    def test_missing_p_or_v_500(self):
        for item in ({"p": "a", "t": 1600000000}, {"v": 1, "t": 1600000000}):
            code, _, _ = self.put_values([item])
            self.assertEqual(code, 500, item)
            code, _, _ = self.req("POST", VALUES, [{k: v for k, v in item.items() if k != "t"}])
            self.assertEqual(code, 500, item)
        code, _, _ = self.put_values([{"p": "a", "v": 1}])    # PUT without t
        self.assertEqual(code, 500)
        self.assertEqual(self.fk.values(), [])

    def test_post_stamps_server_time(self):
        before = time.time()
        code, _, _ = self.req("POST", VALUES, [{"p": "a", "v": 1}, {"p": "b", "v": 2}])
        after = time.time()
        self.assertEqual(code, 204)
        vals = self.fk.values()
        self.assertEqual([x["p"] for x in vals], ["a", "b"])
        self.assertEqual(vals[0]["t"], vals[1]["t"])
        self.assertTrue(before - 1e-6 <= vals[0]["t"] <= after + 1e-6)

    def test_post_with_t_400(self):
        code, _, body = self.req("POST", VALUES, [{"p": "a", "v": 1, "t": 1600000000}])
        self.assertEqual((code, body), (400, b"Parameter 't' shouldn't be specified with POST"))
        code, _, _ = self.req("POST", VALUES, [{"p": "a", "v": 1}, {"p": "b", "v": 1, "t": "x"}])
        self.assertEqual(code, 400)
        code, _, body = self.req("POST", VALUES, [])
        self.assertEqual((code, body), (400, b"Missing data"))
        self.assertEqual(self.fk.values(), [])

    def test_body_not_a_list_400(self):
        for raw in (b'{"p": "a", "v": 1, "t": 1600000000}', b'"x"', b"5"):
            self.assertEqual(self.req("PUT", VALUES, raw=raw)[0], 400, raw)
            self.assertEqual(self.req("POST", VALUES, raw=raw)[0], 400, raw)
        self.assertEqual(self.req("PUT", VALUES, raw=b"[{")[0], 400)
        self.assertEqual(self.put_values([])[0], 204)

    def test_content_type_must_be_json(self):
        # like Flask's get_json(): without a JSON Content-Type the body is not read
        raw = json.dumps([{"p": "a", "v": 1}]).encode()
        code, _, body = self.req("POST", VALUES, raw=raw, ctype="application/x-www-form-urlencoded")
        self.assertEqual((code, body), (400, b"Missing data"))
        raw = json.dumps([{"p": "a", "v": 1, "t": 1600000000}]).encode()
        code, _, _ = self.req("PUT", VALUES, raw=raw, ctype=None)
        self.assertEqual(code, 500)
        self.assertEqual(self.fk.values(), [])
        code, _, _ = self.req("PUT", VALUES, raw=raw, ctype="application/json; charset=utf-8")
        self.assertEqual(code, 204)

    def test_over_1mib_413(self):
        item = {"p": "a.b.c", "v": 1, "t": 1600000000}
        body = json.dumps([item]).encode()
        exact = body[:-1] + b" " * (1048576 - len(body)) + b"]"
        self.assertEqual(len(exact), 1048576)
        self.assertEqual(self.req("PUT", VALUES, raw=exact)[0], 204)
        self.fk.clear_values()
        code, hdrs, resp = self.req("PUT", VALUES, raw=exact[:-1] + b" ]")
        self.assertEqual(code, 413)
        self.assertIn(b"413 Request Entity Too Large", resp)
        self.assertEqual(self.fk.values(), [])
        log = self.fk.requests()
        self.assertEqual((log[-1]["status"], log[-1]["body_size"]), (413, 1048577))

    def test_expect_100_continue_and_keepalive(self):
        body = json.dumps([{"p": "a", "v": 1, "t": 1600000000}]).encode()
        s = socket.create_connection(("127.0.0.1", self.fk.port), timeout=5)
        try:
            f = s.makefile("rb")
            head = ("PUT %s?b=%s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    "Content-Length: %d\r\nExpect: 100-continue\r\n\r\n" % (VALUES, T0, len(body)))
            s.sendall(head.encode())
            self.assertEqual(f.readline(), b"HTTP/1.1 100 Continue\r\n")
            self.assertEqual(f.readline(), b"\r\n")
            s.sendall(body)
            self.assertEqual(f.readline(), b"HTTP/1.1 204 No Content\r\n")
            while f.readline() not in (b"\r\n", b""):
                pass
            # same connection, chunked body this time
            chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body.replace(b"a", b"c"))
            s.sendall(("PUT %s?b=%s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                       "Transfer-Encoding: chunked\r\n\r\n" % (VALUES, T0)).encode() + chunked)
            self.assertEqual(f.readline(), b"HTTP/1.1 204 No Content\r\n")
            while f.readline() not in (b"\r\n", b""):
                pass
            # too large with Expect: 413 without waiting for the body, then close
            s.sendall(("PUT %s?b=%s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                       "Content-Length: 2000000\r\nExpect: 100-continue\r\n\r\n" % (VALUES, T0)).encode())
            self.assertEqual(f.readline(), b"HTTP/1.1 413 Request Entity Too Large\r\n")
            hdrs = []
            while True:
                line = f.readline()
                if line in (b"\r\n", b""):
                    break
                hdrs.append(line.lower())
            self.assertIn(b"connection: close\r\n", hdrs)
        finally:
            s.close()
        self.assertEqual([v["p"] for v in self.fk.values()], ["a", "c"])

    def test_keepalive_many_requests_one_connection(self):
        c = http.client.HTTPConnection("127.0.0.1", self.fk.port, timeout=5)
        try:
            for i in range(20):
                body = json.dumps([{"p": "k", "v": i, "t": 1600000000 + i}])
                c.request("PUT", VALUES + "?b=" + T0, body, {"Content-Type": "application/json"})
                r = c.getresponse()
                self.assertEqual(r.status, 204)
                self.assertEqual(r.read(), b"")
                c.request("GET", "/api/accounts/%d/entities?b=%s" % (A, T0))
                r = c.getresponse()
                self.assertEqual(r.status, 200)
                self.assertEqual(json.loads(r.read()), {"list": []})
                c.request("GET", "/api/nope?b=" + T0)
                r = c.getresponse()
                self.assertEqual((r.status, r.read()), (404, b"Resource not found"))
        finally:
            c.close()
        self.assertEqual(len(self.fk.values()), 20)

    def test_values_for_two_accounts(self):
        other = self.fk.add_account({"id": 42, "name": "Other", "defaults": False})
        self.assertEqual(self.req("PUT", "/api/accounts/42/values",
                                  [{"p": "a", "v": 1, "t": 1600000000}])[0], 204)
        self.assertEqual(self.put_values([{"p": "a", "v": 2, "t": 1600000000}])[0], 204)
        self.assertEqual([v["account"] for v in self.fk.values(account=42)], [42])
        self.assertEqual(len(self.fk.values()), 2)
        self.assertEqual(other["defaults"], {})
        self.assertEqual(self.get_json("/api/accounts/42/sensors"), {"list": []})


class TestRequestLog(Base):
    def test_log_has_no_token(self):
        self.put_values([{"p": "a", "v": 1, "t": 1600000000}, {"p": "b", "v": 1, "t": 1600000000}])
        self.req("GET", "/api/status/info", token=None)
        log = self.fk.requests()
        self.assertEqual(len(log), 2)
        self.assertEqual((log[0]["method"], log[0]["path"], log[0]["status"], log[0]["n_values"],
                          log[0]["has_token"]), ("PUT", VALUES, 204, 2, True))
        self.assertGreater(log[0]["body_size"], 0)
        self.assertEqual((log[1]["path"], log[1]["has_token"]), ("/api/status/info", False))
        self.assertNotIn(T0, json.dumps(log))
        self.fk.clear_requests()
        self.assertEqual(self.fk.requests(), [])


class TestFaults(Base):
    V = [{"p": "f.a", "v": 1, "t": 1600000000}]

    def test_status_fault_with_count_and_headers(self):
        fid = self.fk.add_fault({"match": {"method": "PUT", "path_re": r"^accounts/\d+/values"},
                                 "mode": "status", "code": 429, "headers": {"Retry-After": "30"},
                                 "count": 1})
        code, hdrs, _ = self.put_values(self.V)
        self.assertEqual((code, hdrs["Retry-After"]), (429, "30"))
        self.assertEqual(self.fk.values(), [])
        self.assertEqual(self.put_values(self.V)[0], 204)
        self.assertEqual(self.fk.faults()[0]["remaining"], 0)
        self.assertEqual(self.fk.requests()[0]["fault"], fid)
        self.fk.add_fault(mode="status", code=503, path_re="values")
        for _ in range(3):
            code, _, body = self.put_values(self.V)
            self.assertEqual(code, 503)
            self.assertEqual(json.loads(body), {"detail": "Service Unavailable"})
        self.assertEqual(self.req("GET", "/api/accounts")[0], 200)   # not matched
        self.fk.clear_faults()
        self.assertEqual(self.put_values(self.V)[0], 204)

    def test_status_fault_custom_body_and_every(self):
        self.fk.add_fault(mode="status", code=200, path_re="entities$",
                          body='{"list": [{"id": 1}, {"id": 1}]', count=1)
        code, _, body = self.req("GET", "/api/accounts/%d/entities" % A)
        self.assertEqual((code, body), (200, b'{"list": [{"id": 1}, {"id": 1}]'))
        self.fk.add_fault(mode="status", code=502, path_re="values", every=2)
        codes = [self.put_values([{"p": "e", "v": i, "t": 1600000000 + i}])[0] for i in range(4)]
        self.assertEqual(codes, [204, 502, 204, 502])

    def test_down(self):
        self.fk.add_fault(mode="down", path_re="values", count=1)
        with self.assertRaises((ConnectionError, http.client.HTTPException, urllib.error.URLError)):
            self.put_values(self.V)
        self.assertEqual(self.fk.values(), [])
        self.assertEqual(self.fk.requests()[0]["outcome"], "dropped")
        self.assertEqual(self.put_values(self.V)[0], 204)

    def test_hang_does_not_block_others(self):
        fid = self.fk.add_fault(mode="hang", path_re="values")
        t0 = time.monotonic()
        with self.assertRaises((socket.timeout, TimeoutError, urllib.error.URLError)):
            self.put_values(self.V, timeout=0.5)
        self.assertLess(time.monotonic() - t0, 3)
        # other requests still work while one hangs
        self.assertEqual(self.req("GET", "/api/accounts/")[0], 200)
        self.fk.clear_faults(fid)
        self.assertEqual(self.put_values(self.V)[0], 204)
        self.assertTrue(self.fk.wait_until(
            lambda: any(e["outcome"] == "hung" for e in self.fk.requests()), timeout=3))
        self.assertEqual(self.fk.values()[0]["count"], 1)

    def test_slow(self):
        self.fk.add_fault(mode="slow", path_re="accounts$", interval=0.1, count=1)
        s = socket.create_connection(("127.0.0.1", self.fk.port), timeout=5)
        try:
            s.sendall(("GET /api/accounts?b=%s HTTP/1.1\r\nHost: x\r\n\r\n" % T0).encode())
            t0 = time.monotonic()
            got = b""
            while len(got) < 5:
                got += s.recv(1)
            self.assertGreaterEqual(time.monotonic() - t0, 0.35)
            self.assertEqual(got, b"HTTP/")
        finally:
            s.close()
        self.fk.clear_faults()

    def test_slow_completes_and_processes(self):
        self.fk.add_fault(mode="slow", path_re="values", interval=0.001, count=1)
        self.assertEqual(self.put_values(self.V)[0], 204)
        self.assertEqual(len(self.fk.values()), 1)

    def test_garbage(self):
        self.fk.add_fault(mode="garbage", path_re="entities", count=1)
        code, _, body = self.req("GET", "/api/accounts/%d/entities" % A)
        self.assertEqual((code, body), (200, b"<html>oops</html>"))
        self.fk.add_fault(mode="garbage", path_re="entities", body="[", repeat=1000, count=1)
        code, hdrs, body = self.req("GET", "/api/accounts/%d/entities" % A)
        self.assertEqual((code, body, hdrs["Content-Length"]), (200, b"[" * 1000, "1000"))
        self.fk.add_fault(mode="garbage", path_re="values", count=1)
        self.assertEqual(self.put_values(self.V)[0], 200)
        self.assertEqual(self.fk.values(), [])

    def test_commit_then_drop(self):
        self.fk.add_fault(mode="commit_then_drop", method="PUT", path_re="values", count=1)
        with self.assertRaises((ConnectionError, http.client.HTTPException, urllib.error.URLError)):
            self.put_values(self.V)
        self.assertEqual(len(self.fk.values()), 1)
        self.assertEqual(self.put_values(self.V)[0], 204)      # the retry: upsert
        self.assertEqual(self.fk.values()[0]["count"], 2)
        log = self.fk.requests()
        self.assertEqual((log[0]["status"], log[0]["outcome"]), (204, "dropped-after-commit"))

    def test_delay(self):
        self.fk.add_fault(mode="delay", seconds=0.3, count=1)
        t0 = time.monotonic()
        self.assertEqual(self.put_values(self.V)[0], 204)
        self.assertGreaterEqual(time.monotonic() - t0, 0.3)
        self.assertEqual(len(self.fk.values()), 1)

    def test_truncate(self):
        self.fk.add_fault(mode="truncate", path_re="credentials", bytes=10, count=1)
        with self.assertRaises((http.client.IncompleteRead, ConnectionError, urllib.error.URLError)):
            self.req("GET", "/api/accounts/%d/credentials" % A)

    def test_bad_fault_spec(self):
        with self.assertRaises(ValueError):
            self.fk.add_fault(mode="explode")
        with self.assertRaises(ValueError):
            self.fk.add_fault(mode="status", path_re="(")


class TestControlHTTP(Base):
    def control(self, method, path, body=None):
        code, _, resp = self.req(method, "/control/" + path, body, token=None)
        return code, json.loads(resp)

    def test_reset(self):
        self.put_values([{"p": "a", "v": 1, "t": 1600000000}])
        self.fk.add_fault(mode="status", code=500, path_re="nothing-matches")
        self.fk.add_account({"name": "Other"})
        self.assertEqual(self.control("POST", "reset")[0], 200)
        self.assertEqual(self.fk.values(), [])
        self.assertEqual(self.fk.faults(), [])
        self.assertEqual(self.fk.requests(), [])
        self.assertEqual(self.get_json("/api/accounts"), {"list": [{"id": A, "name": "Test account"}]})

    def test_fixtures_values_requests_faults_over_http(self):
        code, out = self.control("POST", "fixtures", {
            "accounts": [{"id": 7, "name": "Seven", "defaults": True,
                          "sensors": [{"name": "api sensor", "protocol": "api",
                                       "default_interval": 30, "details": {"url": "http://x/"}}],
                          "entities": [{"name": "dev", "details": {"ipv4": "127.0.0.1"},
                                        "protocols": {"api": {"credential": "@ping_credential",
                                                              "bot": 99, "sensors": [{"sensor": "@api sensor",
                                                                                      "interval": "x"}]}}}]}],
            "bots": [{"token": T_ACC, "id": 99, "account": 7}],
            "status": {"user_exists": False}})
        self.assertEqual(code, 200, out)
        acc = out["accounts"][0]
        self.assertEqual(acc["id"], 7)
        self.assertIn("ping_sensor", acc["defaults"])
        self.assertIn("Default ICMP ping sensor", acc["sensors"])
        self.assertEqual(out["bots"], [{"id": 99, "account": 7}])
        # odd fixture data is served as given
        ent = self.get_json("/api/accounts/7/entities/%d" % acc["entities"]["dev"], token=T_ACC)
        self.assertEqual(ent["protocols"]["api"]["sensors"][0],
                         {"sensor": acc["sensors"]["api sensor"], "interval": "x"})
        self.assertFalse(self.get_json("/api/status/info", token=None)["user_exists"])
        self.assertEqual(self.req("GET", "/api/accounts/%d" % A)[0], 401)   # gone
        self.assertEqual(self.req("PUT", "/api/accounts/7/values", [{"p": "q", "v": 3, "t": 1600000000}],
                                  token=T_ACC)[0], 204)
        code, vals = self.control("GET", "values?account=7")
        self.assertEqual(vals, [{"account": 7, "p": "q", "v": 3, "t": 1600000000.0, "count": 1}])
        self.assertEqual(self.control("GET", "values?account=8")[1], [])
        code, log = self.control("GET", "requests")
        self.assertEqual([e["path"] for e in log][-1], "/api/accounts/7/values")
        code, f = self.control("POST", "fault", {"match": {"method": "GET", "path_re": "^accounts$"},
                                                 "mode": "status", "code": 500, "count": 2})
        self.assertEqual(code, 200)
        self.assertEqual(self.req("GET", "/api/accounts")[0], 500)
        self.assertEqual(self.control("GET", "faults")[1][0]["remaining"], 1)
        self.assertEqual(self.control("POST", "faults/clear", {"id": f["id"]})[1], {"cleared": 1})
        self.assertEqual(self.req("GET", "/api/accounts", token=T_ACC)[0], 200)
        self.assertEqual(self.control("POST", "status", {"db_migration_needed": True})[1]["user_exists"], None)
        self.assertEqual(self.control("POST", "requests/clear")[0], 200)
        self.assertEqual(self.control("GET", "requests")[1], [])
        code, st = self.control("GET", "state")
        self.assertEqual(st["accounts"][0]["id"], 7)
        self.assertNotIn(T_ACC, json.dumps(st))
        self.assertEqual(self.control("POST", "fault", {"mode": "nope"})[0], 400)
        self.assertEqual(self.control("GET", "nope")[0], 404)

    def test_bad_fixtures_leave_state_alone(self):
        self.put_values([{"p": "keep", "v": 1, "t": 1600000000}])
        code, out = self.control("POST", "fixtures", {"accounts": [{"name": "X", "entities": [
            {"name": "e", "protocols": {"snmp": {"credential": "@no such credential",
                                                 "bot": 1, "sensors": []}}}]}]})
        self.assertEqual(code, 400)
        self.assertIn("no such credential", out["error"])
        self.assertEqual([v["p"] for v in self.fk.values()], ["keep"])
        self.assertEqual(self.get_json("/api/accounts")["list"][0]["id"], A)

    def test_record_control(self):
        code, out = self.control("POST", "accounts/%d/entities" % A,
                                 {"name": "r", "details": {"ipv4": "192.0.2.1"}})
        self.assertEqual(code, 200)
        self.get_json("/api/accounts/%d/entities/%d" % (A, out["id"]))
        self.assertEqual(self.control("DELETE", "accounts/%d/entities/%d" % (A, out["id"]))[0], 200)
        self.assertEqual(self.req("GET", "/api/accounts/%d/entities/%d" % (A, out["id"]))[0], 404)
        code, out = self.control("POST", "bots", {"token": T_ACC, "account": A})
        self.assertEqual(code, 200)
        self.assertEqual(self.get_json("/api/profile", token=T_ACC)["user_id"], out["id"])


class TestCommandLine(unittest.TestCase):
    def test_cli_port_file_and_sigterm(self):
        here = os.path.dirname(os.path.abspath(__file__))
        with tempfile.TemporaryDirectory() as d:
            port_file = os.path.join(d, "port")
            fx = os.path.join(d, "fx.json")
            with open(fx, "w") as f:
                json.dump({"accounts": [{"id": 5, "name": "Five"}]}, f)
            p = subprocess.Popen([sys.executable, os.path.join(here, "fake_grafolean.py"),
                                  "--port", "0", "--port-file", port_file, "--token", T0,
                                  "--fixtures", fx],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            try:
                line = p.stdout.readline().decode()
                self.assertTrue(line.startswith("listening on 127.0.0.1:"), line)
                with open(port_file) as f:
                    port = int(f.read())
                self.assertEqual(line.strip(), "listening on 127.0.0.1:%d" % port)
                self.assertEqual([x for x in os.listdir(d) if ".tmp." in x], [])
                with urllib.request.urlopen("http://127.0.0.1:%d/api/accounts?b=%s" % (port, T0),
                                            timeout=5) as r:
                    self.assertEqual(json.loads(r.read()), {"list": [{"id": 5, "name": "Five"}]})
                p.send_signal(signal.SIGTERM)
                self.assertEqual(p.wait(10), 0)
            finally:
                if p.poll() is None:
                    p.kill()
                    p.wait()
                p.stdout.close()
                p.stderr.close()


if __name__ == "__main__":
    unittest.main()
