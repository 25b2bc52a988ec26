/*
 * Job configs: one job per device entity of our protocol, built from the
 * "resolved" entity JSON, in which protocols[P].credential and each
 * sensors[i].sensor hold the fetched records instead of ids.  The backend
 * fetcher produces that shape and so do standalone job files, so both go
 * through the same parser.  Jobs are reference-counted: the scheduler holds
 * one reference and a run in progress another.
 */
#ifndef BOT_JOBS_H
#define BOT_JOBS_H

#include <stddef.h>
#include <stdint.h>

#include "attrs.h"

struct json_object;

/* The deepest nesting accepted in an entity's, credential's or sensor's
 * details (json-c's own default); deeper ones make only that entity (or
 * sensor) unusable.  Lists of entities are parsed with the larger bound,
 * so one deep entity cannot make its whole list unreadable. */
#define JOBS_MAX_DEPTH      64
#define JOBS_LIST_MAX_DEPTH 512

/* The longest interval we accept: 31 days. */
#define JOBS_MAX_INTERVAL_S (31 * 24 * 3600)

struct job_sensor {
	int64_t id;
	int interval_s; /* 0 only with JOBS_SENSOR_INTERVAL_OPTIONAL */
	/* own reference; never NULL until job_drop_json (after job_prepare) */
	struct json_object *details;
};

/* The length of a job's fingerprint: 128 bits of hash. */
#define JOB_FP_LEN 16

struct job {
	int64_t id; /* entity id */
	int64_t account_id;
	char *name; /* held in the job's own block (job_new) */
	/* entity / credential details: own references, until job_prepare
	 * returns (job_drop_json), NULL after */
	struct json_object *details;
	struct json_object *credential;
	struct job_sensor *sensors; /* one sensor: &sensor_one */
	size_t n_sensors;
	int *
	    intervals_s; /* distinct intervals, ascending; one: &interval_one */
	size_t n_intervals;
	char *warnings; /* skipped sensors, "; "-joined, or NULL */
	/* While parked (job_park_json): the text of its details, credential
	 * and sensors' details, which are NULL meanwhile; else NULL. */
	char *parked;
	void *priv; /* the bot's parsed form of the job */
	void (*priv_free)(void *priv);
	void *sched_entry; /* owned by sched.c */
	int refs;
	/* Private to jobs.c: the common case of one interval and one sensor
	 * needs no allocation of its own. */
	int interval_one;
	struct job_sensor sensor_one;
	/* A 128-bit hash of the canonical text of all that shapes its runs
	 * (job_fingerprint); equal = unchanged.  All zero until set. */
	unsigned char fingerprint[JOB_FP_LEN];
};

/* jobs_from_entity_flags / jobs_load_*: for bots whose jobs run at
 * intervals of their own (per-account jobs, jobgroup.h; NetFlow's sensors
 * have none), a sensor with no interval on the entity nor a default one is
 * kept with interval_s 0 and adds no interval to its job.  Without it
 * such a sensor is skipped with a warning. */
#define JOBS_SENSOR_INTERVAL_OPTIONAL 1u

enum jobs_verdict {
	JOBS_INVALID = -1, /* for us but unusable: err says why */
	JOBS_SKIP = 0,     /* not for this bot */
	JOBS_OK = 1,
};

/* Builds the job of a resolved entity (borrowed) for protocol P and bot
 * bot_id (-1 accepts any assigned bot).  On JOBS_OK *out is a new job with
 * one reference, owned by the caller. */
enum jobs_verdict jobs_from_entity(struct json_object *entity,
    int64_t account_id, const char *protocol, int64_t bot_id, struct job **out,
    char *err, size_t errlen) BOT_WUR;
/* The same with flags (JOBS_SENSOR_INTERVAL_OPTIONAL or 0). */
enum jobs_verdict jobs_from_entity_flags(struct json_object *entity,
    int64_t account_id, const char *protocol, int64_t bot_id, unsigned flags,
    struct job **out, char *err, size_t errlen) BOT_WUR;

/* An entity already read elsewhere (jobfetch's scan reads the list's text
 * without json-c): what jobs_from_entity_flags would read of the resolved
 * entity, for an entity that is a device of our protocol and bot, whose id
 * is valid and whose sensors' intervals on the entity are valid. */
struct jobs_parts {
	int64_t id;
	const char *name;               /* "" when it has none */
	struct json_object *details;    /* the entity's details (borrowed) */
	struct json_object *credential; /* the credential record, NULL: none */
	struct json_object **sensors;   /* the sensor records that exist */
	const int *intervals;           /* each one's interval, 0: none */
	size_t n_sensors;
};

/* Builds the job of p: the same verdict, job, warnings and err as
 * jobs_from_entity_flags gives for the resolved entity p describes. */
enum jobs_verdict jobs_from_parts(const struct jobs_parts *p,
    int64_t account_id, const char *protocol, unsigned flags, struct job **out,
    char *err, size_t errlen) BOT_WUR;

/* A new, empty job with one reference (details and credential NULL, no
 * sensors or intervals); for code that builds jobs of its own.  The job and
 * its name are one allocation: job->name must not be replaced. */
struct job *job_new(int64_t id, int64_t account_id, const char *name);
/* Adds an interval to job->intervals_s (kept distinct and ascending). */
void job_add_interval(struct job *job, int interval_s);
/* Sets job->fingerprint from its name, details, credential and sensors. */
void job_fingerprint(struct job *job);
/* Gives job n sensors (zeroed, n_sensors still 0): job->sensor_one when n
 * is at most 1, else an array that job_unref frees.  Once per job. */
void job_alloc_sensors(struct job *job, size_t n);
/* Releases the job's JSON (details, credential, every sensor's details:
 * all become NULL).  The runtime calls it once job_prepare has turned them
 * into the bot's own form, so loaded jobs hold no json-c objects; the
 * fingerprint (text) still tells whether a refresh changed the job. */
void job_drop_json(struct job *job);
/* Parks the job's JSON as one text and releases the json-c objects, so
 * that a job waiting for job_prepare holds a few hundred bytes instead of
 * json-c's hash tables (jobfetch.c parks what it builds).  A parked job's
 * details, credential and sensor details are NULL until job_unpark_json. */
void job_park_json(struct job *job);
/* Parses a parked job's text back into details, credential and sensor
 * details (equal to what was parked) and frees the text; 0.  Nothing to
 * do for a job not parked: 0.  -1 (the job stays parked) only if the text
 * no longer parses, which cannot happen for a text job_park_json wrote. */
int job_unpark_json(struct job *job) BOT_WUR;
struct job *job_ref(struct job *job);
/* Drops a reference; the last one frees the job (calling priv_free). */
void job_unref(struct job *job);

/* True when the job has a sensor of the given interval. */
int job_sensor_due(const struct job_sensor *s, const int *due_s, size_t n);

/* True when b may replace a without a change: same entity, same account
 * and the same fingerprint.  The one rule for "unchanged" (sched.c). */
int job_same(const struct job *a, const struct job *b);

/* Previous jobs an update keeps although it does not carry them (their
 * records could not be fetched this time). */
struct job_keep {
	int64_t account_id; /* -1: the entity's account is unknown (any) */
	int64_t entity_id;  /* -1: every job of the account */
};

/* A new set of jobs handed to the scheduler. */
struct job_update {
	struct job **jobs; /* one owned reference each */
	size_t n_jobs;
	size_t cap_jobs;
	struct job_keep *keeps;
	size_t n_keeps;
	size_t cap_keeps;
};

void job_update_init(struct job_update *u);
/* Drops the remaining job references and frees the arrays. */
void job_update_release(struct job_update *u);
/* Takes ownership of job's reference. */
void job_update_add(struct job_update *u, struct job *job);
/* Keeps the previous job of entity_id in account_id (-1: any account),
 * or with entity_id -1 every previous job of account_id. */
void job_update_keep(
    struct job_update *u, int64_t account_id, int64_t entity_id);
/* The same as job_update_keep(u, account_id, -1). */
void job_update_keep_account(struct job_update *u, int64_t account_id);
/* True when keep k covers job (entity and account as described above). */
int job_keep_covers(const struct job_keep *k, const struct job *job);

/* Loads a standalone job file: a JSON list of resolved entities, or an
 * object {"entities": [...]}.  An entity may carry "account" (default 1).
 * Broken entities are logged and skipped.  -1 with err when the file
 * cannot be read or is not JSON of that shape. */
int jobs_load_file(const char *path, const char *protocol, unsigned flags,
    struct job_update *out, char *err, size_t errlen) BOT_WUR;

/* Parses a whole job file held in memory (the fuzzing entry point). */
int jobs_load_text(const char *text, size_t len, const char *protocol,
    unsigned flags, struct job_update *out, char *err, size_t errlen) BOT_WUR;

/* 1 when obj nests arrays/objects more than limit levels deep (obj
 * itself is one level), else 0.  Stops at the first level past limit. */
int jobs_too_deep(struct json_object *obj, int limit);

#endif
