/*
 * The health file: written by a loop timer (so a stuck loop leaves it
 * stale), replaced atomically (write a temporary file, rename), read back
 * by --health.
 */
#include "health.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "settings.h"
#include "timer.h"
#include "xmalloc.h"

const struct setting health_settings[] = {
    {"HEALTH_FILE", NULL, 0, 0,
        "rewrite this file every 5 s with \"ok\" while the loop runs and "
        "the backend answered recently (unset: no file)"},
    {"HEALTH_BACKEND_MAX_AGE", "2 x JOBS_REFRESH_INTERVAL + BACKEND_TIMEOUT", 1,
        86400 * 7, "seconds without a backend answer before unhealthy"},
    {NULL, NULL, 0, 0, NULL},
};

static struct {
	struct loop *loop;
	struct timer tick;
	const char *path;
	char *tmp;
	int need_backend;
	int64_t max_age_ms;
	int64_t started_ms;
	int64_t answered_ms; /* 0: never */
	int64_t rejected_ms; /* last 401: the token is refused */
	int write_failed;
} health;

void
health_backend_answered(long status)
{
	if (status == 401)
		health.rejected_ms = timer_now_ms();
	else if (status > 0 && status < 500)
		health.answered_ms = timer_now_ms();
}

/* The one line the file holds: "ok" or the reason it is not. */
static void
health_state(char *out, size_t outlen)
{
	int64_t now = timer_now_ms();

	if (!health.need_backend)
		snprintf(out, outlen, "ok: loop running (no backend)");
	else if (health.rejected_ms > health.answered_ms)
		snprintf(out, outlen,
		    "unhealthy: the backend rejects the bot token (HTTP 401, "
		    "%lld s ago)",
		    (long long)((now - health.rejected_ms) / 1000));
	else if (health.answered_ms == 0)
		snprintf(out, outlen,
		    "starting: no answer from the backend in %lld s",
		    (long long)((now - health.started_ms) / 1000));
	else if (now - health.answered_ms > health.max_age_ms)
		snprintf(out, outlen,
		    "unhealthy: last answer from the backend %lld s ago "
		    "(more than %lld s)",
		    (long long)((now - health.answered_ms) / 1000),
		    (long long)(health.max_age_ms / 1000));
	else
		snprintf(out, outlen,
		    "ok: loop running, backend answered %lld s ago",
		    (long long)((now - health.answered_ms) / 1000));
}

static void
health_write(void)
{
	char line[256];
	FILE *f;
	int rc;

	health_state(line, sizeof(line));
	f = fopen(health.tmp, "w");
	if (f == NULL)
		goto fail;
	rc = fprintf(f, "%s\n", line);
	if (fclose(f) != 0 || rc < 0 || rename(health.tmp, health.path) == -1)
		goto fail;
	health.write_failed = 0;
	return;
fail:
	if (!health.write_failed)
		log_warn("HEALTH_FILE: cannot write %s", health.path);
	health.write_failed = 1;
}

static void
health_on_tick(struct timer *t, void *arg)
{
	(void)arg;
	health_write();
	loop_timer_start(health.loop, t, HEALTH_INTERVAL_S * 1000);
}

void
health_start(struct loop *l, int need_backend, int64_t backend_max_age_s)
{
	health.path = settings_str(health_settings, "HEALTH_FILE");
	if (health.path == NULL)
		return;
	health.loop = l;
	health.need_backend = need_backend;
	health.max_age_ms = 1000 *
	    settings_int_computed(
	        health_settings, "HEALTH_BACKEND_MAX_AGE", backend_max_age_s);
	health.started_ms = timer_now_ms();
	health.tmp = xasprintf("%s.tmp", health.path);
	timer_init(&health.tick, health_on_tick, NULL);
	log_info(
	    "health: writing %s every %d s (healthy while the loop runs%s)",
	    health.path, HEALTH_INTERVAL_S,
	    need_backend ? " and the backend answered in the last "
	                   "HEALTH_BACKEND_MAX_AGE s"
	                 : "");
	health_on_tick(&health.tick, NULL);
}

void
health_stop(void)
{
	if (health.path == NULL)
		return;
	if (health.loop != NULL)
		loop_timer_stop(health.loop, &health.tick);
	unlink(health.path);
	unlink(health.tmp);
	free(health.tmp);
	memset(&health, 0, sizeof(health));
}

int
health_check(const char *progname)
{
	const char *path = settings_str(health_settings, "HEALTH_FILE");
	char line[256] = "";
	struct stat st;
	time_t now;
	FILE *f;

	if (path == NULL) {
		printf("%s: unhealthy: HEALTH_FILE is not set\n", progname);
		return 1;
	}
	f = fopen(path, "r");
	if (f == NULL || fstat(fileno(f), &st) == -1) {
		printf("%s: unhealthy: cannot read %s: %s\n", progname, path,
		    strerror(errno));
		if (f != NULL)
			fclose(f);
		return 1;
	}
	if (fgets(line, sizeof(line), f) == NULL)
		line[0] = '\0';
	fclose(f);
	line[strcspn(line, "\n")] = '\0';
	now = time(NULL);
	if (now - st.st_mtime > HEALTH_STALE_S) {
		printf("%s: unhealthy: %s not rewritten for %lld s (the bot "
		       "is stuck or gone); it said: %s\n",
		    progname, path, (long long)(now - st.st_mtime), line);
		return 1;
	}
	printf("%s: %s\n", progname, line);
	return strncmp(line, "ok", 2) == 0 ? 0 : 1;
}
