/*
 * plugin_cache.h - the directory where the registry puts its private copies
 * of plugin files before dlopen() (PLUGIN_CACHE_DIR, docs/operations.md).
 *
 * Several daemons may share the directory.  Each names its copies
 * sv-<pid>-<n>-<file> and holds an flock(2) on sv-<pid>.lock for its whole
 * life; at start, every pid whose lock file nobody holds belongs to a dead
 * instance, and its copies and lock file are removed.  The lock, not a kill(0)
 * probe, decides: a reused pid or another pid namespace cannot make a dead
 * instance look alive, nor a live one look dead.
 */
#ifndef SV_PLUGIN_CACHE_H
#define SV_PLUGIN_CACHE_H

#include <stddef.h>

typedef struct sv_plugin_cache sv_plugin_cache;

/* Could dir serve as the cache (it may not exist yet: then its parent must
 * allow creating it)?  Looks only, creates nothing.  0, or -EINVAL with one
 * line naming PLUGIN_CACHE_DIR and the value in err. */
int sv_plugin_cache_check(const char *dir, char *err, size_t errlen);

/* Create dir if missing (mode 0700), take this process's lock in it and
 * remove the copies of dead instances (logged).  0, or a negative code with
 * one line in err. */
int sv_plugin_cache_open(const char *dir, sv_plugin_cache **out, char *err, size_t errlen);

/* The directory copies go into. */
const char *sv_plugin_cache_dir(const sv_plugin_cache *c);

/* Remove dead instances' copies now; the number of files removed. */
int sv_plugin_cache_clean(sv_plugin_cache *c);

/* Remove what is left of this process's copies, release the lock, free. */
void sv_plugin_cache_close(sv_plugin_cache *c);

#endif
