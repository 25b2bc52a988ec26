/*
 * Entity write-back.  A run: GET the account's entities, plan (a pure
 * function, unit-tested), send every write at once, count the answers,
 * call back.  entsync_free cancels the requests of unfinished runs.
 */
#include "entsync.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "http.h"
#include "jsonx.h"
#include "log.h"
#include "xmalloc.h"

struct entsync_run;

/* At most one "entities held back" warning this often. */
#define ENTSYNC_WARN_MS 60000

/* Error bodies are logged cut to this many characters. */
#define ENTSYNC_BODY_MAX 200

/* HTTP methods, by enum entsync_verb. */
static const char *const entsync_verbs[] = {"POST", "PUT", "DELETE"};

/* One write of a run. */
struct entsync_call {
	struct entsync_run *run;
	size_t action;
};

/* One GET of an account's entity list, shared by the runs that start
 * while it is in flight (discoveries of many devices come together, and
 * the list holds every entity of the account). */
struct entsync_fetch {
	struct entsync *es;
	struct entsync_fetch *next;
	int64_t account_id;
	int open; /* runs may still join: no write sent since it started */
	struct entsync_run **runs;
	size_t n_runs;
};

struct entsync {
	struct backend *b;
	struct entsync_fetch *fetches; /* in flight */
	char *what;
	int64_t *refused; /* accounts that answered 403 */
	size_t n_refused;
	struct log_limit held_lim; /* entities held back from PUT */
	struct entsync_run *runs;  /* in flight */
};

struct entsync_run {
	struct entsync *es;
	struct entsync_run *next;
	struct entsync_spec spec;
	char *entity_type, *key_member;
	struct json_object *items; /* [{"name", "details"}], own copy */
	struct entsync_plan plan;
	struct entsync_call *calls; /* one per action */
	size_t in_flight;
	struct entsync_result res;
	entsync_cb *cb;
	void *arg;
};

/* --- planning --------------------------------------------------------- */

/* The key of details: a non-empty string, or an integer as text. */
static int
entsync_key(
    struct json_object *details, const char *member, char *out, size_t outlen)
{
	struct json_object *v;

	if (!json_object_is_type(details, json_type_object) ||
	    !json_object_object_get_ex(details, member, &v))
		return -1;
	if (json_object_is_type(v, json_type_string) &&
	    json_object_get_string_len(v) > 0 &&
	    (size_t)json_object_get_string_len(v) < outlen) {
		snprintf(out, outlen, "%s", json_object_get_string(v));
		return 0;
	}
	if (json_object_is_type(v, json_type_int)) {
		snprintf(
		    out, outlen, "%lld", (long long)json_object_get_int64(v));
		return 0;
	}
	return -1;
}

/* True when ent is one of the entities this spec manages. */
static int
entsync_managed(const struct entsync_spec *spec, struct json_object *ent)
{
	const char *type = jsonx_str(ent, "entity_type");

	if (spec->mode == ENTSYNC_SUGGEST)
		return 1; /* any entity with the key is already known */
	return type != NULL && strcmp(type, spec->entity_type) == 0 &&
	    jsonx_int(ent, "parent") == spec->parent;
}

static void
entsync_add(struct entsync_plan *p, enum entsync_verb verb, int64_t id,
    struct json_object *body)
{
	struct entsync_action *a;

	p->actions = xreallocarray(p->actions, p->n + 1, sizeof(*p->actions));
	a = &p->actions[p->n++];
	a->verb = verb;
	a->entity_id = id;
	a->body = body;
}

static struct json_object *
entsync_new_body(const struct entsync_spec *spec, const struct entsync_item *it)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(it->name));
	json_object_object_add(
	    o, "entity_type", json_object_new_string(spec->entity_type));
	json_object_object_add(o, "parent",
	    spec->parent >= 0 ? json_object_new_int64(spec->parent) : NULL);
	json_object_object_add(o, "details", json_object_get(it->details));
	return o;
}

/* Adds (or replaces) every member of from into to. */
static void
entsync_merge(struct json_object *to, struct json_object *from)
{
	json_object_object_foreach(from, k, v)
	{
		json_object_object_add(to, k, json_object_get(v));
	}
}

/* A credential or bot reference the backend's entity schema takes: a
 * number or a string (null is refused). */
static int
entsync_ref_ok(struct json_object *proto, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(proto, key, &v) &&
	    (json_object_is_type(v, json_type_int) ||
	        json_object_is_type(v, json_type_double) ||
	        json_object_is_type(v, json_type_string));
}

/* True when ent's protocols (absent, or an object of protocol objects
 * with credential, bot and a sensors array) can be sent back as they are.
 * The list shows "bot": null once the assigned bot was deleted, and a PUT
 * carrying it gets 400. */
static int
entsync_protocols_ok(struct json_object *ent)
{
	struct json_object *protocols, *v;

	if (!json_object_object_get_ex(ent, "protocols", &protocols) ||
	    protocols == NULL)
		return 1;
	if (!json_object_is_type(protocols, json_type_object))
		return 0;
	json_object_object_foreach(protocols, k, proto)
	{
		(void)k;
		if (!json_object_is_type(proto, json_type_object) ||
		    !entsync_ref_ok(proto, "credential") ||
		    !entsync_ref_ok(proto, "bot") ||
		    !json_object_object_get_ex(proto, "sensors", &v) ||
		    !json_object_is_type(v, json_type_array))
			return 0;
	}
	return 1;
}

/* The PUT body for ent, or NULL when it already matches the item. */
static struct json_object *
entsync_put_body(struct json_object *ent, const struct entsync_item *it)
{
	struct json_object *details, *v, *o, *merged;
	const char *name = jsonx_str(ent, "name");
	int same;

	if (!json_object_object_get_ex(ent, "details", &details) ||
	    !json_object_is_type(details, json_type_object))
		details = NULL;
	same = name != NULL && strcmp(name, it->name) == 0 && details != NULL;
	json_object_object_foreach(it->details, k, want)
	{
		if (!same)
			break;
		if (!json_object_object_get_ex(details, k, &v) ||
		    !json_object_equal(v, want))
			same = 0;
	}
	if (same)
		return NULL;
	merged = json_object_new_object();
	if (details != NULL)
		entsync_merge(merged, details);
	entsync_merge(merged, it->details);
	o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(it->name));
	json_object_object_add(o, "entity_type",
	    json_object_new_string(jsonx_str(ent, "entity_type")));
	json_object_object_add(o, "parent",
	    json_object_object_get_ex(ent, "parent", &v) ? json_object_get(v)
	                                                 : NULL);
	json_object_object_add(o, "details", merged);
	if (json_object_object_get_ex(ent, "protocols", &v) &&
	    json_object_is_type(v, json_type_object))
		json_object_object_add(o, "protocols", json_object_get(v));
	return o;
}

void
entsync_plan(const struct entsync_spec *spec, struct json_object *entities,
    const struct entsync_item *items, size_t n, struct entsync_plan *out)
{
	size_t n_ent = 0, i, j;
	char key[256], other[256];
	unsigned char *used;

	memset(out, 0, sizeof(*out));
	if (json_object_is_type(entities, json_type_array))
		n_ent = json_object_array_length(entities);
	used = xcalloc(n_ent + 1, 1); /* entity matched by an item */
	for (i = 0; i < n; i++) {
		struct json_object *match = NULL;
		size_t mi = 0;

		if (items[i].name == NULL ||
		    entsync_key(items[i].details, spec->key_member, key,
		        sizeof(key)) == -1)
			continue;
		for (j = 0; j < i; j++) /* a duplicate item: first counts */
			if (entsync_key(items[j].details, spec->key_member,
			        other, sizeof(other)) == 0 &&
			    items[j].name != NULL && strcmp(key, other) == 0)
				break;
		if (j < i)
			continue;
		for (j = 0; j < n_ent; j++) {
			struct json_object *ent, *d;

			ent = json_object_array_get_idx(entities, j);
			if (!json_object_is_type(ent, json_type_object) ||
			    jsonx_int(ent, "id") < 0 ||
			    !entsync_managed(spec, ent) ||
			    !json_object_object_get_ex(ent, "details", &d) ||
			    entsync_key(d, spec->key_member, other,
			        sizeof(other)) == -1 ||
			    strcmp(key, other) != 0)
				continue;
			if (match == NULL && !used[j]) {
				match = ent;
				mi = j;
			}
		}
		if (match == NULL) {
			entsync_add(out, ENTSYNC_POST, -1,
			    entsync_new_body(spec, &items[i]));
			continue;
		}
		used[mi] = 1;
		if (spec->mode == ENTSYNC_MIRROR) {
			struct json_object *body =
			    entsync_put_body(match, &items[i]);

			if (body != NULL && !entsync_protocols_ok(match)) {
				if (out->n_held++ == 0)
					out->held_id = jsonx_int(match, "id");
				json_object_put(body);
			} else if (body != NULL) {
				entsync_add(out, ENTSYNC_PUT,
				    jsonx_int(match, "id"), body);
			}
		}
	}
	/* Mirror: a keyed entity no item matched (gone, or a duplicate). */
	for (j = 0; spec->mode == ENTSYNC_MIRROR && j < n_ent; j++) {
		struct json_object *ent, *d;

		ent = json_object_array_get_idx(entities, j);
		if (used[j] || !json_object_is_type(ent, json_type_object) ||
		    jsonx_int(ent, "id") < 0 || !entsync_managed(spec, ent) ||
		    !json_object_object_get_ex(ent, "details", &d) ||
		    entsync_key(d, spec->key_member, other, sizeof(other)) ==
		        -1)
			continue;
		entsync_add(out, ENTSYNC_DELETE, jsonx_int(ent, "id"), NULL);
	}
	free(used);
}

void
entsync_plan_release(struct entsync_plan *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		json_object_put(p->actions[i].body);
	free(p->actions);
	p->actions = NULL;
	p->n = 0;
}

/* --- running ----------------------------------------------------------- */

struct entsync *
entsync_new(struct backend *b, const char *what)
{
	struct entsync *es = xcalloc(1, sizeof(*es));

	es->b = b;
	es->what = xstrdup(what);
	return es;
}

int
entsync_refused(const struct entsync *es, int64_t account_id)
{
	size_t i;

	for (i = 0; i < es->n_refused; i++)
		if (es->refused[i] == account_id)
			return 1;
	return 0;
}

static void
entsync_refuse(struct entsync *es, int64_t account_id)
{
	if (entsync_refused(es, account_id))
		return;
	es->refused =
	    xreallocarray(es->refused, es->n_refused + 1, sizeof(*es->refused));
	es->refused[es->n_refused++] = account_id;
	log_warnx("%s: account %lld: the backend does not let this bot write "
	          "entities (HTTP 403; only systemwide bots may); %s is off "
	          "for this account",
	    es->what, (long long)account_id, es->what);
}

static void
entsync_run_free(struct entsync_run *run)
{
	entsync_plan_release(&run->plan);
	free(run->calls);
	json_object_put(run->items);
	free(run->entity_type);
	free(run->key_member);
	free(run);
}

static void
entsync_unlink(struct entsync_run *run)
{
	struct entsync_run **pp;

	for (pp = &run->es->runs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == run) {
			*pp = run->next;
			break;
		}
}

/* Ends the run once nothing is in flight. */
static void
entsync_finish(struct entsync_run *run)
{
	struct entsync *es = run->es;

	if (run->in_flight > 0)
		return;
	entsync_unlink(run);
	if (run->res.created || run->res.updated || run->res.deleted ||
	    run->res.failed)
		log_info("%s: account %lld: %zu created, %zu updated, %zu "
		         "deleted, %zu failed",
		    es->what, (long long)run->spec.account_id, run->res.created,
		    run->res.updated, run->res.deleted, run->res.failed);
	run->cb(&run->res, run->arg);
	entsync_run_free(run);
}

static void
entsync_on_write(const struct http_response *res, void *arg)
{
	struct entsync_call *call = arg;
	struct entsync_run *run = call->run;
	struct entsync_action *a = &run->plan.actions[call->action];
	struct entsync_fetch *f;

	/* A list request in flight may have been answered before this
	 * write landed: later runs start their own. */
	for (f = run->es->fetches; f != NULL; f = f->next)
		if (f->account_id == run->spec.account_id)
			f->open = 0;
	run->in_flight--;
	if (res->status >= 200 && res->status < 300) {
		if (a->verb == ENTSYNC_POST)
			run->res.created++;
		else if (a->verb == ENTSYNC_PUT)
			run->res.updated++;
		else
			run->res.deleted++;
	} else if (a->verb == ENTSYNC_DELETE && res->status == 404) {
		run->res.deleted++; /* gone already */
	} else {
		run->res.failed++;
		if (res->status == 403) {
			run->res.refused = 1;
			entsync_refuse(run->es, run->spec.account_id);
		} else {
			char why[BOT_ERRLEN];

			if (res->error != NULL) {
				snprintf(why, sizeof(why), "%s", res->error);
			} else {
				/* Redacted whole before the cut, so a token
				 * the body quotes never shows in part. */
				char body[ENTSYNC_BODY_MAX + 1];

				(void)log_sanitize(
				    res->body != NULL ? res->body : "",
				    res->body != NULL ? res->body_len : 0, body,
				    sizeof(body));
				snprintf(why, sizeof(why), "HTTP %ld %s",
				    res->status, body);
			}
			log_warnx("%s: account %lld: %s entity %lld failed: %s",
			    run->es->what, (long long)run->spec.account_id,
			    entsync_verbs[a->verb], (long long)a->entity_id,
			    why);
		}
	}
	entsync_finish(run);
}

static void
entsync_send(struct entsync_run *run)
{
	char path[96];
	size_t i;

	run->calls = xcalloc(run->plan.n + 1, sizeof(*run->calls));
	if (run->plan.n > 0) {
		struct entsync_fetch *f;

		/* A list fetched before these writes would miss them. */
		for (f = run->es->fetches; f != NULL; f = f->next)
			if (f->account_id == run->spec.account_id)
				f->open = 0;
	}
	for (i = 0; i < run->plan.n; i++) {
		struct entsync_action *a = &run->plan.actions[i];
		struct entsync_call *call;
		const char *body = NULL;

		if (a->verb == ENTSYNC_POST)
			snprintf(path, sizeof(path), "accounts/%lld/entities/",
			    (long long)run->spec.account_id);
		else
			snprintf(path, sizeof(path),
			    "accounts/%lld/entities/%lld",
			    (long long)run->spec.account_id,
			    (long long)a->entity_id);
		if (a->body != NULL)
			body = json_object_to_json_string_ext(
			    a->body, JSON_C_TO_STRING_PLAIN);
		call = &run->calls[i];
		call->run = run;
		call->action = i;
		if (backend_request(run->es->b, entsync_verbs[a->verb], path,
		        body, body ? strlen(body) : 0, entsync_on_write,
		        call) == -1) {
			run->res.failed++;
			continue;
		}
		run->in_flight++;
	}
}

/* One run's part of a fetched list: res is the answer, obj its parsed
 * JSON (NULL when it did not parse; err says why). */
static void
entsync_run_on_list(struct entsync_run *run, const struct http_response *res,
    struct json_object *obj, const char *err)
{
	struct json_object *list = NULL;
	struct entsync_item *items;
	size_t n, i;

	run->in_flight--;
	if (res->status == 403) {
		run->res.refused = 1;
		entsync_refuse(run->es, run->spec.account_id);
		entsync_finish(run);
		return;
	}
	if (obj == NULL || !json_object_object_get_ex(obj, "list", &list) ||
	    !json_object_is_type(list, json_type_array)) {
		log_warnx("%s: account %lld: cannot read the entity list: %s",
		    run->es->what, (long long)run->spec.account_id,
		    obj == NULL ? err : "no \"list\" array");
		entsync_finish(run);
		return;
	}
	run->res.ok = 1;
	n = json_object_array_length(run->items);
	items = xcalloc(n + 1, sizeof(*items));
	for (i = 0; i < n; i++) {
		struct json_object *it =
		    json_object_array_get_idx(run->items, i);

		items[i].name = jsonx_str(it, "name");
		json_object_object_get_ex(it, "details", &items[i].details);
	}
	entsync_plan(&run->spec, list, items, n, &run->plan);
	free(items);
	if (run->plan.n_held > 0)
		log_warnx_limited(&run->es->held_lim, ENTSYNC_WARN_MS,
		    "%s: account %lld: %zu changed entit%s not updated "
		    "(first: %lld): a protocol of it names no bot (its bot "
		    "was deleted) and the backend refuses such an update; "
		    "assign a bot to it in Grafolean",
		    run->es->what, (long long)run->spec.account_id,
		    run->plan.n_held, run->plan.n_held == 1 ? "y" : "ies",
		    (long long)run->plan.held_id);
	entsync_send(run);
	entsync_finish(run);
}

static void
entsync_fetch_unlink(struct entsync_fetch *f)
{
	struct entsync_fetch **pp;

	for (pp = &f->es->fetches; *pp != NULL; pp = &(*pp)->next)
		if (*pp == f) {
			*pp = f->next;
			break;
		}
}

static void
entsync_on_list(const struct http_response *res, void *arg)
{
	struct entsync_fetch *f = arg;
	struct json_object *obj = NULL;
	char err[BOT_ERRLEN];
	size_t i;

	entsync_fetch_unlink(f);
	err[0] = '\0';
	if (res->status != 403 &&
	    backend_json(res, &obj, err, sizeof(err)) == -1)
		obj = NULL;
	/* Each run may end (and be freed) in its turn; the list is shared
	 * by reference. */
	for (i = 0; i < f->n_runs; i++)
		entsync_run_on_list(f->runs[i], res, obj, err);
	json_object_put(obj);
	free(f->runs);
	free(f);
}

/* Joins the open fetch of run's account, or starts one; -1 when a new
 * one cannot start. */
static int
entsync_fetch_join(struct entsync *es, struct entsync_run *run)
{
	struct entsync_fetch *f;
	char path[64];

	for (f = es->fetches; f != NULL; f = f->next)
		if (f->open && f->account_id == run->spec.account_id)
			break;
	if (f == NULL) {
		f = xcalloc(1, sizeof(*f));
		f->es = es;
		f->account_id = run->spec.account_id;
		f->open = 1;
		snprintf(path, sizeof(path), "accounts/%lld/entities/",
		    (long long)run->spec.account_id);
		if (backend_request(es->b, "GET", path, NULL, 0,
		        entsync_on_list, f) == -1) {
			free(f);
			return -1;
		}
		f->next = es->fetches;
		es->fetches = f;
	}
	f->runs = xreallocarray(f->runs, f->n_runs + 1, sizeof(*f->runs));
	f->runs[f->n_runs++] = run;
	return 0;
}

int
entsync_run(struct entsync *es, const struct entsync_spec *spec,
    const struct entsync_item *items, size_t n, entsync_cb *cb, void *arg)
{
	struct entsync_run *run;
	size_t i;

	if (entsync_refused(es, spec->account_id))
		return -1;
	run = xcalloc(1, sizeof(*run));
	run->es = es;
	run->spec = *spec;
	run->entity_type = xstrdup(spec->entity_type);
	run->key_member = xstrdup(spec->key_member);
	run->spec.entity_type = run->entity_type;
	run->spec.key_member = run->key_member;
	run->items = json_object_new_array();
	for (i = 0; i < n; i++) {
		struct json_object *it = json_object_new_object();

		if (items[i].name == NULL || items[i].details == NULL) {
			json_object_put(it);
			continue;
		}
		json_object_object_add(
		    it, "name", json_object_new_string(items[i].name));
		json_object_object_add(
		    it, "details", json_object_get(items[i].details));
		json_object_array_add(run->items, it);
	}
	run->cb = cb;
	run->arg = arg;
	if (entsync_fetch_join(es, run) == -1) {
		entsync_run_free(run);
		return -1;
	}
	run->in_flight = 1;
	run->next = es->runs;
	es->runs = run;
	return 0;
}

void
entsync_free(struct entsync *es)
{
	struct entsync_run *run, *next;
	struct http *h;
	size_t i;

	if (es == NULL)
		return;
	h = backend_http(es->b);
	while (es->fetches != NULL) {
		struct entsync_fetch *f = es->fetches;

		es->fetches = f->next;
		(void)http_cancel(h, entsync_on_list, f);
		free(f->runs);
		free(f);
	}
	for (run = es->runs; run != NULL; run = next) {
		next = run->next;
		for (i = 0; run->calls != NULL && i < run->plan.n; i++)
			(void)http_cancel(h, entsync_on_write, &run->calls[i]);
		entsync_run_free(run);
	}
	free(es->refused);
	free(es->what);
	free(es);
}
