/*
 * An API answer's body to a jq value: parsed once with json-c (nesting at
 * most APIBODY_MAX_DEPTH, nothing but blanks after the value, a truncated
 * body is an error) and converted to libjq's jv.  Safe on any thread.
 */
#ifndef BOT_APIBODY_H
#define BOT_APIBODY_H

#include <jv.h>
#include <stddef.h>

#include "attrs.h"

#define APIBODY_MAX_DEPTH 32

/* Parses len bytes of text into *out (a new jv the caller frees).
 * 0, or -1 with err saying what is wrong (empty, not JSON, too deep,
 * trailing data, truncated). */
int apibody_parse(
    const char *text, size_t len, jv *out, char *err, size_t errlen) BOT_WUR;

#endif
