/*
 * Path -> Prometheus series.  A path is split into its segments (at most
 * PATH_MAX_LEN characters, so at most 100 segments); the bot-specific
 * rules pick out labels, and whatever is left is named by the generic
 * rule: the leading non-numeric segments form the metric name, the
 * numeric run after them is "index" and the rest is "key".
 */
#include "metricname.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "path.h"

#define METRIC_MAX_SEGS (PATH_MAX_LEN / 2 + 1)

struct metric_path {
	char buf[PATH_MAX_LEN + 1];
	const char *seg[METRIC_MAX_SEGS];
	size_t n;
};

static void
metric_split(struct metric_path *p, const char *path)
{
	size_t len = strnlen(path, PATH_MAX_LEN);
	char *s, *dot;

	memcpy(p->buf, path, len);
	p->buf[len] = '\0';
	p->n = 0;
	s = p->buf;
	for (;;) {
		p->seg[p->n++] = s;
		dot = strchr(s, '.');
		if (dot == NULL)
			break;
		*dot = '\0';
		s = dot + 1;
	}
}

static int
metric_digits(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

/* Appends seg to the metric name: [a-z0-9_] kept (upper case lowered),
 * everything else ('-', an escape "%2e") becomes '_'. */
static void
metric_name_add(struct metric *m, const char *seg)
{
	size_t len = strlen(m->name);

	if (len > 0 && len + 1 < sizeof(m->name))
		m->name[len++] = '_';
	for (; *seg != '\0' && len + 1 < sizeof(m->name); seg++) {
		unsigned char c = (unsigned char)*seg;

		if (c == '%' && seg[1] != '\0' && seg[2] != '\0') {
			seg += 2;
			c = '_';
		} else if (isalnum(c)) {
			c = (unsigned char)tolower(c);
		} else {
			c = '_';
		}
		m->name[len++] = (char)c;
	}
	m->name[len] = '\0';
}

/* Joins segments [from, to) with '.', turning "%2e" and "%3a" back into
 * '.' and ':', as a label value. */
static void
metric_label_add(struct metric *m, const char *name,
    const struct metric_path *p, size_t from, size_t to)
{
	struct metric_label *l;
	size_t len = 0, i;
	const char *s;

	if (m->n_labels == METRIC_MAX_LABELS || from >= to)
		return;
	l = &m->labels[m->n_labels++];
	l->name = name;
	for (i = from; i < to; i++) {
		if (i > from && len + 1 < sizeof(l->value))
			l->value[len++] = '.';
		for (s = p->seg[i]; *s != '\0' && len + 1 < sizeof(l->value);
		     s++) {
			if (strncmp(s, "%2e", 3) == 0) {
				l->value[len++] = '.';
				s += 2;
			} else if (strncmp(s, "%3a", 3) == 0) {
				l->value[len++] = ':';
				s += 2;
			} else {
				l->value[len++] = *s;
			}
		}
	}
	l->value[len] = '\0';
}

/* The generic rule over segments [i, n) under the name prefix already in
 * m->name. */
static void
metric_generic(struct metric *m, const struct metric_path *p, size_t i)
{
	size_t start = i, idx;

	while (i < p->n && !metric_digits(p->seg[i]))
		metric_name_add(m, p->seg[i++]);
	if (i == start)
		metric_name_add(m, "value");
	idx = i;
	while (i < p->n && metric_digits(p->seg[i]))
		i++;
	metric_label_add(m, "index", p, idx, i);
	metric_label_add(m, "key", p, i, p->n);
}

static void
metric_ping(struct metric *m, const struct metric_path *p)
{
	const char *s3 = p->n > 3 ? p->seg[3] : "";

	if (p->n == 5 && s3[0] == 'p' && metric_digits(s3 + 1) &&
	    (strcmp(p->seg[4], "ok") == 0 || strcmp(p->seg[4], "rtt") == 0)) {
		snprintf(m->name, sizeof(m->name), "%s",
		    p->seg[4][0] == 'o' ? "grafolean_ping_packet_ok"
		                        : "grafolean_ping_packet_rtt_seconds");
		metric_label_add(m, "entity", p, 1, 2);
		if (m->n_labels < METRIC_MAX_LABELS) {
			m->labels[m->n_labels].name = "packet";
			snprintf(m->labels[m->n_labels].value,
			    sizeof(m->labels[0].value), "%s", s3 + 1);
			m->n_labels++;
		}
		return;
	}
	metric_label_add(m, "entity", p, 1, 2);
	if (p->n == 4 && strcmp(s3, "success") == 0) {
		snprintf(
		    m->name, sizeof(m->name), "grafolean_ping_success_ratio");
		return;
	}
	if (p->n == 5 && strcmp(s3, "rtt") == 0 && !metric_digits(p->seg[4])) {
		snprintf(m->name, sizeof(m->name), "grafolean_ping_rtt");
		metric_name_add(m, p->seg[4]);
		metric_name_add(m, "seconds");
		return;
	}
	snprintf(m->name, sizeof(m->name), "grafolean_ping");
	metric_generic(m, p, 3);
}

static void
metric_api(struct metric *m, const struct metric_path *p)
{
	static const char *const names[][2] = {
	    {"status", "grafolean_api_http_status"},
	    {"time", "grafolean_api_http_time_seconds"},
	    {"size", "grafolean_api_http_size_bytes"},
	    {"ok", "grafolean_api_http_ok"},
	};
	size_t i;

	metric_label_add(m, "entity", p, 1, 2);
	if (p->n == 6 && metric_digits(p->seg[3]) &&
	    strcmp(p->seg[4], "http") == 0) {
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			if (strcmp(p->seg[5], names[i][0]) == 0) {
				snprintf(m->name, sizeof(m->name), "%s",
				    names[i][1]);
				metric_label_add(m, "sensor", p, 3, 4);
				return;
			}
		}
	}
	snprintf(m->name, sizeof(m->name), "grafolean_api");
	metric_generic(m, p, 3);
}

static void
metric_netflow(struct metric *m, const struct metric_path *p)
{
	size_t i = 3;
	const char *top;

	metric_label_add(m, "window", p, 1, 2);
	metric_label_add(m, "direction", p, 2, 3);
	if (i + 1 < p->n && strcmp(p->seg[i], "entity") == 0) {
		metric_label_add(m, "entity", p, i + 1, i + 2);
		i += 2;
		if (i + 1 < p->n && strcmp(p->seg[i], "if") == 0) {
			metric_label_add(m, "interface", p, i + 1, i + 2);
			i += 2;
		}
	}
	if (i == p->n) {
		snprintf(m->name, sizeof(m->name), "grafolean_netflow_bytes");
		return;
	}
	top = p->seg[i];
	if (p->n == i + 2 && strcmp(top, "topip") == 0) {
		snprintf(
		    m->name, sizeof(m->name), "grafolean_netflow_top_ip_bytes");
		metric_label_add(m, "ip", p, i + 1, i + 2);
	} else if (p->n == i + 2 && strcmp(top, "topprotocol") == 0) {
		snprintf(m->name, sizeof(m->name),
		    "grafolean_netflow_top_protocol_bytes");
		metric_label_add(m, "protocol", p, i + 1, i + 2);
	} else if (p->n == i + 3 && strcmp(top, "topconn") == 0) {
		snprintf(m->name, sizeof(m->name),
		    "grafolean_netflow_top_connection_bytes");
		metric_label_add(m, "src", p, i + 1, i + 2);
		metric_label_add(m, "dst", p, i + 2, i + 3);
	} else if (p->n == i + 2 && strcmp(top, "topdstports") == 0) {
		snprintf(m->name, sizeof(m->name),
		    "grafolean_netflow_top_dst_port_bytes");
		metric_label_add(m, "port", p, i + 1, i + 2);
	} else {
		snprintf(m->name, sizeof(m->name), "grafolean_netflow");
		metric_generic(m, p, i);
	}
}

int
metricname_map(const char *path, struct metric *m)
{
	struct metric_path p;

	memset(m, 0, sizeof(*m));
	if (!path_valid(path))
		return -1;
	metric_split(&p, path);
	if (p.n >= 3 && strcmp(p.seg[0], "netflow") == 0) {
		metric_netflow(m, &p);
	} else if (p.n >= 4 && strcmp(p.seg[0], "entity") == 0 &&
	    metric_digits(p.seg[1])) {
		if (strcmp(p.seg[2], "ping") == 0) {
			metric_ping(m, &p);
		} else if (strcmp(p.seg[2], "api") == 0) {
			metric_api(m, &p);
		} else {
			snprintf(m->name, sizeof(m->name), "grafolean");
			metric_name_add(m, p.seg[2]);
			metric_label_add(m, "entity", &p, 1, 2);
			metric_generic(m, &p, 3);
		}
	} else {
		snprintf(m->name, sizeof(m->name), "grafolean");
		metric_generic(m, &p, 0);
	}
	return 0;
}

int
metricname_series(const struct metric *m, char *out, size_t outlen)
{
	size_t len, i;
	const char *s;
	int n;

	n = snprintf(out, outlen, "%s", m->name);
	if (n < 0 || (size_t)n >= outlen)
		return -1;
	len = (size_t)n;
	for (i = 0; i < m->n_labels; i++) {
		n = snprintf(out + len, outlen - len, "%s%s=\"",
		    i == 0 ? "{" : ",", m->labels[i].name);
		if (n < 0 || (size_t)n >= outlen - len)
			return -1;
		len += (size_t)n;
		for (s = m->labels[i].value; *s != '\0'; s++) {
			int esc = *s == '\\' || *s == '"' || *s == '\n';

			if (len + 3 >= outlen)
				return -1;
			if (esc)
				out[len++] = '\\';
			out[len++] = *s == '\n' ? 'n' : *s;
		}
		if (len + 2 >= outlen)
			return -1;
		out[len++] = '"';
		out[len] = '\0';
	}
	if (m->n_labels > 0) {
		if (len + 2 >= outlen)
			return -1;
		out[len++] = '}';
		out[len] = '\0';
	}
	return (int)len;
}
