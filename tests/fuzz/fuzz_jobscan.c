/*
 * libFuzzer target for jobfetch's lexical scan reader: whenever
 * jobfetch_scan_ids is sure of an entity text (returns 0 or 1), json-c
 * must parse the same text, and reading it as jobfetch's json-c path does
 * (jf_candidate, jf_ids_of) must give the same verdict and the same
 * record ids.  When it reads an entity whole (jobfetch_scan_entity's
 * "complete"), the job jobfetch builds from that reading (jobs_from_parts)
 * must be the one jobs_from_entity_flags builds from json-c's, with
 * records made up from their ids (some missing, some broken).  The first
 * input byte picks the bot id (0-3) and the interval flag (4).
 */
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
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

/* The record of id made up for the build: NULL when it "does not exist"
 * (or the id is none), else an object, some of them broken. */
static struct json_object *
fuzz_record(int64_t id, int sensor)
{
	char text[160];

	if (id <= 0 || id % 5 == 0)
		return NULL;
	if (!sensor)
		snprintf(text, sizeof(text),
		    "{\"id\": %lld, \"details\": {\"n\": %lld}}", (long long)id,
		    (long long)(id % 3));
	else if (id % 7 == 0)
		snprintf(text, sizeof(text), "{\"details\": {}}");
	else if (id % 11 == 0)
		snprintf(text, sizeof(text),
		    "{\"id\": %lld, \"default_interval\": \"x\", "
		    "\"details\": {}}",
		    (long long)id);
	else
		snprintf(text, sizeof(text),
		    "{\"id\": %lld, \"default_interval\": %s, "
		    "\"details\": {\"s\": %lld}}",
		    (long long)id, id % 3 ? "60" : "null", (long long)(id % 4));
	return json_tokener_parse(text);
}

/* The job jobfetch's json-c path builds: the entity parsed, its records
 * put in place (jf_resolve), then jobs_from_entity_flags. */
static enum jobs_verdict
fuzz_build_parsed(const char *text, size_t len, int64_t bot_id, unsigned flags,
    struct job **job, char *err, size_t errlen)
{
	struct json_tokener *tok = json_tokener_new_ex(JOBS_LIST_MAX_DEPTH);
	struct json_object *e, *proto, *sensors;
	enum jobs_verdict v;
	size_t i;

	if (tok == NULL)
		abort();
	e = json_tokener_parse_ex(tok, text, (int)len);
	json_tokener_free(tok);
	if (e == NULL)
		abort(); /* the scan read it whole: json-c must take it */
	proto = json_object_object_get(
	    json_object_object_get(e, "protocols"), "ping");
	json_object_object_add(proto, "credential",
	    fuzz_record(jsonx_int(proto, "credential"), 0));
	sensors = json_object_object_get(proto, "sensors");
	for (i = 0; i < json_object_array_length(sensors);) {
		struct json_object *item =
		    json_object_array_get_idx(sensors, i);
		struct json_object *rec =
		    fuzz_record(jsonx_int(item, "sensor"), 1);

		if (rec == NULL) {
			json_object_array_del_idx(sensors, i, 1);
			continue;
		}
		json_object_object_add(item, "sensor", rec);
		i++;
	}
	v = jobs_from_entity_flags(
	    e, 1, "ping", bot_id, flags, job, err, errlen);
	json_object_put(e);
	return v;
}

/* The job jobfetch builds from the scan's reading (jf_build_scanned). */
static enum jobs_verdict
fuzz_build_scanned(const struct jobfetch_scan *sc, unsigned flags,
    struct job **job, char *err, size_t errlen)
{
	struct json_object *recs[64];
	struct json_tokener *tok;
	int iv[64];
	struct jobs_parts parts;
	enum jobs_verdict v;
	char *name;
	uint32_t k;

	memset(&parts, 0, sizeof(parts));
	parts.credential = fuzz_record(sc->ids[0], 0);
	for (k = 1; k < sc->n_ids && parts.n_sensors < 64; k++) {
		recs[parts.n_sensors] = fuzz_record(sc->ids[k], 1);
		if (recs[parts.n_sensors] == NULL)
			continue;
		iv[parts.n_sensors++] = sc->intervals[k];
	}
	tok = json_tokener_new_ex(JOBS_LIST_MAX_DEPTH);
	if (tok == NULL)
		abort();
	parts.details =
	    json_tokener_parse_ex(tok, sc->details, (int)sc->details_len);
	json_tokener_free(tok);
	name = strndup(sc->name, sc->name_len);
	if (name == NULL)
		abort();
	parts.id = sc->id;
	parts.name = name;
	parts.sensors = recs;
	parts.intervals = iv;
	v = jobs_from_parts(&parts, 1, "ping", flags, job, err, errlen);
	json_object_put(parts.details);
	json_object_put(parts.credential);
	for (k = 0; k < parts.n_sensors; k++)
		json_object_put(recs[k]);
	free(name);
	return v;
}

/* Both builds of a text the scan read whole must agree. */
static void
fuzz_compare_builds(const char *text, size_t len, int64_t bot_id,
    unsigned flags, const struct jobfetch_scan *sc)
{
	char err_a[256] = "", err_b[256] = "";
	struct job *a = NULL, *b = NULL;
	enum jobs_verdict va, vb;
	size_t i;

	if (sc->n_ids > 64)
		return;
	va = fuzz_build_scanned(sc, flags, &a, err_a, sizeof(err_a));
	vb = fuzz_build_parsed(
	    text, len, bot_id, flags, &b, err_b, sizeof(err_b));
	if (va != vb || strcmp(err_a, err_b) != 0)
		abort();
	if (va == JOBS_OK) {
		if (a->id != b->id || strcmp(a->name, b->name) != 0 ||
		    a->n_sensors != b->n_sensors ||
		    memcmp(a->fingerprint, b->fingerprint, JOB_FP_LEN) != 0 ||
		    (a->warnings == NULL) != (b->warnings == NULL) ||
		    (a->warnings != NULL &&
		        strcmp(a->warnings, b->warnings) != 0))
			abort();
		for (i = 0; i < a->n_sensors; i++)
			if (a->sensors[i].interval_s !=
			    b->sensors[i].interval_s)
				abort();
		job_unref(a);
		job_unref(b);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jobfetch_scan sc;
	int64_t *a, *b, bot_id;
	uint32_t na, nb, k;
	unsigned flags;
	int ra, rb;

	if (size < 1)
		return 0;
	bot_id = data[0] & 3;
	flags = (data[0] & 4) ? JOBS_SENSOR_INTERVAL_OPTIONAL : 0;
	ra = jobfetch_scan_ids(
	    (const char *)data + 1, size - 1, "ping", bot_id, &a, &na);
	if (ra == -1) {
		if (a != NULL || na != 0)
			abort();
		return 0;
	}
	if (jobfetch_scan_entity(
	        (const char *)data + 1, size - 1, "ping", bot_id, &sc) != ra)
		abort();
	if (ra == 1 && sc.complete)
		fuzz_compare_builds(
		    (const char *)data + 1, size - 1, bot_id, flags, &sc);
	jobfetch_scan_release(&sc);
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
