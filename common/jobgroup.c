/*
 * Entity jobs regrouped into account jobs.  The account job's details
 * carry what each entity's job had, so a change to any entity changes the
 * account job's fingerprint and only then reschedules it.
 */
#include "jobgroup.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>

#include "jobs.h"
#include "xmalloc.h"

static int
jobgroup_cmp(const void *a, const void *b)
{
	const struct job *x = *(struct job *const *)a;
	const struct job *y = *(struct job *const *)b;

	if (x->account_id != y->account_id)
		return x->account_id < y->account_id ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

static struct json_object *
jobgroup_entity(const struct job *e)
{
	struct json_object *o = json_object_new_object(), *sensors;
	size_t i;

	json_object_object_add(o, "id", json_object_new_int64(e->id));
	json_object_object_add(o, "name", json_object_new_string(e->name));
	json_object_object_add(o, "details", json_object_get(e->details));
	json_object_object_add(o, "credential", json_object_get(e->credential));
	sensors = json_object_new_array();
	for (i = 0; i < e->n_sensors; i++)
		json_object_array_add(
		    sensors, json_object_new_int64(e->sensors[i].id));
	json_object_object_add(o, "sensors", sensors);
	return o;
}

static struct job *
jobgroup_new(int64_t account_id, const int *intervals_s, size_t n)
{
	char name[64];
	struct job *job;
	size_t i;

	snprintf(name, sizeof(name), "account %lld", (long long)account_id);
	job = job_new(account_id, account_id, name);
	job->details = json_object_new_array();
	job->credential = json_object_new_object();
	job_alloc_sensors(job, 1);
	for (i = 0; i < n; i++)
		if (intervals_s[i] > 0)
			job_add_interval(job, intervals_s[i]);
	return job;
}

void
jobgroup_by_account(struct job_update *u, const int *intervals_s, size_t n)
{
	struct job **ents = u->jobs, *cur = NULL;
	size_t n_ents = u->n_jobs, i;
	struct job_keep *keeps = u->keeps;
	size_t n_keeps = u->n_keeps;
	int keep_all = 0;

	if (n_ents > 1)
		qsort(ents, n_ents, sizeof(*ents), jobgroup_cmp);
	u->jobs = NULL;
	u->n_jobs = u->cap_jobs = 0;
	for (i = 0; i < n_ents; i++) {
		if (cur == NULL || cur->account_id != ents[i]->account_id) {
			if (cur != NULL) {
				job_fingerprint(cur);
				job_update_add(u, cur);
			}
			cur = jobgroup_new(ents[i]->account_id, intervals_s, n);
		}
		json_object_array_add(cur->details, jobgroup_entity(ents[i]));
		job_unref(ents[i]);
	}
	if (cur != NULL) {
		job_fingerprint(cur);
		job_update_add(u, cur);
	}
	free(ents);

	/* Entity keeps become account keeps. */
	u->keeps = NULL;
	u->n_keeps = u->cap_keeps = 0;
	for (i = 0; i < n_keeps; i++) {
		if (keeps[i].account_id < 0)
			keep_all = 1;
		else
			job_update_keep_account(u, keeps[i].account_id);
	}
	free(keeps);
	if (keep_all)
		for (i = 0; i < u->n_jobs; i++)
			job_update_keep_account(u, u->jobs[i]->account_id);
}
