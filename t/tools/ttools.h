/*
 * ttools.h - small helpers shared by the test tools in t/tools/: a 64-bit
 * mixer for seeded pseudo-random values, and a hash of a record's bytes
 * (key, value and headers; an absent key or value differs from an empty
 * one) to compare what a log holds with what was written.
 */
#ifndef TTOOLS_H
#define TTOOLS_H

#include <stddef.h>
#include <stdint.h>

#include "synclog.h"

/* splitmix64's finaliser: consecutive inputs give unrelated outputs. */
static inline uint64_t
mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* FNV-1a over N bytes at P, after their length (or "absent"). */
static inline uint64_t
hash_bytes(uint64_t h, const unsigned char *p, size_t n, int present)
{
	h = (h ^ (present ? n : UINT64_MAX)) * 0x100000001b3ULL;
	for (size_t i = 0; present && i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

/* The record's key, value and headers (not its offset or timestamp). */
static inline uint64_t
record_hash(const struct sl_record *r)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	h = hash_bytes(h, r->key, r->keylen, r->key != NULL);
	h = hash_bytes(h, r->value, r->valuelen, r->value != NULL);
	for (size_t i = 0; i < r->nheaders; i++) {
		h = hash_bytes(h, r->headers[i].name, r->headers[i].namelen, 1);
		h = hash_bytes(h, r->headers[i].value, r->headers[i].valuelen,
		    1);
	}
	return h;
}

#endif /* TTOOLS_H */
