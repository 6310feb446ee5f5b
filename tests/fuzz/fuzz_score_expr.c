/* fuzz_score_expr.c - libFuzzer target for the --score expression parser.
 *
 * The input is the expression text.  It is compiled against every name;
 * when it compiles it is evaluated over metrics holding a mix of ordinary
 * and extreme values, then compiled again against exactly the names it read
 * (must succeed) and against those less the first (must fail). */
#include "config.h"

#include "score_expr.h"
#include "sweep.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const double values[] = {0.5, 0.0, -1.0, 1e308, -0.0, 3.0, NAN, INFINITY, 1e-308, 2.0};

static void check_eval(const sr_score_expr *e, const sr_metrics *m)
{
    double v = sr_score_eval(e, m);
    if (!isnan(v) && !isfinite(v))
        __builtin_trap(); /* a score is finite or there is none */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 8192)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        abort();
    memcpy(text, data, size);
    text[size] = '\0';

    char err[512];
    sr_score_expr *e = sr_score_compile(text, NULL, 0, err, sizeof err);
    if (!e) {
        if (!err[0])
            __builtin_trap(); /* a compile error always says why */
        free(text);
        return 0;
    }
    size_t n = sr_score_n_metrics(e);
    const char **names = malloc((n + 1) * sizeof *names);
    if (!names)
        abort();
    sr_metrics m = {0};
    for (size_t i = 0; i < n; i++) {
        names[i] = sr_score_metric(e, i);
        if (!names[i])
            __builtin_trap();
        sr_metrics_set(&m, names[i], values[i % (sizeof values / sizeof values[0])]);
    }
    check_eval(e, &m);
    check_eval(e, NULL);
    for (size_t i = 0; i < m.n; i++)
        m.items[i].value = 1.0;
    check_eval(e, &m);

    sr_score_expr *again = sr_score_compile(text, names, n, err, sizeof err);
    if (!again)
        __builtin_trap(); /* every name it reads is there */
    sr_score_free(again);
    if (n > 0) {
        again = sr_score_compile(text, names + 1, n - 1, err, sizeof err);
        if (again || !strstr(err, "unknown metric"))
            __builtin_trap(); /* the first name is missing */
    }
    free(names);
    sr_metrics_free(&m);
    sr_score_free(e);
    free(text);
    return 0;
}
