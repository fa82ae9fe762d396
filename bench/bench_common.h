/*
 * bench_common.h - what the benchmarks share: starting and always stopping the
 * router simulator, the daemon and a redis-server on loopback, asking Redis
 * for its counters, reading a process's CPU time, RSS and thread count from
 * /proc, following the daemon's log, and a small pool of keep-alive HTTP
 * clients on one libcurl multi handle.
 *
 * Benchmarks only report: nothing here asserts a time.  Every wait has a
 * deadline, every child gets PR_SET_PDEATHSIG and is stopped at exit or on
 * SIGINT/SIGTERM, and all traffic goes to 127.0.0.1.
 */
#ifndef SV_BENCH_COMMON_H
#define SV_BENCH_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- clocks and /proc ---- */

/* Monotonic time in seconds / milliseconds. */
double bc_now(void);
long long bc_now_ms(void);
/* Sleep ms milliseconds. */
void bc_sleep_ms(long ms);

typedef struct bc_pstat {
    double cpu_s;  /* utime + stime of all threads, dead ones included (/proc/PID/stat) */
    double user_s; /* utime alone */
    long rss_kib;  /* VmRSS */
    long hwm_kib;  /* VmHWM: peak RSS */
    int threads;   /* Threads */
} bc_pstat;

/* Read /proc/PID/stat and /proc/PID/status; 0 or -1. */
int bc_pstat_read(pid_t pid, bc_pstat *out);
/* CPU seconds (user + system) of this process so far. */
double bc_self_cpu(void);

/* ---- child processes ---- */

typedef struct bc_proc {
    pid_t pid;
    int port;
    char dir[256];      /* private temp dir, removed by bc_proc_stop */
    char log_path[320]; /* the child's stdout + stderr */
} bc_proc;

/* Where things are: SV_BUILDDIR / SV_SRCDIR from the environment, else the
 * directories `make bench` compiled in. */
const char *bc_builddir(void);
const char *bc_srcdir(void);

/* Install SIGINT/SIGTERM handlers and an atexit hook that stop every child
 * started through this file.  Call once, first thing in main. */
void bc_init(void);
/* Did SIGINT/SIGTERM/SIGHUP arrive?  The children are already killed then;
 * every wait gives up and the caller's normal path cleans up. */
int bc_interrupted(void);

/* Any other child: a fresh private temp dir for p (tag names it and the
 * log file), then argv run with envp, its output in p->log_path, stopped
 * and cleaned up like the others.  0 or -1. */
int bc_proc_dir(bc_proc *p, const char *tag);
int bc_proc_spawn(bc_proc *p, char *const argv[], char *const envp[]);
/* Is the child still running? */
int bc_proc_alive(bc_proc *p);

/* router-sim with a scenario (relative to the source tree or absolute) on a
 * free loopback port.  0 or -1 (with a message on stderr). */
int bc_sim_start(const char *scenario, bc_proc *sim);

/* The daemon on a free loopback port with the named plugins (from the build
 * tree) in a fresh PLUGIN_DIR, GATEWAY_BASE_URL pointing at sim, and
 * WORKER_THREADS=workers.  wrapper: NULL or a space-separated command put in
 * front (e.g. "valgrind --tool=callgrind ...").  extra_env: NULL-terminated
 * "K=V" or NULL.  Waits for /healthz.  0 or -1. */
int bc_daemon_start(const char *const *plugins, const bc_proc *sim, int workers,
                    const char *wrapper, const char *const *extra_env, bc_proc *d);

/* SIGTERM, wait up to timeout_ms, then SIGKILL; removes the temp dir unless
 * keep.  Returns the exit status, 128+signal, or -1. */
int bc_proc_stop(bc_proc *p, int timeout_ms, int keep);

/* ---- the daemon's log ---- */

/* Follows a growing JSON-lines file from where the last call stopped. */
typedef struct bc_tail {
    char path[320];
    long long off;
    char *part; /* an incomplete last line kept for the next call */
    size_t part_len;
} bc_tail;

void bc_tail_init(bc_tail *t, const char *path);
void bc_tail_free(bc_tail *t);
/* Call fn on each new complete line; returns how many lines were read. */
long bc_tail_read(bc_tail *t, void (*fn)(void *arg, const char *line, size_t len), void *arg);

/* ---- HTTP ---- */

/* One request of a pool run, filled in by the caller's `next`. */
typedef struct bc_req {
    char url[512];
    const char *method; /* "GET" or "POST" */
    char *body;         /* POST body (owned by the pool once set; freed after) */
} bc_req;

typedef struct bc_pool_result {
    size_t done;         /* requests that got an answer */
    size_t transport;    /* requests without an answer (connection errors, timeouts) */
    size_t non2xx;       /* answers outside 200..299 */
    double wall_s;       /* first request sent .. last answer in */
    double client_cpu_s; /* this process's CPU over the same span */
    long first_bad_status;
    char first_error[160];
} bc_pool_result;

/* Make `total` requests with `concurrency` keep-alive connections on one curl
 * multi handle.  next(arg, i, req) fills request i (0-based, in order);
 * done(arg, i, status, body, len) gets its answer (status 0: no answer).
 * Gives up after timeout_ms overall.  0, or -1 when the deadline passed. */
int bc_pool_run(int concurrency, size_t total, void (*next)(void *arg, size_t i, bc_req *req),
                void (*done)(void *arg, size_t i, long status, const char *body, size_t len),
                void *arg, long timeout_ms, bc_pool_result *res);

/* One request on a fresh connection; returns the status (0: no answer) and
 * the body in *body (caller frees) when body != NULL. */
long bc_http(const char *method, const char *url, const char *req_body, char **body);

/* ---- Redis ---- */

/* A loopback port nobody listens on right now. */
int bc_free_port(void);

/* redis-server from PATH on a free loopback port of its own, without
 * persistence, in a private temp dir (tag "redis"); waits until it answers
 * PING.  r->port is its port.  Stopped like the other children.  0 or -1
 * (with a message on stderr). */
int bc_redis_start(bc_proc *r);

/* "REDIS_URL=redis://127.0.0.1:PORT/0", for bc_daemon_start's extra_env. */
void bc_redis_url_env(const bc_proc *r, char *buf, size_t len);

/* Send an inline command ("INFO stats\r\n") to 127.0.0.1:port on a fresh
 * connection and read the reply into buf (NUL-terminated, cut at len - 1).
 * The reply's length, or -1. */
long bc_redis_ask(int port, const char *cmd, char *buf, size_t len);

/* Bytes Redis has sent to its clients so far; -1 when it does not say. */
long long bc_redis_out_bytes(int port);

/* Microseconds Redis has spent in EVAL so far (INFO commandstats); 0 before
 * the first EVAL, -1 when it does not answer.  Redis runs one script at a
 * time and nothing else meanwhile. */
long long bc_redis_eval_usec(int port);

/* What Redis has done so far, from INFO stats, memory and commandstats: take
 * one before and one after a phase and subtract. */
typedef struct bc_redis_stats {
    /* bytes in use (INFO memory used_memory) */
    long long used_memory;
    /* bytes received from and sent to clients */
    long long net_in, net_out;
    /* total_commands_processed: commands inside scripts and transactions
     * count too */
    long long commands;
    /* calls of the commands a client sends on its own, one round trip
     * each: EVAL, EVALSHA, MULTI (a whole transaction), GET, SADD, SREM,
     * SMOVE, LPUSH, RPOP, PING (a SADD inside a script counts too) */
    long long round_trips;
    /* calls of EVAL and EVALSHA, of MULTI; time in EVAL and EVALSHA */
    long long eval, multi, eval_usec;
} bc_redis_stats;

/* 0, or -1 when Redis did not answer. */
int bc_redis_stats_read(int port, bc_redis_stats *out);

/* ---- small helpers ---- */

int bc_cmp_double(const void *a, const void *b);
/* Median of n values (sorts them). */
double bc_median(double *v, size_t n);
/* Parse a positive integer option value; exits with a message when bad. */
long bc_opt_long(const char *name, const char *v, long min, long max);
/* "2 cores, AMD EPYC ..., load 1.52": one line about the machine. */
void bc_machine(char *buf, size_t len);

#endif
