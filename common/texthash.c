/*
 * texthash: multiply-xorshift over 8-byte words, with a final avalanche
 * so that every input bit reaches every output bit.
 */
#include "texthash.h"

#include <string.h>

#define TEXTHASH_K1 0xbf58476d1ce4e5b9ULL
#define TEXTHASH_K2 0x94d049bb133111ebULL

uint64_t
texthash(const void *p, size_t n, uint64_t seed)
{
	const unsigned char *s = p;
	uint64_t h = seed ^ (n * 0x9e3779b97f4a7c15ULL), w;

	while (n >= 8) {
		memcpy(&w, s, 8);
		h = (h ^ (w * TEXTHASH_K1)) * TEXTHASH_K2;
		h ^= h >> 31;
		s += 8;
		n -= 8;
	}
	w = 0;
	memcpy(&w, s, n);
	h = (h ^ (w * TEXTHASH_K1)) * TEXTHASH_K2;
	h ^= h >> 29;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 32;
	return h;
}
