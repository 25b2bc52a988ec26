/*
 * Unit tests for health.c with a fake clock: the file's line in each
 * state (starting, ok, unhealthy after HEALTH_BACKEND_MAX_AGE or while
 * the token is refused, no backend), 5xx and transport errors not
 * counting as answers, and
 * health_check on a healthy, unhealthy, stale and missing file.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

#include "health.h"
#include "loop.h"
#include "t.h"
#include "timer.h"

static int64_t t_health_now = 1000000;

static int64_t
t_health_clock(void)
{
	return t_health_now;
}

static void
t_health_read(const char *path, char *out, size_t outlen)
{
	FILE *f = fopen(path, "r");

	out[0] = '\0';
	if (f == NULL)
		return;
	if (fgets(out, (int)outlen, f) == NULL)
		out[0] = '\0';
	fclose(f);
}

/* Moves the fake clock and fires the timers due. */
static void
t_health_advance(struct loop *l, int64_t ms)
{
	t_health_now += ms;
	loop_run_timers(l);
}

static int
t_health_check_quiet(void)
{
	FILE *saved = stdout;
	int rc;

	stdout = fopen("/dev/null", "w");
	rc = health_check("t");
	fclose(stdout);
	stdout = saved;
	return rc;
}

T_TEST(health_file_follows_backend_answers)
{
	char path[512], line[256];
	struct loop *l;

	snprintf(path, sizeof(path), "%s/health-a", t_tmpdir());
	setenv("HEALTH_FILE", path, 1);
	setenv("HEALTH_BACKEND_MAX_AGE", "20", 1);
	timer_set_clock(t_health_clock);
	l = loop_new();
	health_start(l, 1, 999);

	t_health_read(path, line, sizeof(line));
	T_ASSERT(strncmp(line, "starting:", 9) == 0);
	T_EQ_INT(t_health_check_quiet(), 1);

	health_backend_answered(503);
	health_backend_answered(0);
	t_health_advance(l, HEALTH_INTERVAL_S * 1000);
	t_health_read(path, line, sizeof(line));
	T_ASSERT(strncmp(line, "starting:", 9) == 0);

	health_backend_answered(401);
	t_health_advance(l, HEALTH_INTERVAL_S * 1000);
	t_health_read(path, line, sizeof(line));
	T_ASSERT(strstr(line, "unhealthy: the backend rejects the bot token") ==
	    line);
	T_EQ_INT(t_health_check_quiet(), 1);

	health_backend_answered(404);
	t_health_advance(l, HEALTH_INTERVAL_S * 1000);
	t_health_read(path, line, sizeof(line));
	T_ASSERT(
	    strstr(line, "ok: loop running, backend answered 5 s ago") == line);
	T_EQ_INT(t_health_check_quiet(), 0);

	/* 20 s without an answer is still fine; 25 s is not. */
	t_health_advance(l, 15000);
	t_health_read(path, line, sizeof(line));
	T_ASSERT(strncmp(line, "ok:", 3) == 0);
	t_health_advance(l, 5000);
	t_health_read(path, line, sizeof(line));
	T_ASSERT(strstr(line,
	             "unhealthy: last answer from the backend 25 s "
	             "ago (more than 20 s)") == line);
	T_EQ_INT(t_health_check_quiet(), 1);

	health_backend_answered(200);
	t_health_advance(l, HEALTH_INTERVAL_S * 1000);
	T_EQ_INT(t_health_check_quiet(), 0);

	health_stop();
	T_ASSERT(access(path, F_OK) == -1);
	T_EQ_INT(t_health_check_quiet(), 1);
	loop_free(l);
	timer_set_clock(NULL);
	unsetenv("HEALTH_BACKEND_MAX_AGE");
	unsetenv("HEALTH_FILE");
}

T_TEST(health_without_backend_is_ok_and_stale_is_not)
{
	char path[512], line[256];
	struct utimbuf old;
	struct loop *l;

	snprintf(path, sizeof(path), "%s/health-b", t_tmpdir());
	setenv("HEALTH_FILE", path, 1);
	l = loop_new();
	health_start(l, 0, 60);
	t_health_read(path, line, sizeof(line));
	T_ASSERT(strncmp(line, "ok: loop running (no backend)", 29) == 0);
	T_EQ_INT(t_health_check_quiet(), 0);

	old.actime = old.modtime = time(NULL) - HEALTH_STALE_S - 5;
	T_EQ_INT(utime(path, &old), 0);
	T_EQ_INT(t_health_check_quiet(), 1);

	health_stop();
	loop_free(l);
	unsetenv("HEALTH_FILE");
	T_EQ_INT(t_health_check_quiet(), 1);
}
