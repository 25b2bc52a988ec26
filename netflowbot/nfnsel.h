/*
 * Cisco ASA NetFlow Secure Event Logging (NSEL) bookkeeping for one
 * exporter source.  An ASA reports a connection in events: create (no
 * counts), flow-update (the bytes since the last update) and teardown
 * (the connection's total).  When updates were sent for a connection, its
 * teardown total repeats what they counted; short connections get only a
 * teardown.  This set remembers which connection ids had updates, so a
 * teardown is counted only for the others.
 */
#ifndef NETFLOWBOT_NFNSEL_H
#define NETFLOWBOT_NFNSEL_H

#include <stddef.h>
#include <stdint.h>

/* Connections remembered per source (a table of at most 4 MiB); beyond
 * it the older half is forgotten (their teardowns would then count
 * again). */
#define NFNSEL_MAX_CONNS 131072
/* A connection with no update for this long is forgotten (its teardown
 * was lost). */
#define NFNSEL_STALE_S 7200

struct nfnsel;

/* Notes a flow-update event of connection conn at now_s; *ns is created
 * on first use. */
void nfnsel_updated(struct nfnsel **ns, uint64_t conn, int64_t now_s);

/* At the teardown of conn: 1 when it had update events (its counts are
 * already in; it is forgotten now), else 0.  ns may be NULL. */
int nfnsel_torn_down(struct nfnsel *ns, uint64_t conn);

/* How many connections are remembered (tests). */
size_t nfnsel_count(const struct nfnsel *ns);

/* Frees ns; NULL is ignored. */
void nfnsel_free(struct nfnsel *ns);

#endif
