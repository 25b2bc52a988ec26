/*
 * The NetFlow v9 / IPFIX template cache.  Templates are keyed by
 * (exporter address, version, source id / observation domain, template
 * id), so two exporters using the same template id never mix.  A template
 * is compiled once into a list of extraction operations (field index,
 * width, meaning); decoding a record then walks only those.  The cache
 * bounds the number of sources, templates per source, fields per template
 * and total bytes, and expires templates that are not refreshed.
 */
#ifndef NETFLOWBOT_NFTPL_H
#define NETFLOWBOT_NFTPL_H

#include <stddef.h>
#include <stdint.h>

#include "nfflow.h"

#define NFTPL_VARLEN       0xffff
#define NFTPL_MAX_FIELDS   256
#define NFTPL_MAX_SAMPLERS 16

/* What an extraction operation reads (a flow or options data field). */
enum nftpl_what {
	NFW_SRC4,
	NFW_DST4,
	NFW_SRC6,
	NFW_DST6,
	NFW_PROTO,
	NFW_SPORT,
	NFW_DPORT,
	NFW_INIF,
	NFW_OUTIF,
	NFW_BYTES,
	NFW_PKTS,
	NFW_BYTES_TOT,
	NFW_PKTS_TOT,
	NFW_DIR,
	NFW_FIRST_UP,
	NFW_LAST_UP,
	NFW_START_S,
	NFW_END_S,
	NFW_START_MS,
	NFW_END_MS,
	NFW_START_US,
	NFW_END_US,
	NFW_START_NS,
	NFW_END_NS,
	NFW_START_DUS,
	NFW_END_DUS,
	NFW_SYSINIT_MS,
	NFW_SAMP_INT,
	NFW_SAMP_ALGO,
	NFW_PKT_INT,
	NFW_PKT_SPACE,
	NFW_SAMPLER_ID,
	NFW_SAMP_RAND,
	NFW_ICMP,
	NFW_INIF_PHYS,
	NFW_OUTIF_PHYS,
	NFW_INIT_BYTES, /* NSEL and RFC 5103 style: initiator/responder */
	NFW_RESP_BYTES,
	NFW_INIT_PKTS,
	NFW_RESP_PKTS,
	NFW_FW_EVENT,  /* firewallEvent (ASA NF_F_FW_EVENT) */
	NFW_CONN_ID,   /* flowId (ASA NF_F_CONN_ID) */
	NFW_ICMP_TYPE, /* icmpTypeIPv4/IPv6 (ASA sends these, not 32/139) */
	NFW_ICMP_CODE,
	NFW_N
};

struct nftpl_limits {
	size_t max_sources;    /* (exporter, domain) pairs: 1024 */
	size_t max_per_source; /* templates per pair: 512 */
	size_t max_bytes;      /* all compiled templates: 16 MiB */
	int64_t ttl_s;         /* unrefreshed templates expire: 1800 */
	size_t pend_max_bytes; /* data sets kept for a template: 1 MiB */
	int64_t pend_ttl_s;    /* how long they wait for it: 10 */
};

/* A data set that arrived before its template, kept until the template
 * comes (or pend_ttl_s passes). */
struct nftpl_pend {
	struct nftpl_pend *next;
	struct nftpl_src *src;
	uint16_t id;
	int64_t at_s;
	int64_t export_ms; /* its message's export time and uptime */
	uint32_t sys_up;
	size_t len;
	uint8_t data[];
};

/* One field of a template as sent (pen 0: IANA). */
struct nftpl_field {
	uint16_t ie;
	uint16_t len; /* NFTPL_VARLEN: variable length (IPFIX) */
	uint32_t pen;
};

/* A decoded data record: raw values of the fields the template had
 * (v[w] is only meaningful when bit w of have is set). */
struct nftpl_rec {
	uint64_t have; /* bit (1 << enum nftpl_what) per value present */
	uint64_t v[NFW_N];
	const uint8_t *addr[4]; /* NFW_SRC4..NFW_DST6 point into the data */
};

struct nfnsel;

/* An (exporter, version, domain) source and its sampling state. */
struct nftpl_src {
	struct nftpl_src *next;
	uint8_t addr[16];
	uint32_t domain;
	uint8_t version;
	uint32_t n_tpl;
	int64_t seen_s;
	uint64_t samp_default; /* from options data without a sampler id */
	uint64_t samp_id[NFTPL_MAX_SAMPLERS], samp_rate[NFTPL_MAX_SAMPLERS];
	size_t n_samp;
	int64_t sys_init_ms; /* IPFIX systemInitTimeMilliseconds, 0 = unset */
	struct nfnsel *nsel; /* ASA connections with updates (nfnsel.h) */
};

struct nftpl;
struct nftpl_cache;

/* Fills lim with the defaults (test-matrix 4.5). */
void nftpl_limits_defaults(struct nftpl_limits *lim);
/* A new empty cache (owned by the caller, nftpl_cache_free). */
struct nftpl_cache *nftpl_cache_new(const struct nftpl_limits *lim);
/* Frees c with its templates, sources and kept data; NULL is ignored. */
void nftpl_cache_free(struct nftpl_cache *c);

/* Finds or creates the source; NULL (counted in st) beyond max_sources. */
struct nftpl_src *nftpl_source(struct nftpl_cache *c, const uint8_t addr[16],
    uint8_t version, uint32_t domain, int64_t now_s, struct nfstats *st);

/* Compiles and stores template id of src (replacing an older one).
 * n_scope leading fields are options scope fields (v9 scope types 1..5
 * are not IEs and are skipped; other v9 scope types are read as IEs).  0, or -1
 * with err when it is refused (no fields, too many, a record size of 0 or over
 * 65535, the source's cap). */
int nftpl_add(struct nftpl_cache *c, struct nftpl_src *src, uint16_t id,
    int options, size_t n_scope, const struct nftpl_field *fields, size_t n,
    int64_t now_s, struct nfstats *st, char *err, size_t errlen);
/* Removes template id of src; id 2 or 3 (IPFIX set ids) removes all
 * templates resp. options templates of src.  Returns how many. */
size_t nftpl_withdraw(struct nftpl_cache *c, struct nftpl_src *src, uint16_t id,
    struct nfstats *st);
/* The live template id of src, or NULL (unknown or expired). */
const struct nftpl *nftpl_find(
    struct nftpl_cache *c, struct nftpl_src *src, uint16_t id, int64_t now_s);
/* Drops every template not refreshed for ttl_s and idle sources. */
void nftpl_expire(struct nftpl_cache *c, int64_t now_s, struct nfstats *st);

/* Keeps a copy of data set id of src (len bytes) whose template is not
 * known yet; 0, or -1 when the bytes or count bound is reached. */
int nftpl_pend_put(struct nftpl_cache *c, struct nftpl_src *src, uint16_t id,
    const uint8_t *b, size_t len, int64_t export_ms, uint32_t sys_up,
    int64_t now_s);
/* Removes the oldest kept data set of (src, id) younger than pend_ttl_s
 * and hands it to the caller (free() it); NULL when there is none. */
struct nftpl_pend *nftpl_pend_take(
    struct nftpl_cache *c, struct nftpl_src *src, uint16_t id, int64_t now_s);
/* Bytes held by kept data sets. */
size_t nftpl_pend_bytes(const struct nftpl_cache *c);

/* Bytes held by compiled templates; number of templates. */
size_t nftpl_cache_bytes(const struct nftpl_cache *c);
size_t nftpl_cache_count(const struct nftpl_cache *c);

/* 1 for an options template (its records carry sampling and such). */
int nftpl_is_options(const struct nftpl *t);
/* The smallest record size (variable-length fields count 1 byte). */
size_t nftpl_min_len(const struct nftpl *t);
/* Decodes one record at b (rem bytes left) into r; *used gets its size.
 * -1 when the record does not fit (a variable length runs past rem). */
int nftpl_record(const struct nftpl *t, const uint8_t *b, size_t rem,
    size_t *used, struct nftpl_rec *r);

#endif
