/* plugin_file.c - see plugin_file.h. */
#include "plugin_file.h"
#include "reason.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int in_my_groups(gid_t gid)
{
    int found = gid == getegid();
    int n = found ? 0 : getgroups(0, NULL);
    gid_t *groups = n > 0 ? calloc((size_t)n, sizeof *groups) : NULL;
    if (groups)
        n = getgroups(n, groups);
    for (int i = 0; groups && i < n; i++)
        found |= groups[i] == gid;
    free(groups);
    return found;
}

int sv_registry_check_mode(const struct stat *st, char *why, size_t len)
{
    unsigned mode = (unsigned)st->st_mode & 07777;
    if (st->st_mode & S_IWOTH) {
        sv_reason(why, len,
                  "writable by every user (mode %04o): anyone could plant code; chmod o-w", mode);
        return -EPERM;
    }
    if ((st->st_mode & S_IWGRP) && !in_my_groups(st->st_gid)) {
        sv_reason(why, len,
                  "writable by group %u, which this process is not in (mode %04o): its members "
                  "could plant code; chmod g-w, or chgrp to the daemon's group",
                  (unsigned)st->st_gid, mode);
        return -EPERM;
    }
    return 0;
}

/* Copy src to a fresh private file in dir; checks the ELF magic on the way so
 * an empty or garbage file is refused before dlopen sees it. */
int sv_plugin_copy(const char *src, const char *dir, char **out, char *why, size_t len,
                   sv_refusal *code)
{
    static atomic_uint seq;
    int rc = 0, in = -1, outfd = -1;
    char *dst = NULL;
    const char *base = strrchr(src, '/');
    base = base ? base + 1 : src;
    /* sv-<pid>-<n>-<file>: plugin_cache.c removes a dead pid's copies */
    if (asprintf(&dst, "%s/sv-%ld-%u-%s", dir, (long)getpid(), atomic_fetch_add(&seq, 1) + 1,
                 base) < 0) {
        dst = NULL;
        rc = -ENOMEM;
        sv_reason(why, len, "out of memory");
        goto out;
    }
    in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        rc = sv_reason(why, len, "cannot open: %s", strerror(errno));
        goto out;
    }
    /* the mode of what was opened, not of what the path names a moment later */
    struct stat st;
    if (fstat(in, &st) < 0) {
        rc = sv_reason(why, len, "cannot stat: %s", strerror(errno));
        goto out;
    }
    if ((rc = sv_registry_check_mode(&st, why, len)) < 0) {
        *code = SV_REFUSAL_BAD_MODE;
        goto out;
    }
    outfd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
    if (outfd < 0) {
        rc = sv_reason(why, len, "cannot create private copy %s: %s", dst, strerror(errno));
        goto out;
    }
    char buf[65536];
    size_t total = 0;
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = sv_reason(why, len, "read failed: %s", strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        if (total == 0 && (n < 4 || memcmp(buf, "\177ELF", 4) != 0)) {
            rc = sv_reason(why, len, "not a shared object (no ELF header)");
            *code = SV_REFUSAL_NOT_ELF;
            goto out;
        }
        total += (size_t)n;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(outfd, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                rc = sv_reason(why, len, "cannot write private copy: %s", strerror(errno));
                goto out;
            }
            off += w;
        }
    }
    if (total == 0) {
        rc = sv_reason(why, len, "empty file");
        *code = SV_REFUSAL_NOT_ELF;
        goto out;
    }
out:
    if (in >= 0)
        close(in);
    if (outfd >= 0)
        close(outfd);
    if (rc < 0 && dst) {
        unlink(dst);
        free(dst);
        dst = NULL;
    }
    *out = dst;
    return rc;
}

void sv_plugin_hash(const char *path, char out[65])
{
    size_t len = 0, cap = 0;
    char *data = NULL;
    FILE *f = fopen(path, "rb");
    snprintf(out, 65, "%s", "");
    for (int done = !f; !done;) {
        if (len == cap) {
            char *d = realloc(data, cap = cap ? cap * 2 : 1 << 20);
            if (!d)
                break;
            data = d;
        }
        size_t n = fread(data + len, 1, cap - len, f);
        len += n;
        done = n == 0;
        if (done && !ferror(f))
            sv_sha256_hex(data, len, out);
    }
    if (f)
        fclose(f);
    free(data);
}
