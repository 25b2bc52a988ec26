/*
 * Answers into columns (see snmpfetch.h).  Sub-identifiers above 2^32-1
 * cannot be in an SNMP OID (RFC 2578), so a varbind naming one leaves
 * its column as if the subtree ended.  Nothing here trusts the agent to
 * answer what was asked: names are compared, types checked, lengths
 * capped.
 */
#include "snmpfetch.h"

#include <inttypes.h>
#include <net-snmp/library/asn1.h>
#include <net-snmp/library/snmp.h>
#include <net-snmp/library/snmp_impl.h>
#include <stdio.h>
#include <string.h>

void
snmpfetch_start(struct snmpfetch_col *col, const uint32_t *base,
    size_t base_len, int walk, struct snmpcol *out)
{
	memset(col, 0, offsetof(struct snmpfetch_col, last));
	col->base = base;
	col->base_len = base_len > SNMPCOL_MAX_OID ? SNMPCOL_MAX_OID : base_len;
	col->walk = walk;
	col->out = out;
	memcpy(col->last, base, col->base_len * sizeof(*base));
	col->last_len = col->base_len;
	col->rows = 0;
	col->end = SNMPFETCH_RUNNING;
	col->bad_values = 0;
	snmpcol_reset(out);
}

/* The varbind's name as 32-bit sub-identifiers; -1 if it cannot be. */
static int
snmpfetch_name(const netsnmp_variable_list *vb, uint32_t *out, size_t *len)
{
	size_t i;

	if (vb->name == NULL || vb->name_length > SNMPCOL_MAX_OID)
		return -1;
	for (i = 0; i < vb->name_length; i++) {
		if (vb->name[i] > UINT32_MAX)
			return -1;
		out[i] = (uint32_t)vb->name[i];
	}
	*len = vb->name_length;
	return 0;
}

void
snmpfetch_value(const netsnmp_variable_list *vb, double t_s,
    struct snmpcol_val *v, char *text, size_t textlen)
{
	size_t i, o = 0;

	memset(v, 0, sizeof(*v));
	v->t_s = t_s;
	v->type = SNMPCOL_NONE;
	switch (vb->type) {
	case ASN_INTEGER:
		if (vb->val.integer != NULL && vb->val_len >= sizeof(long)) {
			v->type = SNMPCOL_INT;
			v->i = *vb->val.integer;
		}
		break;
	case ASN_GAUGE:
	case ASN_TIMETICKS:
	case ASN_UINTEGER:
		if (vb->val.integer != NULL && vb->val_len >= sizeof(long)) {
			v->type = SNMPCOL_UINT;
			v->u = (uint64_t)*vb->val.integer & 0xffffffffu;
		}
		break;
	case ASN_COUNTER:
		if (vb->val.integer != NULL && vb->val_len >= sizeof(long)) {
			v->type = SNMPCOL_COUNTER32;
			v->u = (uint64_t)*vb->val.integer & 0xffffffffu;
		}
		break;
	case ASN_COUNTER64:
		if (vb->val.counter64 != NULL &&
		    vb->val_len >= sizeof(struct counter64)) {
			v->type = SNMPCOL_COUNTER64;
			v->u =
			    ((uint64_t)(vb->val.counter64->high & 0xffffffffu)
			        << 32) |
			    (vb->val.counter64->low & 0xffffffffu);
		}
		break;
#ifdef NETSNMP_WITH_OPAQUE_SPECIAL_TYPES
	case ASN_OPAQUE_FLOAT:
		if (vb->val.floatVal != NULL && vb->val_len >= sizeof(float)) {
			v->type = SNMPCOL_FLOAT;
			v->d = *vb->val.floatVal;
		}
		break;
	case ASN_OPAQUE_DOUBLE:
		if (vb->val.doubleVal != NULL &&
		    vb->val_len >= sizeof(double)) {
			v->type = SNMPCOL_FLOAT;
			v->d = *vb->val.doubleVal;
		}
		break;
	case ASN_OPAQUE_COUNTER64:
	case ASN_OPAQUE_U64:
		if (vb->val.counter64 != NULL &&
		    vb->val_len >= sizeof(struct counter64)) {
			v->type = vb->type == ASN_OPAQUE_COUNTER64
			    ? SNMPCOL_COUNTER64
			    : SNMPCOL_UINT;
			v->u =
			    ((uint64_t)(vb->val.counter64->high & 0xffffffffu)
			        << 32) |
			    (vb->val.counter64->low & 0xffffffffu);
		}
		break;
#endif
	case ASN_OCTET_STR:
	case ASN_OPAQUE:
		v->type = SNMPCOL_STRING;
		v->str =
		    vb->val.string != NULL ? (const char *)vb->val.string : "";
		v->len = vb->val.string != NULL ? vb->val_len : 0;
		break;
	case ASN_IPADDRESS:
		if (vb->val.string != NULL && vb->val_len == 4) {
			snprintf(text, textlen, "%u.%u.%u.%u",
			    vb->val.string[0], vb->val.string[1],
			    vb->val.string[2], vb->val.string[3]);
			v->type = SNMPCOL_TEXT;
			v->str = text;
			v->len = strlen(text);
		}
		break;
	case ASN_OBJECT_ID:
		if (vb->val.objid == NULL)
			break;
		text[0] = '\0';
		for (i = 0; i < vb->val_len / sizeof(oid) && o + 24 < textlen;
		     i++) {
			int n = snprintf(text + o, textlen - o, "%s%lu",
			    i ? "." : "", (unsigned long)vb->val.objid[i]);

			if (n < 0)
				break;
			o += (size_t)n;
		}
		v->type = SNMPCOL_TEXT;
		v->str = text;
		v->len = o;
		break;
	default: /* NULL, noSuchObject, noSuchInstance, endOfMibView */
		break;
	}
}

void
snmpfetch_get(struct snmpfetch_col **cols, size_t n,
    const netsnmp_variable_list *vars, double t_s)
{
	const netsnmp_variable_list *vb = vars;
	uint32_t name[SNMPCOL_MAX_OID];
	char text[SNMPCOL_MAX_OID * 11 + 32];
	size_t i, len;

	for (i = 0; i < n; i++) {
		struct snmpfetch_col *c = cols[i];
		struct snmpcol_val v;

		memset(&v, 0, sizeof(v));
		v.type = SNMPCOL_NONE;
		v.t_s = t_s;
		if (vb != NULL && snmpfetch_name(vb, name, &len) == 0 &&
		    snmpcol_oid_cmp(name, len, c->base, c->base_len) == 0)
			snmpfetch_value(vb, t_s, &v, text, sizeof(text));
		if (v.type == SNMPCOL_NONE)
			c->bad_values++;
		snmpcol_add(c->out, NULL, 0, &v);
		c->rows = 1;
		c->end = SNMPFETCH_DONE;
		if (vb != NULL)
			vb = vb->next_variable;
	}
}

void
snmpfetch_walk(struct snmpfetch_col **cols, size_t n,
    const netsnmp_variable_list *vars, double t_s, size_t row_cap)
{
	const netsnmp_variable_list *vb;
	uint32_t name[SNMPCOL_MAX_OID];
	char text[SNMPCOL_MAX_OID * 11 + 32];
	size_t i = 0, len;

	if (n == 0)
		return;
	for (vb = vars; vb != NULL; vb = vb->next_variable, i++) {
		struct snmpfetch_col *c = cols[i % n];
		struct snmpcol_val v;

		if (c->end != SNMPFETCH_RUNNING)
			continue;
		if (vb->type == SNMP_ENDOFMIBVIEW ||
		    snmpfetch_name(vb, name, &len) != 0 || len <= c->base_len ||
		    snmpcol_oid_cmp(name, c->base_len, c->base, c->base_len) !=
		        0) {
			c->end = SNMPFETCH_DONE;
			continue;
		}
		if (snmpcol_oid_cmp(name, len, c->last, c->last_len) <= 0) {
			c->end = SNMPFETCH_NOT_INCREASING;
			continue;
		}
		if (c->rows >= row_cap) {
			c->end = SNMPFETCH_ROW_CAP;
			continue;
		}
		memcpy(c->last, name, len * sizeof(*name));
		c->last_len = len;
		snmpfetch_value(vb, t_s, &v, text, sizeof(text));
		if (v.type == SNMPCOL_NONE)
			c->bad_values++;
		snmpcol_add(c->out, name + c->base_len, len - c->base_len, &v);
		c->rows++;
	}
}
