/*
 * schema_test_support.c - schemas and checks for the unit tests of the
 * input-schema validator; see schema_test_support.h.
 */
#include "schema_test_support.h"

#include <CUnit/Basic.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Schemas are written with single quotes to keep them readable here. */
static const char *release_check_text =
    "{'type':'object','properties':{"
    " 'service_name':{'type':'string','default':'unknown','description':'Service being released'},"
    " 'diff_text':{'type':'string','default':''},"
    " 'fail_fast':{'type':'boolean','default':true},"
    " 'run_deps':{'type':'boolean','default':true},"
    " 'run_drift':{'type':'boolean','default':true},"
    " 'run_smoke':{'type':'boolean','default':false},"
    " 'deps_targets':{'type':'array','items':{'type':'string'},'default':['python','node'],"
    "                 'minItems':1},"
    " 'deps_vuln_mode':{'type':'string','enum':['offline_cache','online'],"
    "                   'default':'offline_cache'},"
    " 'deps_fail_on':{'type':'array','items':{'type':'string',"
    "                 'enum':['CRITICAL','HIGH','MEDIUM','LOW']},'default':['CRITICAL','HIGH']},"
    " 'drift_categories':{'type':'array','items':{'type':'string'}},"
    " 'risk_profile':{'type':'string','default':'default'},"
    " 'timeouts':{'type':'object','properties':{"
    "   'overall_sec':{'type':'number','default':180,'minimum':1,'maximum':3600}}},"
    " 'poll_interval_ms':{'type':'integer','default':1000,'minimum':0,'maximum':60000}"
    "}}";

static const char *incident_triage_text =
    "{'type':'object','title':'incident_triage input','required':['service','symptom'],"
    "'properties':{"
    " 'service':{'type':'string','minLength':1,'maxLength':128},"
    " 'symptom':{'type':'string','minLength':1},"
    " 'env':{'type':'string','default':'prod'},"
    " 'include_traces':{'type':'boolean','default':false},"
    " 'max_log_lines':{'type':'integer','default':120,'minimum':1,'maximum':200,'x-clamp':true,"
    "                  'examples':[50,200]},"
    " 'log_query_hint':{'type':'string'},"
    " 'time_range':{'type':'object','properties':{"
    "   'from':{'type':'string','format':'date-time'},"
    "   'to':{'type':'string','format':'date-time'}}}"
    "}}";

json_object *sct_release_check;
json_object *sct_incident_triage;

/* Parse JSON written with ' for ". */
json_object *sct_pj(const char *text)
{
    char *s = strdup(text);
    if (!s)
        return NULL;
    for (char *p = s; *p; p++)
        if (*p == '\'')
            *p = '"';
    json_object *o = json_tokener_parse(s);
    free(s);
    return o;
}

int sct_suite_init(void)
{
    sct_release_check = sct_pj(release_check_text);
    sct_incident_triage = sct_pj(incident_triage_text);
    return sct_release_check && sct_incident_triage ? 0 : -1;
}

int sct_suite_clean(void)
{
    json_object_put(sct_release_check);
    json_object_put(sct_incident_triage);
    return 0;
}

bool sct_valid_utf8(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    while (*u) {
        int n = *u < 0x80 ? 1 : (*u & 0xE0) == 0xC0 ? 2 : (*u & 0xF0) == 0xE0 ? 3 : 4;
        for (int i = 1; i < n; i++)
            if ((u[i] & 0xC0) != 0x80)
                return false;
        u += n;
    }
    return true;
}

/* Validate a ready object and expect the given error. */
void sct_expect_err_obj(json_object *schema, json_object *in, const char *field,
                        const char *message)
{
    sv_error err;
    int rc = sv_schema_validate(schema, in, &err);
    bool ok = rc == -EINVAL && strcmp(err.code, "invalid_input") == 0 &&
              strcmp(err.field, field) == 0 && strcmp(err.message, message) == 0;
    if (!ok)
        fprintf(stderr,
                "\n  rc=%d code=%s\n  field   got <%s>\n        want <%s>\n  message got <%s>\n"
                "        want <%s>\n",
                rc, err.code, err.field, field, err.message, message);
    CU_ASSERT(ok);
    CU_ASSERT(sct_valid_utf8(err.field) && sct_valid_utf8(err.message));
}
