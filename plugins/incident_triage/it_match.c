/*
 * it_match.c - which cause a text names: every rule of every cause (it_vocab.c)
 * is tried on the text's token set; a cause scores its strongest rule, and a
 * second or third matching rule only breaks ties, so many weak words never
 * outvote one decisive pair.  Deterministic, and the rule that decided is
 * returned so the report can say why.
 */
#include "it.h"

#include <stdio.h>
#include <string.h>

/* The token an alternative ("exhaust*" or "pool") matches, or NULL. */
static const char *it_term_find(const it_tokens *t, const char *term, size_t n)
{
    int prefix = n > 0 && term[n - 1] == '*';
    if (prefix)
        n--;
    if (n == 0 || n >= IT_TOK_LEN)
        return NULL;
    for (int i = 0; i < t->n; i++)
        if (strncmp(t->v[i], term, n) == 0 && (prefix || t->v[i][n] == '\0'))
            return t->v[i];
    return NULL;
}

/* The token matching any alternative of a group ("a|b*|c"), or NULL. */
static const char *it_group_find(const it_tokens *t, const char *g, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && g[i] != '|')
            continue;
        const char *hit = it_term_find(t, g + start, i - start);
        if (hit)
            return hit;
        start = i + 1;
    }
    return NULL;
}

/* Does a rule's spec ("a|b + c + !d") hold for the tokens?  why (may be
 * NULL) gets the tokens that made it hold: "pool + exhausted". */
static int it_rule_holds(const it_tokens *t, const char *spec, char *why, size_t why_len)
{
    const char *p = spec;
    size_t o = 0;
    if (why && why_len)
        why[0] = '\0';
    while (*p) {
        while (*p == ' ')
            p++;
        const char *end = strchr(p, '+');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        while (n > 0 && p[n - 1] == ' ')
            n--;
        int neg = n > 0 && *p == '!';
        const char *hit = n > (size_t)neg ? it_group_find(t, p + neg, n - (size_t)neg) : NULL;
        if (neg ? hit != NULL : hit == NULL)
            return 0;
        if (hit && why && o < why_len) {
            int w = snprintf(why + o, why_len - o, "%s%s", o ? " + " : "", hit);
            o = w < 0 ? why_len : o + (size_t)w;
        }
        if (!end)
            break;
        p = end + 1;
    }
    return 1;
}

/* The strongest matching rule of a cause (why: its tokens), and how many
 * others matched. */
static int it_cause_best(const it_tokens *t, int id, char *why, size_t why_len, int *extra)
{
    char buf[IT_WHY_LEN];
    const it_cause_info *c = it_cause_get(id);
    int best = 0, more = 0;
    if (why && why_len)
        why[0] = '\0';
    for (int i = 0; c && c->rules[i].spec; i++) {
        if (!it_rule_holds(t, c->rules[i].spec, buf, sizeof buf))
            continue;
        if (c->rules[i].weight > best) {
            more += best > 0;
            best = c->rules[i].weight;
            if (why && why_len)
                snprintf(why, why_len, "%s", buf);
        } else {
            more++;
        }
    }
    if (extra)
        *extra = more;
    return best;
}

int it_match_cause(const it_tokens *t, int id, char *why, size_t why_len)
{
    return it_cause_best(t, id, why, why_len, NULL);
}

void it_match_tokens(const it_tokens *t, it_match *m)
{
    char why[IT_WHY_LEN];
    int top = 0;
    memset(m, 0, sizeof *m);
    m->cause = IT_CAUSE_NONE;
    for (int k = 0; k < IT_CAUSE_COUNT; k++) {
        int id = it_cause_priority[k], extra = 0;
        int w = it_cause_best(t, id, why, sizeof why, &extra);
        /* One strong rule, or two weak cues together. */
        if (w < 2 && !(w == 1 && extra > 0))
            continue;
        /* Twice the weight plus up to two further rules: extra rules break
         * ties between equal strongest rules, never beat a stronger one. */
        int score = 2 * w + (extra > 2 ? 2 : extra);
        if (score > top) {
            top = score;
            m->cause = id;
            m->weight = w;
            memcpy(m->why, why, sizeof why);
            m->strength = w >= 3 ? 1.0 : w == 2 ? 0.7 : 0.5;
        }
    }
}

void it_match_text(const char *text, it_match *m)
{
    it_tokens t;
    it_tokenize(text, &t);
    it_match_tokens(&t, m);
}

int it_cause_matches(int id, const char *text)
{
    it_tokens t;
    if (!text || id < 0 || id >= IT_CAUSE_COUNT)
        return 0;
    it_tokenize(text, &t);
    return it_cause_best(&t, id, NULL, 0, NULL) >= 2;
}

int it_cause_classify(const char *text)
{
    it_match m;
    it_match_text(text, &m);
    return m.cause;
}

int it_metric_cause(const char *name)
{
    it_tokens t;
    it_tokenize(name, &t);
    /* "upstream_5xx_rate" is the dependency's, "db_pool_in_use" the pool's:
     * the first cause (by priority) with a word of its own in the name,
     * generic words ('~') only when no cause has a specific one. */
    for (int weak = 0; weak < 2; weak++)
        for (int k = 0; k < IT_CAUSE_COUNT; k++) {
            const it_cause_info *c = it_cause_get(it_cause_priority[k]);
            for (int i = 0; c->metric_words[i]; i++) {
                const char *w = c->metric_words[i];
                if ((w[0] == '~') == weak && it_tokens_has(&t, w + weak, 0))
                    return it_cause_priority[k];
            }
        }
    return IT_CAUSE_NONE;
}
