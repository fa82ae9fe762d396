/*
 * fuzz_scenario.c - router-sim scenario files (tests/sim, docs/router-sim.md):
 * the file is loaded and validated as router-sim does at start; then each
 * rule is matched by a request made of its own tool, action and params, and
 * the first three answers of its sequence are rendered as they would be sent
 * (templates filled from the request).  The file is the input, read through
 * a memfd.  Invariant: a refusal says why.
 */
#include "fuzz.h"
#include "sim_rules.h"
#include "sim_scenario.h"
#include "sim_template.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static json_object *request_for(const struct sim_rule *r)
{
    json_object *q = json_object_new_object(), *meta = json_object_new_object();
    json_object_object_add(q, "tool", json_object_new_string(r->tool ? r->tool : ""));
    json_object_object_add(q, "action", json_object_new_string(r->action ? r->action : "any"));
    json_object *params = NULL;
    if (r->params)
        json_object_deep_copy(r->params, &params, NULL);
    json_object_object_add(q, "params", params ? params : json_object_new_object());
    json_object_object_add(meta, "graph_run_id",
                           json_object_new_string("gr_00000000000000000000000000000001"));
    json_object_object_add(meta, "call_id", json_object_new_string("gr_0:node:1"));
    json_object_object_add(q, "metadata", meta);
    return q;
}

int sv_fuzz_scenario(const uint8_t *data, size_t size)
{
    char path[64], err[512];
    struct sim_scenario sc;
    memset(&sc, 0, sizeof sc);
    int fd = memfd_create("sv-fuzz-scenario", MFD_CLOEXEC);
    if (fd < 0)
        return 0;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    err[0] = '\0';
    if (sim_scenario_load(path, &sc, err, sizeof err) < 0) {
        SV_FUZZ_CHECK(err[0], "a refused scenario says why");
        close(fd);
        return 0;
    }
    for (size_t i = 0; i < sc.n_rules && i < 16; i++) {
        const struct sim_rule *r = &sc.rules[i];
        json_object *q = request_for(r);
        json_object *params = NULL;
        json_object_object_get_ex(q, "params", &params);
        long at = sim_rules_find(&sc, r->tool, r->action ? r->action : "any", params);
        SV_FUZZ_CHECK(at >= -1 && at < (long)sc.n_rules, "a match is a rule or none");
        for (uint64_t n = 0; at >= 0 && n < 3; n++) {
            const struct sim_response *a = sim_rules_response(&sc.rules[at], n);
            char *out = NULL;
            size_t out_len = 0;
            if (a && a->templated &&
                sim_template_render(a->body, a->body_len, q, &out, &out_len) == 0)
                free(out);
        }
        json_object_put(q);
    }
    sim_scenario_free(&sc);
    close(fd);
    return 0;
}

SV_FUZZ_MAIN(sv_fuzz_scenario)
