#!/usr/bin/env python3
"""Writes the malformed-input regression files of test-matrix 5.3 (NetFlow
v5, v9, IPFIX) plus a few valid edge cases, one datagram per file.

The name says what the decoder must answer: *.bad must be refused
(nfmsg_decode returns -1), *.ok must be accepted (>= 0); for *.ok files
ending in -N.ok the datagram must give exactly N flows.  Replayed by
tests/unit/netflowbot/t_nfmsg.c; also seeds for the fuzz targets.
Run from anywhere: python3 tests/data/netflow/gen_cases.py
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "cases")

T = 1700000000  # export time


def v5(count, nrec=None, version=5, sysup=100000, first=90000, last=99000,
       sampling=0):
    nrec = count if nrec is None else nrec
    h = struct.pack("!HHIIIIBBH", version, count, sysup, T, 0, 1, 0, 0,
                    sampling)
    r = b""
    for i in range(nrec):
        r += struct.pack("!4s4s4sHHIIIIHHBBBBHHBBH",
                         bytes([10, 0, 0, i + 1]), bytes([192, 0, 2, 1]),
                         b"\0" * 4, 1, 2, 10, 1000, first, last, 1234, 80,
                         0, 0, 6, 0, 0, 0, 0, 0, 0)
    return h + r


def v9(flowsets, count=None, source=1, sysup=100000):
    count = len(flowsets) if count is None else count
    return struct.pack("!HHIIII", 9, count, sysup, T, 1, source) + \
        b"".join(flowsets)


def fs(fid, body, length=None):
    length = 4 + len(body) if length is None else length
    return struct.pack("!HH", fid, length) + body


def tmpl9(tid, fields):
    return struct.pack("!HH", tid, len(fields)) + b"".join(
        struct.pack("!HH", t, l) for t, l in fields)


def opt9(tid, scope, opts, scope_len=None, opt_len=None):
    sl = 4 * len(scope) if scope_len is None else scope_len
    ol = 4 * len(opts) if opt_len is None else opt_len
    return struct.pack("!HHH", tid, sl, ol) + b"".join(
        struct.pack("!HH", t, l) for t, l in scope + opts)


V9_FIELDS = [(8, 4), (12, 4), (4, 1), (7, 2), (11, 2), (1, 4), (2, 4),
             (10, 2), (14, 2), (22, 4), (21, 4)]


def v9rec(i=1, nbytes=1000):
    return struct.pack("!4s4sBHHIIHHII", bytes([10, 0, 0, i]),
                       bytes([192, 0, 2, 1]), 6, 1234, 80, nbytes, 10, 1, 2,
                       90000, 99000)


def ipfix(sets, length=None, version=10, domain=1):
    body = b"".join(sets)
    length = 16 + len(body) if length is None else length
    return struct.pack("!HHIII", version, length, T, 1, domain) + body


def tmplx(tid, fields):
    """fields: (ie, len) or (ie, len, pen)."""
    out = struct.pack("!HH", tid, len(fields))
    for f in fields:
        if len(f) == 3:
            out += struct.pack("!HHI", f[0] | 0x8000, f[1], f[2])
        else:
            out += struct.pack("!HH", f[0], f[1])
    return out


def optx(tid, scope_count, fields):
    out = struct.pack("!HHH", tid, len(fields), scope_count)
    for ie, ln in fields:
        out += struct.pack("!HH", ie, ln)
    return out


X_FIELDS = [(8, 4), (12, 4), (4, 1), (7, 2), (11, 2), (1, 8), (2, 8),
            (152, 8), (153, 8)]


def xrec(i=1):
    return struct.pack("!4s4sBHHQQQQ", bytes([10, 0, 1, i]),
                       bytes([198, 51, 100, 7]), 17, 5353, 53, 500, 5,
                       T * 1000 - 5000, T * 1000 - 1000)


def cases():
    c = {}
    # --- v5
    c["v5-short-header.bad"] = v5(1)[:23]
    c["v5-count0.bad"] = v5(0)
    c["v5-count31.bad"] = v5(31)
    c["v5-length-short.bad"] = v5(3)[:-10]
    c["v5-length-long-2.ok"] = v5(2) + b"\0" * 7
    c["v5-version6.bad"] = v5(1, version=6)
    c["v5-first-after-uptime-1.ok"] = v5(1, sysup=1000, first=5000,
                                         last=6000)
    c["v5-uptime-wrap-1.ok"] = v5(1, sysup=500, first=0xfffffff0,
                                  last=100)
    c["v5-sampled-2.ok"] = v5(2, sampling=0x4000 | 100)
    # --- v9
    t = fs(0, tmpl9(256, V9_FIELDS))
    c["v9-short-header.bad"] = v9([])[:19]
    c["v9-count-lies-2.ok"] = v9([t, fs(256, v9rec(1) + v9rec(2))],
                                 count=500)
    c["v9-flowset-len0.bad"] = v9([t, fs(256, v9rec(), length=0)])
    c["v9-flowset-len3.bad"] = v9([t, fs(256, v9rec(), length=3)])
    c["v9-flowset-len-odd-1.ok"] = v9([t, fs(256, v9rec() + b"\0")])
    c["v9-flowset-len-past-end.bad"] = v9([t, fs(256, v9rec(),
                                                 length=200)])
    c["v9-template-0-fields-0.ok"] = v9([fs(0, tmpl9(256, []))])
    c["v9-template-all-len0-0.ok"] = v9(
        [fs(0, tmpl9(257, [(8, 0), (12, 0)])), fs(257, b"\0" * 8)])
    c["v9-one-field-len0-1.ok"] = v9(
        [fs(0, tmpl9(258, [(8, 4), (99, 0), (1, 4)])),
         fs(258, bytes([10, 0, 0, 1]) + struct.pack("!I", 77))])
    c["v9-field-len-65535-0.ok"] = v9(
        [fs(0, tmpl9(259, [(8, 4), (1, 65535)])), fs(259, b"\0" * 8)])
    c["v9-ipv4-src-len50-1.ok"] = v9(
        [fs(0, tmpl9(260, [(8, 50), (1, 4)])),
         fs(260, b"\1" * 50 + struct.pack("!I", 5))])
    c["v9-template-id-below-256.bad"] = v9([fs(0, tmpl9(100, V9_FIELDS))])
    c["v9-data-set-id-100-0.ok"] = v9([t, fs(100, v9rec())])
    # kept, then decoded when the template follows
    c["v9-data-before-template-1.ok"] = v9([fs(300, v9rec()),
                                            fs(0, tmpl9(300, V9_FIELDS))])
    # queued data, then its template redefined twice: decoded with the
    # first definition that came, exactly once
    c["v9-redefined-while-queued-1.ok"] = v9(
        [fs(302, bytes([10, 0, 0, 8]) + struct.pack("!I", 8)),
         fs(0, tmpl9(302, [(8, 4), (1, 4)])),
         fs(0, tmpl9(302, [(1, 4), (8, 4)]))])
    c["v9-redefined-in-datagram-1.ok"] = v9(
        [fs(0, tmpl9(261, V9_FIELDS)),
         fs(0, tmpl9(261, [(8, 4), (1, 4)])),
         fs(261, bytes([10, 0, 0, 9]) + struct.pack("!I", 9))])
    c["v9-options-scope-len0.bad"] = v9(
        [fs(1, opt9(262, [], [(34, 4)]))])
    c["v9-options-scope-len-not4.bad"] = v9(
        [fs(1, opt9(262, [(1, 4)], [(34, 4)], scope_len=6))])
    c["v9-options-past-flowset.bad"] = v9(
        [fs(1, opt9(262, [(1, 4)], [(34, 4)], opt_len=400))])
    c["v9-options-data-size0-0.ok"] = v9(
        [fs(1, opt9(263, [(1, 0)], [(34, 0)])), fs(263, b"\0" * 8)])
    c["v9-options-sampling-2.ok"] = v9(
        [fs(1, opt9(264, [(1, 4)], [(48, 1), (34, 4)])),
         fs(264, struct.pack("!IBI", 0, 3, 50) + b"\0\0\0"),
         fs(0, tmpl9(265, V9_FIELDS + [(48, 1)])),
         fs(265, v9rec(1) + b"\3" + v9rec(2) + b"\3")])
    many = b"".join(tmpl9(256 + i, [(1, 4)]) for i in range(2000))
    c["v9-many-template-ids-0.ok"] = v9([fs(0, many[:65000 - 65000 % 8])])
    c["v9-padding-1.ok"] = v9([t, fs(256, v9rec() + b"\0\0\0")])
    # --- IPFIX
    tx = fs(2, tmplx(256, X_FIELDS))
    good = ipfix([tx, fs(256, xrec(1) + xrec(2))])
    c["ipfix-good-2.ok"] = good
    c["ipfix-length-short.bad"] = good[:2] + struct.pack(
        "!H", len(good) + 10) + good[4:]
    c["ipfix-length-long-2.ok"] = good + b"\xff" * 9
    c["ipfix-version11.bad"] = ipfix([tx], version=11)
    c["ipfix-set-len3.bad"] = ipfix([tx, fs(256, xrec(), length=3)])
    c["ipfix-set-past-end.bad"] = ipfix([tx, fs(256, xrec(), length=300)])
    c["ipfix-set-id0.bad"] = ipfix([fs(0, b"\0" * 8)])
    c["ipfix-set-id1.bad"] = ipfix([fs(1, b"\0" * 8)])
    c["ipfix-set-id4-0.ok"] = ipfix([fs(4, b"\0" * 8), fs(255, b"\1" * 4)])
    c["ipfix-template-0-fields-withdraw-0.ok"] = ipfix(
        [tx, fs(2, tmplx(256, [])), fs(256, xrec())])
    c["ipfix-enterprise-truncated.bad"] = ipfix(
        [fs(2, struct.pack("!HHHH", 270, 1, 0x8000 | 5, 4) + b"\0\0")])
    var = [(8, 4), (82, 0xffff), (1, 4)]
    c["ipfix-varlen-255-past-end.bad"] = ipfix(
        [fs(2, tmplx(271, var)),
         fs(271, bytes([10, 0, 0, 1]) + b"\xff" + struct.pack("!H", 9000)
            + b"abc")])
    c["ipfix-varlen-fixed-ie-ffff-1.ok"] = ipfix(
        [fs(2, tmplx(272, [(8, 0xffff), (1, 4)])),
         fs(272, b"\x04" + bytes([10, 0, 0, 1]) + struct.pack("!I", 3))])
    c["ipfix-options-scope0.bad"] = ipfix([fs(3, optx(273, 0, [(34, 4)]))])
    c["ipfix-options-scope-gt-fields.bad"] = ipfix(
        [fs(3, optx(273, 5, [(302, 4), (34, 4)]))])
    c["ipfix-lengths-past-65535-0.ok"] = ipfix(
        [fs(2, tmplx(274, [(1, 40000), (2, 40000)])), fs(274, b"\0" * 8)])
    c["ipfix-repeated-ie-1.ok"] = ipfix(
        [fs(2, tmplx(275, [(8, 4), (8, 4), (1, 4), (1, 4)])),
         fs(275, bytes([10, 0, 0, 1, 10, 0, 0, 2]) +
            struct.pack("!II", 5, 6))])
    # basicList / subTemplateList / subTemplateMultiList: variable-length
    # fields we skip; zero-length entries, deep nesting, overflowing counts
    lists = [(8, 4), (291, 0xffff), (292, 0xffff), (293, 0xffff), (1, 4)]
    nested = b""
    for _ in range(100):
        nested = struct.pack("!BHH", 0xff, 291, len(nested) & 0xffff) + \
            nested
    nested = nested[:250]
    c["ipfix-lists-nested-1.ok"] = ipfix(
        [fs(2, tmplx(276, lists)),
         fs(276, bytes([10, 0, 0, 1]) + b"\x00" +
            b"\xff" + struct.pack("!H", len(nested)) + nested +
            b"\x05" + struct.pack("!BHH", 0xff, 0xffff, 0xffff) +
            struct.pack("!I", 9))])
    c["ipfix-withdraw-then-use-0.ok"] = ipfix(
        [tx, fs(2, tmplx(256, [])), fs(256, xrec())])
    c["ipfix-replace-then-use-1.ok"] = ipfix(
        [tx, fs(2, tmplx(256, [(8, 4), (1, 4)])),
         fs(256, bytes([10, 0, 0, 3]) + struct.pack("!I", 4))])
    # an options template flowset padded with 10 zero bytes (2 would
    # do): the zeros are padding, not a template, and the rest is read
    c["v9-options-padded-past-4-1.ok"] = v9(
        [fs(1, opt9(265, [(1, 4)], [(34, 4)]) + b"\0" * 10),
         fs(0, tmpl9(266, [(8, 4), (1, 4)])),
         fs(265, struct.pack("!II", 1, 10)),
         fs(266, bytes([10, 0, 0, 4]) + struct.pack("!I", 5))])
    # a datagram padded with zeros to a fixed size (nfdump issue 73)
    c["v9-datagram-zero-padded-1.ok"] = v9(
        [fs(0, tmpl9(267, [(8, 4), (1, 4)])),
         fs(267, bytes([10, 0, 0, 5]) + struct.pack("!I", 6))]) + \
        b"\0" * 1000
    # a data flowset padded by 24 zero bytes, 3 records' worth (NX-OS,
    # nfdump issue 56): padding, not three empty flows
    c["v9-data-padded-past-record-1.ok"] = v9(
        [fs(0, tmpl9(268, [(8, 4), (1, 4)])),
         fs(268, bytes([10, 0, 0, 6]) + struct.pack("!I", 7) + b"\0" * 24)])
    # Cisco FNF's sampler table: samplerId (48) as the v9 scope field;
    # samplers 1 (1 in 100) and 2 (1 in 10); a flow of neither is not
    # sampled
    c["v9-options-scope-sampler-id-3.ok"] = v9(
        [fs(1, opt9(269, [(48, 4)], [(49, 1), (50, 4)]) + b"\0" * 2),
         fs(269, struct.pack("!IBI", 1, 2, 100) +
            struct.pack("!IBI", 2, 2, 10) + b"\0" * 2),
         fs(0, tmpl9(270, [(8, 4), (1, 4), (48, 1)])),
         fs(270, bytes([10, 0, 0, 1]) + struct.pack("!IB", 5, 1) +
            bytes([10, 0, 0, 2]) + struct.pack("!IB", 5, 2) +
            bytes([10, 0, 0, 3]) + struct.pack("!IB", 5, 0) + b"\0")])
    c["ipfix-withdraw-all-0.ok"] = ipfix(
        [tx, fs(2, struct.pack("!HH", 2, 0)), fs(256, xrec())])
    ent = [(8, 4), (100, 4, 9), (12, 4), (200, 0xffff, 29305), (1, 4)]
    c["ipfix-enterprise-varlen-1.ok"] = ipfix(
        [fs(2, tmplx(277, ent)),
         fs(277, bytes([10, 0, 0, 1]) + b"\0" * 4 + bytes([10, 0, 0, 2]) +
            b"\x03abc" + struct.pack("!I", 42))])
    c["ipfix-options-sampling-1.ok"] = ipfix(
        [fs(3, optx(278, 1, [(302, 4), (305, 4), (306, 4)])),
         fs(278, struct.pack("!III", 7, 1, 99)),
         fs(2, tmplx(279, [(8, 4), (1, 4), (302, 4)])),
         fs(279, bytes([10, 0, 0, 1]) + struct.pack("!II", 10, 7))])
    return c


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in sorted(cases().items()):
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
