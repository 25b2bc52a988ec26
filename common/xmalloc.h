/*
 * Allocation wrappers that never return NULL: running out of memory in a
 * small supervised daemon is fatal (OpenBSD fatal(NULL), Redis zmalloc).
 */
#ifndef BOT_XMALLOC_H
#define BOT_XMALLOC_H

#include <stddef.h>

#include "attrs.h"

/* malloc/calloc/realloc/strdup that exit through fatal() on failure.
 * The result is owned by the caller and released with free(). */
void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xreallocarray(void *ptr, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Formats into a newly allocated string owned by the caller. */
char *xasprintf(const char *fmt, ...) BOT_PRINTF(1, 2);

#endif
