/*
 * ui.h - the run console's static files (docs/ui.md), served from UI_DIR at
 * /ui/ without the key: they hold no data, and every API call the page
 * makes carries the key.
 */
#ifndef SV_UI_H
#define SV_UI_H

#include "http.h"

/* GET /ui or /ui/...: a file of dir, 304 when the client's copy is current,
 * 404 for anything that is not a file of the console (no path outside dir
 * is ever opened), 405 for another method. */
void sv_ui_serve(const char *dir, const sv_req *req, sv_resp *resp);

#endif
