/*
 * The checkpoint file: every account's open windows and waiting values,
 * written atomically (temporary file, then rename) so that a restart
 * loses no long window.  A file that is truncated, altered or of another
 * version is reported and ignored.
 */
#ifndef NETFLOWBOT_NFSTATE_H
#define NETFLOWBOT_NFSTATE_H

#include <stddef.h>
#include <stdint.h>

#include "attrs.h"

struct nfagg;
struct nfagg_limits;

/* Writes the n aggregations to path.  0, or -1 with err. */
int nfstate_save(const char *path, struct nfagg *const *aggs, size_t n,
    char *err, size_t errlen) BOT_WUR;
/* Parses a checkpoint of len bytes into *out (an array of *n new
 * aggregations, caller frees).  0, or -1 with err (nothing returned). */
int nfstate_parse(const uint8_t *p, size_t len, const struct nfagg_limits *lim,
    struct nfagg ***out, size_t *n, char *err, size_t errlen) BOT_WUR;
/* Reads and parses path: 0 loaded, 1 when there is no file, -1 with err
 * when it is unreadable or invalid. */
int nfstate_load(const char *path, const struct nfagg_limits *lim,
    struct nfagg ***out, size_t *n, char *err, size_t errlen) BOT_WUR;

#endif
