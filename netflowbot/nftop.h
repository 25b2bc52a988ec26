/*
 * Heavy hitters in bounded memory: exact counts for up to cap distinct
 * keys, then Space-Saving (Metwally et al. 2005) with cap counters: a new
 * key takes over the smallest counter, inheriting its count as error.
 *
 * Error bound (weighted form): let N be the total weight added and m the
 * cap.  Every reported count c of key k satisfies true(k) <= c <=
 * true(k) + err(k), and err(k) <= min <= N / m, where min is the smallest
 * counter.  Any key whose true count exceeds min is in the table, so a key
 * with more than N / m is never missed.  Until the table fills, err is 0.
 * The heap is built only when the table fills: exact counting is a hash
 * update and nothing more.
 */
#ifndef NETFLOWBOT_NFTOP_H
#define NETFLOWBOT_NFTOP_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define NFTOP_KEY_MAX 33

struct nftop_ent {
	uint64_t count;
	uint64_t err; /* count - err <= true count <= count */
	uint8_t len;
	uint8_t key[NFTOP_KEY_MAX];
};

/* An entry's hash chain link, apart from the entry: a lookup that misses
 * (the common case once a table evicts) reads these compact links and no
 * entry.  Chains are doubly linked and hold references (entry index + 1;
 * 0 ends a chain and names links[0], a scratch link), so an eviction
 * unlinks its entry without walking or rehashing, and a short miss is
 * decided without a branch per link. */
struct nftop_link {
	uint32_t hash; /* of the entry's key */
	uint32_t next; /* the next entry's reference in its bucket, or 0 */
	uint32_t prev; /* the previous one's, or 0 at the bucket's head */
};

/* A heap slot: the count is copied here so sifting stays in one array. */
struct nftop_slot {
	uint64_t count;
	uint32_t idx;
};

struct nftop {
	uint32_t cap; /* counters at most */
	uint32_t n;
	uint32_t alloc;
	uint32_t nb; /* buckets, a power of two */
	struct nftop_ent *ents;
	struct nftop_link *links; /* links[i + 1]: entry i's hash, chain */
	struct nftop_slot *heap;  /* min-heap by count, once full */
	uint32_t *pos;            /* pos[i]: entry i's heap slot, once full */
	uint32_t *buckets;        /* references, 0: empty */
	uint64_t total;
	uint64_t replaced; /* keys that evicted another (approximate mode) */
};

/* Initialises an empty table of at most cap (>= 1) counters. */
void nftop_init(struct nftop *t, uint32_t cap);
/* Frees t's arrays and empties it (t may be initialised again). */
void nftop_free(struct nftop *t);
/* Adds weight w to key (len <= NFTOP_KEY_MAX bytes). */
void nftop_add(struct nftop *t, const void *key, size_t len, uint64_t w);
/* The hash of key as the tables use it (len <= NFTOP_KEY_MAX bytes; longer
 * keys are cut as nftop_add cuts them).  Computed once, it serves every
 * table the key goes to (nftop_add_hashed).  Inline so a constant len
 * folds.  Keys are a first byte (address family, protocol, port's high
 * byte) and then the rest (1, 4, 8, 16 or 32 bytes): byte 0 alone, then
 * words, then a 4-, 2- and 1-byte tail, each one load.  A caller that has
 * just written the key should write its rest from byte 1 in one store
 * per 8- or 16-byte piece, so that every load here is forwarded from one
 * store (a load spanning two stores waits for both to reach the cache). */
static inline uint32_t
nftop_key_hash(const void *key, size_t len)
{
	const uint8_t *k = key;
	uint64_t h, w;
	size_t i = 1;

	if (len > NFTOP_KEY_MAX)
		len = NFTOP_KEY_MAX;
	h = UINT64_C(0x9e3779b97f4a7c15) ^ len;
	if (len == 0)
		return (uint32_t)(h ^ (h >> 32));
	h ^= (uint64_t)k[0] << 8;
	for (; i + 8 <= len; i += 8) {
		memcpy(&w, k + i, 8);
		h = (h ^ w) * UINT64_C(0xff51afd7ed558ccd);
		h ^= h >> 32;
	}
	w = 0;
	if (len - i >= 4) {
		uint32_t x;

		memcpy(&x, k + i, 4);
		w = x;
		i += 4;
	}
	if (len - i >= 2) {
		uint16_t x;

		memcpy(&x, k + i, 2);
		w = (w << 16) | x;
		i += 2;
	}
	if (len - i >= 1)
		w = (w << 8) | k[i];
	h = (h ^ w) * UINT64_C(0xc4ceb9fe1a85ec53);
	h ^= h >> 32;
	return (uint32_t)h;
}

/* nftop_add with hash = nftop_key_hash(key, len) already computed. */
void nftop_add_hashed(
    struct nftop *t, const void *key, size_t len, uint32_t hash, uint64_t w);
/* Adds every entry of src (count and error) to dst: the summary of both
 * streams.  Errors add up: an entry of dst may over-count by its own
 * bound plus src's. */
void nftop_merge(struct nftop *dst, const struct nftop *src);
/* The current bound on any count's over-estimate: the smallest counter
 * once the table is full, else 0. */
uint64_t nftop_error_bound(const struct nftop *t);
/* Writes pointers to the k largest entries, largest first (ties by key),
 * into out; returns how many (<= k).  Valid until the next add or free. */
size_t nftop_top(const struct nftop *t, size_t k, const struct nftop_ent **out);
/* Puts back an entry saved earlier (count, err), as when restoring a
 * checkpoint; a key already present or a full table adds count the
 * usual way. */
void nftop_restore(
    struct nftop *t, const void *key, size_t len, uint64_t count, uint64_t err);
/* Bytes allocated by t. */
size_t nftop_bytes(const struct nftop *t);

#endif
