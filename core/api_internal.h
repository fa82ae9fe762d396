/*
 * api_internal.h - what api.c (routes, starts, views, cancel) shares with
 * api_runs.c (listing pages, retain, expires_at).  Nothing else includes it.
 */
#ifndef SV_API_INTERNAL_H
#define SV_API_INTERNAL_H

#include "api.h"

#include <json-c/json.h>

/* Answer status with body (taken). */
void sv_api_reply(sv_resp *resp, int status, json_object *body);
/* 503 for a store error rc. */
void sv_api_store_down(sv_resp *resp, int rc);
/* A member's string, "" when absent. */
const char *sv_api_str(json_object *o, const char *key);

/* GET /v1/runs: one page, and the cursor of the next. */
void sv_api_list_runs(sv_api *api, const sv_req *req, sv_resp *resp);
/* POST /v1/runs/{id}/retain. */
void sv_api_retain(sv_api *api, const sv_req *req, const char *id, sv_resp *resp);
/* "expires_at" of a run view, as an object member or spliced into its text
 * (which ends with '}'); nothing when the store cannot tell. */
void sv_api_add_expiry(sv_api *api, const char *id, json_object *view);
void sv_api_add_expiry_text(sv_api *api, const char *id, char **text);

#endif
