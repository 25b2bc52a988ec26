/*
 * A device's network target, for bots that reach one address per entity
 * (pingbot; snmpbot with UDP 161; apibot with a URL's host): which entity
 * detail names it, its canonical numeric address and an optional port, and
 * for a host name a lookup at every job refresh (common/resolver.c, off
 * the loop thread) that keeps the last good address, marked stale, when
 * the name stops resolving.  Everything here is for the loop thread.  A
 * struct target lives inside the bot's job->priv; it holds no json-c
 * reference and must not be copied while a lookup is under way.
 */
#ifndef BOT_TARGET_H
#define BOT_TARGET_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include "attrs.h"

struct addrinfo;
struct json_object;
struct loop;
struct resolver_query;
struct target_resolver;

/* A numeric address with an optional "%zone": 45 + 1 + 16 bytes. */
#define TARGET_ADDRLEN 64
/* A host name (253 characters) or any accepted target text. */
#define TARGET_TEXTLEN 256

enum target_state {
	TARGET_WAITING = 0, /* a name without its first answer yet */
	TARGET_READY = 1,   /* addr is usable (maybe stale) */
	TARGET_FAILED = 2,  /* a name that never resolved: why says why */
};

struct target {
	/* From the configuration. */
	char *text;      /* as configured, for log lines: an own copy
	                    shorter than TARGET_TEXTLEN, or addr itself when
	                    the text is already the canonical address (so a
	                    target must not be moved once set) */
	const char *key; /* details key it came from (static) */
	int64_t job_id;  /* for log lines: "job <id> (<text>)" */
	char *why;       /* why there is no address (own copy), or NULL */
	/* Private to target.c: the lookup under way, or NULL (only names
	 * ever have one, so a numeric target carries one pointer). */
	struct target_lookup *lookup;
	unsigned short port;       /* 0: none (target_set_port) */
	unsigned char want_family; /* AF_INET/AF_INET6/AF_UNSPEC for names */

	/* The address in use. */
	unsigned char family;      /* AF_INET or AF_INET6 once addr is set */
	unsigned char is_name;     /* 1: text is a host name to resolve */
	unsigned char resolved;    /* addr is usable */
	unsigned char answered;    /* the name got an answer (good or bad) */
	unsigned char stale;       /* the name stopped resolving; addr is old */
	char addr[TARGET_ADDRLEN]; /* canonical numeric address, or "" */
};

/* Called on the loop thread after a lookup's answer was applied to t;
 * first is 1 for the first answer t ever got (runs may wait for it). */
typedef void target_cb(struct target *t, int first, void *arg);

/* Picks the target from entity details (borrowed): "ipv4", else "ipv6",
 * else "host", else "hostname"; absent, null or blank members are skipped.
 * A numeric address is checked and stored in canonical form (READY); a host
 * name is only syntax-checked (is_name, WAITING).  verb completes "no ipv4,
 * ipv6 or host to <verb>".  Returns 0 (t then holds copies that
 * target_release frees), or -1 with err (t holds nothing to free). */
int target_from_details(struct target *t, int64_t job_id,
    struct json_object *details, const char *verb, char *err,
    size_t errlen) BOT_WUR;

/* The same for one text (e.g. a URL's host, key "url"; borrowed) that names
 * an address of want_family (AF_UNSPEC: either).  0, or -1 with err. */
int target_from_text(struct target *t, int64_t job_id, const char *key,
    const char *text, int want_family, char *err, size_t errlen) BOT_WUR;

/* Sets the port that target_sockaddr and target_format add (0: none;
 * at most 65535). */
void target_set_port(struct target *t, unsigned port);

/* WAITING, READY or FAILED (see enum target_state). */
enum target_state target_state(const struct target *t);

/* Takes the first usable address of a resolver answer (system order, RFC
 * 6724) into t->addr and t->family; t is unchanged on failure.  Multicast,
 * broadcast and unspecified addresses are refused (their replies would come
 * from other addresses); IPv4-mapped IPv6 becomes IPv4.  0, or -1 with err. */
int target_pick(const struct addrinfo *res, struct target *t, char *err,
    size_t errlen) BOT_WUR;

/* Applies a lookup's answer (rc 0 or EAI_*; res borrowed) as a refresh
 * does: the first answer sets the address or the reason there is none;
 * later ones move the address (logged), and a name that stops resolving
 * keeps its last address, stale, with one warning "...; still <verbing>
 * <addr>".  Returns 1 when this was the first answer, else 0. */
int target_apply(
    struct target *t, int rc, const struct addrinfo *res, const char *verbing);

/* The address with its port in *ss; -1 when there is none (not READY). */
int target_sockaddr(const struct target *t, struct sockaddr_storage *ss,
    socklen_t *len) BOT_WUR;

/* Writes "addr", "addr:port" or "[v6addr]:port" into buf (size len, always
 * terminated); "" when there is no address.  Returns the length it needed. */
size_t target_format(const struct target *t, char *buf, size_t len);

/* Creates a name resolver for targets: up to n_threads lookups at once
 * (common/resolver.c), log lines saying "still <verbing>" (static string,
 * e.g. "pinging"), cb (may be NULL) told of every answer.  NULL (logged)
 * when the resolver cannot be made.  Owned by the caller. */
struct target_resolver *target_resolver_new(struct loop *l, int n_threads,
    const char *verbing, target_cb *cb, void *arg);

/* Cancels every lookup (targets keep their state) and frees tr; NULL is a
 * no-op.  Targets may be released afterwards. */
void target_resolver_free(struct target_resolver *tr);

/* Lookups under way, for tests and shutdown logs. */
size_t target_resolver_pending(const struct target_resolver *tr);

/* Starts a lookup of a name target (borrowed; it must stay put until the
 * answer or target_release) unless one is under way; nothing for numeric
 * targets.  Bots call it at every job refresh, and at a run when the
 * target is still WAITING. */
void target_resolve(struct target *t, struct target_resolver *tr);

/* Cancels t's lookup, if any, and frees t's text and why; call before
 * freeing the memory holding t, after a target_from_* that returned 0. */
void target_release(struct target *t);

#endif
