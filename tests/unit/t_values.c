/*
 * Unit tests for values.c: building a batch (stamps rounded to the
 * microsecond) and number formatting that reads back the same double.
 * The JSON of a request is tested with batch.c.
 */
#include <json-c/json.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "t.h"
#include "values.h"

/* Encodes everything of vs into a fresh string (owned by the caller). */
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

/* The one isfinite check between run_emit and the JSON of a request. */
T_TEST(values_add_refuses_what_json_cannot_carry)
{
	struct values vs;

	values_init(&vs, 1);
	T_EQ_INT(values_add(&vs, "a.nan", NAN, 1700000000.0), -1);
	T_EQ_INT(values_add(&vs, "a.inf", INFINITY, 1700000000.0), -1);
	T_EQ_INT(values_add(&vs, "a.ninf", -INFINITY, 1700000000.0), -1);
	T_EQ_INT(values_add(&vs, "a.t", 1, NAN), -1);
	T_EQ_INT(values_add(&vs, "a.t", 1, INFINITY), -1);
	T_EQ_INT(vs.len, 0);
	T_EQ_INT(values_add(&vs, "a.ok", -0.0, 1700000000.0), 0);
	T_EQ_INT(values_add(&vs, "a.max", 1.7976931348623157e308, 1), 0);
	T_EQ_INT(vs.len, 2);
	T_EQ_INT(vs.items[0].seg, 0);
	T_EQ_INT(vs.items[0].enq_ms, 0);
	values_release(&vs);
}

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

T_TEST(values_format_time_to_the_microsecond)
{
	char out[64], ref[64];
	double t;
	int i;

	values_format_time(1700000000.123456, out, sizeof(out));
	T_EQ_STR(out, "1700000000.123456");
	values_format_time(0, out, sizeof(out));
	T_EQ_STR(out, "0.000000");
	values_format_time(1700000000.9999996, out, sizeof(out));
	T_EQ_STR(out, "1700000001.000000");
	values_format_time(-1.5, out, sizeof(out)); /* outside: %.6f */
	T_EQ_STR(out, "-1.500000");
	/* Measurement times as bots make them, times on the tenth of a
	 * microsecond (half-way cases) and random ones: always what %.6f
	 * prints. */
	srand48(7);
	for (i = 0; i < 200000; i++) {
		if (i % 2)
			t = 1700000000.0 + i * 37.000013 + (i % 1000) * 1e-7;
		else
			t = drand48() * 1e11;
		values_format_time(t, out, sizeof(out));
		snprintf(ref, sizeof(ref), "%.6f", t);
		if (strcmp(out, ref) != 0)
			t_fail(__FILE__, __LINE__, "%.9f: %s, not %s", t, out,
			    ref);
		T_ASSERT(!t_failed);
	}
}

/* Issue 13 9: %.6f of 1e300 in a 40-byte buffer was cut to 39 digits,
 * which read back as 1e38.  A time is never cut, and times outside
 * (0, 1e10) are refused wherever values come in. */
T_TEST(values_time_never_cut_and_range_checked)
{
	static const double huge[] = {
	    1e300, -1e300, 1e15, 1.7976931348623157e308};
	char out[40];
	size_t i;

	for (i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
		values_format_time(huge[i], out, sizeof(out));
		T_EQ_DBL(strtod(out, NULL), huge[i], 0);
	}
	values_format_time(9999999999.5, out, sizeof(out));
	T_EQ_STR(out, "9999999999.500000");
	T_ASSERT(values_time_valid(1700000000.5));
	T_ASSERT(values_time_valid(9999999999.999999));
	T_ASSERT(values_time_valid(1e-6));
	T_ASSERT(!values_time_valid(0));
	T_ASSERT(!values_time_valid(-1));
	T_ASSERT(!values_time_valid(1e10));
	T_ASSERT(!values_time_valid(1e300));
	T_ASSERT(!values_time_valid(NAN));
	T_ASSERT(!values_time_valid(INFINITY));
	T_ASSERT(!values_time_valid(-INFINITY));
}
