#!/usr/bin/python3
"""Writes tests/data/snmpbot/slug_golden.txt: inputs and the slug the
official SNMP bot makes of them, with Debian's python3-slugify 4.0.0 called
exactly as the bot calls it.  One line per case: the input bytes in hex, a
tab, the slug (may be empty).  Values arrive as bytes from the agent and
are decoded as UTF-8 with surrogateescape (easysnmp's way), so invalid
bytes vanish in unidecode.  The cases are fixed (curated ones plus a seeded
random mix), so the file only changes when this script does.

    /usr/bin/python3 scripts/gen_slug_golden.py > tests/data/snmpbot/slug_golden.txt
"""
import random
import sys
import warnings

from slugify import slugify

warnings.simplefilter("ignore")

CURATED = [
    "MS TCP Loopback interface\0", "/usr/local", "/",
    "Windows Driver Foundation - User-mode", "eth0", "GigabitEthernet0/1",
    "Intel(R) PRO/1000 MT Network Connection", "lo", "", " ", "-", "--a--",
    "a_b", "__", "It's", "'''", "Don't stop", "a'b'c", "\"quoted\"",
    "caf\u00e9", "Stra\u00dfe", "\u5317\u4eb0", "\u00c5ngstr\u00f6m",
    "\u041f\u0440\u0438\u0432\u0435\u0442", "\u03ba\u03bd\u03c9\u03c3\u03cc\u03c2",
    "\U0001f600 smile", "&amp;", "AT&amp;T", "&eacute;t&eacute;", "&nbsp;x",
    "&#65;&#66;", "&#x41;&#x62;", "&#233;", "&#1114112;", "&#65;&#1114112;",
    "&#x110000;&#x41;", "&amp;#65;", "&#38;#x41;", "&frac12;", "&sup2;",
    "&#8364; 5", "1,000", "1,000,000", "a,b", "1,,2", ",1,", "&#1633;,&#1634;",
    "&#xFF07;x", "x&#39;y", "&#x2C;", "1&#44;2", "\ufb01le", "\u2460\u2461",
    "\uff21\uff22", "\u2103", "\u00bd", "\u00aa", "Port 1/0/24 (uplink)",
    "vlan.100", "bond0:1", "tab\there", "new\nline", "\x01\x02\x03",
    "ab\x7fcd", "\u00a0", "\u200b", "\ufeffBOM", "\ud7ff", "\ue000",
    "\u0131\u0130", "\u1e9e", "\u00fe\u00de", "&lt;&gt;", "&quot;hi&quot;",
    "&apos;", "&unknown;", "&amp", "&#;", "&#x;", "&#0;", "&#x0;",
    "&#00000065;", "&#x0000041;", "100%", "~!@#$%^&*()+=[]{}|;:<>?,./`",
]


def rand_case(rng):
    pools = [
        "abcXYZ019_-", " /\\.,:;'\"!?()[]{}", "&#x;0123456789abcdef",
        "&amp;", "&lt;", "&#233;", "&#x2c;", "&nbsp;", "&#1633;", "&#xff10;",
        "\u00e9\u00fc\u00df\u00f8\u00e6", "\u4e2d\u6587\u5b57",
        "\u0416\u0437\u044f", "\u0661\u0662", "\uff11\uff0c\uff12",
        "\u2460\u2476", "\ufb01\ufb02", "\u00bd\u00be", "\U0001d400\U0001f4a9",
        "\u3042\u30a2", "\uac00\ud55c", ",1,2,", "''", "\0",
    ]
    parts = [rng.choice(pools) for _ in range(rng.randint(1, 6))]
    s = "".join(rng.choice(p) if rng.random() < 0.5 else p for p in parts)
    b = s.encode("utf-8", "surrogatepass")
    if rng.random() < 0.15:
        i = rng.randint(0, len(b))
        b = b[:i] + bytes([rng.choice([0x80, 0xbf, 0xc0, 0xc3, 0xe2, 0xed,
                                       0xf0, 0xf4, 0xf5, 0xff])]) + b[i:]
    return b


def official(b):
    return slugify(b.decode("utf-8", "surrogateescape"),
                   regex_pattern=r"[^0-9a-zA-Z_-]+", lowercase=False)


def main():
    rng = random.Random(20261206)
    cases = [c.encode("utf-8", "surrogatepass") for c in CURATED]
    cases += [b"\xc3\x28", b"\xe2\x82", b"a\xffb", b"\xed\xa0\x80x",
              b"\xf0\x9f\x98", b"\xc0\xaf", b"\xf4\x90\x80\x80"]
    # Every Latin-1, Latin Extended and a spread of other code points alone.
    cases += [chr(c).encode("utf-8") for c in range(0x80, 0x250)]
    cases += [chr(c).encode("utf-8") for c in range(0x250, 0x30000, 97)
              if not 0xd800 <= c <= 0xdfff]
    cases += [rand_case(rng) for _ in range(3000)]
    seen = set()
    out = sys.stdout
    for b in cases:
        if b in seen:
            continue
        seen.add(b)
        out.write("%s\t%s\n" % (b.hex(), official(b)))


if __name__ == "__main__":
    main()
