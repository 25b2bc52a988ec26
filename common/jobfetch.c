/*
 * A job refresh against the backend: accounts/, then
 * accounts/{a}/entities/ for each account (the list holds every entity's
 * protocols), then each distinct credential and sensor the protocol's
 * entities refer to, once per refresh.  A failed request only touches what
 * depends on it: a failed entity list keeps the account's previous jobs, a
 * failed credential or sensor keeps the previous jobs of the entities that
 * use it.  Problems with entities are logged once, when they first appear,
 * not on every refresh.
 *
 * At scale (hundreds of thousands of entities, tens of thousands of
 * records) a refresh must neither block the loop nor crowd out value
 * delivery: at most JF_MAX_IN_FLIGHT requests are in flight (the rest
 * wait here, not in curl, so each request's timeout starts when it does),
 * and parsing, scanning and building run in slices of about JF_SLICE_MS
 * on a zero-delay loop timer.
 */
#include "jobfetch.h"

#include <ctype.h>
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
#include "loop.h"
#include "strset.h"
#include "texthash.h"
#include "timer.h"
#include "xmalloc.h"

/* Below http.c's 8 connections per host, so value PUTs always have room. */
#define JF_MAX_IN_FLIGHT 4
/* Work done in one go before the loop gets its turn again. */
#define JF_SLICE_MS 20

enum jf_kind { JF_ACCOUNTS, JF_ENTITIES, JF_CREDENTIAL, JF_SENSOR };
enum jf_state {
	JF_PENDING,  /* requested or waiting to be */
	JF_PARSING,  /* entity list received, being parsed */
	JF_SCANNING, /* parsed, records being collected */
	JF_FETCHING, /* waiting for its credentials and sensors */
	JF_BUILDING, /* making its jobs */
	JF_OK,
	JF_MISSING,
	JF_FAILED,
};

struct jf_record {
	enum jf_kind kind;
	uint64_t hash; /* of text (JF_OK), for JOBFETCH_REUSE */
	size_t acc;    /* index of its account */
	int64_t account;
	int64_t id;
	enum jf_state state;
	char *text;              /* the answer (JF_OK), until its last use */
	struct json_object *obj; /* parsed from text while in use */
	size_t uses;             /* references still to be built */
};

struct jf_account {
	int64_t id;
	enum jf_state state;
	char *body; /* the answer, until its jobs are built */
	size_t body_len;
	size_t pos; /* where the lexical walk of body is */
	/* [start, end) of each entity in body, and the index + 1 of the
	 * previous refresh's jf_seen of the same text (0: none) */
	size_t *spans;
	size_t n_spans, cap_spans;
	size_t scanned, built;
	size_t records_pending; /* its records not answered yet */
	size_t rec_first;       /* its records are in rec[rec_first..n_rec)
	                           (with later accounts' ones) */
	struct json_tokener *tok;
};

/* What a refresh saw of one entity, for the next one (JOBFETCH_REUSE). */
struct jf_seen {
	uint64_t text_hash; /* its text, with its account */
	uint64_t recs_hash; /* the records it named, as they were */
	int64_t account;
	/* its job (has_job: a reference; its id is the entity's), else the
	 * entity's id (0 when it is not one of ours): jf_seen_id, _job */
	union {
		struct job *job;
		int64_t id;
	} who;
	/* its credential id, then each sensor's: n_ids of them, inside the
	 * entry when they fit and it has no notes (jf_seen_ids), else in a
	 * block of their own followed by the notes (jf_seen_notes) */
	union {
		int64_t *p;
		int64_t in[2];
	} ids;
	uint32_t n_ids;
	unsigned char ours;  /* protocols[P] is for this bot */
	unsigned char moved; /* handed on to the next table */
	/* it gave jf_note lines, each '\n'-ended, kept after its ids (an
	 * entry of 64 bytes, where most have none) */
	unsigned char has_notes;
	unsigned char has_job;
};

struct jf_seen_table {
	struct jf_seen *e;
	size_t n, cap;
	uint32_t *by_text; /* entry index + 1, by text_hash */
	uint32_t *by_id;   /* entry index + 1, by (account, id) */
	size_t cap_slots;
};

struct jf_queued {
	enum jf_kind kind;
	size_t index;
};

struct jf {
	struct backend *b;
	struct loop *loop;
	char *protocol;
	unsigned flags;
	int64_t bot_id;
	jobfetch_cb *cb;
	void *arg;
	struct job_update u;
	size_t in_flight;
	int failed_all;
	struct jf_account *acc;
	size_t n_acc;
	struct jf_record *rec;
	size_t n_rec, cap_rec;
	size_t *rec_slots; /* record index + 1 by (kind, account, id) */
	size_t cap_slots;
	struct jf_queued *queue; /* requests not started yet */
	size_t q_head, q_tail, q_cap;
	size_t next_list;         /* the next entity list to ask for */
	struct json_tokener *tok; /* for one entity at a time */
	struct timer work;
	size_t work_acc; /* the account being built, one at a time */
	size_t scan_acc; /* the next account to scan (scan_acc >= work_acc) */
	size_t lists_in_flight;
	int reuse;                 /* JOBFETCH_REUSE */
	struct jf_seen_table seen; /* this refresh's, for the next one */
	char *notes;               /* jf_note lines of the entity built */
	size_t notes_len, notes_cap;
	int capture;
};

struct jf_req {
	struct jf *jf;
	enum jf_kind kind;
	size_t index;
};

static struct jf *jf_active;

/* Messages logged by the previous refresh, so each is logged once. */
static struct strset jf_prev, jf_cur;

/* The last complete refresh's entities (JOBFETCH_REUSE), and what it was
 * for: another protocol, bot or flags starts afresh. */
static struct jf_seen_table jf_seen_prev;
static char *jf_seen_protocol;
static unsigned jf_seen_flags;
static int64_t jf_seen_bot;

/* jobfetch_set_prepare's hook. */
static jobfetch_prepare_cb *jf_prepare;
static void *jf_prepare_arg;

void
jobfetch_set_prepare(jobfetch_prepare_cb *prepare, void *arg)
{
	jf_prepare = prepare;
	jf_prepare_arg = arg;
}

static void
jf_capture(const char *msg)
{
	struct jf *jf = jf_active;
	size_t n = strlen(msg);

	if (jf == NULL || !jf->capture)
		return;
	if (jf->notes_len + n + 2 > jf->notes_cap) {
		jf->notes_cap = (jf->notes_len + n + 2) * 2;
		jf->notes = xreallocarray(jf->notes, jf->notes_cap, 1);
	}
	memcpy(jf->notes + jf->notes_len, msg, n);
	jf->notes_len += n;
	jf->notes[jf->notes_len++] = '\n';
	jf->notes[jf->notes_len] = '\0';
}

static void
jf_note_text(const char *msg)
{
	if (strset_add(&jf_cur, msg) && !strset_has(&jf_prev, msg))
		log_warnx("%s", msg);
	jf_capture(msg);
}

static void jf_note(const char *fmt, ...) BOT_PRINTF(1, 2);

static void
jf_note(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	jf_note_text(msg);
}

/* Notes again, as jf_note did, the lines an entity gave last time. */
static void
jf_note_replay(const char *notes)
{
	char msg[512];
	const char *nl;

	while (notes != NULL && (nl = strchr(notes, '\n')) != NULL) {
		snprintf(msg, sizeof(msg), "%.*s", (int)(nl - notes), notes);
		jf_note_text(msg);
		notes = nl + 1;
	}
}

/* Equal hashes are taken as equal texts (texthash.h). */
static uint64_t
jf_hash(const char *p, size_t n, uint64_t seed)
{
	return texthash(p, n, seed);
}

static size_t
jf_id_hash(int64_t account, int64_t id)
{
	uint64_t h = (uint64_t)id * 0x9e3779b97f4a7c15ULL;

	h ^= (uint64_t)account * 0xc2b2ae3d27d4eb4fULL;
	return (size_t)(h ^ (h >> 29));
}

/* The entity id of entry e (0: not one of ours). */
static int64_t
jf_seen_id(const struct jf_seen *e)
{
	return e->has_job ? e->who.job->id : e->who.id;
}

/* The job of entry e (borrowed), or NULL (invalid, or not ours). */
static struct job *
jf_seen_job(const struct jf_seen *e)
{
	return e->has_job ? e->who.job : NULL;
}

/* 1 when e's ids (and notes) are in a block of their own. */
static int
jf_seen_has_block(const struct jf_seen *e)
{
	return e->n_ids > 2 || e->has_notes;
}

/* The record ids of entry e (jf_ids_of). */
static const int64_t *
jf_seen_ids(const struct jf_seen *e)
{
	return jf_seen_has_block(e) ? e->ids.p : e->ids.in;
}

/* The jf_note lines entry e gave, or NULL. */
static const char *
jf_seen_notes(const struct jf_seen *e)
{
	return e->has_notes ? (const char *)(e->ids.p + e->n_ids) : NULL;
}

/* Gives e the n ids (jf_ids_of's array; n may be 0) and a copy of notes
 * (or NULL): the ids are copied inside when they fit and there are no
 * notes, else taken (*ids becomes NULL) or copied into one block with the
 * notes after them. */
static void
jf_seen_set_ids(struct jf_seen *e, int64_t **ids, uint32_t n, const char *notes)
{
	size_t len;

	e->n_ids = n;
	if (notes == NULL && n <= 2) {
		if (n > 0)
			memcpy(e->ids.in, *ids, n * sizeof(**ids));
		return;
	}
	if (notes == NULL) {
		e->ids.p = *ids;
		*ids = NULL;
		return;
	}
	len = strlen(notes) + 1;
	e->ids.p = xmalloc(n * sizeof(int64_t) + len);
	if (n > 0)
		memcpy(e->ids.p, *ids, n * sizeof(int64_t));
	memcpy(e->ids.p + n, notes, len);
	e->has_notes = 1;
}

static void
jf_seen_index(struct jf_seen_table *t, size_t i)
{
	size_t mask = t->cap_slots - 1, k;
	const struct jf_seen *e = &t->e[i];

	k = (size_t)e->text_hash & mask;
	while (t->by_text[k] != 0)
		k = (k + 1) & mask;
	t->by_text[k] = (uint32_t)(i + 1);
	if (jf_seen_id(e) == 0)
		return;
	k = jf_id_hash(e->account, jf_seen_id(e)) & mask;
	while (t->by_id[k] != 0)
		k = (k + 1) & mask;
	t->by_id[k] = (uint32_t)(i + 1);
}

/* Takes e (its references and allocations) into t. */
static void
jf_seen_add(struct jf_seen_table *t, const struct jf_seen *e)
{
	size_t i;

	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 256;
		t->e = xreallocarray(t->e, t->cap, sizeof(*t->e));
	}
	t->e[t->n++] = *e;
	/* Linear probing at most 3/4 full: 11 bytes an entry or fewer. */
	if (4 * t->n <= 3 * t->cap_slots) {
		jf_seen_index(t, t->n - 1);
		return;
	}
	free(t->by_text);
	free(t->by_id);
	t->cap_slots = t->cap_slots ? t->cap_slots * 2 : 512;
	t->by_text = xcalloc(t->cap_slots, sizeof(*t->by_text));
	t->by_id = xcalloc(t->cap_slots, sizeof(*t->by_id));
	for (i = 0; i < t->n; i++)
		jf_seen_index(t, i);
}

/* The entry of that text in account, or NULL. */
static struct jf_seen *
jf_seen_by_text(struct jf_seen_table *t, uint64_t hash, int64_t account)
{
	size_t mask = t->cap_slots - 1, k;

	if (t->cap_slots == 0)
		return NULL;
	for (k = (size_t)hash & mask; t->by_text[k] != 0; k = (k + 1) & mask) {
		struct jf_seen *e = &t->e[t->by_text[k] - 1];

		if (e->text_hash == hash && e->account == account)
			return e;
	}
	return NULL;
}

/* The entry of entity id in account, or NULL. */
static struct jf_seen *
jf_seen_by_id(struct jf_seen_table *t, int64_t account, int64_t id)
{
	size_t mask = t->cap_slots - 1, k;

	if (t->cap_slots == 0 || id == 0)
		return NULL;
	for (k = jf_id_hash(account, id) & mask; t->by_id[k] != 0;
	     k = (k + 1) & mask) {
		struct jf_seen *e = &t->e[t->by_id[k] - 1];

		if (jf_seen_id(e) == id && e->account == account)
			return e;
	}
	return NULL;
}

static void
jf_seen_release(struct jf_seen_table *t)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		job_unref(jf_seen_job(&t->e[i]));
		if (jf_seen_has_block(&t->e[i]))
			free(t->e[i].ids.p);
	}
	free(t->e);
	free(t->by_text);
	free(t->by_id);
	memset(t, 0, sizeof(*t));
}

/* Hands the previous refresh's entry on to this refresh's table. */
static void
jf_seen_move(struct jf *jf, struct jf_seen *old)
{
	if (old == NULL || old->moved)
		return;
	jf_seen_add(&jf->seen, old);
	/* The reference went with it; the id stays for lookups. */
	old->who.id = jf_seen_id(old);
	old->has_job = 0;
	old->n_ids = 0;
	old->has_notes = 0;
	old->moved = 1;
}

/* Every entry of an account that keeps its jobs goes on as it was. */
static void
jf_seen_move_account(struct jf *jf, int64_t account)
{
	size_t i;

	if (!jf->reuse)
		return;
	for (i = 0; i < jf_seen_prev.n; i++)
		if (jf_seen_prev.e[i].account == account)
			jf_seen_move(jf, &jf_seen_prev.e[i]);
}

void
jobfetch_forget(void)
{
	jf_seen_release(&jf_seen_prev);
	free(jf_seen_protocol);
	jf_seen_protocol = NULL;
}

static void jf_on_answer(const struct http_response *res, void *arg);
static void jf_step(struct jf *jf);

static int
jf_slice_over(int64_t t0)
{
	return timer_now_ms() - t0 >= JF_SLICE_MS;
}

static void
jf_fail(struct jf *jf, enum jf_kind kind, size_t index)
{
	if (kind == JF_ACCOUNTS)
		jf->failed_all = 1;
	else if (kind == JF_ENTITIES)
		jf->acc[index].state = JF_FAILED;
	else {
		jf->rec[index].state = JF_FAILED;
		jf->acc[jf->rec[index].acc].records_pending--;
	}
}

static void
jf_get(struct jf *jf, enum jf_kind kind, size_t index)
{
	struct jf_req *r;
	char path[128];

	if (kind == JF_ACCOUNTS)
		snprintf(path, sizeof(path), "accounts/");
	else if (kind == JF_ENTITIES)
		snprintf(path, sizeof(path), "accounts/%lld/entities/",
		    (long long)jf->acc[index].id);
	else
		snprintf(path, sizeof(path), "accounts/%lld/%s/%lld",
		    (long long)jf->rec[index].account,
		    kind == JF_CREDENTIAL ? "credentials" : "sensors",
		    (long long)jf->rec[index].id);
	r = xcalloc(1, sizeof(*r));
	r->jf = jf;
	r->kind = kind;
	r->index = index;
	if (backend_request(jf->b, "GET", path, NULL, 0, jf_on_answer, r) ==
	    -1) {
		free(r);
		jf_fail(jf, kind, index);
		return;
	}
	jf->in_flight++;
	if (kind == JF_ENTITIES)
		jf->lists_in_flight++;
}

static void
jf_enqueue(struct jf *jf, enum jf_kind kind, size_t index)
{
	if (jf->q_tail == jf->q_cap) {
		jf->q_cap = jf->q_cap ? jf->q_cap * 2 : 64;
		jf->queue =
		    xreallocarray(jf->queue, jf->q_cap, sizeof(*jf->queue));
	}
	jf->queue[jf->q_tail].kind = kind;
	jf->queue[jf->q_tail].index = index;
	jf->q_tail++;
}

/* Starts requests while there is room: the records the account being
 * worked on waits for first, then the next entity lists (their text is
 * kept until their turn), so the backend's work overlaps ours. */
static void
jf_pump(struct jf *jf)
{
	while (jf->in_flight < JF_MAX_IN_FLIGHT && !jf->failed_all) {
		if (jf->q_head < jf->q_tail) {
			struct jf_queued q = jf->queue[jf->q_head++];

			jf_get(jf, q.kind, q.index);
		} else if (jf->acc != NULL && jf->next_list < jf->n_acc &&
		    jf->lists_in_flight < JF_MAX_IN_FLIGHT - 1) {
			/* One place stays free for records, which are small
			 * and hold up an account's build. */
			jf_get(jf, JF_ENTITIES, jf->next_list++);
		} else {
			break;
		}
	}
}

/* The protocols[P] object of an entity we should run, or NULL. */
static struct json_object *
jf_candidate(struct jf *jf, struct json_object *e)
{
	struct json_object *v, *protocols, *proto;

	const char *type = jsonx_str(e, "entity_type");

	if (type == NULL || strcmp(type, "device") != 0 ||
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

static size_t
jf_rec_hash(enum jf_kind kind, int64_t account, int64_t id)
{
	uint64_t h = (uint64_t)id * 0x9e3779b97f4a7c15ULL;

	h ^= (uint64_t)account * 0xc2b2ae3d27d4eb4fULL + (uint64_t)kind;
	h ^= h >> 29;
	return (size_t)h;
}

/* The slot of (kind, account, id) in the index, or the free one. */
static size_t
jf_slot(const struct jf *jf, enum jf_kind kind, int64_t account, int64_t id)
{
	size_t mask = jf->cap_slots - 1;
	size_t i = jf_rec_hash(kind, account, id) & mask;

	while (jf->rec_slots[i] != 0) {
		const struct jf_record *r = &jf->rec[jf->rec_slots[i] - 1];

		if (r->kind == kind && r->account == account && r->id == id)
			break;
		i = (i + 1) & mask;
	}
	return i;
}

static struct jf_record *
jf_find(struct jf *jf, enum jf_kind kind, int64_t account, int64_t id)
{
	size_t i;

	if (jf->cap_slots == 0)
		return NULL;
	i = jf_slot(jf, kind, account, id);
	return jf->rec_slots[i] ? &jf->rec[jf->rec_slots[i] - 1] : NULL;
}

static void
jf_index_grow(struct jf *jf)
{
	size_t i;

	free(jf->rec_slots);
	jf->cap_slots = jf->cap_slots ? jf->cap_slots * 2 : 64;
	jf->rec_slots = xcalloc(jf->cap_slots, sizeof(*jf->rec_slots));
	for (i = 0; i < jf->n_rec; i++)
		jf->rec_slots[jf_slot(jf, jf->rec[i].kind, jf->rec[i].account,
		    jf->rec[i].id)] = i + 1;
}

/* Notes a record an entity needs and queues its request, once. */
static void
jf_want(struct jf *jf, enum jf_kind kind, size_t acc, int64_t id)
{
	int64_t account = jf->acc[acc].id;
	struct jf_record *r;

	if (id <= 0)
		return;
	r = jf_find(jf, kind, account, id);
	if (r != NULL) {
		r->uses++;
		return;
	}
	if (2 * (jf->n_rec + 1) > jf->cap_slots)
		jf_index_grow(jf);
	if (jf->n_rec == jf->cap_rec) {
		jf->cap_rec = jf->cap_rec ? jf->cap_rec * 2 : 16;
		jf->rec = xreallocarray(jf->rec, jf->cap_rec, sizeof(*jf->rec));
	}
	r = &jf->rec[jf->n_rec];
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->acc = acc;
	r->account = account;
	r->id = id;
	r->uses = 1;
	jf->acc[acc].records_pending++;
	jf->rec_slots[jf_slot(jf, kind, account, id)] = jf->n_rec + 1;
	jf_enqueue(jf, kind, jf->n_rec);
	jf->n_rec++;
}

/* The record ids protocols[P] (proto) names: the credential's, then each
 * sensor's (ids <= 0: none).  Returns a new array of *n. */
static int64_t *
jf_ids_of(struct json_object *proto, uint32_t *n)
{
	struct json_object *sensors;
	size_t k, ns = 0;
	int64_t *ids;

	if (json_object_object_get_ex(proto, "sensors", &sensors) &&
	    json_object_is_type(sensors, json_type_array))
		ns = json_object_array_length(sensors);
	ids = xcalloc(ns + 1, sizeof(*ids));
	ids[0] = jsonx_int(proto, "credential");
	for (k = 0; k < ns; k++)
		ids[k + 1] =
		    jsonx_int(json_object_array_get_idx(sensors, k), "sensor");
	*n = (uint32_t)(ns + 1);
	return ids;
}

/* Notes the records an entity names (see jf_ids_of). */
static void
jf_want_ids(struct jf *jf, size_t account, const int64_t *ids, uint32_t n)
{
	uint32_t k;

	for (k = 0; k < n; k++)
		jf_want(
		    jf, k == 0 ? JF_CREDENTIAL : JF_SENSOR, account, ids[k]);
}

/* Collects the credential and sensors of one entity. */
static void
jf_scan_entity(struct jf *jf, size_t account, struct json_object *e)
{
	struct json_object *proto;
	int64_t *ids;
	uint32_t n;

	proto = jf_candidate(jf, e);
	if (proto == NULL)
		return;
	ids = jf_ids_of(proto, &n);
	jf_want_ids(jf, account, ids, n);
	free(ids);
}

static const char *
jf_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* The end of the JSON string at p (after its closing quote), or NULL. */
static const char *
jf_skip_string(const char *p, const char *end)
{
	if (p >= end || *p != '"')
		return NULL;
	for (p++; p < end; p++) {
		if (*p == '\\')
			p++;
		else if (*p == '"')
			return p + 1;
		else if ((unsigned char)*p < 0x20)
			return NULL;
	}
	return NULL;
}

/* The end of the JSON value at p, walked lexically (strings, brackets
 * and literals, at most depth levels), or NULL when it is malformed.
 * json-c checks each entity fully when it parses it. */
static const char *
jf_skip(const char *p, const char *end, int depth)
{
	char close;

	if (p >= end)
		return NULL;
	if (*p == '"')
		return jf_skip_string(p, end);
	if (*p != '{' && *p != '[') {
		const char *q = p;

		while (q < end &&
		    (isalnum((unsigned char)*q) || *q == '-' || *q == '+' ||
		        *q == '.'))
			q++;
		return q > p ? q : NULL;
	}
	if (depth <= 0)
		return NULL;
	close = *p == '{' ? '}' : ']';
	p = jf_ws(p + 1, end);
	if (p < end && *p == close)
		return p + 1;
	for (;;) {
		if (close == '}') {
			p = jf_skip_string(p, end);
			if (p == NULL)
				return NULL;
			p = jf_ws(p, end);
			if (p >= end || *p != ':')
				return NULL;
			p = jf_ws(p + 1, end);
		}
		p = jf_skip(p, end, depth - 1);
		if (p == NULL)
			return NULL;
		p = jf_ws(p, end);
		if (p < end && *p == ',') {
			p = jf_ws(p + 1, end);
			continue;
		}
		return p < end && *p == close ? p + 1 : NULL;
	}
}

/* The scan's own reader (jobfetch_scan_ids): strict JSON, walked
 * lexically.  Anything it cannot be sure json-c reads the same way (an
 * escape in a key or in a value it compares, a number with an exponent
 * or more than 18 digits, a surrogate escape, deep nesting, anything
 * json-c's lenient mode would accept and JSON would not) makes it
 * "unsure" (NULL / -1): the entity is then parsed by json-c as before.
 * Whatever it accepts json-c accepts, so the build's parse cannot fail. */
#define JF_LX_DEPTH 32

static int
jf_lx_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

/* After the string at p; *plain is 1 when it holds no escape. */
static const char *
jf_lx_string(const char *p, const char *end, int *plain)
{
	*plain = 1;
	if (p >= end || *p != '"')
		return NULL;
	for (p++; p < end; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '"')
			return p + 1;
		if (c < 0x20)
			return NULL;
		if (c != '\\')
			continue;
		*plain = 0;
		if (++p >= end)
			return NULL;
		if (*p == 'u') {
			if (end - p < 5 || !jf_lx_hex(p[1]) ||
			    !jf_lx_hex(p[2]) || !jf_lx_hex(p[3]) ||
			    !jf_lx_hex(p[4]) ||
			    ((p[1] == 'd' || p[1] == 'D') &&
			        strchr("89abcdefABCDEF", p[2]) != NULL))
				return NULL; /* surrogates: unsure */
			p += 4;
		} else if (strchr("\"\\/bfnrt", *p) == NULL || *p == '\0') {
			return NULL;
		}
	}
	return NULL;
}

static int
jf_lx_delim(const char *p, const char *end)
{
	if (p >= end)
		return 1;
	switch (*p) {
	case ' ':
	case '\t':
	case '\r':
	case '\n':
	case ',':
	case ']':
	case '}':
		return 1;
	default:
		return 0;
	}
}

/* After the number at p (JSON's grammar, no exponent, at most 18 integer
 * digits); *is_int when it has no fraction. */
static const char *
jf_lx_number(const char *p, const char *end, int *is_int)
{
	const char *d;

	*is_int = 1;
	if (p < end && *p == '-')
		p++;
	d = p;
	if (p < end && *p == '0')
		p++;
	else
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	if (p == d || p - d > 18)
		return NULL;
	if (p < end && *p == '.') {
		*is_int = 0;
		d = ++p;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
		if (p == d)
			return NULL;
	}
	return jf_lx_delim(p, end) ? p : NULL;
}

static const char *jf_lx_value(const char *p, const char *end, int depth);

/* The index of the key k (len bytes, no escapes) in keys[0..n), or n. */
static size_t
jf_lx_key(const char *k, size_t len, const char *const *keys, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (keys[i][0] == (len ? k[0] : '\0') &&
		    strncmp(k, keys[i], len) == 0 && keys[i][len] == '\0')
			return i;
	return n;
}

/* Walks the object at p; the last value of each of keys[0..n) goes into
 * val[i] (NULL: absent).  The end of the object, or NULL (unsure).  An
 * object inside an entity the reader already walked (walked) is read
 * again without checking again. */
static const char *
jf_lx_object(const char *p, const char *end, int depth, int walked,
    const char *const *keys, size_t n, const char **val)
{
	size_t i;

	for (i = 0; i < n; i++)
		val[i] = NULL;
	if (depth <= 0 || p >= end || *p != '{')
		return NULL;
	p = jf_ws(p + 1, end);
	if (p < end && *p == '}')
		return p + 1;
	for (;;) {
		const char *k = p + 1, *v;
		int plain = 1;

		p = walked ? jf_skip_string(p, end)
		           : jf_lx_string(p, end, &plain);
		if (p == NULL || (!walked && !plain))
			return NULL;
		i = jf_lx_key(k, (size_t)(p - 1 - k), keys, n);
		p = jf_ws(p, end);
		if (p >= end || *p != ':')
			return NULL;
		v = p = jf_ws(p + 1, end);
		p = walked ? jf_skip(p, end, depth - 1)
		           : jf_lx_value(p, end, depth - 1);
		if (p == NULL)
			return NULL;
		if (i < n)
			val[i] = v;
		p = jf_ws(p, end);
		if (p < end && *p == ',') {
			p = jf_ws(p + 1, end);
			continue;
		}
		return p < end && *p == '}' ? p + 1 : NULL;
	}
}

/* After the JSON value at p, or NULL (unsure). */
static const char *
jf_lx_value(const char *p, const char *end, int depth)
{
	int x;

	if (p >= end)
		return NULL;
	switch (*p) {
	case '"':
		return jf_lx_string(p, end, &x);
	case '{':
		return jf_lx_object(p, end, depth, 0, NULL, 0, NULL);
	case '[':
		if (depth <= 0)
			return NULL;
		p = jf_ws(p + 1, end);
		if (p < end && *p == ']')
			return p + 1;
		for (;;) {
			p = jf_lx_value(p, end, depth - 1);
			if (p == NULL)
				return NULL;
			p = jf_ws(p, end);
			if (p < end && *p == ',') {
				p = jf_ws(p + 1, end);
				continue;
			}
			return p < end && *p == ']' ? p + 1 : NULL;
		}
	case 't':
		x = 4;
		break;
	case 'n':
		x = 4;
		break;
	case 'f':
		x = 5;
		break;
	default:
		return jf_lx_number(p, end, &x);
	}
	if (end - p < x ||
	    memcmp(p,
	        *p == 't'       ? "true"
	            : *p == 'n' ? "null"
	                        : "false",
	        (size_t)x) != 0 ||
	    !jf_lx_delim(p + x, end))
		return NULL;
	return p + x;
}

/* Reads the (already walked) value at p as json-c's int: 1 with *out, 0
 * when it is not an integer (it then reads as absent), -1 when unsure. */
static int
jf_lx_int(const char *p, const char *end, int64_t *out)
{
	const char *q;
	int is_int, neg = 0;
	int64_t v = 0;

	if (p == NULL || p >= end || (*p != '-' && (*p < '0' || *p > '9')))
		return 0;
	q = jf_lx_number(p, end, &is_int);
	if (q == NULL)
		return -1;
	if (!is_int)
		return 0;
	if (*p == '-') {
		neg = 1;
		p++;
	}
	for (; p < q; p++)
		v = v * 10 + (*p - '0');
	*out = neg ? -v : v;
	return 1;
}

/* Reads an entity's interval on a sensor (already walked, NULL: absent)
 * as jobs.c would: 0 (none) or 1..JOBS_MAX_INTERVAL_S, or -1 when it is
 * anything else (jobs.c then words the problem). */
static int
jf_lx_interval(const char *p, const char *end)
{
	int64_t v;

	if (p == NULL || *p == 'n')
		return 0;
	if (jf_lx_int(p, end, &v) != 1 || v < 1 || v > JOBS_MAX_INTERVAL_S)
		return -1;
	return (int)v;
}

int
jobfetch_scan_entity(const char *text, size_t len, const char *protocol,
    int64_t bot_id, struct jobfetch_scan *out)
{
	static const char *const ent_keys[] = {
	    "entity_type", "protocols", "id", "name", "details"};
	static const char *const proto_keys[] = {
	    "bot", "credential", "sensors"};
	static const char *const sensor_keys[] = {"sensor", "interval"};
	const char *end = text + len, *p, *v[5], *pv[3], *s;
	int plain, rc, complete = 1;
	int64_t id, *ids = NULL;
	int *iv = NULL;
	size_t k = 0, cap = 0;

	memset(out, 0, sizeof(*out));
	p = jf_lx_object(jf_ws(text, end), end, JF_LX_DEPTH, 0, ent_keys, 5, v);
	if (p == NULL || jf_ws(p, end) != end)
		return -1;
	/* entity_type "device" (jf_candidate) */
	if (v[0] == NULL || *v[0] != '"')
		return 0;
	p = jf_lx_string(v[0], end, &plain);
	if (!plain)
		return -1;
	if (p - v[0] != 8 || memcmp(v[0], "\"device\"", 8) != 0)
		return 0;
	/* protocols[P], an object */
	if (v[1] == NULL || *v[1] != '{')
		return 0;
	/* (what lies inside the entity was walked: checked once) */
	if (jf_lx_object(v[1], end, JF_LX_DEPTH, 1, &protocol, 1, pv) == NULL)
		return -1;
	if (pv[0] == NULL || *pv[0] != '{')
		return 0;
	if (jf_lx_object(pv[0], end, JF_LX_DEPTH, 1, proto_keys, 3, pv) == NULL)
		return -1;
	/* bot: absent, null or ours */
	if (pv[0] != NULL && *pv[0] != 'n') {
		rc = jf_lx_int(pv[0], end, &id);
		if (rc == -1)
			return -1;
		if (rc == 0 || id != bot_id)
			return 0;
	}
	/* What the build needs besides: a valid id, a name without escapes,
	 * details that are an object, an integer credential id and
	 * sensors, each an object with an integer id and a valid interval
	 * or none.  Anything else is left to json-c and jobs.c. */
	rc = jf_lx_int(v[2], end, &out->id);
	if (rc == -1)
		return -1;
	if (rc == 0 || out->id <= 0 || out->id > JSONX_MAX_ID)
		complete = 0;
	if (v[3] != NULL && *v[3] == '"') {
		p = jf_lx_string(v[3], end, &plain);
		out->name = v[3] + 1;
		out->name_len = (size_t)(p - 1 - out->name);
		if (!plain)
			complete = 0;
	} else {
		complete = 0;
	}
	if (v[4] != NULL && *v[4] == '{') {
		out->details = v[4];
		out->details_len =
		    (size_t)(jf_skip(v[4], end, JF_LX_DEPTH) - v[4]);
	} else {
		complete = 0;
	}
	/* jf_ids_of: the credential's id, then each sensor's */
	cap = 4;
	ids = xcalloc(cap, sizeof(*ids));
	iv = xcalloc(cap, sizeof(*iv));
	ids[k++] = -1;
	rc = jf_lx_int(pv[1], end, &ids[0]);
	if (rc == -1)
		goto unsure;
	if (rc == 0) {
		ids[0] = -1;
		complete = 0;
	}
	if (pv[2] == NULL || *pv[2] != '[')
		complete = 0;
	else {
		p = jf_ws(pv[2] + 1, end);
		while (p < end && *p != ']') {
			const char *sv[2];

			if (k == cap) {
				cap *= 2;
				ids = xreallocarray(ids, cap, sizeof(*ids));
				iv = xreallocarray(iv, cap, sizeof(*iv));
			}
			ids[k] = -1;
			iv[k] = 0;
			s = p;
			p = jf_skip(p, end, JF_LX_DEPTH);
			if (p == NULL)
				goto unsure;
			if (*s == '{') {
				if (jf_lx_object(s, end, JF_LX_DEPTH, 1,
				        sensor_keys, 2, sv) == NULL)
					goto unsure;
				rc = jf_lx_int(sv[0], end, &ids[k]);
				if (rc == -1)
					goto unsure;
				if (rc == 0) {
					ids[k] = -1;
					complete = 0;
				}
				iv[k] = jf_lx_interval(sv[1], end);
				if (iv[k] == -1)
					complete = 0;
			} else {
				complete = 0;
			}
			k++;
			p = jf_ws(p, end);
			if (p < end && *p == ',')
				p = jf_ws(p + 1, end);
		}
		if (k == 1)
			complete = 0; /* no sensors */
	}
	out->ids = ids;
	out->n_ids = (uint32_t)k;
	out->intervals = iv;
	out->complete = complete;
	return 1;
unsure:
	free(ids);
	free(iv);
	memset(out, 0, sizeof(*out));
	return -1;
}

void
jobfetch_scan_release(struct jobfetch_scan *scan)
{
	free(scan->ids);
	free(scan->intervals);
	memset(scan, 0, sizeof(*scan));
}

int
jobfetch_scan_ids(const char *text, size_t len, const char *protocol,
    int64_t bot_id, int64_t **ids, uint32_t *n)
{
	struct jobfetch_scan scan;
	int rc = jobfetch_scan_entity(text, len, protocol, bot_id, &scan);

	*ids = scan.ids;
	*n = scan.n_ids;
	free(scan.intervals);
	return rc;
}

static void
jf_list_failed(struct jf_account *acc, const char *why)
{
	log_warnx("job refresh: account %lld: entity list failed: %s; "
	          "keeping its current jobs",
	    (long long)acc->id, why);
	acc->state = JF_FAILED;
	free(acc->body);
	acc->body = NULL;
}

/* Walks the answer's object from acc->pos: skips members until "list"
 * (then SCANNING, pos at its first element) or the end (then done: pos at
 * body_len).  -1 when it is not an object of that shape. */
static int
jf_walk_members(struct jf_account *acc, int first)
{
	const char *p = acc->body + acc->pos, *end = acc->body + acc->body_len;
	const char *key;

	p = jf_ws(p, end);
	if (first) {
		if (p >= end || *p != '{')
			return -1;
		p = jf_ws(p + 1, end);
		if (p < end && *p == '}')
			goto closed;
	} else if (p < end && *p == ',') {
		p = jf_ws(p + 1, end);
	} else if (p < end && *p == '}') {
		goto closed;
	} else {
		return -1;
	}
	for (;;) {
		key = p;
		p = jf_skip_string(p, end);
		if (p == NULL)
			return -1;
		p = jf_ws(p, end);
		if (p >= end || *p != ':')
			return -1;
		p = jf_ws(p + 1, end);
		if (p - key >= 7 && strncmp(key, "\"list\"", 6) == 0 &&
		    acc->state == JF_PARSING) {
			if (p >= end || *p != '[')
				return -1;
			acc->pos = (size_t)(jf_ws(p + 1, end) - acc->body);
			acc->state = JF_SCANNING;
			return 0;
		}
		p = jf_skip(p, end, JOBS_LIST_MAX_DEPTH);
		if (p == NULL)
			return -1;
		p = jf_ws(p, end);
		if (p < end && *p == ',') {
			p = jf_ws(p + 1, end);
			continue;
		}
		if (p < end && *p == '}')
			goto closed;
		return -1;
	}
closed:
	if (jf_ws(p + 1, end) != end)
		return -1;
	acc->pos = acc->body_len;
	return 0;
}

/* Finds the entity list in the answer (PARSING -> SCANNING). */
static void
jf_parse_start(struct jf_account *acc)
{
	if (jf_walk_members(acc, 1) == -1)
		jf_list_failed(acc, "answer is not valid JSON");
	else if (acc->state != JF_SCANNING)
		jf_list_failed(acc, "answer has no list");
}

/* Parses the entity in span k of acc's body: a new object, or NULL (with
 * the list failed) when it is not valid JSON. */
static struct json_object *
jf_entity(struct jf *jf, struct jf_account *acc, size_t k)
{
	size_t start = acc->spans[3 * k], len = acc->spans[3 * k + 1] - start;
	struct json_object *e;

	json_tokener_reset(jf->tok);
	e = json_tokener_parse_ex(jf->tok, acc->body + start, (int)len);
	if (e == NULL ||
	    json_tokener_get_error(jf->tok) != json_tokener_success ||
	    json_tokener_get_parse_end(jf->tok) != len) {
		json_object_put(e);
		return NULL;
	}
	return e;
}

/* With JOBFETCH_REUSE: when the entity [p, q) of span k has the text of
 * one the last refresh saw, notes that (for the build) and the records it
 * names, without parsing it.  1 when it did. */
static int
jf_scan_seen(struct jf *jf, struct jf_account *acc, size_t k, const char *p,
    const char *q)
{
	struct jf_seen *old;

	if (!jf->reuse)
		return 0;
	old = jf_seen_by_text(&jf_seen_prev,
	    jf_hash(p, (size_t)(q - p), (uint64_t)acc->id), acc->id);
	if (old == NULL || old->moved)
		return 0;
	acc->spans[3 * k + 2] = (size_t)(old - jf_seen_prev.e) + 1;
	if (old->ours)
		jf_want_ids(
		    jf, (size_t)(acc - jf->acc), jf_seen_ids(old), old->n_ids);
	return 1;
}

/* Notes the records the entity [p, q) names, read by jobfetch_scan_ids
 * without json-c.  0 when that reader is unsure: json-c must parse it. */
static int
jf_scan_fast(
    struct jf *jf, struct jf_account *acc, const char *p, const char *q)
{
	int64_t *ids;
	uint32_t n;
	int rc = jobfetch_scan_ids(
	    p, (size_t)(q - p), jf->protocol, jf->bot_id, &ids, &n);

	if (rc == 1)
		jf_want_ids(jf, (size_t)(acc - jf->acc), ids, n);
	free(ids);
	return rc != -1;
}

/* Splits out the next element of the list and notes the records it needs.
 * 1 when the list is done (or failed). */
static int
jf_scan_next(struct jf *jf, struct jf_account *acc)
{
	const char *p = acc->body + acc->pos, *end = acc->body + acc->body_len;
	const char *q;
	struct json_object *e;

	p = jf_ws(p, end);
	if (p < end && *p == ']' && acc->scanned == 0)
		goto list_end; /* [] */
	q = jf_skip(p, end, JOBS_LIST_MAX_DEPTH);
	if (q == NULL) {
		jf_list_failed(acc, "answer is not valid JSON");
		return 1;
	}
	acc->scanned++;
	if (*p == '{') {
		if (acc->n_spans == acc->cap_spans) {
			acc->cap_spans =
			    acc->cap_spans ? acc->cap_spans * 2 : 64;
			acc->spans = xreallocarray(
			    acc->spans, acc->cap_spans, 3 * sizeof(size_t));
		}
		acc->spans[3 * acc->n_spans] = (size_t)(p - acc->body);
		acc->spans[3 * acc->n_spans + 1] = (size_t)(q - acc->body);
		acc->spans[3 * acc->n_spans + 2] = 0;
		if (jf_scan_seen(jf, acc, acc->n_spans, p, q)) {
			acc->n_spans++;
			goto next;
		}
		if (jf_scan_fast(jf, acc, p, q)) {
			acc->n_spans++;
			goto next;
		}
		e = jf_entity(jf, acc, acc->n_spans);
		if (e == NULL) {
			jf_list_failed(acc, "answer is not valid JSON");
			return 1;
		}
		acc->n_spans++;
		jf_scan_entity(jf, (size_t)(acc - jf->acc), e);
		json_object_put(e);
	}
next:
	p = jf_ws(q, end);
	if (p < end && *p == ',') {
		acc->pos = (size_t)(p + 1 - acc->body);
		return 0;
	}
	if (p >= end || *p != ']') {
		jf_list_failed(acc, "answer is not valid JSON");
		return 1;
	}
list_end:
	acc->pos = (size_t)(p + 1 - acc->body);
	if (jf_walk_members(acc, 0) == -1) {
		jf_list_failed(acc, "answer is not valid JSON");
		return 1;
	}
	acc->state = JF_FETCHING;
	return 1;
}

/* The record's parsed answer (parsed from its text on first use). */
static struct json_object *
jf_rec_obj(struct jf_record *r)
{
	char err[BOT_ERRLEN];

	if (r->obj == NULL && r->text != NULL &&
	    jsonx_parse(r->text, strlen(r->text), JOBS_MAX_DEPTH, &r->obj, err,
	        sizeof(err)) == -1)
		r->obj = NULL; /* it parsed when it came: not reached */
	return r->obj;
}

/* One reference to r was built: its parsed form and text go with the
 * last one, so 30,000 credentials are never all parsed at once. */
static void
jf_rec_used(struct jf_record *r)
{
	if (r == NULL || r->uses == 0 || --r->uses > 0)
		return;
	json_object_put(r->obj);
	r->obj = NULL;
	free(r->text);
	r->text = NULL;
}

/* Counts the uses of the records an entity names (jf_ids_of), as
 * jf_want counted them. */
static void
jf_recs_used(struct jf *jf, int64_t account, const int64_t *ids, uint32_t n)
{
	uint32_t k;

	for (k = 0; k < n; k++)
		jf_rec_used(jf_find(
		    jf, k == 0 ? JF_CREDENTIAL : JF_SENSOR, account, ids[k]));
}

/* The hash of the records an entity names as this refresh got them (each
 * one's text, "does not exist" or "no id"), or -1 when one of them
 * failed (the entity then keeps its job). */
static int
jf_recs_hash(struct jf *jf, int64_t account, const int64_t *ids, uint32_t n,
    uint64_t *out)
{
	uint64_t v[2];
	uint32_t k;

	*out = 0x2545f4914f6cdd1dULL;
	for (k = 0; k < n; k++) {
		const struct jf_record *r = jf_find(
		    jf, k == 0 ? JF_CREDENTIAL : JF_SENSOR, account, ids[k]);

		if (r != NULL && r->state == JF_FAILED)
			return -1;
		v[0] = *out;
		v[1] = r == NULL ? 1 : r->state == JF_MISSING ? 2 : r->hash;
		*out = jf_hash((const char *)v, sizeof(v), k);
	}
	return 0;
}

/* With JOBFETCH_REUSE: gives the entity of span k the job (and the
 * notes) the last refresh gave it, when its text was the same (seen while
 * scanning), each record it names is as it was and that job is still
 * scheduled.  1 when it did: the entity is then not parsed. */
static int
jf_build_seen(struct jf *jf, struct jf_account *acc, size_t k)
{
	struct jf_seen *old;
	uint64_t h;

	if (acc->spans[3 * k + 2] == 0)
		return 0;
	old = &jf_seen_prev.e[acc->spans[3 * k + 2] - 1];
	if (old->moved)
		return 0; /* its text came twice: the second is parsed */
	if (old->ours &&
	    (jf_recs_hash(jf, acc->id, jf_seen_ids(old), old->n_ids, &h) ==
	            -1 ||
	        h != old->recs_hash ||
	        (jf_seen_job(old) != NULL &&
	            jf_seen_job(old)->sched_entry == NULL)))
		return 0;
	if (old->ours)
		jf_recs_used(jf, acc->id, jf_seen_ids(old), old->n_ids);
	jf_note_replay(jf_seen_notes(old));
	if (jf_seen_job(old) != NULL)
		job_update_add(&jf->u, job_ref(jf_seen_job(old)));
	jf_seen_move(jf, old);
	return 1;
}

/* Turns entity e (parsed for this build alone) into its resolved form in
 * place: protocols[P].credential and each sensors[i].sensor become the
 * records (json-c objects of their own would cost a hash table each);
 * a sensor without a usable record is taken out.  jobs_from_entity reads
 * nothing else that could differ.  Returns e, or NULL when a record it
 * needs could not be fetched this time (the entity keeps its previous
 * job). */
static struct json_object *
jf_resolve(struct jf *jf, int64_t account, struct json_object *e,
    struct json_object *proto, int64_t eid)
{
	struct json_object *sensors;
	struct jf_record *r;
	size_t i, n;

	r = jf_find(jf, JF_CREDENTIAL, account, jsonx_int(proto, "credential"));
	if (r != NULL && r->state == JF_FAILED)
		return NULL;
	if (r != NULL && r->state == JF_MISSING)
		jf_note("job %lld: credential %lld does not exist",
		    (long long)eid, (long long)r->id);
	json_object_object_add(proto, "credential",
	    r != NULL && r->state == JF_OK ? json_object_get(jf_rec_obj(r))
	                                   : NULL);
	if (!json_object_object_get_ex(proto, "sensors", &sensors) ||
	    !json_object_is_type(sensors, json_type_array)) {
		json_object_object_add(
		    proto, "sensors", json_object_new_array_ext(1));
		return e;
	}
	/* i: the item's place now, n: in the list as it came */
	for (i = 0, n = 0; i < json_object_array_length(sensors); n++) {
		struct json_object *item =
		    json_object_array_get_idx(sensors, i);

		r = jf_find(jf, JF_SENSOR, account, jsonx_int(item, "sensor"));
		if (r == NULL)
			jf_note("job %lld: sensor #%zu has no valid sensor id",
			    (long long)eid, n);
		else if (r->state == JF_FAILED)
			return NULL;
		else if (r->state == JF_MISSING)
			jf_note("job %lld: sensor %lld does not exist",
			    (long long)eid, (long long)r->id);
		if (r == NULL || r->state != JF_OK) {
			json_object_array_del_idx(sensors, i, 1);
			continue;
		}
		json_object_object_add(
		    item, "sensor", json_object_get(jf_rec_obj(r)));
		i++;
	}
	return e;
}

/* jf_resolve and jobs_from_parts for an entity the scan read whole (see
 * jobfetch_scan): the same notes, job or err, without json-c parsing
 * more of the entity than its details.  JF_KEEP when a record it names
 * could not be fetched this time. */
#define JF_KEEP (-2)

static int
jf_build_scanned(struct jf *jf, int64_t account, const struct jobfetch_scan *sc,
    struct job **job, char *err, size_t errlen)
{
	struct json_object *recs_one[2], **recs = recs_one;
	int iv_one[2], *iv = iv_one, rc = JF_KEEP;
	struct jobs_parts parts;
	struct jf_record *r;
	char name_one[128], *name = name_one;
	uint32_t k;

	memset(&parts, 0, sizeof(parts));
	if (sc->n_ids > 2) {
		recs = xcalloc(sc->n_ids, sizeof(*recs));
		iv = xcalloc(sc->n_ids, sizeof(*iv));
	}
	r = jf_find(jf, JF_CREDENTIAL, account, sc->ids[0]);
	if (r != NULL && r->state == JF_FAILED)
		goto out;
	if (r != NULL && r->state == JF_MISSING)
		jf_note("job %lld: credential %lld does not exist",
		    (long long)sc->id, (long long)r->id);
	if (r != NULL && r->state == JF_OK)
		parts.credential = json_object_get(jf_rec_obj(r));
	for (k = 1; k < sc->n_ids; k++) {
		r = jf_find(jf, JF_SENSOR, account, sc->ids[k]);
		if (r == NULL)
			jf_note("job %lld: sensor #%lu has no valid sensor id",
			    (long long)sc->id, (unsigned long)(k - 1));
		else if (r->state == JF_FAILED)
			goto out;
		else if (r->state == JF_MISSING)
			jf_note("job %lld: sensor %lld does not exist",
			    (long long)sc->id, (long long)r->id);
		if (r == NULL || r->state != JF_OK)
			continue;
		recs[parts.n_sensors] = json_object_get(jf_rec_obj(r));
		iv[parts.n_sensors] = sc->intervals[k];
		parts.n_sensors++;
	}
	/* The details alone are parsed: one object, not the entity's five.
	 * The scan walked them, so json-c takes them (entities nest at most
	 * JOBS_LIST_MAX_DEPTH). */
	json_tokener_reset(jf->tok);
	parts.details =
	    json_tokener_parse_ex(jf->tok, sc->details, (int)sc->details_len);
	if (sc->name_len >= sizeof(name_one))
		name = xmalloc(sc->name_len + 1);
	memcpy(name, sc->name, sc->name_len);
	name[sc->name_len] = '\0';
	parts.id = sc->id;
	parts.name = name;
	parts.sensors = recs;
	parts.intervals = iv;
	rc = jobs_from_parts(
	    &parts, account, jf->protocol, jf->flags, job, err, errlen);
out:
	json_object_put(parts.details);
	json_object_put(parts.credential);
	for (k = 0; k < parts.n_sensors; k++)
		json_object_put(recs[k]);
	if (recs != recs_one) {
		free(recs);
		free(iv);
	}
	if (name != name_one)
		free(name);
	return rc;
}

/* Builds the job of span k of acc: from the scan's reading sc when it
 * read the entity whole (sc->complete), else from e, the entity parsed
 * (NULL: not ours, as the scan found).  With JOBFETCH_REUSE, remembers
 * what it gave for the next refresh. */
static void
jf_build_entity(struct jf *jf, struct jf_account *acc, struct json_object *e,
    struct jobfetch_scan *sc)
{
	char err[BOT_ERRLEN];
	struct json_object *proto, *resolved = NULL;
	struct jf_seen seen, *old;
	struct job *job = NULL;
	int64_t eid, *ids = NULL;
	uint32_t n_ids = 0;
	int verdict;

	memset(&seen, 0, sizeof(seen));
	jf->notes_len = 0;
	jf->capture = jf->reuse;
	if (sc != NULL && sc->complete) {
		seen.ours = 1;
		seen.who.id = eid = sc->id;
		verdict =
		    jf_build_scanned(jf, acc->id, sc, &job, err, sizeof(err));
		ids = sc->ids; /* now ours */
		n_ids = sc->n_ids;
		sc->ids = NULL;
	} else {
		proto = e != NULL ? jf_candidate(jf, e) : NULL;
		if (proto == NULL)
			goto remember;
		seen.ours = 1;
		seen.who.id = eid = jsonx_int(e, "id");
		ids = jf_ids_of(proto, &n_ids);
		resolved = jf_resolve(jf, acc->id, e, proto, eid);
		verdict = resolved == NULL
		    ? JF_KEEP
		    : (int)jobs_from_entity_flags(resolved, acc->id,
		          jf->protocol, jf->bot_id, jf->flags, &job, err,
		          sizeof(err));
	}
	jf_recs_used(jf, acc->id, ids, n_ids);
	if (verdict == JF_KEEP) {
		job_update_keep(&jf->u, acc->id, eid);
		/* Its previous job stays, and so does what it was made of. */
		if (jf->reuse)
			jf_seen_move(
			    jf, jf_seen_by_id(&jf_seen_prev, acc->id, eid));
		goto out;
	}
	switch (verdict) {
	case JOBS_OK:
		if (job->warnings != NULL)
			jf_note("job %lld (%s): %s", (long long)job->id,
			    job->name, job->warnings);
		/* The same job as the scheduled one: that one goes on (the
		 * next refresh finds it under this text). */
		old = jf->reuse ? jf_seen_by_id(&jf_seen_prev, acc->id, eid)
		                : NULL;
		if (old != NULL && jf_seen_job(old) != NULL &&
		    jf_seen_job(old)->sched_entry != NULL &&
		    job_same(jf_seen_job(old), job)) {
			job_unref(job);
			job = job_ref(jf_seen_job(old));
		} else if (jf->reuse &&
		    (jf_prepare == NULL ||
		        jf_prepare(job, jf_prepare_arg) == -1)) {
			/* Until job_prepare: text, not json-c's tables. */
			job_park_json(job);
		}
		job_update_add(&jf->u, job);
		break;
	case JOBS_INVALID:
		jf_note("job %lld: not polled: %s", (long long)eid, err);
		break;
	default:
		break;
	}
remember:
	if (jf->reuse) {
		size_t k = acc->built - 1;

		seen.text_hash = jf_hash(acc->body + acc->spans[3 * k],
		    acc->spans[3 * k + 1] - acc->spans[3 * k],
		    (uint64_t)acc->id);
		seen.account = acc->id;
		if (seen.ours &&
		    jf_recs_hash(jf, acc->id, ids, n_ids, &seen.recs_hash) ==
		        -1)
			goto out; /* not reached: it was kept */
		if (job != NULL && job->id == seen.who.id) {
			seen.who.job = job_ref(job);
			seen.has_job = 1;
		}
		jf_seen_set_ids(&seen, &ids, seen.ours ? n_ids : 0,
		    jf->notes_len ? jf->notes : NULL);
		jf_seen_add(&jf->seen, &seen);
	}
out:
	jf->capture = 0;
	free(ids);
}

static void
jf_free(struct jf *jf)
{
	size_t i;

	loop_timer_stop(jf->loop, &jf->work);
	for (i = 0; i < jf->n_acc; i++) {
		free(jf->acc[i].body);
		free(jf->acc[i].spans);
	}
	json_tokener_free(jf->tok);
	jf_seen_release(&jf->seen);
	free(jf->notes);
	for (i = 0; i < jf->n_rec; i++) {
		json_object_put(jf->rec[i].obj);
		free(jf->rec[i].text);
	}
	free(jf->acc);
	free(jf->rec);
	free(jf->rec_slots);
	free(jf->queue);
	free(jf->protocol);
	job_update_release(&jf->u);
	free(jf);
}

static void
jf_finish(struct jf *jf)
{
	struct job_update u;
	int ok = !jf->failed_all;

	if (ok)
		strset_move(&jf_prev, &jf_cur);
	else
		strset_release(&jf_cur);
	if (ok && jf->reuse) {
		/* This refresh's entities replace the last one's. */
		jf_seen_release(&jf_seen_prev);
		jf_seen_prev = jf->seen;
		memset(&jf->seen, 0, sizeof(jf->seen));
	}
	u = jf->u;
	job_update_init(&jf->u);
	jf_active = NULL;
	jf->cb(&u, ok, jf->arg);
	jf_free(jf);
}

/* Scans the entity lists that came, in order, ahead of the account being
 * built: each one's records are asked for as soon as it is scanned, so
 * they come while earlier accounts are built.  Returns 1 when the slice
 * ran out. */
static int
jf_scan_ahead(struct jf *jf, int64_t t0)
{
	for (; jf->scan_acc < jf->n_acc; jf->scan_acc++) {
		struct jf_account *acc = &jf->acc[jf->scan_acc];

		if (acc->state == JF_PENDING)
			return 0; /* its list has not come yet */
		if (acc->state == JF_PARSING) {
			acc->rec_first = jf->n_rec;
			jf_parse_start(acc);
		}
		while (acc->state == JF_SCANNING) {
			int done = jf_scan_next(jf, acc);

			if (!done && jf_slice_over(t0))
				return 1;
		}
		jf_pump(jf);
	}
	return 0;
}

/* Builds the accounts in order, one at a time, once each is scanned and
 * its records came: each entity is built and its list freed.  Only one
 * entity is parsed at a time, so a refresh's garbage stays small and the
 * long-lived jobs are not scattered through it.  Returns 1 when the
 * slice ran out, 0 when it waits for answers or everything is done. */
static int
jf_accounts_some(struct jf *jf, int64_t t0)
{
	size_t i;

	if (jf_scan_ahead(jf, t0))
		return 1;
	for (; jf->work_acc < jf->n_acc; jf->work_acc++) {
		struct jf_account *acc = &jf->acc[jf->work_acc];

		if (jf->work_acc >= jf->scan_acc)
			return 0; /* not scanned yet */
		if (acc->state == JF_FAILED) {
			job_update_keep_account(&jf->u, acc->id);
			jf_seen_move_account(jf, acc->id);
			continue;
		}
		if (acc->state == JF_FETCHING) {
			if (acc->records_pending > 0)
				return 0;
			acc->state = JF_BUILDING;
		}
		/* Each entity is parsed again from its text, built and freed:
		 * no tree of the whole list ever exists, so the jobs are not
		 * scattered through megabytes of freed json-c blocks. */
		while (acc->built < acc->n_spans) {
			struct json_object *e;

			struct jobfetch_scan sc;
			size_t k = acc->built++, at = acc->spans[3 * k];
			int rc;

			if (jf_build_seen(jf, acc, k))
				goto built;
			/* Read by the scan's reader again (cheaper than
			 * json-c) and built from that when it read all the
			 * build needs; not ours: nothing to parse. */
			rc = jobfetch_scan_entity(acc->body + at,
			    acc->spans[3 * k + 1] - at, jf->protocol,
			    jf->bot_id, &sc);
			if (rc == 0 || (rc == 1 && sc.complete)) {
				jf_build_entity(jf, acc, NULL, &sc);
				jobfetch_scan_release(&sc);
				goto built;
			}
			jobfetch_scan_release(&sc);
			e = jf_entity(jf, acc, k);
			if (e != NULL) /* it parsed when scanned */
				jf_build_entity(jf, acc, e, NULL);
			json_object_put(e);
		built:
			if (jf_slice_over(t0))
				return 1;
		}
		acc->state = JF_OK;
		free(acc->body);
		acc->body = NULL;
		free(acc->spans);
		acc->spans = NULL;
		/* Its records are needed no more: 30,000 credentials need
		 * not all be held at once.  (Later accounts' records, asked
		 * for while this one was built, come after rec_first too.) */
		for (i = acc->rec_first; i < jf->n_rec; i++) {
			if (jf->rec[i].acc != jf->work_acc)
				continue;
			json_object_put(jf->rec[i].obj);
			jf->rec[i].obj = NULL;
			free(jf->rec[i].text);
			jf->rec[i].text = NULL;
		}
	}
	return 0;
}

static void
jf_on_work(struct timer *t, void *arg)
{
	(void)t;
	jf_step(arg);
}

/* Does the next slice of work, or finishes when all is done. */
static void
jf_step(struct jf *jf)
{
	int64_t t0 = timer_now_ms();

	if (jf->failed_all) {
		if (jf->in_flight == 0)
			jf_finish(jf);
		return;
	}
	if (jf_accounts_some(jf, t0)) {
		jf_pump(jf);
		loop_timer_start(jf->loop, &jf->work, 0);
		return;
	}
	if (jf->acc == NULL || jf->work_acc < jf->n_acc) {
		jf_pump(jf);
		return; /* an answer calls jf_step again */
	}
	/* Every account is done; requests of an account whose list turned
	 * out broken may still be in flight: their answers come here. */
	if (jf->in_flight > 0)
		return;
	jf_finish(jf);
}

static void
jf_on_accounts(struct jf *jf, struct json_object *obj)
{
	struct json_object *list;
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
	jf_pump(jf);
}

static void
jf_on_list(
    struct jf *jf, struct jf_account *acc, const struct http_response *res)
{
	struct json_object *obj = NULL;
	char err[BOT_ERRLEN];

	if (res->error != NULL || res->status != 200) {
		/* backend_json words transport and status errors. */
		if (backend_json(res, &obj, err, sizeof(err)) == 0)
			snprintf(err, sizeof(err), "HTTP %ld", res->status);
		json_object_put(obj);
		jf_list_failed(acc, err);
		return;
	}
	/* Parsed later, one entity at a time, with room for deep ones. */
	acc->body = xmalloc(res->body_len + 1);
	memcpy(acc->body, res->body, res->body_len);
	acc->body[res->body_len] = '\0';
	acc->body_len = res->body_len;
	acc->state = JF_PARSING;
	(void)jf;
}

static void
jf_on_answer(const struct http_response *res, void *arg)
{
	struct jf_req *r = arg;
	struct jf *jf = r->jf;
	struct json_object *obj = NULL;
	char err[BOT_ERRLEN];
	int rc;

	jf->in_flight--;
	switch (r->kind) {
	case JF_ACCOUNTS:
		rc = backend_json(res, &obj, err, sizeof(err));
		if (rc == -1) {
			log_warnx("job refresh: accounts/ failed: %s; keeping "
			          "all current jobs",
			    err);
			jf->failed_all = 1;
		} else {
			jf_on_accounts(jf, obj);
		}
		break;
	case JF_ENTITIES:
		jf->lists_in_flight--;
		jf_on_list(jf, &jf->acc[r->index], res);
		break;
	case JF_CREDENTIAL:
	case JF_SENSOR: {
		struct jf_record *rec = &jf->rec[r->index];
		const char *what =
		    r->kind == JF_SENSOR ? "sensor" : "credential";

		rc = backend_json(res, &obj, err, sizeof(err));
		if (rc == 0 && json_object_is_type(obj, json_type_object)) {
			/* Kept as text until it is used: compact. */
			rec->text = xstrndup(res->body, res->body_len);
			rec->hash = jf_hash(res->body, res->body_len, 0);
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
		jf->acc[rec->acc].records_pending--;
		break;
	}
	}
	json_object_put(obj);
	free(r);
	/* Start the next request at once; parsing waits for its slice. */
	jf_pump(jf);
	if (!timer_armed(&jf->work))
		loop_timer_start(jf->loop, &jf->work, 0);
}

int
jobfetch_start(struct backend *b, const char *protocol, unsigned flags,
    jobfetch_cb *cb, void *arg)
{
	struct jf *jf;

	if (jf_active != NULL)
		return -1;
	jf = xcalloc(1, sizeof(*jf));
	jf->b = b;
	jf->loop = backend_loop(b);
	jf->protocol = xstrdup(protocol);
	jf->flags = flags & ~JOBFETCH_REUSE;
	jf->reuse = (flags & JOBFETCH_REUSE) != 0;
	/* What was seen is for one protocol, bot and set of flags. */
	if (!jf->reuse || jf_seen_protocol == NULL ||
	    strcmp(jf_seen_protocol, protocol) != 0 || jf_seen_flags != flags ||
	    jf_seen_bot != backend_bot_id(b)) {
		jobfetch_forget();
		if (jf->reuse) {
			jf_seen_protocol = xstrdup(protocol);
			jf_seen_flags = flags;
			jf_seen_bot = backend_bot_id(b);
		}
	}
	jf->bot_id = backend_bot_id(b);
	jf->cb = cb;
	jf->arg = arg;
	job_update_init(&jf->u);
	timer_init(&jf->work, jf_on_work, jf);
	jf->tok = json_tokener_new_ex(JOBS_LIST_MAX_DEPTH);
	if (jf->tok == NULL)
		fatalx("json_tokener_new_ex failed");
	jf_active = jf;
	jf_get(jf, JF_ACCOUNTS, 0);
	if (jf->in_flight == 0) {
		jf_active = NULL;
		jf_free(jf);
		return -1;
	}
	return 0;
}
