/*
 * A growable byte buffer with a hard ceiling fixed at init (curl's dynbuf
 * "toobig"): bodies from the network can never grow past it.  The content
 * is always NUL-terminated so text can be read in place.
 */
#ifndef BOT_BUF_H
#define BOT_BUF_H

#include <stddef.h>

#include "attrs.h"

struct buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max; /* the ceiling: len never exceeds it */
};

/* Initialises an empty buffer that may hold at most max bytes. */
void buf_init(struct buf *b, size_t max);
/* Frees the content; the struct may be reused after buf_init. */
void buf_release(struct buf *b);
/* Empties the buffer but keeps its memory. */
void buf_reset(struct buf *b);

/* Appends len bytes; -1 (and nothing appended) if the ceiling would be
 * passed. */
int buf_append(struct buf *b, const void *data, size_t len) BOT_WUR;
int buf_append_str(struct buf *b, const char *s) BOT_WUR;
int buf_printf(struct buf *b, const char *fmt, ...) BOT_PRINTF(2, 3) BOT_WUR;

/* Hands the content to the caller (free() it) and resets the buffer. */
char *buf_detach(struct buf *b);

#endif
