/*
 * Unit tests for buf.c: the ceiling holds to the byte and a refused append
 * leaves the content as it was; printf of long strings; detach and reset;
 * text buffers (no ceiling) and their appends that never fail.
 */
#include <sys/wait.h>

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "buf.h"
#include "t.h"

T_TEST(buf_empty)
{
	struct buf b;
	char *s;

	buf_init(&b, 100);
	T_EQ_INT(b.len, 0);
	T_EQ_INT(b.max, 100);
	T_ASSERT(b.data == NULL);
	buf_reset(&b);
	T_EQ_INT(buf_append(&b, "", 0), 0);
	T_ASSERT(b.data != NULL);
	T_EQ_STR(b.data, "");
	buf_release(&b);
	T_ASSERT(b.data == NULL);
	/* Detaching an empty buffer still gives a string. */
	buf_init(&b, 100);
	s = buf_detach(&b);
	T_ASSERT(s != NULL);
	T_EQ_STR(s, "");
	free(s);
	buf_release(&b);
}

T_TEST(buf_ceiling_is_exact)
{
	char chunk[1000];
	struct buf b;
	size_t i;

	memset(chunk, 'a', sizeof(chunk));
	buf_init(&b, 1000);
	/* Up to the ceiling in uneven pieces. */
	for (i = 0; i < 1000; i += 37) {
		size_t n = 1000 - i < 37 ? 1000 - i : 37;

		T_EQ_INT(buf_append(&b, chunk, n), 0);
	}
	T_EQ_INT(b.len, 1000);
	T_ASSERT(b.cap <= 1001);
	T_EQ_INT(b.data[1000], '\0');
	/* One more byte is refused and changes nothing. */
	T_EQ_INT(buf_append(&b, "b", 1), -1);
	T_EQ_INT(b.len, 1000);
	T_EQ_INT(b.data[999], 'a');
	T_EQ_INT(b.data[1000], '\0');
	T_EQ_INT(buf_append_str(&b, "b"), -1);
	T_EQ_INT(buf_printf(&b, "%d", 1), -1);
	T_EQ_INT(b.len, 1000);
	/* Nothing is still fine. */
	T_EQ_INT(buf_append(&b, "", 0), 0);
	T_EQ_INT(buf_printf(&b, "%s", ""), 0);
	T_EQ_INT(b.len, 1000);
	buf_release(&b);

	/* A single append over the ceiling leaves what was there. */
	buf_init(&b, 10);
	T_EQ_INT(buf_append_str(&b, "12345"), 0);
	T_EQ_INT(buf_append(&b, "678901", 6), -1);
	T_EQ_STR(b.data, "12345");
	T_EQ_INT(b.len, 5);
	T_EQ_INT(buf_append(&b, "67890", 5), 0);
	T_EQ_STR(b.data, "1234567890");
	T_EQ_INT(buf_append(&b, "x", 1), -1);
	T_EQ_STR(b.data, "1234567890");
	buf_release(&b);
}

T_TEST(buf_huge_length_refused)
{
	struct buf b;

	buf_init(&b, 16);
	T_EQ_INT(buf_append_str(&b, "abc"), 0);
	/* Lengths that would overflow len + n are refused, not wrapped. */
	T_EQ_INT(buf_append(&b, "x", SIZE_MAX), -1);
	T_EQ_INT(buf_append(&b, "x", SIZE_MAX - 1), -1);
	T_EQ_INT(buf_append(&b, "x", SIZE_MAX - 2), -1);
	T_EQ_STR(b.data, "abc");
	buf_release(&b);
}

T_TEST(buf_zero_ceiling)
{
	struct buf b;

	buf_init(&b, 0);
	T_EQ_INT(buf_append(&b, "", 0), 0);
	T_EQ_INT(buf_append(&b, "a", 1), -1);
	T_EQ_INT(b.len, 0);
	buf_release(&b);
}

T_TEST(buf_unlimited_ceiling)
{
	struct buf b;
	size_t i;

	/* SIZE_MAX means "no ceiling of our own". */
	buf_init(&b, SIZE_MAX);
	for (i = 0; i < 100; i++)
		T_EQ_INT(buf_append_str(&b, "0123456789"), 0);
	T_EQ_INT(b.len, 1000);
	T_EQ_INT(b.data[999], '9');
	buf_release(&b);
}

T_TEST(buf_grows_and_keeps_content)
{
	struct buf b;
	size_t i;

	buf_init(&b, 1 << 20);
	for (i = 0; i < 10000; i++)
		T_EQ_INT(buf_append(&b, &"0123456789"[i % 10], 1), 0);
	T_EQ_INT(b.len, 10000);
	for (i = 0; i < 10000; i++)
		T_EQ_INT(b.data[i], '0' + (int)(i % 10));
	T_EQ_INT(strlen(b.data), 10000);
	/* Binary content with NULs is kept byte for byte. */
	buf_reset(&b);
	T_EQ_INT(b.len, 0);
	T_EQ_STR(b.data, "");
	T_EQ_INT(buf_append(&b, "a\0b", 3), 0);
	T_EQ_INT(b.len, 3);
	T_EQ_MEM(b.data, "a\0b", 4);
	buf_release(&b);
}

T_TEST(buf_printf_large)
{
	struct buf b;
	char *big;
	size_t i;

	big = malloc(5001);
	T_ASSERT(big != NULL);
	for (i = 0; i < 5000; i++)
		big[i] = (char)('a' + i % 26);
	big[5000] = '\0';
	buf_init(&b, 20000);
	T_EQ_INT(buf_printf(&b, "<%s>", "short"), 0);
	T_EQ_INT(buf_printf(&b, "[%s|%d]", big, 42), 0);
	T_EQ_INT(b.len, 7 + 5000 + 5);
	T_ASSERT(strncmp(b.data, "<short>[abc", 11) == 0);
	T_EQ_STR(b.data + b.len - 4, "|42]");
	T_EQ_INT(b.data[7 + 1 + 4999], big[4999]);
	/* Exactly at a 255/256-byte boundary of the internal buffer. */
	buf_reset(&b);
	big[255] = '\0';
	T_EQ_INT(buf_printf(&b, "%s", big), 0);
	T_EQ_INT(b.len, 255);
	buf_reset(&b);
	big[255] = 'x';
	big[256] = '\0';
	T_EQ_INT(buf_printf(&b, "%s", big), 0);
	T_EQ_INT(b.len, 256);
	T_EQ_MEM(b.data, big, 257);
	buf_release(&b);

	/* A long printf over the ceiling is refused whole. */
	buf_init(&b, 1000);
	T_EQ_INT(buf_append_str(&b, "keep"), 0);
	big[256] = 'y';
	big[2000] = '\0';
	T_EQ_INT(buf_printf(&b, "%s", big), -1);
	T_EQ_STR(b.data, "keep");
	buf_release(&b);
	free(big);
}

T_TEST(buf_detach_hands_over)
{
	struct buf b;
	char *s;

	buf_init(&b, 64);
	T_EQ_INT(buf_append_str(&b, "hello"), 0);
	s = buf_detach(&b);
	T_EQ_STR(s, "hello");
	T_ASSERT(b.data == NULL);
	T_EQ_INT(b.len, 0);
	T_EQ_INT(b.cap, 0);
	T_EQ_INT(b.max, 64);
	/* The buffer can be used again, with the same ceiling. */
	T_EQ_INT(buf_append_str(&b, "again"), 0);
	T_EQ_STR(b.data, "again");
	T_EQ_STR(s, "hello");
	free(s);
	buf_release(&b);
}

T_TEST(buf_text_appends_never_fail)
{
	struct buf b;
	char *big;
	size_t i;

	buf_init_text(&b);
	T_ASSERT(b.max >= SIZE_MAX / 2);
	buf_add(&b, "ab", 2);
	buf_add(&b, "", 0);
	buf_add_str(&b, "cd");
	buf_addf(&b, "-%d-%s", 42, "x");
	T_EQ_STR(b.data, "abcd-42-x");
	big = malloc(5001);
	T_ASSERT(big != NULL);
	memset(big, 'z', 5000);
	big[5000] = '\0';
	buf_addf(&b, "%s!", big); /* longer than buf_addf's stack buffer */
	T_EQ_INT(b.len, 9 + 5001);
	T_EQ_INT(b.data[b.len - 1], '!');
	free(big);
	for (i = 0; i < 100000; i++)
		buf_add_str(&b, "0123456789");
	T_EQ_INT(b.len, 9 + 5001 + 1000000);
	buf_release(&b);
}

/* buf_add past a buf_init ceiling is a bug: fatal, with one line. */
T_TEST(buf_add_past_a_ceiling_is_fatal)
{
	struct buf b;
	pid_t pid;
	int st;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		dup2(fd, STDERR_FILENO); /* the FATAL line */
		buf_init(&b, 4);
		buf_add_str(&b, "four");
		buf_add_str(&b, "5");
		_exit(0);
	}
	T_ASSERT(pid != -1);
	T_EQ_INT(waitpid(pid, &st, 0), pid);
	T_ASSERT(WIFEXITED(st));
	T_EQ_INT(WEXITSTATUS(st), 1);
}
