/*
 * Value delivery: the orchestrator.  The buffer is sendq.c (per-account
 * queues, bounds, drop counts), request bodies are built by batch.c and
 * the 400 isolation is bisect.c; this file sends the requests and reacts
 * to the answers.  Requests are PUTs carrying each value's measurement
 * time, so the backend upserts on (path, t): resending after a lost answer
 * is harmless (only after PUT is refused with 403 does POST take over,
 * see below).  A short delay gathers the values of a tick
 * into few requests.
 *
 * The sender is a small state machine around one gate (sendgate.h): OPEN
 * lets up to max_in_flight batches go; BACKOFF (transport error, 5xx, 429)
 * lets one probe go when the retry time comes; CHECK asks GET profile/
 * after a 401/403, which tells a revoked token (both fail, AUTH: sending
 * pauses, the buffer is kept) from a refused PUT (POST takes over,
 * putpost.h) or a refused account (held while others flow).  Only answers
 * of the gate's current epoch move it.  One loop timer serves both
 * gathering and retries.
 *
 * A 413 halves the request size (at the smallest size it backs off like a
 * 5xx); a 400 batch is bisected (bisect.h).  With
 * a spool, every queued value is also on disk until it is delivered or
 * dropped.
 */
#include "sender.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "batch.h"
#include "bisect.h"
#include "buf.h"
#include "http.h"
#include "log.h"
#include "loop.h"
#include "putpost.h"
#include "sendgate.h"
#include "sendq.h"
#include "sendstats.h"
#include "spool.h"
#include "timer.h"
#include "values.h"
#include "xmalloc.h"

#define SENDER_LOG_MS          60000
#define SENDER_PUT_RETRY_MS    (10 * 60 * 1000)
#define SENDER_MIN_BATCH_BYTES 4096
#define SENDER_BODY_LOG_MAX    1000
/* A request that failed in transport after this long was most likely cut
 * by a timeout while the backend worked on it (the real one does a few
 * queries and an MQTT message per value): later requests carry fewer
 * values, down to SENDER_MIN_SLOW_VALUES, and grow back by an eighth per
 * success. */
#define SENDER_SLOW_S          5.0
#define SENDER_MIN_SLOW_VALUES 50

/* An account refused while the token works waits; by sendq index. */
struct sender_hold {
	int64_t until_ms;
	struct log_limit limit;
};

/* One request in flight. */
struct sender_batch {
	struct sender *s;
	struct sender_batch *prev, *next; /* in flight */
	int64_t account_id;
	struct value *items; /* what was sent */
	size_t n;
	struct bisect_half half; /* bisection: the half not sent, and why */
	uint64_t epoch;          /* the gate's, when it was sent */
	int bisect;              /* the first half of a suspect */
	int post;                /* POST (PUT refused), else PUT */
	int probe;               /* the one probe of a closed gate */
	int put_trial;           /* a PUT to see whether PUT works again */
};

enum sender_why { WHY_PUT_FORBIDDEN, WHY_REFUSED, WHY_AUTH };
enum sender_verdict { V_OK, V_RETRY, V_AUTH, V_BAD, V_TOO_BIG, V_REFUSED };

struct sender {
	FILE *out; /* stdout mode when set */
	struct backend *b;
	struct loop *loop;
	struct sender_config cfg;
	sender_request_fn *request;
	void *request_arg;

	struct sendq *q; /* everything buffered */
	size_t rr;
	struct sender_hold *holds;
	size_t n_holds;
	struct bisect *bis;
	struct sender_batch *batches; /* in flight */
	size_t in_flight;

	struct sendgate g;
	enum sender_why check_why;
	long check_status;
	int64_t check_account;

	struct putpost pp;  /* PUT, or POST after PUT was refused */
	size_t batch_bytes; /* shrinks after a 413 */
	size_t slow_values; /* shrinks after a slow failure, regrows */

	struct timer timer; /* gathering and retries: the only retry timer */
	struct timer deadline_timer;
	struct timer stats_timer;
	sender_flushed_cb *flushed_cb;
	void *flushed_arg;

	struct spool *spool;
	struct sender_counters c, c_last; /* c's drop counts live in q */
	struct log_limit fail_limit, auth_limit, bad_limit, refused_limit,
	    stale_limit, big_limit, slow_limit;
};

void
sender_config_defaults(struct sender_config *c)
{
	memset(c, 0, sizeof(*c));
	c->max_batch_values = 1000;
	c->max_batch_bytes = 1000000;
	c->flush_delay_ms = 200;
	c->max_in_flight = 4;
	c->max_buffer_bytes = 64 * 1024 * 1024;
	c->max_buffer_values = 0;
	c->max_age_ms = 24LL * 3600 * 1000;
	c->retry_min_ms = 1000;
	c->retry_max_ms = 60000;
	c->retry_after_max_ms = 3600 * 1000;
	c->post_max_age_ms = 30000;
	c->stats_interval_ms = 60000;
	c->spool_dir = NULL;
	c->spool_max_bytes = 256 * 1024 * 1024;
}

static void sender_on_timer(struct timer *t, void *arg);
static void sender_on_deadline(struct timer *t, void *arg);
static void sender_on_stats(struct timer *t, void *arg);
static void sender_send(struct sender *s);

/* --- holds ----------------------------------------------------------- */

/* The hold of account index i, created (not holding) if missing. */
static struct sender_hold *
sender_hold(struct sender *s, size_t i)
{
	if (i >= s->n_holds) {
		s->holds = xreallocarray(s->holds, i + 1, sizeof(*s->holds));
		memset(&s->holds[s->n_holds], 0,
		    (i + 1 - s->n_holds) * sizeof(*s->holds));
		s->n_holds = i + 1;
	}
	return &s->holds[i];
}

static int64_t
sender_held_until(const struct sender *s, size_t i)
{
	return i < s->n_holds ? s->holds[i].until_ms : 0;
}

/* --- construction ---------------------------------------------------- */

static int
sender_http_request(void *arg, const char *method, const char *path,
    const char *body, size_t body_len, http_cb *cb, void *cb_arg)
{
	return backend_request(arg, method, path, body, body_len, cb, cb_arg);
}

static struct sender *
sender_alloc(void)
{
	struct sender *s;

	s = xcalloc(1, sizeof(*s));
	sender_config_defaults(&s->cfg);
	s->bis = bisect_new();
	timer_init(&s->timer, sender_on_timer, s);
	timer_init(&s->deadline_timer, sender_on_deadline, s);
	timer_init(&s->stats_timer, sender_on_stats, s);
	return s;
}

static void
sender_on_spool_record(const struct spool_record *r, uint32_t seg, void *arg)
{
	struct sender *s = arg;
	struct value it;
	double age_s = timer_wall_s() - r->t;

	if (age_s < 0)
		age_s = 0;
	if (age_s > 1e9)
		age_s = 1e9;
	it.path = xstrdup(r->path);
	it.v = r->v;
	it.t = r->t;
	it.enq_ms = timer_now_ms() - (int64_t)(age_s * 1000);
	it.seg = seg;
	it.rec = r->rec;
	sendq_push(s->q, sendq_index(s->q, r->account_id), &it);
	s->c.queued++;
	s->c.spooled_in++;
	/* Within the buffer's bounds all along: the oldest go first. */
	(void)sendq_enforce_limits(s->q);
}

struct sender *
sender_backend_new(struct backend *b, const struct sender_config *c)
{
	struct sender *s = sender_alloc();
	char err[BOT_ERRLEN];

	s->b = b;
	s->loop = backend_loop(b);
	s->cfg = *c;
	s->cfg.spool_dir = NULL;
	if (s->cfg.max_batch_values < 1)
		s->cfg.max_batch_values = 1;
	if (s->cfg.max_in_flight < 1)
		s->cfg.max_in_flight = 1;
	if (s->cfg.max_batch_bytes < SENDER_MIN_BATCH_BYTES)
		s->cfg.max_batch_bytes = SENDER_MIN_BATCH_BYTES;
	s->batch_bytes = s->cfg.max_batch_bytes;
	s->slow_values = s->cfg.max_batch_values;
	s->q = sendq_new(s->cfg.max_buffer_values, s->cfg.max_buffer_bytes,
	    s->cfg.max_age_ms);
	s->request = sender_http_request;
	s->request_arg = b;
	sendgate_init(&s->g, s->cfg.retry_min_ms, s->cfg.retry_max_ms,
	    s->cfg.retry_after_max_ms);
	putpost_init(&s->pp, SENDER_PUT_RETRY_MS, s->cfg.post_max_age_ms);
	if (c->spool_dir != NULL) {
		struct sendq_drops d0, d1;

		s->spool = spool_open(c->spool_dir, c->spool_max_bytes, NULL,
		    NULL, err, sizeof(err));
		if (s->spool == NULL)
			fatalx("spool: %s", err);
		sendq_set_spool(s->q, s->spool);
		sendq_get_drops(s->q, &d0);
		spool_load(s->spool, sender_on_spool_record, s);
		sendq_get_drops(s->q, &d1);
		if (d1.full > d0.full)
			log_warnx(
			    "spool %s: %llu of the values loaded dropped, "
			    "oldest first, to stay within the buffer bound "
			    "(%zu bytes, %zu values; 0 = none)",
			    c->spool_dir,
			    (unsigned long long)(d1.full - d0.full),
			    s->cfg.max_buffer_bytes, s->cfg.max_buffer_values);
		if (sendq_values(s->q) > 0) {
			(void)sendq_expire(s->q, timer_now_ms());
			(void)sendq_enforce_limits(s->q);
			loop_timer_start(s->loop, &s->timer, 0);
		}
	}
	if (s->cfg.stats_interval_ms > 0)
		loop_timer_start(
		    s->loop, &s->stats_timer, s->cfg.stats_interval_ms);
	return s;
}

struct sender *
sender_stdout_new(FILE *out)
{
	struct sender *s = sender_alloc();

	s->out = out;
	s->q = sendq_new(0, 0, 0); /* stays empty: values go to out */
	return s;
}

void
sender_set_transport(struct sender *s, sender_request_fn *fn, void *arg)
{
	s->request = fn;
	s->request_arg = arg;
}

static void
sender_batch_free(struct sender_batch *bt)
{
	sendq_items_free(bt->items, bt->n);
	bisect_half_release(&bt->half);
	free(bt);
}

void
sender_free(struct sender *s)
{
	struct sender_batch *bt;

	if (s == NULL)
		return;
	if (s->loop != NULL) {
		loop_timer_stop(s->loop, &s->timer);
		loop_timer_stop(s->loop, &s->deadline_timer);
		loop_timer_stop(s->loop, &s->stats_timer);
	}
	/* Nothing here is released from the spool: what was not delivered
	 * stays there for the next start. */
	sendq_free(s->q);
	free(s->holds);
	bisect_free(s->bis);
	while ((bt = s->batches) != NULL) {
		s->batches = bt->next;
		sender_batch_free(bt);
	}
	spool_close(s->spool);
	free(s);
}

size_t
sender_pending(const struct sender *s)
{
	return sendq_values(s->q);
}

void
sender_get_counters(const struct sender *s, struct sender_counters *c)
{
	struct sendq_drops d;

	/* The drop counts live in the buffer. */
	*c = s->c;
	sendq_get_drops(s->q, &d);
	c->dropped = d.total;
	c->dropped_full = d.full;
	c->dropped_old = d.old;
	c->dropped_refused = d.refused;
	c->dropped_stale = d.stale;
}

/* --- putting values in ----------------------------------------------- */

static void
sender_print(struct sender *s, struct values *vs)
{
	char num[40], when[40];
	double last_t = -1;
	size_t i;

	for (i = 0; i < vs->len; i++) {
		values_format_number(vs->items[i].v, num, sizeof(num));
		/* The values of a run mostly share their time. */
		if (i == 0 || vs->items[i].t != last_t) {
			last_t = vs->items[i].t;
			values_format_time(last_t, when, sizeof(when));
		}
		fprintf(s->out, "%s %s %s\n", vs->items[i].path, num, when);
	}
	fflush(s->out);
	s->c.queued += vs->len;
	s->c.sent += vs->len;
	values_release(vs);
}

/* Arms the one timer for at_ms unless it already fires earlier. */
static void
sender_wake(struct sender *s, int64_t at_ms)
{
	if (s->loop == NULL)
		return;
	if (timer_armed(&s->timer) && s->timer.deadline_ms <= at_ms)
		return;
	loop_timer_at(s->loop, &s->timer, at_ms);
}

void
sender_put(struct sender *s, struct values *vs)
{
	int64_t now;
	uint32_t seg = 0, rec = 0;
	size_t i, qi;

	if (vs->len == 0)
		return;
	if (s->out != NULL) {
		sender_print(s, vs);
		return;
	}
	now = timer_now_ms();
	qi = sendq_index(s->q, vs->account_id);
	if (s->spool != NULL) {
		for (i = 0; i < vs->len; i++)
			spool_add(s->spool, vs->account_id, vs->items[i].path,
			    vs->items[i].v, vs->items[i].t);
		seg = spool_commit(s->spool);
		rec = spool_commit_rec(s->spool);
	}
	for (i = 0; i < vs->len; i++) {
		/* The value, path and all, moves into the queue: no copy.
		 * values_add refused non-finite numbers and times outside
		 * (0, 1e10) already. */
		vs->items[i].enq_ms = now;
		vs->items[i].seg = seg;
		vs->items[i].rec = rec;
		rec += seg != 0;
		sendq_push(s->q, qi, &vs->items[i]);
	}
	s->c.queued += vs->len;
	free(vs->items);
	vs->items = NULL;
	vs->len = 0;
	vs->cap = 0;
	(void)sendq_enforce_limits(s->q);
	if (s->g.state == SENDGATE_OPEN)
		sender_wake(
		    s, s->g.flushing ? now : now + s->cfg.flush_delay_ms);
	else if (s->g.state != SENDGATE_CHECK && !s->g.probe_busy)
		sender_wake(s, s->g.retry_at_ms > now ? s->g.retry_at_ms : now);
}

/* --- requests -------------------------------------------------------- */

static void sender_on_answer(const struct http_response *res, void *arg);
static void sender_note_failure(struct sender *s, uint64_t epoch,
    const struct http_response *res, const char *why);

static void
sender_link(struct sender *s, struct sender_batch *bt)
{
	bt->prev = NULL;
	bt->next = s->batches;
	if (s->batches != NULL)
		s->batches->prev = bt;
	s->batches = bt;
	s->in_flight++;
}

static void
sender_unlink(struct sender *s, struct sender_batch *bt)
{
	if (bt->prev != NULL)
		bt->prev->next = bt->next;
	else
		s->batches = bt->next;
	if (bt->next != NULL)
		bt->next->prev = bt->prev;
	s->in_flight--;
}

/* Puts a batch's values back where they came from, for another try. */
static void
sender_requeue(struct sender *s, struct sender_batch *bt)
{
	s->c.retried += bt->n;
	if (bt->bisect) {
		bisect_rejoin(
		    s->bis, bt->account_id, bt->items, bt->n, &bt->half);
	} else {
		sendq_unshift(
		    s->q, sendq_index(s->q, bt->account_id), bt->items, bt->n);
		free(bt->items);
	}
	bt->items = NULL;
	bt->n = 0;
}

/* Starts the request for bt with body; -1 (bt's values back in place,
 * failure noted) when the transport cannot start it. */
static int
sender_start(struct sender *s, struct sender_batch *bt, struct buf *body)
{
	char path[64];
	const char *method = bt->post ? "POST" : "PUT";

	snprintf(path, sizeof(path), "accounts/%lld/values/",
	    (long long)bt->account_id);
	bt->s = s;
	bt->epoch = s->g.epoch;
	if (s->request(s->request_arg, method, path, body->data, body->len,
	        sender_on_answer, bt) == -1) {
		sender_requeue(s, bt);
		sender_batch_free(bt);
		sender_note_failure(
		    s, s->g.epoch, NULL, "cannot start a request");
		return -1;
	}
	if (bt->probe)
		s->g.probe_busy = 1;
	if (bt->put_trial)
		putpost_trial_started(&s->pp);
	s->c.batches++;
	sender_link(s, bt);
	log_debug("values: %s of %zu values to account %lld%s", method, bt->n,
	    (long long)bt->account_id,
	    bt->bisect ? " (bisecting a refused batch)" : "");
	return 0;
}

static void
sender_log_refused_value(struct sender *s, int64_t account_id,
    const struct value *it, const char *reason)
{
	char num[40];

	values_format_number(it->v, num, sizeof(num));
	log_warnx_limited(&s->bad_limit, SENDER_LOG_MS,
	    "values: account %lld: the backend refused %s = %s at %.6f, "
	    "value dropped: %s",
	    (long long)account_id, it->path, num, it->t, reason);
}

/* Sends the first half of a suspect (taken over); the other half waits in
 * the batch for the answer. */
static int
sender_start_bisect(struct sender *s, struct bisect_suspect *sus, int probe)
{
	struct sender_batch *bt;
	struct buf body;
	int rc;

	bt = xcalloc(1, sizeof(*bt));
	bt->account_id = sus->account_id;
	bt->bisect = 1;
	bt->probe = probe;
	bt->post = putpost_posting(&s->pp);
	bisect_split(sus, &bt->half);
	bt->items = sus->items;
	bt->n = sus->n;
	buf_init_text(&body);
	batch_encode(bt->items, bt->n, !bt->post, &body);
	rc = sender_start(s, bt, &body);
	buf_release(&body);
	return rc;
}

/* Takes the next batch of queue qi (oldest first) and starts it. */
static int
sender_start_queue(struct sender *s, size_t qi, int64_t now, int probe)
{
	struct sender_batch *bt;
	struct batch_spec spec;
	struct buf body;
	size_t stale;
	int rc;

	spec.wall_s = timer_wall_s();
	bt = xcalloc(1, sizeof(*bt));
	bt->account_id = sendq_account_id(s->q, qi);
	bt->probe = probe;
	switch (putpost_method(&s->pp, now)) {
	case PUTPOST_PUT:
		break;
	case PUTPOST_POST:
		bt->post = 1;
		break;
	case PUTPOST_TRIAL:
		bt->put_trial = 1; /* see whether PUT works again */
		break;
	}
	spec.max_values = s->slow_values < s->cfg.max_batch_values
	    ? s->slow_values
	    : s->cfg.max_batch_values;
	spec.max_bytes = s->batch_bytes;
	spec.post = bt->post;
	spec.post_max_age_ms = s->cfg.post_max_age_ms;
	spec.big_limit = &s->big_limit;
	buf_init_text(&body);
	bt->n = batch_take(s->q, qi, &spec, &body, &bt->items, &stale);
	if (stale > 0)
		log_warnx_limited(&s->stale_limit, SENDER_LOG_MS,
		    "values: account %lld: %zu values older than %lld s "
		    "dropped: POST cannot carry their measurement time",
		    (long long)bt->account_id, stale,
		    (long long)(s->cfg.post_max_age_ms / 1000));
	if (bt->n == 0) {
		buf_release(&body);
		sender_batch_free(bt);
		return -1;
	}
	rc = sender_start(s, bt, &body);
	buf_release(&body);
	return rc;
}

/* True while a batch of the account is being bisected. */
static int
sender_bisecting(const struct sender *s, int64_t account_id)
{
	const struct sender_batch *bt;

	if (bisect_has_account(s->bis, account_id))
		return 1;
	for (bt = s->batches; bt != NULL; bt = bt->next)
		if (bt->bisect && bt->account_id == account_id)
			return 1;
	return 0;
}

/* Starts one request: a suspect's half first, else the next account's
 * batch.  -1 when there is nothing to send or it could not start. */
static int
sender_start_one(struct sender *s, int64_t now, int probe)
{
	struct bisect_suspect sus;
	size_t i, n;

	while (bisect_pop(s->bis, &sus) == 0) {
		if (sus.n != 1)
			return sender_start_bisect(s, &sus, probe);
		/* A suspect of one value is the refused value: no need to
		 * ask. */
		sender_log_refused_value(
		    s, sus.account_id, &sus.items[0], sus.reason);
		sendq_drop(s->q, sus.items, 1, SENDQ_DROP_REFUSED);
		bisect_suspect_release(&sus);
	}
	n = sendq_accounts(s->q);
	for (i = 0; i < n; i++) {
		size_t qi = (s->rr + i) % n;
		size_t len = sendq_len(s->q, qi);

		if (len == 0 || sender_held_until(s, qi) > now)
			continue;
		/* The halves a bisection clears come back to the queue one
		 * by one: let them gather into one request, unless a full
		 * batch is waiting anyway. */
		if (len < s->cfg.max_batch_values &&
		    sender_bisecting(s, sendq_account_id(s->q, qi)))
			continue;
		s->rr = (s->rr + i + 1) % n;
		return sender_start_queue(s, qi, now, probe);
	}
	return -1;
}
/* --- the gate -------------------------------------------------------- */

/* Opens the gate. */
static void
sender_open(struct sender *s)
{
	sendgate_open(&s->g, sendq_values(s->q));
}

static void
sender_describe(
    const struct http_response *res, const char *why, char *out, size_t outlen)
{
	char ra[41];

	if (why != NULL) {
		snprintf(out, outlen, "%s", why);
	} else if (res->error != NULL) {
		snprintf(out, outlen, "%s", res->error);
	} else if (res->retry_after != NULL) {
		/* The header is the backend's: redacted before it is cut. */
		(void)log_sanitize(
		    res->retry_after, strlen(res->retry_after), ra, sizeof(ra));
		snprintf(
		    out, outlen, "HTTP %ld, Retry-After: %s", res->status, ra);
	} else {
		snprintf(out, outlen, "HTTP %ld", res->status);
	}
}

/* A request of bt->n values failed in transport (or with a proxy's 504)
 * after SENDER_SLOW_S or more: most likely a timeout while the backend
 * worked on it, so later requests carry at most half as many values
 * (rate-limited warning). */
static void
sender_slow_shrink(struct sender *s, const struct sender_batch *bt,
    const struct http_response *res)
{
	size_t want = bt->n / 2;

	if ((res->error == NULL && res->status != 504) ||
	    !(res->elapsed_s >= SENDER_SLOW_S) ||
	    bt->n <= SENDER_MIN_SLOW_VALUES)
		return;
	if (want < SENDER_MIN_SLOW_VALUES)
		want = SENDER_MIN_SLOW_VALUES;
	if (want >= s->slow_values)
		return;
	s->slow_values = want;
	log_warnx_limited(&s->slow_limit, SENDER_LOG_MS,
	    "values: a request of %zu values failed after %.1f s (%s); "
	    "sending at most %zu values per request until requests succeed "
	    "again",
	    bt->n, res->elapsed_s,
	    res->error != NULL ? res->error : "HTTP 504, the proxy's timeout",
	    want);
}

/* After a success the slow-failure limit grows back by an eighth. */
static void
sender_slow_regrow(struct sender *s)
{
	size_t max = s->cfg.max_batch_values;

	if (s->slow_values >= max)
		return;
	s->slow_values += s->slow_values / 8 > 0 ? s->slow_values / 8 : 1;
	if (s->slow_values >= max) {
		s->slow_values = max;
		log_info("values: requests carry up to %zu values again", max);
	}
}

/* A transport error, 5xx or 429 for a request of the given epoch. */
static void
sender_note_failure(struct sender *s, uint64_t epoch,
    const struct http_response *res, const char *why)
{
	const char *ra = res != NULL ? res->retry_after : NULL;
	char reason[300];
	int64_t delay;

	sender_describe(res, why, reason, sizeof(reason));
	if (epoch != s->g.epoch) {
		/* Sent before the gate last moved: it says nothing new,
		 * except that a Retry-After still binds. */
		sendgate_late_retry_after(&s->g, ra);
		log_debug("values: an older request failed (%s)", reason);
		return;
	}
	delay = sendgate_close(&s->g, SENDGATE_BACKOFF, ra);
	log_warnx_limited(&s->fail_limit, SENDER_LOG_MS,
	    "values: sending failed (%s); %zu values buffered, next attempt "
	    "in %.1f s",
	    reason, sendq_values(s->q), (double)delay / 1000.0);
	log_debug("values: attempt %u failed (%s); next in %lld ms",
	    s->g.bo.failures, reason, (long long)delay);
}

static void sender_on_check(const struct http_response *res, void *arg);

/* Asks GET profile/ whether the token still works. */
static void
sender_start_check(
    struct sender *s, enum sender_why why, long status, int64_t account_id)
{
	sendgate_check(&s->g);
	s->check_why = why;
	s->check_status = status;
	s->check_account = account_id;
	log_debug(
	    "values: HTTP %ld; checking the bot token with profile/", status);
	if (s->request(s->request_arg, "GET", "profile/", NULL, 0,
	        sender_on_check, s) == -1) {
		s->g.probe_busy = 0;
		sender_note_failure(
		    s, s->g.epoch, NULL, "cannot start a request");
	}
}

static void
sender_on_check(const struct http_response *res, void *arg)
{
	struct sender *s = arg;
	int64_t delay, now = timer_now_ms();
	struct sender_hold *h;
	char reason[300];
	size_t qi;

	s->g.probe_busy = 0;
	if (res->error == NULL && res->status >= 200 && res->status < 300) {
		switch (s->check_why) {
		case WHY_PUT_FORBIDDEN:
			putpost_forbidden(&s->pp, now);
			break;
		case WHY_REFUSED:
			qi = sendq_index(s->q, s->check_account);
			h = sender_hold(s, qi);
			h->until_ms = now + s->cfg.retry_max_ms;
			log_warnx_limited(&h->limit, SENDER_LOG_MS,
			    "values: account %lld: the backend refuses its "
			    "values (HTTP %ld) although the bot token works; "
			    "%zu values kept, retrying every %lld s",
			    (long long)s->check_account, s->check_status,
			    sendq_len(s->q, qi),
			    (long long)(s->cfg.retry_max_ms / 1000));
			break;
		case WHY_AUTH:
			if (now >= s->g.recovered_log_ms)
				log_info("values: the backend accepts the bot "
				         "token again");
			break;
		}
		sender_open(s);
	} else if (res->error == NULL &&
	    (res->status == 401 || res->status == 403)) {
		delay = sendgate_close(&s->g, SENDGATE_AUTH, NULL);
		log_warnx_limited(&s->auth_limit, SENDER_LOG_MS,
		    "values: backend rejected bot token (HTTP %ld); sending "
		    "paused with %zu values kept, checking again in %.0f s",
		    res->status, sendq_values(s->q), (double)delay / 1000.0);
	} else {
		/* The backend itself is failing: an ordinary outage. */
		sender_describe(res, NULL, reason, sizeof(reason));
		delay = sendgate_close(&s->g,
		    s->check_why == WHY_AUTH ? SENDGATE_AUTH : SENDGATE_BACKOFF,
		    res->retry_after);
		log_warnx_limited(&s->fail_limit, SENDER_LOG_MS,
		    "values: sending failed (profile/: %s); %zu values "
		    "buffered, next attempt in %.1f s",
		    reason, sendq_values(s->q), (double)delay / 1000.0);
	}
	sender_send(s);
}

/* --- answers --------------------------------------------------------- */

static enum sender_verdict
sender_classify(const struct http_response *res)
{
	long st = res->status;

	if (res->error != NULL || st == 0)
		return V_RETRY;
	if (st >= 200 && st < 300)
		return V_OK;
	if (st == 401 || st == 403)
		return V_AUTH;
	if (st == 400)
		return V_BAD;
	if (st == 413)
		return V_TOO_BIG;
	if (st == 408 || st == 425 || st == 429 || st >= 500 || st < 400)
		return V_RETRY;
	return V_REFUSED; /* 404, 405, 409, 422...: resending cannot help */
}

/* The answer body as one printable line: redacted, then cut. */
static char *
sender_body_text(const struct http_response *res)
{
	char text[SENDER_BODY_LOG_MAX + 1];
	size_t shown;

	shown = log_sanitize(res->body, res->body_len, text, sizeof(text));
	return xasprintf("HTTP %ld: %s%s", res->status, text,
	    shown < res->body_len ? "..." : "");
}

/* 400: the batch holds a value the backend refuses. */
static void
sender_on_bad(
    struct sender *s, struct sender_batch *bt, const struct http_response *res)
{
	char *body = sender_body_text(res);

	if (bt->n == 1) {
		sender_log_refused_value(
		    s, bt->account_id, &bt->items[0], body);
		sendq_drop(s->q, bt->items, 1, SENDQ_DROP_REFUSED);
	} else {
		log_debug("values: account %lld: %zu values refused (%s); "
		          "bisecting",
		    (long long)bt->account_id, bt->n, body);
		bisect_push(s->bis, bt->account_id, bt->items, bt->n, body);
		bt->items = NULL;
	}
	bt->n = 0;
	if (bt->bisect) {
		/* The other half is innocent until it fails on its own. */
		sendq_unshift(s->q, sendq_index(s->q, bt->account_id),
		    bt->half.rest, bt->half.n_rest);
		free(bt->half.rest);
		bt->half.rest = NULL;
		bt->half.n_rest = 0;
	}
	free(body);
}

/* 413: smaller requests, down to the smallest size; then like a 5xx.  A
 * value refused alone can never be sent: dropped, as 400 does. */
static void
sender_on_too_big(struct sender *s, struct sender_batch *bt,
    const struct http_response *res, int current)
{
	char *body;

	if (bt->n + bt->half.n_rest == 1) {
		body = sender_body_text(res);
		sender_log_refused_value(
		    s, bt->account_id, &bt->items[0], body);
		free(body);
		sendq_drop(s->q, bt->items, bt->n, SENDQ_DROP_REFUSED);
		bt->n = 0;
	} else if (s->batch_bytes / 2 >= SENDER_MIN_BATCH_BYTES) {
		s->batch_bytes /= 2;
		log_warnx_limited(&s->big_limit, SENDER_LOG_MS,
		    "values: HTTP 413, the backend takes smaller requests; "
		    "now at most %zu bytes",
		    s->batch_bytes);
		sender_requeue(s, bt);
	} else {
		/* Already as small as requests get: resending at once would
		 * loop, so wait like after a 5xx. */
		sender_requeue(s, bt);
		sender_note_failure(
		    s, bt->epoch, res, "HTTP 413 for the smallest requests");
		return;
	}
	if (s->g.state == SENDGATE_BACKOFF && current)
		sender_open(s);
}

static void
sender_on_answer(const struct http_response *res, void *arg)
{
	struct sender_batch *bt = arg;
	struct sender *s = bt->s;
	enum sender_verdict v = sender_classify(res);
	int current = bt->epoch == s->g.epoch;
	char *body;

	sender_unlink(s, bt);
	backend_check_answer(s->b, res);
	if (bt->probe)
		s->g.probe_busy = 0;
	if (v != V_OK)
		s->c.failed++;
	if (bt->put_trial) {
		putpost_trial_answered(&s->pp, v == V_OK, timer_now_ms());
		if (v == V_AUTH && res->status == 403) {
			/* Still refused: no need to check the token. */
			sender_requeue(s, bt);
			goto out;
		}
	}
	switch (v) {
	case V_OK:
		sender_slow_regrow(s);
		s->c.sent += bt->n;
		sendq_done(s->q, bt->items, bt->n);
		if (bt->bisect) {
			/* The sent half was clean: the other one holds the
			 * refused value. */
			bisect_clear(s->bis, bt->account_id, &bt->half);
		}
		if (s->g.state != SENDGATE_OPEN && current)
			sender_open(s);
		break;
	case V_RETRY:
		if (current)
			sender_slow_shrink(s, bt, res);
		sender_requeue(s, bt);
		sender_note_failure(s, bt->epoch, res, NULL);
		break;
	case V_AUTH:
		sender_requeue(s, bt);
		if (current)
			sender_start_check(s,
			    !bt->post && res->status == 403 ? WHY_PUT_FORBIDDEN
			                                    : WHY_REFUSED,
			    res->status, bt->account_id);
		break;
	case V_BAD:
		sender_on_bad(s, bt, res);
		if (s->g.state == SENDGATE_BACKOFF && current)
			sender_open(s);
		break;
	case V_TOO_BIG:
		sender_on_too_big(s, bt, res, current);
		break;
	case V_REFUSED:
		body = sender_body_text(res);
		log_warnx_limited(&s->refused_limit, SENDER_LOG_MS,
		    "values: account %lld: %zu values refused (%s); dropped",
		    (long long)bt->account_id, bt->n, body);
		free(body);
		sendq_drop(s->q, bt->items, bt->n, SENDQ_DROP_REFUSED);
		bt->n = 0;
		if (bt->bisect)
			bisect_clear(s->bis, bt->account_id, &bt->half);
		break;
	}
out:
	sender_batch_free(bt);
	sender_send(s);
}

/* --- the pump -------------------------------------------------------- */

static void
sender_check_flushed(struct sender *s)
{
	sender_flushed_cb *cb = s->flushed_cb;

	if (cb == NULL || sendq_values(s->q) > 0)
		return;
	s->flushed_cb = NULL;
	loop_timer_stop(s->loop, &s->deadline_timer);
	log_info("values: shutdown: everything delivered");
	cb(s->flushed_arg);
}

/* Arms the timer for the next thing that waits on time. */
static void
sender_rearm(struct sender *s, int64_t now)
{
	int64_t at = INT64_MAX;
	size_t i;

	if (s->g.state == SENDGATE_OPEN) {
		for (i = 0; i < s->n_holds; i++)
			if (sendq_len(s->q, i) > 0 &&
			    s->holds[i].until_ms > now &&
			    s->holds[i].until_ms < at)
				at = s->holds[i].until_ms;
	} else if (s->g.state != SENDGATE_CHECK && !s->g.probe_busy &&
	    sendq_values(s->q) > 0) {
		at = s->g.retry_at_ms > now ? s->g.retry_at_ms : now;
	}
	if (at != INT64_MAX)
		sender_wake(s, at);
}

static void
sender_send(struct sender *s)
{
	int64_t now = timer_now_ms();

	if (s->loop == NULL)
		return;
	(void)sendq_expire(s->q, now);
	switch (s->g.state) {
	case SENDGATE_OPEN:
		while (s->g.state == SENDGATE_OPEN &&
		    s->in_flight < s->cfg.max_in_flight &&
		    sender_start_one(s, now, 0) == 0)
			;
		break;
	case SENDGATE_BACKOFF:
		/* One probe at a time, and only when its time has come. */
		if (sendgate_probe_due(&s->g, now))
			(void)sender_start_one(s, now, 1);
		break;
	case SENDGATE_AUTH:
		if (sendgate_probe_due(&s->g, now) && sendq_values(s->q) > 0)
			sender_start_check(s, WHY_AUTH, 0, 0);
		break;
	case SENDGATE_CHECK:
		break;
	}
	sender_rearm(s, now);
	sender_check_flushed(s);
}

static void
sender_on_timer(struct timer *t, void *arg)
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
	if (sendq_values(s->q) > 0) {
		/* What is on disk, not what is in memory: values that
		 * found the spool full are not there. */
		if (s->spool != NULL &&
		    spool_pending(s->spool) >= sendq_values(s->q))
			log_warnx("values: shutdown: %zu values not delivered "
			          "in time; they stay in the spool %s for the "
			          "next start",
			    sendq_values(s->q), spool_dir(s->spool));
		else if (s->spool != NULL)
			log_warnx(
			    "values: shutdown: %zu values not delivered "
			    "in time; %llu of them stay in the spool %s "
			    "for the next start, %llu (the spool was full) "
			    "are lost",
			    sendq_values(s->q),
			    (unsigned long long)spool_pending(s->spool),
			    spool_dir(s->spool),
			    (unsigned long long)(sendq_values(s->q) -
			        spool_pending(s->spool)));
		else
			log_warnx("values: shutdown: %zu values not delivered "
			          "in time; they are lost",
			    sendq_values(s->q));
	}
	if (cb != NULL)
		cb(s->flushed_arg);
}

void
sender_flush(
    struct sender *s, int64_t deadline_ms, sender_flushed_cb *cb, void *arg)
{
	int64_t now;
	size_t i;

	s->flushed_cb = cb;
	s->flushed_arg = arg;
	if (s->loop == NULL) {
		s->flushed_cb = NULL;
		cb(arg);
		return;
	}
	now = timer_now_ms();
	loop_timer_at(s->loop, &s->deadline_timer, deadline_ms);
	for (i = 0; i < s->n_holds; i++)
		s->holds[i].until_ms = 0;
	/* Cut a backoff wait short; a Retry-After still binds. */
	sendgate_flush(&s->g, now);
	sender_send(s);
}

/* --- counters -------------------------------------------------------- */

static void
sender_on_stats(struct timer *t, void *arg)
{
	struct sender *s = arg;
	struct sender_counters now;

	sender_get_counters(s, &now);
	sendstats_log_period(&now, &s->c_last, s->cfg.stats_interval_ms,
	    sendq_values(s->q), sendq_bytes(s->q));
	s->c_last = now;
	loop_timer_start(s->loop, t, s->cfg.stats_interval_ms);
}

void
sender_log_totals(const struct sender *s)
{
	struct sender_counters tot;

	sender_get_counters(s, &tot);
	sendstats_log_totals(&tot, sendq_values(s->q),
	    s->spool != NULL ? spool_dir(s->spool) : NULL,
	    s->spool != NULL ? spool_pending(s->spool) : 0);
}
