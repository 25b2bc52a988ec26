/*
 * Unit tests for env.c: integer parsing with bounds, trimming, the typed
 * readers' defaults, secrets from a variable or a _FROM_FILE file, and
 * the start-up exit on a malformed value (checked in a child process).
 */
#include <sys/wait.h>

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "env.h"
#include "t.h"

T_TEST(env_parse_int_accepts)
{
	char err[BOT_ERRLEN];
	int64_t v = 0;

	T_EQ_INT(env_parse_int("42", 0, 100, &v, err, sizeof(err)), 0);
	T_EQ_INT(v, 42);
	T_EQ_INT(env_parse_int("-5", -10, 10, &v, err, sizeof(err)), 0);
	T_EQ_INT(v, -5);
	T_EQ_INT(env_parse_int("+7", 0, 10, &v, err, sizeof(err)), 0);
	T_EQ_INT(v, 7);
	T_EQ_INT(env_parse_int("007", 0, 10, &v, err, sizeof(err)), 0);
	T_EQ_INT(v, 7);
	/* The bounds themselves are inside. */
	T_EQ_INT(env_parse_int("0", 0, 100, &v, err, sizeof(err)), 0);
	T_EQ_INT(v, 0);
	T_EQ_INT(env_parse_int("100", 0, 100, &v, err, sizeof(err)), 0);
	T_EQ_INT(v, 100);
	T_EQ_INT(env_parse_int("9223372036854775807", INT64_MIN, INT64_MAX, &v,
	             err, sizeof(err)),
	    0);
	T_EQ_INT(v, INT64_MAX);
	T_EQ_INT(env_parse_int("-9223372036854775808", INT64_MIN, INT64_MAX, &v,
	             err, sizeof(err)),
	    0);
	T_EQ_INT(v, INT64_MIN);
}

T_TEST(env_parse_int_rejects)
{
	static const char *garbage[] = {"", "x", "4x", "4 ", "0x10", "1.5",
	    "1e3", "--1", "+", "-", "12 34"};
	char err[BOT_ERRLEN];
	int64_t v = 77;
	size_t i;

	for (i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
		err[0] = '\0';
		if (env_parse_int(garbage[i], INT64_MIN, INT64_MAX, &v, err,
		        sizeof(err)) != -1)
			t_fail(
			    __FILE__, __LINE__, "\"%s\" accepted", garbage[i]);
		T_ASSERT(!t_failed);
		T_ASSERT(strstr(err, "not a whole number") != NULL);
	}
	/* Out of range, with the range in the message. */
	T_EQ_INT(env_parse_int("101", 0, 100, &v, err, sizeof(err)), -1);
	T_EQ_STR(err, "101 is outside 0..100");
	T_EQ_INT(env_parse_int("-1", 0, 100, &v, err, sizeof(err)), -1);
	T_EQ_STR(err, "-1 is outside 0..100");
	/* Overflow of the type itself. */
	T_EQ_INT(env_parse_int("9223372036854775808", INT64_MIN, INT64_MAX, &v,
	             err, sizeof(err)),
	    -1);
	T_EQ_INT(env_parse_int("-9223372036854775809", INT64_MIN, INT64_MAX, &v,
	             err, sizeof(err)),
	    -1);
	T_EQ_INT(env_parse_int(
	             "99999999999999999999999", 0, 10, &v, err, sizeof(err)),
	    -1);
	T_ASSERT(err[0] != '\0');
	/* *out is untouched on failure. */
	T_EQ_INT(v, 77);
	/* A short error buffer is cut, not overrun. */
	{
		char small[8];

		memset(small, '#', sizeof(small));
		T_EQ_INT(env_parse_int("abcdefghijkl", 0, 1, &v, small, 4), -1);
		T_EQ_INT(strlen(small), 3);
		T_EQ_INT(small[4], '#');
	}
}

T_TEST(env_trim_whitespace)
{
	char a[] = "  abc \t\r\n", b[] = "abc", c[] = "", d[] = " \n\t ",
	     e[] = "a b", f[] = "\n0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\n";

	T_EQ_STR(env_trim(a), "abc");
	T_EQ_STR(env_trim(b), "abc");
	T_EQ_STR(env_trim(c), "");
	T_EQ_STR(env_trim(d), "");
	T_EQ_STR(env_trim(e), "a b");
	T_EQ_STR(env_trim(f), "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
	/* In place: the result is the argument. */
	T_ASSERT(env_trim(a) == a);
}

T_TEST(env_readers_defaults)
{
	unsetenv("T_ENV_UNSET");
	T_EQ_STR(env_str("T_ENV_UNSET", "dflt"), "dflt");
	T_ASSERT(env_str("T_ENV_UNSET", NULL) == NULL);
	T_EQ_INT(env_int("T_ENV_UNSET", 120, 1, 3600), 120);
	T_EQ_INT(env_bool("T_ENV_UNSET", 1), 1);
	T_EQ_INT(env_bool("T_ENV_UNSET", 0), 0);
	/* Empty counts as unset. */
	setenv("T_ENV_X", "", 1);
	T_EQ_STR(env_str("T_ENV_X", "dflt"), "dflt");
	T_EQ_INT(env_int("T_ENV_X", 5, 1, 10), 5);
	T_EQ_INT(env_bool("T_ENV_X", 1), 1);
	setenv("T_ENV_X", "60", 1);
	T_EQ_STR(env_str("T_ENV_X", "dflt"), "60");
	T_EQ_INT(env_int("T_ENV_X", 120, 1, 3600), 60);
	setenv("T_ENV_X", "yes", 1);
	T_EQ_INT(env_bool("T_ENV_X", 0), 1);
	setenv("T_ENV_X", "TRUE", 1);
	T_EQ_INT(env_bool("T_ENV_X", 0), 1);
	setenv("T_ENV_X", "on", 1);
	T_EQ_INT(env_bool("T_ENV_X", 0), 1);
	setenv("T_ENV_X", "0", 1);
	T_EQ_INT(env_bool("T_ENV_X", 1), 0);
	setenv("T_ENV_X", "Off", 1);
	T_EQ_INT(env_bool("T_ENV_X", 1), 0);
	setenv("T_ENV_X", "no", 1);
	T_EQ_INT(env_bool("T_ENV_X", 1), 0);
	unsetenv("T_ENV_X");
}

/* Runs env_int (or env_bool) on a bad value in a child; returns its exit
 * status, or -1 if it did not exit normally. */
static int
child_exit(const char *value, int use_bool)
{
	pid_t pid;
	int st, fd;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == -1)
		return -2;
	if (pid == 0) {
		fd = open("/dev/null", O_WRONLY);
		if (fd != -1)
			dup2(fd, STDERR_FILENO);
		setenv("T_ENV_BAD", value, 1);
		if (use_bool)
			(void)env_bool("T_ENV_BAD", 0);
		else
			(void)env_int("T_ENV_BAD", 1, 1, 100);
		_exit(0);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

T_TEST(env_bad_value_exits)
{
	T_EQ_INT(child_exit("abc", 0), 1);
	T_EQ_INT(child_exit("1000", 0), 1);
	T_EQ_INT(child_exit("0", 0), 1);
	T_EQ_INT(child_exit("50", 0), 0);
	T_EQ_INT(child_exit("maybe", 1), 1);
	T_EQ_INT(child_exit("true", 1), 0);
}

/* The bot's own variables, saved before a test sets them and put back
 * after, so the rest of the run sees the environment it started with. */
static char *saved_env[2];
static const char *const saved_names[2] = {"BOT_TOKEN", "BOT_TOKEN_FROM_FILE"};

static void
env_save(void)
{
	const char *v;
	int i;

	for (i = 0; i < 2; i++) {
		v = getenv(saved_names[i]);
		saved_env[i] = v ? strdup(v) : NULL;
	}
}

static void
env_restore(void)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (saved_env[i] != NULL)
			setenv(saved_names[i], saved_env[i], 1);
		else
			unsetenv(saved_names[i]);
		free(saved_env[i]);
		saved_env[i] = NULL;
	}
}

T_TEST(env_secret_from_variable)
{
	char *s;

	env_save();
	unsetenv("BOT_TOKEN_FROM_FILE");
	setenv("BOT_TOKEN", " \t0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0 \n", 1);
	s = env_secret("BOT_TOKEN", 10, NULL);
	T_ASSERT(s != NULL);
	T_EQ_STR(s, "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
	free(s);
	/* The variable wins over the file. */
	setenv("BOT_TOKEN_FROM_FILE", "/nonexistent/token", 1);
	s = env_secret("BOT_TOKEN", 10, NULL);
	T_ASSERT(s != NULL);
	T_EQ_STR(s, "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
	free(s);
	unsetenv("BOT_TOKEN");
	unsetenv("BOT_TOKEN_FROM_FILE");
	/* Neither set. */
	T_ASSERT(env_secret("BOT_TOKEN", 10, NULL) == NULL);
	env_restore();
}

T_TEST(env_secret_from_file)
{
	char path[256], *s;
	FILE *f;

	env_save();
	snprintf(path, sizeof(path), "%s/token", t_tmpdir());
	f = fopen(path, "w");
	T_ASSERT(f != NULL);
	fputs("\n  0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\r\n\n", f);
	fclose(f);
	unsetenv("BOT_TOKEN");
	setenv("BOT_TOKEN_FROM_FILE", path, 1);
	s = env_secret("BOT_TOKEN", 10, NULL);
	T_ASSERT(s != NULL);
	T_EQ_STR(s, "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
	free(s);
	/* An empty variable does not hide the file. */
	setenv("BOT_TOKEN", "", 1);
	s = env_secret("BOT_TOKEN", 10, NULL);
	T_ASSERT(s != NULL);
	T_EQ_STR(s, "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
	free(s);
	unsetenv("BOT_TOKEN");
	unsetenv("BOT_TOKEN_FROM_FILE");
	unlink(path);
	env_restore();
}

T_TEST(env_secret_missing_file_stops)
{
	volatile sig_atomic_t stop = 1;
	char path[256];

	env_save();
	/* The file never appears and the bot is told to stop: NULL, at
	 * once, instead of waiting forever. */
	snprintf(path, sizeof(path), "%s/not-yet", t_tmpdir());
	unlink(path);
	unsetenv("BOT_TOKEN");
	setenv("BOT_TOKEN_FROM_FILE", path, 1);
	T_ASSERT(env_secret("BOT_TOKEN", 10, &stop) == NULL);
	unsetenv("BOT_TOKEN_FROM_FILE");
	env_restore();
}
