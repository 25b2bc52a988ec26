/*
 * The official SNMP bot's slug of a value, byte for byte: python-slugify
 * 4.0.0 called as slugify(value, regex_pattern=r'[^0-9a-zA-Z_-]+',
 * lowercase=False), on the value decoded as UTF-8 (invalid bytes vanish).
 * Dashboards are keyed by the paths these slugs make.
 */
#ifndef BOT_SLUG_H
#define BOT_SLUG_H

#include <stddef.h>

#include "attrs.h"

/* Writes the slug of in (len bytes, any content; borrowed) to out (size
 * outlen, NUL-terminated).  Where the official slug is empty, writes "-"
 * (an empty segment would make the backend refuse the whole batch).
 * Returns the slug's length, or -1 when it does not fit in out. */
int slug_make(const char *in, size_t len, char *out, size_t outlen) BOT_WUR;

/* Frees the scratch buffers slug_make keeps between calls. */
void slug_release(void);

#endif
