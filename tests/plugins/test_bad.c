/*
 * test_bad - descriptors the loader must refuse, one per build flavour:
 *   BAD_ABI      built for ABI 99.0
 *   BAD_NOSYM    exports no descriptor at all
 *   BAD_ENTRY    entry names a node that does not exist
 *   BAD_SCHEMA   input_schema is not JSON
 *   BAD_INIT     init() refuses
 *   DUP_NAME     a valid graph whose name, test_chain, is already taken
 */
#include <sofiia/graph.h>

static int noop(sv_ctx *ctx, const sv_host *host, sv_step *s)
{
    (void)ctx;
    (void)host;
    (void)s;
    return SV_OK;
}

static int refuse(const sv_host *host)
{
    (void)host;
    return -1;
}

static const sv_node nodes[] = {{.name = "only", .run = noop, .next = NULL}};

#ifndef BAD_NOSYM
SV_GRAPH_EXPORT const sv_graph sv_graph_descriptor = {
#ifdef BAD_ABI
    .abi_major = 99,
    .abi_minor = 0,
    .size = sizeof(sv_graph),
#else
    SV_GRAPH_ABI,
#endif
#ifdef DUP_NAME
    .name = "test_chain",
#else
    .name = "test_bad",
#endif
    .version = "0.0.1",
    .description = "refused by the loader (tests)",
#ifdef BAD_SCHEMA
    .input_schema = "{not json",
#else
    .input_schema = "{\"type\":\"object\",\"properties\":{}}",
#endif
    .nodes = nodes,
    .n_nodes = 1,
#ifdef BAD_ENTRY
    .entry = "missing",
#else
    .entry = "only",
#endif
#ifdef BAD_INIT
    .init = refuse,
#endif
};
#else
/* Something exported, but not the descriptor. */
__attribute__((visibility("default"))) const sv_node *sv_not_a_graph = nodes;
#endif

#ifndef BAD_INIT
/* Keep refuse() referenced in every flavour. */
__attribute__((visibility("default"))) int (*const sv_test_unused)(const sv_host *) = refuse;
#endif
