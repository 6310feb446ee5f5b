/* analysis.c - scores every checkpoint, recommends one, and relates the
 * hyperparameters to the scores.
 *
 * Scores.  The expression (score_expr.h) runs over each ok checkpoint's
 * metrics; other checkpoints have no score.  Without an expression the score
 * is the seed's pixar_score: the metric itself where eval wrote it, else the
 * same formula computed from mean/std brightness and contrast
 * (SR_SCORE_PIXAR_FORMULA).
 *
 * Ordering.  Checkpoints are ranked by score (lower first unless maximising),
 * then by the earlier epoch (an unknown epoch counts as the latest), then by
 * the lower trial index, then by position in the trial.  A checkpoint whose
 * weights hold non-finite values (metric weight_nonfinite > 0) keeps its
 * score but is never anyone's best: not the recommendation, not a runner-up,
 * not its trial's best.
 *
 * Importance.  Over the trials that have a best score, with each trial's
 * parameters being params.json completed by its Optuna trial's parameters:
 *  - Spearman's rank correlation (average ranks for ties) between a numeric
 *    parameter and the trials' best scores;
 *  - PED-ANOVA (Watanabe et al. 2023, as Optuna's PedAnovaImportanceEvaluator
 *    computes it with its defaults: baseline_quantile 0.1,
 *    evaluate_on_local, 50 grid steps, prior weight 1, at least 2 top trials)
 *    over the COMPLETE trials, when there are 10 or more.  The target is each
 *    trial's best score in the analysis direction.  The top trials are those
 *    whose loss is at most max(2nd best, inverted-CDF 0.1 quantile).  Each
 *    parameter is discretised: a numeric one on linspace(low, high, n) of its
 *    Optuna distribution (log space for log distributions; n = 50, or fewer
 *    for a step or a log int), each value going to the first grid point
 *    >= value - half a grid step; a categorical one on its choices.  Over
 *    the grid indices two Parzen estimators are built from the counts, one
 *    for the top trials and one for all: a numeric one mixes a discretised
 *    truncated normal per occupied grid index (weight: its count; bandwidth
 *    by Scott's rule, 1.059 min(IQR/1.34, sd) N^-0.2, at least 0.5/1.64)
 *    with a prior kernel (weight 1, centred, sd = the grid size); a
 *    categorical one mixes, per occupied choice, a kernel that puts 1 +
 *    1/(K+1) on that choice and 1/(K+1) on every other (K occupied choices,
 *    normalised) with a uniform prior kernel.  The importance is the Pearson
 *    divergence sum_x p_all(x) (p_top(x)/p_all(x) - 1)^2 (1e-12 added to
 *    both densities), normalised to sum to 1 over the parameters; a
 *    parameter whose distribution has a single value scores 0.  Without an
 *    Optuna distribution the range (or the set of values) seen is used.  A
 *    parameter missing from some of those trials, or text that differs in
 *    every trial (a name or a path, not a setting), gets no importance.
 *  - for categorical parameters (string or boolean values, or an Optuna
 *    categorical distribution) the count, mean, median and best of the best
 *    scores per value. */
#include "config.h"

#include "analysis.h"
#include "score_expr.h"
#include "util.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define OVERFIT_FRACTION 0.10
#define PED_MIN_TRIALS SR_ANALYSIS_PED_MIN_TRIALS
#define PED_QUANTILE 0.1
#define PED_N_STEPS 50
#define PED_PRIOR_WEIGHT 1.0
#define PED_MIN_TOP 2
#define PED_EPS 1e-12

/* ---------------------------------------------------------------------------
 * Scoring
 * ------------------------------------------------------------------------- */

typedef struct {
    sr_score_expr *expr;     /* the user's expression, or pixar_score */
    sr_score_expr *fallback; /* the pixar formula (default only) */
} scorer;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The distinct metric names of the sweep's checkpoints and of more (may be
 * NULL), sorted. */
static char **metric_names(const sr_sweep *s, const sr_metrics *more, size_t *n_out)
{
    size_t n = more ? more->n : 0;
    for (size_t i = 0; i < s->n_trials; i++)
        for (size_t j = 0; j < s->trials[i].n_ckpts; j++)
            n += s->trials[i].ckpts[j].metrics.n;
    char **names = xmalloc((n ? n : 1) * sizeof *names);
    n = 0;
    for (size_t i = 0; i < s->n_trials; i++)
        for (size_t j = 0; j < s->trials[i].n_ckpts; j++) {
            const sr_metrics *m = &s->trials[i].ckpts[j].metrics;
            for (size_t k = 0; k < m->n; k++)
                names[n++] = m->items[k].name;
        }
    for (size_t k = 0; more && k < more->n; k++)
        names[n++] = more->items[k].name;
    qsort(names, n, sizeof *names, cmp_str);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (u == 0 || strcmp(names[u - 1], names[i]) != 0)
            names[u++] = names[i];
    *n_out = u;
    return names;
}

int sr_score_check(const char *expression, const sr_sweep *s, const sr_metrics *more, char *err, size_t errlen)
{
    size_t n_names;
    char **names = metric_names(s, more, &n_names);
    char cerr[1024];
    sr_score_expr *e = sr_score_compile(expression, (const char *const *)names, n_names, cerr, sizeof cerr);
    free(names);
    if (!e) {
        snprintf(err, errlen, "score expression: %s", cerr);
        return -1;
    }
    sr_score_free(e);
    return 0;
}

/* "pixar_score" asked for by name is the default score, formula included:
 * the same checkpoints get the same scores either way. */
static int is_default_score(const char *expression)
{
    const char *p = expression + strspn(expression, " \t");
    static const char name[] = "pixar_score";
    if (strncmp(p, name, sizeof name - 1) != 0)
        return 0;
    p += sizeof name - 1;
    return p[strspn(p, " \t")] == '\0';
}

/* 1 when the checkpoint has every metric the expression reads. */
static int has_score_metrics(const sr_score_expr *e, const sr_checkpoint *c)
{
    double v;
    for (size_t i = 0; i < sr_score_n_metrics(e); i++)
        if (!sr_metrics_get(&c->metrics, sr_score_metric(e, i), &v))
            return 0;
    return 1;
}

static double score_of(const scorer *sc, const sr_checkpoint *c)
{
    if (c->status != SR_CKPT_OK)
        return NAN;
    if (sc->fallback) {
        double v;
        if (!sr_metrics_get(&c->metrics, "pixar_score", &v))
            return sr_score_eval(sc->fallback, &c->metrics);
    }
    return sr_score_eval(sc->expr, &c->metrics);
}

static int nonfinite_weights(const sr_checkpoint *c)
{
    double v;
    return sr_metrics_get(&c->metrics, "weight_nonfinite", &v) && v > 0;
}

/* ---------------------------------------------------------------------------
 * Ordering
 * ------------------------------------------------------------------------- */

typedef struct {
    size_t trial, ckpt;
    double score;
    double key;              /* the score, negated when maximising: lower ranks first */
    long epoch;
} cand;

static long epoch_key(long epoch)
{
    return epoch >= 0 ? epoch : LONG_MAX;
}

/* Position first: earlier epoch, lower trial, earlier in the trial. */
static int cmp_position(const cand *a, const cand *b)
{
    long ea = epoch_key(a->epoch), eb = epoch_key(b->epoch);
    if (ea != eb)
        return ea < eb ? -1 : 1;
    if (a->trial != b->trial)
        return a->trial < b->trial ? -1 : 1;
    if (a->ckpt != b->ckpt)
        return a->ckpt < b->ckpt ? -1 : 1;
    return 0;
}

static int cmp_rank(const cand *a, const cand *b)
{
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return cmp_position(a, b);
}

static int cmp_rank_q(const void *a, const void *b)
{
    return cmp_rank(a, b);
}

static int better(double a, double b, int maximize)
{
    return maximize ? a > b : a < b;
}

/* ---------------------------------------------------------------------------
 * Small statistics
 * ------------------------------------------------------------------------- */

typedef struct {
    double v;
    size_t i;
} idx_val;

static int cmp_idx_val(const void *a, const void *b)
{
    double x = ((const idx_val *)a)->v, y = ((const idx_val *)b)->v;
    return x < y ? -1 : x > y ? 1 : 0;
}

/* Average ranks (1-based), ties sharing the mean of their ranks. */
static void average_ranks(const double *v, size_t n, double *ranks)
{
    idx_val *iv = xmalloc((n ? n : 1) * sizeof *iv);
    for (size_t i = 0; i < n; i++)
        iv[i] = (idx_val){v[i], i};
    qsort(iv, n, sizeof *iv, cmp_idx_val);
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && iv[j].v == iv[i].v)
            j++;
        double r = 0.5 * ((double)(i + 1) + (double)j);
        for (size_t k = i; k < j; k++)
            ranks[iv[k].i] = r;
        i = j;
    }
    free(iv);
}

static double pearson(const double *x, const double *y, size_t n)
{
    double mx = 0, my = 0;
    for (size_t i = 0; i < n; i++) {
        mx += x[i];
        my += y[i];
    }
    mx /= (double)n;
    my /= (double)n;
    double sxy = 0, sxx = 0, syy = 0;
    for (size_t i = 0; i < n; i++) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
        syy += (y[i] - my) * (y[i] - my);
    }
    if (!(sxx > 0) || !(syy > 0))
        return NAN;
    double r = sxy / sqrt(sxx * syy);
    return r > 1 ? 1 : r < -1 ? -1 : r;
}

static double spearman(const double *x, const double *y, size_t n)
{
    if (n < 3)
        return NAN;
    double *rx = xmalloc(n * sizeof *rx), *ry = xmalloc(n * sizeof *ry);
    average_ranks(x, n, rx);
    average_ranks(y, n, ry);
    double r = pearson(rx, ry, n);
    free(rx);
    free(ry);
    return r;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y ? 1 : 0;
}

/* ---------------------------------------------------------------------------
 * Parameters
 * ------------------------------------------------------------------------- */

/* params.json wins over Optuna's decoded value: it is what training used. */
static const cJSON *trial_param(const sr_trial *t, const char *name)
{
    const cJSON *v = t->params ? cJSON_GetObjectItemCaseSensitive(t->params, name) : NULL;
    if (!v && t->optuna && t->optuna->params)
        v = cJSON_GetObjectItemCaseSensitive(t->optuna->params, name);
    if (v && cJSON_IsNull(v))
        return NULL;
    return v;
}

static const cJSON *trial_distribution(const sr_trial *t, const char *name)
{
    if (!t->optuna || !t->optuna->distributions)
        return NULL;
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(t->optuna->distributions, name);
    return cJSON_IsObject(d) ? d : NULL;
}

static void add_name(char ***names, size_t *n, const char *name)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*names)[i], name) == 0)
            return;
    *names = xrealloc(*names, (*n + 1) * sizeof **names);
    (*names)[(*n)++] = xstrdup(name);
}

static int values_equal(const cJSON *a, const cJSON *b)
{
    if (cJSON_IsNumber(a) && cJSON_IsNumber(b))
        return a->valuedouble == b->valuedouble;
    if (cJSON_IsString(a) && cJSON_IsString(b))
        return strcmp(a->valuestring, b->valuestring) == 0;
    if (cJSON_IsBool(a) && cJSON_IsBool(b))
        return cJSON_IsTrue(a) == cJSON_IsTrue(b);
    if (cJSON_IsNull(a) && cJSON_IsNull(b))
        return 1;
    return cJSON_Compare(a, b, 1);
}

static char *value_text(const cJSON *v)
{
    if (cJSON_IsString(v))
        return xstrdup(v->valuestring);
    if (cJSON_IsBool(v))
        return xstrdup(cJSON_IsTrue(v) ? "true" : "false");
    if (cJSON_IsNumber(v))
        return xasprintf("%.15g", v->valuedouble);
    char *p = cJSON_PrintUnformatted(v);
    char *s = xstrdup(p ? p : "?");
    cJSON_free(p);
    return s;
}

/* An Optuna distribution, the parts PED-ANOVA needs. */
typedef struct {
    int known;
    int categorical;
    const cJSON *choices;    /* categorical */
    double low, high, step;  /* step 0: continuous */
    int is_int, log;
} dist_info;

static int dist_number(const cJSON *attrs, const char *key, double *out)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(attrs, key);
    if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble))
        return 0;
    *out = it->valuedouble;
    return 1;
}

/* Reads {"name": ..., "attributes": {...}} of Optuna 3.x and the older
 * names (UniformDistribution, LogUniformDistribution, ...). */
static dist_info parse_distribution(const cJSON *d)
{
    dist_info di = {0};
    const char *name = d ? cJSON_IsString(cJSON_GetObjectItemCaseSensitive(d, "name"))
                               ? cJSON_GetObjectItemCaseSensitive(d, "name")->valuestring
                               : NULL
                         : NULL;
    const cJSON *attrs = d ? cJSON_GetObjectItemCaseSensitive(d, "attributes") : NULL;
    if (!name || !cJSON_IsObject(attrs))
        return di;
    if (strcmp(name, "CategoricalDistribution") == 0) {
        const cJSON *ch = cJSON_GetObjectItemCaseSensitive(attrs, "choices");
        if (cJSON_IsArray(ch) && cJSON_GetArraySize(ch) > 0) {
            di.known = di.categorical = 1;
            di.choices = ch;
        }
        return di;
    }
    int is_int = strstr(name, "Int") == name;
    int is_float = strcmp(name, "FloatDistribution") == 0 || strcmp(name, "UniformDistribution") == 0 ||
                   strcmp(name, "LogUniformDistribution") == 0 || strcmp(name, "DiscreteUniformDistribution") == 0;
    if (!is_int && !is_float)
        return di;
    if (!dist_number(attrs, "low", &di.low) || !dist_number(attrs, "high", &di.high) || di.low > di.high)
        return di;
    const cJSON *lg = cJSON_GetObjectItemCaseSensitive(attrs, "log");
    di.log = cJSON_IsTrue(lg) || strstr(name, "LogUniform") != NULL;
    if (!dist_number(attrs, "step", &di.step) && !dist_number(attrs, "q", &di.step))
        di.step = is_int ? 1 : 0;
    if (di.step < 0)
        di.step = 0;
    di.is_int = is_int;
    if (di.log && !(di.low > 0))
        return di;
    di.known = 1;
    return di;
}

static int dist_is_log(const cJSON *d)
{
    dist_info di = parse_distribution(d);
    return di.known && !di.categorical && di.log;
}

/* The grid PED-ANOVA counts a parameter on. */
typedef struct {
    int categorical;
    size_t n;                /* grid size / number of choices */
    const cJSON **choices;   /* categorical: n of them (borrowed) */
    double *grid;            /* numeric: n points, in log space for log */
    int log;
} ped_space;

static int dist_single(const dist_info *di)
{
    if (di->categorical)
        return cJSON_GetArraySize(di->choices) <= 1;
    if (di->low == di->high)
        return 1;
    if (di->is_int && di->log)
        return 0;
    return di->step > 0 && di->high - di->low < di->step;
}

static void ped_space_free(ped_space *sp)
{
    free(sp->choices);
    free(sp->grid);
}

static void space_add_choice(ped_space *sp, const cJSON *v)
{
    for (size_t i = 0; i < sp->n; i++)
        if (values_equal(sp->choices[i], v))
            return;
    sp->choices = xrealloc(sp->choices, (sp->n + 1) * sizeof *sp->choices);
    sp->choices[sp->n++] = v;
}

/* Builds the space from the distribution, or from the values seen.
 * Returns 0, 1 when the parameter has a single value, -1 when it cannot be
 * counted (e.g. numbers mixed with text under a numeric distribution). */
static int ped_space_build(ped_space *sp, const dist_info *given, const cJSON *const *vals, size_t n,
                           int categorical_values)
{
    memset(sp, 0, sizeof *sp);
    dist_info di = given ? *given : (dist_info){0};
    if (di.known && !di.categorical && categorical_values)
        di.known = 0;
    if (!di.known) {
        if (categorical_values) {
            di.categorical = 1;
        } else {
            di.low = INFINITY;
            di.high = -INFINITY;
            int all_int = 1;
            for (size_t i = 0; i < n; i++) {
                double v = vals[i]->valuedouble;
                if (v < di.low)
                    di.low = v;
                if (v > di.high)
                    di.high = v;
                if (v != floor(v))
                    all_int = 0;
            }
            di.is_int = all_int;
            di.step = all_int ? 1 : 0;
        }
    }
    if (di.categorical) {
        sp->categorical = 1;
        if (di.choices)
            for (const cJSON *c = di.choices->child; c; c = c->next)
                space_add_choice(sp, c);
        int single_dist = di.choices && cJSON_GetArraySize(di.choices) <= 1;
        for (size_t i = 0; i < n; i++)
            space_add_choice(sp, vals[i]);
        if (single_dist || sp->n <= 1)
            return 1;
        return 0;
    }
    if (dist_single(&di))
        return 1;
    size_t steps = PED_N_STEPS;
    if (di.is_int && di.log) {
        size_t s = (size_t)ceil(log(di.high - di.low + 1) / log(2)) + 1;
        if (s < steps)
            steps = s;
    } else if (di.step > 0) {
        double s = round((di.high - di.low) / di.step) + 1;
        if (s < (double)steps)
            steps = (size_t)s;
    }
    if (steps < 2)
        return 1;
    sp->n = steps;
    sp->log = di.log;
    sp->grid = xmalloc(steps * sizeof *sp->grid);
    double lo = di.log ? log(di.low) : di.low, hi = di.log ? log(di.high) : di.high;
    /* numpy.linspace: start + i*step, the last point exactly stop */
    double d = (hi - lo) / (double)(steps - 1);
    for (size_t i = 0; i < steps; i++)
        sp->grid[i] = lo + (double)i * d;
    sp->grid[steps - 1] = hi;
    return 0;
}

static size_t ped_index(const ped_space *sp, const cJSON *v)
{
    if (sp->categorical) {
        for (size_t i = 0; i < sp->n; i++)
            if (values_equal(sp->choices[i], v))
                return i;
        return 0; /* not reached: every value seen is a choice */
    }
    double x = v->valuedouble;
    if (sp->log)
        x = x > 0 ? log(x) : -INFINITY;
    double half = 0.5 * (sp->grid[1] - sp->grid[0]);
    double target = x - half;
    /* numpy.searchsorted(grid, target, side="left") */
    size_t i = 0;
    while (i < sp->n && sp->grid[i] < target)
        i++;
    return i < sp->n ? i : sp->n - 1;
}

/* Phi(ub) - Phi(lb) of the standard normal, accurate in both tails. */
static double normal_mass(double lb, double ub)
{
    const double r = 0.70710678118654752440; /* 1/sqrt(2) */
    if (lb >= 0)
        return 0.5 * (erfc(lb * r) - erfc(ub * r));
    if (ub <= 0)
        return 0.5 * (erfc(-ub * r) - erfc(-lb * r));
    return 1.0 - 0.5 * erfc(ub * r) - 0.5 * erfc(-lb * r);
}

/* The Parzen estimator's probabilities over the n grid cells from the counts. */
static void parzen_pdf(const ped_space *sp, const double *counts, double *pdf)
{
    size_t n = sp->n;
    double total = 0;
    size_t k_occupied = 0;
    for (size_t i = 0; i < n; i++) {
        total += counts[i];
        if (counts[i] > 0)
            k_occupied++;
    }
    double wsum = total + PED_PRIOR_WEIGHT;
    if (sp->categorical) {
        double n_kernels = (double)k_occupied + 1;
        double base = PED_PRIOR_WEIGHT / n_kernels;
        double row_sum = (double)n * base + 1.0;
        for (size_t x = 0; x < n; x++) {
            double p = PED_PRIOR_WEIGHT / wsum / (double)n;
            for (size_t j = 0; j < n; j++) {
                if (counts[j] > 0)
                    p += counts[j] / wsum * (base + (j == x ? 1.0 : 0.0)) / row_sum;
            }
            pdf[x] = p;
        }
        return;
    }
    /* Scott's rule over the occupied grid indices, weighted by counts */
    double mean = 0;
    for (size_t i = 0; i < n; i++)
        mean += (double)i * counts[i];
    mean /= total;
    double ss = 0;
    for (size_t i = 0; i < n; i++)
        ss += ((double)i - mean) * ((double)i - mean) * counts[i];
    double sd = sqrt(ss / (total - 1 > 1 ? total - 1 : 1));
    double q25 = floor(total / 4), q75 = floor(total * 3 / 4);
    double cum = 0;
    long i25 = -1, i75 = -1, last = -1;
    for (size_t i = 0; i < n; i++) {
        if (!(counts[i] > 0))
            continue;
        cum += counts[i];
        last = (long)i;
        if (i25 < 0 && cum >= q25)
            i25 = (long)i;
        if (i75 < 0 && cum > q75)
            i75 = (long)i;
    }
    if (i75 < 0)
        i75 = last;
    double iqr = (double)(i75 - i25);
    double sigma = 1.059 * fmin(iqr / 1.34, sd) * pow(total, -0.2);
    if (!(sigma >= 0.5 / 1.64))
        sigma = 0.5 / 1.64;
    double prior_mu = 0.5 * (double)(n - 1), prior_sigma = (double)n;
    double lo = -0.5, hi = (double)n - 0.5;
    for (size_t x = 0; x < n; x++) {
        double xl = (double)x - 0.5, xu = (double)x + 0.5;
        double p = PED_PRIOR_WEIGHT / wsum *
                   normal_mass((xl - prior_mu) / prior_sigma, (xu - prior_mu) / prior_sigma) /
                   normal_mass((lo - prior_mu) / prior_sigma, (hi - prior_mu) / prior_sigma);
        for (size_t j = 0; j < n; j++) {
            if (!(counts[j] > 0))
                continue;
            double mu = (double)j;
            p += counts[j] / wsum * normal_mass((xl - mu) / sigma, (xu - mu) / sigma) /
                 normal_mass((lo - mu) / sigma, (hi - mu) / sigma);
        }
        pdf[x] = p;
    }
}

static double pearson_divergence(const ped_space *sp, const size_t *idx, const int *top, size_t n_trials)
{
    size_t n = sp->n;
    double *c_all = xcalloc(n, sizeof *c_all), *c_top = xcalloc(n, sizeof *c_top);
    for (size_t i = 0; i < n_trials; i++) {
        c_all[idx[i]] += 1;
        if (top[i])
            c_top[idx[i]] += 1;
    }
    double *p_all = xmalloc(n * sizeof *p_all), *p_top = xmalloc(n * sizeof *p_top);
    parzen_pdf(sp, c_top, p_top);
    parzen_pdf(sp, c_all, p_all);
    double div = 0;
    for (size_t x = 0; x < n; x++) {
        double pt = p_top[x] + PED_EPS, pl = p_all[x] + PED_EPS;
        double r = pt / pl - 1;
        div += pl * r * r;
    }
    free(c_all);
    free(c_top);
    free(p_all);
    free(p_top);
    return div;
}

/* Marks the top trials: loss <= max(2nd smallest, the 0.1 inverted-CDF quantile). */
static void quantile_filter(const double *score, size_t n, int maximize, int *top)
{
    double *loss = xmalloc(n * sizeof *loss), *sorted = xmalloc(n * sizeof *sorted);
    for (size_t i = 0; i < n; i++)
        loss[i] = sorted[i] = maximize ? -score[i] : score[i];
    qsort(sorted, n, sizeof *sorted, cmp_double);
    long qi = (long)ceil(PED_QUANTILE * (double)n) - 1;
    if (qi < 0)
        qi = 0;
    double cutoff = fmax(sorted[PED_MIN_TOP - 1], sorted[qi]);
    for (size_t i = 0; i < n; i++)
        top[i] = loss[i] <= cutoff;
    free(loss);
    free(sorted);
}

static void param_free(sr_param_analysis *p)
{
    free(p->name);
    for (size_t i = 0; i < p->n_values; i++) {
        free(p->values[i]);
        cJSON_Delete(p->value_items[i]);
    }
    free(p->values);
    free(p->value_items);
    free(p->mean);
    free(p->median);
    free(p->best);
    free(p->count);
}

typedef struct {
    const cJSON *v;
    double score;
} val_score;

static int cmp_val_score(const void *a, const void *b)
{
    const cJSON *x = ((const val_score *)a)->v, *y = ((const val_score *)b)->v;
    if (cJSON_IsNumber(x) && cJSON_IsNumber(y))
        return x->valuedouble < y->valuedouble ? -1 : x->valuedouble > y->valuedouble ? 1 : 0;
    if (cJSON_IsNumber(x) != cJSON_IsNumber(y))
        return cJSON_IsNumber(x) ? -1 : 1;
    char *a_txt = value_text(x), *b_txt = value_text(y);
    int c = sr_strnatcmp(a_txt, b_txt);
    if (c == 0)
        c = strcmp(a_txt, b_txt);
    free(a_txt);
    free(b_txt);
    return c;
}

/* count, mean, median and best of the scores per distinct value. */
static void per_value_stats(sr_param_analysis *p, const cJSON *const *vals, const double *scores, size_t n,
                            int maximize)
{
    val_score *vs = xmalloc((n ? n : 1) * sizeof *vs);
    for (size_t i = 0; i < n; i++)
        vs[i] = (val_score){vals[i], scores[i]};
    qsort(vs, n, sizeof *vs, cmp_val_score);
    double *tmp = xmalloc((n ? n : 1) * sizeof *tmp);
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && values_equal(vs[j].v, vs[i].v))
            j++;
        size_t k = p->n_values++;
        p->values = xrealloc(p->values, p->n_values * sizeof *p->values);
        p->value_items = xrealloc(p->value_items, p->n_values * sizeof *p->value_items);
        p->mean = xrealloc(p->mean, p->n_values * sizeof *p->mean);
        p->median = xrealloc(p->median, p->n_values * sizeof *p->median);
        p->best = xrealloc(p->best, p->n_values * sizeof *p->best);
        p->count = xrealloc(p->count, p->n_values * sizeof *p->count);
        p->values[k] = value_text(vs[i].v);
        p->value_items[k] = cJSON_Duplicate(vs[i].v, 1);
        size_t m = j - i;
        double sum = 0, best = vs[i].score;
        for (size_t q = 0; q < m; q++) {
            tmp[q] = vs[i + q].score;
            sum += tmp[q];
            if (better(tmp[q], best, maximize))
                best = tmp[q];
        }
        qsort(tmp, m, sizeof *tmp, cmp_double);
        p->count[k] = m;
        p->mean[k] = sum / (double)m;
        p->median[k] = m % 2 ? tmp[m / 2] : 0.5 * (tmp[m / 2 - 1] + tmp[m / 2]);
        p->best[k] = best;
        i = j;
    }
    free(tmp);
    free(vs);
}

static int is_complete(const sr_sweep *s, const sr_trial *t)
{
    if (s->study)
        return t->optuna && t->optuna->state && strcmp(t->optuna->state, "COMPLETE") == 0;
    /* no study: a trial whose training wrote its final model has completed */
    for (size_t j = 0; j < t->n_ckpts; j++)
        if (t->ckpts[j].final && t->ckpts[j].status == SR_CKPT_OK)
            return 1;
    return 0;
}

static int cmp_param_importance(const void *a, const void *b)
{
    const sr_param_analysis *x = a, *y = b;
    int xi = isfinite(x->importance), yi = isfinite(y->importance);
    if (xi != yi)
        return xi ? -1 : 1;
    if (xi && x->importance != y->importance)
        return x->importance > y->importance ? -1 : 1;
    double xs = isfinite(x->spearman) ? fabs(x->spearman) : -1, ys = isfinite(y->spearman) ? fabs(y->spearman) : -1;
    if (xs != ys)
        return xs > ys ? -1 : 1;
    return strcmp(x->name, y->name);
}

static void analyze_params(const sr_sweep *s, sr_analysis *a)
{
    size_t nt = s->n_trials;
    /* the trials with a best score */
    size_t *scored = xmalloc((nt ? nt : 1) * sizeof *scored);
    size_t ns = 0;
    for (size_t i = 0; i < nt; i++)
        if (isfinite(a->trials[i].best_score))
            scored[ns++] = i;
    char **names = NULL;
    size_t n_names = 0;
    for (size_t k = 0; k < ns; k++) {
        const sr_trial *t = &s->trials[scored[k]];
        const cJSON *it;
        for (it = t->params ? t->params->child : NULL; it; it = it->next)
            if (it->string)
                add_name(&names, &n_names, it->string);
        for (it = t->optuna && t->optuna->params ? t->optuna->params->child : NULL; it; it = it->next)
            if (it->string)
                add_name(&names, &n_names, it->string);
    }
    /* PED-ANOVA's trials */
    size_t *complete = xmalloc((ns ? ns : 1) * sizeof *complete);
    size_t nc = 0;
    for (size_t k = 0; k < ns; k++)
        if (is_complete(s, &s->trials[scored[k]]))
            complete[nc++] = scored[k];
    a->n_complete = nc;
    int run_ped = nc >= PED_MIN_TRIALS;
    int *top = NULL;
    double *cscore = NULL;
    if (run_ped) {
        top = xmalloc(nc * sizeof *top);
        cscore = xmalloc(nc * sizeof *cscore);
        for (size_t k = 0; k < nc; k++)
            cscore[k] = a->trials[complete[k]].best_score;
        quantile_filter(cscore, nc, a->maximize, top);
    }

    a->params = xcalloc(n_names ? n_names : 1, sizeof *a->params);
    a->n_params = 0;
    const cJSON **vals = xmalloc((ns ? ns : 1) * sizeof *vals);
    double *xs = xmalloc((ns ? ns : 1) * sizeof *xs), *ys = xmalloc((ns ? ns : 1) * sizeof *ys);
    size_t *pidx = xmalloc((nc ? nc : 1) * sizeof *pidx);
    const cJSON **cvals = xmalloc((nc ? nc : 1) * sizeof *cvals);
    double *divergence = xmalloc((n_names ? n_names : 1) * sizeof *divergence);
    int *ped_state = xmalloc((n_names ? n_names : 1) * sizeof *ped_state); /* 0 computed, 1 single, -1 none */

    for (size_t q = 0; q < n_names; q++) {
        const char *name = names[q];
        size_t nv = 0;
        int categorical = 0, numeric = 0;
        const cJSON *dist = NULL;
        for (size_t k = 0; k < ns; k++) {
            const sr_trial *t = &s->trials[scored[k]];
            const cJSON *v = trial_param(t, name);
            if (!dist)
                dist = trial_distribution(t, name);
            if (!v)
                continue;
            if (cJSON_IsNumber(v))
                numeric = 1;
            else
                categorical = 1;
            vals[nv] = v;
            ys[nv] = a->trials[scored[k]].best_score;
            nv++;
        }
        if (nv == 0)
            continue;
        sr_param_analysis *p = &a->params[a->n_params];
        size_t pi = a->n_params++;
        p->name = xstrdup(name);
        p->n_trials = nv;
        p->categorical = categorical;
        p->log_scale = dist_is_log(dist);
        p->spearman = NAN;
        p->importance = NAN;
        p->constant = 1;
        for (size_t k = 1; k < nv && p->constant; k++)
            p->constant = cJSON_Compare(vals[k], vals[0], 1);
        if (!categorical && numeric) {
            for (size_t k = 0; k < nv; k++)
                xs[k] = vals[k]->valuedouble;
            p->spearman = spearman(xs, ys, nv);
        }
        dist_info di = parse_distribution(dist);
        if (categorical || (di.known && di.categorical))
            per_value_stats(p, vals, ys, nv, a->maximize);

        ped_state[pi] = -1;
        divergence[pi] = NAN;
        if (!run_ped)
            continue;
        size_t have = 0;
        for (size_t k = 0; k < nc; k++) {
            const cJSON *v = trial_param(&s->trials[complete[k]], name);
            if (v)
                cvals[have++] = v;
        }
        if (have < nc)
            continue; /* missing from some trials */
        ped_space sp;
        int st = ped_space_build(&sp, di.known ? &di : NULL, cvals, nc, categorical);
        if (st == 0 && !di.known && sp.categorical && sp.n == nc)
            st = -1; /* text that differs in every trial names the trial, it sets nothing */
        if (st == 1) {
            ped_state[pi] = 1;
        } else if (st == 0) {
            for (size_t k = 0; k < nc; k++)
                pidx[k] = ped_index(&sp, cvals[k]);
            divergence[pi] = pearson_divergence(&sp, pidx, top, nc);
            ped_state[pi] = 0;
        }
        ped_space_free(&sp);
    }
    if (run_ped) {
        double sum = 0;
        size_t n_div = 0;
        for (size_t i = 0; i < a->n_params; i++)
            if (ped_state[i] == 0) {
                sum += divergence[i];
                n_div++;
            }
        for (size_t i = 0; i < a->n_params; i++) {
            if (ped_state[i] == 1)
                a->params[i].importance = 0;
            else if (ped_state[i] == 0)
                a->params[i].importance = sum > 0 ? divergence[i] / sum : 1.0 / (double)n_div;
        }
    }
    qsort(a->params, a->n_params, sizeof *a->params, cmp_param_importance);

    for (size_t q = 0; q < n_names; q++)
        free(names[q]);
    free(names);
    free(scored);
    free(complete);
    free(top);
    free(cscore);
    free(vals);
    free(xs);
    free(ys);
    free(pidx);
    free(cvals);
    free(divergence);
    free(ped_state);
}

/* ---------------------------------------------------------------------------
 * The recommendation's reason
 * ------------------------------------------------------------------------- */

static long final_index(const sr_trial *t)
{
    long f = -1;
    for (size_t j = 0; j < t->n_ckpts; j++)
        if (t->ckpts[j].final)
            f = (long)j;
    return f;
}

static void describe_ckpt(sr_buf *b, const sr_trial *t, const sr_checkpoint *c)
{
    if (c->epoch >= 0)
        sr_buf_printf(b, "%s at epoch %ld", t->name, c->epoch);
    else
        sr_buf_printf(b, "%s's checkpoint %s", t->name, c->file);
}

static void percent(sr_buf *b, double pct)
{
    if (pct >= 10 || pct == rint(pct))
        sr_buf_printf(b, "%.0f%%", pct);
    else if (pct < 1)
        sr_buf_printf(b, "%.2g%%", pct);
    else
        sr_buf_printf(b, "%.1f%%", pct);
}

static const sr_optuna_trial *optuna_best_trial(const sr_study *st)
{
    if (!st)
        return NULL;
    int maximize = st->direction && strcasecmp(st->direction, "MAXIMIZE") == 0;
    const sr_optuna_trial *best = NULL;
    for (size_t i = 0; i < st->n_trials; i++) {
        const sr_optuna_trial *t = &st->trials[i];
        if (!t->state || strcmp(t->state, "COMPLETE") != 0 || !t->has_value || isnan(t->value))
            continue;
        if (!best || better(t->value, best->value, maximize))
            best = t;
    }
    return best;
}

/* "st", "nd", "rd" or "th" after n. */
static const char *ordinal_suffix(size_t n)
{
    if (n % 100 >= 11 && n % 100 <= 13)
        return "th";
    return n % 10 == 1 ? "st" : n % 10 == 2 ? "nd" : n % 10 == 3 ? "rd" : "th";
}

static char *make_reason(const sr_sweep *s, const sr_analysis *a, const cand *top_ranked, double pct,
                         size_t passed_over)
{
    const sr_trial *t = &s->trials[a->best.trial];
    const sr_checkpoint *c = &t->ckpts[a->best.ckpt];
    sr_buf b;
    sr_buf_init(&b);
    describe_ckpt(&b, t, c);
    sr_buf_printf(&b, " scores %.4g (%s, %s is better): ", a->best_score, a->expression,
                  a->maximize ? "higher" : "lower");
    long f = final_index(t);
    const char *state = t->optuna && t->optuna->state ? t->optuna->state : "";
    if (f < 0 && strcmp(state, "PRUNED") == 0) {
        /* a checkpoint of a trial that stopped early: say so first */
        sr_buf_puts(&b, "Optuna pruned this trial, so it has no final checkpoint to compare with.");
    } else if (f < 0 && strcmp(state, "RUNNING") == 0) {
        sr_buf_puts(&b, "the trial is still running: it has no final checkpoint yet.");
    } else if (f < 0 && strcmp(state, "FAIL") == 0) {
        sr_buf_puts(&b, "the trial failed, so it has no final checkpoint to compare with.");
    } else if (f < 0) {
        sr_buf_puts(&b, "the trial has no final checkpoint to compare with.");
    } else if ((size_t)f == a->best.ckpt) {
        sr_buf_puts(&b, "it is the trial's final checkpoint.");
    } else {
        const sr_checkpoint *fc = &t->ckpts[f];
        double fs = a->trials[a->best.trial].ckpts[f].score;
        if (!isfinite(fs)) {
            sr_buf_puts(&b, "the trial's final checkpoint has no score.");
        } else {
            double diff = a->maximize ? a->best_score - fs : fs - a->best_score; /* > 0: better */
            if (diff == 0) {
                sr_buf_puts(&b, "as good as");
            } else if (fs != 0) {
                percent(&b, fabs(diff) / fabs(fs) * 100);
                sr_buf_puts(&b, diff > 0 ? " better than" : " worse than");
            } else {
                sr_buf_puts(&b, diff > 0 ? "better than" : "worse than");
            }
            if (fc->epoch >= 0)
                sr_buf_printf(&b, " its final epoch %ld (%.4g).", fc->epoch, fs);
            else
                sr_buf_printf(&b, " its final checkpoint (%.4g).", fs);
        }
    }
    if (top_ranked && (top_ranked->trial != a->best.trial || top_ranked->ckpt != a->best.ckpt)) {
        sr_buf_puts(&b, " It is the earliest checkpoint within ");
        percent(&b, pct);
        sr_buf_printf(&b, " of the best score, %.4g (", top_ranked->score);
        describe_ckpt(&b, &s->trials[top_ranked->trial], &s->trials[top_ranked->trial].ckpts[top_ranked->ckpt]);
        sr_buf_puts(&b, ").");
    }
    if (passed_over)
        sr_buf_printf(&b, " %zu better-scoring checkpoint%s with non-finite weights %s passed over.", passed_over,
                      passed_over == 1 ? "" : "s", passed_over == 1 ? "was" : "were");
    if (c->samples_from_training && c->n_samples > 0)
        sr_buf_puts(&b, " No evaluator rendered samples for it: its image metrics are of kohya's training-time "
                        "samples (sample/), other prompts than an evaluator's.");
    if (!s->study) {
        sr_buf_puts(&b, " There is no Optuna study to compare with.");
    } else if (a->optuna_best_number < 0) {
        sr_buf_puts(&b, " Optuna has no completed trial with a value to compare with.");
    } else if (a->optuna_best < 0) {
        sr_buf_printf(&b, " Optuna's best trial (number %d) has no trial folder here.", a->optuna_best_number);
    } else if ((size_t)a->optuna_best == a->best.trial) {
        sr_buf_printf(&b, " Optuna's best trial, number %d, is this trial (%s) too.", a->optuna_best_number,
                      s->trials[a->optuna_best].name);
    } else {
        /* Optuna ranks by the objective the sweep reported to it, which need
         * not be this score: where its best stands by this one */
        const sr_trial_analysis *ob = &a->trials[a->optuna_best];
        sr_buf_printf(&b, " Optuna's best trial, number %d, is %s", a->optuna_best_number,
                      s->trials[a->optuna_best].name);
        if (isfinite(ob->best_score)) {
            size_t rank = 1;
            for (size_t i = 0; i < a->n_trials; i++)
                rank += isfinite(a->trials[i].best_score) && better(a->trials[i].best_score, ob->best_score,
                                                                     a->maximize);
            sr_buf_printf(&b, ", %zu%s here by best score", rank, ordinal_suffix(rank));
        } else {
            sr_buf_puts(&b, ", which has no score here");
        }
        sr_buf_puts(&b, ": Optuna ranks trials by its own objective value.");
    }
    return sr_buf_steal(&b);
}

/* ---------------------------------------------------------------------------
 * sr_analyze
 * ------------------------------------------------------------------------- */

int sr_analyze(const sr_sweep *s, const sr_analysis_opts *o, sr_analysis *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (err && errlen)
        err[0] = '\0';
    sr_analysis_opts defaults = {0};
    if (!o)
        o = &defaults;
    scorer sc = {0};
    char cerr[1024];
    if (o->expression && !is_default_score(o->expression)) {
        size_t n_names;
        char **names = metric_names(s, o->known, &n_names);
        sc.expr = sr_score_compile(o->expression, (const char *const *)names, n_names, cerr, sizeof cerr);
        free(names);
        if (!sc.expr) {
            if (err && errlen)
                snprintf(err, errlen, "score expression: %s", cerr);
            return -1;
        }
        out->expression = xstrdup(o->expression);
    } else {
        sc.expr = sr_score_compile("pixar_score", NULL, 0, cerr, sizeof cerr);
        sc.fallback = sr_score_compile(SR_SCORE_PIXAR_FORMULA, NULL, 0, cerr, sizeof cerr);
        out->expression = xstrdup("pixar_score");
    }
    out->maximize = o->maximize != 0;
    out->prefer_earlier = isfinite(o->prefer_earlier) && o->prefer_earlier > 0 ? o->prefer_earlier : 0;
    int maximize = out->maximize;
    out->score_min = NAN;
    out->score_max = NAN;
    out->best_score = NAN;
    out->optuna_best = -1;
    out->optuna_best_number = -1;
    out->trials = xcalloc(s->n_trials ? s->n_trials : 1, sizeof *out->trials);
    out->n_trials = s->n_trials;

    size_t n_ck = sr_sweep_count_checkpoints(s);
    cand *eligible = xmalloc((n_ck ? n_ck : 1) * sizeof *eligible);
    size_t n_el = 0;
    for (size_t i = 0; i < s->n_trials; i++) {
        const sr_trial *t = &s->trials[i];
        sr_trial_analysis *ta = &out->trials[i];
        ta->ckpts = xcalloc(t->n_ckpts ? t->n_ckpts : 1, sizeof *ta->ckpts);
        ta->best = -1;
        ta->best_score = NAN;
        ta->final_score = NAN;
        cand tbest = {0};
        for (size_t j = 0; j < t->n_ckpts; j++) {
            const sr_checkpoint *c = &t->ckpts[j];
            double v = score_of(&sc, c);
            ta->ckpts[j].score = v;
            if (!isfinite(v)) {
                if (!sc.fallback && c->status == SR_CKPT_OK && has_score_metrics(sc.expr, c))
                    out->n_score_nonfinite++;
                continue;
            }
            if (!(out->score_min <= v))
                out->score_min = v;
            if (!(out->score_max >= v))
                out->score_max = v;
            if (nonfinite_weights(c))
                continue;
            cand cd = {i, j, v, maximize ? -v : v, c->epoch};
            eligible[n_el++] = cd;
            if (ta->best < 0 || cmp_rank(&cd, &tbest) < 0) {
                tbest = cd;
                ta->best = (long)j;
                ta->best_score = v;
            }
        }
        long f = final_index(t);
        if (f >= 0)
            ta->final_score = ta->ckpts[f].score;
    }
    sr_score_free(sc.expr);
    sr_score_free(sc.fallback);

    double range = isfinite(out->score_min) ? out->score_max - out->score_min : NAN;
    for (size_t i = 0; i < s->n_trials; i++) {
        sr_trial_analysis *ta = &out->trials[i];
        /* judged on a scored final checkpoint only: unknown without one */
        if (isfinite(ta->best_score) && isfinite(ta->final_score) && isfinite(range)) {
            double worse = maximize ? ta->best_score - ta->final_score : ta->final_score - ta->best_score;
            ta->overfit = worse > OVERFIT_FRACTION * range;
            ta->overfit_known = 1;
        }
    }

    const sr_optuna_trial *ob = optuna_best_trial(s->study);
    if (ob) {
        out->optuna_best_number = ob->number;
        for (size_t i = 0; i < s->n_trials; i++)
            if (s->trials[i].optuna == ob) {
                out->optuna_best = (long)i;
                break;
            }
    }

    if (n_el > 0) {
        qsort(eligible, n_el, sizeof *eligible, cmp_rank_q);
        size_t chosen = 0;
        double pct = o->prefer_earlier;
        if (isfinite(pct) && pct > 0) {
            double best = eligible[0].score;
            double tol = best != 0 ? fabs(best) * pct / 100 : range * pct / 100;
            /* the earliest epoch within the tolerance; at that epoch the
             * best score (eligible is best first, so the first one met) */
            for (size_t k = 1; k < n_el; k++) {
                double worse = maximize ? best - eligible[k].score : eligible[k].score - best;
                if (worse <= tol && epoch_key(eligible[k].epoch) < epoch_key(eligible[chosen].epoch))
                    chosen = k;
            }
        }
        out->has_best = 1;
        out->best = (sr_ckpt_ref){eligible[chosen].trial, eligible[chosen].ckpt};
        out->best_score = eligible[chosen].score;
        for (size_t k = 0; k < n_el && out->n_runners_up < 5; k++)
            if (k != chosen)
                out->runners_up[out->n_runners_up++] = (sr_ckpt_ref){eligible[k].trial, eligible[k].ckpt};
        /* scored checkpoints with non-finite weights that would have ranked first */
        size_t passed_over = 0;
        for (size_t i = 0; i < s->n_trials; i++)
            for (size_t j = 0; j < s->trials[i].n_ckpts; j++) {
                double v = out->trials[i].ckpts[j].score;
                if (isfinite(v) && nonfinite_weights(&s->trials[i].ckpts[j]) &&
                    better(v, eligible[0].score, maximize))
                    passed_over++;
            }
        out->reason = make_reason(s, out, chosen ? &eligible[0] : NULL, pct, passed_over);
    }
    free(eligible);

    analyze_params(s, out);
    return 0;
}

void sr_analysis_free(sr_analysis *a)
{
    if (!a)
        return;
    free(a->expression);
    for (size_t i = 0; i < a->n_trials; i++)
        free(a->trials[i].ckpts);
    free(a->trials);
    free(a->reason);
    for (size_t i = 0; i < a->n_params; i++)
        param_free(&a->params[i]);
    free(a->params);
    memset(a, 0, sizeof *a);
}

typedef struct {
    size_t trial;
    double key;
} order_row;

static int order_cmp(const void *pa, const void *pb)
{
    const order_row *x = pa, *y = pb;
    int fx = isfinite(x->key), fy = isfinite(y->key);
    if (fx != fy)
        return fy - fx;
    if (fx && x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->trial < y->trial ? -1 : x->trial > y->trial;
}

void sr_analysis_trial_order(const sr_sweep *s, const sr_analysis *a, size_t *order)
{
    order_row *rows = xcalloc(s->n_trials ? s->n_trials : 1, sizeof *rows);
    for (size_t i = 0; i < s->n_trials; i++) {
        rows[i].trial = i;
        double v = i < a->n_trials ? a->trials[i].best_score : NAN;
        rows[i].key = a->maximize ? -v : v;
    }
    qsort(rows, s->n_trials, sizeof *rows, order_cmp);
    for (size_t i = 0; i < s->n_trials; i++)
        order[i] = rows[i].trial;
    free(rows);
}
