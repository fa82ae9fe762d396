/* sim_listen.c - address parsing, socket set-up and the port file. */
#include "sim_listen.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <netinet/in.h>

int sim_listen_parse(const char *spec, char *host, size_t hostlen, unsigned int *port)
{
    const char *colon = strrchr(spec, ':');
    const char *h = spec;
    size_t hl;
    char *end;
    unsigned long p;

    if (!colon || colon == spec || !colon[1])
        return -EINVAL;
    hl = (size_t)(colon - spec);
    /* "[::1]:8000": the brackets only delimit the address. */
    if (spec[0] == '[') {
        if (hl < 3 || spec[hl - 1] != ']')
            return -EINVAL;
        h = spec + 1;
        hl -= 2;
    } else if (memchr(spec, ':', hl)) {
        return -EINVAL; /* a bare IPv6 address is ambiguous */
    }
    if (hl >= hostlen)
        return -EINVAL;
    errno = 0;
    p = strtoul(colon + 1, &end, 10);
    if (errno || *end || p > 65535 || colon[1] < '0' || colon[1] > '9')
        return -EINVAL;
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = (unsigned int)p;
    return 0;
}

/* The port a bound socket got. */
static int sim_listen_port(int fd, unsigned int *port)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return -errno;
    if (ss.ss_family == AF_INET)
        *port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    else if (ss.ss_family == AF_INET6)
        *port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    else
        return -EAFNOSUPPORT;
    return 0;
}

int sim_listen_open(const char *host, unsigned int port, int *fd, unsigned int *bound_port,
                    char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    char service[8];
    int rc = 0, s = -1, one = 1, gai;

    *fd = -1;
    snprintf(service, sizeof(service), "%u", port);
    gai = getaddrinfo(host, service, &hints, &res);
    if (gai != 0) {
        snprintf(err, errlen, "cannot resolve listen host \"%s\": %s", host, gai_strerror(gai));
        rc = -EINVAL;
        goto out;
    }
    s = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
    if (s < 0) {
        rc = -errno;
        snprintf(err, errlen, "cannot create a socket: %s", strerror(errno));
        goto out;
    }
    /* A test suite restarts the simulator on the same port many times. */
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(s, res->ai_addr, res->ai_addrlen) < 0 || listen(s, 512) < 0) {
        rc = -errno;
        snprintf(err, errlen, "cannot listen on %s:%u: %s", host, port, strerror(errno));
        goto out;
    }
    if ((rc = sim_listen_port(s, bound_port)) < 0) {
        snprintf(err, errlen, "cannot read the bound port: %s", strerror(-rc));
        goto out;
    }
    *fd = s;
    s = -1;
out:
    if (s >= 0)
        close(s);
    if (res)
        freeaddrinfo(res);
    return rc;
}

int sim_listen_write_port(const char *path, unsigned int port)
{
    char *tmp = NULL;
    char text[16];
    int rc = 0, fd = -1, n;

    if (asprintf(&tmp, "%s.tmp", path) < 0) {
        tmp = NULL;
        rc = -ENOMEM;
        goto out;
    }
    n = snprintf(text, sizeof(text), "%u\n", port);
    errno = 0;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, text, (size_t)n) != n) {
        rc = errno ? -errno : -EIO;
        goto out;
    }
    if (close(fd) < 0) {
        fd = -1;
        rc = -errno;
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) < 0) {
        rc = -errno;
        goto out;
    }
out:
    if (fd >= 0)
        close(fd);
    if (rc < 0 && tmp)
        unlink(tmp);
    free(tmp);
    return rc;
}
