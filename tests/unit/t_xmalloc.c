/*
 * Unit tests for xmalloc.c: the wrappers copy and format as documented,
 * and an allocation that cannot be made (an overflowing count, an
 * impossible size) ends the process through fatal, with one line.
 */
#include <sys/wait.h>

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "t.h"
#include "xmalloc.h"

T_TEST(xmalloc_copies_and_formats)
{
	char *s, *p;
	int *v;
	size_t i;

	s = xstrndup("abcdef", 3);
	T_EQ_STR(s, "abc");
	free(s);
	s = xstrndup("ab", 10);
	T_EQ_STR(s, "ab");
	free(s);
	s = xstrdup("");
	T_EQ_STR(s, "");
	free(s);
	p = xasprintf("%s-%d-%.1f", "x", 42, 1.5);
	T_EQ_STR(p, "x-42-1.5");
	free(p);
	v = xcalloc(100, sizeof(*v));
	for (i = 0; i < 100; i++)
		T_EQ_INT(v[i], 0);
	v = xreallocarray(v, 1000, sizeof(*v));
	v[999] = 7;
	T_EQ_INT(v[999], 7);
	free(v);
}

/* Runs what() in a child with stderr in a file; returns its exit code
 * and the first line it wrote. */
static int
t_xmalloc_child(void (*what)(void), char *line, size_t len)
{
	char path[256];
	pid_t pid;
	int st, fd;
	FILE *f;

	snprintf(path, sizeof(path), "%s/xmalloc.err", t_tmpdir());
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, STDERR_FILENO);
		what();
		_exit(0);
	}
	if (pid == -1 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	line[0] = '\0';
	f = fopen(path, "r");
	if (f != NULL) {
		if (fgets(line, (int)len, f) == NULL)
			line[0] = '\0';
		fclose(f);
	}
	return WEXITSTATUS(st);
}

static void
overflow(void)
{
	(void)xreallocarray(NULL, SIZE_MAX / 2, 4);
}

#ifndef __SANITIZE_ADDRESS__ /* ASan aborts on such a size by design */
static void
too_big(void)
{
	(void)xmalloc((size_t)1 << 46); /* 64 TiB: more than any host */
}
#endif

T_TEST(xmalloc_failure_is_fatal_with_one_line)
{
	char line[256];

	T_EQ_INT(t_xmalloc_child(overflow, line, sizeof(line)), 1);
	T_ASSERT(strstr(line, "overflows") != NULL);
#ifndef __SANITIZE_ADDRESS__
	T_EQ_INT(t_xmalloc_child(too_big, line, sizeof(line)), 1);
	T_ASSERT(strstr(line, "malloc of") != NULL);
#endif
}
