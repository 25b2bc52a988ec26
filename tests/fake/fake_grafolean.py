#!/usr/bin/env python3
"""A strict fake of the Grafolean backend HTTP API (v0.5.x), for integration tests of bots.

Python 3 standard library only.  Two ways to use it:

  * command line:
        python3 tests/fake/fake_grafolean.py --port 0 --port-file /tmp/p \
            --token 5d5d3a8a-0000-4000-8000-000000000000
    prints "listening on 127.0.0.1:PORT" once it accepts connections, and stops
    cleanly (exit code 0) on SIGTERM or SIGINT;

  * in-process:
        from fake_grafolean import FakeGrafolean
        fk = FakeGrafolean(port=0, tokens=[TOKEN]); fk.start()
        ... fk.api_url, fk.values(), fk.add_fault(...), fk.requests() ...
        fk.stop()

Everything under /api behaves like the real backend does for what bots use (see
/work/shared/grafolean-protocol.md).  Everything under /control is the test-only
control API (no auth, JSON in and out); the FakeGrafolean methods of the same
names do the same in-process.  Any other path answers 403.  Entities,
credentials and sensors written through /api pass the backend's JSON schema
(400 "Input validation failed: ...") and then what PostgreSQL can store: a
NUL character, a lone UTF-16 surrogate or NaN/Infinity anywhere in them is
a 500, as psycopg2 refuses them.

Control API:
    GET  /control/health                    {"ok": true}
    POST /control/reset                     back to the initial state
    POST /control/fixtures   {fixtures}     replace the state; answers the ids made
    GET  /control/state                     accounts (with records), bots, status
    GET  /control/values[?account=A&prefix=P]
                                            [{"account","p","v","t","count"}] by (p, t)
    POST /control/values/clear
    GET  /control/requests                  the request log (never holds tokens)
    POST /control/requests/clear
    POST /control/fault      {fault}        answers {"id": N}
    GET  /control/faults
    POST /control/faults/clear [{"id": N}]  all faults, or the one given
    POST /control/status     {overrides}    status/info fields (db_migration_needed...)
    POST /control/options    {options}      {"permission_denied_status": 403}
    POST /control/bots       {"token", "id"?, "account"?, "name"?, "protocol"?}
    POST /control/accounts   {account}      add one account (fixtures format)
    POST   /control/accounts/A/(entities|credentials|sensors)     {record}, raw upsert
    DELETE /control/accounts/A/(entities|credentials|sensors)/ID

Fixtures:
    {"accounts": [{"id": 1785295342, "name": "Test account", "defaults": true,
                   "credentials": [{"id"?, "name", "protocol", "details"}],
                   "sensors": [{"id"?, "name", "protocol", "default_interval", "details"}],
                   "entities": [{"id"?, "name", "entity_type", "parent", "details",
                                 "protocols": {"snmp": {"credential": "@snmp_credential",
                                     "bot": 2039155163,
                                     "sensors": [{"sensor": "@snmp_traffic_in", "interval": null}]}}}]}],
     "bots": [{"token": UUID, "id": INT, "account": null | ACCOUNT_ID, "name"?, "protocol"?}],
     "status": {"db_migration_needed": false, "user_exists": true},
     "options": {"permission_denied_status": 403}}
    A string "@KEY" in a credential/sensor reference resolves inside the account to a
    default record key (ping_credential, ping_sensor, snmp_credential, snmp_traffic_in,
    snmp_traffic_out, snmp_lmsensors_temperature, netflow_credential, netflow_sensor) or
    to a record name; "@NAME" as an entity's parent resolves to an entity name.
    Fixture records are stored as given (no validation), so tests can feed bots odd data.
    Without "accounts" the state gets the one default account; tokens given on the
    command line (or to the constructor) are always kept as systemwide bots with ids
    2039155163 + index.

Fault:
    {"match": {"method": "PUT" | ["PUT", "POST"] | null,
               "path_re": "^accounts/\\d+/values"},   # searched in the path after /api/,
                                                     # without query and trailing slash
     "mode": "status" | "down" | "hang" | "slow" | "garbage" | "commit_then_drop"
             | "delay" | "truncate",
     "count": N | null,       # matching requests to affect; null = until cleared
     "skip": N, "every": N,   # let the first N matches through / affect every N-th match
     ...mode params}
    status:   code (500), body (str or JSON value; default {"detail": ...} for 5xx;
              "{url}" in a str body echoes the request target, token and all),
              headers ({"Retry-After": "30"}), content_type, process (false)
    down:     close the connection without answering (the request is not processed)
    hang:     never answer until the fault is cleared or the server stops, then close
    slow:     process normally, send the answer 1 byte every `interval` (1.0) seconds;
              optional code/body/content_type replace the answer
    garbage:  answer `code` (200) with `body` ("<html>oops</html>") repeated `repeat`
              (1) times, content_type (text/html); process (false)
    commit_then_drop: process normally (values get stored), close without answering
    delay:    sleep `seconds` (1.0), then process and answer normally
    truncate: process normally, send the headers with the full Content-Length but only
              `bytes` (half) of the body, then close
    Faults are matched in the order they were added; the first one that matches and
    still has a count left applies (its count is used up even if the request then gets
    413).  down and hang act before the body is read; for the other modes the 1 MiB
    check (413, like nginx in front of the backend) comes first.  /control requests are
    never faulted nor logged.
"""

import argparse
import copy
import email.utils
import json
import math
import os
import random
import re
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

FIRST_ACCOUNT_ID = 1785295342
FIRST_ACCOUNT_NAME = "Test account"
FIRST_BOT_ID = 2039155163
MAX_BODY = 1048576                      # nginx client_max_body_size 1m
CONTROL_MAX_BODY = 256 * 1024 * 1024
DRAIN_MAX = 64 * 1024 * 1024
KEEPALIVE_TIMEOUT = 75                  # nginx keepalive_timeout default

PATH_RE = re.compile(r"([a-zA-Z0-9_-]|%2e|%3a)+(\.([a-zA-Z0-9_-]|%2e|%3a)+)*")
TS_RE = re.compile(r"[1-9][0-9]{1,9}(\.[0-9]{1,6})?")

DEFAULT_STATUS = {
    "alive": True,
    "db_migration_needed": False,
    "db_version": 30,
    "user_exists": True,
    "cors_domains": [],
    "mqtt_ws_hostname": "",
    "mqtt_ws_port": 0,
    "enable_signup": False,
}
DEFAULT_OPTIONS = {
    # what an account bot gets when it lacks a permission on its own account
    "permission_denied_status": 403,
}

# The records every new account gets, (key, kind, record) in creation order; the
# names are those of the real backend.
DEFAULT_RECORDS = [
    ("ping_credential", "credentials", {
        "name": "Default ICMP ping credential (3 packets)", "protocol": "ping",
        "details": {"n_packets": "3", "sleep_packets": "1.0", "timeout": "1.0", "retry": "0"}}),
    ("ping_sensor", "sensors", {
        "name": "Default ICMP ping sensor", "protocol": "ping", "default_interval": 60,
        "details": {}}),
    ("snmp_credential", "credentials", {
        "name": "Default SNMP credential (SNMPv2c, 'public')", "protocol": "snmp",
        "details": {"version": "snmpv2c", "snmpv12_community": "public"}}),
    ("snmp_traffic_in", "sensors", {
        "name": "Traffic IN [bps]", "protocol": "snmp", "default_interval": 60,
        "details": {"oids": [{"oid": "1.3.6.1.2.1.2.2.1.2", "fetch_method": "walk"},
                             {"oid": "1.3.6.1.2.1.2.2.1.10", "fetch_method": "walk"}],
                    "expression": "$2", "output_path": "if.in-octets.{$index}.{$1}"}}),
    ("snmp_traffic_out", "sensors", {
        "name": "Traffic OUT [bps]", "protocol": "snmp", "default_interval": 60,
        "details": {"oids": [{"oid": "1.3.6.1.2.1.2.2.1.2", "fetch_method": "walk"},
                             {"oid": "1.3.6.1.2.1.2.2.1.16", "fetch_method": "walk"}],
                    "expression": "$2", "output_path": "if.out-octets.{$index}.{$1}"}}),
    ("snmp_lmsensors_temperature", "sensors", {
        "name": "Linux lmsensors - temperature [\u00b0C]", "protocol": "snmp",
        "default_interval": 60,
        "details": {"oids": [{"oid": "1.3.6.1.4.1.2021.13.16.2.1.2", "fetch_method": "walk"},
                             {"oid": "1.3.6.1.4.1.2021.13.16.2.1.3", "fetch_method": "walk"}],
                    "expression": "$2 / 1000.0", "output_path": "lmsensors.temp.{$index}.{$1}"}}),
    ("netflow_credential", "credentials", {
        "name": "Default NetFlow credential", "protocol": "netflow", "details": {}}),
    ("netflow_sensor", "sensors", {
        "name": "Default NetFlow sensor", "protocol": "netflow", "default_interval": None,
        "details": {}}),
]

KINDS = ("entities", "credentials", "sensors")
SINGULAR = {"entities": "entity", "credentials": "credential", "sensors": "sensor"}
FAULT_MODES = ("status", "down", "hang", "slow", "garbage", "commit_then_drop", "delay",
               "truncate")

NGINX_413 = (b"<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n"
             b"<body>\r\n<center><h1>413 Request Entity Too Large</h1></center>\r\n"
             b"<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
NGINX_400 = (b"<html>\r\n<head><title>400 Bad Request</title></head>\r\n"
             b"<body>\r\n<center><h1>400 Bad Request</h1></center>\r\n"
             b"<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")

TEXT = "text/html; charset=utf-8"       # what Flask sends for plain-text answers
JSON_CT = "application/json"

REASONS = BaseHTTPRequestHandler.responses


# ---------------------------------------------------------------------------
# small helpers


class Resp(object):
    """One HTTP answer: status code, body bytes, content type, extra headers."""
    __slots__ = ("code", "body", "ctype", "headers")

    def __init__(self, code, body=b"", ctype=None, headers=None):
        self.code = code
        self.body = body
        self.ctype = ctype
        self.headers = dict(headers or {})


def _text(code, text):
    return Resp(code, text.encode("utf-8"), TEXT)


def _json(code, obj):
    return Resp(code, json.dumps(obj).encode("utf-8"), JSON_CT)


def _empty(code=204):
    return Resp(code)


def _access_denied(code=401):
    return _text(code, "Access denied")


class _Answer(Exception):
    """Raised inside a handler to answer right away."""

    def __init__(self, resp):
        Exception.__init__(self, resp.code)
        self.resp = resp


class _Invalid(Exception):
    """An input validation error: 400 'Input validation failed: ...'."""


class FixtureError(ValueError):
    pass


def _is_number(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _is_int_like(x):
    return _is_number(x) and math.isfinite(x) and float(x) == int(x)


def _type_names(x):
    if x is None:
        return "None"
    return repr(x)


def _parse_timestamp(t):
    """Returns t rounded to the microsecond, or None when the backend refuses it."""
    if isinstance(t, bool):
        return None
    if isinstance(t, (int, float)):
        if not math.isfinite(t) or t <= 0:
            return None
        return round(float(t), 6)
    if isinstance(t, str) and TS_RE.fullmatch(t):
        return round(float(t), 6)
    return None


def _unstorable(x):
    """Why PostgreSQL (through psycopg2) would refuse to store x, a JSON
    value, or None when it can be stored."""
    if isinstance(x, str):
        if "\x00" in x:
            return "A string literal cannot contain NUL (0x00) characters."
        try:
            x.encode("utf-8")
        except UnicodeEncodeError:
            return "'utf-8' codec can't encode a surrogate"
        return None
    if isinstance(x, float) and not math.isfinite(x):
        return "invalid input syntax for type json: %r" % x
    if isinstance(x, dict):
        for k, v in x.items():
            why = _unstorable(k) or _unstorable(v)
            if why is not None:
                return why
    if isinstance(x, list):
        for v in x:
            why = _unstorable(v)
            if why is not None:
                return why
    return None


def valid_path(p):
    """True if the backend accepts p as a value path."""
    return isinstance(p, str) and bool(PATH_RE.fullmatch(p)) and not p.startswith("system.")


def _valid_value(v):
    return _is_number(v) and math.isfinite(v)


# ---------------------------------------------------------------------------
# the fake itself


class FakeGrafolean(object):
    """The fake backend.  All state lives here; the HTTP handler only parses and
    writes bytes.  Every public method is thread safe."""

    def __init__(self, host="127.0.0.1", port=0, tokens=None, fixtures=None,
                 verbose=False, seed=None, max_body=MAX_BODY, tls=None):
        self.host = host
        self.tls = tls  # an ssl.SSLContext: serve https
        self._want_port = port
        self.port = None
        self.verbose = verbose
        self.max_body = max_body
        self._tokens = list(tokens or [])
        self._initial_fixtures = copy.deepcopy(fixtures) if fixtures else {}
        self._rng = random.Random(seed)
        self._lock = threading.RLock()
        self._stop_ev = threading.Event()
        self._conns = set()
        self._conns_lock = threading.Lock()
        self._httpd = None
        self._thread = None
        self._seq = 0
        self._fault_seq = 0
        # state, filled by load_fixtures():
        self._accounts = {}
        self._bots = {}
        self._status = {}
        self._options = {}
        self._values = {}
        self._log = []
        self._faults = []
        self._used_ids = set()
        self.load_fixtures(self._initial_fixtures)

    # -- life cycle --------------------------------------------------------

    def start(self):
        self._stop_ev.clear()
        self._httpd = _Server((self.host, self._want_port), _Handler)
        self._httpd.fake = self
        if self.tls is not None:
            # the handshake happens on the first read, in the handler's
            # thread, so a client that never finishes it blocks nobody
            self._httpd.socket = self.tls.wrap_socket(
                self._httpd.socket, server_side=True, do_handshake_on_connect=False)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.1},
                                        name="fake-grafolean", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stop_ev.set()
        with self._lock:
            for f in self._faults:
                f["_released"].set()
        if self._httpd is not None:
            self._httpd.shutdown()
            with self._conns_lock:
                conns = list(self._conns)
            for c in conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def url(self):
        """http://HOST:PORT, or https:// when serving TLS (no /api)."""
        return "%s://%s:%d" % ("https" if self.tls else "http", self.host, self.port)

    @property
    def api_url(self):
        """What a bot takes as BACKEND_URL: http://HOST:PORT/api."""
        return self.url + "/api"

    def bot_id(self, index=0):
        """The bot id of the index-th constructor/command line token."""
        return FIRST_BOT_ID + index

    def wait_until(self, predicate, timeout=10.0, interval=0.02):
        """Polls predicate() until true; returns its last result."""
        deadline = time.monotonic() + timeout
        while True:
            r = predicate()
            if r or time.monotonic() >= deadline:
                return r
            time.sleep(interval)

    def _track(self, conn, add):
        with self._conns_lock:
            if add:
                self._conns.add(conn)
            else:
                self._conns.discard(conn)

    # -- ids ---------------------------------------------------------------

    def _new_id(self):
        while True:
            i = self._rng.randint(1, 2 ** 31 - 1)
            if i not in self._used_ids:
                self._used_ids.add(i)
                return i

    def _claim_id(self, i, what):
        if not _is_int_like(i) or int(i) <= 0 or int(i) >= 2 ** 32:
            raise FixtureError("%s id must be a positive 32-bit integer: %r" % (what, i))
        i = int(i)
        self._used_ids.add(i)
        return i

    # -- fixtures / state --------------------------------------------------

    def reset(self):
        """Back to the initial state (constructor/--fixtures fixtures)."""
        return self.load_fixtures(self._initial_fixtures)

    def load_fixtures(self, fx):
        """Replaces the whole state (values, request log and faults are cleared too)
        and answers the ids of what it made."""
        fx = fx or {}
        if not isinstance(fx, dict):
            raise FixtureError("fixtures must be an object")
        with self._lock:
            saved = (self._faults, self._values, self._log, self._accounts, self._bots,
                     self._used_ids, self._status, self._options)
            try:
                out = self._load_fixtures_locked(fx)
            except Exception:
                (self._faults, self._values, self._log, self._accounts, self._bots,
                 self._used_ids, self._status, self._options) = saved
                raise
            for f in saved[0]:
                f["_released"].set()    # hung requests of the old faults end now
            return out

    def _load_fixtures_locked(self, fx):
        self._faults = []
        self._values = {}
        self._log = []
        self._accounts = {}
        self._bots = {}
        self._used_ids = set()
        self._status = dict(DEFAULT_STATUS)
        self._status.update(fx.get("status") or {})
        self._options = dict(DEFAULT_OPTIONS)
        self._options.update(fx.get("options") or {})
        for i, tok in enumerate(self._tokens):
            self._add_bot_locked(tok, FIRST_BOT_ID + i, None, None, None, i)
        bots_out = []
        for b in fx.get("bots") or []:
            if not isinstance(b, dict) or "token" not in b:
                raise FixtureError("each bot needs a token")
            bot = self._add_bot_locked(b["token"], b.get("id"), b.get("account"),
                                       b.get("name"), b.get("protocol"), None)
            bots_out.append({"id": bot["id"], "account": bot["account"]})
        if "accounts" in fx:
            specs = fx["accounts"] or []
        else:
            specs = [{"id": FIRST_ACCOUNT_ID, "name": FIRST_ACCOUNT_NAME}]
        accounts_out = [self._add_account_locked(s) for s in specs]
        return {"accounts": accounts_out, "bots": bots_out}

    def add_account(self, spec):
        """Adds one account (fixtures format); answers its ids."""
        with self._lock:
            return self._add_account_locked(spec)

    def _add_account_locked(self, spec):
        if not isinstance(spec, dict):
            raise FixtureError("an account must be an object")
        aid = spec.get("id")
        aid = self._new_id() if aid is None else self._claim_id(aid, "account")
        if aid in self._accounts:
            raise FixtureError("duplicate account id %d" % aid)
        acc = {"id": aid, "name": spec.get("name", "Account %d" % aid),
               "entities": {}, "credentials": {}, "sensors": {}, "defaults": {}}
        self._accounts[aid] = acc
        if spec.get("defaults", True):
            for key, kind, rec in DEFAULT_RECORDS:
                rid = self._new_id()
                r = {"id": rid}
                r.update(copy.deepcopy(rec))
                acc[kind][rid] = r
                acc["defaults"][key] = rid
        entity_ids = []
        for kind in ("credentials", "sensors", "entities"):
            recs = spec.get(kind) or []
            if not isinstance(recs, list):
                raise FixtureError("%s must be a list" % kind)
            for rec in recs:
                rid = self._put_record_locked(acc, kind, rec)
                if kind == "entities":
                    entity_ids.append(rid)
        return self._account_ids(acc, entity_ids)

    @staticmethod
    def _account_ids(acc, entity_ids=None):
        return {
            "id": acc["id"],
            "name": acc["name"],
            "defaults": dict(acc["defaults"]),
            "credentials": {r.get("name"): i for i, r in acc["credentials"].items()},
            "sensors": {r.get("name"): i for i, r in acc["sensors"].items()},
            "entities": {r.get("name"): i for i, r in acc["entities"].items()},
            "entity_ids": list(entity_ids if entity_ids is not None else acc["entities"]),
        }

    def add_bot(self, token, id=None, account=None, name=None, protocol=None):
        """Adds (or replaces) a bot; account=None makes a systemwide bot, an account
        id an account bot limited to that account."""
        with self._lock:
            bot = self._add_bot_locked(token, id, account, name, protocol, None)
            return {"id": bot["id"], "account": bot["account"]}

    def _add_bot_locked(self, token, bot_id, account, name, protocol, index):
        if not isinstance(token, str) or not token:
            raise FixtureError("a bot token must be a non-empty string")
        old = self._bots.get(token)
        if bot_id is None:
            bot_id = old["id"] if old else self._new_id()
        else:
            bot_id = self._claim_id(bot_id, "bot")
        if account is not None:
            account = self._claim_id(account, "account")
        if name is None:
            name = ("Systemwide bot %d" % index) if index is not None else ("Bot %d" % bot_id)
        bot = {"id": bot_id, "name": name, "protocol": protocol, "account": account,
               "token_index": index}
        self._bots[token] = bot
        return bot

    def put_record(self, account, kind, rec):
        """Stores an entity/credential/sensor as given (no validation, '@' references
        resolved); answers its id."""
        with self._lock:
            acc = self._accounts.get(int(account))
            if acc is None:
                raise FixtureError("no such account %r" % account)
            return self._put_record_locked(acc, kind, rec)

    def delete_record(self, account, kind, rec_id):
        with self._lock:
            acc = self._accounts.get(int(account))
            if acc is None or kind not in KINDS:
                return False
            return self._delete_record_locked(acc, kind, int(rec_id))

    def _resolve(self, acc, kind, ref):
        if not (isinstance(ref, str) and ref.startswith("@")):
            return ref
        key = ref[1:]
        if kind != "entities" and key in acc["defaults"] and acc["defaults"][key] in acc[kind]:
            return acc["defaults"][key]
        for rid, r in acc[kind].items():
            if r.get("name") == key:
                return rid
        raise FixtureError("can't resolve %s reference %r in account %d" % (SINGULAR[kind], ref, acc["id"]))

    def _put_record_locked(self, acc, kind, rec):
        if kind not in KINDS:
            raise FixtureError("unknown record kind %r" % kind)
        if not isinstance(rec, dict):
            raise FixtureError("a record must be an object")
        rec = copy.deepcopy(rec)
        rid = rec.get("id")
        if rid is None:
            rid = self._new_id()
        else:
            rid = self._claim_id(rid, SINGULAR[kind])
        out = {"id": rid, "name": rec.pop("name", "%s %d" % (SINGULAR[kind], rid))}
        rec.pop("id", None)
        if kind == "entities":
            out["entity_type"] = rec.pop("entity_type", "device")
            out["parent"] = self._resolve(acc, "entities", rec.pop("parent", None))
            out["details"] = rec.pop("details", {})
            protocols = rec.pop("protocols", {})
            if isinstance(protocols, dict):
                for proto in protocols.values():
                    if not isinstance(proto, dict):
                        continue
                    if "credential" in proto:
                        proto["credential"] = self._resolve(acc, "credentials", proto["credential"])
                    for s in proto.get("sensors") or []:
                        if isinstance(s, dict) and "sensor" in s:
                            s["sensor"] = self._resolve(acc, "sensors", s["sensor"])
            out["protocols"] = protocols
        elif kind == "credentials":
            out["protocol"] = rec.pop("protocol", None)
            out["details"] = rec.pop("details", {})
        else:
            out["protocol"] = rec.pop("protocol", None)
            out["default_interval"] = rec.pop("default_interval", None)
            out["details"] = rec.pop("details", {})
        out.update(rec)  # anything odd the test wants the bots to see
        acc[kind][rid] = out
        return rid

    def _delete_record_locked(self, acc, kind, rid):
        if rid not in acc[kind]:
            return False
        del acc[kind][rid]
        if kind == "entities":
            # children go with their parent (ON DELETE CASCADE)
            for cid in [c for c, e in acc["entities"].items() if e.get("parent") == rid]:
                self._delete_record_locked(acc, "entities", cid)
        else:
            for e in acc["entities"].values():
                protocols = e.get("protocols")
                if not isinstance(protocols, dict):
                    continue
                for pname in list(protocols):
                    proto = protocols[pname]
                    if not isinstance(proto, dict):
                        continue
                    if kind == "credentials" and proto.get("credential") == rid:
                        del protocols[pname]
                    elif kind == "sensors" and isinstance(proto.get("sensors"), list):
                        proto["sensors"] = [s for s in proto["sensors"]
                                            if not (isinstance(s, dict) and s.get("sensor") == rid)]
        return True

    def state(self):
        with self._lock:
            accounts = []
            for acc in self._accounts.values():
                accounts.append({
                    "id": acc["id"], "name": acc["name"],
                    "defaults": dict(acc["defaults"]),
                    "entities": copy.deepcopy(list(acc["entities"].values())),
                    "credentials": copy.deepcopy(list(acc["credentials"].values())),
                    "sensors": copy.deepcopy(list(acc["sensors"].values())),
                })
            bots = [dict(b) for b in self._bots.values()]
            return {"accounts": accounts, "bots": bots, "status": self._status_info_locked(),
                    "options": dict(self._options)}

    def set_status(self, **overrides):
        """Overrides status/info fields, e.g. db_migration_needed=True."""
        with self._lock:
            self._status.update(overrides)
            return self._status_info_locked()

    def set_options(self, **options):
        with self._lock:
            for k in options:
                if k not in DEFAULT_OPTIONS:
                    raise FixtureError("unknown option %r" % k)
            self._options.update(options)
            return dict(self._options)

    def _status_info_locked(self):
        st = dict(self._status)
        if st.get("db_migration_needed"):
            st["user_exists"] = None   # the real backend does not look while migrating
        return st

    # -- values ------------------------------------------------------------

    def values(self, account=None, prefix=None):
        """[{"account", "p", "v", "t", "count"}] sorted by (p, t)."""
        with self._lock:
            out = []
            for (a, p, t), rec in self._values.items():
                if account is not None and a != int(account):
                    continue
                if prefix is not None and not p.startswith(prefix):
                    continue
                out.append({"account": a, "p": p, "v": rec["v"], "t": t, "count": rec["count"]})
        out.sort(key=lambda x: (x["p"], x["t"], x["account"]))
        return out

    def clear_values(self):
        with self._lock:
            self._values = {}

    # -- request log -------------------------------------------------------

    def requests(self):
        with self._lock:
            return [dict(e) for e in self._log]

    def clear_requests(self):
        with self._lock:
            self._log = []

    def _log_begin(self, method, path, has_token):
        with self._lock:
            self._seq += 1
            entry = {"seq": self._seq, "time": time.time(), "method": method, "path": path,
                     "has_token": has_token, "status": None, "n_values": None,
                     "body_size": 0, "fault": None, "outcome": None, "duration": None}
            self._log.append(entry)
            return entry

    # -- faults ------------------------------------------------------------

    def add_fault(self, spec=None, **kw):
        """add_fault({"match": {...}, "mode": ..., "count": N, ...}) or
        add_fault(mode="status", code=503, method="PUT", path_re="values", count=1)."""
        if spec is None:
            spec = {}
        else:
            spec = dict(spec)
        spec.update(kw)
        match = dict(spec.pop("match", None) or {})
        for k in ("method", "path_re"):
            if k in spec:
                match[k] = spec.pop(k)
        mode = spec.pop("mode", None)
        if mode not in FAULT_MODES:
            raise FixtureError("fault mode must be one of %s" % ", ".join(FAULT_MODES))
        count = spec.pop("count", None)
        if count is not None and (not _is_int_like(count) or count < 0):
            raise FixtureError("count must be a non-negative integer or null")
        method = match.get("method")
        if isinstance(method, str):
            methods = {method.upper()}
        elif method is None:
            methods = None
        else:
            methods = {str(m).upper() for m in method}
        path_re = match.get("path_re")
        try:
            rx = re.compile(path_re) if path_re else None
        except re.error as ex:
            raise FixtureError("bad path_re: %s" % ex)
        for k in ("skip", "every"):
            if k in spec and (not _is_int_like(spec[k]) or spec[k] < 0):
                raise FixtureError("%s must be a non-negative integer" % k)
        with self._lock:
            self._fault_seq += 1
            f = {"id": self._fault_seq, "match": match, "mode": mode,
                 "count": count, "remaining": count, "hits": 0, "seen": 0,
                 "params": spec, "_methods": methods, "_re": rx,
                 "_released": threading.Event()}
            self._faults.append(f)
            return f["id"]

    def faults(self):
        with self._lock:
            return [{k: copy.deepcopy(v) for k, v in f.items() if not k.startswith("_")}
                    for f in self._faults]

    def clear_faults(self, fault_id=None):
        """Removes all faults (or the one given); hung requests are released."""
        with self._lock:
            keep = []
            for f in self._faults:
                if fault_id is None or f["id"] == fault_id:
                    f["_released"].set()
                else:
                    keep.append(f)
            n = len(self._faults) - len(keep)
            self._faults = keep
            return n

    def _take_fault(self, method, resource):
        with self._lock:
            for f in self._faults:
                if f["remaining"] == 0:
                    continue
                if f["_methods"] is not None and method not in f["_methods"]:
                    continue
                if f["_re"] is not None and not f["_re"].search(resource):
                    continue
                f["seen"] += 1
                skip = int(f["params"].get("skip") or 0)
                every = int(f["params"].get("every") or 0)
                if f["seen"] <= skip:
                    continue
                if every > 1 and (f["seen"] - skip) % every != 0:
                    continue
                if f["remaining"] is not None:
                    f["remaining"] -= 1
                f["hits"] += 1
                return f
            return None

    # -- the API -----------------------------------------------------------

    ROUTES = [
        (re.compile(r"status/info"), "status_info", ("GET",), False),
        (re.compile(r"profile"), "profile", ("GET",), True),
        (re.compile(r"accounts"), "accounts", ("GET",), True),
        (re.compile(r"accounts/(\d+)"), "account", ("GET",), True),
        (re.compile(r"accounts/(\d+)/(entities|credentials|sensors)"), "records",
         ("GET", "POST"), True),
        (re.compile(r"accounts/(\d+)/(entities|credentials|sensors)/(\d+)"), "record",
         ("GET", "PUT", "DELETE"), True),
        (re.compile(r"accounts/(\d+)/values"), "values", ("POST", "PUT"), True),
    ]

    def handle_api(self, method, resource, query, headers, body, entry=None):
        """Answers one /api request.  resource: the path after '/api/' without the
        trailing slash; query: parse_qs() dict; headers: a mapping with .get()."""
        if entry is None:
            entry = {}
        try:
            return self._handle_api(method, resource, query, headers, body, entry)
        except _Answer as a:
            return a.resp
        except Exception as ex:  # like the real backend's catch-all error handler
            if self.verbose:
                import traceback
                traceback.print_exc()
            return _text(500, "Unknown exception: %s" % ex)

    def _handle_api(self, method, resource, query, headers, body, entry):
        route = None
        for rx, name, methods, needs_auth in self.ROUTES:
            m = rx.fullmatch(resource)
            if m:
                route = (name, m.groups(), methods, needs_auth)
                break
        if route is None:
            return _text(404, "Resource not found")
        name, groups, methods, needs_auth = route
        allowed = set(methods)
        if "GET" in allowed:
            allowed.add("HEAD")
        allowed.add("OPTIONS")
        if method not in allowed:
            return _text(404, "Resource not found")   # Flask: no endpoint -> 404
        if method == "OPTIONS":
            return Resp(200, b"", TEXT, {"Allow": ",".join(sorted(allowed))})
        if method == "HEAD":
            method = "GET"
        if name == "status_info":
            with self._lock:
                return _json(200, self._status_info_locked())

        account_id = int(groups[0]) if groups else None
        kind = groups[1] if len(groups) > 1 else None
        rec_id = int(groups[2]) if len(groups) > 2 else None
        with self._lock:
            bot = self._authorize(method, name, kind, account_id, query, headers)
            if name == "profile":
                return _json(200, {"user_id": bot["id"], "user_type": "bot", "record": {
                    "id": bot["id"], "name": bot["name"], "protocol": bot["protocol"],
                    "tied_to_account": bot["account"]}})
            if name == "accounts":
                accs = [{"id": a["id"], "name": a["name"]} for a in self._accounts.values()
                        if bot["account"] is None or bot["account"] == a["id"]]
                accs.sort(key=lambda a: (a["name"], a["id"]))
                return _json(200, {"list": accs})
            acc = self._accounts[account_id]
            if name == "account":
                return _json(200, {"id": acc["id"], "name": acc["name"]})
            if name == "values":
                return self._values_request(method, acc, headers, body, entry)
            if name == "records":
                if method == "GET":
                    return _json(200, {"list": copy.deepcopy(list(acc[kind].values()))})
                data = self._get_json(body, headers)
                fields = self._validate_record(kind, acc, data, headers, None)
                rid = self._new_id()
                rec = {"id": rid}
                rec.update(fields)
                acc[kind][rid] = rec
                return _json(201, {"id": rid})
            # name == "record"
            not_found = _json(404, {"detail": "No such %s" % SINGULAR[kind]})
            if method == "GET":
                rec = acc[kind].get(rec_id)
                return _json(200, rec) if rec is not None else not_found
            if method == "DELETE":
                return _empty(204) if self._delete_record_locked(acc, kind, rec_id) else not_found
            # PUT
            data = self._get_json(body, headers)
            fields = self._validate_record(kind, acc, data, headers, rec_id)
            if rec_id not in acc[kind]:
                return not_found
            rec = {"id": rec_id}
            rec.update(fields)
            acc[kind][rec_id] = rec
            return _empty(204)

    def _authorize(self, method, name, kind, account_id, query, headers):
        if headers.get("Authorization") is not None:
            # taken as a user JWT, which a bot token never is
            raise _Answer(_access_denied())
        tokens = query.get("b")
        bot = self._bots.get(tokens[0]) if tokens else None
        if bot is None:
            raise _Answer(_access_denied())
        if name in ("profile", "accounts"):
            return bot
        if account_id not in self._accounts:
            raise _Answer(_access_denied())
        if bot["account"] is None:
            return bot
        if bot["account"] != account_id:
            raise _Answer(_access_denied())
        ok = ((method == "GET" and name in ("account", "records", "record")) or
              (method in ("POST", "PUT") and name == "values"))
        if not ok:
            raise _Answer(_access_denied(int(self._options["permission_denied_status"])))
        return bot

    @staticmethod
    def _invalid(msg, headers):
        ct = headers.get("Content-Type")
        if not ct or ct != "application/json":
            msg = "%s - maybe Content-Type header was not set to application/json?" % msg
        return _text(400, "Input validation failed: %s" % msg)

    _NO_JSON = object()

    def _get_json(self, body, headers):
        """Like Flask's request.get_json(): _NO_JSON unless the Content-Type is JSON,
        400 if the body does not decode."""
        ct = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if not (ct == "application/json" or (ct.startswith("application/") and ct.endswith("+json"))):
            return self._NO_JSON
        try:
            return json.loads(body.decode("utf-8"))
        except Exception as ex:  # ValueError, UnicodeDecodeError, RecursionError
            raise _Answer(_text(400, "Unknown exception: 400 Bad Request: Failed to decode "
                                     "JSON object: %s" % ex))

    # records

    def _validate_record(self, kind, acc, data, headers, self_id):
        try:
            if data is self._NO_JSON:
                data = None
            if kind == "entities":
                fields = self._validate_entity(acc, data, self_id)
            elif kind == "credentials":
                fields = self._validate_simple(
                    data, [("name", str), ("protocol", str), ("details", dict)], [])
            else:
                fields = self._validate_simple(
                    data, [("name", str), ("protocol", str), ("details", dict)],
                    [("default_interval", "number_or_null")])
        except _Invalid as ex:
            raise _Answer(self._invalid(str(ex), headers))
        # What passes the schema still has to go into PostgreSQL, which
        # stores no NUL character (psycopg2 refuses it), no lone UTF-16
        # surrogate (not encodable as UTF-8) and no NaN/Infinity in JSON:
        # the real backend answers 500 there.
        why = _unstorable(fields)
        if why is not None:
            raise _Answer(_text(500, "Unknown exception: %s" % why))
        return fields

    @staticmethod
    def _check_type(key, v, t):
        if t is str and not isinstance(v, str):
            raise _Invalid("%s is not of type 'string'" % _type_names(v))
        if t is dict and not isinstance(v, dict):
            raise _Invalid("%s is not of type 'object'" % _type_names(v))
        if t == "number_or_null" and not (v is None or _is_number(v)):
            raise _Invalid("%s is not of type 'number', 'null'" % _type_names(v))
        if t == "id" and not (_is_int_like(v) or (isinstance(v, str) and v.isdigit())):
            raise _Invalid("%s is not of type 'string', 'number'" % _type_names(v))

    def _validate_simple(self, data, required, extra_required):
        if not isinstance(data, dict):
            raise _Invalid("%s is not of type 'object'" % _type_names(data))
        allowed = [k for k, _ in required + extra_required]
        for k in data:
            if k not in allowed:
                raise _Invalid("Additional properties are not allowed ('%s' was unexpected)" % k)
        out = {}
        for k, t in required + extra_required:
            if k not in data:
                raise _Invalid("'%s' is a required property" % k)
            self._check_type(k, data[k], t)
            out[k] = copy.deepcopy(data[k])
        return out

    def _validate_entity(self, acc, data, self_id):
        if not isinstance(data, dict):
            raise _Invalid("%s is not of type 'object'" % _type_names(data))
        for k in data:
            if k not in ("name", "entity_type", "parent", "details", "protocols"):
                raise _Invalid("Additional properties are not allowed ('%s' was unexpected)" % k)
        for k in ("name", "entity_type", "details"):
            if k not in data:
                raise _Invalid("'%s' is a required property" % k)
        self._check_type("name", data["name"], str)
        self._check_type("entity_type", data["entity_type"], str)
        self._check_type("details", data["details"], dict)
        parent = data.get("parent")
        if parent is not None:
            if not _is_int_like(parent):
                raise _Invalid("%s is not of type 'number', 'null'" % _type_names(parent))
            parent = int(parent)
            if parent not in acc["entities"] or parent == self_id:
                raise _Invalid("No such parent entity: %d" % parent)
        protocols = data.get("protocols", {})
        if not isinstance(protocols, dict):
            raise _Invalid("%s is not of type 'object'" % _type_names(protocols))
        bot_ids = {b["id"] for b in self._bots.values()}
        out_protocols = {}
        for pname, proto in protocols.items():
            if not isinstance(proto, dict):
                raise _Invalid("%s is not of type 'object'" % _type_names(proto))
            for k in proto:
                if k not in ("credential", "bot", "sensors"):
                    raise _Invalid("Additional properties are not allowed ('%s' was unexpected)" % k)
            for k in ("credential", "bot", "sensors"):
                if k not in proto:
                    raise _Invalid("'%s' is a required property" % k)
            self._check_type("credential", proto["credential"], "id")
            self._check_type("bot", proto["bot"], "id")
            cred = int(proto["credential"])
            bot = int(proto["bot"])
            if cred not in acc["credentials"]:
                raise _Invalid("No such credential: %d" % cred)
            if bot not in bot_ids:
                raise _Invalid("No such bot: %d" % bot)
            if not isinstance(proto["sensors"], list):
                raise _Invalid("%s is not of type 'array'" % _type_names(proto["sensors"]))
            sensors = []
            for s in proto["sensors"]:
                if not isinstance(s, dict):
                    raise _Invalid("%s is not of type 'object'" % _type_names(s))
                for k in s:
                    if k not in ("sensor", "interval"):
                        raise _Invalid("Additional properties are not allowed ('%s' was unexpected)" % k)
                if "sensor" not in s:
                    raise _Invalid("'sensor' is a required property")
                self._check_type("sensor", s["sensor"], "id")
                self._check_type("interval", s.get("interval"), "number_or_null")
                sid = int(s["sensor"])
                if sid not in acc["sensors"]:
                    raise _Invalid("No such sensor: %d" % sid)
                sensors.append({"sensor": sid, "interval": s.get("interval")})
            out_protocols[pname] = {"credential": cred, "bot": bot, "sensors": sensors}
        return {"name": data["name"], "entity_type": data["entity_type"], "parent": parent,
                "details": copy.deepcopy(data["details"]), "protocols": out_protocols}

    # values

    def _values_request(self, method, acc, headers, body, entry):
        data = self._get_json(body, headers)
        if data is self._NO_JSON:
            data = None
        if isinstance(data, list):
            entry["n_values"] = len(data)
        now = time.time()
        if method == "POST":
            if not data:
                return _text(400, "Missing data")
            if not isinstance(data, list):
                return self._invalid("Invalid values format: expected a JSON list", headers)
            for x in data:
                if not isinstance(x, dict):
                    return _text(500, "Unknown exception: '%s' object has no attribute 'get'"
                                 % type(x).__name__)
                if "t" in x:
                    return _text(400, "Parameter 't' shouldn't be specified with POST")
            items = []
            for x in data:
                for k in ("p", "v"):
                    if k not in x:
                        return _text(500, "Unknown exception: '%s'" % k)
                items.append({"p": x["p"], "v": x["v"], "t": now})
        else:
            if data is None:
                return _text(500, "Unknown exception: 'NoneType' object is not iterable")
            if not isinstance(data, list):
                return self._invalid("Invalid values format: expected a JSON list", headers)
            items = data
        rows = []
        for x in items:
            if not isinstance(x, dict):
                return _text(500, "Unknown exception: '%s' object is not subscriptable"
                             % type(x).__name__)
            if "t" not in x:
                return _text(500, "Unknown exception: 't'")
            t = _parse_timestamp(x["t"])
            if t is None:
                return self._invalid("Invalid Timestamp format: %s" % (x["t"],), headers)
            if "p" not in x:
                return _text(500, "Unknown exception: 'p'")
            p = x["p"]
            if not isinstance(p, str) or not PATH_RE.fullmatch(p):
                return self._invalid("Invalid Path format: %s" % (p,), headers)
            if p.startswith("system."):
                return self._invalid("Invalid Path format: %s (paths starting with 'system.' "
                                     "are reserved)" % p, headers)
            if "v" not in x:
                return _text(500, "Unknown exception: 'v'")
            v = x["v"]
            if not _valid_value(v):
                return self._invalid("Invalid MeasuredValue format: %s" % (v,), headers)
            rows.append((p, t, v))
        seen = set()
        for p, t, v in rows:
            if (p, t) in seen:
                return _text(500, "Unknown exception: ON CONFLICT DO UPDATE command cannot "
                                  "affect row a second time\nHINT:  Ensure that no rows proposed "
                                  "for insertion within the same command have duplicate "
                                  "constrained values.\n")
            seen.add((p, t))
        for p, t, v in rows:
            key = (acc["id"], p, t)
            rec = self._values.get(key)
            if rec is None:
                self._values[key] = {"v": v, "count": 1}
            else:
                rec["v"] = v
                rec["count"] += 1
        entry["stored"] = len(rows)
        return _empty(204)

    # -- control API over HTTP ---------------------------------------------

    def handle_control(self, method, path, query, data):
        """Answers (code, JSON-able object) for a /control request."""
        p = path[len("/control"):].strip("/")
        if data is None:
            data = {}
        try:
            if method == "GET" and p == "health":
                return 200, {"ok": True}
            if method == "POST" and p == "reset":
                return 200, self.reset()
            if method == "POST" and p == "fixtures":
                return 200, self.load_fixtures(data)
            if method == "GET" and p == "state":
                return 200, self.state()
            if method == "GET" and p == "values":
                account = query.get("account", [None])[0]
                prefix = query.get("prefix", [None])[0]
                return 200, self.values(account=int(account) if account else None, prefix=prefix)
            if method == "POST" and p == "values/clear":
                self.clear_values()
                return 200, {"ok": True}
            if method == "GET" and p == "requests":
                return 200, self.requests()
            if method == "POST" and p == "requests/clear":
                self.clear_requests()
                return 200, {"ok": True}
            if method == "POST" and p == "fault":
                return 200, {"id": self.add_fault(data)}
            if method == "GET" and p == "faults":
                return 200, self.faults()
            if method == "POST" and p == "faults/clear":
                return 200, {"cleared": self.clear_faults(data.get("id"))}
            if method == "POST" and p == "status":
                return 200, self.set_status(**data)
            if method == "POST" and p == "options":
                return 200, self.set_options(**data)
            if method == "POST" and p == "bots":
                return 200, self.add_bot(**data)
            if method == "POST" and p == "accounts":
                return 200, self.add_account(data)
            m = re.fullmatch(r"accounts/(\d+)/(entities|credentials|sensors)(?:/(\d+))?", p)
            if m and method == "POST" and m.group(3) is None:
                return 200, {"id": self.put_record(int(m.group(1)), m.group(2), data)}
            if m and method == "DELETE" and m.group(3) is not None:
                ok = self.delete_record(int(m.group(1)), m.group(2), int(m.group(3)))
                return (200, {"ok": True}) if ok else (404, {"error": "no such record"})
        except (FixtureError, ValueError, TypeError, KeyError, AttributeError) as ex:
            return 400, {"error": "%s: %s" % (type(ex).__name__, ex)}
        return 404, {"error": "no such control endpoint: %s %s" % (method, path)}


# ---------------------------------------------------------------------------
# HTTP plumbing


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256
    fake = None

    def handle_error(self, request, client_address):
        if self.fake is not None and self.fake.verbose:
            ThreadingHTTPServer.handle_error(self, request, client_address)


class _TooLarge(Exception):
    def __init__(self, declared):
        Exception.__init__(self, declared)
        self.declared = declared


class _BadRequest(Exception):
    pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "nginx"
    sys_version = ""
    timeout = KEEPALIVE_TIMEOUT

    def setup(self):
        BaseHTTPRequestHandler.setup(self)
        self.fake = self.server.fake
        self.fake._track(self.connection, True)

    def finish(self):
        try:
            BaseHTTPRequestHandler.finish(self)
        except OSError:
            pass
        finally:
            self.fake._track(self.connection, False)

    def log_message(self, fmt, *args):
        if self.fake.verbose:
            # the query string may hold a token: never log it
            msg = fmt % args
            msg = re.sub(r"([?&]b=)[^&\s\"]*", r"\1***", msg)
            sys.stderr.write("fake_grafolean: %s - %s\n" % (self.address_string(), msg))

    def handle_expect_100(self):
        # answer "100 Continue" only once we decide to read the body
        self._expect = True
        return True

    # every method goes through _dispatch
    def do_GET(self):
        self._dispatch()

    do_HEAD = do_POST = do_PUT = do_DELETE = do_OPTIONS = do_PATCH = do_GET

    # -- body --------------------------------------------------------------

    def _declared_length(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            return "chunked"
        cl = self.headers.get("Content-Length")
        if cl is None:
            return 0
        cl = cl.strip()
        if not cl.isdigit():
            raise _BadRequest()
        return int(cl)

    def _send_continue(self, expect):
        if expect:
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def _read_body(self, limit, expect):
        declared = self._declared_length()
        if declared != "chunked":
            if declared > limit:
                raise _TooLarge(declared)
            self._send_continue(expect)
            data = self.rfile.read(declared) if declared else b""
            if len(data) != declared:
                raise _BadRequest()
            return data
        self._send_continue(expect)
        chunks = []
        total = 0
        while True:
            line = self.rfile.readline(65537)
            if not line:
                raise _BadRequest()
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                raise _BadRequest()
            if size == 0:
                while True:  # trailers
                    line = self.rfile.readline(65537)
                    if line in (b"\r\n", b"\n", b""):
                        break
                return b"".join(chunks)
            total += size
            if total > limit:
                raise _TooLarge(total)
            chunk = self.rfile.read(size)
            if len(chunk) != size:
                raise _BadRequest()
            chunks.append(chunk)
            self.rfile.readline(3)

    def _drain(self, declared, seconds=2.0):
        """Reads and drops up to `declared` body bytes (lingering close)."""
        if not isinstance(declared, int) or declared <= 0:
            return
        left = min(declared, DRAIN_MAX)
        deadline = time.monotonic() + seconds
        try:
            while left > 0 and time.monotonic() < deadline:
                self.connection.settimeout(max(0.05, deadline - time.monotonic()))
                chunk = self.rfile.read1(min(left, 65536))
                if not chunk:
                    break
                left -= len(chunk)
        except (OSError, ValueError):
            pass

    # -- answers -----------------------------------------------------------

    def _response_bytes(self, resp, head=False):
        reason = REASONS.get(resp.code, ("Unknown",))[0]
        lines = ["HTTP/1.1 %d %s" % (resp.code, reason),
                 "Server: nginx",
                 "Date: %s" % email.utils.formatdate(usegmt=True)]
        body = resp.body or b""
        no_body = resp.code == 204 or resp.code == 304 or 100 <= resp.code < 200
        if not no_body:
            if resp.ctype:
                lines.append("Content-Type: %s" % resp.ctype)
            lines.append("Content-Length: %d" % len(body))
        for k, v in resp.headers.items():
            if k.lower() in ("content-length", "server", "date"):
                continue
            if k.lower() == "connection" and str(v).lower() == "close":
                self.close_connection = True
                continue
            lines.append("%s: %s" % (k, v))
        if self.close_connection:
            lines.append("Connection: close")
        head_bytes = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if head or no_body:
            return head_bytes, b""
        return head_bytes, body

    def _send(self, resp, entry=None, close=False):
        if close:
            self.close_connection = True
        h, b = self._response_bytes(resp, head=(self.command == "HEAD"))
        if entry is not None:
            entry["status"] = resp.code
            entry["outcome"] = "answered"
        try:
            self.wfile.write(h + b)
        except OSError:
            self.close_connection = True
        if self.fake.verbose:
            self.log_request(resp.code)

    def _drop(self, entry, outcome):
        entry["outcome"] = outcome
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # -- dispatch ----------------------------------------------------------

    def _dispatch(self):
        expect = self.__dict__.pop("_expect", False)
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        if path == "/control" or path.startswith("/control/"):
            return self._control(path, query, expect)
        fake = self.fake
        entry = fake._log_begin(self.command, path, "b" in query)
        started = time.monotonic()
        try:
            self._api(path, query, expect, entry)
        finally:
            entry["duration"] = round(time.monotonic() - started, 6)

    def _control(self, path, query, expect):
        try:
            body = self._read_body(CONTROL_MAX_BODY, expect)
        except (_TooLarge, _BadRequest):
            return self._send(_json(400, {"error": "bad body"}), close=True)
        data = None
        if body.strip():
            try:
                data = json.loads(body.decode("utf-8"))
            except Exception as ex:
                return self._send(_json(400, {"error": "bad JSON: %s" % ex}))
        code, obj = self.fake.handle_control(self.command, path, query, data)
        self._send(_json(code, obj))

    def _api(self, path, query, expect, entry):
        fake = self.fake
        is_api = path == "/api" or path.startswith("/api/")
        resource = path[5:] if path.startswith("/api/") else ""
        if resource.endswith("/"):
            resource = resource[:-1]
        fault = fake._take_fault(self.command, resource) if is_api else None
        mode = fault["mode"] if fault else None
        params = fault["params"] if fault else {}
        if fault:
            entry["fault"] = fault["id"]
        try:
            declared = self._declared_length()
        except _BadRequest:
            return self._send(Resp(400, NGINX_400, "text/html"), entry, close=True)
        entry["body_size"] = declared if isinstance(declared, int) else 0

        if mode == "down":
            if not expect:
                self._drain(declared, 0.5)
            return self._drop(entry, "dropped")
        if mode == "hang":
            entry["outcome"] = "hanging"
            while not (fault["_released"].is_set() or fake._stop_ev.is_set()):
                fault["_released"].wait(0.05)
            return self._drop(entry, "hung")

        try:
            body = self._read_body(fake.max_body if is_api else CONTROL_MAX_BODY, expect)
        except _TooLarge as ex:
            entry["body_size"] = ex.declared
            self._send(Resp(413, NGINX_413, "text/html"), entry, close=True)
            if not expect and isinstance(declared, int):
                self._drain(declared)
            return
        except _BadRequest:
            return self._send(Resp(400, NGINX_400, "text/html"), entry, close=True)
        except OSError:
            return self._drop(entry, "client-gone")
        entry["body_size"] = len(body)

        if not is_api:
            return self._send(Resp(403, b"Forbidden", "text/plain; charset=utf-8"), entry)

        if mode == "delay":
            fake._stop_ev.wait(float(params.get("seconds", 1.0)))

        process = mode in (None, "delay", "slow", "truncate", "commit_then_drop") or \
            bool(params.get("process"))
        resp = None
        if process:
            resp = fake.handle_api(self.command, resource, query, self.headers, body, entry)

        if mode == "status":
            resp = self._injected_status(params)
        elif mode == "garbage":
            b = params.get("body", "<html>oops</html>")
            if not isinstance(b, str):
                b = json.dumps(b)
            b = b.replace("{url}", self.path)
            b = b.encode("utf-8") * int(params.get("repeat", 1))
            resp = Resp(int(params.get("code", 200)), b,
                        params.get("content_type", "text/html"), params.get("headers"))
        elif mode == "slow" and ("body" in params or "code" in params):
            b = params.get("body", "")
            if not isinstance(b, str):
                b = json.dumps(b)
            resp = Resp(int(params.get("code", 200)), b.encode("utf-8"),
                        params.get("content_type", JSON_CT))

        if mode == "commit_then_drop":
            entry["status"] = resp.code if resp else None
            return self._drop(entry, "dropped-after-commit")
        if mode == "slow":
            return self._drip(resp, entry, fault, float(params.get("interval", 1.0)))
        if mode == "truncate":
            h, b = self._response_bytes(resp, head=(self.command == "HEAD"))
            n = int(params.get("bytes", len(b) // 2))
            entry["status"] = resp.code
            try:
                self.wfile.write(h + b[:max(0, min(n, len(b) - 1))] if b else h)
            except OSError:
                pass
            return self._drop(entry, "truncated")
        self._send(resp, entry)

    def _injected_status(self, params):
        code = int(params.get("code", 500))
        if "body" in params:
            b = params["body"]
            if isinstance(b, str):
                # "{url}" echoes the request target, token included, as
                # some error pages do
                b = b.replace("{url}", self.path)
                resp = Resp(code, b.encode("utf-8"), params.get("content_type", TEXT))
            else:
                resp = Resp(code, json.dumps(b).encode("utf-8"), params.get("content_type", JSON_CT))
        elif code in (401, 403):
            resp = _access_denied(code)
        elif code == 413:
            resp = Resp(413, NGINX_413, "text/html")
        elif code >= 500:
            resp = _json(code, {"detail": REASONS.get(code, ("Error",))[0]})
        else:
            resp = _text(code, REASONS.get(code, ("Error",))[0])
        for k, v in (params.get("headers") or {}).items():
            resp.headers[k] = v
        return resp

    def _drip(self, resp, entry, fault, interval):
        h, b = self._response_bytes(resp, head=(self.command == "HEAD"))
        data = h + b
        entry["status"] = resp.code
        entry["outcome"] = "dripping"
        fake = self.fake
        try:
            for i in range(len(data)):
                if fake._stop_ev.is_set():
                    return self._drop(entry, "stopped")
                if fault["_released"].is_set():
                    self.wfile.write(data[i:])
                    break
                self.wfile.write(data[i:i + 1])
                fake._stop_ev.wait(interval)
        except OSError:
            return self._drop(entry, "client-gone")
        entry["outcome"] = "answered"


# ---------------------------------------------------------------------------
# command line


def _write_port_file(path, port):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Fake Grafolean backend for bot tests.")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="0 picks a free port")
    ap.add_argument("--port-file", help="write the port number here (atomically)")
    ap.add_argument("--token", action="append", default=[],
                    help="a systemwide bot token (repeatable); index i gets bot id %d+i"
                    % FIRST_BOT_ID)
    ap.add_argument("--fixtures", help="a JSON file with the initial fixtures")
    ap.add_argument("--seed", type=int, help="seed for the random record ids")
    ap.add_argument("--verbose", action="store_true", help="log requests to stderr")
    args = ap.parse_args(argv)

    fixtures = None
    if args.fixtures:
        with open(args.fixtures) as f:
            fixtures = json.load(f)
    fk = FakeGrafolean(host=args.host, port=args.port, tokens=args.token, fixtures=fixtures,
                       verbose=args.verbose, seed=args.seed)
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    fk.start()
    if args.port_file:
        _write_port_file(args.port_file, fk.port)
    print("listening on %s:%d" % (args.host, fk.port), flush=True)
    while not stop.wait(0.2):
        pass
    fk.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
