/* plugin_cache.c - PLUGIN_CACHE_DIR: its checks, the per-instance lock, and
 * removing the copies dead instances left; see plugin_cache.h. */
#include "plugin_cache.h"
#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

/* How long a start waits for a lock file another process with our pid
 * holds (a cleaner holds one for a moment; anything longer is a live
 * instance in another pid namespace). */
#define SV_CACHE_LOCK_WAIT_MS 2000

struct sv_plugin_cache {
    char *dir;
    pid_t pid;
    int lock_fd; /* flock()ed sv-<pid>.lock; -1 until taken */
};

static int fail(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

/* The mount's flags and this user's rights, on dir or (not there yet) the
 * parent it will be created in. */
static int check_mount(const char *value, const char *path, char *err, size_t len)
{
    struct statvfs vfs;
    if (statvfs(path, &vfs) < 0)
        return fail(err, len, "PLUGIN_CACHE_DIR=\"%s\": %s: %s", value, path, strerror(errno));
    if (vfs.f_flag & ST_NOEXEC)
        return fail(err, len,
                    "PLUGIN_CACHE_DIR=\"%s\": %s is on a file system mounted noexec, where plugin "
                    "copies cannot be mapped executable: choose a directory on another mount "
                    "(under systemd, the unit's StateDirectory)",
                    value, path);
    if (vfs.f_flag & ST_RDONLY)
        return fail(err, len, "PLUGIN_CACHE_DIR=\"%s\": %s is on a read-only file system", value,
                    path);
    if (access(path, W_OK | X_OK) < 0)
        return fail(err, len, "PLUGIN_CACHE_DIR=\"%s\": %s is not writable by this user (uid %u)",
                    value, path, (unsigned)geteuid());
    return 0;
}

/* Only this user or root may own what leads to code the daemon runs. */
static int trusted_owner(uid_t uid)
{
    return uid == geteuid() || uid == 0;
}

int sv_plugin_cache_check(const char *dir, char *err, size_t len)
{
    struct stat st;
    char parent[PATH_MAX];
    if (dir[0] != '/')
        return fail(err, len, "PLUGIN_CACHE_DIR=\"%s\": must be an absolute path", dir);
    if (strlen(dir) >= sizeof parent - 32)
        return fail(err, len, "PLUGIN_CACHE_DIR=\"%.80s...\": path too long", dir);
    /* A symbolic link planted in a shared directory (/tmp) must not lead
     * the daemon elsewhere: it counts only when a trusted user made it. */
    if (lstat(dir, &st) == 0 && S_ISLNK(st.st_mode) && !trusted_owner(st.st_uid))
        return fail(err, len,
                    "PLUGIN_CACHE_DIR=\"%s\": a symbolic link owned by uid %u, not by this user "
                    "(uid %u) or root",
                    dir, (unsigned)st.st_uid, (unsigned)geteuid());
    if (stat(dir, &st) < 0) {
        if (errno != ENOENT)
            return fail(err, len, "PLUGIN_CACHE_DIR=\"%s\": %s", dir, strerror(errno));
        /* It is created at start: its parent must allow that. */
        snprintf(parent, sizeof parent, "%s", dir);
        for (size_t n = strlen(parent); n > 1 && parent[n - 1] == '/';)
            parent[--n] = '\0';
        char *slash = strrchr(parent, '/');
        slash[slash == parent ? 1 : 0] = '\0';
        if (stat(parent, &st) < 0 || !S_ISDIR(st.st_mode))
            return fail(err, len,
                        "PLUGIN_CACHE_DIR=\"%s\": neither it nor its parent directory %s exists",
                        dir, parent);
        return check_mount(dir, parent, err, len);
    }
    if (!S_ISDIR(st.st_mode))
        return fail(err, len, "PLUGIN_CACHE_DIR=\"%s\": not a directory", dir);
    if (!trusted_owner(st.st_uid))
        return fail(err, len,
                    "PLUGIN_CACHE_DIR=\"%s\": owned by uid %u, not by this user (uid %u) or root, "
                    "and the daemon runs the code it finds there",
                    dir, (unsigned)st.st_uid, (unsigned)geteuid());
    if (st.st_mode & S_IWOTH)
        return fail(err, len,
                    "PLUGIN_CACHE_DIR=\"%s\": writable by every user, who could put code there "
                    "that the daemon runs: use a directory of its own (mode 0700)",
                    dir);
    return check_mount(dir, dir, err, len);
}

const char *sv_plugin_cache_dir(const sv_plugin_cache *c)
{
    return c->dir;
}

static void lock_path(const char *dir, long pid, char *buf, size_t len)
{
    snprintf(buf, len, "%s/sv-%ld.lock", dir, pid);
}

/* Open and lock path without waiting: 1 (fd in *out), 0 when another
 * process holds it, -EAGAIN when its name was removed meanwhile, or an
 * error. */
static int try_lock(const char *path, int *out)
{
    struct stat a, b;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return -errno;
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;
        close(fd);
        return e == EWOULDBLOCK ? 0 : -e;
    }
    /* A cleaner may have removed the name between our open and flock:
     * a lock on a file no one else can open protects nothing. */
    if (fstat(fd, &a) < 0 || lstat(path, &b) < 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
        close(fd);
        return -EAGAIN;
    }
    *out = fd;
    return 1;
}

static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int lock_self(sv_plugin_cache *c, char *err, size_t len)
{
    char path[PATH_MAX];
    long long deadline = mono_ms() + SV_CACHE_LOCK_WAIT_MS;
    lock_path(c->dir, (long)c->pid, path, sizeof path);
    for (;;) {
        int rc = try_lock(path, &c->lock_fd);
        if (rc == 1)
            return 0;
        if (rc < 0 && rc != -EAGAIN)
            return fail(err, len, "PLUGIN_CACHE_DIR=\"%s\": cannot create %s: %s", c->dir, path,
                        strerror(-rc));
        if (mono_ms() >= deadline)
            return fail(err, len,
                        "PLUGIN_CACHE_DIR=\"%s\": %s is held by another live process with this "
                        "pid (%ld): instances that share a cache directory must share a pid "
                        "namespace; give each container a directory of its own",
                        c->dir, path, (long)c->pid);
        pause_ms(10);
    }
}

/* "sv-<pid>-..." (a copy) or "sv-<pid>.lock": the pid, else 0. */
static long name_pid(const char *name)
{
    if (strncmp(name, "sv-", 3) != 0)
        return 0;
    char *end = NULL;
    errno = 0;
    long pid = strtol(name + 3, &end, 10);
    if (errno || end == name + 3 || name[3] < '1' || name[3] > '9' || pid <= 0 || pid > INT_MAX)
        return 0;
    return *end == '-' || strcmp(end, ".lock") == 0 ? pid : 0;
}

/* Unlink every copy of instance pid; how many went. */
static int remove_copies(const char *dir, long pid)
{
    char prefix[32];
    int n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int len = snprintf(prefix, sizeof prefix, "sv-%ld-", pid);
    for (struct dirent *e; (e = readdir(d));)
        if (strncmp(e->d_name, prefix, (size_t)len) == 0 && unlinkat(dirfd(d), e->d_name, 0) == 0)
            n++;
    closedir(d);
    return n;
}

/* The distinct pids named in dir, but self. */
static long *dir_pids(const char *dir, long self, size_t *count)
{
    long *pids = NULL;
    size_t n = 0, cap = 0;
    DIR *d = opendir(dir);
    *count = 0;
    if (!d)
        return NULL;
    for (struct dirent *e; (e = readdir(d));) {
        long pid = name_pid(e->d_name);
        int known = pid == 0 || pid == self;
        for (size_t i = 0; !known && i < n; i++)
            known = pids[i] == pid;
        if (known)
            continue;
        if (n == cap) {
            long *np = realloc(pids, (cap ? cap * 2 : 16) * sizeof *np);
            if (!np)
                break;
            pids = np;
            cap = cap ? cap * 2 : 16;
        }
        pids[n++] = pid;
    }
    closedir(d);
    *count = n;
    return pids;
}

int sv_plugin_cache_clean(sv_plugin_cache *c)
{
    size_t n = 0;
    int removed = 0;
    char path[PATH_MAX];
    long *pids = dir_pids(c->dir, (long)c->pid, &n);
    json_object *dead = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        int fd = -1;
        lock_path(c->dir, pids[i], path, sizeof path);
        /* Held: that instance is alive.  Taken: it is dead, and no process
         * with its pid can start copying until we let go. */
        if (try_lock(path, &fd) != 1)
            continue;
        removed += remove_copies(c->dir, pids[i]);
        unlink(path);
        close(fd);
        json_object_array_add(dead, json_object_new_int64(pids[i]));
    }
    free(pids);
    if (json_object_array_length(dead) > 0) {
        json_object *f = json_object_new_object();
        json_object_object_add(f, "dir", json_object_new_string(c->dir));
        json_object_object_add(f, "files", json_object_new_int(removed));
        json_object_object_add(f, "pids", dead);
        sv_log(SV_LEVEL_INFO, "stale plugin copies removed", f);
    } else {
        json_object_put(dead);
    }
    return removed;
}

int sv_plugin_cache_open(const char *dir, sv_plugin_cache **out, char *err, size_t len)
{
    int rc = 0;
    sv_plugin_cache *c = calloc(1, sizeof *c);
    *out = NULL;
    if (!c || !(c->dir = strdup(dir))) {
        rc = -ENOMEM;
        fail(err, len, "PLUGIN_CACHE_DIR: out of memory");
        goto out;
    }
    c->lock_fd = -1;
    c->pid = getpid();
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        rc = -errno;
        fail(err, len, "PLUGIN_CACHE_DIR=\"%s\": cannot create it: %s", dir, strerror(errno));
        goto out;
    }
    /* Again, now that it exists: what was created is what is used. */
    rc = sv_plugin_cache_check(dir, err, len);
    if (rc < 0)
        goto out;
    rc = lock_self(c, err, len);
    if (rc < 0)
        goto out;
    /* Copies under our own pid are a previous life's: we hold its lock. */
    int mine = remove_copies(dir, (long)c->pid);
    if (mine > 0)
        sv_logf(SV_LEVEL_INFO, "%d stale plugin copies of an earlier process %ld removed from %s",
                mine, (long)c->pid, dir);
    sv_plugin_cache_clean(c);
out:
    if (rc < 0) {
        sv_plugin_cache_close(c);
        c = NULL;
    }
    *out = c;
    return rc;
}

void sv_plugin_cache_close(sv_plugin_cache *c)
{
    char path[PATH_MAX];
    if (!c)
        return;
    /* Without the lock, files under our pid may be another namespace's. */
    if (c->lock_fd >= 0) {
        remove_copies(c->dir, (long)c->pid);
        lock_path(c->dir, (long)c->pid, path, sizeof path);
        unlink(path);
        close(c->lock_fd);
    }
    free(c->dir);
    free(c);
}
