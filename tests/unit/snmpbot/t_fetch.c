/*
 * Answers into columns: GET values by name, walk steps over several
 * columns at once (GETBULK's interleaving), and the four ways a walk
 * column ends: its subtree's end, endOfMibView, an OID that does not
 * increase, the row cap.  Value conversion: Counter64 above 2^63, noSuch*,
 * IpAddress and OID values as text.
 */
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <stdio.h>
#include <string.h>

#include "../../../snmpbot/snmpcol.h"
#include "../../../snmpbot/snmpfetch.h"
#include "../t.h"

static const uint32_t t_descr[] = {1, 3, 6, 1, 2, 1, 2, 2, 1, 2};
static const uint32_t t_in[] = {1, 3, 6, 1, 2, 1, 2, 2, 1, 10};

/* Appends name = base.idx with an integer or string value. */
static void
t_vb(netsnmp_variable_list **l, const uint32_t *base, size_t blen, unsigned idx,
    u_char type, long n, const char *s)
{
	oid name[MAX_OID_LEN];
	size_t i;

	for (i = 0; i < blen; i++)
		name[i] = base[i];
	name[blen] = idx;
	if (s != NULL)
		snmp_varlist_add_variable(
		    l, name, blen + 1, type, (const u_char *)s, strlen(s));
	else if (type == SNMP_ENDOFMIBVIEW || type == SNMP_NOSUCHINSTANCE)
		snmp_varlist_add_variable(l, name, blen + 1, type, NULL, 0);
	else
		snmp_varlist_add_variable(
		    l, name, blen + 1, type, (const u_char *)&n, sizeof(n));
}

T_TEST(fetch_bulk_walk_two_columns_to_subtree_end)
{
	struct snmpcol c1, c2;
	struct snmpfetch_col f1, f2, *req[2] = {&f1, &f2};
	netsnmp_variable_list *l = NULL;

	snmpcol_init(&c1);
	snmpcol_init(&c2);
	snmpfetch_start(&f1, t_descr, 10, 1, &c1);
	snmpfetch_start(&f2, t_in, 10, 1, &c2);
	/* Interleaved rows 1, 2, then both columns leave their subtree. */
	t_vb(&l, t_descr, 10, 1, ASN_OCTET_STR, 0, "lo");
	t_vb(&l, t_in, 10, 1, ASN_COUNTER, 100, NULL);
	t_vb(&l, t_descr, 10, 2, ASN_OCTET_STR, 0, "eth0");
	t_vb(&l, t_in, 10, 2, ASN_COUNTER, 200, NULL);
	t_vb(&l, t_in, 10, 1, ASN_COUNTER, 100, NULL); /* next column */
	t_vb(&l, t_in, 9, 11, ASN_COUNTER, 1, NULL);   /* ifInUcastPkts */
	snmpfetch_walk(req, 2, l, 5.0, 10000);
	snmp_free_varbind(l);
	T_EQ_INT(f1.end, SNMPFETCH_DONE);
	T_EQ_INT(f2.end, SNMPFETCH_DONE);
	T_EQ_INT(c1.n, 2);
	T_EQ_INT(c2.n, 2);
	T_EQ_INT(c1.ents[1].idx_len, 1);
	T_EQ_INT(snmpcol_idx(&c1, &c1.ents[1])[0], 2);
	T_EQ_STR(snmpcol_str(&c1, &c1.ents[1]), "eth0");
	T_EQ_INT(c2.ents[1].type, SNMPCOL_COUNTER32);
	T_EQ_INT(c2.ents[1].u, 200);
	T_EQ_DBL(c2.ents[1].t_s, 5.0, 0);
	T_ASSERT(snmpcol_find(&c2, (const uint32_t[]){2}, 1) == &c2.ents[1]);
	T_ASSERT(snmpcol_find(&c2, (const uint32_t[]){3}, 1) == NULL);
	snmpcol_release(&c1);
	snmpcol_release(&c2);
}

T_TEST(fetch_walk_continues_where_it_stopped)
{
	struct snmpcol c1;
	struct snmpfetch_col f1, *req[1] = {&f1};
	netsnmp_variable_list *l = NULL;

	snmpcol_init(&c1);
	snmpfetch_start(&f1, t_descr, 10, 1, &c1);
	t_vb(&l, t_descr, 10, 1, ASN_OCTET_STR, 0, "a");
	snmpfetch_walk(req, 1, l, 1.0, 10000);
	snmp_free_varbind(l);
	T_EQ_INT(f1.end, SNMPFETCH_RUNNING);
	T_EQ_INT(f1.last_len, 11);
	T_EQ_INT(f1.last[10], 1);
	l = NULL;
	t_vb(&l, t_descr, 10, 5, ASN_OCTET_STR, 0, "b");
	t_vb(&l, t_descr, 10, 6, SNMP_ENDOFMIBVIEW, 0, NULL);
	snmpfetch_walk(req, 1, l, 2.0, 10000);
	snmp_free_varbind(l);
	T_EQ_INT(f1.end, SNMPFETCH_DONE);
	T_EQ_INT(c1.n, 2);
	snmpcol_release(&c1);
}

T_TEST(fetch_walk_stops_on_a_non_increasing_oid)
{
	struct snmpcol c1;
	struct snmpfetch_col f1, *req[1] = {&f1};
	netsnmp_variable_list *l = NULL;

	snmpcol_init(&c1);
	snmpfetch_start(&f1, t_descr, 10, 1, &c1);
	t_vb(&l, t_descr, 10, 3, ASN_OCTET_STR, 0, "a");
	t_vb(&l, t_descr, 10, 3, ASN_OCTET_STR, 0, "a again"); /* repeated */
	t_vb(&l, t_descr, 10, 9, ASN_OCTET_STR, 0, "never taken");
	snmpfetch_walk(req, 1, l, 1.0, 10000);
	snmp_free_varbind(l);
	T_EQ_INT(f1.end, SNMPFETCH_NOT_INCREASING);
	T_EQ_INT(c1.n, 1);

	/* A smaller OID in a later answer ends it too. */
	snmpfetch_start(&f1, t_descr, 10, 1, &c1);
	l = NULL;
	t_vb(&l, t_descr, 10, 7, ASN_OCTET_STR, 0, "x");
	snmpfetch_walk(req, 1, l, 1.0, 10000);
	snmp_free_varbind(l);
	l = NULL;
	t_vb(&l, t_descr, 10, 2, ASN_OCTET_STR, 0, "back");
	snmpfetch_walk(req, 1, l, 1.0, 10000);
	snmp_free_varbind(l);
	T_EQ_INT(f1.end, SNMPFETCH_NOT_INCREASING);
	T_EQ_INT(c1.n, 1);
	snmpcol_release(&c1);
}

T_TEST(fetch_walk_stops_at_the_row_cap)
{
	struct snmpcol c1;
	struct snmpfetch_col f1, *req[1] = {&f1};
	netsnmp_variable_list *l = NULL;
	unsigned i;

	snmpcol_init(&c1);
	snmpfetch_start(&f1, t_descr, 10, 1, &c1);
	for (i = 1; i <= 10; i++)
		t_vb(&l, t_descr, 10, i, ASN_INTEGER, (long)i, NULL);
	snmpfetch_walk(req, 1, l, 1.0, 4);
	snmp_free_varbind(l);
	T_EQ_INT(f1.end, SNMPFETCH_ROW_CAP);
	T_EQ_INT(c1.n, 4);
	/* Exactly at the cap with nothing more: a normal end. */
	snmpfetch_start(&f1, t_descr, 10, 1, &c1);
	l = NULL;
	for (i = 1; i <= 4; i++)
		t_vb(&l, t_descr, 10, i, ASN_INTEGER, (long)i, NULL);
	t_vb(&l, t_in, 10, 1, ASN_INTEGER, 0, NULL);
	snmpfetch_walk(req, 1, l, 1.0, 4);
	snmp_free_varbind(l);
	T_EQ_INT(f1.end, SNMPFETCH_DONE);
	T_EQ_INT(c1.n, 4);
	snmpcol_release(&c1);
}

T_TEST(fetch_get_values_and_missing_ones)
{
	static const uint32_t up[] = {1, 3, 6, 1, 2, 1, 1, 3, 0};
	static const uint32_t other[] = {1, 3, 6, 1, 2, 1, 1, 7, 0};
	static const uint32_t gone[] = {1, 3, 6, 1, 2, 1, 1, 9, 0};
	struct snmpcol c[3];
	struct snmpfetch_col f[3], *req[3] = {&f[0], &f[1], &f[2]};
	netsnmp_variable_list *l = NULL;
	struct counter64 big = {0x80000000u, 5};
	oid name[9];
	int i;

	for (i = 0; i < 3; i++)
		snmpcol_init(&c[i]);
	snmpfetch_start(&f[0], up, 9, 0, &c[0]);
	snmpfetch_start(&f[1], other, 9, 0, &c[1]);
	snmpfetch_start(&f[2], gone, 9, 0, &c[2]);
	for (i = 0; i < 9; i++)
		name[i] = up[i];
	snmp_varlist_add_variable(
	    &l, name, 9, ASN_COUNTER64, (const u_char *)&big, sizeof(big));
	for (i = 0; i < 9; i++)
		name[i] = other[i];
	snmp_varlist_add_variable(
	    &l, name, 9, ASN_IPADDRESS, (const u_char *)"\x0a\x00\x00\x01", 4);
	t_vb(&l, gone, 8, 0, SNMP_NOSUCHINSTANCE, 0, NULL);
	snmpfetch_get(req, 3, l, 3.0);
	snmp_free_varbind(l);
	T_EQ_INT(c[0].ents[0].type, SNMPCOL_COUNTER64);
	T_ASSERT(c[0].ents[0].u == UINT64_C(0x8000000000000005));
	T_EQ_INT(c[1].ents[0].type, SNMPCOL_TEXT);
	T_EQ_STR(snmpcol_str(&c[1], &c[1].ents[0]), "10.0.0.1");
	T_EQ_INT(c[2].ents[0].type, SNMPCOL_NONE);
	T_EQ_INT(f[2].bad_values, 1);
	for (i = 0; i < 3; i++) {
		T_EQ_INT(f[i].end, SNMPFETCH_DONE);
		snmpcol_release(&c[i]);
	}
}
