/*
 * A job refresh against the backend, as three waves of concurrent GETs:
 * accounts/, then accounts/{a}/entities/ for each account (the list holds
 * every entity's protocols), then each distinct credential and sensor the
 * protocol's entities refer to, once per refresh.  A failed request only
 * touches what depends on it: a failed entity list keeps the account's
 * previous jobs, a failed credential or sensor keeps the previous jobs of
 * the entities that use it.  Problems with entities are logged once, when
 * they first appear, not on every refresh.
 */
#include "jobfetch.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "http.h"
#include "jobs.h"
#include "jsonx.h"
#include "log.h"
#include "xmalloc.h"

enum jf_kind { JF_ACCOUNTS, JF_ENTITIES, JF_CREDENTIAL, JF_SENSOR };
enum jf_state { JF_PENDING, JF_OK, JF_MISSING, JF_FAILED };

struct jf_record {
	enum jf_kind kind;
	int64_t account;
	int64_t id;
	enum jf_state state;
	struct json_object *obj;
};

struct jf_account {
	int64_t id;
	enum jf_state state;
	struct json_object *entities; /* the "list" array */
};

struct jf {
	struct backend *b;
	char *protocol;
	int64_t bot_id;
	jobfetch_cb *cb;
	void *arg;
	struct job_update u;
	size_t pending;
	int failed_all;
	struct jf_account *acc;
	size_t n_acc;
	struct jf_record *rec;
	size_t n_rec, cap_rec;
};

struct jf_req {
	struct jf *jf;
	enum jf_kind kind;
	size_t index;
};

static struct jf *jf_active;

/* Messages logged by the previous refresh, so each is logged once. */
static char **jf_prev, **jf_cur;
static size_t jf_nprev, jf_ncur;

static void jf_note(const char *fmt, ...) BOT_PRINTF(1, 2);

static void
jf_note(const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	size_t i;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (i = 0; i < jf_ncur; i++)
		if (strcmp(jf_cur[i], msg) == 0)
			return;
	jf_cur = xreallocarray(jf_cur, jf_ncur + 1, sizeof(*jf_cur));
	jf_cur[jf_ncur++] = xstrdup(msg);
	for (i = 0; i < jf_nprev; i++)
		if (strcmp(jf_prev[i], msg) == 0)
			return;
	log_warnx("%s", msg);
}

static void
jf_notes_rotate(void)
{
	size_t i;

	for (i = 0; i < jf_nprev; i++)
		free(jf_prev[i]);
	free(jf_prev);
	jf_prev = jf_cur;
	jf_nprev = jf_ncur;
	jf_cur = NULL;
	jf_ncur = 0;
}

static void jf_on_answer(const struct http_response *res, void *arg);
static void jf_finish(struct jf *jf);

static void
jf_get(struct jf *jf, enum jf_kind kind, size_t index, const char *path)
{
	struct jf_req *r;

	r = xcalloc(1, sizeof(*r));
	r->jf = jf;
	r->kind = kind;
	r->index = index;
	if (backend_request(jf->b, "GET", path, NULL, 0, jf_on_answer, r) ==
	    -1) {
		free(r);
		if (kind == JF_ACCOUNTS)
			jf->failed_all = 1;
		else if (kind == JF_ENTITIES)
			jf->acc[index].state = JF_FAILED;
		else
			jf->rec[index].state = JF_FAILED;
		return;
	}
	jf->pending++;
}

/* The protocols[P] object of an entity we should run, or NULL. */
static struct json_object *
jf_candidate(struct jf *jf, struct json_object *e)
{
	struct json_object *v, *protocols, *proto;

	if (!json_object_is_type(e, json_type_object) ||
	    !json_object_object_get_ex(e, "entity_type", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), "device") != 0 ||
	    !json_object_object_get_ex(e, "protocols", &protocols) ||
	    !json_object_is_type(protocols, json_type_object) ||
	    !json_object_object_get_ex(protocols, jf->protocol, &proto) ||
	    !json_object_is_type(proto, json_type_object))
		return NULL;
	if (json_object_object_get_ex(proto, "bot", &v) && v != NULL &&
	    (!json_object_is_type(v, json_type_int) ||
	        json_object_get_int64(v) != jf->bot_id))
		return NULL;
	return proto;
}

static struct jf_record *
jf_find(struct jf *jf, enum jf_kind kind, int64_t account, int64_t id)
{
	size_t i;

	for (i = 0; i < jf->n_rec; i++)
		if (jf->rec[i].kind == kind && jf->rec[i].account == account &&
		    jf->rec[i].id == id)
			return &jf->rec[i];
	return NULL;
}

static void
jf_want(struct jf *jf, enum jf_kind kind, int64_t account, int64_t id)
{
	struct jf_record *r;

	if (id <= 0 || jf_find(jf, kind, account, id) != NULL)
		return;
	if (jf->n_rec == jf->cap_rec) {
		jf->cap_rec = jf->cap_rec ? jf->cap_rec * 2 : 16;
		jf->rec = xreallocarray(jf->rec, jf->cap_rec, sizeof(*jf->rec));
	}
	r = &jf->rec[jf->n_rec++];
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->account = account;
	r->id = id;
}

/* Second wave: every distinct credential and sensor of our entities. */
static void
jf_fetch_records(struct jf *jf)
{
	char path[128];
	size_t a, i, k;

	for (a = 0; a < jf->n_acc; a++) {
		struct jf_account *acc = &jf->acc[a];

		if (acc->state != JF_OK)
			continue;
		for (i = 0; i < json_object_array_length(acc->entities); i++) {
			struct json_object *e, *proto, *sensors;

			e = json_object_array_get_idx(acc->entities, i);
			proto = jf_candidate(jf, e);
			if (proto == NULL)
				continue;
			jf_want(jf, JF_CREDENTIAL, acc->id,
			    jsonx_int(proto, "credential"));
			if (!json_object_object_get_ex(
			        proto, "sensors", &sensors) ||
			    !json_object_is_type(sensors, json_type_array))
				continue;
			for (k = 0; k < json_object_array_length(sensors); k++)
				jf_want(jf, JF_SENSOR, acc->id,
				    jsonx_int(
				        json_object_array_get_idx(sensors, k),
				        "sensor"));
		}
	}
	for (i = 0; i < jf->n_rec; i++) {
		snprintf(path, sizeof(path), "accounts/%lld/%s/%lld",
		    (long long)jf->rec[i].account,
		    jf->rec[i].kind == JF_CREDENTIAL ? "credentials"
		                                     : "sensors",
		    (long long)jf->rec[i].id);
		jf_get(jf, jf->rec[i].kind, i, path);
	}
}

/* Builds the resolved form of entity e: our protocol only, with records in
 * place of ids.  Returns a new object, or NULL when a record it needs
 * could not be fetched this time (the entity keeps its previous job). */
static struct json_object *
jf_resolve(struct jf *jf, int64_t account, struct json_object *e,
    struct json_object *proto, int64_t eid)
{
	struct json_object *out, *p, *protocols, *list, *sensors, *v;
	struct jf_record *r;
	const char *keys[] = {"id", "name", "entity_type", "details"};
	size_t i;

	out = json_object_new_object();
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (json_object_object_get_ex(e, keys[i], &v))
			json_object_object_add(
			    out, keys[i], json_object_get(v));
	p = json_object_new_object();
	protocols = json_object_new_object();
	json_object_object_add(protocols, jf->protocol, p);
	json_object_object_add(out, "protocols", protocols);
	if (json_object_object_get_ex(proto, "bot", &v))
		json_object_object_add(p, "bot", json_object_get(v));

	r = jf_find(jf, JF_CREDENTIAL, account, jsonx_int(proto, "credential"));
	if (r != NULL && r->state == JF_FAILED)
		goto keep;
	if (r != NULL && r->state == JF_MISSING)
		jf_note("job %lld: credential %lld does not exist",
		    (long long)eid, (long long)r->id);
	json_object_object_add(p, "credential",
	    r != NULL && r->state == JF_OK ? json_object_get(r->obj) : NULL);

	list = json_object_new_array();
	json_object_object_add(p, "sensors", list);
	if (!json_object_object_get_ex(proto, "sensors", &sensors) ||
	    !json_object_is_type(sensors, json_type_array))
		return out;
	for (i = 0; i < json_object_array_length(sensors); i++) {
		struct json_object *item, *ri;

		item = json_object_array_get_idx(sensors, i);
		r = jf_find(jf, JF_SENSOR, account, jsonx_int(item, "sensor"));
		if (r == NULL) {
			jf_note("job %lld: sensor #%zu has no valid sensor id",
			    (long long)eid, i);
			continue;
		}
		if (r->state == JF_FAILED)
			goto keep;
		if (r->state == JF_MISSING) {
			jf_note("job %lld: sensor %lld does not exist",
			    (long long)eid, (long long)r->id);
			continue;
		}
		ri = json_object_new_object();
		json_object_object_add(ri, "sensor", json_object_get(r->obj));
		if (json_object_object_get_ex(item, "interval", &v))
			json_object_object_add(
			    ri, "interval", json_object_get(v));
		json_object_array_add(list, ri);
	}
	return out;
keep:
	json_object_put(out);
	return NULL;
}

static void
jf_build(struct jf *jf)
{
	char err[BOT_ERRLEN];
	size_t a, i;

	for (a = 0; a < jf->n_acc; a++) {
		struct jf_account *acc = &jf->acc[a];

		if (acc->state != JF_OK) {
			job_update_keep_account(&jf->u, acc->id);
			continue;
		}
		for (i = 0; i < json_object_array_length(acc->entities); i++) {
			struct json_object *e, *proto, *resolved;
			struct job *job;
			int64_t eid;

			e = json_object_array_get_idx(acc->entities, i);
			proto = jf_candidate(jf, e);
			if (proto == NULL)
				continue;
			eid = jsonx_int(e, "id");
			resolved = jf_resolve(jf, acc->id, e, proto, eid);
			if (resolved == NULL) {
				job_update_keep_entity_of(&jf->u, acc->id, eid);
				continue;
			}
			switch (jobs_from_entity(resolved, acc->id,
			    jf->protocol, jf->bot_id, &job, err, sizeof(err))) {
			case JOBS_OK:
				if (job->warnings != NULL)
					jf_note("job %lld (%s): %s",
					    (long long)job->id, job->name,
					    job->warnings);
				job_update_add(&jf->u, job);
				break;
			case JOBS_INVALID:
				jf_note("job %lld: not polled: %s",
				    (long long)eid, err);
				break;
			case JOBS_SKIP:
				break;
			}
			json_object_put(resolved);
		}
	}
}

static void
jf_free(struct jf *jf)
{
	size_t i;

	for (i = 0; i < jf->n_acc; i++)
		json_object_put(jf->acc[i].entities);
	for (i = 0; i < jf->n_rec; i++)
		json_object_put(jf->rec[i].obj);
	free(jf->acc);
	free(jf->rec);
	free(jf->protocol);
	job_update_release(&jf->u);
	free(jf);
}

static void
jf_finish(struct jf *jf)
{
	struct job_update u;
	int ok = !jf->failed_all;

	if (ok) {
		jf_build(jf);
		jf_notes_rotate();
	}
	u = jf->u;
	job_update_init(&jf->u);
	jf_active = NULL;
	jf->cb(&u, ok, jf->arg);
	jf_free(jf);
}

static void
jf_on_accounts(struct jf *jf, struct json_object *obj)
{
	struct json_object *list;
	char path[64];
	size_t i, n;

	if (!json_object_is_type(obj, json_type_object) ||
	    !json_object_object_get_ex(obj, "list", &list) ||
	    !json_object_is_type(list, json_type_array)) {
		log_warnx("job refresh: accounts/ answer has no list");
		jf->failed_all = 1;
		return;
	}
	n = json_object_array_length(list);
	jf->acc = xcalloc(n ? n : 1, sizeof(*jf->acc));
	for (i = 0; i < n; i++) {
		int64_t id =
		    jsonx_int(json_object_array_get_idx(list, i), "id");

		if (id <= 0)
			continue;
		jf->acc[jf->n_acc].id = id;
		jf->acc[jf->n_acc].state = JF_PENDING;
		jf->n_acc++;
	}
	for (i = 0; i < jf->n_acc; i++) {
		snprintf(path, sizeof(path), "accounts/%lld/entities/",
		    (long long)jf->acc[i].id);
		jf_get(jf, JF_ENTITIES, i, path);
	}
}

static void
jf_on_answer(const struct http_response *res, void *arg)
{
	struct jf_req *r = arg;
	struct jf *jf = r->jf;
	struct json_object *obj = NULL, *list;
	char err[BOT_ERRLEN];
	int rc;

	jf->pending--;
	rc = backend_json(res, &obj, err, sizeof(err));
	switch (r->kind) {
	case JF_ACCOUNTS:
		if (rc == -1) {
			log_warnx("job refresh: accounts/ failed: %s; keeping "
			          "all current jobs",
			    err);
			jf->failed_all = 1;
		} else {
			jf_on_accounts(jf, obj);
		}
		break;
	case JF_ENTITIES: {
		struct jf_account *acc = &jf->acc[r->index];

		if (rc == 0 && json_object_is_type(obj, json_type_object) &&
		    json_object_object_get_ex(obj, "list", &list) &&
		    json_object_is_type(list, json_type_array)) {
			acc->entities = json_object_get(list);
			acc->state = JF_OK;
		} else {
			log_warnx("job refresh: account %lld: entity list "
			          "failed: %s; keeping its current jobs",
			    (long long)acc->id,
			    rc == -1 ? err : "answer has no list");
			acc->state = JF_FAILED;
		}
		break;
	}
	case JF_CREDENTIAL:
	case JF_SENSOR: {
		struct jf_record *rec = &jf->rec[r->index];
		const char *what =
		    r->kind == JF_SENSOR ? "sensor" : "credential";

		if (rc == 0 && json_object_is_type(obj, json_type_object)) {
			rec->obj = json_object_get(obj);
			rec->state = JF_OK;
		} else if (rc == -1 && res->status == 404) {
			rec->state = JF_MISSING;
		} else {
			log_warnx("job refresh: account %lld: %s %lld "
			          "failed: %s; its entities keep their jobs",
			    (long long)rec->account, what, (long long)rec->id,
			    rc == -1 ? err : "answer is not an object");
			rec->state = JF_FAILED;
		}
		break;
	}
	}
	json_object_put(obj);
	free(r);
	if (jf->pending > 0)
		return;
	if (jf->failed_all) {
		jf_finish(jf);
		return;
	}
	/* A wave is complete: start the next one, or finish. */
	if (jf->n_rec == 0 && jf->acc != NULL) {
		jf_fetch_records(jf);
		if (jf->pending > 0)
			return;
	}
	jf_finish(jf);
}

int
jobfetch_start(
    struct backend *b, const char *protocol, jobfetch_cb *cb, void *arg)
{
	struct jf *jf;

	if (jf_active != NULL)
		return -1;
	jf = xcalloc(1, sizeof(*jf));
	jf->b = b;
	jf->protocol = xstrdup(protocol);
	jf->bot_id = backend_bot_id(b);
	jf->cb = cb;
	jf->arg = arg;
	job_update_init(&jf->u);
	jf_active = jf;
	jf_get(jf, JF_ACCOUNTS, 0, "accounts/");
	if (jf->pending == 0) {
		jf_active = NULL;
		jf_free(jf);
		return -1;
	}
	return 0;
}
