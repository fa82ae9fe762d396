/*
 * htab.c - the intrusive chained hash table and SipHash-2-4 (see htab.h).
 */
#include "htab.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SV_HTAB_MIN_BUCKETS 64

/* ---- SipHash-2-4 ---- */

static uint64_t rotl64(uint64_t x, int b)
{
    return (x << b) | (x >> (64 - b));
}

static uint64_t load_le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static void sip_round(uint64_t v[4])
{
    v[0] += v[1];
    v[1] = rotl64(v[1], 13);
    v[1] ^= v[0];
    v[0] = rotl64(v[0], 32);
    v[2] += v[3];
    v[3] = rotl64(v[3], 16);
    v[3] ^= v[2];
    v[0] += v[3];
    v[3] = rotl64(v[3], 21);
    v[3] ^= v[0];
    v[2] += v[1];
    v[1] = rotl64(v[1], 17);
    v[1] ^= v[2];
    v[2] = rotl64(v[2], 32);
}

uint64_t sv_htab_hash(const uint64_t k[2], const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t v[4] = {0x736f6d6570736575ULL ^ k[0], 0x646f72616e646f6dULL ^ k[1],
                     0x6c7967656e657261ULL ^ k[0], 0x7465646279746573ULL ^ k[1]};
    size_t full = len & ~(size_t)7;
    for (size_t i = 0; i < full; i += 8) {
        uint64_t m = load_le64(p + i);
        v[3] ^= m;
        sip_round(v);
        sip_round(v);
        v[0] ^= m;
    }
    uint64_t b = (uint64_t)len << 56;
    for (size_t i = 0; i < (len & 7); i++)
        b |= (uint64_t)p[full + i] << (8 * i);
    v[3] ^= b;
    sip_round(v);
    sip_round(v);
    v[0] ^= b;
    v[2] ^= 0xff;
    for (int i = 0; i < 4; i++)
        sip_round(v);
    return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/* ---- intrusive chained hash table; grows at load factor 1 ---- */

int sv_htab_init(struct sv_htab *t)
{
    t->b = calloc(SV_HTAB_MIN_BUCKETS, sizeof *t->b);
    if (!t->b)
        return -ENOMEM;
    t->mask = SV_HTAB_MIN_BUCKETS - 1;
    t->n = 0;
    return 0;
}

void sv_htab_fini(struct sv_htab *t)
{
    free(t->b);
}

struct sv_htab_node *sv_htab_find(const struct sv_htab *t, uint64_t hash, const char *key)
{
    for (struct sv_htab_node *h = t->b[hash & t->mask]; h; h = h->next)
        if (h->hash == hash && strcmp(h->key, key) == 0)
            return h;
    return NULL;
}

static void htab_grow(struct sv_htab *t)
{
    size_t nb = (t->mask + 1) * 2;
    if (nb > SIZE_MAX / sizeof *t->b)
        return;
    struct sv_htab_node **b = calloc(nb, sizeof *b);
    /* Without memory the table just stays fuller: slower, never wrong, so
     * the insert that asked for the growth still succeeds. */
    if (!b)
        return;
    for (size_t i = 0; i <= t->mask; i++) {
        struct sv_htab_node *h = t->b[i];
        while (h) {
            struct sv_htab_node *next = h->next;
            size_t j = h->hash & (nb - 1);
            h->next = b[j];
            b[j] = h;
            h = next;
        }
    }
    free(t->b);
    t->b = b;
    t->mask = nb - 1;
}

void sv_htab_insert(struct sv_htab *t, struct sv_htab_node *h)
{
    if (t->n > t->mask)
        htab_grow(t);
    size_t i = h->hash & t->mask;
    h->next = t->b[i];
    t->b[i] = h;
    t->n++;
}

void sv_htab_remove(struct sv_htab *t, struct sv_htab_node *h)
{
    struct sv_htab_node **pp = &t->b[h->hash & t->mask];
    while (*pp != h)
        pp = &(*pp)->next;
    *pp = h->next;
    h->next = NULL;
    t->n--;
}
