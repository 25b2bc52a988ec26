/*
 * Unit tests for putpost.c: PUT until refused, then POST with one PUT
 * trial at a time every retry interval, back to PUT when a trial works.
 * The sender's use of it is sender_put_forbidden_falls_back_to_post in
 * t_sender.c.
 */
#include "t.h"

#include <stdint.h>

#include "putpost.h"

T_TEST(putpost_put_until_forbidden)
{
	struct putpost pp;

	putpost_init(&pp, 600000, 30000);
	T_EQ_INT(putpost_method(&pp, 0), PUTPOST_PUT);
	T_EQ_INT(putpost_method(&pp, 1000000), PUTPOST_PUT);
	T_EQ_INT(putpost_posting(&pp), 0);
}

T_TEST(putpost_post_with_one_trial_per_interval)
{
	struct putpost pp;

	putpost_init(&pp, 600000, 30000);
	putpost_forbidden(&pp, 1000);
	T_EQ_INT(putpost_posting(&pp), 1);
	T_EQ_INT(putpost_method(&pp, 1000), PUTPOST_POST);
	T_EQ_INT(putpost_method(&pp, 600999), PUTPOST_POST);
	T_EQ_INT(putpost_method(&pp, 601000), PUTPOST_TRIAL);
	/* One trial at a time: meanwhile POST. */
	putpost_trial_started(&pp);
	T_EQ_INT(putpost_method(&pp, 601000), PUTPOST_POST);
	T_EQ_INT(putpost_method(&pp, 9000000), PUTPOST_POST);
	/* Refused again: the next trial one interval after the answer. */
	putpost_trial_answered(&pp, 0, 602000);
	T_EQ_INT(putpost_posting(&pp), 1);
	T_EQ_INT(putpost_method(&pp, 1201999), PUTPOST_POST);
	T_EQ_INT(putpost_method(&pp, 1202000), PUTPOST_TRIAL);
	putpost_trial_started(&pp);
	/* It works: PUT again. */
	putpost_trial_answered(&pp, 1, 1203000);
	T_EQ_INT(putpost_posting(&pp), 0);
	T_EQ_INT(putpost_method(&pp, 1203000), PUTPOST_PUT);
	T_EQ_INT(putpost_method(&pp, 9999999), PUTPOST_PUT);
	/* Refused once more: POST, the switch logged only the first time. */
	putpost_forbidden(&pp, 2000000);
	T_EQ_INT(putpost_method(&pp, 2000000), PUTPOST_POST);
	T_EQ_INT(pp.logged, 1);
}
