/*
 * Taking SNMP answers apart into columns: the values of a GET, and the
 * steps of a walk (GETNEXT or GETBULK over several columns at once).  A
 * walk column ends at the end of its subtree, at endOfMibView, on an OID
 * that does not increase (a broken or looping agent) or at the row cap.
 * Pure of any network: the poller hands each answer's varbind list here.
 */
#ifndef BOT_SNMPFETCH_H
#define BOT_SNMPFETCH_H

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/types.h>
#include <stddef.h>
#include <stdint.h>

#include "snmpcol.h"

enum snmpfetch_end {
	SNMPFETCH_RUNNING = 0,
	SNMPFETCH_DONE,           /* end of subtree / MIB, or the GET value */
	SNMPFETCH_NOT_INCREASING, /* the agent returned an OID <= the last */
	SNMPFETCH_ROW_CAP,        /* more rows than the cap: cut there */
	SNMPFETCH_FAILED,         /* no answer, an error status */
};

/* One OID being fetched in a device poll. */
struct snmpfetch_col {
	const uint32_t *base; /* the configured OID (borrowed) */
	size_t base_len;
	int walk;
	struct snmpcol *out;            /* values go here (borrowed) */
	uint32_t last[SNMPCOL_MAX_OID]; /* walk: where the next step starts */
	size_t last_len;
	size_t rows;
	enum snmpfetch_end end;
	int bad_values; /* noSuch* and wrong types seen */
};

/* Prepares col for a poll: empties out, puts the walk at base. */
void snmpfetch_start(struct snmpfetch_col *col, const uint32_t *base,
    size_t base_len, int walk, struct snmpcol *out);

/* Converts one varbind's value (borrowed) into v; text formats OIDs and
 * addresses (v->str may point into it or into vb). */
void snmpfetch_value(const netsnmp_variable_list *vb, double t_s,
    struct snmpcol_val *v, char *text, size_t textlen);

/* A GET answer: vars[i] answers cols[i] (absent or other OIDs give an
 * empty value, counted in bad_values).  Every col ends DONE. */
void snmpfetch_get(struct snmpfetch_col **cols, size_t n,
    const netsnmp_variable_list *vars, double t_s);

/* A GETNEXT or GETBULK answer for the running columns cols[0..n) in the
 * order they were requested: vars[i] belongs to cols[i % n].  row_cap
 * ends a column that reaches it. */
void snmpfetch_walk(struct snmpfetch_col **cols, size_t n,
    const netsnmp_variable_list *vars, double t_s, size_t row_cap);

#endif
