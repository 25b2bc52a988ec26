/*
 * The worker threads that ping batches.  liboping's ping_send blocks for
 * the timeout, so every batch handed in runs pinger_run on a thread of its
 * own (started when all are busy, at most max_workers, kept until
 * pingpool_free) and comes back through a pipe the loop watches: a batch
 * never waits for another one to end.  Workers never log and touch nothing
 * but their batch's targets and report.
 */
#ifndef BOT_PINGPOOL_H
#define BOT_PINGPOOL_H

#include <stddef.h>

#include "pinger.h"

struct loop;
struct pingpool;

struct pingpool_batch {
	/* Set by the caller. */
	struct pinger_target *targets; /* borrowed; results written in place */
	size_t n;

	/* Set by the pool. */
	struct pinger_report rep;
	int done; /* pinger_run returned (rep.aborted: cut short) */

	/* Private to the pool. */
	struct pingpool_batch *next;
};

/* Runs on the loop thread for each batch that finished (never for one
 * cut short by pingpool_free); b is the caller's again. */
typedef void pingpool_done_fn(struct pingpool_batch *b, void *arg);

/* Creates a pool on loop l pinging with engine p (borrowed; it must outlive
 * the pool), with its first worker started.  NULL (logged) when the pipe or
 * that worker cannot be made.  Owned by the caller. */
struct pingpool *pingpool_new(struct loop *l, struct pinger *p,
    size_t max_workers, pingpool_done_fn *cb, void *arg);

/* Hands b (borrowed until its callback or pingpool_free) to a worker,
 * starting one when all are busy and fewer than pingpool_max run.  When
 * a thread cannot be started (logged), the most becomes the number there
 * are and b waits for one of them. */
void pingpool_submit(struct pingpool *pp, struct pingpool_batch *b);

/* Batches handed in and not yet called back; the most at once. */
size_t pingpool_busy(const struct pingpool *pp);
size_t pingpool_max(const struct pingpool *pp);

/* Stops every worker (cutting a ping_send short), joins them and frees
 * the pool; NULL is a no-op.  Batches not called back stay the caller's:
 * those with done set and rep.aborted clear have complete results. */
void pingpool_free(struct pingpool *pp);

#endif
