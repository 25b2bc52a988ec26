/*
 * Unit tests for settings.c: defaults and values through the table,
 * range checks (also a minimum raised at run time and a computed
 * default), the start-up exit naming the variable, the fatal lookup of a
 * name not in the table, and the --help layout (column, wrapping, the
 * "[default: D; MIN..MAX]" tail kept whole).
 */
#include <sys/wait.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "settings.h"
#include "t.h"

static const struct setting t_table[] = {
    {"T_SET_INT", "42", 1, 100, "a whole number"},
    {"T_SET_STR", "info", 0, 0, "a word"},
    {"T_SET_NONE", NULL, 0, 0, "no default"},
    {"T_SET_BOOL", "0", 0, 0, "a switch"},
    {"T_SET_RULE", "2 x T_SET_INT", 1, 1000, "computed default"},
    {"T_SET_SECRET", NULL, 0, 0, "a secret"},
    {"T_SET_SECRET_FROM_FILE", NULL, 0, 0, "its file"},
    {"T_SET_ALONE", NULL, 0, 0, "a secret without its _FROM_FILE"},
    {NULL, NULL, 0, 0, NULL},
};

static void
t_settings_clear(void)
{
	const struct setting *s;

	for (s = t_table; s->name != NULL; s++)
		unsetenv(s->name);
}

T_TEST(settings_defaults_come_from_the_table)
{
	t_settings_clear();
	T_EQ_INT(settings_int(t_table, "T_SET_INT"), 42);
	T_EQ_STR(settings_str(t_table, "T_SET_STR"), "info");
	T_ASSERT(settings_str(t_table, "T_SET_NONE") == NULL);
	T_EQ_INT(settings_bool(t_table, "T_SET_BOOL"), 0);
	T_EQ_INT(settings_int_computed(t_table, "T_SET_RULE", 84), 84);
	T_EQ_INT(settings_int_at_least(t_table, "T_SET_INT", 50), 42);
	T_ASSERT(settings_find(t_table, "T_SET_BOOL") == &t_table[3]);
	/* Empty is the same as unset. */
	setenv("T_SET_STR", "", 1);
	setenv("T_SET_INT", "", 1);
	T_EQ_STR(settings_str(t_table, "T_SET_STR"), "info");
	T_EQ_INT(settings_int(t_table, "T_SET_INT"), 42);
	t_settings_clear();
}

T_TEST(settings_values_are_read)
{
	t_settings_clear();
	setenv("T_SET_INT", "100", 1);
	setenv("T_SET_STR", "debug", 1);
	setenv("T_SET_NONE", "x", 1);
	setenv("T_SET_BOOL", "yes", 1);
	setenv("T_SET_RULE", "7", 1);
	T_EQ_INT(settings_int(t_table, "T_SET_INT"), 100);
	T_EQ_INT(settings_int_at_least(t_table, "T_SET_INT", 100), 100);
	T_EQ_STR(settings_str(t_table, "T_SET_STR"), "debug");
	T_EQ_STR(settings_str(t_table, "T_SET_NONE"), "x");
	T_EQ_INT(settings_bool(t_table, "T_SET_BOOL"), 1);
	T_EQ_INT(settings_int_computed(t_table, "T_SET_RULE", 84), 7);
	t_settings_clear();
}

enum t_settings_op {
	T_OP_INT,
	T_OP_AT_LEAST_50,
	T_OP_COMPUTED,
	T_OP_BOOL,
	T_OP_FIND,
	T_OP_SECRET,
	T_OP_INT_ON_STR,
};

/* Runs one reader in a child with name=value (value NULL: unset); returns
 * its exit status (-1: did not exit) and its stderr in err. */
static int
t_settings_child(enum t_settings_op op, const char *name, const char *value,
    char *err, size_t errlen)
{
	int fds[2], st;
	ssize_t n;
	size_t len = 0;
	pid_t pid;

	err[0] = '\0';
	if (pipe(fds) == -1)
		return -2;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == -1)
		return -2;
	if (pid == 0) {
		dup2(fds[1], STDERR_FILENO);
		close(fds[0]);
		t_settings_clear();
		if (value != NULL)
			setenv(name, value, 1);
		switch (op) {
		case T_OP_INT:
			(void)settings_int(t_table, name);
			break;
		case T_OP_AT_LEAST_50:
			(void)settings_int_at_least(t_table, name, 50);
			break;
		case T_OP_COMPUTED:
			(void)settings_int_computed(t_table, name, 5);
			break;
		case T_OP_BOOL:
			(void)settings_bool(t_table, name);
			break;
		case T_OP_FIND:
			(void)settings_find(t_table, name);
			break;
		case T_OP_SECRET:
			free(settings_secret(t_table, name, 10, NULL));
			break;
		case T_OP_INT_ON_STR:
			(void)settings_int(t_table, "T_SET_STR");
			break;
		}
		_exit(0);
	}
	close(fds[1]);
	while (len + 1 < errlen &&
	    (n = read(fds[0], err + len, errlen - 1 - len)) > 0)
		len += (size_t)n;
	err[len] = '\0';
	close(fds[0]);
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

T_TEST(settings_bad_values_stop_naming_the_variable)
{
	char err[512];

	T_EQ_INT(
	    t_settings_child(T_OP_INT, "T_SET_INT", "abc", err, sizeof(err)),
	    1);
	T_ASSERT(strstr(err, "T_SET_INT") != NULL);
	T_ASSERT(strstr(err, "not a whole number") != NULL);
	T_EQ_INT(
	    t_settings_child(T_OP_INT, "T_SET_INT", "101", err, sizeof(err)),
	    1);
	T_ASSERT(strstr(err, "T_SET_INT") != NULL);
	T_ASSERT(strstr(err, "1..100") != NULL);
	T_EQ_INT(
	    t_settings_child(T_OP_INT, "T_SET_INT", "0", err, sizeof(err)), 1);
	T_EQ_INT(
	    t_settings_child(T_OP_INT, "T_SET_INT", "1", err, sizeof(err)), 0);
	/* The minimum raised at run time. */
	T_EQ_INT(t_settings_child(
	             T_OP_AT_LEAST_50, "T_SET_INT", "49", err, sizeof(err)),
	    1);
	T_ASSERT(strstr(err, "50..100") != NULL);
	T_EQ_INT(t_settings_child(
	             T_OP_AT_LEAST_50, "T_SET_INT", "50", err, sizeof(err)),
	    0);
	/* A computed default still gets the table's range. */
	T_EQ_INT(t_settings_child(
	             T_OP_COMPUTED, "T_SET_RULE", "1001", err, sizeof(err)),
	    1);
	T_EQ_INT(t_settings_child(
	             T_OP_BOOL, "T_SET_BOOL", "maybe", err, sizeof(err)),
	    1);
	T_ASSERT(strstr(err, "T_SET_BOOL") != NULL);
	T_EQ_INT(
	    t_settings_child(T_OP_BOOL, "T_SET_BOOL", "off", err, sizeof(err)),
	    0);
}

T_TEST(settings_misuse_is_fatal)
{
	char err[512];

	/* A name not in the table. */
	T_EQ_INT(t_settings_child(
	             T_OP_FIND, "T_SET_MISSING", NULL, err, sizeof(err)),
	    1);
	T_ASSERT(strstr(err, "T_SET_MISSING") != NULL);
	T_EQ_INT(
	    t_settings_child(T_OP_FIND, "T_SET_INT", NULL, err, sizeof(err)),
	    0);
	/* An integer reader on an entry with no range. */
	T_EQ_INT(t_settings_child(
	             T_OP_INT_ON_STR, "T_SET_STR", NULL, err, sizeof(err)),
	    1);
	/* A default that states a rule is not a number to fall back on. */
	T_EQ_INT(
	    t_settings_child(T_OP_INT, "T_SET_RULE", NULL, err, sizeof(err)),
	    1);
	T_EQ_INT(
	    t_settings_child(T_OP_INT, "T_SET_RULE", "3", err, sizeof(err)), 1);
	/* A bool reader needs a 0/1 default. */
	T_EQ_INT(
	    t_settings_child(T_OP_BOOL, "T_SET_STR", NULL, err, sizeof(err)),
	    1);
	/* A secret needs its _FROM_FILE entry too. */
	T_EQ_INT(
	    t_settings_child(T_OP_SECRET, "T_SET_ALONE", "s", err, sizeof(err)),
	    1);
	T_ASSERT(strstr(err, "T_SET_ALONE_FROM_FILE") != NULL);
	T_EQ_INT(t_settings_child(
	             T_OP_SECRET, "T_SET_SECRET", "s", err, sizeof(err)),
	    0);
}

T_TEST(settings_secret_reads_the_variable)
{
	char *v;

	t_settings_clear();
	setenv("T_SET_SECRET", "  tok  ", 1);
	v = settings_secret(t_table, "T_SET_SECRET", 10, NULL);
	T_EQ_STR(v, "tok");
	free(v);
	unsetenv("T_SET_SECRET");
	T_ASSERT(settings_secret(t_table, "T_SET_SECRET", 10, NULL) == NULL);
}

/* settings_help's output for t, in a buffer the caller frees. */
static char *
t_settings_help(const struct setting *t)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (f == NULL)
		return NULL;
	settings_help(f, t);
	fclose(f);
	return out;
}

T_TEST(settings_help_layout)
{
	static const struct setting tab[] = {
	    {"SHORT", "5", 0, 10, "one two three"},
	    {"A_VERY_LONG_SETTING_NAME_X", NULL, 0, 0, "text"},
	    {"WRAPPED", "67108864", 65536, INT64_C(1) << 40,
	        "memory for values waiting to be sent, per Grafolean or "
	        "Graphite output; the oldest are dropped when it is full"},
	    {"RANGE_ONLY", NULL, 1, 9, "r"},
	    {"PLAIN", NULL, 0, 0, "nothing else"},
	    {NULL, NULL, 0, 0, NULL},
	};
	char *out = t_settings_help(tab), *line, *save = NULL;
	int n = 0;

	T_ASSERT(out != NULL);
	T_ASSERT(strstr(out,
	             "  SHORT                  one two three "
	             "[default: 5; 0..10]\n") == out);
	/* A name too long for the column: two spaces, then the text. */
	T_ASSERT(strstr(out, "\n  A_VERY_LONG_SETTING_NAME_X  text\n") != NULL);
	T_ASSERT(strstr(out, "  RANGE_ONLY             r [1..9]\n") != NULL);
	T_ASSERT(
	    strstr(out, "  PLAIN                  nothing else\n") != NULL);
	/* The tail is never split across lines. */
	T_ASSERT(
	    strstr(out, "[default: 67108864; 65536..1099511627776]\n") != NULL);
	for (line = strtok_r(out, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		n++;
		if (strlen(line) > 78 && strchr(line, '[') == NULL)
			t_fail(__FILE__, __LINE__, "line too long: %s", line);
		/* Continuation lines start at the text column. */
		if (line[2] == ' ' &&
		    strncmp(line, "                         ", 25) != 0)
			t_fail(__FILE__, __LINE__, "bad indent: %s", line);
	}
	free(out);
	T_ASSERT(!t_failed);
	/* WRAPPED takes more than one line. */
	T_ASSERT(n > 5);
	out = t_settings_help(NULL);
	T_EQ_STR(out, "");
	free(out);
}
