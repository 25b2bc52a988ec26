/*
 * jq filters: a cache of compiled states keyed by text, and runs that
 * flatten outputs into numbered items.  A jq_state is not reentrant, so
 * runs of one filter hold run_mu.  A halt from another thread goes
 * through jq_halt, which libjq checks between bytecode instructions (the
 * flag is a plain int read by the running thread; state_mu keeps the halt
 * and the run's start and end apart, and a filter cannot call halt
 * itself, so jq_halt's "not yet halted" assertion holds).
 */
#include "apifilter.h"

#include <jq.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "xmalloc.h"

/*
 * Put before every filter, on the same line (jq's error lines stay right):
 * libjq 1.6's tonumber parses the string as any JSON text and leaks the
 * result when it is valid but not a number (e.g. "[]"), once per poll of
 * an API answering such strings; this tonumber hands only number-shaped
 * strings to fromjson and otherwise fails as the builtin does.
 */
#define APIFILTER_PRELUDE                                                      \
	"def tonumber: if type == \"number\" then . elif type == \"string\" "  \
	"and test(\"^[ \\t\\r\\n]*-?([0-9]+[.]?[0-9]*|[.][0-9]+)"              \
	"([eE][-+]?[0-9]+)?[ \\t\\r\\n]*$\") then fromjson else "              \
	"error(\"\\(tojson) cannot be parsed as a number\") end; "

struct apifilter {
	char *text;
	jq_state *jq;
	int refs;
	pthread_mutex_t run_mu;
	pthread_mutex_t state_mu;
	int running;
	int halted; /* by apifilter_halt during this run */
	struct apifilter *next;
};

static struct apifilter *apifilter_all;
static size_t apifilter_n;

static const char *const apifilter_forbidden[] = {
    "input",
    "inputs",
    "debug",
    "stderr",
    "env",
    "ENV",
    "halt",
    "halt_error",
    "input_filename",
    "import",
    "include",
    "get_search_list",
};

static int
apifilter_ident_char(char c, int first)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')
		return 1;
	return !first && c >= '0' && c <= '9';
}

int
apifilter_check_text(const char *text, char *err, size_t errlen)
{
	/* Paren depth at which each open string interpolation "\(" began. */
	int interp[32];
	int n_interp = 0, depth = 0, in_str = 0;
	const char *p = text;
	size_t i;

	while (*p != '\0') {
		if (in_str) {
			if (*p == '\\' && p[1] == '(') {
				if (n_interp == 32)
					goto too_deep;
				interp[n_interp++] = depth++;
				in_str = 0;
				p += 2;
			} else if (*p == '\\' && p[1] != '\0') {
				p += 2;
			} else {
				if (*p == '"')
					in_str = 0;
				p++;
			}
			continue;
		}
		if (*p == '"') {
			in_str = 1;
			p++;
		} else if (*p == '#') { /* comment to the end of the line */
			while (*p != '\0' && *p != '\n')
				p++;
		} else if (*p == '(') {
			depth++;
			p++;
		} else if (*p == ')') {
			depth--;
			if (n_interp > 0 && depth == interp[n_interp - 1]) {
				n_interp--;
				in_str = 1;
			}
			p++;
		} else if (apifilter_ident_char(*p, 1)) {
			const char *s = p;
			/* .name is a field, not a call */
			int field = s > text && s[-1] == '.';

			while (apifilter_ident_char(*p, 0))
				p++;
			if (field)
				continue;
			for (i = 0; i < sizeof(apifilter_forbidden) /
			         sizeof(apifilter_forbidden[0]);
			     i++) {
				if (strlen(apifilter_forbidden[i]) ==
				        (size_t)(p - s) &&
				    memcmp(apifilter_forbidden[i], s,
				        (size_t)(p - s)) == 0) {
					snprintf(err, errlen,
					    "jq filter uses \"%s\", which "
					    "apibot does not allow",
					    apifilter_forbidden[i]);
					return -1;
				}
			}
		} else {
			p++;
		}
	}
	return 0;
too_deep:
	snprintf(err, errlen, "jq filter nests string interpolation too deep");
	return -1;
}

struct apifilter_errs {
	char *buf;
	size_t len;
};

static void
apifilter_on_error(void *data, jv msg)
{
	struct apifilter_errs *e = data;
	jv s = jq_format_error(jv_copy(msg));

	if (e->buf[0] == '\0' && jv_get_kind(s) == JV_KIND_STRING)
		snprintf(e->buf, e->len, "%s", jv_string_value(s));
	jv_free(s);
	jv_free(msg);
}

/* Errors at run time are returned by jq_next; this one only swallows
 * anything libjq would print on stderr. */
static void
apifilter_quiet(void *data, jv msg)
{
	(void)data;
	jv_free(msg);
}

struct apifilter *
apifilter_get(const char *text, char *err, size_t errlen)
{
	struct apifilter *f;
	struct apifilter_errs e;
	char why[APIFILTER_MSGLEN] = "";
	char *nl, *program;
	int ok;

	for (f = apifilter_all; f != NULL; f = f->next) {
		if (strcmp(f->text, text) == 0) {
			f->refs++;
			return f;
		}
	}
	if (apifilter_check_text(text, err, errlen) == -1)
		return NULL;
	f = xcalloc(1, sizeof(*f));
	f->jq = jq_init();
	if (f->jq == NULL)
		fatalx("jq_init failed");
	e.buf = why;
	e.len = sizeof(why);
	jq_set_error_cb(f->jq, apifilter_on_error, &e);
	program = xmalloc(sizeof(APIFILTER_PRELUDE) + strlen(text));
	memcpy(program, APIFILTER_PRELUDE, sizeof(APIFILTER_PRELUDE) - 1);
	memcpy(program + sizeof(APIFILTER_PRELUDE) - 1, text, strlen(text) + 1);
	ok = jq_compile(f->jq, program);
	free(program);
	if (!ok) {
		/* jq's text spans lines; the first one says it. */
		nl = strchr(why, '\n');
		if (nl != NULL)
			*nl = '\0';
		snprintf(err, errlen, "jq filter does not compile: %s",
		    why[0] ? why : "syntax error");
		jq_teardown(&f->jq);
		free(f);
		return NULL;
	}
	jq_set_error_cb(f->jq, apifilter_quiet, NULL);
	f->text = xstrdup(text);
	f->refs = 1;
	pthread_mutex_init(&f->run_mu, NULL);
	pthread_mutex_init(&f->state_mu, NULL);
	f->next = apifilter_all;
	apifilter_all = f;
	apifilter_n++;
	return f;
}

struct apifilter *
apifilter_ref(struct apifilter *f)
{
	f->refs++;
	return f;
}

void
apifilter_put(struct apifilter *f)
{
	struct apifilter **pp;

	if (f == NULL || --f->refs > 0)
		return;
	for (pp = &apifilter_all; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == f) {
			*pp = f->next;
			break;
		}
	}
	apifilter_n--;
	jq_teardown(&f->jq);
	pthread_mutex_destroy(&f->run_mu);
	pthread_mutex_destroy(&f->state_mu);
	free(f->text);
	free(f);
}

const char *
apifilter_text(const struct apifilter *f)
{
	return f->text;
}

size_t
apifilter_count(void)
{
	return apifilter_n;
}

static int
apifilter_plain(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z') || c == '_' || c == '-';
}

int
apifilter_key_append(char *out, size_t outlen, const char *key, size_t len)
{
	size_t o = strlen(out), start = o, i;
	int in_run = 0;

	if (o + 2 >= outlen)
		return -1;
	out[o++] = '.';
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)key[i];

		if (apifilter_plain(c))
			in_run = 0;
		else if (in_run)
			continue;
		else
			in_run = 1;
		if (o + 1 >= outlen) {
			out[start] = '\0';
			return -1;
		}
		out[o++] = in_run ? '-' : (char)c;
	}
	if (len == 0)
		out[o++] = '-';
	out[o] = '\0';
	return 0;
}

int
apifilter_number(const char *s, size_t len, double *v)
{
	char tmp[64], *end;
	size_t a = 0, b = len, i;
	int digits = 0;
	double d;

	while (a < b && (s[a] == ' ' || s[a] == '\t'))
		a++;
	while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t'))
		b--;
	if (a == b || b - a >= sizeof(tmp))
		return -1;
	for (i = a; i < b; i++) {
		char c = s[i];

		if (c >= '0' && c <= '9')
			digits = 1;
		else if (c != '+' && c != '-' && c != '.' && c != 'e' &&
		    c != 'E')
			return -1;
	}
	if (!digits)
		return -1;
	memcpy(tmp, s + a, b - a);
	tmp[b - a] = '\0';
	d = strtod(tmp, &end);
	if (*end != '\0' || !isfinite(d))
		return -1;
	*v = d;
	return 0;
}

static void
apifilter_skip(struct apifilter_result *r, jv_kind kind)
{
	if (r->skipped++ == 0)
		snprintf(r->skipped_kind, sizeof(r->skipped_kind), "%s",
		    kind == JV_KIND_STRING ? "text" : jv_kind_name(kind));
}

static void
apifilter_add(struct apifilter_result *r, const char *key, double v)
{
	if (r->n == APIFILTER_MAX_ITEMS) {
		if (!r->runaway)
			snprintf(r->msg, sizeof(r->msg),
			    "jq filter yields more than %d values",
			    APIFILTER_MAX_ITEMS);
		r->runaway = 1;
		return;
	}
	if (!isfinite(v)) {
		apifilter_skip(r, JV_KIND_NUMBER);
		return;
	}
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 8;
		r->items = xreallocarray(r->items, r->cap, sizeof(*r->items));
	}
	snprintf(r->items[r->n].key, sizeof(r->items[r->n].key), "%s", key);
	r->items[r->n].v = v;
	r->n++;
}

/* Adds one output (consumed) under key. */
static void
apifilter_flatten(struct apifilter_result *r, jv x, char *key, int nest)
{
	jv_kind kind = jv_get_kind(x);
	double d;

	switch (kind) {
	case JV_KIND_NUMBER:
		apifilter_add(r, key, jv_number_value(x));
		break;
	case JV_KIND_TRUE:
		apifilter_add(r, key, 1);
		break;
	case JV_KIND_FALSE:
		apifilter_add(r, key, 0);
		break;
	case JV_KIND_STRING:
		if (apifilter_number(jv_string_value(x),
		        (size_t)jv_string_length_bytes(jv_copy(x)), &d) == 0)
			apifilter_add(r, key, d);
		else
			apifilter_skip(r, kind);
		break;
	case JV_KIND_OBJECT: {
		size_t len = strlen(key);
		int it;

		if (nest >= APIFILTER_MAX_NEST) {
			apifilter_skip(r, kind);
			break;
		}
		for (it = jv_object_iter(x);
		     jv_object_iter_valid(x, it) && !r->runaway;
		     it = jv_object_iter_next(x, it)) {
			jv k = jv_object_iter_key(x, it);
			jv v = jv_object_iter_value(x, it);

			if (apifilter_key_append(key, APIFILTER_KEYLEN,
			        jv_string_value(k),
			        (size_t)jv_string_length_bytes(jv_copy(k))) ==
			    0)
				apifilter_flatten(r, v, key, nest + 1);
			else {
				apifilter_skip(r, JV_KIND_OBJECT);
				jv_free(v);
			}
			key[len] = '\0';
			jv_free(k);
		}
		break;
	}
	default:
		apifilter_skip(r, kind);
		break;
	}
	jv_free(x);
}

void
apifilter_run(struct apifilter *f, jv input, struct apifilter_result *r)
{
	char key[APIFILTER_KEYLEN];
	jv out;
	int halted;

	pthread_mutex_lock(&f->run_mu);
	pthread_mutex_lock(&f->state_mu);
	f->running = 1;
	f->halted = 0;
	pthread_mutex_unlock(&f->state_mu);

	jq_start(f->jq, jv_copy(input), 0);
	for (;;) {
		out = jq_next(f->jq);
		if (!jv_is_valid(out))
			break;
		key[0] = '\0';
		apifilter_flatten(r, out, key, 0);
		out = jv_invalid();
		if (r->runaway)
			break;
	}

	pthread_mutex_lock(&f->state_mu);
	f->running = 0;
	halted = f->halted;
	pthread_mutex_unlock(&f->state_mu);

	if (halted) {
		r->runaway = 1;
		snprintf(r->msg, sizeof(r->msg),
		    "jq filter still running at its deadline");
	} else if (!r->runaway && jv_invalid_has_msg(jv_copy(out))) {
		jv m = jv_invalid_get_msg(jv_copy(out));

		r->error = 1;
		if (jv_get_kind(m) == JV_KIND_STRING)
			snprintf(r->msg, sizeof(r->msg), "jq error: %s",
			    jv_string_value(m));
		else
			snprintf(r->msg, sizeof(r->msg), "jq error (%s)",
			    jv_kind_name(jv_get_kind(m)));
		jv_free(m);
	}
	jv_free(out);
	pthread_mutex_unlock(&f->run_mu);
}

void
apifilter_halt(struct apifilter *f)
{
	pthread_mutex_lock(&f->state_mu);
	if (f->running && !f->halted) {
		f->halted = 1;
		jq_halt(f->jq, jv_invalid(), jv_invalid());
	}
	pthread_mutex_unlock(&f->state_mu);
}

void
apifilter_result_release(struct apifilter_result *r)
{
	free(r->items);
	memset(r, 0, sizeof(*r));
}
