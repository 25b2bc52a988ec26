/*
 * A set of strings (open addressing, FNV-1a), for de-duplicating log lines
 * across thousands of jobs in constant time per line.
 */
#ifndef BOT_STRSET_H
#define BOT_STRSET_H

#include <stddef.h>

struct strset {
	char **slots; /* owned copies; NULL marks a free slot */
	size_t cap;   /* 0 or a power of two */
	size_t n;
};

/* An empty set (no allocation until the first add). */
void strset_init(struct strset *s);
/* Frees every string and the table; s is then empty. */
void strset_release(struct strset *s);
/* 1 when str is in s, else 0. */
int strset_has(const struct strset *s, const char *str);
/* Adds a copy of str; 1 when it was new, 0 when it was already there. */
int strset_add(struct strset *s, const char *str);
/* Releases dst, moves src's strings into it and leaves src empty. */
void strset_move(struct strset *dst, struct strset *src);

#endif
