/*
 * it_tokens.c - a message as a set of words.  The cause vocabularies
 * (it_vocab.c) match on these sets, not on phrases, so "Connection is not
 * available", "no available connection" and "HikariPool ... connection not
 * available" are one idea.  What varies between two messages of the same
 * error (hosts, paths, ids, numbers, quoted names) is dropped here, so it can
 * never look like a word of a vocabulary ("pool_test" the database name is no
 * pool).
 */
#include "it.h"

#include <string.h>

/* Class names that merely name a pool in every error of their library
 * (urllib3 puts "HTTPSConnectionPool(host=...)" before a refusal, a timeout
 * or a DNS failure alike): kept whole, never split into "connection pool". */
static const char *const it_opaque_words[] = {
    "httpconnectionpool",
    "httpsconnectionpool",
    NULL,
};

static int it_is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int it_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int it_is_alnum(char c)
{
    return it_is_alpha(c) || it_is_digit(c);
}

static int it_is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

static int it_is_lower(char c)
{
    return c >= 'a' && c <= 'z';
}

static int it_is_hex(char c)
{
    return it_is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int it_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

int it_tokens_has(const it_tokens *t, const char *word, int prefix)
{
    size_t n = strlen(word);
    for (int i = 0; i < t->n; i++)
        if (prefix ? strncmp(t->v[i], word, n) == 0 : strcmp(t->v[i], word) == 0)
            return 1;
    return 0;
}

/* Add a lowercased copy of s[0..n) unless too short, too long or present. */
static void it_tok_add(it_tokens *t, const char *s, size_t n)
{
    char w[IT_TOK_LEN];
    if (n < 2 || n >= IT_TOK_LEN || t->n >= IT_TOK_MAX)
        return;
    for (size_t i = 0; i < n; i++)
        w[i] = it_is_upper(s[i]) ? (char)(s[i] - 'A' + 'a') : s[i];
    w[n] = '\0';
    if (!it_tokens_has(t, w, 0))
        memcpy(t->v[t->n++], w, n + 1);
}

/*
 * Is this part of a word a variable value (a number, an id, hex)?  Three
 * digits alone are kept: HTTP statuses, exit codes and errno values (503,
 * 137, 111) are what many messages say.  Short letter-digit words (x509,
 * p99, sslv3, http2, 5xx) carry meaning; long ones are ids.
 */
static int it_part_is_value(const char *s, size_t n)
{
    size_t digits = 0, lead = 0, hex = 0;
    for (size_t i = 0; i < n; i++) {
        digits += it_is_digit(s[i]);
        hex += it_is_hex(s[i]);
    }
    while (lead < n && it_is_digit(s[lead]))
        lead++;
    if (digits == 0)
        return 0;
    if (digits == n)
        return n != 3;
    if (lead == 1 && n == 3 && (s[1] == 'x' || s[1] == 'X') && (s[2] == 'x' || s[2] == 'X'))
        return 0; /* 5xx, 4xx */
    if (lead > 0 && n - lead <= 4)
        return 1; /* 250ms, 12kb, 5m0s */
    if (hex == n && n >= 6)
        return 1;
    return (n >= 5 && digits >= 2) || (n >= 8);
}

/* Emit one part (no '_' or '-' inside): itself and its CamelCase words. */
static int it_part(it_tokens *t, const char *s, size_t n)
{
    char low[IT_TOK_LEN];
    if (n == 0 || it_part_is_value(s, n))
        return 0;
    it_tok_add(t, s, n);
    if (n < IT_TOK_LEN) {
        for (size_t i = 0; i < n; i++)
            low[i] = it_is_upper(s[i]) ? (char)(s[i] - 'A' + 'a') : s[i];
        low[n] = '\0';
        for (int k = 0; it_opaque_words[k]; k++)
            if (strcmp(low, it_opaque_words[k]) == 0)
                return 1;
    }
    /* CamelCase: a boundary before an upper letter that follows a lower
     * one or a digit, or that starts a word after an acronym (OOMKilled). */
    size_t start = 0;
    int split = 0;
    for (size_t i = 1; i <= n; i++) {
        int cut = i == n;
        if (!cut && it_is_upper(s[i]))
            cut = it_is_lower(s[i - 1]) || it_is_digit(s[i - 1]) ||
                  (it_is_upper(s[i - 1]) && i + 1 < n && it_is_lower(s[i + 1]));
        if (!cut)
            continue;
        if (i < n)
            split = 1;
        if (split && !it_part_is_value(s + start, i - start))
            it_tok_add(t, s + start, i - start);
        start = i;
    }
    return 1;
}

/*
 * A word: letters, digits, and '_' or '-' between them.  Its parts are
 * emitted, and when every part is a word (not a value) the whole compound
 * too, so a vocabulary can say "eai_again" or "eai" + "again".
 */
static size_t it_word(it_tokens *t, const char *s)
{
    size_t n = 0, start = 0;
    int all_words = 1, parts = 0;
    while (it_is_alnum(s[n]) || ((s[n] == '_' || s[n] == '-') && it_is_alnum(s[n + 1]) && n > 0))
        n++;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '_' && s[i] != '-')
            continue;
        parts++;
        all_words &= it_part(t, s + start, i - start);
        start = i + 1;
    }
    if (parts > 1 && all_words)
        it_tok_add(t, s, n);
    return n ? n : 1;
}

/* a.b.c.d (digits) with an optional :port: an address, dropped whole. */
static size_t it_ipv4_len(const char *s)
{
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        size_t d = 0;
        while (it_is_digit(s[i]) && d < 4) {
            i++;
            d++;
        }
        if (d == 0 || d > 3)
            return 0;
        if (part < 3 && s[i++] != '.')
            return 0;
    }
    if (s[i] == ':' && it_is_digit(s[i + 1]))
        for (i++; it_is_digit(s[i]); i++)
            ;
    return it_is_alnum(s[i]) ? 0 : i;
}

/* 8-4-4-4-12 hex digits. */
static size_t it_uuid_len(const char *s)
{
    static const int groups[] = {8, 4, 4, 4, 12};
    size_t i = 0;
    for (int g = 0; g < 5; g++) {
        for (int k = 0; k < groups[g]; k++, i++)
            if (!it_is_hex(s[i]))
                return 0;
        if (g < 4 && s[i++] != '-')
            return 0;
    }
    return it_is_alnum(s[i]) ? 0 : i;
}

/* Length of a run of non-blank characters. */
static size_t it_chunk_len(const char *s)
{
    size_t n = 0;
    while (s[n] && !it_is_space(s[n]))
        n++;
    return n;
}

/* Does a chunk hold a URL, or start (after opening punctuation) a path? */
static int it_chunk_is_path(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && strchr("([<{=", s[i]))
        i++;
    if (i < n && (s[i] == '/' || (s[i] == '~' && s[i + 1] == '/') ||
                  (s[i] == '.' && (s[i + 1] == '/' || (s[i + 1] == '.' && s[i + 2] == '/')))))
        return 1;
    for (size_t k = 0; k + 2 < n; k++)
        if (s[k] == ':' && s[k + 1] == '/' && s[k + 2] == '/')
            return 1;
    return 0;
}

/* A quoted value at s[0]: its length when it is a name of a thing to drop
 * (no blank inside, and a digit, '.', ':', '/', '@', '-' or '_' in it, or
 * long: hosts, paths, tables, ids), 0 to read it as text (prose, or a bare
 * word such as 'maxmemory'). */
static size_t it_quoted_value_len(const char *s)
{
    char q = s[0];
    int marks = 0;
    size_t i;
    for (i = 1; s[i] && s[i] != q && i < 512; i++) {
        if (it_is_space(s[i]))
            return 0;
        marks |= it_is_digit(s[i]) || strchr(".:/@-_\\", s[i]) != NULL;
    }
    if (s[i] != q || it_is_alnum(s[i + 1]))
        return 0;
    return (marks || i > 33) ? i + 1 : 0;
}

void it_tokenize(const char *text, it_tokens *t)
{
    size_t i = 0, m;
    const char *s = text;

    t->n = 0;
    if (!s)
        return;
    while (s[i] && i < IT_MSG_SCAN_MAX) {
        char c = s[i];
        int boundary = i == 0 || !it_is_alnum(s[i - 1]);
        if (it_is_space(c)) {
            i++;
            if (it_chunk_is_path(s + i, it_chunk_len(s + i)))
                i += it_chunk_len(s + i);
            continue;
        }
        if (i == 0 && it_chunk_is_path(s, it_chunk_len(s))) {
            i += it_chunk_len(s);
        } else if ((c == '"' || c == '\'' || c == '`') && boundary &&
                   (m = it_quoted_value_len(s + i))) {
            i += m;
        } else if (it_is_hex(c) && boundary && (m = it_uuid_len(s + i))) {
            i += m;
        } else if (it_is_digit(c) && boundary && (m = it_ipv4_len(s + i))) {
            i += m;
        } else if (c == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X') && boundary) {
            for (i += 2; it_is_alnum(s[i]); i++)
                ;
        } else if (it_is_alnum(c)) {
            i += it_word(t, s + i);
        } else {
            i++;
        }
    }
}
