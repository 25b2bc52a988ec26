/*
 * Unit tests for path.c against the backend's path rules: the regex
 * ^([a-zA-Z0-9_-]|%2e|%3a)+(\.([a-zA-Z0-9_-]|%2e|%3a)+)*$, no "system."
 * prefix, at most PATH_MAX_LEN characters; and the two segment writers.
 */
#include <string.h>

#include "path.h"
#include "t.h"

T_TEST(path_valid_accepts)
{
	static const char *ok[] = {
	    "a",
	    "Z",
	    "0",
	    "_",
	    "-",
	    "entity.42.ping.p0.ok",
	    "entity.42.ping.rtt.avg",
	    "entity.53709761.snmp.if.in-octets.1.eth0",
	    "netflow.1min.ingress.entity.5.topip.192%2e0%2e2%2e1",
	    "netflow.1h.egress.entity.5.topip.2001%3adb8%3a%3a1",
	    "%2e",
	    "%3a",
	    "%2e%3a%2e",
	    "a%2eb.c%3ad",
	    "A-Z_a-z.0-9",
	    "system",     /* only the "system." prefix is reserved */
	    "systemx.a",  /* ... not every path starting "system" */
	    "a.system.b", /* ... nor "system." further in */
	    "lmsensors.temp.1.Core-0",
	};
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (!path_valid(ok[i]))
			t_fail(__FILE__, __LINE__, "rejected \"%s\"", ok[i]);
		T_ASSERT(!t_failed);
	}
}

T_TEST(path_valid_rejects)
{
	static const char *bad[] = {
	    "",
	    ".",
	    "..",
	    ".a",
	    "a.",
	    "a..b",
	    "a.b.",
	    "system.a",
	    "system.",
	    "a b",
	    "a/b",
	    "a:b",
	    "a,b",
	    "a\"b",
	    "a\\b",
	    "%",
	    "%2",
	    "%2E",
	    "%3A",
	    "%41",
	    "%2f",
	    "a%2",
	    "a%",
	    "a.%",
	    "\xc3\xa9",
	    "tab\there",
	    "new\nline",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (path_valid(bad[i]))
			t_fail(__FILE__, __LINE__, "accepted \"%s\"", bad[i]);
		T_ASSERT(!t_failed);
	}
}

T_TEST(path_valid_length_limit)
{
	char p[PATH_MAX_LEN + 2];

	memset(p, 'a', sizeof(p));
	p[PATH_MAX_LEN] = '\0';
	T_EQ_INT(strlen(p), 200);
	T_EQ_INT(path_valid(p), 1);
	p[PATH_MAX_LEN] = 'a';
	p[PATH_MAX_LEN + 1] = '\0';
	T_EQ_INT(path_valid(p), 0);
	/* Dotted, exactly 200 characters. */
	memset(p, 'b', PATH_MAX_LEN);
	p[1] = '.';
	p[100] = '.';
	p[PATH_MAX_LEN] = '\0';
	T_EQ_INT(path_valid(p), 1);
	/* An escape counts as three characters. */
	memset(p, 'c', PATH_MAX_LEN);
	memcpy(p + PATH_MAX_LEN - 3, "%2e", 3);
	p[PATH_MAX_LEN] = '\0';
	T_EQ_INT(path_valid(p), 1);
	memcpy(p + PATH_MAX_LEN - 2, "%2e", 4);
	T_EQ_INT(strlen(p), 201);
	T_EQ_INT(path_valid(p), 0);
}

T_TEST(path_escape_addresses)
{
	char out[128];

	T_EQ_INT(path_escape("192.0.2.1", out, sizeof(out)), 0);
	T_EQ_STR(out, "192%2e0%2e2%2e1");
	T_EQ_INT(path_valid(out), 1);
	T_EQ_INT(path_escape("2001:db8::1", out, sizeof(out)), 0);
	T_EQ_STR(out, "2001%3adb8%3a%3a1");
	T_EQ_INT(path_valid(out), 1);
	T_EQ_INT(path_escape("::ffff:192.0.2.1", out, sizeof(out)), 0);
	T_EQ_STR(out, "%3a%3affff%3a192%2e0%2e2%2e1");
	T_EQ_INT(path_valid(out), 1);
}

T_TEST(path_escape_other_bytes)
{
	char out[128];

	T_EQ_INT(path_escape("eth0/1 x", out, sizeof(out)), 0);
	T_EQ_STR(out, "eth0-1-x");
	/* Each byte on its own: runs are not collapsed. */
	T_EQ_INT(path_escape("a  //b", out, sizeof(out)), 0);
	T_EQ_STR(out, "a----b");
	T_EQ_INT(path_escape("ipv6-icmp", out, sizeof(out)), 0);
	T_EQ_STR(out, "ipv6-icmp");
	T_EQ_INT(path_escape("a%b", out, sizeof(out)), 0);
	T_EQ_STR(out, "a-b");
	T_EQ_INT(path_escape("caf\xc3\xa9", out, sizeof(out)), 0);
	T_EQ_STR(out, "caf--");
	T_EQ_INT(path_valid(out), 1);
	T_EQ_INT(path_escape("A_z-9", out, sizeof(out)), 0);
	T_EQ_STR(out, "A_z-9");
}

T_TEST(path_escape_errors)
{
	char out[16];

	T_EQ_INT(path_escape("", out, sizeof(out)), -1);
	/* Exactly enough room for the text and its NUL. */
	T_EQ_INT(path_escape("abc", out, 4), 0);
	T_EQ_STR(out, "abc");
	T_EQ_INT(path_escape("abcd", out, 4), -1);
	T_EQ_INT(path_escape("a.b", out, 6), 0);
	T_EQ_STR(out, "a%2eb");
	T_EQ_INT(path_escape("a.b", out, 5), -1);
	/* An escape is never cut in half. */
	T_EQ_INT(path_escape(".", out, 3), -1);
	T_EQ_INT(path_escape("a", out, 1), -1);
	T_EQ_INT(path_escape("a", out, 0), -1);
	T_EQ_INT(path_escape("192.0.2.1", out, sizeof(out)), 0);
	T_EQ_STR(out, "192%2e0%2e2%2e1");
	T_EQ_INT(path_escape("192.0.2.10", out, sizeof(out)), -1);
}

T_TEST(path_clean_collapses_runs)
{
	char out[64];

	T_EQ_INT(path_clean("eth0/1  x", out, sizeof(out)), 0);
	T_EQ_STR(out, "eth0-1-x");
	T_EQ_INT(path_clean("GigabitEthernet0/0/1", out, sizeof(out)), 0);
	T_EQ_STR(out, "GigabitEthernet0-0-1");
	T_EQ_INT(path_clean("  lead and trail  ", out, sizeof(out)), 0);
	T_EQ_STR(out, "-lead-and-trail-");
	T_EQ_INT(path_clean("a.b:c", out, sizeof(out)), 0);
	T_EQ_STR(out, "a-b-c");
	T_EQ_INT(path_clean("Core 0 (\xc2\xb0"
	                    "C)",
	             out, sizeof(out)),
	    0);
	T_EQ_STR(out, "Core-0-C-");
	T_EQ_INT(path_clean("keep_-_this", out, sizeof(out)), 0);
	T_EQ_STR(out, "keep_-_this");
	T_EQ_INT(path_clean("///", out, sizeof(out)), 0);
	T_EQ_STR(out, "-");
	T_EQ_INT(path_valid(out), 1);
}

T_TEST(path_clean_errors)
{
	char out[8];

	T_EQ_INT(path_clean("", out, sizeof(out)), -1);
	T_EQ_INT(path_clean("abc", out, 4), 0);
	T_EQ_STR(out, "abc");
	T_EQ_INT(path_clean("abcd", out, 4), -1);
	/* The collapsed length is what counts. */
	T_EQ_INT(path_clean("a   b", out, 4), 0);
	T_EQ_STR(out, "a-b");
	T_EQ_INT(path_clean("a", out, 1), -1);
	T_EQ_INT(path_clean("a", out, 0), -1);
}
