/*
 * Value paths as Prometheus series: a metric name plus labels taken from
 * the parts of the path that name an entity, a packet, an index, an
 * interface, an address or a port.  The table of rules is in README.md
 * ("Outputs"); in short, entity.E.ping.p3.rtt becomes
 * grafolean_ping_packet_rtt_seconds{entity="E",packet="3"}.
 */
#ifndef BOT_METRICNAME_H
#define BOT_METRICNAME_H

#include <stddef.h>

#include "attrs.h"
#include "path.h"

#define METRIC_MAX_LABELS 6
#define METRIC_NAME_MAX   256

struct metric_label {
	const char *name; /* a static string */
	char value[PATH_MAX_LEN + 1];
};

struct metric {
	char name[METRIC_NAME_MAX];
	size_t n_labels;
	struct metric_label labels[METRIC_MAX_LABELS];
};

/* Maps a value path (borrowed) into *m (caller-owned).  Returns 0, or -1
 * when path is not a valid value path (path_valid). */
int metricname_map(const char *path, struct metric *m) BOT_WUR;

/* Writes the series text 'name{a="x",b="y"}' (just 'name' without
 * labels; label values escaped as the exposition format says) into out.
 * Returns its length, or -1 when out is too small. */
int metricname_series(const struct metric *m, char *out, size_t outlen) BOT_WUR;

#endif
