/*
 * bench_redis.c - the benchmarks' redis-server: started on a free loopback
 * port without persistence, and asked (raw RESP on a socket) what it has
 * done, so a benchmark can report round trips, commands, bytes and memory.
 */
#include "bench_common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

long bc_redis_ask(int port, const char *cmd, char *buf, size_t len)
{
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct timeval tv = {2, 0};
    long n = -1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        write(fd, cmd, strlen(cmd)) == (ssize_t)strlen(cmd)) {
        /* One line (+PONG), or a bulk reply that says its length first:
         * read until all of it is in. */
        size_t got = 0;
        ssize_t k;
        buf[0] = '\0';
        while (got < len - 1 && (k = read(fd, buf + got, len - 1 - got)) > 0) {
            got += (size_t)k;
            buf[got] = '\0';
            const char *eol = strstr(buf, "\r\n");
            if (eol &&
                (buf[0] != '$' || got >= (size_t)(eol - buf) + 4 + strtoul(buf + 1, NULL, 10)))
                break;
        }
        n = (long)got;
    }
    close(fd);
    return n;
}

/* The number after "\nfield:" in an INFO reply; -1 when it is not there. */
static long long info_field(const char *info, const char *field)
{
    char key[96];
    snprintf(key, sizeof key, "\n%s:", field);
    const char *p = strstr(info, key);
    return p ? strtoll(p + strlen(key), NULL, 10) : -1;
}

/* `what` ("calls=", "usec=") of a command in INFO commandstats; 0 when the
 * command has not run yet. */
static long long cmdstat(const char *info, const char *cmd, const char *what)
{
    char key[96];
    snprintf(key, sizeof key, "\ncmdstat_%s:", cmd);
    const char *p = strstr(info, key);
    if (!p)
        return 0;
    const char *eol = strchr(p + 1, '\n'), *q = strstr(p, what);
    return q && (!eol || q < eol) ? strtoll(q + strlen(what), NULL, 10) : 0;
}

long long bc_redis_out_bytes(int port)
{
    char buf[8192];
    if (bc_redis_ask(port, "INFO stats\r\n", buf, sizeof buf) < 0)
        return -1;
    return info_field(buf, "total_net_output_bytes");
}

long long bc_redis_eval_usec(int port)
{
    char buf[32768];
    if (bc_redis_ask(port, "INFO commandstats\r\n", buf, sizeof buf) < 0)
        return -1;
    return cmdstat(buf, "eval", "usec=");
}

int bc_redis_stats_read(int port, bc_redis_stats *out)
{
    static const char *const top[] = {"eval", "evalsha", "multi", "get",  "sadd",
                                      "srem", "smove",   "lpush", "rpop", "ping"};
    char buf[32768];
    memset(out, 0, sizeof *out);
    if (bc_redis_ask(port, "INFO stats\r\n", buf, sizeof buf) < 0)
        return -1;
    out->net_in = info_field(buf, "total_net_input_bytes");
    out->net_out = info_field(buf, "total_net_output_bytes");
    out->commands = info_field(buf, "total_commands_processed");
    if (bc_redis_ask(port, "INFO memory\r\n", buf, sizeof buf) < 0)
        return -1;
    out->used_memory = info_field(buf, "used_memory");
    if (bc_redis_ask(port, "INFO commandstats\r\n", buf, sizeof buf) < 0)
        return -1;
    for (size_t i = 0; i < sizeof top / sizeof top[0]; i++)
        out->round_trips += cmdstat(buf, top[i], "calls=");
    out->eval = cmdstat(buf, "eval", "calls=") + cmdstat(buf, "evalsha", "calls=");
    out->multi = cmdstat(buf, "multi", "calls=");
    out->eval_usec = cmdstat(buf, "eval", "usec=") + cmdstat(buf, "evalsha", "usec=");
    return 0;
}

int bc_redis_start(bc_proc *r)
{
    static char *const envp[] = {NULL};
    char buf[64], port_s[16];
    /* A port picked here can be taken before redis-server binds it: then it
     * exits at once, and another pick is tried. */
    for (int attempt = 0; attempt < 3 && !bc_interrupted(); attempt++) {
        int port = bc_free_port();
        if (port <= 0 || bc_proc_dir(r, "redis") < 0)
            return -1;
        snprintf(port_s, sizeof port_s, "%d", port);
        char *argv[] = {"redis-server", "--port", port_s,  "--bind", "127.0.0.1", "--save", "",
                        "--appendonly", "no",     "--dir", r->dir,   NULL};
        if (bc_proc_spawn(r, argv, envp) < 0)
            return -1;
        long long deadline = bc_now_ms() + 10000;
        while (bc_now_ms() < deadline && bc_proc_alive(r) && !bc_interrupted()) {
            if (bc_redis_ask(port, "PING\r\n", buf, sizeof buf) > 0 &&
                strncmp(buf, "+PONG", 5) == 0) {
                r->port = port;
                return 0;
            }
            bc_sleep_ms(10);
        }
        bc_proc_stop(r, 2000, 0);
    }
    fprintf(stderr, "bench: redis-server did not answer; is it installed and on PATH?\n");
    return -1;
}

void bc_redis_url_env(const bc_proc *r, char *buf, size_t len)
{
    snprintf(buf, len, "REDIS_URL=redis://127.0.0.1:%d/0", r->port);
}
