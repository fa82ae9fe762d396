/*
 * trace.h - W3C Trace Context (https://www.w3.org/TR/trace-context/) for
 * runs: every run belongs to one trace, joined from the caller's
 * `traceparent` header or started here, and every router call is a span of
 * it.  Ids are lowercase hex, never all zeros.
 */
#ifndef SV_TRACE_H
#define SV_TRACE_H

#include <stddef.h>

#define SV_TRACE_ID_LEN 33 /* 32 hex + NUL */
#define SV_SPAN_ID_LEN 17  /* 16 hex + NUL */
/* "00-" trace "-" span "-" flags, plus NUL */
#define SV_TRACEPARENT_LEN 56
/* The flags of a trace started here: sampled, since every run is logged. */
#define SV_TRACE_FLAGS_NEW 0x01u

/* A fresh random trace id (32 hex) / span id (16 hex); 0 or -EIO. */
int sv_trace_id_new(char out[SV_TRACE_ID_LEN]);
int sv_trace_span_new(char out[SV_SPAN_ID_LEN]);
/* Is s exactly a valid trace id (32 lowercase hex, not all zeros)? */
int sv_trace_id_valid(const char *s);
/*
 * Parse a traceparent header value.  Version 00 must be exactly
 * 00-<32 hex>-<16 hex>-<2 hex>; a later version (01..fe) is read by the
 * spec's forward-compatible rule (the first 55 characters as version 00,
 * then nothing or "-" and more); version ff, uppercase hex, all-zero ids
 * and anything else are invalid.  0 with the trace id and flags, or -EINVAL.
 */
int sv_traceparent_parse(const char *value, char trace_id[SV_TRACE_ID_LEN], unsigned *flags);
/* The trace id of a run stored without one (before traces existed): the
 * first 32 hex of SHA-256("sofiia-trace:" run_id), so every instance derives
 * the same one. */
void sv_trace_id_derive(const char *run_id, char out[SV_TRACE_ID_LEN]);

#endif
