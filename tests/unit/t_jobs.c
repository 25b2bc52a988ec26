/*
 * Unit tests for jobs.c: resolved entity JSON to jobs (verdicts, error
 * texts, intervals, warnings, fingerprints), job files in both shapes and
 * broken, and the number reader used for credential fields.
 */
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "jobs.h"
#include "t.h"

/* A job's fingerprint in hex (a new string), for comparing with T_EQ_STR. */
static char *
fp_hex(const struct job *job)
{
	char *s = malloc(2 * JOB_FP_LEN + 1);
	size_t i;

	for (i = 0; s != NULL && i < JOB_FP_LEN; i++)
		snprintf(s + 2 * i, 3, "%02x", job->fingerprint[i]);
	return s;
}

/* An SNMP device with the default records of a new account: the v2c
 * "public" credential and the Traffic IN/OUT sensors, one on its default
 * interval and one with the entity's own interval. */
static const char snmp_entity[] =
    "{\"id\": 53709761, \"name\": \"router1\", \"entity_type\": \"device\", "
    "\"parent\": null, \"details\": {\"ipv4\": \"192.0.2.10\"}, "
    "\"protocols\": {\"snmp\": {"
    "\"credential\": {\"id\": 1839923320, \"name\": \"SNMP public\", "
    "\"protocol\": \"snmp\", \"details\": {\"version\": \"snmpv2c\", "
    "\"snmpv12_community\": \"public\"}}, "
    "\"bot\": 2039155163, "
    "\"sensors\": ["
    "{\"sensor\": {\"id\": 1282607110, \"name\": \"Traffic IN\", "
    "\"protocol\": \"snmp\", \"default_interval\": 300, \"details\": "
    "{\"oids\": [{\"oid\": \"1.3.6.1.2.1.2.2.1.2\", \"fetch_method\": "
    "\"walk\"}, {\"oid\": \"1.3.6.1.2.1.2.2.1.10\", \"fetch_method\": "
    "\"walk\"}], \"expression\": \"$2\", \"output_path\": "
    "\"if.in-octets.{$index}.{$1}\"}}, \"interval\": null}, "
    "{\"sensor\": {\"id\": 933359428, \"name\": \"Traffic OUT\", "
    "\"protocol\": \"snmp\", \"default_interval\": 300, \"details\": "
    "{\"oids\": [{\"oid\": \"1.3.6.1.2.1.2.2.1.2\", \"fetch_method\": "
    "\"walk\"}, {\"oid\": \"1.3.6.1.2.1.2.2.1.16\", \"fetch_method\": "
    "\"walk\"}], \"expression\": \"$2\", \"output_path\": "
    "\"if.out-octets.{$index}.{$1}\"}}, \"interval\": 120}"
    "]}}}";

/* Returns text with the first "from" replaced by "to" (caller frees), or
 * NULL when from does not occur. */
static char *
replace(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);
	size_t pre, flen = strlen(from), tlen = strlen(to);
	char *out;

	if (at == NULL)
		return NULL;
	pre = (size_t)(at - text);
	out = malloc(strlen(text) - flen + tlen + 1);
	if (out == NULL)
		return NULL;
	memcpy(out, text, pre);
	memcpy(out + pre, to, tlen);
	memcpy(out + pre + tlen, at + flen, strlen(at + flen) + 1);
	return out;
}

/* Parses text and builds its job; err is always NUL-terminated. */
static enum jobs_verdict
build(const char *text, const char *proto, int64_t bot_id, struct job **out,
    char *err, size_t errlen)
{
	struct json_object *obj = json_tokener_parse(text);
	enum jobs_verdict v;

	err[0] = '\0';
	*out = NULL;
	if (obj == NULL) {
		snprintf(err, errlen, "test JSON does not parse");
		return (enum jobs_verdict)99;
	}
	v = jobs_from_entity(obj, 7, proto, bot_id, out, err, errlen);
	json_object_put(obj);
	return v;
}

/* Builds the entity with one replacement applied. */
static enum jobs_verdict
build_variant(const char *from, const char *to, struct job **out, char *err,
    size_t errlen)
{
	char *text = replace(snmp_entity, from, to);
	enum jobs_verdict v;

	if (text == NULL) {
		snprintf(err, errlen, "\"%s\" not in the entity", from);
		*out = NULL;
		return (enum jobs_verdict)98;
	}
	v = build(text, "snmp", -1, out, err, errlen);
	free(text);
	return v;
}

T_TEST(jobs_default_snmp_entity)
{
	char err[BOT_ERRLEN];
	struct json_object *v;
	struct job *job;

	T_EQ_INT(
	    build(snmp_entity, "snmp", -1, &job, err, sizeof(err)), JOBS_OK);
	T_ASSERT(job != NULL);
	T_EQ_INT(job->id, 53709761);
	T_EQ_INT(job->account_id, 7);
	T_EQ_STR(job->name, "router1");
	T_EQ_INT(job->refs, 1);
	T_ASSERT(job->warnings == NULL);
	T_EQ_INT(job_same(job, job), 1); /* fingerprinted */
	T_ASSERT(job->priv == NULL);
	T_ASSERT(job->sched_entry == NULL);
	T_ASSERT(json_object_object_get_ex(job->details, "ipv4", &v));
	T_EQ_STR(json_object_get_string(v), "192.0.2.10");
	/* The credential is its details object. */
	T_ASSERT(json_object_object_get_ex(job->credential, "version", &v));
	T_EQ_STR(json_object_get_string(v), "snmpv2c");
	T_ASSERT(!json_object_object_get_ex(job->credential, "id", &v));
	T_EQ_INT(job->n_sensors, 2);
	T_EQ_INT(job->sensors[0].id, 1282607110);
	T_EQ_INT(job->sensors[0].interval_s, 300);
	T_EQ_INT(job->sensors[1].id, 933359428);
	/* The entity's interval overrides the sensor's default. */
	T_EQ_INT(job->sensors[1].interval_s, 120);
	T_ASSERT(json_object_object_get_ex(
	    job->sensors[1].details, "output_path", &v));
	T_EQ_STR(json_object_get_string(v), "if.out-octets.{$index}.{$1}");
	T_EQ_INT(job->n_intervals, 2);
	T_EQ_INT(job->intervals_s[0], 120);
	T_EQ_INT(job->intervals_s[1], 300);
	job_unref(job);
}

T_TEST(jobs_intervals_sorted_distinct)
{
	static const char sensors[] =
	    "\"sensors\": ["
	    "{\"sensor\": {\"id\": 1, \"default_interval\": 300}, "
	    "\"interval\": null}, "
	    "{\"sensor\": {\"id\": 2, \"default_interval\": 300}, "
	    "\"interval\": 120}, "
	    "{\"sensor\": {\"id\": 3, \"default_interval\": 60}, "
	    "\"interval\": 300}, "
	    "{\"sensor\": {\"id\": 4, \"default_interval\": 60}}, "
	    "{\"sensor\": {\"id\": 5, \"default_interval\": null}, "
	    "\"interval\": 60}, "
	    "{\"sensor\": {\"id\": 6, \"default_interval\": 2678400}, "
	    "\"interval\": null}]";
	char text[2048], err[BOT_ERRLEN];
	struct job *job;

	snprintf(text, sizeof(text),
	    "{\"id\": 5, \"entity_type\": \"device\", \"protocols\": "
	    "{\"ping\": {\"credential\": {\"details\": {}}, %s}}}",
	    sensors);
	T_EQ_INT(build(text, "ping", -1, &job, err, sizeof(err)), JOBS_OK);
	T_EQ_INT(job->n_sensors, 6);
	T_EQ_INT(job->n_intervals, 4);
	T_EQ_INT(job->intervals_s[0], 60);
	T_EQ_INT(job->intervals_s[1], 120);
	T_EQ_INT(job->intervals_s[2], 300);
	T_EQ_INT(job->intervals_s[3], JOBS_MAX_INTERVAL_S);
	/* Absent name, details and sensor details are empty, not errors. */
	T_EQ_STR(job->name, "");
	T_EQ_INT(json_object_object_length(job->details), 0);
	T_EQ_INT(json_object_object_length(job->sensors[0].details), 0);
	{
		int due[] = {60, 3600};

		T_EQ_INT(job_sensor_due(&job->sensors[3], due, 2), 1);
		T_EQ_INT(job_sensor_due(&job->sensors[0], due, 2), 0);
		T_EQ_INT(job_sensor_due(&job->sensors[0], due, 0), 0);
	}
	job_unref(job);
}

T_TEST(jobs_sensor_without_interval_is_skipped)
{
	char err[BOT_ERRLEN];
	struct job *job;

	/* Traffic IN: default null and entity interval null. */
	T_EQ_INT(build_variant("\"default_interval\": 300",
	             "\"default_interval\": null", &job, err, sizeof(err)),
	    JOBS_OK);
	T_EQ_INT(job->n_sensors, 1);
	T_EQ_INT(job->sensors[0].id, 933359428);
	T_EQ_INT(job->n_intervals, 1);
	T_EQ_INT(job->intervals_s[0], 120);
	T_ASSERT(job->warnings != NULL);
	T_ASSERT(strstr(job->warnings, "sensor 1282607110 skipped") != NULL);
	T_ASSERT(strstr(job->warnings, "no interval") != NULL);
	job_unref(job);
}

T_TEST(jobs_all_sensors_broken_is_invalid)
{
	char err[BOT_ERRLEN], *a, *b;
	struct job *job;

	a = replace(snmp_entity, "\"default_interval\": 300",
	    "\"default_interval\": null");
	T_ASSERT(a != NULL);
	b = replace(a, "\"interval\": 120", "\"interval\": 0");
	free(a);
	T_ASSERT(b != NULL);
	T_EQ_INT(build(b, "snmp", -1, &job, err, sizeof(err)), JOBS_INVALID);
	free(b);
	T_ASSERT(job == NULL);
	T_ASSERT(strstr(err, "no usable sensors") != NULL);
	T_ASSERT(strstr(err, "sensor 1282607110 skipped") != NULL);
	T_ASSERT(strstr(err, "sensor 933359428 skipped") != NULL);
}

/* A replacement in the entity, the verdict it must give and a piece of
 * the error text (or of job->warnings for a skipped sensor). */
struct variant {
	const char *from, *to;
	enum jobs_verdict want;
	const char *text;
};

T_TEST(jobs_wrong_types)
{
	static const struct variant vs[] = {
	    {"\"id\": 53709761", "\"id\": \"53709761\"", JOBS_INVALID,
	        "no valid id"},
	    {"\"id\": 53709761", "\"id\": 0", JOBS_INVALID, "no valid id"},
	    {"\"id\": 53709761", "\"id\": -1", JOBS_INVALID, "no valid id"},
	    {"\"id\": 53709761", "\"id\": 1.5", JOBS_INVALID, "no valid id"},
	    {"\"id\": 53709761", "\"id\": null", JOBS_INVALID, "no valid id"},
	    {"\"id\": 53709761", "\"id\": 99999999999999999999", JOBS_INVALID,
	        "no valid id"},
	    {"\"id\": 53709761, ", "", JOBS_INVALID, "no valid id"},
	    {"\"details\": {\"ipv4\": \"192.0.2.10\"}", "\"details\": [1]",
	        JOBS_INVALID, "details is not an object"},
	    {"\"details\": {\"ipv4\": \"192.0.2.10\"}", "\"details\": \"x\"",
	        JOBS_INVALID, "details is not an object"},
	    {"\"details\": {\"ipv4\": \"192.0.2.10\"}", "\"details\": null",
	        JOBS_OK, NULL},
	    {"\"protocols\": {\"snmp\"", "\"protocols\": [], \"x\": {\"snmp\"",
	        JOBS_SKIP, NULL},
	    {"\"protocols\": {\"snmp\"",
	        "\"protocols\": null, \"x\": {\"snmp\"", JOBS_SKIP, NULL},
	    {"\"protocols\": {\"snmp\": {",
	        "\"protocols\": {\"snmp\": 5, \"x\": {", JOBS_INVALID,
	        "protocols.snmp is not an object"},
	    {"\"protocols\": {\"snmp\": {",
	        "\"protocols\": {\"snmp\": null, \"x\": {", JOBS_SKIP, NULL},
	    {"\"bot\": 2039155163", "\"bot\": \"2039155163\"", JOBS_INVALID,
	        "bot is not an id"},
	    {"\"bot\": 2039155163", "\"bot\": 0", JOBS_INVALID,
	        "bot is not an id"},
	    {"\"credential\": {\"id\": 1839923320",
	        "\"credential\": null, \"c\": {\"id\": 1839923320",
	        JOBS_INVALID, "no snmp credential"},
	    {"\"credential\": {\"id\": 1839923320",
	        "\"c\": {\"id\": 1839923320", JOBS_INVALID,
	        "no snmp credential"},
	    {"\"credential\": {\"id\": 1839923320",
	        "\"credential\": 1839923320, \"c\": {\"id\": 1", JOBS_INVALID,
	        "credential is not a resolved record"},
	    {"\"details\": {\"version\"",
	        "\"details\": [], \"d\": {\"version\"", JOBS_INVALID,
	        "credential details is not an object"},
	    {"\"sensors\": [", "\"sensors\": [], \"s\": [", JOBS_INVALID,
	        "no snmp sensors"},
	    {"\"sensors\": [", "\"sensors\": {}, \"s\": [", JOBS_INVALID,
	        "no snmp sensors"},
	    {"\"sensors\": [", "\"s\": [", JOBS_INVALID, "no snmp sensors"},
	    {"\"entity_type\": \"device\"", "\"entity_type\": \"interface\"",
	        JOBS_SKIP, NULL},
	    {"\"entity_type\": \"device\"", "\"entity_type\": 1", JOBS_SKIP,
	        NULL},
	    {"\"entity_type\": \"device\", ", "", JOBS_SKIP, NULL},
	    {"\"name\": \"router1\"", "\"name\": 5", JOBS_OK, NULL},
	    /* Per-sensor problems skip only that sensor. */
	    {"\"interval\": 120", "\"interval\": \"x\"", JOBS_OK,
	        "interval must be a number, got \"x\""},
	    {"\"interval\": 120", "\"interval\": 0", JOBS_OK,
	        "interval must be a whole number from 1 to 2678400, got 0"},
	    {"\"interval\": 120", "\"interval\": -1", JOBS_OK,
	        "interval must be a whole number from 1 to 2678400, got -1"},
	    {"\"interval\": 120", "\"interval\": 1e12", JOBS_OK,
	        "got 1000000000000"},
	    {"\"interval\": 120", "\"interval\": 1000000000000", JOBS_OK,
	        "from 1 to 2678400, got 1000000000000"},
	    {"\"interval\": 120", "\"interval\": 2678401", JOBS_OK,
	        "from 1 to 2678400, got 2678401"},
	    {"\"interval\": 120", "\"interval\": 60.5", JOBS_OK,
	        "must be a whole number from 1 to 2678400, got 60.5"},
	    {"\"interval\": 120", "\"interval\": [120]", JOBS_OK,
	        "interval must be a number, got [120]"},
	    {"\"default_interval\": 300", "\"default_interval\": \"300\"",
	        JOBS_OK, "default_interval must be a number, got \"300\""},
	    {"\"default_interval\": 300", "\"default_interval\": -300", JOBS_OK,
	        "default_interval must be a whole number from 1 to 2678400, "
	        "got "
	        "-300"},
	    {"{\"sensor\": {\"id\": 1282607110", "{\"sensor\": {\"id\": \"1\"",
	        JOBS_OK, "not a resolved sensor record"},
	    {"{\"sensor\": {\"id\": 1282607110",
	        "{\"sensor\": 1282607110, \"x\": {\"id\": 1", JOBS_OK,
	        "not a resolved sensor record"},
	    {"{\"sensor\": {\"id\": 1282607110", "[], {\"x\": {\"id\": 1",
	        JOBS_OK, "sensor #0 skipped: not a resolved sensor record"},
	    {"\"default_interval\": 300, \"details\": {",
	        "\"default_interval\": 300, \"details\": [], \"d\": {", JOBS_OK,
	        "details is not an object"},
	};
	char err[BOT_ERRLEN];
	struct job *job;
	size_t i;

	for (i = 0; i < sizeof(vs) / sizeof(vs[0]); i++) {
		enum jobs_verdict v;
		const char *where;

		v = build_variant(vs[i].from, vs[i].to, &job, err, sizeof(err));
		where = v == JOBS_OK && job != NULL && job->warnings
		    ? job->warnings
		    : err;
		if (v != vs[i].want ||
		    (vs[i].text != NULL && strstr(where, vs[i].text) == NULL) ||
		    (v == JOBS_OK) != (job != NULL))
			t_fail(__FILE__, __LINE__,
			    "variant %zu (%s -> %s): verdict %d, want %d, "
			    "text \"%s\", want \"%s\"",
			    i, vs[i].from, vs[i].to, (int)v, (int)vs[i].want,
			    where, vs[i].text ? vs[i].text : "");
		if (v == JOBS_OK && vs[i].text == NULL)
			T_ASSERT(job->warnings == NULL);
		job_unref(job);
		T_ASSERT(!t_failed);
	}
}

T_TEST(jobs_not_an_object)
{
	static const char *texts[] = {"[1]", "5", "\"x\"", "true"};
	char err[BOT_ERRLEN];
	struct job *job;
	size_t i;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		T_EQ_INT(build(texts[i], "snmp", -1, &job, err, sizeof(err)),
		    JOBS_INVALID);
		T_ASSERT(job == NULL);
		T_ASSERT(err[0] != '\0');
	}
}

T_TEST(jobs_protocol_and_bot_assignment)
{
	char err[BOT_ERRLEN];
	struct job *job;

	/* Not our protocol. */
	T_EQ_INT(
	    build(snmp_entity, "ping", -1, &job, err, sizeof(err)), JOBS_SKIP);
	T_ASSERT(job == NULL);
	/* Assigned to us, to any, or to someone else. */
	T_EQ_INT(build(snmp_entity, "snmp", 2039155163, &job, err, sizeof(err)),
	    JOBS_OK);
	job_unref(job);
	T_EQ_INT(
	    build(snmp_entity, "snmp", -1, &job, err, sizeof(err)), JOBS_OK);
	job_unref(job);
	T_EQ_INT(
	    build(snmp_entity, "snmp", 77, &job, err, sizeof(err)), JOBS_SKIP);
	T_ASSERT(job == NULL);
	/* A deleted bot shows as null: anyone takes it. */
	{
		char *t = replace(
		    snmp_entity, "\"bot\": 2039155163", "\"bot\": null");

		T_ASSERT(t != NULL);
		T_EQ_INT(build(t, "snmp", 77, &job, err, sizeof(err)), JOBS_OK);
		job_unref(job);
		free(t);
		t = replace(snmp_entity, "\"bot\": 2039155163, ", "");
		T_ASSERT(t != NULL);
		T_EQ_INT(build(t, "snmp", 77, &job, err, sizeof(err)), JOBS_OK);
		job_unref(job);
		free(t);
	}
}

/* The fingerprint of the entity with one replacement. */
static char *
fingerprint_of(const char *from, const char *to)
{
	char err[BOT_ERRLEN], *text, *fp = NULL;
	struct job *job;

	text = replace(snmp_entity, from, to);
	if (text == NULL)
		return NULL;
	if (build(text, "snmp", -1, &job, err, sizeof(err)) == JOBS_OK) {
		fp = fp_hex(job);
		job_unref(job);
	}
	free(text);
	return fp;
}

T_TEST(jobs_fingerprint)
{
	static const char *changes[][2] = {
	    {"\"interval\": 120", "\"interval\": 60"},
	    {"\"default_interval\": 300", "\"default_interval\": 600"},
	    {"\"public\"", "\"private\""},
	    {"\"snmpv2c\"", "\"snmpv1\""},
	    {"\"expression\": \"$2\"", "\"expression\": \"$2 * 8\""},
	    {"\"router1\"", "\"router2\""},
	    {"\"192.0.2.10\"", "\"192.0.2.11\""},
	    {"{\"id\": 933359428", "{\"id\": 933359429"},
	};
	char *a, *b, *c;
	size_t i;

	a = fingerprint_of("\"router1\"", "\"router1\"");
	b = fingerprint_of("\"router1\"", "\"router1\"");
	T_ASSERT(a != NULL && b != NULL);
	T_EQ_STR(a, b);
	free(b);
	/* Records' own ids, names and the bot do not shape the runs. */
	b = fingerprint_of("\"name\": \"Traffic IN\"", "\"name\": \"In\"");
	T_ASSERT(b != NULL);
	T_EQ_STR(a, b);
	free(b);
	for (i = 0; i < sizeof(changes) / sizeof(changes[0]); i++) {
		c = fingerprint_of(changes[i][0], changes[i][1]);
		T_ASSERT(c != NULL);
		if (strcmp(a, c) == 0)
			t_fail(__FILE__, __LINE__,
			    "fingerprint unchanged by %s -> %s", changes[i][0],
			    changes[i][1]);
		free(c);
		T_ASSERT(!t_failed);
	}
	free(a);
}

/* The job of snmp_entity with its credential record replaced by cred (a
 * reference is taken), so that several jobs share one record object. */
static struct job *
job_with_credential(struct json_object *cred)
{
	char err[BOT_ERRLEN];
	struct json_object *e = json_tokener_parse(snmp_entity), *proto;
	struct job *job = NULL;

	if (e == NULL)
		return NULL;
	proto = json_object_object_get(
	    json_object_object_get(e, "protocols"), "snmp");
	json_object_object_add(proto, "credential", json_object_get(cred));
	if (jobs_from_entity(e, 1, "snmp", -1, &job, err, sizeof(err)) !=
	    JOBS_OK)
		job = NULL;
	json_object_put(e);
	return job;
}

T_TEST(jobs_fingerprint_of_a_shared_record)
{
	static const char a_text[] =
	    "{\"id\": 1, \"details\": {\"snmpv12_community\": \"a\"}}";
	static const char b_text[] =
	    "{\"id\": 1, \"details\": {\"snmpv12_community\": \"b\"}}";
	struct json_object *a = json_tokener_parse(a_text);
	struct json_object *b = json_tokener_parse(b_text);
	struct json_object *a2 = json_tokener_parse(a_text);
	struct job *j1, *j2, *j3, *j4;

	T_ASSERT(a != NULL && b != NULL && a2 != NULL);
	/* Two jobs of one record object; the record's hash is remembered
	 * on it after the first. */
	j1 = job_with_credential(a);
	j2 = job_with_credential(a);
	/* Another object: its own text counts, not the first's hash. */
	j3 = job_with_credential(b);
	/* An equal text in a third object gives the same fingerprint. */
	j4 = job_with_credential(a2);
	T_ASSERT(j1 != NULL && j2 != NULL && j3 != NULL && j4 != NULL);
	T_ASSERT(json_object_get_userdata(j1->credential) != NULL);
	T_EQ_INT(memcmp(j1->fingerprint, j2->fingerprint, JOB_FP_LEN), 0);
	T_ASSERT(memcmp(j1->fingerprint, j3->fingerprint, JOB_FP_LEN) != 0);
	T_EQ_INT(memcmp(j1->fingerprint, j4->fingerprint, JOB_FP_LEN), 0);
	/* The details object serialises as before: userdata is not text. */
	T_EQ_STR(json_object_to_json_string_ext(
	             j1->credential, JSON_C_TO_STRING_PLAIN),
	    "{\"snmpv12_community\":\"a\"}");
	job_unref(j1);
	job_unref(j2);
	job_unref(j3);
	job_unref(j4);
	json_object_put(a);
	json_object_put(b);
	json_object_put(a2);
}

static int priv_freed;

static void
count_priv_free(void *p)
{
	priv_freed++;
	free(p);
}

T_TEST(jobs_ref_counting)
{
	char err[BOT_ERRLEN];
	struct job *job;

	T_EQ_INT(
	    build(snmp_entity, "snmp", -1, &job, err, sizeof(err)), JOBS_OK);
	priv_freed = 0;
	job->priv = malloc(16);
	job->priv_free = count_priv_free;
	T_ASSERT(job_ref(job) == job);
	T_EQ_INT(job->refs, 2);
	job_unref(job);
	T_EQ_INT(priv_freed, 0);
	job_unref(job);
	T_EQ_INT(priv_freed, 1);
	job_unref(NULL);
}

T_TEST(jobs_keep_covers_entity_and_account)
{
	char err[BOT_ERRLEN];
	struct job_keep k;
	struct job_update u;
	struct job *job;

	T_EQ_INT(
	    build(snmp_entity, "snmp", -1, &job, err, sizeof(err)), JOBS_OK);
	/* entity 53709761 in account 7 */
	k.account_id = -1;
	k.entity_id = 1;
	T_EQ_INT(job_keep_covers(&k, job), 0);
	k.account_id = 8;
	k.entity_id = -1;
	T_EQ_INT(job_keep_covers(&k, job), 0);
	k.entity_id = 53709761;
	T_EQ_INT(job_keep_covers(&k, job), 0); /* another account */
	k.account_id = -1;
	T_EQ_INT(job_keep_covers(&k, job), 1); /* account unknown */
	k.account_id = 7;
	T_EQ_INT(job_keep_covers(&k, job), 1);
	k.entity_id = -1;
	T_EQ_INT(job_keep_covers(&k, job), 1); /* the whole account */
	/* Keeps are stored as pairs; the update owns the job it is given. */
	job_update_init(&u);
	job_update_keep(&u, 7, 53709761);
	job_update_keep_account(&u, 9);
	T_EQ_INT(u.n_keeps, 2);
	T_EQ_INT(u.keeps[0].account_id, 7);
	T_EQ_INT(u.keeps[0].entity_id, 53709761);
	T_EQ_INT(u.keeps[1].account_id, 9);
	T_EQ_INT(u.keeps[1].entity_id, -1);
	job_update_add(&u, job);
	T_EQ_INT(u.n_jobs, 1);
	job_update_release(&u);
	T_EQ_INT(u.n_jobs, 0);
	T_EQ_INT(u.n_keeps, 0);
	T_ASSERT(u.jobs == NULL);
}

T_TEST(jobs_same_needs_entity_account_and_fingerprint)
{
	char err[BOT_ERRLEN];
	struct job *a, *b;

	T_EQ_INT(build(snmp_entity, "snmp", -1, &a, err, sizeof(err)), JOBS_OK);
	T_EQ_INT(build(snmp_entity, "snmp", -1, &b, err, sizeof(err)), JOBS_OK);
	T_EQ_INT(job_same(a, b), 1);
	b->account_id = 8;
	T_EQ_INT(job_same(a, b), 0);
	b->account_id = a->account_id;
	b->id++;
	T_EQ_INT(job_same(a, b), 0);
	b->id = a->id;
	b->fingerprint[0] ^= 1;
	T_EQ_INT(job_same(a, b), 0);
	job_unref(a);
	job_unref(b);
}

/* A minimal resolved ping entity for job files. */
static int
entity_text(char *out, size_t outlen, long long id, const char *extra)
{
	return snprintf(out, outlen,
	    "{\"id\": %lld, \"entity_type\": \"device\", %s\"protocols\": "
	    "{\"ping\": {\"credential\": {\"details\": {}}, \"sensors\": "
	    "[{\"sensor\": {\"id\": 1, \"default_interval\": 60}}]}}}",
	    id, extra);
}

T_TEST(jobs_load_text_list_and_object_forms)
{
	char e1[512], e2[512], e3[512], e4[512], text[4096], err[BOT_ERRLEN];
	struct job_update u;

	entity_text(e1, sizeof(e1), 1, "");
	entity_text(e2, sizeof(e2), 2, "\"account\": 5, ");
	entity_text(e3, sizeof(e3), 3, "\"entity_type\": \"interface\", ");
	entity_text(e4, sizeof(e4), 4, "\"account\": \"x\", ");
	snprintf(text, sizeof(text), "[%s, %s, %s, %s, %s]\n", e1, e2, e3,
	    snmp_entity, e4);
	job_update_init(&u);
	T_EQ_INT(
	    jobs_load_text(text, strlen(text), "ping", 0, &u, err, sizeof(err)),
	    0);
	/* Entity 3 is not a device (its second "entity_type" key wins),
	 * 53709761 is SNMP, 4 has a bad account. */
	T_EQ_INT(u.n_jobs, 2);
	T_EQ_INT(u.jobs[0]->id, 1);
	T_EQ_INT(u.jobs[0]->account_id, 1);
	T_EQ_INT(u.jobs[1]->id, 2);
	T_EQ_INT(u.jobs[1]->account_id, 5);
	job_update_release(&u);

	snprintf(
	    text, sizeof(text), "{\"entities\": [%s, %s]}", e1, snmp_entity);
	T_EQ_INT(
	    jobs_load_text(text, strlen(text), "snmp", 0, &u, err, sizeof(err)),
	    0);
	T_EQ_INT(u.n_jobs, 1);
	T_EQ_INT(u.jobs[0]->id, 53709761);
	T_EQ_INT(u.jobs[0]->account_id, 1);
	job_update_release(&u);

	/* Empty lists are fine. */
	T_EQ_INT(jobs_load_text("[]", 2, "ping", 0, &u, err, sizeof(err)), 0);
	T_EQ_INT(jobs_load_text(
	             "{\"entities\": []}", 16, "ping", 0, &u, err, sizeof(err)),
	    0);
	T_EQ_INT(u.n_jobs, 0);
	job_update_release(&u);
}

T_TEST(jobs_load_text_duplicate_ids)
{
	char e1[512], e2[512], text[2048], err[BOT_ERRLEN];
	struct job_update u;

	entity_text(e1, sizeof(e1), 9, "\"name\": \"first\", ");
	entity_text(e2, sizeof(e2), 9, "\"name\": \"second\", ");
	snprintf(text, sizeof(text), "[%s, %s]", e1, e2);
	job_update_init(&u);
	T_EQ_INT(
	    jobs_load_text(text, strlen(text), "ping", 0, &u, err, sizeof(err)),
	    0);
	T_EQ_INT(u.n_jobs, 1);
	T_EQ_STR(u.jobs[0]->name, "first");
	job_update_release(&u);
}

T_TEST(jobs_load_text_broken)
{
	static const struct {
		const char *text;
		const char *err;
	} bad[] = {
	    {"", "not valid JSON"},
	    {"   ", "not valid JSON"},
	    {"[", "not valid JSON"},
	    {"[{\"id\": 1", "not valid JSON"},
	    {"{\"entities\": [", "not valid JSON"},
	    {"[] x", "trailing data"},
	    {"[][]", "trailing data"},
	    {"[]\n{}", "trailing data"},
	    {"{\"entities\": []} ,", "trailing data"},
	    {"[1,]x", "not valid JSON"},
	    {"null", NULL},
	    {"null\n", NULL},
	    {"5", NULL},
	    {"\"entities\"", NULL},
	    {"{}", "expected a list"},
	    {"{\"entities\": 5}", "expected a list"},
	    {"{\"entities\": {}}", "expected a list"},
	    {"{\"list\": []}", "expected a list"},
	};
	char err[BOT_ERRLEN];
	struct job_update u;
	size_t i;

	job_update_init(&u);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc;

		err[0] = '\0';
		rc = jobs_load_text(bad[i].text, strlen(bad[i].text), "ping", 0,
		    &u, err, sizeof(err));
		if (rc != -1 || err[0] == '\0' ||
		    (bad[i].err != NULL && strstr(err, bad[i].err) == NULL))
			t_fail(__FILE__, __LINE__,
			    "\"%s\": rc %d, err \"%s\", want \"%s\"",
			    bad[i].text, rc, err, bad[i].err ? bad[i].err : "");
		T_ASSERT(!t_failed);
		T_EQ_INT(u.n_jobs, 0);
	}
	job_update_release(&u);
}

T_TEST(jobs_load_text_null_says_why)
{
	char err[BOT_ERRLEN];
	struct job_update u;

	/* "null" is valid JSON, just not a job list: the error must not
	 * claim a JSON syntax error ("not valid JSON: success"). */
	job_update_init(&u);
	T_EQ_INT(
	    jobs_load_text("null\n", 5, "ping", 0, &u, err, sizeof(err)), -1);
	T_ASSERT(strstr(err, "success") == NULL);
	job_update_release(&u);
}

T_TEST(jobs_load_text_not_nul_terminated)
{
	char text[64], err[BOT_ERRLEN];
	struct job_update u;

	/* Only len bytes count: what follows is not read as trailing data. */
	memcpy(text, "[]garbage", 10);
	job_update_init(&u);
	T_EQ_INT(jobs_load_text(text, 2, "ping", 0, &u, err, sizeof(err)), 0);
	job_update_release(&u);
}

T_TEST(jobs_load_text_deep_nesting)
{
	size_t depth = 10000, i;
	char *text, err[BOT_ERRLEN];
	struct job_update u;

	text = malloc(2 * depth + 1);
	T_ASSERT(text != NULL);
	for (i = 0; i < depth; i++) {
		text[i] = '[';
		text[depth + i] = ']';
	}
	text[2 * depth] = '\0';
	job_update_init(&u);
	T_EQ_INT(
	    jobs_load_text(text, 2 * depth, "ping", 0, &u, err, sizeof(err)),
	    -1);
	T_ASSERT(strstr(err, "not valid JSON") != NULL);
	/* Deep objects too. */
	for (i = 0; i < depth / 5; i++)
		memcpy(text + 5 * i, "{\"a\":", 5);
	memset(text + depth, '}', depth / 5);
	text[depth + depth / 5] = '\0';
	T_EQ_INT(
	    jobs_load_text(text, strlen(text), "ping", 0, &u, err, sizeof(err)),
	    -1);
	free(text);
	job_update_release(&u);
}

T_TEST(jobs_load_text_entity_nesting_within_limit)
{
	char text[4096], err[BOT_ERRLEN];
	struct job_update u;
	size_t i, len;

	/* Sensor details 40 levels deep are still fine. */
	len = (size_t)snprintf(text, sizeof(text),
	    "[{\"id\": 3, \"entity_type\": \"device\", \"protocols\": "
	    "{\"ping\": {\"credential\": {\"details\": {}}, \"sensors\": "
	    "[{\"sensor\": {\"id\": 1, \"default_interval\": 60, "
	    "\"details\": {\"x\": ");
	for (i = 0; i < 40; i++)
		text[len++] = '[';
	for (i = 0; i < 40; i++)
		text[len++] = ']';
	snprintf(text + len, sizeof(text) - len, "}}}]}}}]");
	job_update_init(&u);
	T_EQ_INT(
	    jobs_load_text(text, strlen(text), "ping", 0, &u, err, sizeof(err)),
	    0);
	T_EQ_INT(u.n_jobs, 1);
	job_update_release(&u);
}

T_TEST(jobs_load_file_from_disk)
{
	char path[256], e1[512], err[BOT_ERRLEN];
	struct job_update u;
	FILE *f;

	entity_text(e1, sizeof(e1), 11, "");
	snprintf(path, sizeof(path), "%s/jobs.json", t_tmpdir());
	f = fopen(path, "w");
	T_ASSERT(f != NULL);
	fprintf(f, "{\"entities\": [\n  %s\n]}\n", e1);
	fclose(f);
	job_update_init(&u);
	T_EQ_INT(jobs_load_file(path, "ping", 0, &u, err, sizeof(err)), 0);
	T_EQ_INT(u.n_jobs, 1);
	T_EQ_INT(u.jobs[0]->id, 11);
	job_update_release(&u);
	unlink(path);

	T_EQ_INT(jobs_load_file(path, "ping", 0, &u, err, sizeof(err)), -1);
	T_ASSERT(strstr(err, "cannot open") != NULL);

	/* An empty file is not a job list. */
	f = fopen(path, "w");
	T_ASSERT(f != NULL);
	fclose(f);
	T_EQ_INT(jobs_load_file(path, "ping", 0, &u, err, sizeof(err)), -1);
	T_ASSERT(strstr(err, "not valid JSON") != NULL);
	unlink(path);
	job_update_release(&u);
}

/* Appends an entity whose details nest depth levels to text at *len. */
static void
deep_entity(char *text, size_t cap, size_t *len, int64_t id, int depth)
{
	int i;

	*len += (size_t)snprintf(text + *len, cap - *len,
	    "{\"id\": %lld, \"name\": \"e%lld\", \"entity_type\": "
	    "\"device\", \"details\": ",
	    (long long)id, (long long)id);
	for (i = 0; i < depth; i++)
		*len += (size_t)snprintf(text + *len, cap - *len, "{\"a\": ");
	*len += (size_t)snprintf(text + *len, cap - *len, "1");
	for (i = 0; i < depth; i++)
		*len += (size_t)snprintf(text + *len, cap - *len, "}");
	*len += (size_t)snprintf(text + *len, cap - *len,
	    ", \"protocols\": {\"ping\": {\"credential\": {\"details\": "
	    "{}}, \"sensors\": [{\"sensor\": {\"id\": 5, "
	    "\"default_interval\": 60, \"details\": {}}}]}}}");
}

T_TEST(jobs_deep_entity_spoils_only_itself)
{
	static char text[16384];
	char err[BOT_ERRLEN];
	struct json_object *obj;
	struct job_update u;
	struct job *job;
	size_t len = 0;

	/* One entity 70 levels deep between two healthy ones: the list
	 * still parses, only the deep one is refused. */
	len += (size_t)snprintf(text, sizeof(text), "[");
	deep_entity(text, sizeof(text), &len, 1, 3);
	len += (size_t)snprintf(text + len, sizeof(text) - len, ", ");
	deep_entity(text, sizeof(text), &len, 2, 70);
	len += (size_t)snprintf(text + len, sizeof(text) - len, ", ");
	deep_entity(text, sizeof(text), &len, 3, JOBS_MAX_DEPTH - 1);
	len += (size_t)snprintf(text + len, sizeof(text) - len, "]");
	T_ASSERT(len < sizeof(text) - 1);
	job_update_init(&u);
	T_EQ_INT(jobs_load_text(text, len, "ping", 0, &u, err, sizeof(err)), 0);
	T_EQ_INT(u.n_jobs, 2);
	T_EQ_INT(u.jobs[0]->id, 1);
	T_EQ_INT(u.jobs[1]->id, 3);
	job_update_release(&u);

	/* The entity alone: refused with a reason. */
	len = 0;
	deep_entity(text, sizeof(text), &len, 2, 70);
	obj = json_tokener_parse(text);
	T_ASSERT(obj == NULL); /* json-c's own limit is 64 */
	job_update_init(&u);
	T_EQ_INT(
	    jobs_load_text(text, len, "ping", 0, &u, err, sizeof(err)), -1);
	len = 0;
	text[len++] = '[';
	deep_entity(text, sizeof(text), &len, 2, 70);
	text[len++] = ']';
	text[len] = '\0';
	{
		struct json_tokener *tok =
		    json_tokener_new_ex(JOBS_LIST_MAX_DEPTH);

		obj = json_tokener_parse_ex(tok, text, (int)len);
		json_tokener_free(tok);
	}
	T_ASSERT(obj != NULL);
	T_EQ_INT(jobs_from_entity(json_object_array_get_idx(obj, 0), 1, "ping",
	             -1, &job, err, sizeof(err)),
	    JOBS_INVALID);
	T_ASSERT(strstr(err, "deeper than 64") != NULL);
	json_object_put(obj);
	T_EQ_INT(jobs_too_deep(NULL, 0), 0);
}

T_TEST(jobs_drop_json_keeps_the_fingerprint)
{
	char err[BOT_ERRLEN], *fp, *text;
	struct job *a, *b;

	T_EQ_INT(build(snmp_entity, "snmp", -1, &a, err, sizeof(err)), JOBS_OK);
	T_EQ_INT(build(snmp_entity, "snmp", -1, &b, err, sizeof(err)), JOBS_OK);
	T_ASSERT(a->n_sensors > 0 && a->details != NULL);
	fp = fp_hex(a);
	T_ASSERT(fp != NULL);
	job_drop_json(a);
	T_ASSERT(a->details == NULL && a->credential == NULL);
	T_ASSERT(a->sensors[0].details == NULL);
	text = fp_hex(a);
	T_EQ_STR(text, fp);
	free(text);
	/* A loaded job (no JSON) and a fresh copy are still the same job. */
	T_EQ_INT(job_same(a, b), 1);
	job_drop_json(a); /* twice is harmless */
	free(fp);
	job_unref(a);
	job_unref(b);
}

T_TEST(jobs_park_and_unpark_give_the_same_json)
{
	char err[BOT_ERRLEN], *text, *before[4], *fp;
	struct job *job;
	size_t i;

	/* Odd values too: a double, escapes, unicode, nesting. */
	text = replace(snmp_entity, "{\"ipv4\": \"192.0.2.10\"}",
	    "{\"ipv4\": \"192.0.2.10\", \"x\": [1.25, -0.1, 1e300, "
	    "\"a\\\"b\\\\c\\u00e9\\n\", {\"k\": [null, true, "
	    "9007199254740993]}]}");
	T_ASSERT(text != NULL);
	T_EQ_INT(build(text, "snmp", -1, &job, err, sizeof(err)), JOBS_OK);
	free(text);
	T_EQ_INT(job->n_sensors, 2);
	before[0] = strdup(json_object_to_json_string(job->details));
	before[1] = strdup(json_object_to_json_string(job->credential));
	before[2] = strdup(json_object_to_json_string(job->sensors[0].details));
	before[3] = strdup(json_object_to_json_string(job->sensors[1].details));
	fp = fp_hex(job);

	job_park_json(job);
	T_ASSERT(job->parked != NULL);
	T_ASSERT(job->details == NULL && job->credential == NULL);
	T_ASSERT(job->sensors[0].details == NULL);
	T_EQ_INT(job_unpark_json(job), 0);
	T_ASSERT(job->parked == NULL);
	T_EQ_STR(json_object_to_json_string(job->details), before[0]);
	T_EQ_STR(json_object_to_json_string(job->credential), before[1]);
	T_EQ_STR(
	    json_object_to_json_string(job->sensors[0].details), before[2]);
	T_EQ_STR(
	    json_object_to_json_string(job->sensors[1].details), before[3]);
	/* The same inputs give the same fingerprint. */
	job_fingerprint(job);
	text = fp_hex(job);
	T_EQ_STR(text, fp);
	free(text);
	/* Not parked: nothing to do. */
	T_EQ_INT(job_unpark_json(job), 0);
	/* Parked and never unparked: freed with the job. */
	job_park_json(job);
	for (i = 0; i < 4; i++)
		free(before[i]);
	free(fp);
	job_unref(job);
}
