/*
 * Unit tests for per-account jobs: NetFlow entities (sensors without an
 * interval) parse only when the bot says intervals are its own, and then
 * regroup into one job per account with the bot's intervals, the
 * account's entities in its details, stable fingerprints and entity keeps
 * turned into account keeps.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobgroup.h"
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

static const int windows[] = {900, 60, 3600};

/* Flags for netflow_job: per-account bots pass the optional interval. */
static unsigned netflow_flags;

static struct job *
netflow_job(int64_t account, int64_t id, const char *ipv4)
{
	char text[512], err[BOT_ERRLEN];
	struct json_object *obj;
	struct job *job = NULL;

	snprintf(text, sizeof(text),
	    "{\"id\": %lld, \"name\": \"r%lld\", \"entity_type\": "
	    "\"device\", \"details\": {\"ipv4\": \"%s\"}, \"protocols\": "
	    "{\"netflow\": {\"bot\": null, \"credential\": {\"id\": 1, "
	    "\"details\": {}}, \"sensors\": [{\"sensor\": {\"id\": 2, "
	    "\"default_interval\": null, \"details\": {}}, \"interval\": "
	    "null}]}}}",
	    (long long)id, (long long)id, ipv4);
	obj = json_tokener_parse(text);
	if (jobs_from_entity_flags(obj, account, "netflow", -1, netflow_flags,
	        &job, err, sizeof(err)) != JOBS_OK)
		job = NULL;
	json_object_put(obj);
	return job;
}

T_TEST(jobgroup_sensors_need_no_interval_only_when_asked)
{
	struct job *job;

	netflow_flags = 0;
	T_ASSERT(netflow_job(7, 10, "192.0.2.1") == NULL);
	netflow_flags = JOBS_SENSOR_INTERVAL_OPTIONAL;
	job = netflow_job(7, 10, "192.0.2.1");
	netflow_flags = 0;
	T_ASSERT(job != NULL);
	T_EQ_INT(job->n_sensors, 1);
	T_EQ_INT(job->sensors[0].interval_s, 0);
	T_EQ_INT(job->n_intervals, 0);
	job_unref(job);
}

static struct job *
find(const struct job_update *u, int64_t id)
{
	size_t i;

	for (i = 0; i < u->n_jobs; i++)
		if (u->jobs[i]->id == id)
			return u->jobs[i];
	return NULL;
}

T_TEST(jobgroup_one_job_per_account)
{
	struct job_update u;
	struct job *a, *b;
	char *fp, *now;

	netflow_flags = JOBS_SENSOR_INTERVAL_OPTIONAL;
	job_update_init(&u);
	job_update_add(&u, netflow_job(7, 30, "192.0.2.3"));
	job_update_add(&u, netflow_job(8, 40, "198.51.100.4"));
	job_update_add(&u, netflow_job(7, 10, "192.0.2.1"));
	netflow_flags = 0;
	T_ASSERT(u.jobs[0] != NULL && u.jobs[1] != NULL && u.jobs[2] != NULL);
	job_update_keep(&u, 9, 50); /* failed in account 9 */
	jobgroup_by_account(&u, windows, 3);

	T_EQ_INT(u.n_jobs, 2);
	a = find(&u, 7);
	b = find(&u, 8);
	T_ASSERT(a != NULL && b != NULL);
	T_EQ_INT(a->account_id, 7);
	T_EQ_STR(a->name, "account 7");
	T_EQ_INT(a->n_intervals, 3);
	T_EQ_INT(a->intervals_s[0], 60);
	T_EQ_INT(a->intervals_s[2], 3600);
	T_EQ_INT(a->n_sensors, 0);
	T_EQ_INT(json_object_array_length(a->details), 2);
	T_EQ_STR(
	    json_object_to_json_string_ext(a->details, JSON_C_TO_STRING_PLAIN),
	    "[{\"id\":10,\"name\":\"r10\",\"details\":{\"ipv4\":\"192.0.2.1\"},"
	    "\"credential\":{},\"sensors\":[2]},{\"id\":30,\"name\":\"r30\","
	    "\"details\":{\"ipv4\":\"192.0.2.3\"},\"credential\":{},"
	    "\"sensors\":[2]}]");
	T_EQ_INT(json_object_array_length(b->details), 1);
	T_EQ_INT(job_same(a, a), 1); /* fingerprinted */
	/* The entity keep became an account keep. */
	T_EQ_INT(u.n_keeps, 1);
	T_EQ_INT(u.keeps[0].account_id, 9);
	T_EQ_INT(u.keeps[0].entity_id, -1);
	fp = fp_hex(a);
	job_update_release(&u);

	/* The same entities in another order: the same fingerprint; one
	 * entity changed: another. */
	netflow_flags = JOBS_SENSOR_INTERVAL_OPTIONAL;
	job_update_init(&u);
	job_update_add(&u, netflow_job(7, 10, "192.0.2.1"));
	job_update_add(&u, netflow_job(7, 30, "192.0.2.3"));
	jobgroup_by_account(&u, windows, 3);
	now = fp_hex(u.jobs[0]);
	T_EQ_STR(now, fp);
	free(now);
	job_update_release(&u);
	job_update_init(&u);
	job_update_add(&u, netflow_job(7, 10, "192.0.2.1"));
	job_update_add(&u, netflow_job(7, 30, "192.0.2.99"));
	netflow_flags = 0;
	jobgroup_by_account(&u, windows, 3);
	now = fp_hex(u.jobs[0]);
	T_ASSERT(strcmp(now, fp) != 0);
	free(now);
	job_update_release(&u);
	free(fp);
}

T_TEST(jobgroup_unknown_keep_keeps_every_account)
{
	struct job_update u;

	netflow_flags = JOBS_SENSOR_INTERVAL_OPTIONAL;
	job_update_init(&u);
	job_update_add(&u, netflow_job(7, 10, "192.0.2.1"));
	job_update_add(&u, netflow_job(8, 20, "192.0.2.2"));
	netflow_flags = 0;
	job_update_keep(&u, -1, 99);
	jobgroup_by_account(&u, windows, 3);
	T_EQ_INT(u.n_keeps, 2);
	T_ASSERT(job_keep_covers(&u.keeps[0], u.jobs[0]) ||
	    job_keep_covers(&u.keeps[1], u.jobs[0]));
	T_ASSERT(job_keep_covers(&u.keeps[0], u.jobs[1]) ||
	    job_keep_covers(&u.keeps[1], u.jobs[1]));
	job_update_release(&u);

	/* Nothing at all: no jobs, nothing kept. */
	job_update_init(&u);
	jobgroup_by_account(&u, windows, 3);
	T_EQ_INT(u.n_jobs, 0);
	T_EQ_INT(u.n_keeps, 0);
	job_update_release(&u);
}
