/*
 * A recursive-descent compiler from math.js syntax to a stack program,
 * and its evaluator.  Precedence, lowest first, as math.js has it:
 * ?: (right-associative), comparisons (not chained), + -, * / %, unary
 * + -, ^ (right-associative, so -2^2 is -4 and 2^-1 is 0.5).  The
 * compiler tracks the stack depth of every path, so evaluation runs on a
 * fixed array; ?: compiles to jumps, so only the branch taken runs (a
 * division by zero in the other one does not skip the value).  math.js
 * semantics where C differs: round() halves away from zero, also with a
 * number of decimals (on the shortest decimal form of the value, as
 * math.js does); % is x - y * floor(x / y).
 */
#include "expr.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

enum expr_opcode {
	EXPR_NUM,
	EXPR_VAR,
	EXPR_NEG,
	EXPR_ADD,
	EXPR_SUB,
	EXPR_MUL,
	EXPR_DIV,
	EXPR_MOD,
	EXPR_POW,
	EXPR_EQ,
	EXPR_NE,
	EXPR_LT,
	EXPR_GT,
	EXPR_LE,
	EXPR_GE,
	EXPR_JZ,  /* pop; jump when zero */
	EXPR_JMP, /* jump */
	EXPR_MIN, /* argc values */
	EXPR_MAX,
	EXPR_ABS,
	EXPR_ROUND, /* argc 1 or 2 */
	EXPR_FLOOR,
	EXPR_CEIL,
	EXPR_SQRT,
	EXPR_POW2, /* pow(x, y) */
	EXPR_LOG,  /* argc 1 or 2 */
	EXPR_EXP,
};

struct expr_op {
	unsigned char op;
	unsigned char argc;
	int32_t arg; /* variable index, jump target */
	double num;
};

struct expr {
	size_t n;
	int n_vars;
	unsigned char uses[256]; /* by variable index; n_vars <= 255 */
	struct expr_op code[];
};

struct expr_fn {
	const char *name;
	unsigned char op;
	unsigned char min_args, max_args; /* 0: any number >= 1 */
};

static const struct expr_fn expr_fns[] = {
    {"abs", EXPR_ABS, 1, 1},
    {"ceil", EXPR_CEIL, 1, 1},
    {"exp", EXPR_EXP, 1, 1},
    {"floor", EXPR_FLOOR, 1, 1},
    {"log", EXPR_LOG, 1, 2},
    {"max", EXPR_MAX, 1, 0},
    {"min", EXPR_MIN, 1, 0},
    {"pow", EXPR_POW2, 2, 2},
    {"round", EXPR_ROUND, 1, 2},
    {"sqrt", EXPR_SQRT, 1, 1},
};

struct expr_parser {
	const char *s;
	size_t pos;
	int n_vars;
	int depth;
	int sp, max_sp;
	size_t n;
	struct expr_op code[EXPR_MAX_CODE];
	unsigned char uses[256];
	char *err;
	size_t errlen;
	int failed;
};

static void
expr_fail(struct expr_parser *p, const char *what)
{
	if (p->failed)
		return;
	p->failed = 1;
	snprintf(p->err, p->errlen, "expression \"%.60s\": %s at offset %zu",
	    p->s, what, p->pos);
}

static void
expr_skip_ws(struct expr_parser *p)
{
	while (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
	    p->s[p->pos] == '\n' || p->s[p->pos] == '\r')
		p->pos++;
}

/* Appends an op that changes the stack depth by delta; returns its
 * index. */
static size_t
expr_emit(struct expr_parser *p, int op, int delta)
{
	size_t i = p->n;

	if (p->failed)
		return 0;
	if (p->n == EXPR_MAX_CODE) {
		expr_fail(p, "too long");
		return 0;
	}
	memset(&p->code[i], 0, sizeof(p->code[i]));
	p->code[i].op = (unsigned char)op;
	p->n++;
	p->sp += delta;
	if (p->sp > p->max_sp)
		p->max_sp = p->sp;
	if (p->max_sp > EXPR_MAX_STACK)
		expr_fail(p, "nested too deeply");
	return i;
}

static void expr_ternary(struct expr_parser *p);

static int
expr_enter(struct expr_parser *p)
{
	if (++p->depth > EXPR_MAX_DEPTH) {
		expr_fail(p, "nested too deeply");
		return -1;
	}
	return 0;
}

static void
expr_number(struct expr_parser *p)
{
	const char *s = p->s + p->pos;
	size_t i = 0, digits = 0;
	char buf[128];
	size_t idx;

	while (isdigit((unsigned char)s[i])) {
		i++;
		digits++;
	}
	if (s[i] == '.') {
		i++;
		while (isdigit((unsigned char)s[i])) {
			i++;
			digits++;
		}
	}
	if (digits == 0) {
		expr_fail(p, "bad number");
		return;
	}
	if (s[i] == 'e' || s[i] == 'E') {
		size_t j = i + 1;

		if (s[j] == '+' || s[j] == '-')
			j++;
		if (!isdigit((unsigned char)s[j])) {
			expr_fail(p, "bad exponent");
			return;
		}
		while (isdigit((unsigned char)s[j]))
			j++;
		i = j;
	}
	if (i >= sizeof(buf)) {
		expr_fail(p, "number too long");
		return;
	}
	memcpy(buf, s, i);
	buf[i] = '\0';
	idx = expr_emit(p, EXPR_NUM, 1);
	if (!p->failed)
		p->code[idx].num = strtod(buf, NULL);
	p->pos += i;
}

static void
expr_call(struct expr_parser *p, const struct expr_fn *fn)
{
	int argc = 0, sp0 = p->sp;
	size_t idx;

	p->pos++; /* '(' */
	expr_skip_ws(p);
	if (p->s[p->pos] == ')') {
		expr_fail(p, "a function needs an argument");
		return;
	}
	for (;;) {
		expr_ternary(p);
		if (p->failed)
			return;
		argc++;
		expr_skip_ws(p);
		if (p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->s[p->pos] == ')') {
			p->pos++;
			break;
		}
		expr_fail(p, "expected ',' or ')'");
		return;
	}
	if (argc < fn->min_args || (fn->max_args && argc > fn->max_args) ||
	    argc > 255) {
		expr_fail(p, "wrong number of arguments");
		return;
	}
	idx = expr_emit(p, fn->op, 0);
	if (p->failed)
		return;
	p->code[idx].argc = (unsigned char)argc;
	p->sp = sp0 + 1;
}

static void
expr_primary(struct expr_parser *p)
{
	const char *s;
	char c;

	expr_skip_ws(p);
	s = p->s + p->pos;
	c = *s;
	if (c == '(') {
		p->pos++;
		if (expr_enter(p) != 0)
			return;
		expr_ternary(p);
		p->depth--;
		expr_skip_ws(p);
		if (p->failed)
			return;
		if (p->s[p->pos] != ')') {
			expr_fail(p, "expected ')'");
			return;
		}
		p->pos++;
	} else if (isdigit((unsigned char)c) || c == '.') {
		expr_number(p);
	} else if (c == '$') {
		long v = 0;
		size_t i = 1;
		size_t idx;

		while (isdigit((unsigned char)s[i]) && v <= 100000)
			v = v * 10 + (s[i++] - '0');
		if (i == 1 || v < 1 || v > p->n_vars) {
			expr_fail(p,
			    "unknown variable (the sensor has fewer "
			    "OIDs)");
			return;
		}
		idx = expr_emit(p, EXPR_VAR, 1);
		if (p->failed)
			return;
		p->code[idx].arg = (int32_t)(v - 1);
		p->uses[v - 1] = 1;
		p->pos += i;
	} else if (isalpha((unsigned char)c) || c == '_') {
		size_t i = 0, k, idx;

		while (isalnum((unsigned char)s[i]) || s[i] == '_')
			i++;
		p->pos += i;
		expr_skip_ws(p);
		if (p->s[p->pos] == '(') {
			for (k = 0; k < sizeof(expr_fns) / sizeof(expr_fns[0]);
			     k++)
				if (strlen(expr_fns[k].name) == i &&
				    memcmp(expr_fns[k].name, s, i) == 0)
					break;
			if (k == sizeof(expr_fns) / sizeof(expr_fns[0])) {
				p->pos -= i;
				expr_fail(p, "unknown function");
				return;
			}
			if (expr_enter(p) != 0)
				return;
			expr_call(p, &expr_fns[k]);
			p->depth--;
			return;
		}
		idx = expr_emit(p, EXPR_NUM, 1);
		if (p->failed)
			return;
		if (i == 2 && memcmp(s, "pi", 2) == 0) {
			p->code[idx].num = M_PI;
		} else if (i == 1 && s[0] == 'e') {
			p->code[idx].num = M_E;
		} else {
			p->pos -= i;
			expr_fail(p, "unknown name");
		}
	} else if (c == '\0') {
		expr_fail(p, "unexpected end");
	} else {
		expr_fail(p, "unexpected character");
	}
}

/* pow: primary ('^' unary)*, right-associative. */
static void expr_unary(struct expr_parser *p);

static void
expr_power(struct expr_parser *p)
{
	expr_primary(p);
	expr_skip_ws(p);
	if (!p->failed && p->s[p->pos] == '^') {
		p->pos++;
		if (expr_enter(p) != 0)
			return;
		expr_unary(p);
		p->depth--;
		expr_emit(p, EXPR_POW, -1);
	}
}

static void
expr_unary(struct expr_parser *p)
{
	expr_skip_ws(p);
	if (p->s[p->pos] == '-' || p->s[p->pos] == '+') {
		int neg = p->s[p->pos] == '-';

		p->pos++;
		if (expr_enter(p) != 0)
			return;
		expr_unary(p);
		p->depth--;
		if (neg)
			expr_emit(p, EXPR_NEG, 0);
		return;
	}
	expr_power(p);
}

static void
expr_term(struct expr_parser *p)
{
	expr_unary(p);
	for (;;) {
		char c;
		int op;

		expr_skip_ws(p);
		c = p->s[p->pos];
		if (p->failed || (c != '*' && c != '/' && c != '%'))
			return;
		op = c == '*' ? EXPR_MUL : c == '/' ? EXPR_DIV : EXPR_MOD;
		p->pos++;
		expr_unary(p);
		expr_emit(p, op, -1);
	}
}

static void
expr_sum(struct expr_parser *p)
{
	expr_term(p);
	for (;;) {
		char c;

		expr_skip_ws(p);
		c = p->s[p->pos];
		if (p->failed || (c != '+' && c != '-'))
			return;
		p->pos++;
		expr_term(p);
		expr_emit(p, c == '+' ? EXPR_ADD : EXPR_SUB, -1);
	}
}

/* The comparison at the parser's position, or -1 (sets *len). */
static int
expr_cmp_op(const char *s, size_t *len)
{
	*len = 2;
	if (s[0] == '=' && s[1] == '=')
		return EXPR_EQ;
	if (s[0] == '!' && s[1] == '=')
		return EXPR_NE;
	if (s[0] == '<' && s[1] == '=')
		return EXPR_LE;
	if (s[0] == '>' && s[1] == '=')
		return EXPR_GE;
	*len = 1;
	if (s[0] == '<')
		return EXPR_LT;
	if (s[0] == '>')
		return EXPR_GT;
	return -1;
}

static void
expr_compare(struct expr_parser *p)
{
	size_t len;
	int op;

	expr_sum(p);
	expr_skip_ws(p);
	if (p->failed)
		return;
	op = expr_cmp_op(p->s + p->pos, &len);
	if (op < 0)
		return;
	p->pos += len;
	expr_sum(p);
	expr_emit(p, op, -1);
	expr_skip_ws(p);
	if (!p->failed && expr_cmp_op(p->s + p->pos, &len) >= 0)
		expr_fail(p, "chained comparisons are not supported");
}

static void
expr_ternary(struct expr_parser *p)
{
	size_t jz, jmp;

	expr_compare(p);
	expr_skip_ws(p);
	if (p->failed || p->s[p->pos] != '?')
		return;
	p->pos++;
	if (expr_enter(p) != 0)
		return;
	jz = expr_emit(p, EXPR_JZ, -1);
	expr_ternary(p);
	jmp = expr_emit(p, EXPR_JMP, 0);
	expr_skip_ws(p);
	if (!p->failed && p->s[p->pos] != ':')
		expr_fail(p, "expected ':'");
	if (p->failed)
		return;
	p->pos++;
	p->sp--; /* the other branch starts without the first one's value */
	p->code[jz].arg = (int32_t)p->n;
	expr_ternary(p);
	p->depth--;
	if (!p->failed)
		p->code[jmp].arg = (int32_t)p->n;
}

struct expr *
expr_compile(const char *text, int n_vars, char *err, size_t errlen)
{
	struct expr_parser *p;
	struct expr *e = NULL;

	if (text == NULL || strlen(text) > EXPR_MAX_TEXT) {
		snprintf(err, errlen, "expression missing or too long");
		return NULL;
	}
	if (n_vars < 0 || n_vars > 255) {
		snprintf(err, errlen, "too many OIDs for an expression");
		return NULL;
	}
	p = xcalloc(1, sizeof(*p));
	p->s = text;
	p->n_vars = n_vars;
	p->err = err;
	p->errlen = errlen;
	expr_ternary(p);
	expr_skip_ws(p);
	if (!p->failed && p->s[p->pos] != '\0')
		expr_fail(p, "unexpected character");
	if (!p->failed && p->sp != 1)
		expr_fail(p, "internal stack error");
	if (p->failed)
		goto out;
	e = xmalloc(sizeof(*e) + p->n * sizeof(e->code[0]));
	e->n = p->n;
	e->n_vars = n_vars;
	memcpy(e->uses, p->uses, sizeof(e->uses));
	memcpy(e->code, p->code, p->n * sizeof(e->code[0]));
out:
	free(p);
	return e;
}

void
expr_free(struct expr *e)
{
	free(e);
}

int
expr_uses(const struct expr *e, int n)
{
	if (e == NULL || n < 1 || n > e->n_vars)
		return 0;
	return e->uses[n - 1];
}

/* math.js rounds a number to d decimals on its shortest decimal form
 * (so round(1.005, 2) is 1.01), halves away from zero. */
static double
expr_round_to(double x, int d)
{
	char buf[64], digits[40];
	int prec, exp10, nd = 0, i, keep;
	char *e;
	double y;

	if (d == 0 || !isfinite(x))
		return round(x);
	for (prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*e", prec - 1, x);
		if (strtod(buf, NULL) == x)
			break;
	}
	/* buf: [-]D.DDDe[+-]X */
	for (i = buf[0] == '-' ? 1 : 0; buf[i] != 'e'; i++)
		if (isdigit((unsigned char)buf[i]))
			digits[nd++] = buf[i];
	exp10 = (int)strtol(buf + i + 1, &e, 10);
	/* value = 0.D1D2... * 10^(exp10 + 1); keep digits before the
	 * (exp10 + 1 + d)-th */
	keep = exp10 + 1 + d;
	if (keep >= nd)
		return x;
	if (keep < 0)
		return x < 0 ? -0.0 : 0.0;
	{
		char out[64];
		int carry = digits[keep] >= '5', j;

		for (j = keep - 1; j >= 0 && carry; j--) {
			if (digits[j] == '9') {
				digits[j] = '0';
			} else {
				digits[j]++;
				carry = 0;
			}
		}
		snprintf(out, sizeof(out), "%s%s%.*se%d", x < 0 ? "-" : "",
		    carry ? "0.1" : "0.", keep, digits, exp10 + 1 + carry);
		y = strtod(out, NULL);
	}
	return y;
}

int
expr_eval(const struct expr *e, const double *vars, double *out)
{
	double st[EXPR_MAX_STACK + 1];
	int sp = 0, k;
	size_t pc = 0;

	while (pc < e->n) {
		const struct expr_op *o = &e->code[pc++];
		double a, b;

		switch (o->op) {
		case EXPR_NUM:
			st[sp++] = o->num;
			break;
		case EXPR_VAR:
			st[sp++] = vars[o->arg];
			break;
		case EXPR_NEG:
			st[sp - 1] = -st[sp - 1];
			break;
		case EXPR_JZ:
			if (st[--sp] == 0)
				pc = (size_t)o->arg;
			break;
		case EXPR_JMP:
			pc = (size_t)o->arg;
			break;
		case EXPR_MIN:
		case EXPR_MAX:
			a = st[sp - o->argc];
			for (k = sp - o->argc + 1; k < sp; k++) {
				if (isnan(st[k]) || isnan(a))
					a = NAN;
				else if (o->op == EXPR_MIN ? st[k] < a
				                           : st[k] > a)
					a = st[k];
			}
			sp -= o->argc;
			st[sp++] = a;
			break;
		case EXPR_ABS:
			st[sp - 1] = fabs(st[sp - 1]);
			break;
		case EXPR_FLOOR:
			st[sp - 1] = floor(st[sp - 1]);
			break;
		case EXPR_CEIL:
			st[sp - 1] = ceil(st[sp - 1]);
			break;
		case EXPR_SQRT:
			st[sp - 1] = sqrt(st[sp - 1]);
			break;
		case EXPR_EXP:
			st[sp - 1] = exp(st[sp - 1]);
			break;
		case EXPR_ROUND:
			if (o->argc == 2) {
				b = st[--sp];
				if (!(b >= 0 && b <= 15) || b != floor(b))
					return -1; /* math.js throws */
				st[sp - 1] = expr_round_to(st[sp - 1], (int)b);
			} else {
				st[sp - 1] = round(st[sp - 1]);
			}
			break;
		case EXPR_LOG:
			if (o->argc == 2) {
				b = st[--sp];
				st[sp - 1] = log(st[sp - 1]) / log(b);
			} else {
				st[sp - 1] = log(st[sp - 1]);
			}
			break;
		default:
			b = st[--sp];
			a = st[sp - 1];
			switch (o->op) {
			case EXPR_ADD:
				a = a + b;
				break;
			case EXPR_SUB:
				a = a - b;
				break;
			case EXPR_MUL:
				a = a * b;
				break;
			case EXPR_DIV:
				if (b == 0)
					return -1;
				a = a / b;
				break;
			case EXPR_MOD:
				if (b == 0)
					return -1;
				a = a - b * floor(a / b);
				break;
			case EXPR_POW:
			case EXPR_POW2:
				a = pow(a, b);
				break;
			case EXPR_EQ:
				a = a == b;
				break;
			case EXPR_NE:
				a = a != b;
				break;
			case EXPR_LT:
				a = a < b;
				break;
			case EXPR_GT:
				a = a > b;
				break;
			case EXPR_LE:
				a = a <= b;
				break;
			default:
				a = a >= b;
				break;
			}
			st[sp - 1] = a;
			break;
		}
	}
	if (sp != 1 || !isfinite(st[0]))
		return -1;
	*out = st[0];
	return 0;
}
