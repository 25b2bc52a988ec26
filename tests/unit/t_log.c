/*
 * Unit tests for log.c: redaction of "b=" URL parameters and of the
 * registered secret (also into tiny buffers), and the rate-limited
 * warning, counted by pointing stderr at a scratch file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"
#include "t.h"
#include "timer.h"

/* Redacts in and compares with want; also checks the returned length. */
static int
redacts_to(const char *in, const char *want)
{
	char out[512];
	size_t n = log_redact(in, out, sizeof(out));

	if (strcmp(out, want) != 0 || n != strlen(out)) {
		t_fail(__FILE__, __LINE__,
		    "\"%s\" -> \"%s\" (%zu), want \"%s\"", in, out, n, want);
		return 0;
	}
	return 1;
}

T_TEST(log_redact_b_parameter)
{
	log_set_secret(NULL);
	T_ASSERT(redacts_to(
	    "http://h/api/x?b=SECRET&c=1", "http://h/api/x?b=<redacted>&c=1"));
	T_ASSERT(redacts_to(
	    "http://h/api/x?a=1&b=SECRET", "http://h/api/x?a=1&b=<redacted>"));
	T_ASSERT(redacts_to("GET http://h/api/x?b=SECRET failed: timeout",
	    "GET http://h/api/x?b=<redacted> failed: timeout"));
	T_ASSERT(redacts_to("b=SECRET", "b=<redacted>"));
	T_ASSERT(redacts_to(
	    "url 'http://h/?b=SECRET'", "url 'http://h/?b=<redacted>'"));
	T_ASSERT(
	    redacts_to("\"http://h/?b=SECRET\"", "\"http://h/?b=<redacted>\""));
	T_ASSERT(redacts_to(
	    "http://h/?b=SECRET#frag", "http://h/?b=<redacted>#frag"));
	T_ASSERT(redacts_to("http://h/?b=", "http://h/?b=<redacted>"));
	T_ASSERT(redacts_to("x?b=1&b=2", "x?b=<redacted>&b=<redacted>"));
	T_ASSERT(redacts_to("a;b=SECRET", "a;b=<redacted>"));
}

T_TEST(log_redact_leaves_other_text)
{
	log_set_secret(NULL);
	T_ASSERT(redacts_to("abc=1", "abc=1"));
	T_ASSERT(
	    redacts_to("http://h/api/x?ab=1&cb=2", "http://h/api/x?ab=1&cb=2"));
	T_ASSERT(redacts_to("job 42 (10.0.0.5): snmp get timed out",
	    "job 42 (10.0.0.5): snmp get timed out"));
	T_ASSERT(redacts_to("b", "b"));
	T_ASSERT(redacts_to("", ""));
	T_ASSERT(redacts_to("sub=1 b", "sub=1 b"));
}

T_TEST(log_redact_secret_anywhere)
{
	log_set_secret("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
	T_ASSERT(redacts_to("token 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0 bad",
	    "token <redacted> bad"));
	T_ASSERT(redacts_to("x0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0y"
	                    "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
	    "x<redacted>y<redacted>"));
	T_ASSERT(redacts_to("/api/x?b=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
	    "/api/x?b=<redacted>"));
	/* A prefix of the secret is not the secret. */
	T_ASSERT(redacts_to("0f1e2d3c-4b5a", "0f1e2d3c-4b5a"));
	/* Clearing it stops the replacement. */
	log_set_secret("");
	T_ASSERT(redacts_to("token 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
	    "token 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"));
	log_set_secret("s3cr3t");
	T_ASSERT(redacts_to("as3cr3ts3cr3t", "a<redacted><redacted>"));
	log_set_secret(NULL);
	T_ASSERT(redacts_to("s3cr3t", "s3cr3t"));
}

/* Redacts into a buffer of outlen bytes inside a larger, marked one and
 * checks nothing past outlen is touched. */
static int
tiny_ok(const char *in, size_t outlen, const char *want)
{
	char buf[64];
	size_t n, i;

	memset(buf, '#', sizeof(buf));
	n = log_redact(in, buf, outlen);
	for (i = outlen; i < sizeof(buf); i++) {
		if (buf[i] != '#') {
			t_fail(__FILE__, __LINE__,
			    "outlen %zu: byte %zu was written", outlen, i);
			return 0;
		}
	}
	if (outlen == 0)
		return n == 0;
	if (strcmp(buf, want) != 0 || n != strlen(buf) || n >= outlen) {
		t_fail(__FILE__, __LINE__,
		    "outlen %zu: \"%s\" (%zu), want \"%s\"", outlen, buf, n,
		    want);
		return 0;
	}
	return 1;
}

T_TEST(log_redact_tiny_buffers)
{
	size_t len;

	log_set_secret("SECRET");
	T_ASSERT(tiny_ok("?b=SECRET&c=1", 0, ""));
	T_ASSERT(tiny_ok("?b=SECRET&c=1", 1, ""));
	T_ASSERT(tiny_ok("?b=SECRET&c=1", 2, "?"));
	T_ASSERT(tiny_ok("?b=SECRET&c=1", 3, "?b"));
	T_ASSERT(tiny_ok("?b=SECRET&c=1", 4, "?b="));
	T_ASSERT(tiny_ok("?b=SECRET&c=1", 5, "?b=<"));
	T_ASSERT(tiny_ok("b=SECRET", 2, "b"));
	T_ASSERT(tiny_ok("SECRET", 0, ""));
	T_ASSERT(tiny_ok("SECRET", 1, ""));
	T_ASSERT(tiny_ok("SECRET", 5, "<red"));
	T_ASSERT(tiny_ok("xSECRET", 5, "x<re"));
	T_ASSERT(tiny_ok("abcdefgh", 5, "abcd"));
	/* No length of buffer lets a byte of the secret through. */
	for (len = 1; len < 40; len++) {
		char out[40];

		log_redact("GET /x?b=SECRET&y SECRET end", out, len);
		T_ASSERT(strstr(out, "SEC") == NULL);
		T_ASSERT(strlen(out) < len);
	}
	log_set_secret(NULL);
}

static int64_t fake_ms;

static int64_t
fake_clock(void)
{
	return fake_ms;
}

/* Points stderr at path; returns the saved descriptor or -1. */
static enum log_level saved_level;

static int
stderr_to(const char *path)
{
	int fd, saved;

	/* The runner keeps the log quiet; these tests read what it says. */
	saved_level = log_get_level();
	log_init("unit", LOG_LEVEL_DEBUG);
	fflush(stderr);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd == -1)
		return -1;
	saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
	return saved;
}

static void
stderr_restore(int saved)
{
	if (saved == -1)
		return;
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	log_init("unit", saved_level);
}

/* Reads path into out (NUL-terminated); returns the number of lines. */
static int
read_lines(const char *path, char *out, size_t outlen)
{
	FILE *f = fopen(path, "r");
	size_t n = 0, i;
	int lines = 0;

	out[0] = '\0';
	if (f == NULL)
		return -1;
	n = fread(out, 1, outlen - 1, f);
	fclose(f);
	out[n] = '\0';
	for (i = 0; i < n; i++)
		if (out[i] == '\n')
			lines++;
	return lines;
}

T_TEST(log_warnx_limited_once_per_interval)
{
	struct log_limit lim = {0, 0};
	char path[256], text[4096];
	int saved, i;

	snprintf(path, sizeof(path), "%s/stderr.txt", t_tmpdir());
	fake_ms = 5000;
	timer_set_clock(fake_clock);
	saved = stderr_to(path);
	T_ASSERT(saved != -1);
	for (i = 0; i < 5; i++) {
		log_warnx_limited(&lim, 60000, "job %d: host down", 7);
		fake_ms += 1000;
	}
	stderr_restore(saved);
	T_EQ_INT(read_lines(path, text, sizeof(text)), 1);
	T_ASSERT(strstr(text, "WARN") != NULL);
	T_ASSERT(strstr(text, "job 7: host down") != NULL);
	T_ASSERT(strstr(text, "suppressed") == NULL);
	T_EQ_INT(lim.suppressed, 4);

	/* Just before the interval ends: still quiet. */
	fake_ms = 5000 + 59999;
	saved = stderr_to(path);
	T_ASSERT(saved != -1);
	log_warnx_limited(&lim, 60000, "job %d: host down", 7);
	stderr_restore(saved);
	T_EQ_INT(read_lines(path, text, sizeof(text)), 0);

	/* Then one line that counts what was swallowed. */
	fake_ms = 5000 + 60000;
	saved = stderr_to(path);
	T_ASSERT(saved != -1);
	log_warnx_limited(&lim, 60000, "job %d: host down", 7);
	log_warnx_limited(&lim, 60000, "job %d: host down", 7);
	stderr_restore(saved);
	T_EQ_INT(read_lines(path, text, sizeof(text)), 1);
	T_ASSERT(strstr(text,
	             "job 7: host down (5 similar messages "
	             "suppressed)") != NULL);
	T_EQ_INT(lim.suppressed, 1);

	/* A second limiter is independent of the first. */
	{
		struct log_limit other = {0, 0};

		saved = stderr_to(path);
		T_ASSERT(saved != -1);
		log_warnx_limited(&other, 60000, "other");
		stderr_restore(saved);
		T_EQ_INT(read_lines(path, text, sizeof(text)), 1);
		T_ASSERT(strstr(text, "other") != NULL);
		T_ASSERT(strstr(text, "suppressed") == NULL);
	}
	timer_set_clock(NULL);
	unlink(path);
}

T_TEST(log_lines_are_redacted_and_levelled)
{
	char path[256], text[4096];
	enum log_level old = log_get_level();
	int saved;

	snprintf(path, sizeof(path), "%s/stderr2.txt", t_tmpdir());
	log_set_secret("tok-123");
	saved = stderr_to(path);
	T_ASSERT(saved != -1);
	log_init("unit", LOG_LEVEL_WARN);
	log_warnx("GET http://h/api/x?b=tok-123 failed");
	log_info("not shown at WARN");
	log_debug("not shown either");
	log_init("unit", LOG_LEVEL_DEBUG);
	log_debug("debug %s", "tok-123");
	log_init("unit", old);
	stderr_restore(saved);
	log_set_secret(NULL);
	T_EQ_INT(read_lines(path, text, sizeof(text)), 2);
	T_ASSERT(strstr(text, "tok-123") == NULL);
	T_ASSERT(strstr(text,
	             "WARN unit: GET http://h/api/x?b=<redacted> "
	             "failed\n") != NULL);
	T_ASSERT(strstr(text, "DEBUG unit: debug <redacted>\n") != NULL);
	T_ASSERT(strstr(text, "not shown") == NULL);
	unlink(path);
}

T_TEST(log_long_line_is_cut_and_ends_in_newline)
{
	char path[256], text[8192], *msg;
	int saved;

	msg = malloc(5000);
	T_ASSERT(msg != NULL);
	memset(msg, 'x', 4999);
	msg[4999] = '\0';
	snprintf(path, sizeof(path), "%s/stderr3.txt", t_tmpdir());
	saved = stderr_to(path);
	T_ASSERT(saved != -1);
	log_warnx("%s", msg);
	stderr_restore(saved);
	free(msg);
	T_EQ_INT(read_lines(path, text, sizeof(text)), 1);
	T_ASSERT(strlen(text) < 2048 + 128);
	T_ASSERT(text[strlen(text) - 1] == '\n');
	unlink(path);
}

T_TEST(log_sanitize_escapes_redacts_then_cuts)
{
	static const char in[] = "a\nb\rc\td\x1b[2J\x7f\0e";
	char out[64];
	size_t n;

	log_set_secret("SECRET");
	n = log_sanitize(in, sizeof(in) - 1, out, sizeof(out));
	T_EQ_INT(n, sizeof(in) - 1);
	T_EQ_STR(out, "a\\nb\\rc\\td\\x1b[2J\\x7f\\x00e");
	/* Never cut inside an escape: "a\n" needs 4 bytes with the NUL. */
	n = log_sanitize("a\nb", 3, out, 4);
	T_EQ_STR(out, "a\\n");
	T_EQ_INT(n, 2);
	n = log_sanitize("a\nb", 3, out, 3);
	T_EQ_STR(out, "a");
	T_EQ_INT(n, 1);
	/* A secret straddling the cut: redacted first, so no part shows. */
	n = log_sanitize("xxSECRET", 8, out, 6);
	T_EQ_STR(out, "xx<re");
	T_ASSERT(n < 8);
	n = log_sanitize("token=SECRET?b=abc\n", 19, out, sizeof(out));
	T_EQ_STR(out, "token=<redacted>?b=<redacted>\\n");
	T_EQ_INT(n, 19);
	log_set_secret(NULL);
}

/* Issue 13.8: a name with a newline and terminal escapes, logged through
 * any call, stays on its event's one line. */
T_TEST(log_line_cannot_be_forged)
{
	char path[256], text[4096];
	int saved;

	snprintf(path, sizeof(path), "%s/stderr4.txt", t_tmpdir());
	saved = stderr_to(path);
	T_ASSERT(saved != -1);
	log_warnx("entity %s: no address",
	    "evil\n2026-01-01T00:00:00.000Z FATAL pingbot: forged\x1b[2J\r");
	log_info("%s", "a\x1b]0;title\x07 b\x7f");
	stderr_restore(saved);
	T_EQ_INT(read_lines(path, text, sizeof(text)), 2);
	T_ASSERT(strchr(text, '\x1b') == NULL);
	T_ASSERT(strchr(text, '\r') == NULL);
	T_ASSERT(strchr(text, '\x07') == NULL);
	T_ASSERT(strchr(text, '\x7f') == NULL);
	T_ASSERT(strstr(text, "\n2026-01-01") == NULL);
	T_ASSERT(strstr(text,
	             "entity evil\\n2026-01-01T00:00:00.000Z FATAL pingbot: "
	             "forged\\x1b[2J\\r: no address\n") != NULL);
	T_ASSERT(strstr(text, "a\\x1b]0;title\\x07 b\\x7f\n") != NULL);
	unlink(path);
}

/* Issue 13.5: a secret straddling the 2,047-character line limit never
 * shows in part, through a plain or a rate-limited warning. */
T_TEST(log_line_limit_cuts_after_redacting)
{
	static const char tok[] = "fedcba98-7654-4321-8765-0123456789ab";
	char path[256], text[8192], msg[2200];
	struct log_limit lim;
	size_t pad;
	int saved;

	snprintf(path, sizeof(path), "%s/stderr5.txt", t_tmpdir());
	log_set_secret(tok);
	for (pad = 2000; pad <= 2060; pad++) {
		memset(msg, 'x', pad);
		snprintf(msg + pad, sizeof(msg) - pad, "%s", tok);
		memset(&lim, 0, sizeof(lim));
		saved = stderr_to(path);
		T_ASSERT(saved != -1);
		log_warnx("%s", msg);
		log_warnx_limited(&lim, 1000, "%s", msg);
		errno = EPERM;
		log_warn("%s", msg);
		stderr_restore(saved);
		T_EQ_INT(read_lines(path, text, sizeof(text)), 3);
		T_ASSERT(strstr(text, "xf") == NULL);
	}
	log_set_secret(NULL);
	unlink(path);
}
