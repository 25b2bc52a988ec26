/*
 * Where values go: one or more outputs chosen with --output (repeatable)
 * or OUTPUTS.  Grafolean (the backend sender), stdout (Graphite plaintext
 * lines), Graphite over TCP and a Prometheus endpoint; every run's values
 * are copied to each.  Each output buffers and retries on its own, so a
 * slow or failed one never holds up another or the polling.
 */
#ifndef BOT_OUTPUT_H
#define BOT_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

#include "attrs.h"

struct graphite;
struct output;
struct promexp;
struct sender;
struct values;

enum output_kind {
	OUTPUT_GRAFOLEAN,  /* "grafolean" (or "backend") */
	OUTPUT_STDOUT,     /* "stdout" */
	OUTPUT_GRAPHITE,   /* "graphite://host[:port]" (port 2003) */
	OUTPUT_PROMETHEUS, /* "prometheus://[addr]:port" */
};

#define OUTPUT_HOST_MAX 256
/* Outputs one bot may have. */
#define OUTPUT_MAX 8

struct output_spec {
	enum output_kind kind;
	char host[OUTPUT_HOST_MAX]; /* graphite: name or address; prometheus:
	                               numeric address, "" for all */
	char port[8];
};

/* Parses one output (spec is borrowed) into *out.  -1 with err saying
 * what is wrong and what is accepted. */
int output_parse(const char *spec, struct output_spec *out, char *err,
    size_t errlen) BOT_WUR;

struct output *output_new(void);
/* Frees every output it holds (values still buffered are lost: call
 * output_log_totals first).  NULL is a no-op. */
void output_free(struct output *o);
/* Adds an output; o takes ownership (label is copied: what the start-up
 * line calls a sender; kind is OUTPUT_GRAFOLEAN or OUTPUT_STDOUT). */
void output_add_sender(struct output *o, enum output_kind kind,
    struct sender *s, const char *label);
void output_add_graphite(struct output *o, struct graphite *g);
void output_add_promexp(struct output *o, struct promexp *p);

/* Hands every value of vs to every output; vs is left empty (still
 * initialised). */
void output_put(struct output *o, struct values *vs);

typedef void output_flushed_cb(void *arg);
/* Flushes every output; cb runs once, later, when all are flushed or
 * their deadline_ms passed. */
void output_flush(
    struct output *o, int64_t deadline_ms, output_flushed_cb *cb, void *arg);
/* Values buffered by all outputs together. */
size_t output_pending(const struct output *o);
/* One line of totals per output (for the exit). */
void output_log_totals(const struct output *o);
/* The outputs as text for the start-up line ("grafolean, graphite
 * carbon:2003"; borrowed, valid until the next call). */
const char *output_describe(struct output *o);

/* The Grafolean sender, the i-th Graphite output and the Prometheus
 * output (borrowed), or NULL when there is none: for counters. */
struct sender *output_sender(const struct output *o);
struct graphite *output_graphite(const struct output *o, size_t i);
struct promexp *output_promexp(const struct output *o);

#endif
