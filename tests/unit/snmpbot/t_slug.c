/*
 * The slugifier against python3-slugify itself: tests/data/snmpbot/
 * slug_golden.txt holds thousands of inputs (non-ASCII, HTML references,
 * quotes, NUL, '/', spaces, invalid UTF-8) and the official bot's slug of
 * each, made by scripts/gen_slug_golden.py.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../snmpbot/slug.h"
#include "../t.h"

static int
t_slug_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static const char *
t_slug_golden_path(void)
{
	static char path[512];
	const char *f = __FILE__;
	const char *slash = strrchr(f, '/');
	int n = slash ? (int)(slash - f) : 1;

	snprintf(path, sizeof(path), "%.*s/../../data/snmpbot/slug_golden.txt",
	    n, slash ? f : ".");
	return path;
}

T_TEST(slug_golden_table)
{
	FILE *fp = fopen(t_slug_golden_path(), "r");
	char line[8192], in[4096], out[4096];
	size_t cases = 0, bad = 0;

	T_ASSERT(fp != NULL);
	while (fgets(line, sizeof(line), fp) != NULL) {
		char *tab = strchr(line, '\t'), *want, *nl;
		size_t len = 0, i;
		int got;

		if (tab == NULL)
			continue;
		*tab = '\0';
		want = tab + 1;
		nl = strchr(want, '\n');
		if (nl != NULL)
			*nl = '\0';
		for (i = 0; line[i] && line[i + 1]; i += 2)
			in[len++] = (char)(t_slug_hexval(line[i]) * 16 +
			    t_slug_hexval(line[i + 1]));
		got = slug_make(in, len, out, sizeof(out));
		if (want[0] == '\0')
			want = "-"; /* ours: never an empty segment */
		if (got < 0 || strcmp(out, want) != 0) {
			if (bad < 10)
				fprintf(stderr,
				    "slug of %s: got \"%s\", want \"%s\"\n",
				    line, got < 0 ? "(error)" : out, want);
			bad++;
		}
		cases++;
	}
	fclose(fp);
	T_ASSERT(cases > 3000);
	T_EQ_INT(bad, 0);
}

T_TEST(slug_examples_of_the_protocol)
{
	char out[64];

	T_ASSERT(
	    slug_make("MS TCP Loopback interface", 26, out, sizeof(out)) > 0);
	T_EQ_STR(out, "MS-TCP-Loopback-interface");
	T_ASSERT(slug_make("/usr/local", 10, out, sizeof(out)) > 0);
	T_EQ_STR(out, "usr-local");
	T_EQ_INT(slug_make("/", 1, out, sizeof(out)), 1);
	T_EQ_STR(out, "-");
	T_EQ_INT(slug_make("", 0, out, sizeof(out)), 1);
	T_EQ_STR(out, "-");
}

T_TEST(slug_too_small_out)
{
	char out[4];

	T_EQ_INT(slug_make("abcdef", 6, out, sizeof(out)), -1);
	T_EQ_INT(slug_make("abc", 3, out, sizeof(out)), 3);
	T_EQ_STR(out, "abc");
	slug_release();
}
