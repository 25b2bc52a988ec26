/*
 * libFuzzer target for jobfetch's lexical scan reader: whenever
 * jobfetch_scan_ids is sure of an entity text (returns 0 or 1), json-c
 * must parse the same text, and reading it as jobfetch's json-c path does
 * (jf_candidate, jf_ids_of) must give the same verdict and the same
 * record ids.  The first input byte picks the bot id (0-3).
 */
#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jobfetch.h"
#include "jobs.h"
#include "jsonx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* jobfetch.c's json-c reading: 1 (ours, ids), 0 (not ours), -2 when
 * json-c does not parse the text as one value. */
static int
fuzz_oracle(
    const char *text, size_t len, int64_t bot_id, int64_t **ids, uint32_t *n)
{
	struct json_tokener *tok = json_tokener_new_ex(JOBS_LIST_MAX_DEPTH);
	struct json_object *e, *v, *protocols, *proto, *sensors;
	size_t k, ns = 0;
	int rc = 0;

	*ids = NULL;
	*n = 0;
	if (tok == NULL)
		abort();
	e = json_tokener_parse_ex(tok, text, (int)len);
	if (e == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len) {
		rc = -2;
		goto out;
	}
	if (!json_object_is_type(e, json_type_object) ||
	    !json_object_object_get_ex(e, "entity_type", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), "device") != 0 ||
	    !json_object_object_get_ex(e, "protocols", &protocols) ||
	    !json_object_is_type(protocols, json_type_object) ||
	    !json_object_object_get_ex(protocols, "ping", &proto) ||
	    !json_object_is_type(proto, json_type_object))
		goto out;
	if (json_object_object_get_ex(proto, "bot", &v) && v != NULL &&
	    (!json_object_is_type(v, json_type_int) ||
	        json_object_get_int64(v) != bot_id))
		goto out;
	if (json_object_object_get_ex(proto, "sensors", &sensors) &&
	    json_object_is_type(sensors, json_type_array))
		ns = json_object_array_length(sensors);
	*ids = calloc(ns + 1, sizeof(**ids));
	if (*ids == NULL)
		abort();
	(*ids)[0] = jsonx_int(proto, "credential");
	for (k = 0; k < ns; k++)
		(*ids)[k + 1] =
		    jsonx_int(json_object_array_get_idx(sensors, k), "sensor");
	*n = (uint32_t)(ns + 1);
	rc = 1;
out:
	json_object_put(e);
	json_tokener_free(tok);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int64_t *a, *b, bot_id;
	uint32_t na, nb, k;
	int ra, rb;

	if (size < 1)
		return 0;
	bot_id = data[0] & 3;
	ra = jobfetch_scan_ids(
	    (const char *)data + 1, size - 1, "ping", bot_id, &a, &na);
	if (ra == -1) {
		if (a != NULL || na != 0)
			abort();
		return 0;
	}
	rb = fuzz_oracle((const char *)data + 1, size - 1, bot_id, &b, &nb);
	if (ra != rb || na != nb)
		abort();
	for (k = 0; k < na; k++)
		if (a[k] != b[k] && !(a[k] <= 0 && b[k] <= 0))
			abort();
	free(a);
	free(b);
	return 0;
}
