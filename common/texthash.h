/*
 * A fast 64-bit hash of bytes, for telling texts apart cheaply: job
 * fingerprints (jobs.c) and the entity texts a refresh saw (jobfetch.c).
 * Not cryptographic: the texts come from the backend the bot trusts, and
 * two different texts share a hash with a chance of about 2^-64.
 */
#ifndef BOT_TEXTHASH_H
#define BOT_TEXTHASH_H

#include <stddef.h>
#include <stdint.h>

/* The hash of the n bytes at p; different seeds give unrelated hashes
 * of the same bytes. */
uint64_t texthash(const void *p, size_t n, uint64_t seed);

#endif
