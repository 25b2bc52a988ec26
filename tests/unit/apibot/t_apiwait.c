/*
 * Unit tests for the Retry-After holds: a request held until its time,
 * others not, the hour cap, a later hold replacing the earlier, expired
 * holds forgotten.
 */
#include "../t.h"

#include <stdint.h>

#include "../../../apibot/apiwait.h"

T_TEST(apiwait_holds_a_request_until_its_time)
{
	struct apiwait *w = apiwait_new();

	T_EQ_INT(apiwait_left(w, "http://a:80", 1000), 0);
	T_EQ_INT(apiwait_hold(w, "http://a:80", 1000, 5000), 5000);
	T_EQ_INT(apiwait_left(w, "http://a:80", 1000), 5000);
	T_EQ_INT(apiwait_left(w, "http://a:80", 3000), 3000);
	T_EQ_INT(apiwait_left(w, "HTTP://A:80", 3000), 0);
	T_EQ_INT(apiwait_left(w, "http://a:8080", 3000), 0);
	T_EQ_INT(apiwait_left(w, "https://a:443", 3000), 0);
	T_EQ_INT(apiwait_left(w, "http://a:80", 6000), 0);
	/* Forgotten once expired. */
	T_EQ_INT(apiwait_left(w, "http://a:80", 5999), 0);
	/* Capped at an hour; a later hold replaces it. */
	T_EQ_INT(apiwait_hold(w, "http://b:80", 0, INT64_C(86400000)),
	    APIWAIT_MAX_MS);
	T_EQ_INT(apiwait_left(w, "http://b:80", 0), APIWAIT_MAX_MS);
	T_EQ_INT(apiwait_hold(w, "http://b:80", 0, 2000), 2000);
	T_EQ_INT(apiwait_left(w, "http://b:80", 1000), 1000);
	T_EQ_INT(apiwait_hold(w, "http://c:80", 0, 0), 0);
	T_EQ_INT(apiwait_left(w, "http://c:80", 0), 0);
	apiwait_free(w);
}
