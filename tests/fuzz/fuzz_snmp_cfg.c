/*
 * libFuzzer target for snmpbot's job configuration (snmpbot/snmpcfg.c):
 * credential, entity and sensor details come from the backend or a job
 * file.  The input is parsed as JSON and handed to all three parsers; a
 * refusal must say why and never quote a secret given as a long string,
 * and what is accepted must hold: the port in 1..65535, a target ready or
 * waiting for its name, 1..32 OIDs of at least two parts.
 */
// fuzz-sources: snmpbot/snmpcfg.c snmpbot/expr.c
// fuzz-sources: snmpbot/snmppath.c snmpbot/slug.c
#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../snmpbot/snmpcfg.h"
#include "jsonx.h"
#include "log.h"
#include "target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts when err quotes one of the credential's secrets (strings of 12
 * characters or more, which no fixed wording holds). */
static void
fuzz_snmp_cfg_no_secret(struct json_object *o, const char *err)
{
	static const char *const keys[] = {"snmpv12_community",
	    "snmpv3_authKey", "snmpv3_privKey", "snmpv3_securityName"};
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *s = jsonx_str(o, keys[i]);

		if (s != NULL && strlen(s) >= 12 && strstr(err, s) != NULL)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object *o = NULL;
	struct snmpcfg_cred c;
	struct snmpcfg_sensor s;
	struct target t;
	char err[BOT_ERRLEN];
	int i;

	if (size > 8192)
		return 0;
	log_init("fuzz", LOG_LEVEL_NONE);
	if (jsonx_parse((const char *)data, size, 32, &o, err, sizeof(err)) !=
	        0 ||
	    o == NULL)
		return 0;

	err[0] = '\0';
	if (snmpcfg_cred_parse(o, &c, err, sizeof(err)) != 0) {
		if (err[0] == '\0')
			abort();
		fuzz_snmp_cfg_no_secret(o, err);
	} else if (c.version < SNMPCFG_V1 || c.version > SNMPCFG_V3) {
		abort();
	}

	err[0] = '\0';
	if (snmpcfg_target_parse(o, 1, &t, err, sizeof(err)) == 0) {
		if (t.port < 1 || t.port > 65535 ||
		    target_state(&t) == TARGET_FAILED ||
		    (target_state(&t) == TARGET_WAITING) != t.is_name)
			abort();
		target_release(&t);
	} else if (err[0] == '\0') {
		abort();
	}

	err[0] = '\0';
	if (snmpcfg_sensor_parse(o, &s, err, sizeof(err)) == 0) {
		if (s.n_oids < 1 || s.n_oids > SNMPCFG_MAX_OIDS ||
		    s.expr == NULL || s.path == NULL)
			abort();
		for (i = 0; i < s.n_oids; i++)
			if (s.oids[i].len < 2 || s.oids[i].walk != s.walk[i])
				abort();
		snmpcfg_sensor_release(&s);
	} else if (err[0] == '\0') {
		abort();
	}
	json_object_put(o);
	return 0;
}
