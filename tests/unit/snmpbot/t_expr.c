/*
 * The expression evaluator: math.js precedence and associativity,
 * functions, comparisons and ?:, round halves away from zero, division by
 * zero and non-finite results skipped, and compile errors.
 */
#include <math.h>
#include <stdio.h>

#include "../../../snmpbot/expr.h"
#include "../t.h"

/* Compiles and evaluates text over vars; returns expr_eval's result. */
static int
t_expr_run(const char *text, const double *vars, int n_vars, double *out)
{
	char err[256];
	struct expr *e = expr_compile(text, n_vars, err, sizeof(err));
	int rc;

	if (e == NULL) {
		fprintf(stderr, "compile %s: %s\n", text, err);
		return -2;
	}
	rc = expr_eval(e, vars, out);
	expr_free(e);
	return rc;
}

#define T_EXPR(text, want)                                                     \
	do {                                                                   \
		double v_ = NAN;                                               \
		T_EQ_INT(t_expr_run(text, vars, 3, &v_), 0);                   \
		T_EQ_DBL(v_, want, 1e-9);                                      \
	} while (0)

T_TEST(expr_arithmetic_and_precedence)
{
	double vars[3] = {10, 4, 2.5};

	T_EXPR("$2", 4);
	T_EXPR("$1 + $2 * $3", 20);
	T_EXPR("($1 + $2) * $3", 35);
	T_EXPR("$1 / 1000.0", 0.01);
	T_EXPR("2 ^ 3 ^ 2", 512);
	T_EXPR("-2 ^ 2", -4);
	T_EXPR("2 ^ -1", 0.5);
	T_EXPR("--3", 3);
	T_EXPR("+3 - -3", 6);
	T_EXPR("10 - 4 - 3", 3);
	T_EXPR("100 / 10 / 5", 2);
	T_EXPR("7 % 3", 1);
	T_EXPR("-7 % 3", 2);
	T_EXPR("7 % -3", -2);
	T_EXPR("5.5 % 2", 1.5);
	T_EXPR(" 1.5e3 + .5 ", 1500.5);
	T_EXPR("8 * $3 / 2", 10);
}

T_TEST(expr_comparisons_and_conditional)
{
	double vars[3] = {10, 4, 2.5};

	T_EXPR("$1 > $2", 1);
	T_EXPR("$1 < $2", 0);
	T_EXPR("$1 >= 10", 1);
	T_EXPR("$1 <= 9", 0);
	T_EXPR("$1 == 10", 1);
	T_EXPR("$1 != 10", 0);
	T_EXPR("$1 > 5 ? 1 : 2", 1);
	T_EXPR("$1 > 50 ? 1 : 2", 2);
	T_EXPR("$1 > 50 ? 1 : $2 > 3 ? 3 : 4", 3);
	T_EXPR("1 + 2 > 2 ? 5 * 2 : 0", 10);
	/* Only the branch taken runs: no division by zero here. */
	T_EXPR("$2 > 0 ? $1 / $2 : $1 / 0", 2.5);
}

T_TEST(expr_functions)
{
	double vars[3] = {10, 4, 2.5};

	T_EXPR("min($1, $2, $3)", 2.5);
	T_EXPR("max($1, $2, $3)", 10);
	T_EXPR("max(3)", 3);
	T_EXPR("abs(-3.5)", 3.5);
	T_EXPR("floor(-2.5)", -3);
	T_EXPR("ceil(2.1)", 3);
	T_EXPR("sqrt(16)", 4);
	T_EXPR("pow(2, 10)", 1024);
	T_EXPR("log(exp(2))", 2);
	T_EXPR("log(1000, 10)", 3);
	T_EXPR("exp(0)", 1);
	T_EXPR("round(pi * 100) / 100", 3.14);
	T_EXPR("round(e, 3)", 2.718);
}

T_TEST(expr_round_halves_away_from_zero)
{
	double vars[3] = {42.5, -42.5, 0};

	/* math.js: 43 (the official bot's Python round gives 42). */
	T_EXPR("round($1)", 43);
	T_EXPR("round($2)", -43);
	T_EXPR("round(2.5)", 3);
	T_EXPR("round(0.49999999999999994)", 0);
	T_EXPR("round(1.005, 2)", 1.01);
	T_EXPR("round(-1.005, 2)", -1.01);
	T_EXPR("round(9.995, 2)", 10);
	T_EXPR("round(1234.5678, 1)", 1234.6);
	T_EXPR("round(0.000123, 3)", 0);
}

T_TEST(expr_skips_division_by_zero_and_non_finite)
{
	double vars[3] = {10, 0, -1};
	double v;

	T_EQ_INT(t_expr_run("$1 / $2", vars, 3, &v), -1);
	T_EQ_INT(t_expr_run("$1 % $2", vars, 3, &v), -1);
	T_EQ_INT(t_expr_run("sqrt($3)", vars, 3, &v), -1);
	T_EQ_INT(t_expr_run("log($2)", vars, 3, &v), -1);
	T_EQ_INT(t_expr_run("exp(1000)", vars, 3, &v), -1);
	T_EQ_INT(t_expr_run("10 ^ 400", vars, 3, &v), -1);
	T_EQ_INT(t_expr_run("round(1.5, 16)", vars, 3, &v), -1);
	T_EQ_INT(t_expr_run("$1 / 4", vars, 3, &v), 0);
	T_EQ_DBL(v, 2.5, 0);
}

T_TEST(expr_compile_errors)
{
	static const char *const bad[] = {"", "$0", "$4", "$", "1 +", "(1",
	    "1)", "foo(1)", "bar", "min()", "pow(1)", "abs(1, 2)", "1 < 2 < 3",
	    "1 ? 2", "1 2", "1e", "1..2", "@", "$1 $2", "round(1,2,3)", "'1'"};
	char err[256];
	char deep[400];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct expr *e = expr_compile(bad[i], 3, err, sizeof(err));

		if (e != NULL)
			fprintf(stderr, "compiled: %s\n", bad[i]);
		T_ASSERT(e == NULL);
		T_ASSERT(strstr(err, "expression") != NULL ||
		    strstr(err, "too long") != NULL);
	}
	memset(deep, '(', 200);
	deep[200] = '1';
	memset(deep + 201, ')', 198);
	deep[399] = '\0';
	T_ASSERT(expr_compile(deep, 3, err, sizeof(err)) == NULL);
	T_ASSERT(strstr(err, "deeply") != NULL);
	T_ASSERT(expr_compile(NULL, 3, err, sizeof(err)) == NULL);
}

T_TEST(expr_uses_reports_variables)
{
	char err[256];
	struct expr *e = expr_compile("$2 * 8 + $3", 3, err, sizeof(err));

	T_ASSERT(e != NULL);
	T_EQ_INT(expr_uses(e, 1), 0);
	T_EQ_INT(expr_uses(e, 2), 1);
	T_EQ_INT(expr_uses(e, 3), 1);
	T_EQ_INT(expr_uses(e, 4), 0);
	expr_free(e);
}
