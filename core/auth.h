/*
 * auth.h - the API keys of SUPERVISOR_INTERNAL_KEY: several at once (so one
 * can be rotated without downtime), each with a short id that logs and
 * events may show, and optionally limited to some workspaces.
 *
 *   SUPERVISOR_INTERNAL_KEY=SECRET                      one key, id "default"
 *   SUPERVISOR_INTERNAL_KEY=ID:SECRET[@WS[+WS...]][,ID:SECRET[@...]...]
 *
 * A value with none of ':' ',' '@' is the first form, as before keys had
 * ids; anything else is a list.  Ids are 1-32 of [A-Za-z0-9_.-], unique;
 * secrets of a list are 16-512 printable ASCII characters other than ','
 * and '@', unique; workspaces are workspace ids (1-128 of [A-Za-z0-9_.:-]).
 * Only the SHA-256 of each secret is kept, and no message ever shows one.
 */
#ifndef SV_AUTH_H
#define SV_AUTH_H

#include <stddef.h>

#define SV_AUTH_ID_MAX 32
#define SV_AUTH_SECRET_MIN 16
#define SV_AUTH_SECRET_MAX 512

typedef struct sv_auth_key {
    char id[SV_AUTH_ID_MAX + 1];
    char digest[65]; /* hex SHA-256 of the secret */
    char **workspaces;
    size_t n_workspaces; /* 0: every workspace */
} sv_auth_key;

typedef struct sv_auth {
    sv_auth_key *keys;
    size_t n;
} sv_auth;

/*
 * Parse a SUPERVISOR_INTERNAL_KEY value.  NULL or "": *out NULL (the API is
 * open), 0.  Else 0 and a new set, or -EINVAL with a one-line reason in err
 * that names entries by position or id and never shows a secret, or -ENOMEM.
 */
int sv_auth_parse(const char *spec, sv_auth **out, char *err, size_t errlen);
void sv_auth_free(sv_auth *a);

/*
 * The key whose secret token is, or NULL.  Every key is compared, each in
 * constant time on the SHA-256 of the token, so the time taken tells
 * neither which key matched nor how long any secret is.
 */
const sv_auth_key *sv_auth_match(const sv_auth *a, const char *token);

/* May the caller holding key k (NULL: the API is open) touch runs of
 * workspace ws? */
int sv_auth_allows(const sv_auth_key *k, const char *ws);
/* Is k limited to some workspaces? */
int sv_auth_limited(const sv_auth_key *k);

/* Is host (numeric, as config.c leaves it) a loopback address? */
int sv_auth_loopback(const char *host);

/*
 * The start-up line about access: a warning when spec is unset while host
 * is not loopback (anyone who can reach the port may start and cancel
 * runs), else the key ids and their workspaces at info.
 */
void sv_auth_log_startup(const char *spec, const char *host);

#endif
