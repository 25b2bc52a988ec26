/*
 * Isolating the values the backend refuses.  When it answers 400 for a
 * batch, the batch becomes a suspect: it holds at least one bad value.  A
 * suspect is split in two and its first half is sent alone while the
 * other waits; if that half is refused it is the new suspect and the other
 * half is innocent, otherwise the other half is the suspect.  A suspect of
 * one value is the refused value.  Suspects form a stack, so that one
 * bisection ends before the next starts.
 */
#ifndef BOT_BISECT_H
#define BOT_BISECT_H

#include <stddef.h>
#include <stdint.h>

#include "sendq.h"

struct bisect;

/* Values holding at least one refused value. */
struct bisect_suspect {
	int64_t account_id;
	struct value *items; /* owned: the array and the paths */
	size_t n;
	char *reason; /* owned: the backend's answer, printable */
};

/* The half of a suspect that waits while the other one is sent; zeroed,
 * it means "not bisecting". */
struct bisect_half {
	struct value *rest; /* owned: the array and the paths */
	size_t n_rest;
	char *reason; /* owned: why the parent is suspect */
};

/* Returns an empty stack, owned by the caller. */
struct bisect *bisect_new(void);
/* Frees the stack and the suspects' values, outside any accounting.  NULL
 * is a no-op. */
void bisect_free(struct bisect *b);

/* Pushes a suspect of n >= 1 values of the account.  The items array (and
 * the paths) moves into b; reason (may be NULL) is copied. */
void bisect_push(struct bisect *b, int64_t account_id, struct value *items,
    size_t n, const char *reason);

/* Moves the top suspect into *out (its contents then the caller's).
 * Returns 0, or -1 when there is none. */
int bisect_pop(struct bisect *b, struct bisect_suspect *out);

/* 1 if a suspect of the account waits, else 0. */
int bisect_has_account(const struct bisect *b, int64_t account_id);

/* Splits a suspect of n >= 2 values: sus keeps the first n / 2 values,
 * to be sent; the others and the reason move into *h. */
void bisect_split(struct bisect_suspect *sus, struct bisect_half *h);

/* The request for items[0..n) (the sent half of h) failed for another
 * reason: both halves are one suspect again, as before the split.  Takes
 * the items array; h keeps only its reason. */
void bisect_rejoin(struct bisect *b, int64_t account_id, struct value *items,
    size_t n, struct bisect_half *h);

/* The sent half is out of the way without having been refused by a 400:
 * the waiting half becomes the suspect.  h keeps only its reason. */
void bisect_clear(struct bisect *b, int64_t account_id, struct bisect_half *h);

/* Frees what h and sus still hold, outside any accounting. */
void bisect_half_release(struct bisect_half *h);
void bisect_suspect_release(struct bisect_suspect *sus);

#endif
