/*
 * Targets: one address per entity, from its details or a text, checked and
 * kept in canonical numeric form so that equal addresses compare equal
 * however they were written.  Nothing here blocks: a numeric address is
 * parsed with AI_NUMERICHOST (never a DNS query; a plain literal, the usual
 * case, with inet_pton, which gives the same for a fraction of the cost,
 * as a dotted quad is written without sprintf), and host names are looked
 * up off the loop thread by common/resolver.c, once per refresh and never
 * per poll.  Targets that would draw replies from other addresses
 * (multicast, broadcast, unspecified) are refused, since an answer must only
 * ever count for the address it was sent to.  A target_resolver keeps the
 * targets whose lookup is under way in a list, so that freeing it leaves
 * none of them pointing at a query that no longer exists.
 */
#include "target.h"

#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <json-c/json.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonx.h"
#include "log.h"
#include "resolver.h"
#include "xmalloc.h"

struct target_resolver {
	struct resolver *r;
	const char *verbing;
	target_cb *cb;
	void *arg;
	struct target *pending; /* targets with a query under way */
};

/* A name target's lookup under way (t->lookup). */
struct target_lookup {
	struct target_resolver *tr;
	struct resolver_query *query;
	struct target *prev, *next; /* in tr->pending */
};

/* RFC 1123 host name syntax, relaxed to accept '_' (seen in internal
 * zones).  Anything else cannot be a name worth a DNS query. */
static int
target_name_ok(const char *s)
{
	size_t len = strlen(s), label = 0, i;

	if (len == 0 || len > 253)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		        (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return 0;
		if (c == '-' && label == 0)
			return 0;
		if (++label > 63)
			return 0;
	}
	return 1;
}

/* Dotted decimal, as inet_ntop writes an IPv4 address, without the
 * sprintf it calls (the largest part of preparing a job); buf has room
 * for "255.255.255.255". */
static void
target_ntop4(const struct in_addr *a, char *buf)
{
	const unsigned char *b = (const unsigned char *)&a->s_addr;
	char *p = buf;
	int i;

	for (i = 0; i < 4; i++) {
		if (i > 0)
			*p++ = '.';
		if (b[i] >= 100)
			*p++ = (char)('0' + b[i] / 100);
		if (b[i] >= 10)
			*p++ = (char)('0' + b[i] / 10 % 10);
		*p++ = (char)('0' + b[i] % 10);
	}
	*p = '\0';
}

/* getnameinfo(NI_NUMERICHOST) into buf (len bytes): what it writes for
 * IPv4 and for IPv6 without a scope id is inet_ntop's text, made here
 * directly; anything else (a scope id, whose name it looks up, another
 * family, a short salen) is left to it.  0, or an EAI_* code. */
static int
target_ntop(const struct sockaddr *sa, socklen_t salen, char *buf, size_t len)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

	if (sa->sa_family == AF_INET && salen >= sizeof(struct sockaddr_in) &&
	    len >= INET_ADDRSTRLEN) {
		target_ntop4(&((const struct sockaddr_in *)sa)->sin_addr, buf);
		return 0;
	}
	if (sa->sa_family == AF_INET6 && salen >= sizeof(struct sockaddr_in6) &&
	    s6->sin6_scope_id == 0 && len >= INET6_ADDRSTRLEN &&
	    inet_ntop(AF_INET6, &s6->sin6_addr, buf, (socklen_t)len) != NULL)
		return 0;
	return getnameinfo(
	    sa, salen, buf, (socklen_t)len, NULL, 0, NI_NUMERICHOST);
}

/* Checks one address and writes its canonical text into t (text is the
 * configured text, for an error).  IPv4-mapped IPv6 addresses become plain
 * IPv4 (ICMPv6 or UDP over IPv6 to them never reaches the IPv4 host as
 * meant).  Returns 0, or -1 with err. */
static int
target_addr_from(const struct sockaddr *sa, socklen_t salen, struct target *t,
    const char *text, char *err, size_t errlen)
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
	rc = target_ntop(sa, salen, t->addr, sizeof(t->addr));
	if (rc != 0) {
		t->addr[0] = '\0';
		snprintf(err, errlen, "%s: %s", text, gai_strerror(rc));
		return -1;
	}
	if (why != NULL) {
		snprintf(err, errlen,
		    "details.%s: %s is %s, whose replies would come from "
		    "other addresses",
		    t->key, t->addr, why);
		t->addr[0] = '\0';
		return -1;
	}
	t->family = sa->sa_family;
	return 0;
}

/* Replaces t->why by a copy of why. */
static void
target_set_why(struct target *t, const char *why)
{
	free(t->why);
	t->why = xstrdup(why);
}

/* Frees what t allocated (its text and why). */
static void
target_free_text(struct target *t)
{
	if (t->text != t->addr)
		free(t->text);
	free(t->why);
	t->text = NULL;
	t->why = NULL;
}

/* Room for the sockaddr of a literal address of either family. */
union target_sa {
	struct sockaddr sa;
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
};

/* A literal address that inet_pton takes (a dotted quad, or IPv6 without
 * "%zone") into *u: for such a text getaddrinfo's AI_NUMERICHOST gives the
 * very same address and family, but at the cost of its allocations, so
 * this is only a shortcut to it.  Its length, or 0 for any other text
 * ("127.1", "0x7f000001", "fe80::1%lo": getaddrinfo's to judge). */
static socklen_t
target_literal(const char *s, union target_sa *u)
{
	memset(u, 0, sizeof(*u));
	if (inet_pton(AF_INET, s, &u->sin.sin_addr) == 1) {
		u->sin.sin_family = AF_INET;
		return sizeof(u->sin);
	}
	if (inet_pton(AF_INET6, s, &u->sin6.sin6_addr) == 1) {
		u->sin6.sin6_family = AF_INET6;
		return sizeof(u->sin6);
	}
	return 0;
}

/* Parses s (borrowed; t->key set): numeric or a host name.  On success
 * t->text is set (an own copy, or t->addr when s is the canonical
 * address); on failure it stays NULL. */
static int
target_classify(struct target *t, const char *s, char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL;
	union target_sa lit;
	socklen_t len;
	int rc = -1;

	/* A numeric address of either family is accepted under any key
	 * (AI_NUMERICHOST never queries DNS); it also takes "%zone". */
	len = target_literal(s, &lit);
	if (len == 0) {
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_DGRAM;
		hints.ai_flags = AI_NUMERICHOST;
		if (getaddrinfo(s, NULL, &hints, &res) != 0)
			res = NULL;
	}
	if (len != 0 || res != NULL) {
		if (len != 0)
			rc = target_addr_from(&lit.sa, len, t, s, err, errlen);
		else
			rc = target_addr_from(
			    res->ai_addr, res->ai_addrlen, t, s, err, errlen);
		if (rc == 0) {
			t->resolved = t->answered = 1;
			/* Most texts are their canonical address already:
			 * keep no second copy (a numeric addr never
			 * changes). */
			t->text =
			    strcmp(s, t->addr) == 0 ? t->addr : xstrdup(s);
		}
		goto out;
	}
	if (!target_name_ok(s)) {
		snprintf(err, errlen,
		    "details.%s: \"%s\" is neither an IP address nor a host "
		    "name",
		    t->key, s);
		goto out;
	}
	t->text = xstrdup(s);
	t->is_name = 1;
	target_set_why(t, "not resolved yet");
	rc = 0;
out:
	if (res != NULL)
		freeaddrinfo(res);
	return rc;
}

static void
target_init(struct target *t, int64_t job_id)
{
	memset(t, 0, sizeof(*t));
	t->family = AF_UNSPEC;
	t->job_id = job_id;
}

/* Checks the length of s and sets t->key; the text itself is set by
 * target_classify. */
static int
target_set_key(
    struct target *t, const char *key, const char *s, char *err, size_t errlen)
{
	size_t len = strlen(s);

	if (len >= TARGET_TEXTLEN) {
		snprintf(err, errlen, "details.%s is too long (%zu bytes)", key,
		    len);
		return -1;
	}
	t->key = key;
	return 0;
}

int
target_from_details(struct target *t, int64_t job_id,
    struct json_object *details, const char *verb, char *err, size_t errlen)
{
	static const char *const keys[] = {"ipv4", "ipv6", "host", "hostname"};
	static const int families[] = {AF_INET, AF_INET6, AF_UNSPEC, AF_UNSPEC};
	const char *s = NULL;
	size_t i;

	target_init(t, job_id);
	if (details != NULL &&
	    !json_object_is_type(details, json_type_object)) {
		snprintf(err, errlen, "entity details are not an object");
		return -1;
	}
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		struct json_object *m;

		if (details == NULL ||
		    !json_object_object_get_ex(details, keys[i], &m) ||
		    jsonx_blank(m)) /* the UI stores empty fields as "" */
			continue;
		if (!json_object_is_type(m, json_type_string)) {
			snprintf(err, errlen, "details.%s must be a string",
			    keys[i]);
			return -1;
		}
		s = json_object_get_string(m);
		if (target_set_key(t, keys[i], s, err, errlen) != 0)
			return -1;
		t->want_family = families[i];
		break;
	}
	if (t->key == NULL) {
		snprintf(err, errlen,
		    "entity details have no ipv4, ipv6 or host to %s", verb);
		return -1;
	}
	if (target_classify(t, s, err, errlen) == -1) {
		target_free_text(t);
		return -1;
	}
	return 0;
}

int
target_from_text(struct target *t, int64_t job_id, const char *key,
    const char *text, int want_family, char *err, size_t errlen)
{
	target_init(t, job_id);
	if (text == NULL || text[0] == '\0') {
		snprintf(err, errlen, "details.%s has no host", key);
		return -1;
	}
	if (target_set_key(t, key, text, err, errlen) != 0)
		return -1;
	t->want_family = want_family;
	if (target_classify(t, text, err, errlen) == -1) {
		target_free_text(t);
		return -1;
	}
	return 0;
}

void
target_set_port(struct target *t, unsigned port)
{
	t->port = (unsigned short)port;
}

enum target_state
target_state(const struct target *t)
{
	if (t->resolved)
		return TARGET_READY;
	return t->answered ? TARGET_FAILED : TARGET_WAITING;
}

int
target_pick(
    const struct addrinfo *res, struct target *t, char *err, size_t errlen)
{
	const struct addrinfo *ai;
	struct target try;

	/* The resolver's order is the system's preference (RFC 6724); take
	 * the first usable address, remembering why others failed. */
	snprintf(err, errlen, "resolves to no address");
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		memcpy(&try, t, sizeof(try));
		if (target_addr_from(ai->ai_addr, ai->ai_addrlen, &try, t->text,
		        err, errlen) == 0) {
			memcpy(t->addr, try.addr, sizeof(t->addr));
			t->family = try.family;
			return 0;
		}
	}
	return -1;
}

int
target_apply(
    struct target *t, int rc, const struct addrinfo *res, const char *verbing)
{
	struct target got;
	char why[BOT_ERRLEN];
	int first = !t->answered;

	t->answered = 1;
	if (rc != 0)
		snprintf(
		    why, sizeof(why), "does not resolve: %s", gai_strerror(rc));
	memcpy(&got, t, sizeof(got));
	if (rc != 0 || target_pick(res, &got, why, sizeof(why)) == -1) {
		if (t->resolved && !t->stale)
			log_warnx("job %lld (%s): %s; still %s %s",
			    (long long)t->job_id, t->text, why, verbing,
			    t->addr);
		if (t->resolved)
			t->stale = 1;
		else
			target_set_why(t, why);
		if (first)
			log_debug("job %lld (%s): %s", (long long)t->job_id,
			    t->text, why);
		return first;
	}
	if (first)
		log_debug("job %lld (%s): resolved to %s", (long long)t->job_id,
		    t->text, got.addr);
	else if (!t->resolved || strcmp(got.addr, t->addr) != 0)
		log_info("job %lld (%s): now resolves to %s",
		    (long long)t->job_id, t->text, got.addr);
	memcpy(t->addr, got.addr, sizeof(t->addr));
	t->family = got.family;
	t->resolved = 1;
	t->stale = 0;
	return first;
}

int
target_sockaddr(
    const struct target *t, struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints, *res = NULL;
	char port[16];
	int rc = -1;

	if (!t->resolved)
		return -1;
	snprintf(port, sizeof(port), "%u", t->port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = t->family;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	/* Numeric: no DNS; it also fills in a "%zone"'s scope id. */
	if (getaddrinfo(t->addr, port, &hints, &res) != 0 || res == NULL ||
	    res->ai_addrlen > sizeof(*ss))
		goto out;
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	rc = 0;
out:
	if (res != NULL)
		freeaddrinfo(res);
	return rc;
}

size_t
target_format(const struct target *t, char *buf, size_t len)
{
	int n;

	if (!t->resolved)
		n = snprintf(buf, len, "%s", "");
	else if (t->port == 0)
		n = snprintf(buf, len, "%s", t->addr);
	else if (t->family == AF_INET6)
		n = snprintf(buf, len, "[%s]:%u", t->addr, t->port);
	else
		n = snprintf(buf, len, "%s:%u", t->addr, t->port);
	return n < 0 ? 0 : (size_t)n;
}

static void
target_unlink(struct target *t)
{
	struct target_lookup *lk = t->lookup;

	if (lk == NULL)
		return;
	if (lk->prev != NULL)
		lk->prev->lookup->next = lk->next;
	else
		lk->tr->pending = lk->next;
	if (lk->next != NULL)
		lk->next->lookup->prev = lk->prev;
	free(lk);
	t->lookup = NULL;
}

static void
target_on_answer(int rc, const struct addrinfo *res, void *arg)
{
	struct target *t = arg;
	struct target_resolver *tr = t->lookup->tr;
	int first;

	target_unlink(t);
	first = target_apply(t, rc, res, tr->verbing);
	if (tr->cb != NULL)
		tr->cb(t, first, tr->arg);
}

struct target_resolver *
target_resolver_new(struct loop *l, int n_threads, const char *verbing,
    target_cb *cb, void *arg)
{
	struct target_resolver *tr;
	struct resolver *r = resolver_new(l, n_threads);

	if (r == NULL)
		return NULL;
	tr = xcalloc(1, sizeof(*tr));
	tr->r = r;
	tr->verbing = verbing;
	tr->cb = cb;
	tr->arg = arg;
	return tr;
}

void
target_resolver_free(struct target_resolver *tr)
{
	if (tr == NULL)
		return;
	/* resolver_free drops every query without calling back. */
	while (tr->pending != NULL)
		target_unlink(tr->pending);
	resolver_free(tr->r);
	free(tr);
}

size_t
target_resolver_pending(const struct target_resolver *tr)
{
	size_t n = 0;
	const struct target *t;

	for (t = tr->pending; t != NULL; t = t->lookup->next)
		n++;
	return n;
}

void
target_resolve(struct target *t, struct target_resolver *tr)
{
	struct target_lookup *lk;

	if (!t->is_name || t->lookup != NULL)
		return;
	lk = xcalloc(1, sizeof(*lk));
	lk->tr = tr;
	lk->next = tr->pending;
	if (tr->pending != NULL)
		tr->pending->lookup->prev = t;
	tr->pending = t;
	t->lookup = lk;
	lk->query = resolver_lookup(
	    tr->r, t->text, t->want_family, target_on_answer, t);
}

void
target_release(struct target *t)
{
	if (t->lookup != NULL) {
		resolver_cancel(t->lookup->query);
		target_unlink(t);
	}
	target_free_text(t);
}
