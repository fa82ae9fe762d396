/*
 * htab.h - an intrusive chained hash table of string keys, and SipHash-2-4 to
 * key it with.
 *
 * The caller embeds a struct sv_htab_node in each entry, owns the entry and
 * its key, computes the hash (sv_htab_hash with a secret key when the keys
 * come from outside, so no one can flood a chain) and does any locking.  The
 * table owns only its bucket array.  It doubles at load factor 1; when that
 * allocation fails it just stays fuller, so inserting never fails.
 */
#ifndef SV_HTAB_H
#define SV_HTAB_H

#include <stddef.h>
#include <stdint.h>

struct sv_htab_node {
    /* The table's while the node is in it; the owner's once it is removed. */
    struct sv_htab_node *next;
    uint64_t hash;
    char *key;
};

struct sv_htab {
    struct sv_htab_node **b;
    size_t mask;
    size_t n; /* nodes in the table; read it freely */
};

/* SipHash-2-4 of data under the 128-bit key k. */
uint64_t sv_htab_hash(const uint64_t k[2], const void *data, size_t len);
/* An empty table: 0 or -ENOMEM. */
int sv_htab_init(struct sv_htab *t);
/* Free the bucket array (not the nodes); a zeroed, never initialised table is fine. */
void sv_htab_fini(struct sv_htab *t);
/* The node with this hash and key, or NULL. */
struct sv_htab_node *sv_htab_find(const struct sv_htab *t, uint64_t hash, const char *key);
/* Add h, whose hash and key are set and not in the table yet. */
void sv_htab_insert(struct sv_htab *t, struct sv_htab_node *h);
/* Take out h, which must be in the table; h->next is NULL after. */
void sv_htab_remove(struct sv_htab *t, struct sv_htab_node *h);

#endif
