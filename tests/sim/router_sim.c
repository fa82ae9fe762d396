/* router_sim.c - router-sim: a stand-in for the tool router (CONTRACT.md §3) that
 * answers POST /v1/tools/execute from a scenario file, so that tests and demos can
 * script exactly what each tool call returns. See docs/router-sim.md. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_listen.h"
#include "sim_record.h"
#include "sim_scenario.h"
#include "sim_server.h"

/* Exit status for bad arguments and bad scenario files, as documented. */
#define SIM_EXIT_USAGE 2

struct sim_options {
    const char *scenario;
    const char *listen;
    const char *port_file;
    const char *record;
    const char *api_key;
};

static void sim_usage(FILE *f)
{
    fprintf(f, "usage: router-sim --scenario FILE [--listen HOST:PORT] [--port-file PATH]\n"
               "                  [--record PATH] [--api-key KEY]\n");
}

/* Parse argv; 0, 1 for --help, or -EINVAL after printing the problem. */
static int sim_parse_args(int argc, char **argv, struct sim_options *o)
{
    static const struct option longopts[] = {{"scenario", required_argument, NULL, 's'},
                                             {"listen", required_argument, NULL, 'l'},
                                             {"port-file", required_argument, NULL, 'p'},
                                             {"record", required_argument, NULL, 'r'},
                                             {"api-key", required_argument, NULL, 'k'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    int c;

    /* getopt's own messages would not say how to fix the call; ours do. */
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 's':
            o->scenario = optarg;
            break;
        case 'l':
            o->listen = optarg;
            break;
        case 'p':
            o->port_file = optarg;
            break;
        case 'r':
            o->record = optarg;
            break;
        case 'k':
            o->api_key = optarg;
            break;
        case 'h':
            return 1;
        case ':':
            fprintf(stderr, "router-sim: option %s needs a value\n", argv[optind - 1]);
            return -EINVAL;
        default:
            fprintf(stderr, "router-sim: unknown option %s (try --help)\n", argv[optind - 1]);
            return -EINVAL;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "router-sim: unexpected argument \"%s\" (try --help)\n", argv[optind]);
        return -EINVAL;
    }
    if (!o->scenario) {
        fprintf(stderr, "router-sim: --scenario FILE is required (try --help)\n");
        return -EINVAL;
    }
    if (o->api_key && !*o->api_key) {
        fprintf(stderr, "router-sim: --api-key must not be empty\n");
        return -EINVAL;
    }
    if (o->port_file && !*o->port_file) {
        fprintf(stderr, "router-sim: --port-file must not be empty\n");
        return -EINVAL;
    }
    return 0;
}

/* Block the stop signals in every thread, so that only sigwait() in main sees them
 * and no MHD thread is interrupted by a handler. */
static void sim_block_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    pthread_sigmask(SIG_BLOCK, set, NULL);
    /* A client that hangs up mid-answer must not kill the simulator. */
    signal(SIGPIPE, SIG_IGN);
}

int main(int argc, char **argv)
{
    struct sim_options o = {.listen = "127.0.0.1:0"};
    struct sim_scenario sc = {0};
    struct sim_record *rec = NULL;
    struct sim_server *srv = NULL;
    struct sim_server_config cfg = {0};
    char host[256], err[512];
    unsigned int port = 0, bound = 0;
    sigset_t set;
    int rc, sig, fd = -1, status = SIM_EXIT_USAGE;

    rc = sim_parse_args(argc, argv, &o);
    if (rc == 1) {
        sim_usage(stdout);
        status = 0;
        goto out;
    }
    if (rc < 0)
        goto out;
    if (sim_listen_parse(o.listen, host, sizeof(host), &port) < 0) {
        fprintf(stderr, "router-sim: --listen \"%s\" is not HOST:PORT (e.g. 127.0.0.1:0)\n",
                o.listen);
        goto out;
    }
    if (sim_scenario_load(o.scenario, &sc, err, sizeof(err)) < 0) {
        fprintf(stderr, "router-sim: scenario %s: %s\n", o.scenario, err);
        goto out;
    }
    if (o.record && (rc = sim_record_open(o.record, &rec)) < 0) {
        fprintf(stderr, "router-sim: --record %s: cannot open: %s\n", o.record, strerror(-rc));
        goto out;
    }
    sim_block_signals(&set);

    if (sim_listen_open(host, port, &fd, &bound, err, sizeof(err)) < 0) {
        fprintf(stderr, "router-sim: %s\n", err);
        status = 1;
        goto out;
    }
    cfg.scenario = &sc;
    cfg.api_key = o.api_key ? o.api_key : sc.api_key;
    cfg.record = rec;
    cfg.listen_fd = fd;
    fd = -1; /* the server owns it from here, even on failure */
    if ((rc = sim_server_start(&cfg, &srv)) < 0) {
        fprintf(stderr, "router-sim: cannot start the HTTP server: %s\n", strerror(-rc));
        status = 1;
        goto out;
    }
    if (o.port_file && (rc = sim_listen_write_port(o.port_file, bound)) < 0) {
        fprintf(stderr, "router-sim: --port-file %s: cannot write: %s\n", o.port_file,
                strerror(-rc));
        goto out;
    }
    printf("router-sim listening on %s%s%s:%u\n", strchr(host, ':') ? "[" : "", host,
           strchr(host, ':') ? "]" : "", bound);
    fflush(stdout);

    do {
        if (sigwait(&set, &sig) != 0)
            sig = 0;
    } while (sig != SIGTERM && sig != SIGINT);
    status = 0;
out:
    sim_server_stop(srv);
    sim_record_close(rec);
    sim_scenario_free(&sc);
    return status;
}
