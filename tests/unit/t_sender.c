/*
 * Unit tests for sender.c on a real loop with injected monotonic and wall
 * clocks and a fake transport that records each request and lets the test
 * answer it.  Time only moves when the test moves it, so batch sizes,
 * backoff delays, Retry-After, bisection request counts, the token check,
 * the POST fallback, the buffer bounds, the shutdown flush, the spool and a
 * wall-clock step (R16) are checked exactly and without sleeping.
 */
#include <fcntl.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "jobs.h"
#include "log.h"
#include "loop.h"
#include "sched.h"
#include "sender.h"
#include "t.h"
#include "timer.h"
#include "values.h"

#define T0       5000000      /* fake monotonic start, ms */
#define W0       1700000000.0 /* fake wall clock start, s */
#define MAX_REQS 2048
#define TOKEN    "11111111-2222-4333-8444-555555555555"

struct fake_req {
	char method[8];
	char path[64];
	char *body;
	http_cb *cb;
	void *arg;
	int answered;
	int64_t at_ms;
};

static int64_t now_ms;
static double wall_step_s; /* added to the wall clock (R16) */
static struct fake_req reqs[MAX_REQS];
static size_t nreq;
static struct loop *lp;
static struct backend *be;

static int64_t
fake_now(void)
{
	return now_ms;
}

static double
fake_wall(void)
{
	return W0 + (double)(now_ms - T0) / 1000.0 + wall_step_s;
}

static int
fake_request(void *arg, const char *method, const char *path, const char *body,
    size_t body_len, http_cb *cb, void *cb_arg)
{
	struct fake_req *r;

	(void)arg;
	if (nreq == MAX_REQS)
		return -1;
	r = &reqs[nreq++];
	snprintf(r->method, sizeof(r->method), "%s", method);
	snprintf(r->path, sizeof(r->path), "%s", path);
	r->body = NULL;
	if (body != NULL) {
		r->body = malloc(body_len + 1);
		memcpy(r->body, body, body_len);
		r->body[body_len] = '\0';
	}
	r->cb = cb;
	r->arg = cb_arg;
	r->answered = 0;
	r->at_ms = now_ms;
	return 0;
}

static void
answer(size_t i, long status, const char *error, const char *retry_after,
    const char *body)
{
	struct http_response res;

	memset(&res, 0, sizeof(res));
	res.status = status;
	res.error = error;
	res.body = body ? body : "";
	res.body_len = strlen(res.body);
	res.retry_after = retry_after;
	reqs[i].answered = 1;
	reqs[i].cb(&res, reqs[i].arg);
}

/* The oldest unanswered request, or -1. */
static long
open_req(void)
{
	size_t i;

	for (i = 0; i < nreq; i++)
		if (!reqs[i].answered)
			return (long)i;
	return -1;
}

static size_t
n_open(void)
{
	size_t i, n = 0;

	for (i = 0; i < nreq; i++)
		n += !reqs[i].answered;
	return n;
}

static size_t
count_str(const char *hay, const char *needle)
{
	size_t n = 0;

	while (hay != NULL && (hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

static size_t
n_values(size_t i)
{
	return count_str(reqs[i].body, "\"p\":");
}

/* Moves the clock in 10 ms steps, firing what is due. */
static void
advance(int64_t ms)
{
	int64_t end = now_ms + ms;

	loop_run_timers(lp);
	while (now_ms < end) {
		now_ms += now_ms + 10 <= end ? 10 : end - now_ms;
		loop_run_timers(lp);
		loop_run_timers(lp);
	}
}

/* Moves the clock until a new request appears (at most limit_ms). */
static int64_t
advance_until_request(int64_t limit_ms)
{
	size_t before = nreq;
	int64_t start = now_ms;

	loop_run_timers(lp);
	while (nreq == before && now_ms - start < limit_ms) {
		now_ms += 10;
		loop_run_timers(lp);
		loop_run_timers(lp);
	}
	return nreq > before ? reqs[before].at_ms - start : -1;
}

static void
cfg_test(struct sender_config *c)
{
	sender_config_defaults(c);
	c->stats_interval_ms = 0;
}

static struct sender *
mk(const struct sender_config *c)
{
	struct sender *s;

	now_ms = T0;
	wall_step_s = 0;
	nreq = 0;
	timer_set_clock(fake_now);
	timer_set_wall_clock(fake_wall);
	lp = loop_new();
	be = backend_new(lp, NULL, "http://backend.invalid/api", TOKEN);
	s = sender_backend_new(be, c);
	sender_set_transport(s, fake_request, NULL);
	return s;
}

static void
done(struct sender *s)
{
	size_t i;

	sender_free(s);
	backend_free(be);
	loop_free(lp);
	for (i = 0; i < nreq; i++)
		free(reqs[i].body);
	nreq = 0;
	timer_set_clock(NULL);
	timer_set_wall_clock(NULL);
}

/* Queues n values a.p<start..start+n) for account 1, measured now. */
static void
put_n(struct sender *s, int64_t account, size_t start, size_t n)
{
	struct values vs;
	char path[32];
	size_t i;

	values_init(&vs, account);
	for (i = start; i < start + n; i++) {
		snprintf(path, sizeof(path), "a.p%05zu", i);
		values_add(&vs, path, (double)i, fake_wall());
	}
	sender_put(s, &vs);
	values_release(&vs);
}

T_TEST(sender_batches_of_1000_up_to_4_in_flight)
{
	struct sender_config c;
	struct sender_counters k;
	struct sender *s;
	size_t i;

	cfg_test(&c);
	s = mk(&c);
	put_n(s, 1, 0, 5500);
	advance(190);
	T_EQ_INT(nreq, 0); /* gathering */
	advance(20);
	T_EQ_INT(nreq, 4);
	for (i = 0; i < 4; i++) {
		T_EQ_STR(reqs[i].method, "PUT");
		T_EQ_STR(reqs[i].path, "accounts/1/values/");
		T_EQ_INT(n_values(i), 1000);
		T_ASSERT(strstr(reqs[i].body, "\"t\":1700000000.") != NULL);
	}
	answer(0, 204, NULL, NULL, NULL);
	T_EQ_INT(nreq, 5);
	T_EQ_INT(n_values(4), 1000);
	while (open_req() >= 0)
		answer((size_t)open_req(), 204, NULL, NULL, NULL);
	T_EQ_INT(nreq, 6);
	T_EQ_INT(n_values(5), 500);
	T_EQ_INT(sender_pending(s), 0);
	sender_get_counters(s, &k);
	T_EQ_INT(k.queued, 5500);
	T_EQ_INT(k.sent, 5500);
	T_EQ_INT(k.batches, 6);
	T_EQ_INT(k.failed, 0);
	done(s);
}

T_TEST(sender_backoff_one_probe_at_a_time)
{
	struct sender_config c;
	struct sender_counters k;
	struct sender *s;
	int64_t gap, prev_fail;
	size_t before;
	unsigned f;

	cfg_test(&c);
	c.retry_max_ms = 16000;
	s = mk(&c);
	put_n(s, 1, 0, 3500);
	advance(210);
	T_EQ_INT(nreq, 4);
	/* The backend goes away: four failures count as one. */
	while (open_req() >= 0)
		answer((size_t)open_req(), 0, "Connection refused", NULL, NULL);
	prev_fail = now_ms;
	T_EQ_INT(sender_pending(s), 3500);
	for (f = 1; f <= 9; f++) {
		int64_t hi = f >= 5 ? 16000 : 1000LL << (f - 1);

		before = nreq;
		put_n(s, 1, 10000 + f * 10, 10); /* polling goes on */
		gap = advance_until_request(20000);
		T_EQ_INT(nreq, before + 1); /* one probe, nothing else */
		T_ASSERT(gap >= 1000 - 10);
		T_ASSERT(gap <= hi + 10);
		if (f == 1)
			T_ASSERT(gap <= 1010);
		advance(30);
		T_EQ_INT(nreq, before + 1);
		answer(nreq - 1, 503, NULL, NULL, "{\"detail\": \"down\"}");
		prev_fail = now_ms;
	}
	(void)prev_fail;
	/* Back: the probe succeeds and the rest flows at once. */
	gap = advance_until_request(20000);
	T_ASSERT(gap >= 0);
	answer(nreq - 1, 204, NULL, NULL, NULL);
	T_EQ_INT(n_open(), 3);
	while (open_req() >= 0)
		answer((size_t)open_req(), 204, NULL, NULL, NULL);
	T_EQ_INT(sender_pending(s), 0);
	sender_get_counters(s, &k);
	T_EQ_INT(k.sent, 3590);
	T_EQ_INT(k.failed, 13);
	T_EQ_INT(k.dropped, 0);
	done(s);
}

T_TEST(sender_retry_after_seconds_and_date)
{
	struct sender_config c;
	struct sender *s;
	char date[64];
	struct tm tm;
	time_t when;
	int64_t gap;

	cfg_test(&c);
	s = mk(&c);
	put_n(s, 1, 0, 10);
	advance(210);
	answer(0, 429, NULL, "30", "slow down");
	gap = advance_until_request(60000);
	T_ASSERT(gap >= 30000);
	T_ASSERT(gap <= 30010);
	/* The HTTP-date form, read against the wall clock. */
	when = (time_t)fake_wall() + 20;
	gmtime_r(&when, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	answer(nreq - 1, 503, NULL, date, NULL);
	gap = advance_until_request(60000);
	T_ASSERT(gap >= 19000);
	T_ASSERT(gap <= 20010);
	/* A huge Retry-After is capped (SEND_RETRY_AFTER_MAX). */
	answer(nreq - 1, 429, NULL, "999999", NULL);
	gap = advance_until_request(2 * 3600 * 1000);
	T_ASSERT(gap >= 3600000 && gap <= 3600010);
	answer(nreq - 1, 204, NULL, NULL, NULL);
	T_EQ_INT(sender_pending(s), 0);
	done(s);
}

/* The fake backend refuses any batch holding a "system." path. */
static size_t
serve_bisect(size_t *n_400)
{
	long i;
	size_t n = 0;

	while ((i = open_req()) >= 0) {
		n++;
		if (strstr(reqs[i].body, "system.") != NULL) {
			(*n_400)++;
			answer((size_t)i, 400, NULL, NULL,
			    "Input validation failed: Invalid Path format: "
			    "system.bad (paths starting with 'system.' are "
			    "reserved)");
		} else {
			answer((size_t)i, 204, NULL, NULL, NULL);
		}
	}
	return n;
}

T_TEST(sender_bisects_a_refused_batch)
{
	static const size_t where[] = {0, 1, 499, 500, 637, 998, 999};
	struct sender_config c;
	struct sender_counters k;
	struct sender *s;
	struct values vs;
	char path[32];
	size_t w, i, n_400, total, seen[1000];

	for (w = 0; w < sizeof(where) / sizeof(where[0]); w++) {
		cfg_test(&c);
		s = mk(&c);
		values_init(&vs, 1);
		for (i = 0; i < 1000; i++) {
			if (i == where[w])
				snprintf(path, sizeof(path), "system.bad");
			else
				snprintf(path, sizeof(path), "a.p%05zu", i);
			values_add(&vs, path, (double)i, fake_wall());
		}
		sender_put(s, &vs);
		values_release(&vs);
		advance(210);
		T_EQ_INT(nreq, 1);
		n_400 = 0;
		total = serve_bisect(&n_400);
		/* The first request, ceil(log2(1000)) = 10 halvings, and
		 * the cleared halves merged into one more request. */
		T_ASSERT(total <= 1 + 10 + 1);
		T_ASSERT(n_400 <= 1 + 10);
		sender_get_counters(s, &k);
		T_EQ_INT(k.sent, 999);
		T_EQ_INT(k.dropped_refused, 1);
		T_EQ_INT(sender_pending(s), 0);
		/* Every good value delivered exactly once. */
		memset(seen, 0, sizeof(seen));
		for (i = 0; i < nreq; i++) {
			const char *p = reqs[i].body;

			if (strstr(p, "system.") != NULL)
				continue;
			while ((p = strstr(p, "a.p")) != NULL) {
				seen[strtoul(p + 3, NULL, 10)]++;
				p += 3;
			}
		}
		for (i = 0; i < 1000; i++)
			T_EQ_INT(seen[i], i == where[w] ? 0 : 1);
		done(s);
	}
}

T_TEST(sender_bisection_with_two_bad_values_and_traffic)
{
	struct sender_config c;
	struct sender_counters k;
	struct sender *s;
	struct values vs;
	char path[32];
	size_t i, n_400 = 0;

	cfg_test(&c);
	s = mk(&c);
	values_init(&vs, 1);
	for (i = 0; i < 600; i++) {
		if (i == 10 || i == 590)
			snprintf(path, sizeof(path), "system.bad%zu", i);
		else
			snprintf(path, sizeof(path), "a.p%05zu", i);
		values_add(&vs, path, (double)i, fake_wall());
	}
	sender_put(s, &vs);
	values_release(&vs);
	advance(210);
	for (i = 0; i < 20; i++) {
		put_n(s, 1, 1000 + i * 10, 10); /* new values meanwhile */
		(void)serve_bisect(&n_400);
		advance(210);
	}
	(void)serve_bisect(&n_400);
	sender_get_counters(s, &k);
	T_EQ_INT(k.dropped_refused, 2);
	T_EQ_INT(k.sent, 598 + 200);
	T_EQ_INT(sender_pending(s), 0);
	done(s);
}

T_TEST(sender_revoked_token_pauses_and_resumes)
{
	struct sender_config c;
	struct sender_counters k;
	struct sender *s;
	int64_t gap;
	int i;

	cfg_test(&c);
	c.retry_max_ms = 4000;
	s = mk(&c);
	put_n(s, 1, 0, 50);
	advance(210);
	answer(0, 401, NULL, NULL, "Access denied");
	/* 401: is it the token?  profile/ says yes. */
	T_EQ_INT(nreq, 2);
	T_EQ_STR(reqs[1].method, "GET");
	T_EQ_STR(reqs[1].path, "profile/");
	answer(1, 401, NULL, NULL, "Access denied");
	for (i = 0; i < 6; i++) {
		put_n(s, 1, 100 + (size_t)i * 10, 10);
		gap = advance_until_request(10000);
		T_ASSERT(gap >= 990 && gap <= 4010);
		T_EQ_STR(reqs[nreq - 1].path, "profile/");
		answer(nreq - 1, 403, NULL, NULL, "Forbidden");
	}
	T_EQ_INT(sender_pending(s), 110); /* all kept */
	gap = advance_until_request(10000);
	answer(nreq - 1, 200, NULL, NULL, "{\"user_id\": 5}");
	T_EQ_STR(reqs[nreq - 1].method, "PUT");
	answer(nreq - 1, 204, NULL, NULL, NULL);
	T_EQ_INT(sender_pending(s), 0);
	sender_get_counters(s, &k);
	T_EQ_INT(k.sent, 110);
	done(s);
}

T_TEST(sender_put_forbidden_falls_back_to_post)
{
	struct sender_config c;
	struct sender_counters k;
	struct sender *s;
	struct values vs;

	cfg_test(&c);
	s = mk(&c);
	values_init(&vs, 1);
	values_add(&vs, "a.old", 1, fake_wall() - 100); /* too old for POST */
	values_add(&vs, "a.x", 2, fake_wall());
	values_add(&vs, "a.x", 3, fake_wall() - 1);
	values_add(&vs, "a.y", 4, fake_wall());
	sender_put(s, &vs);
	values_release(&vs);
	advance(210);
	answer(0, 403, NULL, NULL, "Forbidden");
	T_EQ_STR(reqs[1].path, "profile/");
	answer(1, 200, NULL, NULL, "{\"user_id\": 5}");
	/* POST, no "t", one value per path and request. */
	T_EQ_INT(nreq, 4);
	T_EQ_STR(reqs[2].method, "POST");
	T_EQ_STR(reqs[3].method, "POST");
	T_ASSERT(strstr(reqs[2].body, "\"t\"") == NULL);
	T_EQ_INT(n_values(2) + n_values(3), 3);
	T_EQ_INT(count_str(reqs[2].body, "a.x"), 1);
	T_ASSERT(strstr(reqs[2].body, "a.old") == NULL);
	answer(2, 204, NULL, NULL, NULL);
	answer(3, 204, NULL, NULL, NULL);
	sender_get_counters(s, &k);
	T_EQ_INT(k.dropped_stale, 1);
	T_EQ_INT(k.sent, 3);
	/* Ten minutes on, one batch tries PUT again; it works. */
	advance(10 * 60 * 1000);
	put_n(s, 1, 0, 5);
	advance(210);
	T_EQ_STR(reqs[nreq - 1].method, "PUT");
	answer(nreq - 1, 204, NULL, NULL, NULL);
	put_n(s, 1, 10, 5);
	advance(210);
	T_EQ_STR(reqs[nreq - 1].method, "PUT");
	answer(nreq - 1, 204, NULL, NULL, NULL);
	T_EQ_INT(sender_pending(s), 0);
	done(s);
}

T_TEST(sender_refused_account_is_held_others_flow)
{
	struct sender_config c;
	struct sender *s;
	int64_t gap;
	size_t before;

	cfg_test(&c);
	c.retry_max_ms = 5000;
	s = mk(&c);
	put_n(s, 7, 0, 5);
	advance(210);
	answer(0, 401, NULL, NULL, "Access denied");
	answer(1, 200, NULL, NULL, "{\"user_id\": 5}"); /* token fine */
	/* Account 7 waits; account 8 is sent at once. */
	before = nreq;
	put_n(s, 8, 0, 5);
	put_n(s, 7, 10, 5);
	advance(210);
	T_EQ_INT(nreq, before + 1);
	T_EQ_STR(reqs[nreq - 1].path, "accounts/8/values/");
	answer(nreq - 1, 204, NULL, NULL, NULL);
	gap = advance_until_request(10000);
	T_ASSERT(gap >= 4000 && gap <= 5010);
	T_EQ_STR(reqs[nreq - 1].path, "accounts/7/values/");
	T_EQ_INT(n_values(nreq - 1), 10);
	answer(nreq - 1, 204, NULL, NULL, NULL);
	T_EQ_INT(sender_pending(s), 0);
	done(s);
}

T_TEST(sender_bounds_drop_the_oldest)
{
	struct sender_config c;
	struct sender_counters k;
	struct sender *s;

	cfg_test(&c);
	c.max_buffer_values = 100;
	s = mk(&c);
	put_n(s, 1, 0, 60);
	put_n(s, 1, 60, 90);
	sender_get_counters(s, &k);
	T_EQ_INT(k.dropped_full, 50);
	T_EQ_INT(sender_pending(s), 100);
	advance(210);
	T_EQ_INT(nreq, 1);
	T_ASSERT(strstr(reqs[0].body, "a.p00049") == NULL);
	T_ASSERT(strstr(reqs[0].body, "\"a.p00050\"") != NULL);
	T_ASSERT(strstr(reqs[0].body, "\"a.p00149\"") != NULL);
	answer(0, 204, NULL, NULL, NULL);
	done(s);

	/* The byte bound the same way. */
	cfg_test(&c);
	c.max_buffer_bytes = 100 * 100;
	s = mk(&c);
	put_n(s, 1, 0, 1000);
	sender_get_counters(s, &k);
	/* About 65 bytes a value here (item, path, malloc overhead). */
	T_ASSERT(k.dropped_full > 800);
	T_ASSERT(sender_pending(s) > 100 && sender_pending(s) < 200);
	T_EQ_INT(k.dropped_full + sender_pending(s), 1000);
	advance(210);
	T_ASSERT(strstr(reqs[0].body, "\"a.p00999\"") != NULL);
	answer(0, 204, NULL, NULL, NULL);
	done(s);
}

T_TEST(sender_age_bound)
{
	struct sender_config c;
	struct sender_counters k;
	struct sender *s;
	long i;

	cfg_test(&c);
	c.max_age_ms = 10000;
	c.retry_min_ms = c.retry_max_ms = 3000;
	s = mk(&c);
	put_n(s, 1, 0, 20);
	advance(210);
	answer(0, 0, "Couldn't connect to server", NULL, NULL);
	advance(5000);
	put_n(s, 1, 100, 5);
	while ((i = open_req()) >= 0)
		answer((size_t)i, 0, "Couldn't connect", NULL, NULL);
	advance(6000);
	while ((i = open_req()) >= 0)
		answer((size_t)i, 0, "Couldn't connect", NULL, NULL);
	sender_get_counters(s, &k);
	T_EQ_INT(k.dropped_old, 20);
	T_EQ_INT(sender_pending(s), 5);
	(void)advance_until_request(5000);
	answer(nreq - 1, 204, NULL, NULL, NULL);
	T_EQ_INT(sender_pending(s), 0);
	done(s);
}

T_TEST(sender_splits_duplicates_and_drops_nan)
{
	struct sender_config c;
	struct sender_counters k;
	struct sender *s;
	struct values vs;

	cfg_test(&c);
	s = mk(&c);
	values_init(&vs, 1);
	values_add(&vs, "a.x", 1, W0);
	values_add(&vs, "a.y", 1, W0);
	values_add(&vs, "a.x", 2, W0); /* same (p, t): next request */
	/* Never in a batch: JSON cannot carry it (t_values.c). */
	T_EQ_INT(values_add(&vs, "a.z", 0.0 / 0.0, W0), -1);
	sender_put(s, &vs);
	values_release(&vs);
	advance(210);
	T_EQ_INT(nreq, 2);
	T_EQ_INT(n_values(0), 2);
	T_EQ_INT(n_values(1), 1);
	T_ASSERT(strstr(reqs[1].body, "\"v\":2") != NULL);
	answer(0, 204, NULL, NULL, NULL);
	answer(1, 204, NULL, NULL, NULL);
	T_ASSERT(strstr(reqs[0].body, "a.z") == NULL);
	T_ASSERT(strstr(reqs[1].body, "a.z") == NULL);
	sender_get_counters(s, &k);
	T_EQ_INT(k.queued, 3);
	T_EQ_INT(k.sent, 3);
	done(s);
}

static int flushed;

static void
on_flushed(void *arg)
{
	(void)arg;
	flushed++;
}

T_TEST(sender_flush_cuts_backoff_short_then_gives_up)
{
	struct sender_config c;
	struct sender *s;
	int64_t gap;

	cfg_test(&c);
	c.retry_min_ms = c.retry_max_ms = 60000;
	s = mk(&c);
	put_n(s, 1, 0, 10);
	advance(210);
	answer(0, 502, NULL, NULL, NULL);
	advance(2000);
	T_EQ_INT(nreq, 1);
	flushed = 0;
	sender_flush(s, now_ms + 8000, on_flushed, NULL);
	T_EQ_INT(nreq, 2); /* at once */
	answer(1, 0, "Connection refused", NULL, NULL);
	gap = advance_until_request(5000);
	T_ASSERT(gap >= 1000 && gap <= 1010); /* floor rate, not 60 s */
	answer(nreq - 1, 0, "Connection refused", NULL, NULL);
	advance(7000);
	T_EQ_INT(flushed, 1);
	T_EQ_INT(sender_pending(s), 10);
	done(s);

	/* With the backend up, the flush ends as soon as all is out. */
	cfg_test(&c);
	s = mk(&c);
	put_n(s, 1, 0, 2500);
	flushed = 0;
	sender_flush(s, now_ms + 8000, on_flushed, NULL);
	T_EQ_INT(nreq, 3);
	while (open_req() >= 0)
		answer((size_t)open_req(), 204, NULL, NULL, NULL);
	T_EQ_INT(flushed, 1);
	done(s);
}

T_TEST(sender_spool_survives_a_restart)
{
	struct sender_config c;
	struct sender_counters k;
	struct sender *s;
	char dir[256];

	snprintf(dir, sizeof(dir), "%s/sender-spool", t_tmpdir());
	cfg_test(&c);
	c.spool_dir = dir;
	s = mk(&c);
	put_n(s, 1, 0, 30);
	put_n(s, 2, 0, 5);
	advance(210);
	while (open_req() >= 0)
		answer((size_t)open_req(), 0, "Connection refused", NULL, NULL);
	done(s); /* killed during the outage */

	s = mk(&c);
	sender_get_counters(s, &k);
	T_EQ_INT(k.spooled_in, 35);
	T_EQ_INT(sender_pending(s), 35);
	advance(10);
	T_EQ_INT(nreq, 2);
	T_EQ_INT(n_values(0) + n_values(1), 35);
	/* The same measurement times as before the restart. */
	T_ASSERT(strstr(reqs[0].body, "\"t\":1700000000.000000") != NULL);
	while (open_req() >= 0)
		answer((size_t)open_req(), 204, NULL, NULL, NULL);
	done(s);

	s = mk(&c); /* nothing left */
	T_EQ_INT(sender_pending(s), 0);
	done(s);
}

/* R16: the wall clock steps back an hour during a run.  Scheduling and
 * retries follow the monotonic clock; only the values' t move. */
static struct sender *r16_sender;
static int64_t r16_fire[64];
static size_t r16_runs;
static struct sched *r16_sched;

static void
r16_run(struct job *job, const int *due_s, size_t n_due, void *arg)
{
	struct values vs;

	(void)due_s;
	(void)n_due;
	(void)arg;
	if (r16_runs < 64)
		r16_fire[r16_runs] = now_ms;
	r16_runs++;
	values_init(&vs, 1);
	values_add(&vs, "a.n", (double)r16_runs, timer_wall_s());
	sender_put(r16_sender, &vs);
	values_release(&vs);
	sched_done(r16_sched, job);
}

T_TEST(sender_r16_wall_clock_step)
{
	static const char entity[] =
	    "{\"id\": 1, \"name\": \"e\", \"entity_type\": \"device\", "
	    "\"details\": {}, \"protocols\": {\"ping\": {\"credential\": "
	    "{\"id\": 2, \"details\": {}}, \"bot\": null, \"sensors\": "
	    "[{\"sensor\": {\"id\": 3, \"default_interval\": 1, \"details\": "
	    "{}}, \"interval\": null}]}}}";
	struct sender_config c;
	struct sender_counters k;
	struct job_update u;
	struct json_object *obj;
	struct job *job = NULL;
	char err[256];
	size_t i, before;
	int64_t probe_at[16];
	size_t n_probe = 0;
	long r;

	cfg_test(&c);
	c.retry_min_ms = c.retry_max_ms = 2000;
	c.max_age_ms = 600000;
	r16_sender = mk(&c);
	r16_runs = 0;
	r16_sched = sched_new(lp, r16_run, NULL, 0);
	obj = json_tokener_parse(entity);
	T_ASSERT(obj != NULL);
	T_EQ_INT(jobs_from_entity(obj, 1, "ping", -1, &job, err, sizeof(err)),
	    JOBS_OK);
	json_object_put(obj);
	job_update_init(&u);
	job_update_add(&u, job);
	sched_apply(r16_sched, &u, NULL);
	job_update_release(&u);
	/* The backend is down throughout; the clock steps at 5.5 s. */
	for (i = 0; i < 1000; i++) {
		before = nreq;
		advance(10);
		if (i == 550)
			wall_step_s = -3600;
		if (nreq > before && n_probe < 16)
			probe_at[n_probe++] = reqs[nreq - 1].at_ms;
		while ((r = open_req()) >= 0)
			answer((size_t)r, 0, "Connection refused", NULL, NULL);
	}
	/* One run per second of the monotonic clock, no gap, no burst. */
	T_ASSERT(r16_runs >= 10);
	for (i = 1; i < r16_runs && i < 64; i++)
		T_EQ_INT(r16_fire[i] - r16_fire[i - 1], 1000);
	/* Probes every 2 s, through the step. */
	T_ASSERT(n_probe >= 4);
	for (i = 2; i < n_probe; i++)
		T_EQ_INT(probe_at[i] - probe_at[i - 1], 2000);
	/* Nothing aged out; all arrive, with the wall times of their runs. */
	(void)advance_until_request(3000);
	answer(nreq - 1, 204, NULL, NULL, NULL);
	sender_get_counters(r16_sender, &k);
	T_EQ_INT(k.dropped, 0);
	T_EQ_INT(k.sent, r16_runs);
	T_ASSERT(strstr(reqs[nreq - 1].body, "\"t\":1700000001.") != NULL);
	T_ASSERT(strstr(reqs[nreq - 1].body, "\"t\":1699996406.") != NULL);
	sched_free(r16_sched);
	done(r16_sender);
}

T_TEST(sender_json_escapes_unchecked_paths)
{
	struct sender_config c;
	struct sender *s;
	struct values vs;

	cfg_test(&c);
	s = mk(&c);
	values_init(&vs, 1);
	values_add(&vs, "a\"b\\c\001d", -2.5, 1700000000.5);
	sender_put(s, &vs);
	values_release(&vs);
	advance(210);
	T_EQ_INT(nreq, 1);
	T_EQ_STR(reqs[0].body,
	    "[{\"p\":\"a\\\"b\\\\c\\u0001d\",\"v\":-2.5,\"t\":1700000000."
	    "500000}]");
	answer(0, 204, NULL, NULL, NULL);
	done(s);
}

/* Issue 13 9: a value stamped t = 1e300 was spooled as a 39-digit number
 * that came back as 1e38.  Times outside (0, 1e10) are refused where
 * values come in (values_add): never spooled nor sent. */
T_TEST(sender_refuses_times_out_of_range)
{
	struct sender_config c;
	struct sender_counters k;
	struct values vs;
	struct sender *s;
	char dir[256];

	snprintf(dir, sizeof(dir), "%s/sender-times", t_tmpdir());
	cfg_test(&c);
	c.spool_dir = dir;
	s = mk(&c);
	values_init(&vs, 1);
	T_EQ_INT(values_add(&vs, "a.far", 1, 1e300), -1);
	T_EQ_INT(values_add(&vs, "a.zero", 2, 0), -1);
	T_EQ_INT(values_add(&vs, "a.late", 3, 1e10), -1);
	T_EQ_INT(values_add(&vs, "a.ok", 4, fake_wall()), 0);
	sender_put(s, &vs);
	values_release(&vs);
	sender_get_counters(s, &k);
	T_EQ_INT(k.queued, 1);
	T_EQ_INT(sender_pending(s), 1);
	done(s); /* killed before delivery */

	s = mk(&c);
	sender_get_counters(s, &k);
	T_EQ_INT(k.spooled_in, 1);
	advance(10);
	T_EQ_INT(nreq, 1);
	T_EQ_INT(n_values(0), 1);
	T_ASSERT(strstr(reqs[0].body, "a.ok") != NULL);
	answer(0, 204, NULL, NULL, NULL);
	done(s);
}
/* Answers every request with 413 for ms of fake time. */
static void
answer_413_for(int64_t ms)
{
	int64_t end = now_ms + ms;
	long r;

	while (now_ms < end && nreq < MAX_REQS) {
		r = open_req();
		if (r >= 0)
			answer((size_t)r, 413, NULL, NULL,
			    "<html><title>413 Request Entity Too "
			    "Large</title></html>");
		else
			advance(10);
	}
}

T_TEST(sender_413_forever_backs_off)
{
	struct sender_config c;
	struct sender_counters k;
	struct sender *s;
	size_t i;

	cfg_test(&c);
	c.retry_max_ms = 16000;
	s = mk(&c);
	put_n(s, 1, 0, 3000);
	advance(210);
	T_EQ_INT(nreq, 3);
	/* The requests halve down to the smallest size (1 MB to 4 KiB is
	 * 8 halvings), then a 413 backs off like a 5xx: one probe at a time,
	 * at least retry_min_ms (1 s) apart, not thousands of requests. */
	answer_413_for(60000);
	T_ASSERT(nreq <= 3 + 8 + 4 + 60);
	for (i = 20; i < nreq; i++)
		T_ASSERT(reqs[i].at_ms - reqs[i - 1].at_ms >= 990);
	T_EQ_INT(sender_pending(s), 3000); /* nothing is lost meanwhile */
	sender_get_counters(s, &k);
	T_EQ_INT(k.dropped, 0);
	/* The backend takes small requests again: everything flows. */
	while (sender_pending(s) > 0 && nreq < MAX_REQS) {
		long r = open_req();

		if (r >= 0)
			answer((size_t)r, 204, NULL, NULL, NULL);
		else
			advance(10);
	}
	sender_get_counters(s, &k);
	T_EQ_INT(k.sent, 3000);
	T_EQ_INT(k.dropped, 0);
	done(s);
}

T_TEST(sender_413_for_one_value_drops_it)
{
	struct sender_config c;
	struct sender_counters k;
	struct sender *s;
	size_t i;

	cfg_test(&c);
	s = mk(&c);
	/* One value per tick, each refused alone: it can never be sent, so
	 * it is dropped and counted like a value refused with 400. */
	for (i = 0; i < 5; i++) {
		put_n(s, 1, i, 1);
		answer_413_for(1000);
	}
	T_ASSERT(nreq <= 5);
	T_EQ_INT(sender_pending(s), 0);
	sender_get_counters(s, &k);
	T_EQ_INT(k.dropped_refused, 5);
	done(s);
}

/* Answers request i with a transport error after elapsed_s seconds. */
static void
answer_failed_after(size_t i, const char *error, double elapsed_s)
{
	struct http_response res;

	memset(&res, 0, sizeof(res));
	res.error = error;
	res.body = "";
	res.elapsed_s = elapsed_s;
	reqs[i].answered = 1;
	reqs[i].cb(&res, reqs[i].arg);
}

/* A request cut by a timeout while the backend worked on it (the real one
 * spends a few queries and an MQTT message per value) halves later
 * requests, down to 50 values, and they grow back by an eighth per
 * success; a quick failure (refused, reset) changes nothing. */
T_TEST(sender_slow_failures_send_smaller_requests)
{
	struct sender_config c;
	struct sender_counters k;
	struct sender *s;
	size_t i, last;
	long r;

	cfg_test(&c);
	c.max_in_flight = 1;
	s = mk(&c);
	put_n(s, 1, 0, 5000);
	advance(210);
	T_EQ_INT(nreq, 1);
	T_EQ_INT(n_values(0), 1000);
	/* A quick failure: the same size again. */
	answer_failed_after(0, "Connection refused", 0.01);
	T_ASSERT(advance_until_request(5000) >= 0);
	T_EQ_INT(n_values(1), 1000);
	/* Cut after 15 s: half as many, then a quarter, never below 50. */
	answer_failed_after(1,
	    "Operation too slow. Less than 10 bytes/sec transferred the last "
	    "15 seconds",
	    15.2);
	T_ASSERT(advance_until_request(5000) >= 0);
	T_EQ_INT(n_values(2), 500);
	answer_failed_after(2, "Operation timed out after 30000 ms", 30.0);
	T_ASSERT(advance_until_request(10000) >= 0);
	T_EQ_INT(n_values(3), 250);
	/* nginx's 504 after its proxy timeout counts too. */
	{
		struct http_response res;

		memset(&res, 0, sizeof(res));
		res.status = 504;
		res.body = "";
		res.elapsed_s = 60.0;
		reqs[3].answered = 1;
		reqs[3].cb(&res, reqs[3].arg);
	}
	T_ASSERT(advance_until_request(10000) >= 0);
	T_EQ_INT(n_values(4), 125);
	for (i = 4; i < 8; i++) {
		answer_failed_after(i, "Operation timed out", 30.0);
		T_ASSERT(advance_until_request(70000) >= 0);
	}
	T_EQ_INT(n_values(8), 50);
	/* Successes: 50, 56, 63, 70 ... back up to 1000, never beyond (the
	 * last request takes what is left). */
	while (sender_pending(s) > 0 && nreq < MAX_REQS) {
		r = open_req();
		if (r < 0) {
			advance(10);
			continue;
		}
		answer((size_t)r, 204, NULL, NULL, NULL);
	}
	T_EQ_INT(n_values(9), 56);
	T_EQ_INT(n_values(10), 63);
	for (i = 9, last = 50; i + 1 < nreq; i++) {
		T_ASSERT(n_values(i) > last || n_values(i) == 1000);
		T_ASSERT(n_values(i) <= last + last / 8 + 1);
		last = n_values(i);
	}
	sender_get_counters(s, &k);
	T_EQ_INT(k.sent, 5000);
	T_EQ_INT(k.dropped, 0);
	/* More traffic: grown back to full requests, never beyond. */
	i = nreq;
	put_n(s, 1, 5000, 8000);
	while (sender_pending(s) > 0 && nreq < MAX_REQS) {
		r = open_req();
		if (r < 0) {
			advance(10);
			continue;
		}
		T_ASSERT(n_values((size_t)r) <= 1000);
		answer((size_t)r, 204, NULL, NULL, NULL);
	}
	T_EQ_INT(n_values(nreq - 2), 1000);
	T_ASSERT(nreq - i < 16);
	done(s);
}

static int capture_saved = -1;
static enum log_level capture_level;

/* Sends what is logged at WARN to a scratch file until capture_end. */
static void
capture_start(void)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/sender-log.txt", t_tmpdir());
	fflush(stderr);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	capture_saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
	capture_level = log_get_level();
	log_init("unit", LOG_LEVEL_WARN);
}

/* Ends the capture and reads what was logged into out. */
static void
capture_end(char *out, size_t outlen)
{
	char path[256];
	FILE *f;
	size_t n;

	log_init("unit", capture_level);
	dup2(capture_saved, STDERR_FILENO);
	close(capture_saved);
	snprintf(path, sizeof(path), "%s/sender-log.txt", t_tmpdir());
	out[0] = '\0';
	f = fopen(path, "r");
	if (f == NULL)
		return;
	n = fread(out, 1, outlen - 1, f);
	out[n] = '\0';
	fclose(f);
	unlink(path);
}

/* Runs one batch of one value answered with status, retry_after and body,
 * and returns what the sender logged (in out). */
static void
logged_answer(long status, const char *retry_after, const char *body, char *out,
    size_t outlen)
{
	struct sender_config c;
	struct sender *s;

	cfg_test(&c);
	s = mk(&c);
	put_n(s, 1, 0, 1);
	advance(210);
	capture_start();
	answer(0, status, NULL, retry_after, body);
	capture_end(out, outlen);
	done(s);
}

/* Issue 13.5: the answer body is cut at 1,000 characters for the log
 * only after the token in it is redacted: no part of it shows, wherever
 * the cut falls. */
T_TEST(sender_body_text_redacts_before_cutting)
{
	static const char tok[] = "fedcba98-7654-4321-8765-0123456789ab";
	char body[1200], text[4096];
	size_t pad;

	log_set_secret(tok);
	for (pad = 950; pad <= 1000; pad++) {
		memset(body, 'x', pad);
		snprintf(
		    body + pad, sizeof(body) - pad, "invalid token: %s", tok);
		logged_answer(404, NULL, body, text, sizeof(text));
		T_ASSERT(strstr(text, "values refused") != NULL);
		T_ASSERT(strstr(text, "token: f") == NULL);
		logged_answer(413, NULL, body, text, sizeof(text));
		T_ASSERT(strstr(text, "refused a.p00000") != NULL);
		T_ASSERT(strstr(text, "token: f") == NULL);
	}
	/* A 110-byte body: the token is redacted whole, the body kept. */
	memset(body, 'x', 110);
	snprintf(body + 110, sizeof(body) - 110, "invalid token: %s", tok);
	logged_answer(404, NULL, body, text, sizeof(text));
	T_ASSERT(strstr(text, "xxinvalid token: <redacted>)") != NULL);
	log_set_secret(NULL);
}

/* The other cuts of text in delivery: a Retry-After header (40
 * characters) and the path of a value too big for any request (100). */
T_TEST(sender_short_cuts_redact_first)
{
	static const char tok[] = "fedcba98-7654-4321-8765-0123456789ab";
	char ra[100], text[4096], *path;
	struct sender_config c;
	struct sender *s;
	struct values vs;
	size_t pad;

	log_set_secret(tok);
	for (pad = 0; pad <= 40; pad++) {
		memset(ra, 'x', pad);
		snprintf(ra + pad, sizeof(ra) - pad, "%s", tok);
		logged_answer(503, ra, "", text, sizeof(text));
		T_ASSERT(strstr(text, "Retry-After: ") != NULL);
		T_ASSERT(strstr(text, "xf") == NULL);
		T_ASSERT(strstr(text, "After: f") == NULL);
	}
	path = malloc(6000);
	T_ASSERT(path != NULL);
	for (pad = 60; pad <= 100; pad += 4) {
		cfg_test(&c);
		c.max_batch_bytes = 4096;
		s = mk(&c);
		memset(path, 'x', 5999);
		path[5999] = '\0';
		memcpy(path + pad, tok, sizeof(tok) - 1);
		values_init(&vs, 1);
		values_add(&vs, path, 1, fake_wall());
		sender_put(s, &vs);
		values_release(&vs);
		capture_start();
		advance(210);
		capture_end(text, sizeof(text));
		done(s);
		T_ASSERT(strstr(text, "larger than a request") != NULL);
		T_ASSERT(strstr(text, "xf") == NULL);
	}
	free(path);
	log_set_secret(NULL);
}
