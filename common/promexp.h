/*
 * The Prometheus output: the last value of every series (metricname.h)
 * with its measurement time, served as /metrics in the text exposition
 * format by libmicrohttpd driven from the bot's loop (its epoll
 * descriptor is watched like any other; no thread).  A series that gets
 * no value for two of its intervals (the time between its last two
 * values), or for the TTL when it had only one value, is removed.
 */
#ifndef BOT_PROMEXP_H
#define BOT_PROMEXP_H

#include <stddef.h>
#include <stdint.h>

#include "attrs.h"

struct buf;
struct loop;
struct promexp;
struct values;

/* Appends the bot's own metrics (complete exposition text, with # HELP
 * and # TYPE lines) to out; called at every scrape on the loop thread. */
typedef void promexp_self_fn(void *arg, struct buf *out);

/* Listens on addr (numeric IPv4/IPv6; NULL or "" for every address) and
 * port (0 picks a free one, see promexp_port); l is borrowed.  ttl_ms is
 * how long a series seen once is kept.  NULL with err on failure. */
struct promexp *promexp_new(struct loop *l, const char *addr, int port,
    int64_t ttl_ms, char *err, size_t errlen) BOT_WUR;
void promexp_free(struct promexp *p);
/* The port listened on. */
int promexp_port(const struct promexp *p);

/* Records every value of vs (borrowed) as its series' last value;
 * invalid paths are ignored. */
void promexp_put(struct promexp *p, const struct values *vs);
/* fn (may be NULL) adds the bot's own metrics to every scrape; arg is
 * borrowed. */
void promexp_set_self(struct promexp *p, promexp_self_fn *fn, void *arg);

/* Removes stale series, then writes the whole exposition into out
 * (caller-owned, initialised).  -1 when out's ceiling is reached. */
int promexp_render(struct promexp *p, struct buf *out) BOT_WUR;
/* Series held now. */
size_t promexp_series(const struct promexp *p);

#endif
