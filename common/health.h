/*
 * A health file for container and service managers.  While the loop runs,
 * a timer rewrites HEALTH_FILE every few seconds with "ok" when the
 * backend answered recently (or no backend is used), otherwise with what
 * is wrong; `<bot> --health` (a Docker HEALTHCHECK) reads it back and also
 * treats a file the loop stopped rewriting as unhealthy.
 */
#ifndef BOT_HEALTH_H
#define BOT_HEALTH_H

#include <stdint.h>

#include "settings.h"

struct loop;

/* The variables this module reads (settings.h), for --help. */
extern const struct setting health_settings[];

/* Seconds between rewrites of the file, and the age at which --health
 * calls a file stale (the loop is stuck or the bot is gone). */
#define HEALTH_INTERVAL_S 5
#define HEALTH_STALE_S    30

/* Starts rewriting the file named by HEALTH_FILE (nothing when unset).
 * need_backend: the bot talks to a backend, and is healthy only while an
 * answer (any HTTP status below 500) came within HEALTH_BACKEND_MAX_AGE
 * seconds (default backend_max_age_s).  Writes the first version now. */
void health_start(struct loop *l, int need_backend, int64_t backend_max_age_s);

/* Records an HTTP answer from the backend (status 0, a transport error,
 * and 5xx do not count; 401, the token refused, is unhealthy until the
 * next other answer).  Cheap; call it for every backend response. */
void health_backend_answered(long status);

/* Stops the timer and removes the file (the bot is exiting). */
void health_stop(void);

/* The --health check: prints one line to stdout and returns 0 when
 * HEALTH_FILE exists, is fresher than HEALTH_STALE_S and says "ok";
 * 1 otherwise (also when HEALTH_FILE is not set). */
int health_check(const char *progname);

#endif
