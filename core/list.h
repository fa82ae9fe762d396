/*
 * list.h - intrusive circular doubly linked lists with a sentinel, for
 * entries that sit on several lists at once (store_mem.c: expiry order and
 * creation order).  The caller embeds a struct sv_link per list and does any
 * locking; every operation is O(1) and cannot fail.
 */
#ifndef SV_LIST_H
#define SV_LIST_H

#include <stddef.h>

struct sv_link {
    struct sv_link *prev, *next;
};

/* The entry of type `type` whose member `member` is at ptr. */
#define SV_CONTAINER_OF(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/* An empty list (a sentinel), or a link that is on none. */
static inline void sv_link_init(struct sv_link *l)
{
    l->prev = l->next = l;
}

/* Take l off its list; it is on none after, so deleting it again is harmless. */
static inline void sv_link_del(struct sv_link *l)
{
    l->prev->next = l->next;
    l->next->prev = l->prev;
    l->prev = l->next = l;
}

/* Put l just before pos (before the sentinel: at the tail). */
static inline void sv_link_add_before(struct sv_link *pos, struct sv_link *l)
{
    l->prev = pos->prev;
    l->next = pos;
    pos->prev->next = l;
    pos->prev = l;
}

#endif
