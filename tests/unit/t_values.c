/*
 * Unit tests for values.c: de-duplication on (path, t), the exact JSON of
 * a batch, splitting under a byte budget, number formatting that reads
 * back the same double, and moving values between batches.
 */
#include <json-c/json.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "buf.h"
#include "t.h"
#include "values.h"

/* Encodes everything of vs into a fresh string (owned by the caller). */
static char *
encode_all(const struct values *vs, int with_t, size_t *count)
{
	struct buf b;

	buf_init(&b, 1 << 20);
	*count = values_encode(vs, 0, vs->len, 1 << 20, with_t, &b);
	return buf_detach(&b);
}

T_TEST(values_add_and_release)
{
	struct values vs;

	values_init(&vs, 42);
	T_EQ_INT(vs.account_id, 42);
	T_EQ_INT(vs.len, 0);
	values_add(&vs, "a.b", 1.0, 1700000000.0);
	values_add(&vs, "a.c", 2.0, 1700000000.0);
	T_EQ_INT(vs.len, 2);
	T_EQ_STR(vs.items[1].path, "a.c");
	T_EQ_DBL(vs.items[1].v, 2.0, 0);
	/* The stamp is rounded to the microsecond on the way in. */
	values_add(&vs, "a.d", 3.0, 1700000000.1234561);
	T_EQ_DBL(vs.items[2].t, 1700000000.123456, 1e-7);
	values_release(&vs);
	T_EQ_INT(vs.len, 0);
	T_ASSERT(vs.items == NULL);
	/* Releasing twice and releasing an empty batch are fine. */
	values_release(&vs);
}

T_TEST(values_dedup_keeps_last_and_sorts)
{
	struct values vs;

	values_init(&vs, 1);
	values_add(&vs, "b", 1, 100);
	values_add(&vs, "a", 1, 200);
	values_add(&vs, "a", 2, 100);
	values_add(&vs, "b", 2, 100); /* same (path, t) as the first */
	values_add(&vs, "a", 3, 200); /* same as the second */
	values_add(&vs, "a", 4, 200); /* ... added last: wins */
	values_add(&vs, "a.b", 5, 50);
	values_add(&vs, "b", 6, 100.0000001); /* same microsecond */
	values_dedup(&vs);
	T_EQ_INT(vs.len, 4);
	T_EQ_STR(vs.items[0].path, "a");
	T_EQ_DBL(vs.items[0].t, 100, 0);
	T_EQ_DBL(vs.items[0].v, 2, 0);
	T_EQ_STR(vs.items[1].path, "a");
	T_EQ_DBL(vs.items[1].t, 200, 0);
	T_EQ_DBL(vs.items[1].v, 4, 0);
	T_EQ_STR(vs.items[2].path, "a.b");
	T_EQ_STR(vs.items[3].path, "b");
	T_EQ_DBL(vs.items[3].v, 6, 0);
	values_release(&vs);
}

T_TEST(values_dedup_many)
{
	struct values vs;
	char path[32];
	size_t i;

	values_init(&vs, 1);
	/* 3000 values over 100 paths and 10 stamps, each pair 3 times;
	 * the last round carries v = 2. */
	for (i = 0; i < 3000; i++) {
		snprintf(path, sizeof(path), "p.%zu", (i * 7) % 100);
		values_add(&vs, path, i >= 2000 ? 2 : 1,
		    1000 + (double)((i / 100) % 10));
	}
	values_dedup(&vs);
	T_EQ_INT(vs.len, 1000);
	for (i = 0; i < vs.len; i++) {
		T_EQ_DBL(vs.items[i].v, 2, 0);
		if (i > 0) {
			int c = strcmp(vs.items[i - 1].path, vs.items[i].path);

			T_ASSERT(c < 0 ||
			    (c == 0 && vs.items[i - 1].t < vs.items[i].t));
		}
	}
	values_release(&vs);

	/* Empty and single batches are left alone. */
	values_init(&vs, 1);
	values_dedup(&vs);
	T_EQ_INT(vs.len, 0);
	values_add(&vs, "x", 1, 1);
	values_dedup(&vs);
	T_EQ_INT(vs.len, 1);
	values_release(&vs);
}

T_TEST(values_encode_json_shape)
{
	struct values vs;
	size_t n;
	char *s;

	values_init(&vs, 1);
	values_add(&vs, "entity.1.ping.success", 1, 1700000000.25);
	values_add(&vs, "entity.1.ping.p0.rtt", 0.0123, 1700000001.000001);
	s = encode_all(&vs, 1, &n);
	T_EQ_INT(n, 2);
	T_EQ_STR(s,
	    "[{\"p\":\"entity.1.ping.success\",\"v\":1,"
	    "\"t\":1700000000.250000},"
	    "{\"p\":\"entity.1.ping.p0.rtt\",\"v\":0.0123,"
	    "\"t\":1700000001.000001}]");
	free(s);
	s = encode_all(&vs, 0, &n);
	T_EQ_INT(n, 2);
	T_EQ_STR(s,
	    "[{\"p\":\"entity.1.ping.success\",\"v\":1},"
	    "{\"p\":\"entity.1.ping.p0.rtt\",\"v\":0.0123}]");
	free(s);
	values_release(&vs);

	/* An empty batch is an empty array. */
	values_init(&vs, 1);
	s = encode_all(&vs, 1, &n);
	T_EQ_INT(n, 0);
	T_EQ_STR(s, "[]");
	free(s);
	values_release(&vs);
}

T_TEST(values_encode_range_and_append)
{
	struct values vs;
	struct buf b;

	values_init(&vs, 1);
	values_add(&vs, "a", 1, 1);
	values_add(&vs, "b", 2, 1);
	values_add(&vs, "c", 3, 1);
	buf_init(&b, 4096);
	T_EQ_INT(buf_append_str(&b, "X"), 0);
	/* Items [1, 2) only, appended after what the buffer holds. */
	T_EQ_INT(values_encode(&vs, 1, 1, 4096, 0, &b), 1);
	T_EQ_STR(b.data, "X[{\"p\":\"b\",\"v\":2}]");
	buf_reset(&b);
	/* n past the end stops at the end. */
	T_EQ_INT(values_encode(&vs, 2, 100, 4096, 0, &b), 1);
	T_EQ_STR(b.data, "[{\"p\":\"c\",\"v\":3}]");
	buf_reset(&b);
	T_EQ_INT(values_encode(&vs, 3, 100, 4096, 0, &b), 0);
	T_EQ_STR(b.data, "[]");
	buf_release(&b);
	values_release(&vs);
}

/* Parses an encoded batch and checks it holds n well-formed elements. */
static int
json_array_len(const char *s)
{
	struct json_object *o = json_tokener_parse(s);
	int n = -1;
	size_t i;

	if (o != NULL && json_object_is_type(o, json_type_array)) {
		n = (int)json_object_array_length(o);
		for (i = 0; i < (size_t)n; i++) {
			struct json_object *e = json_object_array_get_idx(o, i);
			struct json_object *p, *v, *t;

			if (!json_object_object_get_ex(e, "p", &p) ||
			    !json_object_object_get_ex(e, "v", &v) ||
			    !json_object_object_get_ex(e, "t", &t))
				n = -1;
		}
	}
	json_object_put(o);
	return n;
}

T_TEST(values_encode_max_bytes_splits)
{
	struct values vs;
	struct buf b;
	char path[64];
	size_t start = 0, total = 0, calls = 0, i;

	values_init(&vs, 1);
	for (i = 0; i < 500; i++) {
		snprintf(path, sizeof(path), "entity.%zu.snmp.if.in-octets.%zu",
		    i, i * 31);
		values_add(&vs, path, (double)i * 1.5, 1700000000 + (double)i);
	}
	buf_init(&b, 1 << 20);
	while (start < vs.len) {
		size_t n;

		buf_reset(&b);
		n = values_encode(&vs, start, vs.len, 1000, 1, &b);
		T_ASSERT(n > 0);
		T_ASSERT(b.len <= 1000);
		T_EQ_INT(json_array_len(b.data), n);
		/* It stopped because the next one would not fit. */
		if (start + n < vs.len) {
			struct buf one;

			buf_init(&one, 4096);
			T_EQ_INT(
			    values_encode(&vs, start + n, 1, 4096, 1, &one), 1);
			/* one holds "[" element "]": with a comma instead of
			 * the brackets it needs one.len - 1 more bytes. */
			T_ASSERT(b.len + one.len - 1 >= 1000);
			buf_release(&one);
		}
		start += n;
		total += n;
		calls++;
	}
	T_EQ_INT(total, 500);
	T_ASSERT(calls > 10);

	/* A budget too small for even one element encodes nothing. */
	buf_reset(&b);
	T_EQ_INT(values_encode(&vs, 0, vs.len, 20, 1, &b), 0);
	T_EQ_STR(b.data, "[]");
	buf_release(&b);
	values_release(&vs);
}

T_TEST(values_encode_skips_non_finite)
{
	struct values vs;
	size_t n;
	char *s;

	values_init(&vs, 1);
	values_add(&vs, "a", 1, 1);
	values_add(&vs, "b", NAN, 1);
	values_add(&vs, "c", INFINITY, 1);
	values_add(&vs, "d", -INFINITY, 1);
	values_add(&vs, "e", 2, 1);
	s = encode_all(&vs, 0, &n);
	/* The count covers the skipped items too, so a caller that
	 * advances by it never sees them again. */
	T_EQ_INT(n, 5);
	T_EQ_STR(s, "[{\"p\":\"a\",\"v\":1},{\"p\":\"e\",\"v\":2}]");
	free(s);
	values_release(&vs);
}

/* Formats v and checks the text and that it reads back exactly. */
static int
number_is(double v, const char *want)
{
	char out[64];

	values_format_number(v, out, sizeof(out));
	if (strcmp(out, want) != 0) {
		t_fail(__FILE__, __LINE__,
		    "%.17g printed as \"%s\", not \"%s\"", v, out, want);
		return 0;
	}
	if (strtod(out, NULL) != v ||
	    !signbit(strtod(out, NULL)) != !signbit(v)) {
		t_fail(__FILE__, __LINE__, "\"%s\" does not read back", out);
		return 0;
	}
	return 1;
}

T_TEST(values_format_number_round_trips)
{
	static const double samples[] = {0.1, 0.2, 0.3, 1.0 / 3, 2.0 / 3,
	    1e-300, 5e-324, 1.7976931348623157e308, 123456.789, 0.0123,
	    4294967296.5, 9007199254740993.0, 1e21, -1e-7, 3.14159265358979};
	char out[64];
	size_t i;

	T_ASSERT(number_is(0.1, "0.1"));
	T_ASSERT(number_is(0.5, "0.5"));
	T_ASSERT(number_is(-0.0, "-0"));
	T_ASSERT(number_is(0.0, "0"));
	T_ASSERT(number_is(1e20, "1e+20"));
	T_ASSERT(number_is(1.5e-5, "1.5e-05"));
	/* Integers print without an exponent or a fraction. */
	T_ASSERT(number_is(1, "1"));
	T_ASSERT(number_is(-7, "-7"));
	T_ASSERT(number_is(42, "42"));
	T_ASSERT(number_is(1234567890, "1234567890"));
	T_ASSERT(number_is(4294967295.0, "4294967295"));
	T_ASSERT(number_is(123456789012345.0, "123456789012345"));
	T_ASSERT(number_is(9007199254740992.0, "9007199254740992"));
	T_ASSERT(number_is(18446744073709551615.0, "1.8446744073709552e+19"));
	for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		values_format_number(samples[i], out, sizeof(out));
		T_EQ_DBL(strtod(out, NULL), samples[i], 0);
		/* Valid JSON: json-c reads the same number back. */
		{
			struct json_object *o = json_tokener_parse(out);
			double d;

			T_ASSERT(o != NULL);
			d = json_object_get_double(o);
			json_object_put(o);
			T_EQ_DBL(d, samples[i], 0);
		}
	}
}

T_TEST(values_encode_t_has_six_decimals)
{
	struct values vs;
	size_t n;
	char *s;

	values_init(&vs, 1);
	values_add(&vs, "a", 1, 1700000000);
	values_add(&vs, "b", 1, 1700000000.000001);
	values_add(&vs, "c", 1, 1700000000.9999998); /* rounds up */
	values_add(&vs, "d", 1, 1700000000.1);
	s = encode_all(&vs, 1, &n);
	T_EQ_INT(n, 4);
	T_EQ_STR(s,
	    "[{\"p\":\"a\",\"v\":1,\"t\":1700000000.000000},"
	    "{\"p\":\"b\",\"v\":1,\"t\":1700000000.000001},"
	    "{\"p\":\"c\",\"v\":1,\"t\":1700000001.000000},"
	    "{\"p\":\"d\",\"v\":1,\"t\":1700000000.100000}]");
	free(s);
	values_release(&vs);
}

T_TEST(values_cost_counts_path)
{
	struct value v = {(char *)(uintptr_t) "abc", 1, 1};
	struct value w = {(char *)(uintptr_t) "abcdef", 1, 1};

	T_ASSERT(values_cost(&w) == values_cost(&v) + 3);
	T_ASSERT(values_cost(&v) >= 3);
}

T_TEST(values_move_into_empty_and_nonempty)
{
	struct values a, b;

	values_init(&a, 1);
	values_init(&b, 1);
	values_add(&b, "x", 1, 1);
	values_add(&b, "y", 2, 1);
	/* Into an empty batch: the array itself moves. */
	values_move(&a, &b);
	T_EQ_INT(a.len, 2);
	T_EQ_INT(b.len, 0);
	T_ASSERT(b.items == NULL);
	T_EQ_STR(a.items[1].path, "y");
	/* Into a batch that holds values: appended in order. */
	values_add(&b, "z", 3, 1);
	values_move(&a, &b);
	T_EQ_INT(a.len, 3);
	T_EQ_INT(b.len, 0);
	T_EQ_STR(a.items[0].path, "x");
	T_EQ_STR(a.items[2].path, "z");
	/* The emptied source is still usable. */
	values_add(&b, "w", 4, 1);
	T_EQ_INT(b.len, 1);
	values_release(&b);
	/* Moving an empty batch changes nothing. */
	values_init(&b, 1);
	values_move(&a, &b);
	T_EQ_INT(a.len, 3);
	values_release(&b);
	values_release(&a);
}

T_TEST(values_shift_front)
{
	struct values vs;

	values_init(&vs, 1);
	values_add(&vs, "a", 1, 1);
	values_add(&vs, "b", 2, 1);
	values_add(&vs, "c", 3, 1);
	values_add(&vs, "d", 4, 1);
	values_shift(&vs, 0);
	T_EQ_INT(vs.len, 4);
	values_shift(&vs, 1);
	T_EQ_INT(vs.len, 3);
	T_EQ_STR(vs.items[0].path, "b");
	T_EQ_STR(vs.items[2].path, "d");
	values_shift(&vs, 2);
	T_EQ_INT(vs.len, 1);
	T_EQ_STR(vs.items[0].path, "d");
	/* More than there is empties the batch. */
	values_shift(&vs, 10);
	T_EQ_INT(vs.len, 0);
	values_add(&vs, "e", 5, 1);
	T_EQ_STR(vs.items[0].path, "e");
	values_release(&vs);
}
