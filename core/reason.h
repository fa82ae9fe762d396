/* reason.h - the one-line reason a loader or a check gives for a refusal. */
#ifndef SV_REASON_H
#define SV_REASON_H

#include <stddef.h>

/*
 * Format a reason into why (len bytes), with every line break made a space
 * so it stays one log line and one JSON string, whatever dlerror() or a
 * plugin said.  Returns -EINVAL, so a check can `return sv_reason(...)`.
 */
int sv_reason(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
