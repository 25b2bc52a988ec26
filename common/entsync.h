/*
 * Entities a bot discovers, written back to the backend: an SNMP device's
 * interfaces kept in line as its child entities (create, update, delete),
 * or NetFlow exporters suggested as new devices (create only).  One run
 * reads the account's entity list, plans the writes and sends them all at
 * once.  Only systemwide bots may write entities; a bot refused with 403
 * says so once per account and stops trying there.
 */
#ifndef BOT_ENTSYNC_H
#define BOT_ENTSYNC_H

#include <stddef.h>
#include <stdint.h>

#include "attrs.h"

struct backend;
struct json_object;

enum entsync_mode {
	ENTSYNC_MIRROR,  /* children of parent: POST new, PUT changed,
	                    DELETE those whose key is no longer wanted and
	                    the duplicates of a wanted key */
	ENTSYNC_SUGGEST, /* any entity with the key counts: POST the rest */
};

/* What a run manages, and how an entity is matched to an item: by the
 * string (or integer) value of details[key_member]. */
struct entsync_spec {
	int64_t account_id;
	int64_t parent;          /* MIRROR: the parent entity; else -1 */
	const char *entity_type; /* "interface", "device" */
	const char *key_member;  /* "snmp_index", "ipv4" */
	enum entsync_mode mode;
};

/* One wanted entity.  details must hold key_member; all borrowed. */
struct entsync_item {
	const char *name;
	struct json_object *details;
};

enum entsync_verb { ENTSYNC_POST, ENTSYNC_PUT, ENTSYNC_DELETE };

/* One planned write. */
struct entsync_action {
	enum entsync_verb verb;
	int64_t entity_id;        /* PUT, DELETE */
	struct json_object *body; /* POST, PUT; own reference */
};

struct entsync_plan {
	struct entsync_action *actions;
	size_t n;
	/* MIRROR: changed entities left as they are because their protocols
	 * would be refused by the backend (a "bot" of null, as the list shows
	 * once the assigned bot was deleted); held_id is the first. */
	size_t n_held;
	int64_t held_id;
};

/* Plans the writes that bring entities (the account's entity list, a JSON
 * array; borrowed) in line with items.  An item without a usable key is
 * skipped; of items with the same key the first counts.  PUT keeps what
 * the entity has besides our details members (its protocols, other
 * details); an entity whose protocols the backend would refuse is held
 * (counted in n_held, never PUT).  Entities of the managed kind without a
 * key are left alone. */
void entsync_plan(const struct entsync_spec *spec, struct json_object *entities,
    const struct entsync_item *items, size_t n, struct entsync_plan *out);
void entsync_plan_release(struct entsync_plan *p);

struct entsync_result {
	int ok;      /* the entity list was read */
	int refused; /* 403: this bot may not write entities here */
	size_t created, updated, deleted, failed;
};

typedef void entsync_cb(const struct entsync_result *res, void *arg);

struct entsync;

/* what names the job in log lines ("interface discovery"); b borrowed. */
struct entsync *entsync_new(struct backend *b, const char *what);
/* Runs in flight are abandoned: their callbacks never run. */
void entsync_free(struct entsync *es);

/* Starts one run (items copied; their details objects are shared by
 * reference, so do not change them afterwards); cb runs once, later, from
 * the loop.  -1 and no callback when the account refused us before or the
 * first request cannot start. */
int entsync_run(struct entsync *es, const struct entsync_spec *spec,
    const struct entsync_item *items, size_t n, entsync_cb *cb,
    void *arg) BOT_WUR;

/* True when the account answered 403 to a write (or its list). */
int entsync_refused(const struct entsync *es, int64_t account_id);

#endif
