/*
 * Unit tests for target.c's shortcuts for literal addresses (inet_pton
 * instead of getaddrinfo, a hand-made dotted quad instead of getnameinfo):
 * every text and every address below must give exactly what the way
 * without them gives, which t_lit_reference does here as target.c did
 * before (getaddrinfo AI_NUMERICHOST, IPv4-mapped to IPv4, getnameinfo
 * NI_NUMERICHOST, the same refusals): address, family, text, key and the
 * error's words.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t.h"
#include "target.h"

/* What target_from_text(key "ipv4") is to give for one text. */
struct t_lit_want {
	int rc;
	int is_name;
	int family;
	char addr[TARGET_ADDRLEN];
	char err[BOT_ERRLEN];
};

/* The old check of one address into w (addr and family, or err). */
static void
t_lit_check(const struct sockaddr *sa, socklen_t salen, const char *key,
    const char *text, struct t_lit_want *w)
{
	struct sockaddr_in sin;
	const char *why = NULL;
	int rc;

	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			memset(&sin, 0, sizeof(sin));
			sin.sin_family = AF_INET;
			memcpy(&sin.sin_addr, &s6->sin6_addr.s6_addr[12], 4);
			sa = (const struct sockaddr *)&sin;
			salen = sizeof(sin);
		} else if (IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr)) {
			why = "the unspecified address";
		} else if (IN6_IS_ADDR_MULTICAST(&s6->sin6_addr)) {
			why = "a multicast address";
		}
	}
	if (sa->sa_family == AF_INET) {
		uint32_t a =
		    ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr);

		if ((a >> 24) == 0)
			why = "in 0.0.0.0/8";
		else if (a == 0xffffffffu)
			why = "the broadcast address";
		else if ((a >> 28) == 0xe)
			why = "a multicast address";
	} else if (sa->sa_family != AF_INET6) {
		why = "not an IP address";
	}
	w->rc = -1;
	rc = getnameinfo(
	    sa, salen, w->addr, sizeof(w->addr), NULL, 0, NI_NUMERICHOST);
	if (rc != 0) {
		w->addr[0] = '\0';
		snprintf(
		    w->err, sizeof(w->err), "%s: %s", text, gai_strerror(rc));
		return;
	}
	if (why != NULL) {
		snprintf(w->err, sizeof(w->err),
		    "details.%s: %s is %s, whose replies would come from "
		    "other addresses",
		    key, w->addr, why);
		w->addr[0] = '\0';
		return;
	}
	w->family = sa->sa_family;
	w->rc = 0;
}

/* The old reading of a text under key "ipv4" (without the name syntax
 * check: a text that is not numeric is only marked as a name here). */
static void
t_lit_reference(const char *text, struct t_lit_want *w)
{
	struct addrinfo hints, *res = NULL;

	memset(w, 0, sizeof(*w));
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICHOST;
	if (getaddrinfo(text, NULL, &hints, &res) == 0 && res != NULL) {
		t_lit_check(res->ai_addr, res->ai_addrlen, "ipv4", text, w);
		freeaddrinfo(res);
		return;
	}
	w->is_name = 1;
}

/* Checks target_from_text against t_lit_reference for one text; returns
 * 0 (t_fail said what differs otherwise). */
static int
t_lit_same(const char *text)
{
	struct t_lit_want w;
	struct target t;
	char err[BOT_ERRLEN];
	int rc;

	t_lit_reference(text, &w);
	err[0] = '\0';
	rc = target_from_text(&t, 5, "ipv4", text, AF_INET, err, sizeof(err));
	if (w.is_name) {
		/* Not numeric either way: a name, or refused as no name. */
		if (rc == 0 &&
		    (!t.is_name || strcmp(t.text, text) != 0 || t.resolved ||
		        t.addr[0] != '\0')) {
			t_fail(__FILE__, __LINE__, "\"%s\": not a name", text);
			rc = -2;
		}
		if (rc == 0)
			target_release(&t);
		return rc == -2 ? -1 : 0;
	}
	if (rc != w.rc) {
		t_fail(__FILE__, __LINE__, "\"%s\": rc %d, was %d (%s)", text,
		    rc, w.rc, err);
		if (rc == 0)
			target_release(&t);
		return -1;
	}
	if (rc == -1) {
		if (strcmp(err, w.err) != 0) {
			t_fail(__FILE__, __LINE__, "\"%s\": \"%s\", was \"%s\"",
			    text, err, w.err);
			return -1;
		}
		return 0;
	}
	rc = 0;
	if (strcmp(t.addr, w.addr) != 0 || t.family != w.family || t.is_name ||
	    !t.resolved || !t.answered || t.why != NULL ||
	    strcmp(t.text, text) != 0 ||
	    (t.text == t.addr) != (strcmp(text, w.addr) == 0) ||
	    strcmp(t.key, "ipv4") != 0 || t.want_family != AF_INET) {
		t_fail(__FILE__, __LINE__,
		    "\"%s\": addr \"%s\" family %d text \"%s\"%s, was \"%s\" "
		    "%d",
		    text, t.addr, t.family, t.text,
		    t.text == t.addr ? " (addr)" : "", w.addr, w.family);
		rc = -1;
	}
	target_release(&t);
	return rc;
}

T_TEST(target_literal_texts_as_before)
{
	static const char *const texts[] = {/* dotted quads inet_pton takes */
	    "127.0.0.1", "10.0.0.5", "1.2.3.4", "127.1.0.2", "192.0.2.255",
	    "255.255.255.254", "100.64.0.1", "0.0.0.0", "0.1.2.3", "224.0.0.1",
	    "239.255.255.255", "240.0.0.1", "255.255.255.255",
	    /* IPv4 forms only getaddrinfo takes, or nothing does */
	    "127.1", "127.0.1", "0x7f000001", "0x7f.1", "017700000001",
	    "0177.0.0.1", "01.02.03.04", "127.000.000.001", "2130706433",
	    "4294967295", "4294967296", "0", "0x0", " 127.0.0.1", "127.0.0.1 ",
	    "127.0.0.1\n", "\t127.0.0.1", "127.0.0.256", "256.0.0.1",
	    "1.2.3.4.5", "1.2.3", "1..2.3", "1.2.3.", ".1.2.3", "+1.2.3.4",
	    "-1.2.3.4", "1.2.3.4%lo", "1.2.3.4/32", "",
	    /* IPv6 */
	    "::1", "::", "0:0::1", "2001:DB8:0:0::1", "2001:db8::1",
	    "1:2:3:4:5:6:7:8", "1:0:0:2:0:0:0:3", "1::2:0:0:3",
	    "fe80:0000:0000:0000:0000:0000:0000:0001", "FE80::ABCD",
	    "2001:db8::1.2.3.4", "::127.0.0.1", "::0.0.0.2", "::2",
	    "::ffff:192.0.2.7", "::ffff:127.0.0.1", "::FFFF:7f00:1",
	    "0:0:0:0:0:ffff:1.2.3.4", "::ffff:0.0.0.0",
	    "::ffff:255.255.255.255", "::ffff:224.0.0.1", "::ffff:0:0",
	    "ff02::1", "ff05::2", "fe80::1", "64:ff9b::1.2.3.4",
	    "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", ":::1", "1:::2", "[::1]",
	    "::1 ", " ::1", "::g", "12345::1", "::ffff:1.2.3",
	    /* zones: getaddrinfo's, with getnameinfo's interface names */
	    "fe80::1%lo", "fe80::1%1", "fe80::1%0", "fe80::1%",
	    "fe80::1%no-such-if0", "2001:db8::1%1", "2001:db8::1%lo",
	    "ff02::1%lo", "::ffff:10.0.0.1%lo", "::1%lo", "FE80::1%LO",
	    /* names */
	    "localhost", "router1.lan", "a..b", "-x", "x-", "1.2.3.4.example",
	    "0x7f000001.example"};
	size_t i;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (t_lit_same(texts[i]) != 0)
			return;
}

/* A deterministic stream of 32-bit numbers (an LCG's high bits). */
static uint32_t
t_lit_next(uint64_t *state)
{
	*state = *state * 6364136223846793005u + 1442695040888963407u;
	return (uint32_t)(*state >> 32);
}

T_TEST(target_literal_every_octet_as_before)
{
	char text[INET_ADDRSTRLEN];
	uint64_t state = 1;
	uint32_t a;
	unsigned pos, v;
	int n;

	/* Each octet value in each place (one, two and three digits, 0 and
	 * 255 next to dots), then random addresses of every kind. */
	for (pos = 0; pos < 4; pos++)
		for (v = 0; v < 256; v++) {
			a = 0x7f010203u & ~(0xffu << (8 * pos));
			a |= v << (8 * pos);
			n = snprintf(text, sizeof(text), "%u.%u.%u.%u", a >> 24,
			    a >> 16 & 0xff, a >> 8 & 0xff, a & 0xff);
			T_ASSERT(n > 0 && (size_t)n < sizeof(text));
			if (t_lit_same(text) != 0)
				return;
		}
	for (n = 0; n < 20000; n++) {
		a = t_lit_next(&state);
		snprintf(text, sizeof(text), "%u.%u.%u.%u", a >> 24,
		    a >> 16 & 0xff, a >> 8 & 0xff, a & 0xff);
		if (t_lit_same(text) != 0)
			return;
	}
}

T_TEST(target_literal_random_ipv6_as_before)
{
	struct in6_addr a6;
	char text[INET6_ADDRSTRLEN + 8];
	uint64_t state = 7;
	size_t i;
	int n;

	/* Random addresses with runs of zero groups (so that "::" falls
	 * everywhere), mapped and compatible IPv4 among them, each in
	 * inet_ntop's form and in full uncompressed upper case. */
	for (n = 0; n < 5000; n++) {
		uint32_t r = t_lit_next(&state);

		for (i = 0; i < 16; i += 2) {
			uint32_t g = t_lit_next(&state);

			if ((r >> (i / 2)) & 1)
				g = 0;
			a6.s6_addr[i] = (unsigned char)(g >> 8);
			a6.s6_addr[i + 1] = (unsigned char)g;
		}
		if (n % 10 == 1) /* ::ffff:a.b.c.d */
			memcpy(a6.s6_addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12);
		else if (n % 10 == 2) /* ::a.b.c.d */
			memset(a6.s6_addr, 0, 12);
		T_ASSERT(inet_ntop(AF_INET6, &a6, text, sizeof(text)) != NULL);
		if (t_lit_same(text) != 0)
			return;
		snprintf(text, sizeof(text), "%X:%X:%X:%X:%X:%X:%X:%X",
		    a6.s6_addr[0] << 8 | a6.s6_addr[1],
		    a6.s6_addr[2] << 8 | a6.s6_addr[3],
		    a6.s6_addr[4] << 8 | a6.s6_addr[5],
		    a6.s6_addr[6] << 8 | a6.s6_addr[7],
		    a6.s6_addr[8] << 8 | a6.s6_addr[9],
		    a6.s6_addr[10] << 8 | a6.s6_addr[11],
		    a6.s6_addr[12] << 8 | a6.s6_addr[13],
		    a6.s6_addr[14] << 8 | a6.s6_addr[15]);
		if (t_lit_same(text) != 0)
			return;
	}
}

/* target_pick on one sockaddr against the old check. */
static int
t_lit_pick_same(const struct sockaddr *sa, socklen_t salen)
{
	struct t_lit_want w;
	struct addrinfo ai;
	struct target t;
	char err[BOT_ERRLEN];
	int rc;

	memset(&w, 0, sizeof(w));
	t_lit_check(sa, salen, "host", "h.example", &w);
	/* A name target, as the resolver's answers are applied to. */
	if (target_from_text(
	        &t, 3, "host", "h.example", AF_UNSPEC, err, sizeof(err)) != 0) {
		t_fail(__FILE__, __LINE__, "h.example: %s", err);
		return -1;
	}
	memset(&ai, 0, sizeof(ai));
	ai.ai_family = sa->sa_family;
	ai.ai_socktype = SOCK_DGRAM;
	ai.ai_addr = (struct sockaddr *)(uintptr_t)sa;
	ai.ai_addrlen = salen;
	err[0] = '\0';
	rc = target_pick(&ai, &t, err, sizeof(err));
	if (rc != w.rc ||
	    (rc == 0 &&
	        (strcmp(t.addr, w.addr) != 0 || t.family != w.family)) ||
	    (rc == -1 && strcmp(err, w.err) != 0)) {
		t_fail(__FILE__, __LINE__,
		    "pick: rc %d \"%s\" \"%s\", was %d \"%s\" \"%s\"", rc,
		    t.addr, err, w.rc, w.addr, w.err);
		target_release(&t);
		return -1;
	}
	target_release(&t);
	return 0;
}

T_TEST(target_literal_pick_as_before)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	uint64_t state = 3;
	uint32_t scopes[] = {0, 0, 1, 2, 77};
	int n;

	/* Addresses a resolver hands over: IPv4, and IPv6 with and without
	 * scope ids (getnameinfo's to write, with the interface's name
	 * when it has one), link-local and not; short lengths too. */
	for (n = 0; n < 4000; n++) {
		uint32_t r = t_lit_next(&state);

		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(r);
		if (t_lit_pick_same((struct sockaddr *)&sin, sizeof(sin)) != 0)
			return;
		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		sin6.sin6_addr.s6_addr[0] = n % 3 == 0 ? 0xfe : 0x20;
		sin6.sin6_addr.s6_addr[1] = n % 3 == 0 ? 0x80 : 0x01;
		memcpy(&sin6.sin6_addr.s6_addr[12], &r, 4);
		if (n % 7 == 0)
			memcpy(sin6.sin6_addr.s6_addr,
			    "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12);
		sin6.sin6_scope_id = scopes[n % 5];
		if (t_lit_pick_same((struct sockaddr *)&sin6, sizeof(sin6)) !=
		    0)
			return;
	}
	/* A length too short for the family is getnameinfo's to refuse. */
	if (t_lit_pick_same((struct sockaddr *)&sin, sizeof(sin) - 1) != 0 ||
	    t_lit_pick_same((struct sockaddr *)&sin6, sizeof(sin6) - 1) != 0)
		return;
	sin.sin_family = AF_UNIX;
	(void)t_lit_pick_same((struct sockaddr *)&sin, sizeof(sin));
}
