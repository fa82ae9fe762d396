/* store.c - what every store backend shares. */
#include "store.h"

#include <stdlib.h>

void sv_strvec_free(sv_strvec *sv)
{
    if (!sv)
        return;
    for (size_t i = 0; i < sv->n; i++)
        free(sv->v[i]);
    free(sv->v);
    /* Leave it empty rather than dangling, so a second free is harmless. */
    sv->v = NULL;
    sv->n = 0;
}
