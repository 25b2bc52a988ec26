/*
 * Unit tests for resolver.c with a real loop and the system's resolver
 * (names from /etc/hosts and numeric ones only, so no DNS is needed):
 * answers come back on the loop thread, errors carry the EAI code, a
 * cancelled query never calls back, and many queries share few threads.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "loop.h"
#include "resolver.h"
#include "t.h"
#include "timer.h"

struct answer {
	int calls;
	int rc;
	char addr[INET6_ADDRSTRLEN];
	pthread_t thread;
};

static void
on_answer(int rc, const struct addrinfo *res, void *arg)
{
	struct answer *a = arg;
	const void *p;

	a->calls++;
	a->rc = rc;
	a->thread = pthread_self();
	if (rc != 0 || res == NULL)
		return;
	if (res->ai_family == AF_INET)
		p = &((const struct sockaddr_in *)res->ai_addr)->sin_addr;
	else
		p = &((const struct sockaddr_in6 *)res->ai_addr)->sin6_addr;
	inet_ntop(res->ai_family, p, a->addr, sizeof(a->addr));
}

struct waiter {
	struct loop *l;
	struct resolver *r;
	struct timer deadline, poll;
};

static void
on_deadline(struct timer *t, void *arg)
{
	struct waiter *w = arg;

	(void)t;
	loop_break(w->l);
}

static void
on_poll(struct timer *t, void *arg)
{
	struct waiter *w = arg;

	if (resolver_pending(w->r) == 0)
		loop_break(w->l);
	else
		loop_timer_start(w->l, t, 5);
}

/* Runs l until r has no query left, or 10 s. */
static void
run_until_answered(struct loop *l, struct resolver *r)
{
	struct waiter w = {.l = l, .r = r};

	timer_init(&w.deadline, on_deadline, &w);
	timer_init(&w.poll, on_poll, &w);
	loop_timer_start(l, &w.deadline, 10000);
	loop_timer_start(l, &w.poll, 0);
	if (loop_run(l) == -1)
		t_fail(__FILE__, __LINE__, "loop_run failed");
	loop_timer_stop(l, &w.deadline);
	loop_timer_stop(l, &w.poll);
}

T_TEST(resolver_answers_on_the_loop_thread)
{
	struct loop *l = loop_new();
	struct resolver *r = resolver_new(l, 2);
	struct answer a4, a6, bad;

	memset(&a4, 0, sizeof(a4));
	memset(&a6, 0, sizeof(a6));
	memset(&bad, 0, sizeof(bad));
	T_ASSERT(r != NULL);
	(void)resolver_lookup(r, "localhost", AF_INET, on_answer, &a4);
	(void)resolver_lookup(r, "127.0.0.9", AF_UNSPEC, on_answer, &a6);
	(void)resolver_lookup(r, "", AF_UNSPEC, on_answer, &bad);
	T_EQ_INT(resolver_pending(r), 3);
	run_until_answered(l, r);
	T_EQ_INT(resolver_pending(r), 0);
	T_EQ_INT(a4.calls, 1);
	T_EQ_INT(a4.rc, 0);
	T_EQ_STR(a4.addr, "127.0.0.1");
	T_ASSERT(pthread_equal(a4.thread, pthread_self()));
	T_EQ_INT(a6.calls, 1);
	T_EQ_STR(a6.addr, "127.0.0.9");
	T_EQ_INT(bad.calls, 1);
	T_ASSERT(bad.rc != 0);
	T_ASSERT(gai_strerror(bad.rc) != NULL);
	resolver_free(r);
	loop_free(l);
}

T_TEST(resolver_cancelled_query_never_calls_back)
{
	struct loop *l = loop_new();
	struct resolver *r = resolver_new(l, 1);
	struct answer kept, gone[20];
	struct resolver_query *q[20];
	int i;

	memset(&kept, 0, sizeof(kept));
	memset(gone, 0, sizeof(gone));
	for (i = 0; i < 20; i++)
		q[i] = resolver_lookup(
		    r, "localhost", AF_INET, on_answer, &gone[i]);
	(void)resolver_lookup(r, "localhost", AF_INET, on_answer, &kept);
	for (i = 0; i < 20; i++)
		resolver_cancel(q[i]);
	run_until_answered(l, r);
	for (i = 0; i < 20; i++)
		T_EQ_INT(gone[i].calls, 0);
	T_EQ_INT(kept.calls, 1);
	T_EQ_STR(kept.addr, "127.0.0.1");
	resolver_free(r);
	loop_free(l);
}

T_TEST(resolver_many_queries_few_threads)
{
	struct loop *l = loop_new();
	struct resolver *r = resolver_new(l, 3);
	struct answer a[200];
	char name[32];
	int i;

	memset(a, 0, sizeof(a));
	for (i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "127.1.%d.%d", i / 250, i % 250);
		(void)resolver_lookup(r, name, AF_INET, on_answer, &a[i]);
	}
	run_until_answered(l, r);
	for (i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "127.1.%d.%d", i / 250, i % 250);
		T_EQ_INT(a[i].calls, 1);
		T_EQ_STR(a[i].addr, name);
	}
	resolver_free(r);
	loop_free(l);
}
