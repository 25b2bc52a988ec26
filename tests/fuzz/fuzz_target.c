/*
 * libFuzzer target for common/target.c: entity details come from the
 * backend (or a job file), and apibot hands it a URL's host.  The input is
 * tried as a details object, as one text under each key family, and each
 * numeric result is checked: canonical text round-trips, formats fit, and
 * a refused address never comes out as usable.
 */
#include <sys/socket.h>

#include <json-c/json.h>
#include <stdint.h>
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
		if (target_from_text(
		        &t, 1, "url", s, families[i], err, sizeof(err)) == 0) {
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
