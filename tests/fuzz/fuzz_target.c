/*
 * libFuzzer target for common/target.c: entity details come from the
 * backend (or a job file), and apibot hands it a URL's host.  The input is
 * tried as a details object, as one text under each key family, and each
 * numeric result is checked: canonical text round-trips, formats fit, and
 * a refused address never comes out as usable.  A text is also read the
 * way target.c did before its shortcuts for literal addresses
 * (getaddrinfo AI_NUMERICHOST, then getnameinfo NI_NUMERICHOST), which
 * must give the same address.
 */
#include <sys/socket.h>

#include <json-c/json.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_target_check(const struct target *t)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char buf[TARGET_ADDRLEN + 16], err[BOT_ERRLEN];
	struct target again;

	if (target_state(t) != TARGET_READY) {
		if (t->addr[0] != '\0' || !t->is_name)
			abort();
		return;
	}
	/* The canonical form parses to itself. */
	if (target_from_text(
	        &again, 1, "x", t->addr, AF_UNSPEC, err, sizeof(err)) != 0 ||
	    strcmp(again.addr, t->addr) != 0 || again.family != t->family)
		abort();
	target_release(&again);
	if (target_format(t, buf, sizeof(buf)) >= sizeof(buf))
		abort();
	if (target_sockaddr(t, &ss, &len) != 0 || ss.ss_family != t->family)
		abort();
}

/* The old reading of text against what target_from_text made of it (rc,
 * t): a numeric text gives getnameinfo's canonical address (IPv4-mapped
 * IPv6 as IPv4), or a refusal; any other text is never a numeric target. */
static void
fuzz_target_as_before(
    const char *text, int rc, const struct target *t, const char *err)
{
	struct addrinfo hints, *res = NULL;
	struct sockaddr_in sin;
	const struct sockaddr *sa;
	socklen_t salen;
	char addr[TARGET_ADDRLEN], want[TARGET_ADDRLEN + 32];

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICHOST;
	if (getaddrinfo(text, NULL, &hints, &res) != 0 || res == NULL) {
		if (rc == 0 && !t->is_name)
			abort();
		return;
	}
	sa = res->ai_addr;
	salen = res->ai_addrlen;
	if (sa->sa_family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED(
	        &((const struct sockaddr_in6 *)sa)->sin6_addr)) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		memcpy(&sin.sin_addr,
		    &((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr[12],
		    4);
		sa = (const struct sockaddr *)&sin;
		salen = sizeof(sin);
	}
	if (getnameinfo(
	        sa, salen, addr, sizeof(addr), NULL, 0, NI_NUMERICHOST) != 0)
		addr[0] = '\0';
	if (rc == 0 &&
	    (t->is_name || strcmp(t->addr, addr) != 0 ||
	        t->family != sa->sa_family))
		abort();
	freeaddrinfo(res);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int families[] = {AF_UNSPEC, AF_INET, AF_INET6};
	struct json_object *o;
	struct target t;
	char *s, err[BOT_ERRLEN];
	size_t i;

	if (size > 4096)
		return 0;
	log_init("fuzz", LOG_LEVEL_NONE);
	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	for (i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		int rc = target_from_text(
		    &t, 1, "url", s, families[i], err, sizeof(err));

		if (i == 0 && size < TARGET_TEXTLEN)
			fuzz_target_as_before(s, rc, &t, err);
		if (rc == 0) {
			fuzz_target_check(&t);
			target_release(&t);
		} else if (err[0] == '\0')
			abort(); /* a refusal always says why */
	}
	o = json_tokener_parse(s);
	if (o != NULL) {
		err[0] = '\0';
		if (target_from_details(&t, 1, o, "ping", err, sizeof(err)) ==
		    0) {
			fuzz_target_check(&t);
			target_release(&t);
		} else if (err[0] == '\0') {
			abort();
		}
		json_object_put(o);
	}
	free(s);
	return 0;
}
