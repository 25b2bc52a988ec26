/*
 * Jobs per account instead of per entity, for bots that aggregate over
 * all of an account's devices at intervals of their own (NetFlow: one
 * aggregation job per account, run for the windows that are due).  The
 * entity jobs of a refresh become one job per account; the scheduler,
 * refresh diffing and keep lists then work on those.
 */
#ifndef BOT_JOBGROUP_H
#define BOT_JOBGROUP_H

#include <stddef.h>

struct job_update;

/* Replaces the jobs of u by one job per account that has any: id and
 * account_id are the account id, name "account <id>", details the list
 * [{"id", "name", "details", "credential", "sensors": [ids]}, ...] of its
 * entities by ascending id, credential {}, no sensors, and intervals_s
 * (n of them, each > 0).  An entity whose job was kept from the previous
 * refresh (a failed request) keeps its whole account's previous job;
 * when its account is unknown (-1 in job_update_keep), every account in
 * u keeps its previous job. */
void jobgroup_by_account(
    struct job_update *u, const int *intervals_s, size_t n);

#endif
