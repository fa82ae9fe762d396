/* graph_settings.c - the operator's values of graph settings; see
 * graph_settings.h.  One process-wide source, set at start-up: the registry
 * resolves each plugin against it on the watcher thread while workers may
 * ask config_int(), so it is read under a lock. */
#include "graph_settings.h"
#include "graph_rules.h"
#include "host.h"
#include "log.h"
#include "registry.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

typedef struct sv_gset_line {
    char *graph; /* the [graph NAME] section, NULL at the top level */
    char *key, *value, *path;
    int line;
    int claimed; /* a loaded graph took it */
    int warned;  /* its "not claimed" line was logged */
} sv_gset_line;

struct sv_gset_file {
    sv_gset_line *v;
    size_t n, cap;
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static char *const *g_envp;
static sv_gset_file *g_file;
static int64_t g_default_ms = 3600 * 1000;
/* Every variable a loaded graph declared and its setting's value as last
 * resolved, for config_int (append-only). */
typedef struct sv_gset_declared {
    char *name;
    long value;
    int is_int;
} sv_gset_declared;
static sv_gset_declared *g_declared;
static size_t g_n_declared;

int sv_gset_file_add(sv_gset_file **f, const char *graph, const char *key, const char *value,
                     const char *path, int line)
{
    if (!*f && !(*f = calloc(1, sizeof **f)))
        return -ENOMEM;
    sv_gset_file *file = *f;
    if (file->n == file->cap) {
        size_t cap = file->cap ? file->cap * 2 : 8;
        sv_gset_line *v = realloc(file->v, cap * sizeof *v);
        if (!v)
            return -ENOMEM;
        file->v = v;
        file->cap = cap;
    }
    sv_gset_line *l = &file->v[file->n];
    memset(l, 0, sizeof *l);
    l->graph = graph ? strdup(graph) : NULL;
    l->key = strdup(key);
    l->value = strdup(value);
    l->path = strdup(path ? path : "");
    l->line = line;
    if ((graph && !l->graph) || !l->key || !l->value || !l->path) {
        free(l->graph);
        free(l->key);
        free(l->value);
        free(l->path);
        return -ENOMEM;
    }
    file->n++;
    return 0;
}

void sv_gset_file_free(sv_gset_file *f)
{
    if (!f)
        return;
    pthread_mutex_lock(&g_lock);
    if (g_file == f)
        g_file = NULL;
    pthread_mutex_unlock(&g_lock);
    for (size_t i = 0; i < f->n; i++) {
        free(f->v[i].graph);
        free(f->v[i].key);
        free(f->v[i].value);
        free(f->v[i].path);
    }
    free(f->v);
    free(f);
}

void sv_gset_setup(char *const *envp, const sv_gset_file *file, int64_t run_default_timeout_ms)
{
    pthread_mutex_lock(&g_lock);
    g_envp = envp;
    /* the marks (claimed, warned) are the registry's bookkeeping, not the
     * configuration's: the file itself is never changed otherwise */
    g_file = (sv_gset_file *)file;
    g_default_ms = run_default_timeout_ms;
    pthread_mutex_unlock(&g_lock);
}

static const char *env_get(const char *key)
{
    size_t kl = strlen(key);
    for (char *const *e = g_envp; e && *e; e++)
        if (strncmp(*e, key, kl) == 0 && (*e)[kl] == '=')
            return *e + kl + 1;
    return NULL;
}

/* GRAPH_<GRAPH>_<SETTING> */
static void var_name(const sv_graph *g, const sv_setting *s, char *buf, size_t len)
{
    snprintf(buf, len, "GRAPH_%s_%s", g->name, s->name);
    for (char *p = buf; *p; p++)
        *p = (char)toupper((unsigned char)*p);
}

static void declare(const char *name, json_object *value)
{
    sv_gset_declared *d = NULL;
    for (size_t i = 0; i < g_n_declared && !d; i++)
        if (strcmp(g_declared[i].name, name) == 0)
            d = &g_declared[i];
    if (!d) {
        sv_gset_declared *v = realloc(g_declared, (g_n_declared + 1) * sizeof *v);
        if (!v)
            return;
        g_declared = v;
        d = &g_declared[g_n_declared];
        if (!(d->name = strdup(name)))
            return;
        g_n_declared++;
    }
    d->is_int = json_object_is_type(value, json_type_int);
    d->value = d->is_int ? (long)json_object_get_int64(value) : 0;
}

/* Does file line l set setting s of graph g (var: its GRAPH_ name)? */
static int line_sets(const sv_gset_line *l, const sv_graph *g, const sv_setting *s, const char *var)
{
    if (l->graph && strcmp(l->graph, g->name) != 0)
        return 0;
    if (strcmp(l->key, var) == 0 || (s->env && strcmp(l->key, s->env) == 0))
        return 1;
    return l->graph && strcasecmp(l->key, s->name) == 0;
}

typedef struct found {
    const char *value;
    const char *source; /* "environment", "file", "default" */
    char where[300];    /* the variable, or "config file F line N" */
    char key[200];      /* the name the operator wrote */
} found;

/* The operator's value of s (g_lock held): env over file, GRAPH_ over env. */
static void lookup(const sv_graph *g, const sv_setting *s, const char *var, found *f)
{
    const char *names[2] = {var, s->env};
    memset(f, 0, sizeof *f);
    f->source = "default";
    for (int i = 0; i < 2 && !f->value; i++) {
        const char *v = names[i] ? env_get(names[i]) : NULL;
        if (v) {
            f->value = v;
            f->source = "environment";
            snprintf(f->where, sizeof f->where, "%s", names[i]);
            snprintf(f->key, sizeof f->key, "%s", names[i]);
        }
    }
    /* In the file, the last line wins, as for the daemon's settings. */
    for (size_t i = 0; g_file && i < g_file->n; i++) {
        sv_gset_line *l = &g_file->v[i];
        if (!line_sets(l, g, s, var))
            continue;
        l->claimed = 1;
        if (!f->value || strcmp(f->source, "file") == 0) {
            f->value = l->value;
            f->source = "file";
            snprintf(f->where, sizeof f->where, "config file %s line %d", l->path, l->line);
            snprintf(f->key, sizeof f->key, "%s%s%s", l->graph ? "[graph " : "",
                     l->graph ? l->graph : "", l->graph ? "] " : "");
            snprintf(f->key + strlen(f->key), sizeof f->key - strlen(f->key), "%s", l->key);
        }
    }
}

static json_object *bound(double v, int type)
{
    return type == SV_SETTING_NUMBER ? json_object_new_double(v)
                                     : json_object_new_int64((int64_t)v);
}

static json_object *setting_info(const sv_setting *s, const char *var, json_object *def,
                                 json_object *value, const found *f)
{
    json_object *o = json_object_new_object(), *vars = json_object_new_array();
    json_object_object_add(o, "name", json_object_new_string(s->name));
    json_object_object_add(o, "type", json_object_new_string(sv_rule_setting_type(s->type)));
    if (s->description)
        json_object_object_add(o, "description", json_object_new_string(s->description));
    json_object_object_add(o, "default", def);
    if (s->type != SV_SETTING_BOOL && !(s->min == 0 && s->max == 0)) {
        int str = s->type == SV_SETTING_STRING;
        json_object_object_add(o, str ? "minLength" : "minimum", bound(s->min, s->type));
        json_object_object_add(o, str ? "maxLength" : "maximum", bound(s->max, s->type));
    }
    json_object_array_add(vars, json_object_new_string(var));
    if (s->env)
        json_object_array_add(vars, json_object_new_string(s->env));
    json_object_object_add(o, "variables", vars);
    json_object_object_add(o, "value", json_object_get(value));
    json_object_object_add(o, "source", json_object_new_string(f->source));
    if (f->where[0])
        json_object_object_add(o, "from", json_object_new_string(f->where));
    return o;
}

/* A [graph NAME] line for g that names none of its settings. */
static int stray_line(const sv_graph *g, const sv_setting *set, uint32_t n, char *why, size_t len)
{
    char var[200];
    for (size_t i = 0; g_file && i < g_file->n; i++) {
        const sv_gset_line *l = &g_file->v[i];
        int known = 0;
        if (!l->graph || strcmp(l->graph, g->name) != 0)
            continue;
        for (uint32_t k = 0; k < n && !known; k++) {
            var_name(g, &set[k], var, sizeof var);
            known = line_sets(l, g, &set[k], var);
        }
        if (!known) {
            char names[600] = "";
            for (uint32_t k = 0; k < n; k++)
                snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", k ? ", " : "",
                         set[k].name);
            snprintf(why, len,
                     "config file %s line %d: [graph %s] %s: graph %s declares no such setting "
                     "(it has: %s)",
                     l->path, l->line, g->name, l->key, g->name, n ? names : "none");
            return -ERANGE;
        }
    }
    return 0;
}

int sv_gset_resolve(const sv_graph *g, json_object **values, json_object **info, char *why,
                    size_t len)
{
    uint32_t n;
    const sv_setting *set = sv_rule_settings(g, &n);
    json_object *vals = json_object_new_object(), *arr = json_object_new_array();
    int rc = 0;
    char var[200], sub[256];
    pthread_mutex_lock(&g_lock);
    rc = stray_line(g, set, n, why, len);
    for (uint32_t i = 0; rc == 0 && i < n; i++) {
        const sv_setting *s = &set[i];
        json_object *def = NULL, *value = NULL;
        found f;
        var_name(g, s, var, sizeof var);
        lookup(g, s, var, &f);
        /* the default was checked when the descriptor was */
        sv_rule_setting_value(s, s->def ? s->def : "", &def, sub, sizeof sub);
        if (f.value && sv_rule_setting_value(s, f.value, &value, sub, sizeof sub) < 0) {
            snprintf(why, len, "%s%s%s=\"%.200s\": %s (graph %s's setting %s)",
                     strcmp(f.source, "file") == 0 ? f.where : "",
                     strcmp(f.source, "file") == 0 ? ": " : "", f.key, f.value, sub, g->name,
                     s->name);
            json_object_put(def);
            rc = -ERANGE;
            break;
        }
        if (!value)
            value = json_object_get(def);
        json_object_array_add(arr, setting_info(s, var, def, value, &f));
        json_object_object_add(vals, s->name, value);
        declare(var, value);
        if (s->env)
            declare(s->env, value);
    }
    pthread_mutex_unlock(&g_lock);
    if (rc < 0) {
        json_object_put(vals);
        json_object_put(arr);
        vals = arr = NULL;
    }
    *values = vals;
    *info = arr;
    return rc;
}

json_object *sv_gset_deadline_info(const sv_graph *g)
{
    sv_deadline d = sv_rule_deadline(g);
    json_object *o = json_object_new_object();
    pthread_mutex_lock(&g_lock);
    int64_t daemon_sec = g_default_ms / 1000;
    pthread_mutex_unlock(&g_lock);
    int64_t def = d.default_sec ? d.default_sec : daemon_sec;
    json_object_object_add(o, "default_sec", json_object_new_int64(def));
    json_object_object_add(o, "max_sec", json_object_new_int64(d.max_sec ? d.max_sec : def));
    json_object_object_add(o, "input", d.input ? json_object_new_string(d.input) : NULL);
    json_object_object_add(
        o, "source", json_object_new_string(d.default_sec ? "graph" : "RUN_DEFAULT_TIMEOUT_SEC"));
    return o;
}

int sv_gset_unclaimed(char *why, size_t len)
{
    int rc = 0;
    pthread_mutex_lock(&g_lock);
    for (size_t i = 0; g_file && i < g_file->n && rc == 0; i++) {
        sv_gset_line *l = &g_file->v[i];
        if (l->claimed)
            continue;
        if (!l->graph && strncmp(l->key, "GRAPH_", 6) != 0) {
            snprintf(why, len,
                     "config file %s line %d: unknown setting \"%s\" (neither a daemon setting "
                     "nor one a loaded graph declares; see docs/operations.md for the list)",
                     l->path, l->line, l->key);
            rc = -EINVAL;
        } else if (!l->warned) {
            l->warned = 1;
            sv_logf(SV_LEVEL_WARN,
                    "config file %s line %d: %s%s%s%s is not a setting of any loaded graph; it "
                    "applies if its graph is loaded later",
                    l->path, l->line, l->graph ? "[graph " : "", l->graph ? l->graph : "",
                    l->graph ? "] " : "", l->key);
        }
    }
    pthread_mutex_unlock(&g_lock);
    return rc;
}

long sv_gset_config_int(const char *key, long def)
{
    long v = def;
    pthread_mutex_lock(&g_lock);
    for (size_t i = 0; key && i < g_n_declared; i++)
        if (g_declared[i].is_int && strcmp(g_declared[i].name, key) == 0)
            v = g_declared[i].value;
    pthread_mutex_unlock(&g_lock);
    return v;
}

static int so_file(const struct dirent *d)
{
    size_t n = strlen(d->d_name);
    return n > 3 && d->d_name[0] != '.' && strcmp(d->d_name + n - 3, ".so") == 0;
}

int sv_gset_check_plugins(const char *plugin_dir, const char *tmp_base, char *why, size_t len)
{
    char dir[300], path[4200], sub[512];
    struct dirent **list = NULL;
    int rc = 0, n;
    snprintf(dir, sizeof dir, "%.200s/sofiia-check.XXXXXX", tmp_base);
    if (!mkdtemp(dir)) {
        snprintf(why, len, "cannot create a directory under %s to load the plugins: %s", tmp_base,
                 strerror(errno));
        return -EINVAL;
    }
    n = scandir(plugin_dir, &list, so_file, alphasort);
    for (int i = 0; i < n; i++) {
        sv_graph_ent *e = NULL;
        snprintf(path, sizeof path, "%s/%s", plugin_dir, list[i]->d_name);
        /* Only a bad setting stops the daemon; other refusals leave it
         * serving, so they are not the configuration's fault. */
        if (rc == 0 &&
            sv_registry_load_file(path, dir, sv_host_table(), &e, sub, sizeof sub) == -ERANGE) {
            snprintf(why, len, "%s", sub);
            rc = -EINVAL;
        }
        sv_graph_ent_unref(e);
        free(list[i]);
    }
    free(list);
    rmdir(dir);
    return rc < 0 ? rc : sv_gset_unclaimed(why, len);
}
