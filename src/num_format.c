/* num_format.c - numbers in table columns that line up (num_format.h). */
#include "config.h"

#include "num_format.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int sr_column_decimals(const double *v, size_t n)
{
    double big = 0, small = INFINITY;
    int any = 0, whole = 1;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(v[i]))
            continue;
        any = 1;
        big = fmax(big, fabs(v[i]));
        if (v[i] != 0)
            small = fmin(small, fabs(v[i]));
        whole &= v[i] == floor(v[i]);
    }
    if (!any)
        return -1;
    if (whole && big < 1e15)
        return 0;
    /* magnitudes too far apart for one number of decimals: a drift spike
     * beside values around 1 would leave those with none */
    if (big >= 1e6 || big < 1e-3 || big > 1e3 * small)
        return -1;
    int d = 3 - (int)floor(log10(big));
    return d < 0 ? 0 : d;
}

void sr_format_in_column(double v, int decimals, char *buf, size_t len)
{
    if (v == 0)
        v = 0; /* -0 reads as 0 */
    snprintf(buf, len, "%.*f", decimals, v);
    if (v != 0 && strtod(buf, NULL) == 0)
        snprintf(buf, len, "%.2e", v);
}

void sr_format_exact(double v, char *buf, size_t len)
{
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(buf, len, "%.*g", digits, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}
