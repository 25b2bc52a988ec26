/*
 * Per-origin admission: at most cap requests of one origin (scheme, host,
 * port) in flight at once; the others wait in order of arrival.  Only
 * what may start goes to libcurl, whose multi handle then holds a few
 * transfers instead of every request of a tick.  Loop thread only.
 */
#ifndef BOT_APIHOST_H
#define BOT_APIHOST_H

#include <stddef.h>

struct apihosts;
struct apihost;

/* A request's place: embedded in the caller's request, zeroed before
 * apihost_enter. */
struct apihost_slot {
	struct apihost *host; /* NULL: not entered */
	int running;          /* 0: waiting */
	struct apihost_slot *prev, *next;
};

/* A table allowing cap (at least 1) requests per origin at once. */
struct apihosts *apihosts_new(size_t cap);
/* Frees the table; slots still entered are forgotten (their owners must
 * not use them again). */
void apihosts_free(struct apihosts *t);

/* Enters slot s for origin (copied when new).  Returns 1 when s may start
 * now (it counts as in flight), 0 when it waits for a running one to
 * leave. */
int apihost_enter(
    struct apihosts *t, const char *origin, struct apihost_slot *s);
/* s leaves (finished, failed or cancelled; no-op if never entered).  When
 * s was in flight and another waits, that one becomes in flight and is
 * returned: the caller starts it (or makes it leave as well).  NULL
 * otherwise. */
struct apihost_slot *apihost_leave(struct apihosts *t, struct apihost_slot *s);

/* In flight and waiting for origin (0 for an unknown origin). */
size_t apihost_running(const struct apihosts *t, const char *origin);
size_t apihost_waiting(const struct apihosts *t, const char *origin);

#endif
