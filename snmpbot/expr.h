/*
 * Sensor expressions: the math.js subset the official SNMP bot accepts
 * (numbers, $1..$N, + - * / % ^, parentheses, unary minus, comparisons,
 * ?:, min max abs round floor ceil sqrt pow log exp, pi and e), compiled
 * once per sensor into a small stack program and evaluated per row
 * without allocating.
 */
#ifndef BOT_EXPR_H
#define BOT_EXPR_H

#include <stddef.h>

#include "attrs.h"

/* Longest expression text, program and evaluation stack we accept. */
#define EXPR_MAX_TEXT  4096
#define EXPR_MAX_CODE  512
#define EXPR_MAX_STACK 64
#define EXPR_MAX_DEPTH 64 /* nesting of parentheses and calls */

struct expr;

/* Compiles text (borrowed) for rows of n_vars values ($1..$n_vars).
 * Returns a new program owned by the caller (expr_free), or NULL with err
 * saying what is wrong and where. */
struct expr *expr_compile(
    const char *text, int n_vars, char *err, size_t errlen) BOT_WUR;

/* Evaluates e over vars[0..n_vars) (borrowed): 0 with *out set, or -1
 * when the value must be skipped (division or modulo by zero, a result
 * that is not a finite number).  Never allocates. */
int expr_eval(const struct expr *e, const double *vars, double *out) BOT_WUR;

/* 1 when the expression reads $n (1-based), else 0. */
int expr_uses(const struct expr *e, int n);

void expr_free(struct expr *e);

#endif
