/*
 * Unit tests for target.c: picking the target from entity details (the
 * cases pingbot's tests had when this lived in pingbot/pingcfg.c), numeric
 * forms and refused addresses, a text target with a port, how answers move
 * the address or leave it stale, and lookups through a real loop and
 * resolver (names from /etc/hosts only, so no DNS is needed).
 */
#include "t.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <json-c/json.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>

#include "loop.h"
#include "target.h"
#include "timer.h"

static int
t_target_parse(const char *text, struct target *t, char *err, size_t errlen)
{
	struct json_object *o = t_json(text);
	int rc;

	err[0] = '\0';
	target_release(t); /* what the test parsed into t before */
	rc = target_from_details(t, 7, o, "ping", err, errlen);
	json_object_put(o);
	return rc;
}

static struct addrinfo *
t_target_lookup(const char *name)
{
	struct addrinfo hints, *res = NULL;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICHOST;
	if (getaddrinfo(name, NULL, &hints, &res) != 0)
		return NULL;
	return res;
}

T_TEST(target_numeric)
{
	struct target t = {0};
	char err[BOT_ERRLEN];

	T_EQ_INT(
	    t_target_parse("{\"ipv4\": \"10.0.0.5\"}", &t, err, sizeof(err)),
	    0);
	T_EQ_STR(t.addr, "10.0.0.5");
	T_EQ_STR(t.text, "10.0.0.5");
	/* A text that is its canonical address keeps no second copy. */
	T_ASSERT(t.text == t.addr);
	T_EQ_STR(t.key, "ipv4");
	T_EQ_INT(t.family, AF_INET);
	T_EQ_INT(t.is_name, 0);

	/* IPv6 is stored in canonical form, so equal addresses compare
	 * equal whatever way they were written. */
	T_EQ_INT(t_target_parse(
	             "{\"ipv6\": \"2001:DB8:0:0::1\"}", &t, err, sizeof(err)),
	    0);
	T_EQ_STR(t.addr, "2001:db8::1");
	T_EQ_STR(t.text, "2001:DB8:0:0::1"); /* as configured, own copy */
	T_ASSERT(t.text != t.addr);
	T_EQ_STR(t.key, "ipv6");
	T_EQ_INT(t.family, AF_INET6);

	T_EQ_INT(
	    t_target_parse("{\"ipv6\": \"0:0::1\"}", &t, err, sizeof(err)), 0);
	T_EQ_STR(t.addr, "::1");

	/* IPv4-mapped IPv6 is pinged over IPv4. */
	T_EQ_INT(t_target_parse(
	             "{\"ipv6\": \"::ffff:192.0.2.7\"}", &t, err, sizeof(err)),
	    0);
	T_EQ_STR(t.addr, "192.0.2.7");
	T_EQ_INT(t.family, AF_INET);

	/* A numeric address under another key is still numeric. */
	T_EQ_INT(
	    t_target_parse("{\"host\": \"127.0.0.2\"}", &t, err, sizeof(err)),
	    0);
	T_EQ_STR(t.addr, "127.0.0.2");
	T_EQ_INT(t.is_name, 0);
	target_release(&t);
}

T_TEST(target_priority)
{
	struct target t = {0};
	char err[BOT_ERRLEN];

	T_EQ_INT(t_target_parse("{\"host\": \"h.example\", \"ipv6\": \"::1\", "
	                        "\"ipv4\": \"127.0.0.1\"}",
	             &t, err, sizeof(err)),
	    0);
	T_EQ_STR(t.key, "ipv4");
	T_EQ_STR(t.addr, "127.0.0.1");

	T_EQ_INT(t_target_parse("{\"host\": \"h.example\", \"ipv6\": \"::1\"}",
	             &t, err, sizeof(err)),
	    0);
	T_EQ_STR(t.key, "ipv6");
	T_EQ_STR(t.addr, "::1");

	/* An empty ipv4 (as the UI may store it) does not hide the rest. */
	T_EQ_INT(t_target_parse("{\"ipv4\": \"\", \"hostname\": \"h.example\"}",
	             &t, err, sizeof(err)),
	    0);
	T_EQ_STR(t.key, "hostname");
	T_EQ_STR(t.text, "h.example");
	T_EQ_INT(t.is_name, 1);
	T_EQ_STR(t.addr, "");

	T_EQ_INT(t_target_parse("{\"host\": \"H-1.example.\", \"hostname\": "
	                        "\"other\"}",
	             &t, err, sizeof(err)),
	    0);
	T_EQ_STR(t.key, "host");
	T_EQ_STR(t.text, "H-1.example.");
	T_EQ_INT(t.want_family, AF_UNSPEC);

	/* The official bot resolves whatever is in ipv4; so do we, but
	 * only for IPv4 addresses. */
	T_EQ_INT(
	    t_target_parse("{\"ipv4\": \"router1.lan\"}", &t, err, sizeof(err)),
	    0);
	T_EQ_INT(t.is_name, 1);
	T_EQ_INT(t.want_family, AF_INET);
	target_release(&t);
}

T_TEST(target_bad)
{
	static const struct {
		const char *json;
		const char *msg;
	} cases[] = {
	    {"{}", "entity details have no ipv4, ipv6 or host to ping"},
	    {"{\"ipv4\": \"\", \"snmp_index\": \"3\"}",
	        "entity details have no ipv4, ipv6 or host to ping"},
	    {"[]", "entity details are not an object"},
	    {"{\"ipv4\": 167772165}", "details.ipv4 must be a string"},
	    {"{\"ipv4\": \"10.0.0.5 ; rm\"}",
	        "details.ipv4: \"10.0.0.5 ; rm\" is neither an IP address "
	        "nor a host name"},
	    {"{\"host\": \"-bad.example\"}",
	        "details.host: \"-bad.example\" is neither an IP address "
	        "nor a host name"},
	    {"{\"host\": \"a..b\"}",
	        "details.host: \"a..b\" is neither an "
	        "IP address nor a host name"},
	    {"{\"ipv4\": \"224.0.0.1\"}",
	        "details.ipv4: 224.0.0.1 is a multicast address, whose "
	        "replies would come from other addresses"},
	    {"{\"ipv4\": \"255.255.255.255\"}",
	        "details.ipv4: 255.255.255.255 is the broadcast address, "
	        "whose replies would come from other addresses"},
	    {"{\"ipv4\": \"0.0.0.0\"}",
	        "details.ipv4: 0.0.0.0 is in 0.0.0.0/8, whose replies would "
	        "come from other addresses"},
	    {"{\"ipv6\": \"ff02::1\"}",
	        "details.ipv6: ff02::1 is a multicast address, whose "
	        "replies would come from other addresses"},
	    {"{\"ipv6\": \"::\"}",
	        "details.ipv6: :: is the unspecified address, whose "
	        "replies would come from other addresses"},
	};
	struct target t = {0};
	char err[BOT_ERRLEN];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		T_EQ_INT(
		    t_target_parse(cases[i].json, &t, err, sizeof(err)), -1);
		T_EQ_STR(err, cases[i].msg);
	}
	T_EQ_INT(
	    target_from_details(&t, 1, NULL, "ping", err, sizeof(err)), -1);
}

T_TEST(target_pick_first_usable)
{
	struct target t = {0};
	struct addrinfo *bad, *good, *mapped;
	char err[BOT_ERRLEN];

	T_EQ_INT(t_target_parse(
	             "{\"host\": \"router.example\"}", &t, err, sizeof(err)),
	    0);
	T_ASSERT(t.is_name);
	bad = t_target_lookup("224.0.0.1");
	good = t_target_lookup("192.0.2.7");
	mapped = t_target_lookup("::ffff:192.0.2.8");
	T_ASSERT(bad != NULL && good != NULL && mapped != NULL);

	/* Nothing usable: t stays as it was, err says why. */
	T_EQ_INT(target_pick(bad, &t, err, sizeof(err)), -1);
	T_EQ_STR(t.addr, "");
	T_ASSERT(strstr(err, "multicast") != NULL);
	T_EQ_INT(target_pick(NULL, &t, err, sizeof(err)), -1);
	T_EQ_STR(err, "resolves to no address");

	/* The first usable answer wins, in the resolver's order. */
	bad->ai_next = good;
	T_EQ_INT(target_pick(bad, &t, err, sizeof(err)), 0);
	T_EQ_STR(t.addr, "192.0.2.7");
	T_EQ_INT(t.family, AF_INET);
	bad->ai_next = NULL;

	/* IPv4-mapped IPv6 becomes IPv4. */
	T_EQ_INT(target_pick(mapped, &t, err, sizeof(err)), 0);
	T_EQ_STR(t.addr, "192.0.2.8");
	T_EQ_INT(t.family, AF_INET);
	freeaddrinfo(bad);
	freeaddrinfo(good);
	freeaddrinfo(mapped);
	target_release(&t);
}

T_TEST(target_states)
{
	struct target t = {0};
	char err[BOT_ERRLEN];

	T_EQ_INT(
	    t_target_parse("{\"ipv4\": \"10.0.0.5\"}", &t, err, sizeof(err)),
	    0);
	T_EQ_INT(target_state(&t), TARGET_READY);
	T_EQ_INT(t.job_id, 7);
	T_EQ_INT(t_target_parse(
	             "{\"host\": \"router.example\"}", &t, err, sizeof(err)),
	    0);
	T_EQ_INT(target_state(&t), TARGET_WAITING);
	T_EQ_STR(t.why, "not resolved yet");
	/* Nothing to cancel: releasing is a no-op. */
	target_release(&t);
}

T_TEST(target_text_port_and_formats)
{
	struct target t = {0};
	struct sockaddr_storage ss;
	socklen_t len = 0;
	char err[BOT_ERRLEN], buf[TARGET_ADDRLEN + 16];

	/* apibot's case: a URL's host, with its port. */
	T_EQ_INT(target_from_text(
	             &t, 3, "url", "2001:DB8::7", AF_UNSPEC, err, sizeof(err)),
	    0);
	T_EQ_STR(t.addr, "2001:db8::7");
	T_EQ_STR(t.key, "url");
	T_EQ_INT(target_format(&t, buf, sizeof(buf)), 11);
	T_EQ_STR(buf, "2001:db8::7");
	target_set_port(&t, 8080);
	target_format(&t, buf, sizeof(buf));
	T_EQ_STR(buf, "[2001:db8::7]:8080");
	T_EQ_INT(target_sockaddr(&t, &ss, &len), 0);
	T_EQ_INT(ss.ss_family, AF_INET6);
	T_EQ_INT(len, sizeof(struct sockaddr_in6));
	T_EQ_INT(ntohs(((struct sockaddr_in6 *)&ss)->sin6_port), 8080);

	/* snmpbot's case: the device's address, UDP 161. */
	target_release(&t);
	T_EQ_INT(
	    t_target_parse("{\"ipv4\": \"192.0.2.9\"}", &t, err, sizeof(err)),
	    0);
	target_set_port(&t, 161);
	target_format(&t, buf, sizeof(buf));
	T_EQ_STR(buf, "192.0.2.9:161");
	T_EQ_INT(target_sockaddr(&t, &ss, &len), 0);
	T_EQ_INT(ss.ss_family, AF_INET);
	T_EQ_INT(ntohs(((struct sockaddr_in *)&ss)->sin_port), 161);
	T_EQ_STR(inet_ntoa(((struct sockaddr_in *)&ss)->sin_addr), "192.0.2.9");

	/* A name without an address has neither. */
	target_release(&t);
	T_EQ_INT(target_from_text(
	             &t, 3, "url", "api.example", AF_UNSPEC, err, sizeof(err)),
	    0);
	T_EQ_INT(target_format(&t, buf, sizeof(buf)), 0);
	T_EQ_STR(buf, "");
	T_EQ_INT(target_sockaddr(&t, &ss, &len), -1);
	target_release(&t);

	T_EQ_INT(
	    target_from_text(&t, 3, "url", "", AF_UNSPEC, err, sizeof(err)),
	    -1);
	T_EQ_STR(err, "details.url has no host");
	T_EQ_INT(
	    target_from_text(&t, 3, "url", "a b", AF_UNSPEC, err, sizeof(err)),
	    -1);
	T_EQ_STR(err,
	    "details.url: \"a b\" is neither an IP address nor a "
	    "host name");
}

T_TEST(target_answers_move_or_go_stale)
{
	struct target t = {0};
	struct addrinfo *a1, *a2, *bad;
	char err[BOT_ERRLEN];

	a1 = t_target_lookup("192.0.2.1");
	a2 = t_target_lookup("192.0.2.2");
	bad = t_target_lookup("224.0.0.9");
	T_ASSERT(a1 != NULL && a2 != NULL && bad != NULL);

	/* A first answer that fails: FAILED, with the reason. */
	T_EQ_INT(t_target_parse(
	             "{\"hostname\": \"dev.example\"}", &t, err, sizeof(err)),
	    0);
	T_EQ_INT(target_apply(&t, EAI_NONAME, NULL, "pinging"), 1);
	T_EQ_INT(target_state(&t), TARGET_FAILED);
	T_ASSERT(strncmp(t.why, "does not resolve: ", 18) == 0);

	/* Then it resolves, moves, stops resolving (kept, stale), and comes
	 * back. */
	T_EQ_INT(target_apply(&t, 0, a1, "pinging"), 0);
	T_EQ_INT(target_state(&t), TARGET_READY);
	T_EQ_STR(t.addr, "192.0.2.1");
	T_EQ_INT(target_apply(&t, 0, a2, "pinging"), 0);
	T_EQ_STR(t.addr, "192.0.2.2");
	T_EQ_INT(t.stale, 0);
	T_EQ_INT(target_apply(&t, EAI_NONAME, NULL, "pinging"), 0);
	T_EQ_INT(target_state(&t), TARGET_READY);
	T_EQ_STR(t.addr, "192.0.2.2");
	T_EQ_INT(t.stale, 1);
	/* An answer with nothing usable counts as not resolving. */
	T_EQ_INT(target_apply(&t, 0, bad, "pinging"), 0);
	T_EQ_STR(t.addr, "192.0.2.2");
	T_EQ_INT(t.stale, 1);
	T_EQ_INT(target_apply(&t, 0, a1, "pinging"), 0);
	T_EQ_STR(t.addr, "192.0.2.1");
	T_EQ_INT(t.stale, 0);

	/* A first answer that works: READY at once. */
	T_EQ_INT(t_target_parse(
	             "{\"hostname\": \"dev.example\"}", &t, err, sizeof(err)),
	    0);
	T_EQ_INT(target_apply(&t, 0, a2, "pinging"), 1);
	T_EQ_INT(target_state(&t), TARGET_READY);
	T_EQ_STR(t.addr, "192.0.2.2");
	freeaddrinfo(a1);
	freeaddrinfo(a2);
	freeaddrinfo(bad);
	target_release(&t);
}

struct t_target_seen {
	struct loop *l;
	struct target_resolver *tr;
	int calls, firsts;
	struct timer deadline, poll;
};

static void
t_target_on(struct target *t, int first, void *arg)
{
	struct t_target_seen *s = arg;

	(void)t;
	s->calls++;
	s->firsts += first;
}

static void
t_target_deadline(struct timer *t, void *arg)
{
	struct t_target_seen *s = arg;

	(void)t;
	loop_break(s->l);
}

static void
t_target_poll(struct timer *t, void *arg)
{
	struct t_target_seen *s = arg;

	if (target_resolver_pending(s->tr) == 0)
		loop_break(s->l);
	else
		loop_timer_start(s->l, t, 5);
}

static void
t_target_run(struct t_target_seen *s)
{
	timer_init(&s->deadline, t_target_deadline, s);
	timer_init(&s->poll, t_target_poll, s);
	loop_timer_start(s->l, &s->deadline, 10000);
	loop_timer_start(s->l, &s->poll, 0);
	if (loop_run(s->l) == -1)
		t_fail(__FILE__, __LINE__, "loop_run failed");
	loop_timer_stop(s->l, &s->deadline);
	loop_timer_stop(s->l, &s->poll);
}

T_TEST(target_lookups_through_the_resolver)
{
	struct t_target_seen s;
	struct target name = {0}, num = {0}, gone = {0};
	char err[BOT_ERRLEN];

	memset(&s, 0, sizeof(s));
	s.l = loop_new();
	s.tr = target_resolver_new(s.l, 2, "pinging", t_target_on, &s);
	T_ASSERT(s.tr != NULL);
	T_EQ_INT(t_target_parse(
	             "{\"ipv4\": \"localhost\"}", &name, err, sizeof(err)),
	    0);
	T_EQ_INT(
	    t_target_parse("{\"ipv4\": \"127.0.0.3\"}", &num, err, sizeof(err)),
	    0);
	T_EQ_INT(t_target_parse(
	             "{\"host\": \"localhost\"}", &gone, err, sizeof(err)),
	    0);

	/* Numeric targets need no lookup; a second call while one is under
	 * way starts nothing. */
	target_resolve(&num, s.tr);
	target_resolve(&name, s.tr);
	target_resolve(&name, s.tr);
	target_resolve(&gone, s.tr);
	T_EQ_INT(target_resolver_pending(s.tr), 2);
	target_release(&gone); /* cancelled: never called back */
	T_EQ_INT(target_resolver_pending(s.tr), 1);
	t_target_run(&s);
	T_EQ_INT(s.calls, 1);
	T_EQ_INT(s.firsts, 1);
	T_EQ_INT(target_state(&name), TARGET_READY);
	T_EQ_STR(name.addr, "127.0.0.1");
	T_EQ_INT(target_state(&gone), TARGET_WAITING);

	/* Again at a refresh: same address, not a first answer. */
	target_resolve(&name, s.tr);
	t_target_run(&s);
	T_EQ_INT(s.calls, 2);
	T_EQ_INT(s.firsts, 1);
	T_EQ_STR(name.addr, "127.0.0.1");

	/* Freeing the resolver with a lookup under way leaves the target
	 * releasable. */
	target_resolve(&name, s.tr);
	T_EQ_INT(target_resolver_pending(s.tr), 1);
	target_resolver_free(s.tr);
	target_release(&name);
	target_release(&num);
	T_EQ_INT(s.calls, 2);
	loop_free(s.l);
}
