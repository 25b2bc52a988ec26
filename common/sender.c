/*
 * Value delivery.  Values wait in one queue per account; a short flush
 * delay gathers the values of a tick into few requests.  Each request is a
 * PUT with the measurement time of every value, so the backend upserts on
 * (path, t) and a resend can never store a value twice.  Batches are
 * de-duplicated and kept under the 1 MiB body limit.  Failed batches go
 * back to their queue and are retried after a pause; sending happens on
 * the loop, so polling never waits for it.
 */
#include "sender.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "buf.h"
#include "http.h"
#include "log.h"
#include "loop.h"
#include "timer.h"
#include "values.h"
#include "xmalloc.h"

#define SENDER_RETRY_MS 5000

struct sender {
	FILE *out; /* stdout mode when set */
	struct backend *b;
	struct loop *loop;
	struct sender_config cfg;
	struct values *queues; /* one per account */
	size_t n_queues;
	size_t in_flight;
	struct timer flush_timer;
	struct timer deadline_timer;
	int64_t retry_at_ms;
	sender_flushed_cb *flushed_cb;
	void *flushed_arg;
	struct sender_counters c;
	struct log_limit fail_limit;
};

struct sender_batch {
	struct sender *s;
	struct values vs;
};

void
sender_config_defaults(struct sender_config *c)
{
	c->max_batch_values = 1000;
	c->max_batch_bytes = 1000000;
	c->flush_delay_ms = 200;
	c->max_in_flight = 4;
}

static void sender_on_flush_timer(struct timer *t, void *arg);
static void sender_on_deadline(struct timer *t, void *arg);

static struct sender *
sender_alloc(void)
{
	struct sender *s;

	s = xcalloc(1, sizeof(*s));
	sender_config_defaults(&s->cfg);
	timer_init(&s->flush_timer, sender_on_flush_timer, s);
	timer_init(&s->deadline_timer, sender_on_deadline, s);
	return s;
}

struct sender *
sender_backend_new(struct backend *b, const struct sender_config *c)
{
	struct sender *s = sender_alloc();

	s->b = b;
	s->loop = backend_loop(b);
	s->cfg = *c;
	return s;
}

struct sender *
sender_stdout_new(FILE *out)
{
	struct sender *s = sender_alloc();

	s->out = out;
	return s;
}

void
sender_free(struct sender *s)
{
	size_t i;

	if (s == NULL)
		return;
	if (s->loop != NULL) {
		loop_timer_stop(s->loop, &s->flush_timer);
		loop_timer_stop(s->loop, &s->deadline_timer);
	}
	for (i = 0; i < s->n_queues; i++)
		values_release(&s->queues[i]);
	free(s->queues);
	free(s);
}

size_t
sender_pending(const struct sender *s)
{
	size_t i, n = 0;

	for (i = 0; i < s->n_queues; i++)
		n += s->queues[i].len;
	return n;
}

void
sender_get_counters(const struct sender *s, struct sender_counters *c)
{
	*c = s->c;
}

static struct values *
sender_queue(struct sender *s, int64_t account_id)
{
	size_t i;

	for (i = 0; i < s->n_queues; i++)
		if (s->queues[i].account_id == account_id)
			return &s->queues[i];
	s->queues =
	    xreallocarray(s->queues, s->n_queues + 1, sizeof(*s->queues));
	values_init(&s->queues[s->n_queues], account_id);
	return &s->queues[s->n_queues++];
}

static void
sender_print(struct sender *s, struct values *vs)
{
	char num[40];
	size_t i;

	for (i = 0; i < vs->len; i++) {
		values_format_number(vs->items[i].v, num, sizeof(num));
		fprintf(s->out, "%s %s %.6f\n", vs->items[i].path, num,
		    vs->items[i].t);
	}
	fflush(s->out);
	s->c.queued += vs->len;
	s->c.sent += vs->len;
	values_release(vs);
}

static void
sender_check_flushed(struct sender *s)
{
	sender_flushed_cb *cb = s->flushed_cb;

	if (cb == NULL || s->in_flight > 0 || sender_pending(s) > 0)
		return;
	s->flushed_cb = NULL;
	loop_timer_stop(s->loop, &s->deadline_timer);
	cb(s->flushed_arg);
}

static void
sender_kick(struct sender *s, int64_t delay_ms)
{
	if (s->loop == NULL)
		return;
	if (timer_armed(&s->flush_timer) &&
	    s->flush_timer.deadline_ms <= timer_now_ms() + delay_ms)
		return;
	loop_timer_start(s->loop, &s->flush_timer, delay_ms);
}

void
sender_put(struct sender *s, struct values *vs)
{
	struct values *q;

	if (vs->len == 0)
		return;
	if (s->out != NULL) {
		sender_print(s, vs);
		return;
	}
	s->c.queued += vs->len;
	q = sender_queue(s, vs->account_id);
	values_move(q, vs);
	sender_kick(s, s->cfg.flush_delay_ms);
}

static void sender_send(struct sender *s);

static void
sender_on_answer(const struct http_response *res, void *arg)
{
	struct sender_batch *bt = arg;
	struct sender *s = bt->s;
	char snip[160];
	size_t i;

	s->in_flight--;
	if (res->error == NULL && res->status >= 200 && res->status < 300) {
		s->c.sent += bt->vs.len;
		log_debug("sent %zu values to account %lld", bt->vs.len,
		    (long long)bt->vs.account_id);
		values_release(&bt->vs);
		free(bt);
		sender_send(s);
		sender_check_flushed(s);
		return;
	}
	s->c.failed++;
	for (i = 0; i < res->body_len && i + 1 < sizeof(snip); i++)
		snip[i] = (res->body[i] >= 32 && res->body[i] < 127)
		    ? res->body[i]
		    : ' ';
	snip[i] = '\0';
	if (res->error == NULL && res->status >= 400 && res->status < 500 &&
	    res->status != 429 && res->status != 401 && res->status != 403) {
		/* The backend refused the batch itself: resending it as is
		 * cannot succeed. */
		log_warnx("values: account %lld: HTTP %ld, %zu values "
		          "dropped: %s",
		    (long long)bt->vs.account_id, res->status, bt->vs.len,
		    snip);
		s->c.dropped += bt->vs.len;
		values_release(&bt->vs);
	} else {
		char reason[256];

		if (res->error != NULL)
			snprintf(reason, sizeof(reason), "%s", res->error);
		else
			snprintf(reason, sizeof(reason), "HTTP %ld: %s",
			    res->status, snip);
		log_warnx_limited(&s->fail_limit, 60000,
		    "values: account %lld: sending %zu values failed (%s); "
		    "retrying in %d s",
		    (long long)bt->vs.account_id, bt->vs.len, reason,
		    SENDER_RETRY_MS / 1000);
		values_move(sender_queue(s, bt->vs.account_id), &bt->vs);
		s->retry_at_ms = timer_now_ms() + SENDER_RETRY_MS;
	}
	free(bt);
	sender_send(s);
	sender_check_flushed(s);
}

/* Starts one PUT from queue q; -1 when nothing could be started. */
static int
sender_start_batch(struct sender *s, struct values *q)
{
	struct sender_batch *bt;
	struct buf body;
	size_t n, i;
	char path[64], *url;

	values_dedup(q);
	buf_init(&body, s->cfg.max_batch_bytes + 16);
	n = values_encode(
	    q, 0, s->cfg.max_batch_values, s->cfg.max_batch_bytes, 1, &body);
	if (n == 0) {
		buf_release(&body);
		return -1;
	}
	bt = xcalloc(1, sizeof(*bt));
	bt->s = s;
	values_init(&bt->vs, q->account_id);
	for (i = 0; i < n; i++)
		values_add(
		    &bt->vs, q->items[i].path, q->items[i].v, q->items[i].t);
	values_shift(q, n);
	snprintf(path, sizeof(path), "accounts/%lld/values/",
	    (long long)q->account_id);
	url = backend_url(s->b, path);
	if (http_request(backend_http(s->b), "PUT", url, body.data, body.len,
	        "application/json", sender_on_answer, bt) == -1) {
		values_move(q, &bt->vs);
		free(bt);
		free(url);
		buf_release(&body);
		return -1;
	}
	s->c.batches++;
	s->in_flight++;
	free(url);
	buf_release(&body);
	return 0;
}

static void
sender_send(struct sender *s)
{
	int64_t now = timer_now_ms();
	size_t i;
	int progress = 1;

	if (s->retry_at_ms > now) {
		sender_kick(s, s->retry_at_ms - now);
		return;
	}
	while (progress && s->in_flight < s->cfg.max_in_flight) {
		progress = 0;
		for (i = 0;
		     i < s->n_queues && s->in_flight < s->cfg.max_in_flight;
		     i++) {
			if (s->queues[i].len == 0)
				continue;
			if (sender_start_batch(s, &s->queues[i]) == 0)
				progress = 1;
		}
	}
}

static void
sender_on_flush_timer(struct timer *t, void *arg)
{
	(void)t;
	sender_send(arg);
}

static void
sender_on_deadline(struct timer *t, void *arg)
{
	struct sender *s = arg;
	sender_flushed_cb *cb = s->flushed_cb;

	(void)t;
	s->flushed_cb = NULL;
	if (cb != NULL)
		cb(s->flushed_arg);
}

void
sender_flush(
    struct sender *s, int64_t deadline_ms, sender_flushed_cb *cb, void *arg)
{
	s->flushed_cb = cb;
	s->flushed_arg = arg;
	if (s->loop == NULL) {
		s->flushed_cb = NULL;
		cb(arg);
		return;
	}
	loop_timer_at(s->loop, &s->deadline_timer, deadline_ms);
	s->retry_at_ms = 0;
	sender_send(s);
	sender_check_flushed(s);
}
