/*
 * The set of outputs.  Values are copied to every output but the last one,
 * which takes them over, so a single output costs no copy.
 */
#include "output.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graphite.h"
#include "promexp.h"
#include "sender.h"
#include "values.h"
#include "xmalloc.h"

struct output_sink {
	enum output_kind kind;
	char label[300]; /* senders: what the start-up line calls them */
	struct sender *sender;
	struct graphite *graphite;
	struct promexp *promexp;
};

struct output {
	struct output_sink sinks[OUTPUT_MAX];
	size_t n;
	size_t n_waiting; /* flushes not finished yet */
	output_flushed_cb *flushed_cb;
	void *flushed_arg;
	char describe[512];
};

/* Splits "host[:port]" / "[v6]:port" into spec->host and spec->port. */
static int
output_parse_hostport(const char *s, struct output_spec *spec,
    const char *def_port, char *err, size_t errlen)
{
	const char *colon, *host = s, *end;
	size_t hlen;
	char *pe;
	long port;

	if (*s == '[') {
		end = strchr(s, ']');
		if (end == NULL) {
			snprintf(
			    err, errlen, "missing ']' after an IPv6 address");
			return -1;
		}
		host = s + 1;
		hlen = (size_t)(end - host);
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] != '\0' && colon == NULL) {
			snprintf(err, errlen, "unexpected text after ']'");
			return -1;
		}
	} else {
		colon = strrchr(s, ':');
		if (colon != NULL && strchr(s, ':') != colon) {
			snprintf(err, errlen,
			    "write an IPv6 address in brackets, e.g. "
			    "[::1]:2003");
			return -1;
		}
		hlen = colon != NULL ? (size_t)(colon - s) : strlen(s);
	}
	if (hlen >= sizeof(spec->host)) {
		snprintf(err, errlen, "host name too long");
		return -1;
	}
	memcpy(spec->host, host, hlen);
	spec->host[hlen] = '\0';
	if (colon == NULL) {
		if (def_port == NULL) {
			snprintf(err, errlen, "a port is required (\":PORT\")");
			return -1;
		}
		snprintf(spec->port, sizeof(spec->port), "%s", def_port);
		return 0;
	}
	port = strtol(colon + 1, &pe, 10);
	if (colon[1] == '\0' || *pe != '\0' || port < 1 || port > 65535) {
		snprintf(err, errlen, "port must be a number from 1 to 65535");
		return -1;
	}
	snprintf(spec->port, sizeof(spec->port), "%ld", port);
	return 0;
}

int
output_parse(
    const char *spec, struct output_spec *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (strcmp(spec, "grafolean") == 0 || strcmp(spec, "backend") == 0) {
		out->kind = OUTPUT_GRAFOLEAN;
		return 0;
	}
	if (strcmp(spec, "stdout") == 0) {
		out->kind = OUTPUT_STDOUT;
		return 0;
	}
	if (strncmp(spec, "graphite://", 11) == 0) {
		out->kind = OUTPUT_GRAPHITE;
		if (output_parse_hostport(
		        spec + 11, out, "2003", err, errlen) == -1)
			return -1;
		if (out->host[0] == '\0') {
			snprintf(err, errlen, "graphite:// needs a host");
			return -1;
		}
		return 0;
	}
	if (strncmp(spec, "prometheus://", 13) == 0) {
		out->kind = OUTPUT_PROMETHEUS;
		return output_parse_hostport(spec + 13, out, NULL, err, errlen);
	}
	snprintf(err, errlen,
	    "unknown output; use grafolean, stdout, "
	    "graphite://HOST[:PORT] or prometheus://[ADDR]:PORT");
	return -1;
}

struct output *
output_new(void)
{
	return xcalloc(1, sizeof(struct output));
}

static struct output_sink *
output_add(struct output *o, enum output_kind kind)
{
	struct output_sink *s;

	if (o->n == OUTPUT_MAX)
		abort(); /* bot.c allows at most OUTPUT_MAX */
	s = &o->sinks[o->n++];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	return s;
}

void
output_add_sender(struct output *o, enum output_kind kind, struct sender *snd,
    const char *label)
{
	struct output_sink *s = output_add(o, kind);

	s->sender = snd;
	snprintf(s->label, sizeof(s->label), "%s", label);
}

void
output_add_graphite(struct output *o, struct graphite *g)
{
	output_add(o, OUTPUT_GRAPHITE)->graphite = g;
}

void
output_add_promexp(struct output *o, struct promexp *p)
{
	output_add(o, OUTPUT_PROMETHEUS)->promexp = p;
}

void
output_free(struct output *o)
{
	size_t i;

	if (o == NULL)
		return;
	for (i = 0; i < o->n; i++) {
		sender_free(o->sinks[i].sender);
		graphite_free(o->sinks[i].graphite);
		promexp_free(o->sinks[i].promexp);
	}
	free(o);
}

void
output_put(struct output *o, struct values *vs)
{
	struct values copy;
	size_t i, k;

	for (i = 0; i < o->n; i++) {
		struct output_sink *s = &o->sinks[i];

		if (s->graphite != NULL)
			graphite_put(s->graphite, vs);
		else if (s->promexp != NULL)
			promexp_put(s->promexp, vs);
		else if (i + 1 == o->n)
			sender_put(s->sender, vs);
		else {
			values_init(&copy, vs->account_id);
			for (k = 0; k < vs->len; k++)
				values_add(&copy, vs->items[k].path,
				    vs->items[k].v, vs->items[k].t);
			sender_put(s->sender, &copy);
			values_release(&copy);
		}
	}
	/* Outputs that copied leave vs as it was: empty it. */
	values_release(vs);
	values_init(vs, vs->account_id);
}

static void
output_on_flushed(void *arg)
{
	struct output *o = arg;
	output_flushed_cb *cb;

	if (o->n_waiting > 0)
		o->n_waiting--;
	if (o->n_waiting > 0 || o->flushed_cb == NULL)
		return;
	cb = o->flushed_cb;
	o->flushed_cb = NULL;
	cb(o->flushed_arg);
}

void
output_flush(
    struct output *o, int64_t deadline_ms, output_flushed_cb *cb, void *arg)
{
	size_t i;

	o->flushed_cb = cb;
	o->flushed_arg = arg;
	/* One extra count, dropped below, so that outputs that are flushed
	 * at once cannot finish the whole flush before all have started. */
	o->n_waiting = 1;
	for (i = 0; i < o->n; i++) {
		struct output_sink *s = &o->sinks[i];

		if (s->sender != NULL) {
			o->n_waiting++;
			sender_flush(
			    s->sender, deadline_ms, output_on_flushed, o);
		} else if (s->graphite != NULL) {
			o->n_waiting++;
			graphite_flush(
			    s->graphite, deadline_ms, output_on_flushed, o);
		}
	}
	output_on_flushed(o);
}

size_t
output_pending(const struct output *o)
{
	size_t i, n = 0;

	for (i = 0; i < o->n; i++) {
		if (o->sinks[i].sender != NULL)
			n += sender_pending(o->sinks[i].sender);
		else if (o->sinks[i].graphite != NULL)
			n += graphite_pending(o->sinks[i].graphite);
	}
	return n;
}

void
output_log_totals(const struct output *o)
{
	size_t i;

	for (i = 0; i < o->n; i++) {
		if (o->sinks[i].sender != NULL)
			sender_log_totals(o->sinks[i].sender);
		else if (o->sinks[i].graphite != NULL)
			graphite_log_totals(o->sinks[i].graphite);
	}
}

const char *
output_describe(struct output *o)
{
	size_t i, len = 0;
	int n = 0;

	o->describe[0] = '\0';
	for (i = 0; i < o->n && n >= 0 && len < sizeof(o->describe); i++) {
		const struct output_sink *s = &o->sinks[i];
		const char *sep = i > 0 ? ", " : "";

		if (s->graphite != NULL)
			n = snprintf(o->describe + len,
			    sizeof(o->describe) - len, "%sgraphite %s", sep,
			    graphite_target(s->graphite));
		else if (s->promexp != NULL)
			n = snprintf(o->describe + len,
			    sizeof(o->describe) - len, "%sprometheus port %d",
			    sep, promexp_port(s->promexp));
		else
			n = snprintf(o->describe + len,
			    sizeof(o->describe) - len, "%s%s", sep, s->label);
		if (n > 0)
			len += (size_t)n;
	}
	return o->describe;
}

struct sender *
output_sender(const struct output *o)
{
	size_t i;

	for (i = 0; i < o->n; i++)
		if (o->sinks[i].kind == OUTPUT_GRAFOLEAN)
			return o->sinks[i].sender;
	return NULL;
}

struct graphite *
output_graphite(const struct output *o, size_t k)
{
	size_t i;

	for (i = 0; i < o->n; i++)
		if (o->sinks[i].graphite != NULL && k-- == 0)
			return o->sinks[i].graphite;
	return NULL;
}

struct promexp *
output_promexp(const struct output *o)
{
	size_t i;

	for (i = 0; i < o->n; i++)
		if (o->sinks[i].promexp != NULL)
			return o->sinks[i].promexp;
	return NULL;
}
