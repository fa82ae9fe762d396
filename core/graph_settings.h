/*
 * graph_settings.h - the operator's values of the settings graphs declare
 * (sofiia/graph.h sv_setting).  The core knows no graph's setting: it keeps
 * what the operator wrote (the environment, the config file's `[graph NAME]`
 * sections and its keys the daemon does not know) and, when a plugin loads,
 * matches them against that graph's declarations:
 *
 *   GRAPH_<NAME>_<SETTING>  in the environment, or as a key of the file;
 *   the setting's own env   (sv_setting.env), the same two ways;
 *   SETTING = VALUE         in a `[graph NAME]` section of the file.
 *
 * The environment wins over the file, GRAPH_... over the setting's env.
 */
#ifndef SV_GRAPH_SETTINGS_H
#define SV_GRAPH_SETTINGS_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>
#include <sofiia/graph.h>

/* What the config file said that is not a daemon setting (config.c). */
typedef struct sv_gset_file sv_gset_file;

/* Keep one line of the file: graph is the section's graph name, NULL at the
 * top level.  0 or -ENOMEM. */
int sv_gset_file_add(sv_gset_file **f, const char *graph, const char *key, const char *value,
                     const char *path, int line);
void sv_gset_file_free(sv_gset_file *f);

/*
 * Where values come from from now on (before the first plugin loads):
 * envp ("K=V", NULL-terminated) and file (may be NULL) are borrowed and must
 * outlive every load; run_default_timeout_ms is the daemon's deadline, shown
 * for graphs that declare none.  Call again (SIGHUP) to change them for
 * plugins loaded later.
 */
void sv_gset_setup(char *const *envp, const sv_gset_file *file, int64_t run_default_timeout_ms);

/*
 * The values of graph g's declared settings: *values {name: value} (what
 * host->setting() answers) and *info, the "settings" array of GET
 * /v1/graphs (each with its variables, value and where it came from).
 * -ERANGE with why naming the variable and value when the operator's value
 * is bad, or a `[graph NAME]` section has a key g does not declare.
 */
int sv_gset_resolve(const sv_graph *g, json_object **values, json_object **info, char *why,
                    size_t len);

/* The "deadline" object of GET /v1/graphs for g (new reference). */
json_object *sv_gset_deadline_info(const sv_graph *g);

/*
 * After the plugins are loaded: a key of the file that is neither a daemon
 * setting nor a setting of a loaded graph.  A plain key (a typo such as
 * RUN_TTL_SECS) gives -EINVAL with "config file F line N: unknown setting
 * ..."; GRAPH_... keys and sections of graphs not loaded are only logged
 * (their graph may be dropped in later), once.
 */
int sv_gset_unclaimed(char *why, size_t len);

/* host->config_int() of ABI 1.0: the value of the integer setting a loaded
 * graph declares under the variable key (GRAPH_... or its env), as last
 * resolved, else def. */
long sv_gset_config_int(const char *key, long def);

/* --check-config: load every plugin of plugin_dir (copies in a temporary
 * directory under tmp_base), resolve their settings and look for unclaimed
 * keys.  0, or -EINVAL with the first problem. */
int sv_gset_check_plugins(const char *plugin_dir, const char *tmp_base, char *why, size_t len);

#endif
