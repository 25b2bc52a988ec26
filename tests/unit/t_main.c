/*
 * The unit-test runner: runs the registered tests in name order (all, or
 * those named in argv) and prints "N passed, N failed".  Log lines of the
 * code under test are shown only with T_VERBOSE=1.
 */
#include <sys/stat.h>

#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jobs.h"
#include "log.h"
#include "t.h"
#include "timer.h"

struct t_case {
	const char *name;
	t_fn *fn;
};

static struct t_case t_cases[1024];
static size_t t_ncases;
int t_failed;
static char t_dir[64];

void
t_register(const char *name, t_fn *fn)
{
	if (t_ncases == sizeof(t_cases) / sizeof(t_cases[0])) {
		fprintf(stderr, "too many tests\n");
		exit(2);
	}
	t_cases[t_ncases].name = name;
	t_cases[t_ncases].fn = fn;
	t_ncases++;
}

void
t_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stdout, "    %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	t_failed = 1;
}

const char *
t_tmpdir(void)
{
	if (t_dir[0] == '\0') {
		snprintf(t_dir, sizeof(t_dir), "/tmp/bot-unit-XXXXXX");
		if (mkdtemp(t_dir) == NULL) {
			perror("mkdtemp");
			exit(2);
		}
	}
	return t_dir;
}

static int
t_cmp(const void *a, const void *b)
{
	const struct t_case *x = a, *y = b;

	return strcmp(x->name, y->name);
}

static int
t_selected(const char *name, int argc, char **argv)
{
	int i;

	if (argc < 2)
		return 1;
	for (i = 1; i < argc; i++)
		if (strstr(name, argv[i]) != NULL)
			return 1;
	return 0;
}

int
main(int argc, char **argv)
{
	size_t i, passed = 0, failed = 0;

	log_init(
	    "unit", getenv("T_VERBOSE") ? LOG_LEVEL_DEBUG : LOG_LEVEL_NONE);
	qsort(t_cases, t_ncases, sizeof(t_cases[0]), t_cmp);
	for (i = 0; i < t_ncases; i++) {
		if (!t_selected(t_cases[i].name, argc, argv))
			continue;
		t_failed = 0;
		t_cases[i].fn();
		/* A test that failed early must not leave its fake clocks
		 * to the next one. */
		timer_set_clock(NULL);
		timer_set_wall_clock(NULL);
		printf("%s %s\n", t_failed ? "FAIL" : "ok  ", t_cases[i].name);
		fflush(stdout);
		if (t_failed)
			failed++;
		else
			passed++;
	}
	printf("%zu passed, %zu failed\n", passed, failed);
	return failed ? 1 : (passed ? 0 : 1);
}

struct json_object *
t_json(const char *text)
{
	struct json_object *o = json_tokener_parse(text);

	if (o == NULL) {
		t_fail(__FILE__, __LINE__, "bad test JSON: %s", text);
		exit(2);
	}
	return o;
}
