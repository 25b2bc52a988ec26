/*
 * libFuzzer target for a whole job refresh: jobfetch.c asks for accounts,
 * entity lists, credentials and sensors, and every answer comes from the
 * fuzz input.  http.c is replaced by a link-time fake that queues the
 * requests; the input is split at NUL bytes into one answer per request,
 * whose first byte picks the outcome (200, 404, 500, 401 or a transport
 * error).  The work jobfetch does on loop timers runs between answers. Whatever
 * the backend says, the refresh must finish, once, without crashing, leaking or
 * looping.  Each input is served three times: to a plain refresh, then to
 * two refreshes with JOBFETCH_REUSE whose jobs go to a scheduler, so the
 * second one gives the jobs of unchanged entities again.
 */
// fuzz-exclude: common/http.c
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "http.h"
#include "jobfetch.h"
#include "jobs.h"
#include "log.h"
#include "loop.h"
#include "sched.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_QUEUE 4096

struct fuzz_req {
	http_cb *cb;
	void *arg;
};

static struct fuzz_req fuzz_q[FUZZ_QUEUE];
static size_t fuzz_head, fuzz_tail;

void
http_config_defaults(struct http_config *c)
{
	memset(c, 0, sizeof(*c));
}

struct http *
http_new(struct loop *l, const struct http_config *c)
{
	(void)l;
	(void)c;
	return NULL;
}

void
http_free(struct http *h)
{
	(void)h;
}

int
http_request(struct http *h, const char *method, const char *url,
    const char *body, size_t body_len, const char *content_type, http_cb *cb,
    void *arg)
{
	(void)h;
	(void)method;
	(void)url;
	(void)body;
	(void)body_len;
	(void)content_type;
	if (fuzz_tail - fuzz_head == FUZZ_QUEUE)
		return -1;
	fuzz_q[fuzz_tail % FUZZ_QUEUE].cb = cb;
	fuzz_q[fuzz_tail % FUZZ_QUEUE].arg = arg;
	fuzz_tail++;
	return 0;
}

size_t
http_cancel(struct http *h, http_cb *cb, void *arg)
{
	(void)h;
	(void)cb;
	(void)arg;
	return 0; /* jobfetch never cancels */
}

size_t
http_pending(const struct http *h)
{
	(void)h;
	return fuzz_tail - fuzz_head;
}

static int fuzz_done;
static struct loop *fuzz_loop;
static struct sched *fuzz_sched; /* NULL: updates are dropped */

static void
fuzz_run(struct job *job, const int *due_s, size_t n_due, void *arg)
{
	(void)due_s;
	(void)n_due;
	(void)arg;
	sched_done(fuzz_sched, job);
}

static void
fuzz_fetched(struct job_update *u, int ok, void *arg)
{
	(void)arg;
	fuzz_done++;
	if (ok && fuzz_sched != NULL)
		sched_apply(fuzz_sched, u, NULL);
	job_update_release(u);
}

/* One refresh (jobfetch_start flags) answered from the input. */
static void
fuzz_refresh(const uint8_t *data, size_t size, unsigned flags)
{
	static const long codes[] = {200, 200, 200, 200, 404, 500, 401, 0};
	struct backend *b;
	size_t pos = 0;

	fuzz_head = fuzz_tail = 0;
	fuzz_done = 0;
	b = backend_new(fuzz_loop, NULL, "http://fuzz/api",
	    "01234567-89ab-cdef-0123-456789abcdef");
	if (jobfetch_start(b, "ping", flags, fuzz_fetched, NULL) == -1)
		abort();
	for (;;) {
		struct fuzz_req r;
		struct http_response res;
		const uint8_t *end;
		size_t len = 0;
		char *body;

		/* jobfetch parses and builds on zero-delay loop timers. */
		while (loop_run_timers(fuzz_loop) > 0)
			;
		if (fuzz_head == fuzz_tail)
			break;
		r = fuzz_q[fuzz_head % FUZZ_QUEUE];
		fuzz_head++;
		memset(&res, 0, sizeof(res));
		if (pos < size) {
			end = memchr(data + pos, 0, size - pos);
			len = end ? (size_t)(end - (data + pos)) : size - pos;
		}
		body = malloc(len + 1);
		if (body == NULL)
			abort();
		if (len > 0)
			memcpy(body, data + pos + 1, len - 1);
		body[len > 0 ? len - 1 : 0] = '\0';
		res.status = len > 0 ? codes[data[pos] % 8] : 0;
		if (res.status == 0)
			res.error = "connection refused";
		res.body = body;
		res.body_len = len > 0 ? len - 1 : 0;
		pos += len + 1;
		r.cb(&res, r.arg);
		free(body);
	}
	if (fuzz_done != 1)
		abort();
	backend_free(b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	log_init("fuzz", LOG_LEVEL_NONE);
	if (fuzz_loop == NULL)
		fuzz_loop = loop_new();
	fuzz_refresh(data, size, 0);
	fuzz_sched = sched_new(fuzz_loop, fuzz_run, NULL, 3600000);
	fuzz_refresh(data, size, JOBFETCH_REUSE);
	fuzz_refresh(data, size, JOBFETCH_REUSE);
	sched_free(fuzz_sched);
	fuzz_sched = NULL;
	jobfetch_forget();
	return 0;
}
