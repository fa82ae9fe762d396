/*
 * rc_schema.c - the input schema of release_check: the seed's table plus
 * poll_interval_ms.  The daemon validates every start request against it and
 * fills these defaults, so nodes see a complete input.
 */
#include "rc_logic.h"

/* "timeouts" has a default of its own so that an input without it still
 * gets overall_sec; the inner default covers "timeouts": {}. */
const char rc_input_schema[] =
    "{\n"
    "  \"type\": \"object\",\n"
    "  \"properties\": {\n"
    "    \"service_name\": {\"type\": \"string\", \"default\": \"unknown\",\n"
    "      \"minLength\": 1, \"maxLength\": 256,\n"
    "      \"description\": \"Service being released\"},\n"
    "    \"diff_text\": {\"type\": \"string\", \"default\": \"\",\n"
    "      \"description\": \"Git diff text of the release\"},\n"
    "    \"fail_fast\": {\"type\": \"boolean\", \"default\": true,\n"
    "      \"description\": \"Stop on the first gate failure\"},\n"
    "    \"run_deps\": {\"type\": \"boolean\", \"default\": true,\n"
    "      \"description\": \"Run the dependency scan gate\"},\n"
    "    \"run_drift\": {\"type\": \"boolean\", \"default\": true,\n"
    "      \"description\": \"Run the drift analysis gate\"},\n"
    "    \"run_smoke\": {\"type\": \"boolean\", \"default\": false,\n"
    "      \"description\": \"Run the smoke tests\"},\n"
    "    \"deps_targets\": {\"type\": \"array\", \"items\": {\"type\": \"string\"},\n"
    "      \"default\": [\"python\", \"node\"],\n"
    "      \"description\": \"Ecosystems for the dependency scan\"},\n"
    "    \"deps_vuln_mode\": {\"type\": \"string\", \"default\": \"offline_cache\",\n"
    "      \"description\": \"OSV vulnerability lookup mode\"},\n"
    "    \"deps_fail_on\": {\"type\": \"array\", \"items\": {\"type\": \"string\"},\n"
    "      \"default\": [\"CRITICAL\", \"HIGH\"],\n"
    "      \"description\": \"Vulnerability severities that block the release\"},\n"
    "    \"drift_categories\": {\"type\": \"array\", \"items\": {\"type\": \"string\"},\n"
    "      \"default\": [\"openapi\", \"schema\", \"config\", \"dependencies\", \"infra\"],\n"
    "      \"description\": \"Drift analysis categories; the default is all of them\"},\n"
    "    \"risk_profile\": {\"type\": \"string\", \"default\": \"default\",\n"
    "      \"description\": \"Risk profile of the release\"},\n"
    "    \"timeouts\": {\"type\": \"object\", \"default\": {\"overall_sec\": 180},\n"
    "      \"description\": \"Time limits of the run\",\n"
    "      \"properties\": {\n"
    "        \"overall_sec\": {\"type\": \"number\", \"default\": 180,\n"
    "          \"minimum\": 1, \"maximum\": 86400,\n"
    "          \"description\": \"Total timeout of the run in seconds; past it the run fails "
    "with error timeout and the job is cancelled\"}\n"
    "      }},\n"
    "    \"poll_interval_ms\": {\"type\": \"integer\", \"default\": 1000,\n"
    "      \"minimum\": 0, \"maximum\": 60000,\n"
    "      \"description\": \"Wait between two get_job polls, in milliseconds\"}\n"
    "  }\n"
    "}\n";
