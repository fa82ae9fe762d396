/*
 * ui.c - see ui.h.
 *
 * A path is served only when it is made of plain names ([A-Za-z0-9_.-],
 * none starting with a dot, so no "..", no hidden file) with a known
 * extension, and when the file it resolves to (symbolic links followed) is
 * a regular file inside UI_DIR.  Anything else is the same 404.
 */
#include "ui.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SV_UI_PATH_MAX 200
#define SV_UI_FILE_MAX (4 * 1024 * 1024)

static const struct {
    const char *ext, *type;
} g_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".json", "application/json"},
    {".txt", "text/plain; charset=utf-8"},
};

static const char *type_of(const char *rel)
{
    const char *dot = strrchr(rel, '.');
    for (size_t i = 0; dot && i < sizeof g_types / sizeof g_types[0]; i++)
        if (strcmp(dot, g_types[i].ext) == 0)
            return g_types[i].type;
    return NULL;
}

/* Plain names joined by single slashes, none starting with a dot. */
static int plain_path(const char *rel)
{
    size_t n = strlen(rel);
    if (n == 0 || n > SV_UI_PATH_MAX)
        return 0;
    for (const char *p = rel; *p; p++) {
        int seg_start = p == rel || p[-1] == '/';
        if (seg_start && (*p == '.' || *p == '/'))
            return 0;
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-' || *p == '.' || *p == '/'))
            return 0;
    }
    return rel[n - 1] != '/';
}

static void not_found(sv_resp *resp, const char *path)
{
    char msg[300];
    snprintf(msg, sizeof msg, "no such file in the run console: %.200s", path);
    sv_resp_error(resp, 404, "not_found", msg, NULL);
}

/* Read the file at rel under dir into resp; 0, -ENOENT (not a console
 * file), or another error. */
static int load(const char *dir, const char *rel, sv_resp *resp)
{
    char full[PATH_MAX], real[PATH_MAX], root[PATH_MAX];
    int rc = 0, fd = -1;
    struct stat st;
    if (snprintf(full, sizeof full, "%s/%s", dir, rel) >= (int)sizeof full ||
        !realpath(dir, root) || !realpath(full, real))
        return -ENOENT;
    size_t rl = strlen(root);
    if (strncmp(real, root, rl) != 0 || real[rl] != '/')
        return -ENOENT; /* a link that leads out of UI_DIR */
    fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > SV_UI_FILE_MAX) {
        rc = -ENOENT;
        goto out;
    }
    resp->raw = malloc((size_t)st.st_size + 1);
    if (!resp->raw) {
        rc = -ENOMEM;
        goto out;
    }
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, resp->raw + got, (size_t)st.st_size - got);
        if (n <= 0) {
            rc = n == 0 ? -EIO : -errno;
            goto out;
        }
        got += (size_t)n;
    }
    resp->raw_len = got;
    /* Size and change time: a new version of the file gets a new tag. */
    snprintf(resp->etag, sizeof resp->etag, "\"%llx-%llx\"", (unsigned long long)st.st_size,
             (unsigned long long)st.st_mtim.tv_sec * 1000000000ULL +
                 (unsigned long long)st.st_mtim.tv_nsec);
out:
    if (fd >= 0)
        close(fd);
    if (rc < 0) {
        free(resp->raw);
        resp->raw = NULL;
    }
    return rc;
}

void sv_ui_serve(const char *dir, const sv_req *req, sv_resp *resp)
{
    if (strcmp(req->method, "GET") != 0) {
        sv_resp_error(resp, 405, "method_not_allowed", "this path accepts GET only", NULL);
        snprintf(resp->allow, sizeof resp->allow, "GET");
        return;
    }
    if (strcmp(req->path, "/ui") == 0) {
        sv_resp_error(resp, 308, "moved", "the run console is at /ui/", NULL);
        snprintf(resp->extra_name, sizeof resp->extra_name, "Location");
        snprintf(resp->extra_value, sizeof resp->extra_value, "/ui/");
        return;
    }
    const char *rel = req->path[4] ? req->path + 4 : "index.html";
    const char *type = type_of(rel);
    if (!type || !plain_path(rel))
        return not_found(resp, req->path);
    int rc = load(dir, rel, resp);
    if (rc == -ENOENT) {
        if (access(dir, X_OK) < 0) {
            char msg[1200];
            snprintf(msg, sizeof msg, "the run console is not installed here (UI_DIR=%.1024s: %s)",
                     dir, strerror(errno));
            sv_resp_error(resp, 404, "not_found", msg, NULL);
            return;
        }
        return not_found(resp, req->path);
    }
    if (rc < 0) {
        sv_resp_error(resp, 500, "internal", "the file could not be read", NULL);
        return;
    }
    resp->is_file = 1;
    snprintf(resp->content_type, sizeof resp->content_type, "%s", type);
    const char *inm = sv_req_header(req, "If-None-Match");
    if (inm && strstr(inm, resp->etag)) {
        free(resp->raw); /* the client's copy is current */
        resp->raw = NULL;
        resp->raw_len = 0;
        resp->status = 304;
        return;
    }
    resp->status = 200;
}
