/*
 * Aggregation of one account's flows into windows of 1 min, 15 min, 1 h,
 * 4 h and 24 h aligned to wall-clock boundaries (Unix time multiples),
 * per exporter entity, direction and interface: byte totals and top
 * lists (IP, protocol, connection, destination port).  When a window
 * closes its values are rendered with the paths of the protocol (section
 * 5) and the window's end as t, and wait in the aggregation until the bot
 * takes them (nfagg_take) in a run of the account's job.
 */
#ifndef NETFLOWBOT_NFAGG_H
#define NETFLOWBOT_NFAGG_H

#include <stddef.h>
#include <stdint.h>

#include "nfflow.h"

#define NFAGG_N_WINDOWS 5
#define NFAGG_TOP_N     10

extern const int nfagg_window_s[NFAGG_N_WINDOWS];
extern const char *const nfagg_window_label[NFAGG_N_WINDOWS];

struct nfagg_limits {
	uint32_t top_keys;   /* exact keys per top list, then Space-Saving */
	uint32_t max_ifaces; /* interfaces per entity and window */
	size_t max_pending;  /* rendered values waiting (oldest dropped) */
};

/* A rendered value of a closed window. */
struct nfagg_value {
	char *path;
	double v;
	double t;
};

struct nfagg;
struct buf;

/* Fills lim with the defaults (512 keys, 64 interfaces). */
void nfagg_limits_defaults(struct nfagg_limits *lim);
/* A new aggregation for account_id (owned by the caller, nfagg_free). */
struct nfagg *nfagg_new(int64_t account_id, const struct nfagg_limits *lim);
/* Frees a with its windows and waiting values; NULL is ignored. */
void nfagg_free(struct nfagg *a);
/* The account a aggregates for. */
int64_t nfagg_account(const struct nfagg *a);

/* Adds flow f exported by entity at clock time now_s (Unix s).  Windows
 * that ended at or before now_s are closed first. */
void nfagg_add(
    struct nfagg *a, int64_t entity, const struct nfflow *f, int64_t now_s);
/* Closes every window that ended at or before now_s and opens the current
 * ones (so that an idle window still reports its zero totals). */
void nfagg_advance(struct nfagg *a, int64_t now_s);
/* Closes every open window that saw any flow (end of a capture). */
void nfagg_flush(struct nfagg *a);
/* Moves the rendered values out: *out (caller frees each path and the
 * array); returns how many. */
size_t nfagg_take(struct nfagg *a, struct nfagg_value **out);
/* Values dropped because max_pending was reached; key and scope
 * overflows (interfaces beyond the cap). */
uint64_t nfagg_dropped(const struct nfagg *a);
uint64_t nfagg_iface_overflow(const struct nfagg *a);
/* Appends a's open windows and waiting values to b (a checkpoint; host
 * byte order).  -1 when b's ceiling is reached. */
int nfagg_save(const struct nfagg *a, struct buf *b);
/* Reads one aggregation saved by nfagg_save from p (len bytes); *used
 * gets the bytes read.  NULL with err when the data is not valid. */
struct nfagg *nfagg_load(const uint8_t *p, size_t len, size_t *used,
    const struct nfagg_limits *lim, char *err, size_t errlen);
/* Bytes held by the open windows' tables. */
size_t nfagg_bytes(const struct nfagg *a);

#endif
