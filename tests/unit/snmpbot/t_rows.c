/*
 * Output paths, counter rates and row building: {$index} is the whole
 * index, {$N} slugged; Counter32 wrap versus reset, Counter64 above 2^63,
 * time steps; rows from the first walked OID, GET values shared, a row
 * with a missing or non-numeric value skipped alone, noSuch* values.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../snmpbot/expr.h"
#include "../../../snmpbot/snmpcol.h"
#include "../../../snmpbot/snmppath.h"
#include "../../../snmpbot/snmprows.h"
#include "../t.h"

T_TEST(path_expands_index_and_slugged_values)
{
	char err[256], out[256];
	struct snmppath *p =
	    snmppath_compile("if.{$index}.x{$2}y.{$1}", 2, err, sizeof(err));
	static const uint32_t idx[] = {2, 10, 0, 0, 1};
	const char *vals[2] = {"Port 1/0/24 (uplink)", "a b"};
	size_t lens[2] = {20, 3};

	T_ASSERT(p != NULL);
	T_EQ_INT(snmppath_uses(p, 1), 1);
	T_EQ_INT(snmppath_uses(p, 2), 1);
	T_ASSERT(
	    snmppath_expand(p, 42, idx, 5, vals, lens, out, sizeof(out)) > 0);
	T_EQ_STR(out, "entity.42.snmp.if.2.10.0.0.1.xa-by.Port-1-0-24-uplink");
	T_EQ_INT(snmppath_expand(p, 42, idx, 5, vals, lens, out, 20), -1);
	snmppath_free(p);

	T_ASSERT(snmppath_compile("a.{$3}", 2, err, sizeof(err)) == NULL);
	T_ASSERT(strstr(err, "{$3") != NULL);
	T_ASSERT(snmppath_compile("a.{$idx}", 2, err, sizeof(err)) == NULL);
	T_ASSERT(strstr(err, "unknown placeholder") != NULL);
	T_ASSERT(snmppath_compile("", 2, err, sizeof(err)) == NULL);
}

T_TEST(rate_counter32_wrap_and_reset)
{
	double r = 0;

	T_EQ_INT(snmprows_rate(1, 1000, 10, 7000, 70, &r), SNMPROWS_RATE_OK);
	T_EQ_DBL(r, 100, 1e-9);
	/* Near the top, then small: a wrap through 2^32. */
	T_EQ_INT(
	    snmprows_rate(1, 4294967000u, 0, 704, 10, &r), SNMPROWS_RATE_OK);
	T_EQ_DBL(r, 100, 1e-9);
	/* A small drop is a reset, not a wrap of almost 2^32. */
	T_EQ_INT(snmprows_rate(1, 5000, 0, 4000, 10, &r), SNMPROWS_RATE_RESET);
	T_EQ_INT(snmprows_rate(1, 3000000000u, 0, 2000000000u, 10, &r),
	    SNMPROWS_RATE_RESET);
	/* No time between samples. */
	T_EQ_INT(snmprows_rate(1, 1, 10, 2, 10, &r), SNMPROWS_RATE_BADTIME);
	T_EQ_INT(snmprows_rate(1, 1, 10, 2, 9, &r), SNMPROWS_RATE_BADTIME);
}

T_TEST(rate_counter64_unsigned_and_reset)
{
	double r = 0;
	uint64_t big = UINT64_C(0x8000000000000000) + 5;

	T_EQ_INT(snmprows_rate(0, big, 0, big + 2000, 2, &r), SNMPROWS_RATE_OK);
	T_EQ_DBL(r, 1000, 1e-9);
	T_EQ_INT(snmprows_rate(0, UINT64_MAX - 10, 0, 5, 1, &r),
	    SNMPROWS_RATE_RESET);
	T_EQ_INT(snmprows_rate(0, 100, 0, 10, 1, &r), SNMPROWS_RATE_RESET);
	T_EQ_INT(snmprows_rate(0, 100, 0.5, 100, 1.0, &r), SNMPROWS_RATE_OK);
	T_EQ_DBL(r, 0, 0);
}

/* Collected values of one build. */
struct t_rows_out {
	char paths[64][160];
	double v[64];
	double t[64];
	int n;
};

static void
t_rows_emit(void *arg, const char *path, double v, double t_s)
{
	struct t_rows_out *o = arg;

	if (o->n < 64) {
		snprintf(o->paths[o->n], sizeof(o->paths[0]), "%s", path);
		o->v[o->n] = v;
		o->t[o->n] = t_s;
		o->n++;
	}
}

static void
t_rows_str(struct snmpcol *c, uint32_t i, const char *s, double t)
{
	struct snmpcol_val v = {
	    .type = SNMPCOL_STRING, .str = s, .len = strlen(s), .t_s = t};

	snmpcol_add(c, &i, 1, &v);
}

static void
t_rows_num(
    struct snmpcol *c, uint32_t i, enum snmpcol_type type, uint64_t u, double t)
{
	struct snmpcol_val v = {
	    .type = type, .u = u, .i = (int64_t)u, .t_s = t};

	snmpcol_add(c, &i, 1, &v);
}

struct t_rows_sensor {
	struct expr *expr;
	struct snmppath *path;
	unsigned char walk[4];
	struct snmprows_sensor s;
};

static int
t_rows_sensor(struct t_rows_sensor *ts, int n, const char *walk,
    const char *expr, const char *path)
{
	char err[256];
	int j;

	for (j = 0; j < n; j++)
		ts->walk[j] = walk[j] == 'w';
	ts->expr = expr_compile(expr, n, err, sizeof(err));
	ts->path = snmppath_compile(path, n, err, sizeof(err));
	ts->s.n_oids = n;
	ts->s.walk = ts->walk;
	ts->s.expr = ts->expr;
	ts->s.path = ts->path;
	return ts->expr && ts->path ? 0 : -1;
}

static void
t_rows_sensor_free(struct t_rows_sensor *ts)
{
	expr_free(ts->expr);
	snmppath_free(ts->path);
}

T_TEST(rows_from_walk_with_counters_by_index)
{
	struct t_rows_sensor ts;
	struct snmpcol cur[2], prev[2];
	const struct snmpcol *pc[2] = {&cur[0], &cur[1]};
	const struct snmpcol *pp[2] = {&prev[0], &prev[1]};
	struct snmprows_stats st;
	struct t_rows_out o;
	int j;

	for (j = 0; j < 2; j++) {
		snmpcol_init(&cur[j]);
		snmpcol_init(&prev[j]);
	}
	T_EQ_INT(
	    t_rows_sensor(&ts, 2, "ww", "$2", "if.in-octets.{$index}.{$1}"), 0);
	/* Previous poll: rows 1, 2, 3 (row 3 gone now; rows matched by
	 * index, not position). */
	t_rows_str(&prev[0], 1, "lo", 100);
	t_rows_str(&prev[0], 2, "eth0", 100);
	t_rows_str(&prev[0], 3, "old", 100);
	t_rows_num(&prev[1], 1, SNMPCOL_COUNTER32, 1000, 100);
	t_rows_num(&prev[1], 2, SNMPCOL_COUNTER32, 4294967000u, 100);
	t_rows_num(&prev[1], 3, SNMPCOL_COUNTER32, 5, 100);

	t_rows_str(&cur[0], 1, "lo", 110);
	t_rows_str(&cur[0], 2, "eth0", 110);
	t_rows_str(&cur[0], 4, "new if/x", 110);
	t_rows_num(&cur[1], 1, SNMPCOL_COUNTER32, 3000, 110);
	t_rows_num(&cur[1], 2, SNMPCOL_COUNTER32, 704, 110);
	t_rows_num(&cur[1], 4, SNMPCOL_COUNTER32, 50, 110);

	memset(&o, 0, sizeof(o));
	snmprows_build(&ts.s, 7, pc, pp, 0, t_rows_emit, &o, &st);
	T_EQ_INT(st.rows, 3);
	T_EQ_INT(o.n, 2);
	T_EQ_STR(o.paths[0], "entity.7.snmp.if.in-octets.1.lo");
	T_EQ_DBL(o.v[0], 200, 1e-9);
	T_EQ_DBL(o.t[0], 110, 0);
	T_EQ_STR(o.paths[1], "entity.7.snmp.if.in-octets.2.eth0");
	T_EQ_DBL(o.v[1], 100, 1e-9);
	T_EQ_INT(st.first_sample, 1); /* row 4 is new */

	/* The first poll gives nothing; an agent restart neither. */
	memset(&o, 0, sizeof(o));
	snmprows_build(&ts.s, 7, pc, NULL, 0, t_rows_emit, &o, &st);
	T_EQ_INT(o.n, 0);
	T_EQ_INT(st.first_sample, 3);
	snmprows_build(&ts.s, 7, pc, pp, 1, t_rows_emit, &o, &st);
	T_EQ_INT(o.n, 0);
	T_EQ_INT(st.first_sample, 3);
	for (j = 0; j < 2; j++) {
		snmpcol_release(&cur[j]);
		snmpcol_release(&prev[j]);
	}
	t_rows_sensor_free(&ts);
}

T_TEST(rows_skip_missing_and_non_numeric_alone)
{
	struct t_rows_sensor ts;
	struct snmpcol cur[3];
	const struct snmpcol *pc[3] = {&cur[0], &cur[1], &cur[2]};
	struct snmprows_stats st;
	struct t_rows_out o;
	struct snmpcol_val none = {.type = SNMPCOL_NONE};
	uint32_t i5 = 5;
	int j;

	for (j = 0; j < 3; j++)
		snmpcol_init(&cur[j]);
	/* walk name, walk value, get divisor shared by every row */
	T_EQ_INT(
	    t_rows_sensor(&ts, 3, "wwg", "$2 / $3", "temp.{$index}.{$1}"), 0);
	t_rows_str(&cur[0], 1, "cpu", 5);
	t_rows_str(&cur[0], 2, "gpu", 5);
	t_rows_str(&cur[0], 3, "disk", 5);
	t_rows_str(&cur[0], 4, "board", 5);
	t_rows_str(&cur[0], 5, "fan", 5);
	t_rows_num(&cur[1], 1, SNMPCOL_UINT, 45000, 5);
	t_rows_str(&cur[1], 2, " 51000.5 ", 5); /* numeric text counts */
	t_rows_str(&cur[1], 3, "n/a", 5);       /* not a number */
	/* row 4: no value at all; row 5: noSuchInstance */
	snmpcol_add(&cur[1], &i5, 1, &none);
	t_rows_num(&cur[2], 0, SNMPCOL_INT, 1000, 5);
	cur[2].ents[0].idx_len = 0;

	memset(&o, 0, sizeof(o));
	snmprows_build(&ts.s, 9, pc, NULL, 0, t_rows_emit, &o, &st);
	T_EQ_INT(st.rows, 5);
	T_EQ_INT(o.n, 2);
	T_EQ_STR(o.paths[0], "entity.9.snmp.temp.1.cpu");
	T_EQ_DBL(o.v[0], 45, 1e-9);
	T_EQ_STR(o.paths[1], "entity.9.snmp.temp.2.gpu");
	T_EQ_DBL(o.v[1], 51.0005, 1e-9);
	T_EQ_INT(st.not_numeric, 1);
	T_EQ_INT(st.missing, 2);
	T_EQ_INT(st.first_oid, 2);

	/* A zero divisor skips every row's value, nothing else. */
	cur[2].ents[0].i = 0;
	memset(&o, 0, sizeof(o));
	snmprows_build(&ts.s, 9, pc, NULL, 0, t_rows_emit, &o, &st);
	T_EQ_INT(o.n, 0);
	T_EQ_INT(st.expr_skipped, 2);
	for (j = 0; j < 3; j++)
		snmpcol_release(&cur[j]);
	t_rows_sensor_free(&ts);
}

T_TEST(rows_get_only_and_refused_paths)
{
	struct t_rows_sensor ts;
	struct snmpcol cur[2];
	const struct snmpcol *pc[2] = {&cur[0], &cur[1]};
	struct snmprows_stats st;
	struct t_rows_out o;
	int j;

	for (j = 0; j < 2; j++)
		snmpcol_init(&cur[j]);
	T_EQ_INT(t_rows_sensor(&ts, 2, "gg", "$1 * 2 + $2", "sys.uptime"), 0);
	t_rows_num(&cur[0], 0, SNMPCOL_UINT, 100, 3);
	t_rows_num(&cur[1], 0, SNMPCOL_INT, 1, 3);
	cur[0].ents[0].idx_len = cur[1].ents[0].idx_len = 0;
	memset(&o, 0, sizeof(o));
	snmprows_build(&ts.s, 1, pc, NULL, 0, t_rows_emit, &o, &st);
	T_EQ_INT(o.n, 1);
	T_EQ_STR(o.paths[0], "entity.1.snmp.sys.uptime");
	T_EQ_DBL(o.v[0], 201, 0);
	t_rows_sensor_free(&ts);

	/* {$index} of a GET-only sensor is "0", the official bot's dummy
	 * index (its dashboards are keyed by that path). */
	T_EQ_INT(t_rows_sensor(&ts, 2, "gg", "$1", "sys.{$index}.{$2}"), 0);
	memset(&o, 0, sizeof(o));
	snmprows_build(&ts.s, 1, pc, NULL, 0, t_rows_emit, &o, &st);
	T_EQ_INT(o.n, 1);
	T_EQ_INT(st.bad_path, 0);
	T_EQ_STR(o.paths[0], "entity.1.snmp.sys.0.1");
	t_rows_sensor_free(&ts);

	/* A literal the backend refuses: the path is dropped, not sent. */
	T_EQ_INT(t_rows_sensor(&ts, 2, "gg", "$1", "sys..x"), 0);
	memset(&o, 0, sizeof(o));
	snmprows_build(&ts.s, 1, pc, NULL, 0, t_rows_emit, &o, &st);
	T_EQ_INT(o.n, 0);
	T_EQ_INT(st.bad_path, 1);
	T_EQ_STR(st.first_path, "entity.1.snmp.sys..x");
	t_rows_sensor_free(&ts);
	for (j = 0; j < 2; j++)
		snmpcol_release(&cur[j]);
}
