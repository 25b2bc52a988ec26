/*
 * Ping job configuration: turns a credential's details into packet
 * parameters and an entity's details into one target address.  Everything
 * here runs on the loop thread at job refresh and never blocks: host names
 * are resolved off the loop (common/resolver.c), once per refresh and never
 * per ping, and pingcfg_pick chooses among the answers.  Targets that would
 * draw replies from other addresses (multicast, broadcast, unspecified) are
 * refused, since a reply must only ever count for the address it was sent to.
 */
#include "pingcfg.h"

#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>

#include <json-c/json.h>
#include <math.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "jobs.h"
#include "jsonx.h"

/* jsonx's number rule: absent, null or blank means the default (the UI
 * stores empty fields as ""; the official bot treats a missing key as the
 * default); a number or numeric string; the range. */
static int
pingcfg_number(struct json_object *cred, const char *key, double def,
    double min, double max, int whole, double *out, char *err, size_t errlen)
{
	char why[BOT_ERRLEN];

	if (jsonx_number(cred, key, def, min, max, whole ? JSONX_WHOLE : 0, out,
	        why, sizeof(why)) == -1) {
		snprintf(err, errlen, "credential: %s", why);
		return -1;
	}
	return 0;
}

int
pingcfg_parse(
    struct json_object *cred, struct pingcfg *cfg, char *err, size_t errlen)
{
	double n, sleep_s, timeout_s, retry;

	if (cred != NULL && !json_object_is_type(cred, json_type_object)) {
		snprintf(err, errlen, "credential details are not an object");
		return -1;
	}
	if (pingcfg_number(cred, "n_packets", PINGCFG_DEF_N_PACKETS, 1,
	        PINGCFG_MAX_PACKETS, 1, &n, err, errlen) != 0 ||
	    pingcfg_number(cred, "sleep_packets", PINGCFG_DEF_SLEEP_S, 0,
	        PINGCFG_MAX_SLEEP_S, 0, &sleep_s, err, errlen) != 0 ||
	    pingcfg_number(cred, "timeout", PINGCFG_DEF_TIMEOUT_S,
	        PINGCFG_MIN_TIMEOUT, PINGCFG_MAX_TIMEOUT, 0, &timeout_s, err,
	        errlen) != 0 ||
	    pingcfg_number(cred, "retry", PINGCFG_DEF_RETRY, 0,
	        PINGCFG_MAX_RETRY, 1, &retry, err, errlen) != 0)
		return -1;
	cfg->n_packets = (int)n;
	cfg->sleep_s = sleep_s;
	cfg->timeout_s = timeout_s;
	cfg->retry = (int)retry;
	return 0;
}

/* RFC 1123 host name syntax, relaxed to accept '_' (seen in internal
 * zones).  Anything else cannot be a name worth a DNS query. */
static int
pingcfg_name_ok(const char *s)
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

/* Checks one resolved address and writes its canonical text.  IPv4-mapped
 * IPv6 addresses become plain IPv4, because ICMPv6 echo to them never
 * reaches the IPv4 host.  Returns 0, or -1 with err. */
static int
pingcfg_addr_from(const struct sockaddr *sa, socklen_t salen,
    struct pingcfg_target *t, char *err, size_t errlen)
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
	rc = getnameinfo(
	    sa, salen, t->addr, sizeof(t->addr), NULL, 0, NI_NUMERICHOST);
	if (rc != 0) {
		t->addr[0] = '\0';
		snprintf(err, errlen, "%s: %s", t->text, gai_strerror(rc));
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

static int
pingcfg_set_text(struct pingcfg_target *t, struct json_object *m,
    const char *key, char *err, size_t errlen)
{
	const char *s;
	size_t len;

	if (!json_object_is_type(m, json_type_string)) {
		snprintf(err, errlen, "details.%s must be a string", key);
		return -1;
	}
	s = json_object_get_string(m);
	len = strlen(s);
	if (len >= sizeof(t->text)) {
		snprintf(err, errlen, "details.%s is too long (%zu bytes)", key,
		    len);
		return -1;
	}
	memcpy(t->text, s, len + 1);
	t->key = key;
	return 0;
}

int
pingcfg_target_parse(struct json_object *details, struct pingcfg_target *t,
    char *err, size_t errlen)
{
	static const char *const keys[] = {"ipv4", "ipv6", "host", "hostname"};
	static const int families[] = {AF_INET, AF_INET6, AF_UNSPEC, AF_UNSPEC};
	struct addrinfo hints, *res = NULL;
	size_t i;
	int rc = -1;

	memset(t, 0, sizeof(*t));
	t->family = AF_UNSPEC;
	if (details != NULL &&
	    !json_object_is_type(details, json_type_object)) {
		snprintf(err, errlen, "entity details are not an object");
		return -1;
	}
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		struct json_object *m;

		if (details == NULL ||
		    !json_object_object_get_ex(details, keys[i], &m) ||
		    jsonx_blank(m))
			continue;
		if (pingcfg_set_text(t, m, keys[i], err, errlen) != 0)
			return -1;
		t->want_family = families[i];
		break;
	}
	if (t->key == NULL) {
		snprintf(err, errlen,
		    "entity details have no ipv4, ipv6 or host to ping");
		return -1;
	}

	/* A numeric address of either family is accepted under any key
	 * (AI_NUMERICHOST never queries DNS); it also takes "%zone". */
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICHOST;
	if (getaddrinfo(t->text, NULL, &hints, &res) == 0 && res != NULL) {
		rc = pingcfg_addr_from(
		    res->ai_addr, res->ai_addrlen, t, err, errlen);
		goto out;
	}
	if (!pingcfg_name_ok(t->text)) {
		snprintf(err, errlen,
		    "details.%s: \"%s\" is neither an IP address nor a host "
		    "name",
		    t->key, t->text);
		goto out;
	}
	t->is_name = 1;
	rc = 0;
out:
	if (res != NULL)
		freeaddrinfo(res);
	return rc;
}

int
pingcfg_pick(const struct addrinfo *res, struct pingcfg_target *t, char *err,
    size_t errlen)
{
	const struct addrinfo *ai;
	struct pingcfg_target try;

	/* The resolver's order is the system's preference (RFC 6724); take
	 * the first address we can ping, remembering why others failed. */
	snprintf(err, errlen, "resolves to no address");
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		try = *t;
		if (pingcfg_addr_from(
		        ai->ai_addr, ai->ai_addrlen, &try, err, errlen) == 0) {
			*t = try;
			return 0;
		}
	}
	return -1;
}
