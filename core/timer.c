/* timer.c - see timer.h. */
#include "timer.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

typedef struct sv_tentry {
    int64_t due;
    uint64_t seq; /* equal deadlines fire in insertion order */
    sv_timer_fn fn;
    void *arg;
    uint64_t tag;
    size_t *slot; /* kept equal to this entry's index, or NULL */
} sv_tentry;

struct sv_timer {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t thread;
    sv_tentry *heap;
    size_t n, cap;
    uint64_t seq;
    int stop;
};

static int before(const sv_tentry *a, const sv_tentry *b)
{
    return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void place(sv_tentry *h, size_t i)
{
    if (h[i].slot)
        *h[i].slot = i;
}

static void swap(sv_tentry *h, size_t a, size_t b)
{
    sv_tentry t = h[a];
    h[a] = h[b];
    h[b] = t;
    place(h, a);
    place(h, b);
}

static void sift_up(sv_tentry *h, size_t i)
{
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!before(&h[i], &h[p]))
            break;
        swap(h, i, p);
        i = p;
    }
}

static void sift_down(sv_tentry *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && before(&h[l], &h[m]))
            m = l;
        if (r < n && before(&h[r], &h[m]))
            m = r;
        if (m == i)
            break;
        swap(h, i, m);
        i = m;
    }
}

/* Take entry i out of the heap (lock held) and return it. */
static sv_tentry take(sv_timer *t, size_t i)
{
    sv_tentry e = t->heap[i];
    if (e.slot)
        *e.slot = SV_TIMER_NONE;
    t->n--;
    if (i < t->n) {
        t->heap[i] = t->heap[t->n];
        place(t->heap, i);
        sift_down(t->heap, t->n, i);
        sift_up(t->heap, i);
    }
    return e;
}

/* The condvar uses CLOCK_MONOTONIC so wall-clock jumps never fire or stall
 * a deadline. */
static void *timer_main(void *arg)
{
    sv_timer *t = arg;
    pthread_mutex_lock(&t->lock);
    while (!t->stop) {
        if (t->n == 0) {
            pthread_cond_wait(&t->cond, &t->lock);
            continue;
        }
        int64_t now = sv_mono_ms();
        if (t->heap[0].due > now) {
            sv_cond_wait_until(&t->cond, &t->lock, t->heap[0].due);
            continue;
        }
        sv_tentry e = take(t, 0);
        pthread_mutex_unlock(&t->lock);
        e.fn(e.arg, e.tag, 1);
        pthread_mutex_lock(&t->lock);
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

int sv_timer_new(sv_timer **out)
{
    int rc = 0;
    sv_timer *t = calloc(1, sizeof *t);
    *out = NULL;
    if (!t)
        return -ENOMEM;
    pthread_mutex_init(&t->lock, NULL);
    sv_cond_init_mono(&t->cond);
    rc = -pthread_create(&t->thread, NULL, timer_main, t);
    if (rc < 0) {
        pthread_cond_destroy(&t->cond);
        pthread_mutex_destroy(&t->lock);
        free(t);
        return rc;
    }
    *out = t;
    return 0;
}

int sv_timer_add(sv_timer *t, int64_t due, sv_timer_fn fn, void *arg, uint64_t tag, size_t *slot)
{
    int rc = 0;
    pthread_mutex_lock(&t->lock);
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        sv_tentry *h = realloc(t->heap, cap * sizeof *h);
        if (!h) {
            rc = -ENOMEM;
            goto out;
        }
        t->heap = h;
        t->cap = cap;
    }
    t->heap[t->n] =
        (sv_tentry){.due = due, .seq = t->seq++, .fn = fn, .arg = arg, .tag = tag, .slot = slot};
    place(t->heap, t->n);
    sift_up(t->heap, t->n);
    t->n++;
    /* Only a new earliest deadline needs the thread to re-arm. */
    if (t->heap[0].seq == t->seq - 1)
        pthread_cond_signal(&t->cond);
out:
    pthread_mutex_unlock(&t->lock);
    return rc;
}

int sv_timer_cancel(sv_timer *t, size_t *slot)
{
    pthread_mutex_lock(&t->lock);
    size_t i = *slot;
    if (i == SV_TIMER_NONE || i >= t->n || t->heap[i].slot != slot) {
        pthread_mutex_unlock(&t->lock);
        return -ENOENT;
    }
    sv_tentry e = take(t, i);
    pthread_mutex_unlock(&t->lock);
    e.fn(e.arg, e.tag, 0);
    return 0;
}

size_t sv_timer_pending(sv_timer *t)
{
    pthread_mutex_lock(&t->lock);
    size_t n = t->n;
    pthread_mutex_unlock(&t->lock);
    return n;
}

void sv_timer_free(sv_timer *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->lock);
    t->stop = 1;
    pthread_cond_signal(&t->cond);
    pthread_mutex_unlock(&t->lock);
    pthread_join(t->thread, NULL);
    for (size_t i = 0; i < t->n; i++) {
        if (t->heap[i].slot)
            *t->heap[i].slot = SV_TIMER_NONE;
        t->heap[i].fn(t->heap[i].arg, t->heap[i].tag, 0);
    }
    free(t->heap);
    pthread_cond_destroy(&t->cond);
    pthread_mutex_destroy(&t->lock);
    free(t);
}
