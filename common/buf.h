/*
 * A growable byte buffer.  Made with buf_init it has a hard ceiling (curl's
 * dynbuf "toobig"): bodies from the network can never grow past it, and
 * the buf_append family says -1 when they would.  Made with buf_init_text
 * it has none, for text we build ourselves (request bodies), and the
 * buf_add family never fails.  The content is always NUL-terminated so
 * text can be read in place.
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
/* Initialises an empty buffer without a ceiling (only memory bounds it),
 * for text the program builds itself, never for input. */
void buf_init_text(struct buf *b);
/* Frees the content; the struct may be reused after buf_init. */
void buf_release(struct buf *b);
/* Empties the buffer but keeps its memory. */
void buf_reset(struct buf *b);

/* Appends len bytes; -1 (and nothing appended) if the ceiling would be
 * passed. */
int buf_append(struct buf *b, const void *data, size_t len) BOT_WUR;
int buf_append_str(struct buf *b, const char *s) BOT_WUR;
int buf_printf(struct buf *b, const char *fmt, ...) BOT_PRINTF(2, 3) BOT_WUR;

/* Append to a buffer made with buf_init_text: these never fail (passing
 * a buf_init ceiling with them is a bug, and fatal). */
void buf_add(struct buf *b, const void *data, size_t len);
void buf_add_str(struct buf *b, const char *s);
void buf_addf(struct buf *b, const char *fmt, ...) BOT_PRINTF(2, 3);

/* Hands the content to the caller (free() it) and resets the buffer. */
char *buf_detach(struct buf *b);

#endif
