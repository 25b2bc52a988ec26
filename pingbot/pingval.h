/*
 * Ping results to value paths: the official entity.<id>.ping.p<i>.ok,
 * .p<i>.rtt and .success, plus our .rtt.min/.avg/.max/.stddev.
 */
#ifndef BOT_PINGVAL_H
#define BOT_PINGVAL_H

#include <stddef.h>
#include <stdint.h>

/* "entity." + 19 digits + ".ping.p99.rtt" fits with room to spare. */
#define PINGVAL_PATHLEN 64
/* Values for n packets: ok and rtt each, success, four statistics. */
#define PINGVAL_MAX(n) (2 * (size_t)(n) + 5)

/* One packet (round) of one target. */
struct pingval_packet {
	int ok;       /* 1 when a matching reply came back in time */
	double rtt_s; /* round-trip time, meaningful when ok */
	double t;     /* Unix seconds when the round was sent */
};

struct pingval {
	char path[PINGVAL_PATHLEN];
	double v;
	double t; /* Unix seconds */
};

struct pingval_stats {
	size_t sent;
	size_t answered;
	double min_s, avg_s, max_s, stddev_s; /* valid when answered > 0 */
};

/* Summarises n packets (borrowed); stddev is the population one. */
void pingval_stats(
    const struct pingval_packet *pk, size_t n, struct pingval_stats *st);

/* Writes the values of one run of entity_id into out, which must hold
 * PINGVAL_MAX(n) items: p<i>.ok for every packet, p<i>.rtt for answered
 * ones (stamped with their round's time), success, and the rtt statistics
 * when at least one packet was answered (stamped with the first round's
 * time).  Returns how many values were written; 0 when n is 0. */
size_t pingval_build(int64_t entity_id, const struct pingval_packet *pk,
    size_t n, struct pingval *out);

#endif
