/*
 * Row building (see snmprows.h).  Per row and OID the entry comes from
 * the walked column by binary search on the index, or is the GET
 * column's only entry.  Only the values the expression or the path use
 * are needed; others may be missing.  Values are stamped with the time
 * the answer holding the row's first walked value arrived.
 */
#include "snmprows.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "expr.h"
#include "path.h"
#include "snmppath.h"

#define SNMPROWS_MAX_OIDS 255
#define SNMPROWS_TEXTLEN  32

enum snmprows_rate_rc
snmprows_rate(int is32, uint64_t prev, double prev_t_s, uint64_t cur,
    double cur_t_s, double *rate)
{
	double dt = cur_t_s - prev_t_s;
	uint64_t delta;

	if (!(dt > 0) || !isfinite(dt))
		return SNMPROWS_RATE_BADTIME;
	if (is32) {
		prev &= 0xffffffffu;
		cur &= 0xffffffffu;
	}
	if (cur >= prev) {
		delta = cur - prev;
	} else if (is32 && prev - cur > UINT64_C(0x80000000)) {
		delta = cur + UINT64_C(0x100000000) - prev;
	} else {
		return SNMPROWS_RATE_RESET;
	}
	*rate = (double)delta / dt;
	return SNMPROWS_RATE_OK;
}

static const struct snmpcol_ent *
snmprows_entry(const struct snmprows_sensor *s,
    const struct snmpcol *const *cols, int j, const uint32_t *idx,
    size_t idx_len)
{
	if (cols[j] == NULL)
		return NULL;
	if (s->walk[j])
		return snmpcol_find(cols[j], idx, idx_len);
	return cols[j]->n > 0 ? &cols[j]->ents[0] : NULL;
}

/* One row; 0 when it gave a value. */
static void
snmprows_row(const struct snmprows_sensor *s, int64_t entity_id,
    const struct snmpcol *const *cur, const struct snmpcol *const *prev,
    int counters_reset, const uint32_t *idx, size_t idx_len, double t_s,
    snmprows_emit_fn *emit, void *arg, struct snmprows_stats *st)
{
	double vars[SNMPROWS_MAX_OIDS];
	const char *texts[SNMPROWS_MAX_OIDS];
	size_t lens[SNMPROWS_MAX_OIDS];
	char tbuf[SNMPROWS_MAX_OIDS][SNMPROWS_TEXTLEN];
	char path[PATH_MAX_LEN + 64];
	double v;
	int j;

	for (j = 0; j < s->n_oids; j++) {
		int need_num = expr_uses(s->expr, j + 1);
		int need_text = snmppath_uses(s->path, j + 1);
		const struct snmpcol_ent *e, *pe;

		vars[j] = 0;
		texts[j] = NULL;
		lens[j] = 0;
		if (!need_num && !need_text)
			continue;
		e = snmprows_entry(s, cur, j, idx, idx_len);
		if (e == NULL || e->type == SNMPCOL_NONE) {
			st->missing++;
			if (st->first_oid == 0)
				st->first_oid = j + 1;
			return;
		}
		if (need_text)
			lens[j] = snmpcol_text(
			    cur[j], e, tbuf[j], sizeof(tbuf[j]), &texts[j]);
		if (!need_num)
			continue;
		if (e->type == SNMPCOL_COUNTER32 ||
		    e->type == SNMPCOL_COUNTER64) {
			pe = prev == NULL || counters_reset
			    ? NULL
			    : snmprows_entry(s, prev, j, idx, idx_len);
			if (pe == NULL || pe->type != e->type) {
				st->first_sample++;
				return;
			}
			if (snmprows_rate(e->type == SNMPCOL_COUNTER32, pe->u,
			        pe->t_s, e->u, e->t_s,
			        &vars[j]) != SNMPROWS_RATE_OK) {
				st->reset++;
				return;
			}
		} else if (snmpcol_number(cur[j], e, &vars[j]) != 0) {
			st->not_numeric++;
			if (st->first_oid == 0)
				st->first_oid = j + 1;
			return;
		}
	}
	if (expr_eval(s->expr, vars, &v) != 0) {
		st->expr_skipped++;
		return;
	}
	if (snmppath_expand(s->path, entity_id, idx, idx_len, texts, lens, path,
	        sizeof(path)) < 0 ||
	    !path_valid(path)) {
		if (st->bad_path++ == 0)
			snprintf(st->first_path, sizeof(st->first_path),
			    "%.120s", path);
		return;
	}
	emit(arg, path, v, t_s);
	st->emitted++;
}

void
snmprows_build(const struct snmprows_sensor *s, int64_t entity_id,
    const struct snmpcol *const *cur, const struct snmpcol *const *prev,
    int counters_reset, snmprows_emit_fn *emit, void *arg,
    struct snmprows_stats *st)
{
	int j, j0 = -1;
	size_t r;

	memset(st, 0, sizeof(*st));
	if (s->n_oids < 1 || s->n_oids > SNMPROWS_MAX_OIDS)
		return;
	for (j = 0; j < s->n_oids; j++)
		if (s->walk[j]) {
			j0 = j;
			break;
		}
	if (j0 < 0) {
		/* Only GETs: one row, stamped with the first answer, whose
		 * {$index} is "0" as in the official bot (a dummy index). */
		static const uint32_t get_idx[1] = {0};
		double t_s = 0;

		for (j = 0; j < s->n_oids && t_s == 0; j++)
			if (cur[j] != NULL && cur[j]->n > 0)
				t_s = cur[j]->ents[0].t_s;
		st->rows = 1;
		snmprows_row(s, entity_id, cur, prev, counters_reset, get_idx,
		    1, t_s, emit, arg, st);
		return;
	}
	if (cur[j0] == NULL)
		return;
	for (r = 0; r < cur[j0]->n; r++) {
		const struct snmpcol_ent *e = &cur[j0]->ents[r];

		st->rows++;
		snmprows_row(s, entity_id, cur, prev, counters_reset,
		    snmpcol_idx(cur[j0], e), e->idx_len, e->t_s, emit, arg, st);
	}
}
