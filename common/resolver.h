/*
 * Host names resolved off the loop thread.  getaddrinfo blocks for as long
 * as the system's resolver takes (seconds with a dead name server), so a
 * few worker threads run it and hand the answers back through a pipe;
 * callbacks run on the loop thread.  Numeric addresses go through the
 * queue like names; callers that have one need no resolver at all.
 */
#ifndef BOT_RESOLVER_H
#define BOT_RESOLVER_H

#include <stddef.h>

#include "attrs.h"

struct addrinfo;
struct loop;
struct resolver;
struct resolver_query;

/* rc is 0 or a getaddrinfo EAI_* code (text: gai_strerror); res is the
 * answer list (NULL on error), valid only during the call. */
typedef void resolver_cb(int rc, const struct addrinfo *res, void *arg);

/* Creates a resolver with up to n_threads workers, started on demand.
 * NULL (after a log line) when the wake-up pipe cannot be made. */
struct resolver *resolver_new(struct loop *l, int n_threads);

/* Cancels every query (no callback runs) and releases the resolver.  Idle
 * workers are joined; one still inside getaddrinfo is not waited for: it
 * finishes on its own and frees what it holds. */
void resolver_free(struct resolver *r);

/* Looks name up for family (AF_INET, AF_INET6, AF_UNSPEC; with
 * AI_ADDRCONFIG).  cb runs once, later, on the loop thread, unless the
 * query is cancelled first.  name is copied. */
struct resolver_query *resolver_lookup(struct resolver *r, const char *name,
    int family, resolver_cb *cb, void *arg);

/* The query's callback will not run.  Loop thread only; q is invalid
 * afterwards. */
void resolver_cancel(struct resolver_query *q);

/* Queries not yet answered (for tests and shutdown logs). */
size_t resolver_pending(const struct resolver *r);

#endif
