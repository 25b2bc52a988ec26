/*
 * Value paths: dot-separated segments of [A-Za-z0-9_-], where "%2e" and
 * "%3a" stand for '.' and ':' inside a segment.  The backend rejects the
 * whole batch for one bad path, so every path is checked here first.
 */
#ifndef BOT_PATH_H
#define BOT_PATH_H

#include <stddef.h>

#include "attrs.h"

#define PATH_MAX_LEN 200

/* 1 when path is acceptable to the backend (regex, not "system.", at most
 * PATH_MAX_LEN characters), else 0. */
int path_valid(const char *path);

/* Writes in as one path segment into out: '.' becomes "%2e", ':' "%3a",
 * [A-Za-z0-9_-] stay and every other byte becomes '-'.  -1 if out is too
 * small or in is empty. */
int path_escape(const char *in, char *out, size_t outlen) BOT_WUR;

/* The official SNMP bot's cleaning: every run of bytes outside
 * [0-9a-zA-Z_-] becomes one '-'.  -1 if out is too small or in is empty. */
int path_clean(const char *in, char *out, size_t outlen) BOT_WUR;

#endif
