/*
 * One refresh of job configs from the backend: accounts, then each
 * account's entity list (which carries protocols), then every distinct
 * credential and sensor the protocol's entities need, at most 4 requests
 * at a time, accounts worked on one after another, in slices that leave
 * the loop free.  A failed request only affects the entities that need
 * it: the update tells the scheduler to keep their previous jobs.
 */
#ifndef BOT_JOBFETCH_H
#define BOT_JOBFETCH_H

#include <stddef.h>
#include <stdint.h>

#include "attrs.h"

struct backend;
struct job;
struct job_update;

/* Receives the finished update (owned by the callee: apply or release). */
typedef void jobfetch_cb(struct job_update *u, int ok, void *arg);

/* jobfetch_start flag: remember each entity's text (a 64-bit hash), the
 * records it names and the job it gave, and on the next refresh give the
 * same job again, without parsing, when its text and the text of each of
 * its records are unchanged and the job is still scheduled
 * (job->sched_entry).  For per-entity jobs (bot.c). */
#define JOBFETCH_REUSE 0x10000u

/* Starts a refresh for protocol (copied); flags go to
 * jobs_from_entity_flags (besides JOBFETCH_REUSE).  cb runs once, later, with
 * ok=0 when nothing could be fetched (u is then empty, without keep lists: the
 * caller must not apply it).  -1 if a refresh is already running or the
 * first request cannot start (cb is not called). */
int jobfetch_start(struct backend *b, const char *protocol, unsigned flags,
    jobfetch_cb *cb, void *arg) BOT_WUR;

/* With JOBFETCH_REUSE: prepare (NULL: none) is called for each new or
 * changed job as soon as it is built, before the update is handed on, so
 * the bot parses it while other answers are on their way and its JSON goes
 * at once.  It returns 0 once the job is prepared and its JSON dropped
 * (job_drop_json), or -1 to leave the JSON (then parked, job_park_json)
 * for the runtime to prepare when the update is applied.  Borrowed; set
 * before jobfetch_start, not while a refresh runs. */
typedef int jobfetch_prepare_cb(struct job *job, void *arg);
void jobfetch_set_prepare(jobfetch_prepare_cb *prepare, void *arg);

/* What jobfetch_scan_entity reads of an entity of ours. */
struct jobfetch_scan {
	int64_t *ids; /* the credential's id, then each sensor's (-1: none) */
	uint32_t n_ids;
	/* 1: the rest holds all the build needs (jobs_from_parts), so the
	 * entity need not be parsed: a valid id, a name without escapes,
	 * details that are an object, an integer credential id, and at least
	 * one sensor, each an object with an integer id and an interval of
	 * 1..JOBS_MAX_INTERVAL_S or none. */
	int complete;
	int64_t id;
	const char *name; /* in the text, name_len bytes, no escapes */
	size_t name_len;
	const char *details; /* the details object's text */
	size_t details_len;
	int *intervals; /* n_ids entries, [k] for ids[k] (k >= 1); 0: none */
};

/* Reads the entity text (one JSON object) for protocol and bot bot_id as
 * jobfetch's scan does, without json-c: 1 when the entity is a device
 * with protocols[protocol] for that bot (*out filled; release it with
 * jobfetch_scan_release), 0 when it is not, -1 when the text is beyond
 * this reader (json-c then decides).  Whatever it accepts json-c accepts
 * and reads the same way (fuzz_jobscan checks ids, verdicts and the
 * built jobs against json-c's reading). */
int jobfetch_scan_entity(const char *text, size_t len, const char *protocol,
    int64_t bot_id, struct jobfetch_scan *out) BOT_WUR;
/* Frees what jobfetch_scan_entity put in scan. */
void jobfetch_scan_release(struct jobfetch_scan *scan);

/* The record ids the entity text (one JSON object) names for protocol and
 * bot bot_id, read as jobfetch's scan reads them without json-c: 1 when
 * the entity is a device with protocols[protocol] for that bot (*ids: a
 * new array of *n: the credential's id, then each sensor's, -1 where
 * there is none), 0 when it is not, -1 when the text is beyond this
 * reader (then json-c decides).  Exported for tests and fuzzing, which
 * check it against json-c's reading. */
int jobfetch_scan_ids(const char *text, size_t len, const char *protocol,
    int64_t bot_id, int64_t **ids, uint32_t *n) BOT_WUR;

/* Drops what JOBFETCH_REUSE remembers (its job references too); the next
 * refresh parses everything.  Not while a refresh runs. */
void jobfetch_forget(void);

#endif
