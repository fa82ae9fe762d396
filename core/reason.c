/* reason.c - see reason.h. */
#include "reason.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

int sv_reason(char *why, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, len, fmt, ap);
    va_end(ap);
    for (char *p = why; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    return -EINVAL;
}
