/*
 * libFuzzer target for SNMP answer handling: the input becomes varbind
 * lists (names under the requested columns or anywhere, every ASN.1 type
 * with any value, endOfMibView and noSuch*) fed to the GET and walk steps,
 * twice (so counters meet a previous sample), then through row building,
 * the expression, slugging and path expansion.  Every path handed out
 * must be one the backend accepts.
 */
// fuzz-sources: snmpbot/snmp[cfpr]*.c snmpbot/slug.c snmpbot/expr.c
// fuzz-libs: -lnetsnmp
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../snmpbot/expr.h"
#include "../../snmpbot/slug.h"
#include "../../snmpbot/snmpcol.h"
#include "../../snmpbot/snmpfetch.h"
#include "../../snmpbot/snmppath.h"
#include "../../snmpbot/snmprows.h"
#include "log.h"
#include "path.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define N_COLS 4

static const uint32_t fz_base[N_COLS][11] = {
    {1, 3, 6, 1, 2, 1, 2, 2, 1, 2},
    {1, 3, 6, 1, 2, 1, 2, 2, 1, 10},
    {1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6},
    {1, 3, 6, 1, 2, 1, 1, 3, 0},
};
static const size_t fz_len[N_COLS] = {10, 10, 11, 9};
static const u_char fz_types[] = {ASN_INTEGER, ASN_GAUGE, ASN_TIMETICKS,
    ASN_COUNTER, ASN_COUNTER64, ASN_OCTET_STR, ASN_OPAQUE, ASN_IPADDRESS,
    ASN_OBJECT_ID, ASN_NULL, SNMP_NOSUCHOBJECT, SNMP_NOSUCHINSTANCE,
    SNMP_ENDOFMIBVIEW, ASN_UINTEGER};

struct fz_in {
	const uint8_t *p;
	size_t n;
};

static unsigned
fz_byte(struct fz_in *in)
{
	unsigned b;

	if (in->n == 0)
		return 0;
	b = *in->p++;
	in->n--;
	return b;
}

/* One varbind list of up to 64 entries from the input. */
static netsnmp_variable_list *
fz_varbinds(struct fz_in *in)
{
	netsnmp_variable_list *list = NULL;
	int count = (int)(fz_byte(in) % 65), k;

	for (k = 0; k < count && in->n > 0; k++) {
		oid name[MAX_OID_LEN];
		unsigned col = fz_byte(in) % (N_COLS + 1), extra, i;
		size_t len = 0;
		u_char type = fz_types[fz_byte(in) % sizeof(fz_types)];
		u_char buf[300];
		size_t vlen = 0;
		long lv;
		struct counter64 c64;
		oid ov[16];

		if (col < N_COLS) {
			for (i = 0; i < fz_len[col]; i++)
				name[len++] = fz_base[col][i];
		}
		extra = fz_byte(in) % 6;
		for (i = 0; i < extra; i++)
			name[len++] = fz_byte(in) % 8 == 0 ? 0xffffffffu + 7ul
			                                   : fz_byte(in) % 5;
		if (len == 0)
			name[len++] = 1;
		switch (type) {
		case ASN_INTEGER:
		case ASN_GAUGE:
		case ASN_TIMETICKS:
		case ASN_COUNTER:
		case ASN_UINTEGER:
			lv = (long)((fz_byte(in) << 24) | (fz_byte(in) << 16) |
			    (fz_byte(in) << 8) | fz_byte(in));
			snmp_varlist_add_variable(
			    &list, name, len, type, (u_char *)&lv, sizeof(lv));
			break;
		case ASN_COUNTER64:
			c64.high = (fz_byte(in) << 24) | fz_byte(in);
			c64.low = (fz_byte(in) << 24) | fz_byte(in);
			snmp_varlist_add_variable(&list, name, len, type,
			    (u_char *)&c64, sizeof(c64));
			break;
		case ASN_OBJECT_ID:
			vlen = fz_byte(in) % 16;
			for (i = 0; i < vlen; i++)
				ov[i] = fz_byte(in);
			snmp_varlist_add_variable(&list, name, len, type,
			    (u_char *)ov, vlen * sizeof(oid));
			break;
		case ASN_NULL:
		case SNMP_NOSUCHOBJECT:
		case SNMP_NOSUCHINSTANCE:
		case SNMP_ENDOFMIBVIEW:
			snmp_varlist_add_variable(
			    &list, name, len, type, NULL, 0);
			break;
		default:
			vlen = fz_byte(in) % sizeof(buf);
			if (type == ASN_IPADDRESS)
				vlen = 4;
			for (i = 0; i < vlen; i++)
				buf[i] = (u_char)fz_byte(in);
			snmp_varlist_add_variable(
			    &list, name, len, type, buf, vlen);
			break;
		}
	}
	return list;
}

static void
fz_emit(void *arg, const char *path, double v, double t_s)
{
	(void)arg;
	(void)v;
	(void)t_s;
	if (!path_valid(path))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const exprs[] = {
	    "$2", "$2 / 1000.0", "$1 + $3", "$4 > 0 ? $2 : -1"};
	static const char *const paths[] = {"if.in-octets.{$index}.{$1}",
	    "x.{$1}.{$3}", "t.{$index}", "{$1}{$2}"};
	struct snmpcol cur[N_COLS], prev[N_COLS];
	struct snmpfetch_col fc[N_COLS], *req[N_COLS];
	const struct snmpcol *pc[N_COLS], *pp[N_COLS];
	unsigned char walk[N_COLS] = {1, 1, 1, 0};
	struct snmprows_sensor rs;
	struct snmprows_stats st;
	struct fz_in in = {data, size};
	char err[256];
	int pass, j;
	unsigned sel = fz_byte(&in);

	log_init("fuzz", LOG_LEVEL_NONE);
	for (j = 0; j < N_COLS; j++) {
		snmpcol_init(&cur[j]);
		snmpcol_init(&prev[j]);
		pc[j] = &cur[j];
		pp[j] = &prev[j];
	}
	rs.n_oids = N_COLS;
	rs.walk = walk;
	rs.expr = expr_compile(exprs[sel % 4], N_COLS, err, sizeof(err));
	rs.path =
	    snmppath_compile(paths[(sel / 4) % 4], N_COLS, err, sizeof(err));
	for (pass = 0; pass < 2; pass++) {
		netsnmp_variable_list *vars;
		size_t rounds = 1 + fz_byte(&in) % 4, r;

		for (j = 0; j < N_COLS; j++) {
			snmpfetch_start(
			    &fc[j], fz_base[j], fz_len[j], walk[j], &cur[j]);
			req[j] = &fc[j];
		}
		vars = fz_varbinds(&in);
		snmpfetch_get(&req[3], 1, vars, 100.0 + pass);
		snmp_free_varbind(vars);
		for (r = 0; r < rounds; r++) {
			size_t n = 0;

			for (j = 0; j < 3; j++)
				if (fc[j].end == SNMPFETCH_RUNNING)
					req[n++] = &fc[j];
			vars = fz_varbinds(&in);
			snmpfetch_walk(req, n, vars, 100.0 + pass * 10 + r,
			    1 + fz_byte(&in) % 50);
			snmp_free_varbind(vars);
		}
		if (rs.expr != NULL && rs.path != NULL)
			snmprows_build(&rs, 42, pc, pass ? pp : NULL,
			    (int)(sel >> 7), fz_emit, NULL, &st);
		for (j = 0; j < N_COLS; j++)
			snmpcol_swap(&cur[j], &prev[j]);
	}
	for (j = 0; j < N_COLS; j++) {
		snmpcol_release(&cur[j]);
		snmpcol_release(&prev[j]);
	}
	expr_free((struct expr *)rs.expr);
	snmppath_free((struct snmppath *)rs.path);
	slug_release();
	return 0;
}
