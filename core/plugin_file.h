/*
 * plugin_file.h - what the registry does with a plugin file before dlopen():
 * check who may write it (sv_registry_check_mode, declared in registry.h),
 * copy it to a private name in PLUGIN_CACHE_DIR (registry.h says why), and
 * hash what runs.
 */
#ifndef SV_PLUGIN_FILE_H
#define SV_PLUGIN_FILE_H

#include <stddef.h>

#include "registry.h"

/*
 * Copy src to a fresh private file in dir (sv-<pid>-<n>-<file>, which
 * plugin_cache.c removes for a dead pid), checking its mode as opened and
 * its ELF magic on the way, so an empty or garbage file is refused before
 * dlopen sees it.  0 and *out (malloc'd path); or -EINVAL, -EPERM, -ENOMEM
 * with a one-line reason in why and the refusal's code in *code
 * (copy_failed, bad_mode or not_elf).
 */
int sv_plugin_copy(const char *src, const char *dir, char **out, char *why, size_t len,
                   sv_refusal *code);

/* The file's SHA-256 in hex ("" when it cannot be read). */
void sv_plugin_hash(const char *path, char out[65]);

#endif
