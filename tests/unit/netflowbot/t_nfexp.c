/*
 * Unit tests for the exporter table: the cap, address text and parsing,
 * and the per-exporter token bucket.
 */
#include <string.h>

#include "../../../netflowbot/nfexp.h"
#include "../t.h"

T_TEST(nfexp_table_and_addresses)
{
	struct nfexp_table *t = nfexp_table_new(2);
	uint8_t a[16], b[16], c[16];
	struct nfexp *e;
	char txt[64];

	T_EQ_INT(nfexp_addr_parse("192.0.2.1", a), 0);
	T_EQ_INT(nfexp_addr_parse("2001:db8::1", b), 0);
	T_EQ_INT(nfexp_addr_parse("192.0.2.300", c), -1);
	T_EQ_INT(nfexp_addr_parse("::ffff:192.0.2.2", c), 0);
	T_EQ_INT(nfexp_addr_text(a, txt, sizeof(txt)), 1);
	T_EQ_STR(txt, "192.0.2.1");
	T_EQ_INT(nfexp_addr_text(b, txt, sizeof(txt)), 0);
	T_EQ_STR(txt, "2001:db8::1");
	e = nfexp_get(t, a);
	T_ASSERT(e != NULL && e->is_v4);
	T_ASSERT(nfexp_get(t, a) == e);
	T_ASSERT(nfexp_get(t, b) != NULL);
	T_ASSERT(nfexp_get(t, c) == NULL); /* the cap */
	T_EQ_INT(nfexp_refused(t), 1);
	T_EQ_INT(nfexp_count(t), 2);
	nfexp_table_free(t);
}

T_TEST(nfexp_token_bucket)
{
	struct nfexp e;
	int i, ok = 0;

	memset(&e, 0, sizeof(e));
	for (i = 0; i < 150; i++)
		ok += nfexp_allow(&e, 100, 1000);
	T_EQ_INT(ok, 100); /* a burst of one second's worth */
	T_EQ_INT(e.limited, 50);
	T_EQ_INT(nfexp_allow(&e, 100, 1005), 0);
	T_EQ_INT(nfexp_allow(&e, 100, 1010), 1); /* 1 token per 10 ms */
	T_EQ_INT(nfexp_allow(&e, 100, 1010), 0);
	T_EQ_INT(nfexp_allow(&e, 0, 1010), 1); /* no limit */
}
