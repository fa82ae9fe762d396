/* ctl_new_graph.c - sofiia-ctl new-graph; see ctl_new_graph.h. */
#include "ctl_new_graph.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* sv_ctl_starter[]: made from sdk/starter/ at build time (cli/local.am). */
#include "ctl_starter.h"

/* A graph's name that is also a C identifier: [a-z][a-z0-9_]{0,63}. */
static int good_name(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 64 || !(s[0] >= 'a' && s[0] <= 'z'))
        return 0;
    return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

/* text with every @GRAPH@ and @GRAPH_UPPER@ replaced (malloc'd). */
static char *fill(const char *text, const char *name, const char *upper)
{
    size_t cap = strlen(text) * 2 + 1024, n = 0;
    char *out = malloc(cap);
    for (const char *p = text; out && *p;) {
        const char *with = NULL;
        size_t skip = 1;
        if (strncmp(p, "@GRAPH@", 7) == 0)
            with = name, skip = 7;
        else if (strncmp(p, "@GRAPH_UPPER@", 13) == 0)
            with = upper, skip = 13;
        size_t add = with ? strlen(with) : 1;
        if (n + add + 1 > cap) {
            char *o = realloc(out, cap *= 2);
            if (!o) {
                free(out);
                return NULL;
            }
            out = o;
        }
        memcpy(out + n, with ? with : p, add);
        n += add;
        p += skip;
    }
    if (out)
        out[n] = '\0';
    return out;
}

/* Write one file, never over an existing one.  0 or -errno. */
static int write_new(const char *path, const char *text)
{
    int rc = 0;
    size_t len = strlen(text);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    for (size_t off = 0; off < len;) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            rc = -errno;
            break;
        }
        off += (size_t)w;
    }
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
    return rc;
}

int sv_ctl_new_graph(int argc, char **argv)
{
    char upper[65], path[4200], fname[200];
    if (argc < 1 || argc > 2 || !good_name(argv[0])) {
        fprintf(stderr, "sofiia-ctl: new-graph NAME [DIR]: NAME must be 1-64 characters of "
                        "[a-z0-9_], starting with a letter (it is the graph's name and a C "
                        "identifier)\n");
        return 2;
    }
    const char *name = argv[0], *dir = argc > 1 ? argv[1] : argv[0];
    for (size_t i = 0; i <= strlen(name); i++)
        upper[i] = (char)toupper((unsigned char)name[i]);
    if (mkdir(dir, 0755) < 0) {
        fprintf(stderr, "sofiia-ctl: new-graph: cannot create %s: %s%s\n", dir, strerror(errno),
                errno == EEXIST ? " (give another directory: new-graph NAME DIR)" : "");
        return 1;
    }
    for (const sv_ctl_file *f = sv_ctl_starter; f->name; f++) {
        char *file_name = fill(f->name, name, upper), *text = fill(f->text, name, upper);
        /* GRAPH in a file's name is the graph's name */
        const char *g = file_name ? strstr(file_name, "GRAPH") : NULL;
        if (g)
            snprintf(fname, sizeof fname, "%.*s%s%s", (int)(g - file_name), file_name, name, g + 5);
        else
            snprintf(fname, sizeof fname, "%s", file_name ? file_name : "");
        snprintf(path, sizeof path, "%s/%s", dir, fname);
        int rc = file_name && text ? write_new(path, text) : -ENOMEM;
        free(file_name);
        free(text);
        if (rc < 0) {
            fprintf(stderr, "sofiia-ctl: new-graph: cannot write %s: %s\n", path, strerror(-rc));
            return 1;
        }
        printf("wrote %s\n", path);
    }
    printf("next: cd %s && make && make check && cp %s.so \"$PLUGIN_DIR\"  (README.md)\n", dir,
           name);
    return 0;
}
