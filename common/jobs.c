/*
 * Job configs from resolved entity JSON.  The parser is strict about types
 * (a wrong type makes the entity or sensor unusable, never crashes) and
 * lenient about absence (missing details are empty).  A job's fingerprint
 * is the canonical text of everything that shapes its runs, so the
 * scheduler can tell unchanged jobs from changed ones by comparing text.
 */
#include "jobs.h"

#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "jsonx.h"
#include "log.h"
#include "strset.h"
#include "texthash.h"
#include "xmalloc.h"

#define JOBS_MAX_FILE_SIZE (64 * 1024 * 1024)

/* Reads an interval (absent or null: 0) by jsonx's rules for a number
 * the backend's schema types as an integer. */
static int
jobs_get_interval(struct json_object *obj, const char *key, int *out, char *err,
    size_t errlen)
{
	double d;

	if (jsonx_number(obj, key, 0, 1, JOBS_MAX_INTERVAL_S,
	        JSONX_WHOLE | JSONX_JSON_ONLY, &d, err, errlen) == -1)
		return -1;
	*out = (int)d;
	return 0;
}

int
jobs_too_deep(struct json_object *obj, int limit)
{
	size_t i, n;

	if (json_object_is_type(obj, json_type_array)) {
		if (limit <= 0)
			return 1;
		n = json_object_array_length(obj);
		for (i = 0; i < n; i++)
			if (jobs_too_deep(
			        json_object_array_get_idx(obj, i), limit - 1))
				return 1;
		return 0;
	}
	if (json_object_is_type(obj, json_type_object)) {
		if (limit <= 0)
			return 1;
		json_object_object_foreach(obj, key, v)
		{
			(void)key;
			if (jobs_too_deep(v, limit - 1))
				return 1;
		}
	}
	return 0;
}

static void
jobs_free(struct job *job)
{
	size_t i;

	if (job->priv_free != NULL)
		job->priv_free(job->priv);
	for (i = 0; i < job->n_sensors; i++)
		json_object_put(job->sensors[i].details);
	if (job->sensors != &job->sensor_one)
		free(job->sensors);
	if (job->intervals_s != &job->interval_one)
		free(job->intervals_s);
	json_object_put(job->details);
	json_object_put(job->credential);
	free(job->warnings);
	free(job->parked);
	free(job);
}

struct job *
job_new(int64_t id, int64_t account_id, const char *name)
{
	size_t n = strlen(name) + 1;
	struct job *job = xcalloc(1, sizeof(*job) + n);

	job->refs = 1;
	job->id = id;
	job->account_id = account_id;
	job->name = (char *)(job + 1);
	memcpy(job->name, name, n);
	return job;
}

void
job_drop_json(struct job *job)
{
	size_t i;

	for (i = 0; i < job->n_sensors; i++) {
		json_object_put(job->sensors[i].details);
		job->sensors[i].details = NULL;
	}
	json_object_put(job->details);
	json_object_put(job->credential);
	job->details = NULL;
	job->credential = NULL;
	free(job->parked);
	job->parked = NULL;
}

void
job_park_json(struct job *job)
{
	struct json_object *all = json_object_new_array(), *sensors;
	size_t i;

	if (job->parked != NULL)
		return;
	/* [details, credential, [sensor details, ...]] */
	json_object_array_add(all, json_object_get(job->details));
	json_object_array_add(all, json_object_get(job->credential));
	sensors = json_object_new_array();
	for (i = 0; i < job->n_sensors; i++)
		json_object_array_add(
		    sensors, json_object_get(job->sensors[i].details));
	json_object_array_add(all, sensors);
	job->parked = xstrdup(
	    json_object_to_json_string_ext(all, JSON_C_TO_STRING_PLAIN));
	json_object_put(all);
	for (i = 0; i < job->n_sensors; i++) {
		json_object_put(job->sensors[i].details);
		job->sensors[i].details = NULL;
	}
	json_object_put(job->details);
	json_object_put(job->credential);
	job->details = NULL;
	job->credential = NULL;
}

int
job_unpark_json(struct job *job)
{
	struct json_object *all = NULL, *sensors;
	char err[BOT_ERRLEN];
	size_t i;

	if (job->parked == NULL)
		return 0;
	if (jsonx_parse(job->parked, strlen(job->parked), JOBS_MAX_DEPTH + 2,
	        &all, err, sizeof(err)) == -1 ||
	    !json_object_is_type(all, json_type_array) ||
	    json_object_array_length(all) != 3) {
		json_object_put(all);
		return -1;
	}
	sensors = json_object_array_get_idx(all, 2);
	if (json_object_array_length(sensors) != job->n_sensors) {
		json_object_put(all);
		return -1;
	}
	job->details = json_object_get(json_object_array_get_idx(all, 0));
	job->credential = json_object_get(json_object_array_get_idx(all, 1));
	for (i = 0; i < job->n_sensors; i++)
		job->sensors[i].details =
		    json_object_get(json_object_array_get_idx(sensors, i));
	json_object_put(all);
	free(job->parked);
	job->parked = NULL;
	return 0;
}

struct job *
job_ref(struct job *job)
{
	job->refs++;
	return job;
}

void
job_unref(struct job *job)
{
	if (job == NULL)
		return;
	if (--job->refs == 0)
		jobs_free(job);
}

int
job_sensor_due(const struct job_sensor *s, const int *due_s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (due_s[i] == s->interval_s)
			return 1;
	return 0;
}

void
job_add_interval(struct job *job, int interval_s)
{
	size_t i, k;

	for (i = 0; i < job->n_intervals; i++) {
		if (job->intervals_s[i] == interval_s)
			return;
		if (job->intervals_s[i] > interval_s)
			break;
	}
	if (job->n_intervals == 0) {
		job->intervals_s = &job->interval_one;
	} else if (job->intervals_s == &job->interval_one) {
		job->intervals_s = xreallocarray(NULL, 2, sizeof(int));
		job->intervals_s[0] = job->interval_one;
	} else {
		job->intervals_s = xreallocarray(
		    job->intervals_s, job->n_intervals + 1, sizeof(int));
	}
	for (k = job->n_intervals; k > i; k--)
		job->intervals_s[k] = job->intervals_s[k - 1];
	job->intervals_s[i] = interval_s;
	job->n_intervals++;
}

static void
jobs_warn(struct job *job, const char *msg)
{
	char *w;

	if (job->warnings == NULL) {
		job->warnings = xstrdup(msg);
		return;
	}
	w = xasprintf("%s; %s", job->warnings, msg);
	free(job->warnings);
	job->warnings = w;
}

void
job_alloc_sensors(struct job *job, size_t n)
{
	if (n <= 1) {
		memset(&job->sensor_one, 0, sizeof(job->sensor_one));
		job->sensors = &job->sensor_one;
	} else {
		job->sensors = xcalloc(n, sizeof(*job->sensors));
	}
}

/* Adds the sensor of record sensor (#i of the entity's resolved list;
 * anything but a resolved record only warns) to job, with the entity's
 * interval read from item (its sensors[i]) or, without one, interval
 * (0: none); a broken one only warns. */
static void
jobs_add_sensor(struct job *job, size_t i, struct json_object *sensor,
    struct json_object *item, int interval, unsigned flags)
{
	char err[BOT_ERRLEN], msg[BOT_ERRLEN + 64];
	struct json_object *details;
	int64_t sid = 0;
	int def = 0;

	err[0] = '\0';
	if (!json_object_is_type(sensor, json_type_object) ||
	    jsonx_id(sensor, "id", &sid) == -1) {
		snprintf(msg, sizeof(msg),
		    "sensor #%zu skipped: not a resolved sensor record", i);
		jobs_warn(job, msg);
		return;
	}
	if ((item != NULL &&
	        jobs_get_interval(
	            item, "interval", &interval, err, sizeof(err)) == -1) ||
	    jobs_get_interval(
	        sensor, "default_interval", &def, err, sizeof(err)) == -1) {
		snprintf(msg, sizeof(msg), "sensor %lld skipped: %s",
		    (long long)sid, err);
		jobs_warn(job, msg);
		return;
	}
	if (interval == 0)
		interval = def;
	if (interval == 0 && !(flags & JOBS_SENSOR_INTERVAL_OPTIONAL)) {
		snprintf(msg, sizeof(msg),
		    "sensor %lld skipped: no interval on the entity "
		    "and no default interval",
		    (long long)sid);
		jobs_warn(job, msg);
		return;
	}
	details = jsonx_object(sensor, "details");
	if (details == NULL) {
		snprintf(msg, sizeof(msg),
		    "sensor %lld skipped: details is not an object",
		    (long long)sid);
		jobs_warn(job, msg);
		return;
	}
	if (jobs_too_deep(details, JOBS_MAX_DEPTH)) {
		snprintf(msg, sizeof(msg),
		    "sensor %lld skipped: details nest deeper than %d "
		    "levels",
		    (long long)sid, JOBS_MAX_DEPTH);
		jobs_warn(job, msg);
		json_object_put(details);
		return;
	}
	job->sensors[job->n_sensors].id = sid;
	job->sensors[job->n_sensors].interval_s = interval;
	job->sensors[job->n_sensors].details = details;
	job->n_sensors++;
	if (interval > 0)
		job_add_interval(job, interval);
}

/* Adds the sensors of proto to job; a broken sensor only warns. */
static void
jobs_add_sensors(struct job *job, struct json_object *list, unsigned flags)
{
	size_t i, n = json_object_array_length(list);

	job_alloc_sensors(job, n);
	for (i = 0; i < n; i++) {
		struct json_object *item = json_object_array_get_idx(list, i);
		struct json_object *sensor = NULL;

		if (!json_object_is_type(item, json_type_object))
			item = NULL; /* not a resolved sensor: it warns */
		else
			json_object_object_get_ex(item, "sensor", &sensor);
		jobs_add_sensor(job, i, sensor, item, 0, flags);
	}
}

/* The 64-bit hash of obj's plain JSON text (NULL: of "null"). */
static uint64_t
jobs_fp_text(struct json_object *obj)
{
	size_t n = 4;
	const char *text = obj == NULL ? "null"
	                               : json_object_to_json_string_length(
	                                     obj, JSON_C_TO_STRING_PLAIN, &n);

	return texthash(text, n, 0x6a736f6eULL);
}

/* The same for an object many jobs share (a credential's or a sensor's
 * details: jobfetch parses each record once per account and refresh),
 * remembered on the object as its json-c userdata so that it is written
 * once, not once per job.  Only plain objects carry it (json-c keeps
 * userdata of its own on doubles), and nothing changes such an object
 * once jobs refer to it.  (json_object_deep_copy would refuse to copy an
 * object that carries it; no code copies one.) */
static uint64_t
jobs_fp_shared(struct json_object *obj)
{
	uint64_t h;

	if (obj == NULL || !json_object_is_type(obj, json_type_object))
		return jobs_fp_text(obj);
	h = (uint64_t)(uintptr_t)json_object_get_userdata(obj);
	if (h == 0) {
		h = jobs_fp_text(obj) | 1; /* never 0: 0 is "not yet" */
		json_object_set_userdata(obj, (void *)(uintptr_t)h, NULL);
	}
	return h;
}

void
job_fingerprint(struct job *job)
{
	uint64_t head[16], one[3], *words = head, h[2];
	size_t n = 4 + 3 * job->n_sensors, i;

	/* Every part hashed on its own (the name's bytes, the details'
	 * text, the shared credential's and sensors' remembered hashes),
	 * then the words hashed twice: 128 bits, kept instead of the text
	 * (16 bytes a job instead of hundreds; texthash.h on collisions). */
	if (n > sizeof(head) / sizeof(head[0]))
		words = xcalloc(n, sizeof(*words));
	words[0] = texthash(job->name, strlen(job->name), 0x6e616d65ULL);
	words[1] = jobs_fp_text(job->details);
	words[2] = jobs_fp_shared(job->credential);
	words[3] = (uint64_t)job->n_sensors;
	for (i = 0; i < job->n_sensors; i++) {
		one[0] = (uint64_t)job->sensors[i].id;
		one[1] = (uint64_t)(int64_t)job->sensors[i].interval_s;
		one[2] = jobs_fp_shared(job->sensors[i].details);
		memcpy(words + 4 + 3 * i, one, sizeof(one));
	}
	h[0] = texthash(words, n * sizeof(*words), 0x6a6f6266ULL);
	h[1] = texthash(words, n * sizeof(*words), 0x70726e74ULL);
	memcpy(job->fingerprint, h, JOB_FP_LEN);
	if (words != head)
		free(words);
}

/* Checks a new job's details and credential details: 0, or -1 with err
 * (the job is then unusable). */
static int
jobs_check_json(struct job *job, char *err, size_t errlen)
{
	if (job->details == NULL || job->credential == NULL) {
		snprintf(err, errlen, "%s is not an object",
		    job->details == NULL ? "details" : "credential details");
		return -1;
	}
	if (jobs_too_deep(job->details, JOBS_MAX_DEPTH) ||
	    jobs_too_deep(job->credential, JOBS_MAX_DEPTH)) {
		snprintf(err, errlen, "%s nest deeper than %d levels",
		    jobs_too_deep(job->details, JOBS_MAX_DEPTH)
		        ? "details"
		        : "credential details",
		    JOBS_MAX_DEPTH);
		return -1;
	}
	return 0;
}

/* A job whose sensors are added: JOBS_OK with *out, or JOBS_INVALID when
 * none was usable (the job is freed). */
static enum jobs_verdict
jobs_finish(struct job *job, struct job **out, char *err, size_t errlen)
{
	if (job->n_sensors == 0) {
		snprintf(err, errlen, "no usable sensors (%s)",
		    job->warnings ? job->warnings : "none");
		job_unref(job);
		return JOBS_INVALID;
	}
	job_fingerprint(job);
	*out = job;
	return JOBS_OK;
}

enum jobs_verdict
jobs_from_entity(struct json_object *entity, int64_t account_id,
    const char *protocol, int64_t bot_id, struct job **out, char *err,
    size_t errlen)
{
	return jobs_from_entity_flags(
	    entity, account_id, protocol, bot_id, 0, out, err, errlen);
}

enum jobs_verdict
jobs_from_entity_flags(struct json_object *entity, int64_t account_id,
    const char *protocol, int64_t bot_id, unsigned flags, struct job **out,
    char *err, size_t errlen)
{
	struct json_object *v, *protocols, *proto, *cred, *sensors;
	const char *type, *name;
	struct job *job = NULL;
	int64_t id, assigned;

	*out = NULL;
	if (!json_object_is_type(entity, json_type_object)) {
		snprintf(err, errlen, "entity is not a JSON object");
		return JOBS_INVALID;
	}
	if (jsonx_id(entity, "id", &id) == -1) {
		snprintf(err, errlen, "entity has no valid id");
		return JOBS_INVALID;
	}
	type = jsonx_str(entity, "entity_type");
	if (type == NULL || strcmp(type, "device") != 0)
		return JOBS_SKIP;
	if (!json_object_object_get_ex(entity, "protocols", &protocols) ||
	    !json_object_is_type(protocols, json_type_object) ||
	    !json_object_object_get_ex(protocols, protocol, &proto) ||
	    proto == NULL)
		return JOBS_SKIP;
	if (!json_object_is_type(proto, json_type_object)) {
		snprintf(
		    err, errlen, "protocols.%s is not an object", protocol);
		return JOBS_INVALID;
	}
	if (json_object_object_get_ex(proto, "bot", &v) && v != NULL) {
		if (jsonx_id(proto, "bot", &assigned) == -1) {
			snprintf(err, errlen, "protocols.%s.bot is not an id",
			    protocol);
			return JOBS_INVALID;
		}
		if (bot_id >= 0 && assigned != bot_id)
			return JOBS_SKIP;
	}
	if (!json_object_object_get_ex(proto, "credential", &cred) ||
	    cred == NULL) {
		snprintf(err, errlen, "no %s credential is set", protocol);
		return JOBS_INVALID;
	}
	if (!json_object_is_type(cred, json_type_object)) {
		snprintf(err, errlen, "credential is not a resolved record");
		return JOBS_INVALID;
	}
	if (!json_object_object_get_ex(proto, "sensors", &sensors) ||
	    !json_object_is_type(sensors, json_type_array) ||
	    json_object_array_length(sensors) == 0) {
		snprintf(err, errlen, "no %s sensors are set", protocol);
		return JOBS_INVALID;
	}

	name = jsonx_str(entity, "name");
	job = job_new(id, account_id, name != NULL ? name : "");
	job->details = jsonx_object(entity, "details");
	job->credential = jsonx_object(cred, "details");
	if (jobs_check_json(job, err, errlen) == -1)
		goto fail;
	jobs_add_sensors(job, sensors, flags);
	return jobs_finish(job, out, err, errlen);
fail:
	job_unref(job);
	return JOBS_INVALID;
}

enum jobs_verdict
jobs_from_parts(const struct jobs_parts *p, int64_t account_id,
    const char *protocol, unsigned flags, struct job **out, char *err,
    size_t errlen)
{
	struct job *job;
	size_t i;

	*out = NULL;
	if (p->credential == NULL) {
		snprintf(err, errlen, "no %s credential is set", protocol);
		return JOBS_INVALID;
	}
	if (!json_object_is_type(p->credential, json_type_object)) {
		snprintf(err, errlen, "credential is not a resolved record");
		return JOBS_INVALID;
	}
	if (p->n_sensors == 0) {
		snprintf(err, errlen, "no %s sensors are set", protocol);
		return JOBS_INVALID;
	}
	job = job_new(p->id, account_id, p->name);
	job->details = json_object_is_type(p->details, json_type_object)
	    ? json_object_get(p->details)
	    : NULL;
	job->credential = jsonx_object(p->credential, "details");
	if (jobs_check_json(job, err, errlen) == -1) {
		job_unref(job);
		return JOBS_INVALID;
	}
	job_alloc_sensors(job, p->n_sensors);
	for (i = 0; i < p->n_sensors; i++)
		jobs_add_sensor(
		    job, i, p->sensors[i], NULL, p->intervals[i], flags);
	return jobs_finish(job, out, err, errlen);
}

int
job_same(const struct job *a, const struct job *b)
{
	static const unsigned char unset[JOB_FP_LEN];

	/* A job never fingerprinted (all zero) is the same as none. */
	return a->id == b->id && a->account_id == b->account_id &&
	    memcmp(a->fingerprint, unset, JOB_FP_LEN) != 0 &&
	    memcmp(a->fingerprint, b->fingerprint, JOB_FP_LEN) == 0;
}

void
job_update_init(struct job_update *u)
{
	memset(u, 0, sizeof(*u));
}

void
job_update_release(struct job_update *u)
{
	size_t i;

	for (i = 0; i < u->n_jobs; i++)
		job_unref(u->jobs[i]);
	free(u->jobs);
	free(u->keeps);
	job_update_init(u);
}

void
job_update_add(struct job_update *u, struct job *job)
{
	if (u->n_jobs == u->cap_jobs) {
		u->cap_jobs = u->cap_jobs ? u->cap_jobs * 2 : 16;
		u->jobs = xreallocarray(u->jobs, u->cap_jobs, sizeof(*u->jobs));
	}
	u->jobs[u->n_jobs++] = job;
}

void
job_update_keep(struct job_update *u, int64_t account_id, int64_t entity_id)
{
	if (u->n_keeps == u->cap_keeps) {
		u->cap_keeps = u->cap_keeps ? u->cap_keeps * 2 : 16;
		u->keeps =
		    xreallocarray(u->keeps, u->cap_keeps, sizeof(*u->keeps));
	}
	u->keeps[u->n_keeps].account_id = account_id;
	u->keeps[u->n_keeps].entity_id = entity_id;
	u->n_keeps++;
}

void
job_update_keep_account(struct job_update *u, int64_t account_id)
{
	job_update_keep(u, account_id, -1);
}

int
job_keep_covers(const struct job_keep *k, const struct job *job)
{
	if (k->entity_id < 0)
		return k->account_id == job->account_id;
	return k->entity_id == job->id &&
	    (k->account_id < 0 || k->account_id == job->account_id);
}

int
jobs_load_text(const char *text, size_t len, const char *protocol,
    unsigned flags, struct job_update *out, char *err, size_t errlen)
{
	struct json_object *root = NULL, *list = NULL;
	struct strset seen;
	size_t i, n;
	int rc = -1;

	strset_init(&seen);
	if (jsonx_parse(text, len, JOBS_LIST_MAX_DEPTH, &root, err, errlen) ==
	    -1)
		goto out;
	if (root == NULL) {
		snprintf(err, errlen,
		    "expected a list of entities or "
		    "{\"entities\": [...]}");
		goto out;
	}
	if (json_object_is_type(root, json_type_array))
		list = root;
	else if (!json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "entities", &list) ||
	    !json_object_is_type(list, json_type_array)) {
		snprintf(err, errlen,
		    "expected a list of entities or "
		    "{\"entities\": [...]}");
		goto out;
	}
	n = json_object_array_length(list);
	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(list, i);
		char why[BOT_ERRLEN];
		int64_t account = 1;
		struct json_object *acc;
		struct job *job;

		if (json_object_is_type(e, json_type_object) &&
		    json_object_object_get_ex(e, "account", &acc) &&
		    jsonx_id(e, "account", &account) == -1) {
			log_warnx("job file: entity #%zu skipped: account is "
			          "not an id",
			    i);
			continue;
		}
		switch (jobs_from_entity_flags(
		    e, account, protocol, -1, flags, &job, why, sizeof(why))) {
		case JOBS_OK:
			snprintf(why, sizeof(why), "%lld", (long long)job->id);
			if (!strset_add(&seen, why)) {
				log_warnx("job file: entity %lld appears "
				          "twice, the second is skipped",
				    (long long)job->id);
				job_unref(job);
				break;
			}
			if (job->warnings != NULL)
				log_warnx("job %lld (%s): %s",
				    (long long)job->id, job->name,
				    job->warnings);
			job_update_add(out, job);
			break;
		case JOBS_INVALID:
			log_warnx("job file: entity #%zu skipped: %s", i, why);
			break;
		case JOBS_SKIP:
			break;
		}
	}
	rc = 0;
out:
	strset_release(&seen);
	json_object_put(root);
	return rc;
}

int
jobs_load_file(const char *path, const char *protocol, unsigned flags,
    struct job_update *out, char *err, size_t errlen)
{
	struct buf b;
	char chunk[65536];
	size_t n;
	FILE *f;
	int rc = -1;

	buf_init(&b, JOBS_MAX_FILE_SIZE);
	f = fopen(path, "r");
	if (f == NULL) {
		snprintf(
		    err, errlen, "cannot open %s: %s", path, strerror(errno));
		goto out;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (buf_append(&b, chunk, n) == -1) {
			snprintf(err, errlen, "%s is larger than %d bytes",
			    path, JOBS_MAX_FILE_SIZE);
			goto out;
		}
	}
	if (ferror(f)) {
		snprintf(err, errlen, "cannot read %s", path);
		goto out;
	}
	rc = jobs_load_text(
	    b.data ? b.data : "", b.len, protocol, flags, out, err, errlen);
out:
	if (f != NULL)
		fclose(f);
	buf_release(&b);
	return rc;
}
