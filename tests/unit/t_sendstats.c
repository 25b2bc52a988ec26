/*
 * Unit tests for sendstats.c: the period line only when something
 * changed, with the differences; the totals line in the exact wording
 * tests/integration/test_delivery.py parses (TOTALS_RE), with the spool
 * named only when values stay there.  stderr is pointed at a scratch
 * file.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "sendstats.h"
#include "t.h"

static int saved_fd = -1;
static enum log_level saved_level;

static void
grab(void)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/sendstats.txt", t_tmpdir());
	fflush(stderr);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	saved_fd = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
	saved_level = log_get_level();
	log_init("unit", LOG_LEVEL_INFO);
}

static void
release(char *out, size_t outlen)
{
	char path[256];
	FILE *f;
	size_t n = 0;

	log_init("unit", saved_level);
	dup2(saved_fd, STDERR_FILENO);
	close(saved_fd);
	snprintf(path, sizeof(path), "%s/sendstats.txt", t_tmpdir());
	f = fopen(path, "r");
	if (f != NULL) {
		n = fread(out, 1, outlen - 1, f);
		fclose(f);
	}
	out[n] = '\0';
	unlink(path);
}

T_TEST(sendstats_period_line_only_on_change)
{
	struct sender_counters a, b;
	char text[2048];

	memset(&a, 0, sizeof(a));
	a.queued = 100;
	a.sent = 90;
	b = a;
	grab();
	sendstats_log_period(&b, &a, 60000, 10, 1234);
	release(text, sizeof(text));
	T_EQ_STR(text, "");
	b.queued = 160;
	b.sent = 140;
	b.retried = 3;
	b.dropped = 2;
	b.failed = 1;
	b.batches = 7;
	grab();
	sendstats_log_period(&b, &a, 60000, 20, 4096);
	release(text, sizeof(text));
	T_ASSERT(strstr(text,
	             "INFO unit: values: last 60 s: 60 measured, 50 "
	             "delivered, 3 retried, 2 dropped, 1 of 7 requests "
	             "failed; 20 buffered (4096 bytes)\n") != NULL);
}

T_TEST(sendstats_totals_line)
{
	struct sender_counters c;
	char text[2048];

	memset(&c, 0, sizeof(c));
	c.queued = 12;
	c.sent = 5;
	c.dropped = 4;
	c.dropped_full = 1;
	c.dropped_old = 1;
	c.dropped_refused = 1;
	c.dropped_stale = 1;
	c.retried = 6;
	c.failed = 2;
	c.batches = 9;
	grab();
	sendstats_log_totals(&c, 3, "/var/spool/bot", 2);
	sendstats_log_totals(&c, 0, "/var/spool/bot", 0);
	sendstats_log_totals(&c, 3, NULL, 0);
	release(text, sizeof(text));
	T_ASSERT(strstr(text,
	             "values: 12 measured, 5 delivered, 4 dropped (1 buffer "
	             "full, 1 too old, 1 refused, 1 too old for POST), 6 "
	             "retried, 2 of 9 requests failed, 3 undelivered (2 kept "
	             "in the spool /var/spool/bot)\n") != NULL);
	T_ASSERT(strstr(text, "failed, 0 undelivered\n") != NULL);
	T_ASSERT(strstr(text, "failed, 3 undelivered\n") != NULL);
}
