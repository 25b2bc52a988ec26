/*
 * Unit tests for the per-origin admission: the cap, first come first
 * served among the waiting, cancelling a waiting request, origins
 * independent of each other, and idle origins forgotten.
 */
#include "../t.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "../../../apibot/apihost.h"

#define A "http://a.example:80"
#define B "https://a.example:443"

T_TEST(apihost_caps_each_origin_and_serves_waiting_in_order)
{
	struct apihosts *t = apihosts_new(2);
	struct apihost_slot s[6];

	memset(s, 0, sizeof(s));
	T_EQ_INT(apihost_enter(t, A, &s[0]), 1);
	T_EQ_INT(apihost_enter(t, A, &s[1]), 1);
	T_EQ_INT(apihost_enter(t, A, &s[2]), 0);
	T_EQ_INT(apihost_enter(t, A, &s[3]), 0);
	T_EQ_INT(apihost_enter(t, A, &s[4]), 0);
	/* Another origin (same host, other scheme and port) has its own. */
	T_EQ_INT(apihost_enter(t, B, &s[5]), 1);
	T_EQ_INT((long)apihost_running(t, A), 2);
	T_EQ_INT((long)apihost_waiting(t, A), 3);
	T_EQ_INT((long)apihost_running(t, B), 1);

	/* A waiting one that leaves (cancelled) starts nothing. */
	T_ASSERT(apihost_leave(t, &s[3]) == NULL);
	T_EQ_INT((long)apihost_waiting(t, A), 2);
	/* A running one that leaves hands its place to the oldest. */
	T_ASSERT(apihost_leave(t, &s[1]) == &s[2]);
	T_EQ_INT(s[2].running, 1);
	T_ASSERT(apihost_leave(t, &s[0]) == &s[4]);
	T_EQ_INT((long)apihost_running(t, A), 2);
	T_EQ_INT((long)apihost_waiting(t, A), 0);
	T_ASSERT(apihost_leave(t, &s[2]) == NULL);
	T_EQ_INT((long)apihost_running(t, A), 1);
	/* Leaving twice, or without entering, changes nothing. */
	T_ASSERT(apihost_leave(t, &s[2]) == NULL);
	T_EQ_INT((long)apihost_running(t, A), 1);
	T_ASSERT(apihost_leave(t, &s[4]) == NULL);
	T_ASSERT(apihost_leave(t, &s[5]) == NULL);
	/* Idle origins are gone. */
	T_EQ_INT((long)apihost_running(t, A), 0);
	T_EQ_INT((long)apihost_running(t, B), 0);
	apihosts_free(t);
}

T_TEST(apihost_many_origins_grow_the_table)
{
	enum { N = 300 };
	static struct apihost_slot s[N][2];
	struct apihosts *t = apihosts_new(1);
	char o[64];
	int i;

	memset(s, 0, sizeof(s));
	for (i = 0; i < N; i++) {
		snprintf(o, sizeof(o), "http://h%d:80", i);
		T_EQ_INT(apihost_enter(t, o, &s[i][0]), 1);
		T_EQ_INT(apihost_enter(t, o, &s[i][1]), 0);
	}
	for (i = 0; i < N; i++) {
		snprintf(o, sizeof(o), "http://h%d:80", i);
		T_EQ_INT((long)apihost_running(t, o), 1);
		T_EQ_INT((long)apihost_waiting(t, o), 1);
		T_ASSERT(apihost_leave(t, &s[i][0]) == &s[i][1]);
	}
	/* Slots still entered are forgotten with the table. */
	apihosts_free(t);
}
