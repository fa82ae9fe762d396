/*
 * fuzz.h - the fuzz targets (tests/fuzz, docs/security.md "Fuzzing").  Each
 * is an entry point taking one input; built with clang and libFuzzer by
 * `make fuzz` (tests/fuzz/fuzz.sh: each target its own binary, whose
 * LLVMFuzzerTestOneInput calls it), and with gcc into tests/fuzz/replay,
 * which `make check` runs over every file of every corpus, so the corpora
 * (tests/fuzz/corpus/<target>/) are regression tests too.
 *
 * A target returns 0; what it finds is a crash, a sanitizer report, or an
 * abort() where an invariant it checks does not hold (SV_FUZZ_CHECK).
 */
#ifndef SV_FUZZ_H
#define SV_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <sofiia/graph.h>

/* The HTTP API handler (sv_api_handle) given method, path, query, headers
 * and body: tests/fuzz/fuzz_request.c says what is and is not covered. */
int sv_fuzz_request(const uint8_t *data, size_t size);
/* Free what sv_fuzz_request set up (the replay, for leak checkers). */
void sv_fuzz_request_cleanup(void);
/* Input-schema checking and validation (core/schema*.c). */
int sv_fuzz_schema(const uint8_t *data, size_t size);
/* Router answers into the gateway client (core/gateway.c's judgement). */
int sv_fuzz_gateway(const uint8_t *data, size_t size);
/* The configuration file (core/config.c, core/config_show.c). */
int sv_fuzz_config(const uint8_t *data, size_t size);
/* router-sim scenario files (tests/sim): load, match, render. */
int sv_fuzz_scenario(const uint8_t *data, size_t size);
/* The graphs on the SDK's test kit, with fuzzed input and tool answers. */
int sv_fuzz_release_check(const uint8_t *data, size_t size);
int sv_fuzz_incident_triage(const uint8_t *data, size_t size);

/* tests/fuzz/fuzz_graph.c: one run of g on the SDK's test kit: input (line
 * 1, validated as a start request's) and tool answers (the other lines)
 * from data; pairs: the tool/action pairs g calls, "tool/action",
 * NULL-terminated. */
int sv_fuzz_graph(const sv_graph *g, const char *const *pairs, const uint8_t *data, size_t size);

/* The graphs, renamed from sv_graph_descriptor when built into a target
 * (both live in tests/fuzz/replay). */
extern const sv_graph sv_fuzz_release_check_graph;
extern const sv_graph sv_fuzz_incident_triage_graph;

/* An invariant of a target: abort() (a finding) with the reason when it is
 * false. */
#define SV_FUZZ_CHECK(cond, what)                                                                  \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz invariant broken: %s (%s:%d: %s)\n", (what), __FILE__, __LINE__, \
                    #cond);                                                                        \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Under libFuzzer (tests/fuzz/fuzz.sh defines SV_FUZZ_LIBFUZZER; each
 * binary has one target file), the file that holds the target also holds
 * the fuzzer's entry point. */
#ifdef SV_FUZZ_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
#define SV_FUZZ_MAIN(fn)                                                                           \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)                                   \
    {                                                                                              \
        return fn(data, size);                                                                     \
    }
#else
#define SV_FUZZ_MAIN(fn)
#endif

#endif
