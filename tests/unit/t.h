/*
 * A tiny unit-test framework (Redis testhelp.h, libuv task.h).  T_TEST
 * registers a test through a constructor; t_main.c runs all of them, or
 * those named on the command line, one line each, and ends with
 * "N passed, N failed".  Assertions print both values and file:line, then
 * end the current test.
 */
#ifndef BOT_T_H
#define BOT_T_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

typedef void t_fn(void);

void t_register(const char *name, t_fn *fn);
void t_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Set by t_fail; each assertion returns from the test when it is set. */
extern int t_failed;
/* A scratch directory for the current run, created on first use. */
const char *t_tmpdir(void);
/* json-c's parse of a test's own JSON text (a new reference); a text that
 * does not parse is a broken test: it says so and exits 2. */
struct json_object *t_json(const char *text);

#define T_TEST(name)                                                           \
	static void name(void);                                                \
	__attribute__((constructor)) static void name##_register(void)         \
	{                                                                      \
		t_register(#name, name);                                       \
	}                                                                      \
	static void name(void)

#define T_ASSERT(c)                                                            \
	do {                                                                   \
		if (!(c)) {                                                    \
			t_fail(                                                \
			    __FILE__, __LINE__, "assertion failed: %s", #c);   \
			return;                                                \
		}                                                              \
	} while (0)

#define T_EQ_INT(a, b)                                                         \
	do {                                                                   \
		long long t_a_ = (long long)(a), t_b_ = (long long)(b);        \
		if (t_a_ != t_b_) {                                            \
			t_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld",   \
			    #a, #b, t_a_, t_b_);                               \
			return;                                                \
		}                                                              \
	} while (0)

#define T_EQ_DBL(a, b, eps)                                                    \
	do {                                                                   \
		double t_a_ = (a), t_b_ = (b);                                 \
		if (!(t_a_ - t_b_ <= (eps) && t_b_ - t_a_ <= (eps))) {         \
			t_fail(__FILE__, __LINE__, "%s == %s: %.9g != %.9g",   \
			    #a, #b, t_a_, t_b_);                               \
			return;                                                \
		}                                                              \
	} while (0)

#define T_EQ_STR(a, b)                                                         \
	do {                                                                   \
		const char *t_a_ = (a), *t_b_ = (b);                           \
		if (t_a_ == NULL || t_b_ == NULL || strcmp(t_a_, t_b_)) {      \
			t_fail(__FILE__, __LINE__,                             \
			    "%s == %s: \"%s\" != \"%s\"", #a, #b,              \
			    t_a_ ? t_a_ : "(null)", t_b_ ? t_b_ : "(null)");   \
			return;                                                \
		}                                                              \
	} while (0)

#define T_EQ_MEM(a, b, n)                                                      \
	do {                                                                   \
		if (memcmp((a), (b), (n))) {                                   \
			t_fail(__FILE__, __LINE__,                             \
			    "%s == %s: %zu bytes differ", #a, #b,              \
			    (size_t)(n));                                      \
			return;                                                \
		}                                                              \
	} while (0)

#endif
