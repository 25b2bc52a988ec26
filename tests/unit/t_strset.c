/*
 * Unit tests for strset.c: membership, duplicates, growth past many
 * thousands of strings, and moving one set into another.
 */
#include "t.h"

#include <stdio.h>

#include "strset.h"

T_TEST(strset_adds_each_string_once)
{
	struct strset s;

	strset_init(&s);
	T_EQ_INT(strset_has(&s, "a"), 0);
	T_EQ_INT(strset_add(&s, "a"), 1);
	T_EQ_INT(strset_add(&s, "a"), 0);
	T_EQ_INT(strset_add(&s, ""), 1);
	T_EQ_INT(strset_has(&s, "a"), 1);
	T_EQ_INT(strset_has(&s, ""), 1);
	T_EQ_INT(strset_has(&s, "b"), 0);
	T_EQ_INT(s.n, 2);
	strset_release(&s);
	T_EQ_INT(strset_has(&s, "a"), 0);
}

T_TEST(strset_grows_and_moves)
{
	struct strset a, b;
	char buf[64];
	int i;

	strset_init(&a);
	strset_init(&b);
	for (i = 0; i < 50000; i++) {
		snprintf(buf, sizeof(buf), "job %d: not polled", i);
		T_EQ_INT(strset_add(&a, buf), 1);
	}
	for (i = 0; i < 50000; i += 7) {
		snprintf(buf, sizeof(buf), "job %d: not polled", i);
		T_EQ_INT(strset_add(&a, buf), 0);
	}
	T_EQ_INT(a.n, 50000);
	strset_add(&b, "old");
	strset_move(&b, &a);
	T_EQ_INT(a.n, 0);
	T_EQ_INT(strset_has(&a, "job 1: not polled"), 0);
	T_EQ_INT(strset_has(&b, "job 49999: not polled"), 1);
	T_EQ_INT(strset_has(&b, "old"), 0);
	strset_release(&b);
	strset_release(&a);
}
