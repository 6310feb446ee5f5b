/* charts.c - fills sr_chart descriptions from a sweep and its analysis. */
#include "config.h"

#include "charts.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Palette colours (chart.c's order: 0 blue, 1 vermillion, 2 bluish green,
 * 3 orange, 4 reddish purple, 5 sky blue, 6 black, 7 yellow) of the
 * highlighted trials by rank, of faded trials, of single series (small
 * multiples, history, importance) and of the recommendation's star. */
static const int rank_colors[SR_CHARTS_COLOURED] = {0, 1, 2, 3, 4, 5};
#define FADED_COLOR 6
#define SOLO_COLOR 0
#define ACCENT_COLOR 6

/* TensorBoard series are reduced to about this many points (bucket means). */
#define TB_MAX_POINTS 400

/* ---------------------------------------------------------------------------
 * Metric names: order and exclusions
 * ------------------------------------------------------------------------- */

static const char *const seed_metrics[] = {"pixar_score",     "mean_brightness",  "std_brightness",
                                           "mean_contrast",   "std_contrast",     "lpips_diversity",
                                           "clip_consistency", "combined_score"};
static const char *const image_metrics[] = {"mean_saturation", "mean_sharpness", "mean_colorfulness",
                                            "mean_entropy", "sample_diversity"};
static const char *const weight_metrics[] = {"weight_delta_norm",        "weight_drift",
                                             "weight_effective_rank",    "weight_norm_unet_down",
                                             "weight_norm_unet_mid",     "weight_norm_unet_up",
                                             "weight_norm_text_encoder", "weight_norm_other",
                                             "weight_nonfinite"};
static const char *const bookkeeping[] = {"total_samples", "weight_modules", "weight_modules_unmeasured"};
/* The metrics a trial's small multiples show (besides the score). */
static const char *const key_weight_metrics[] = {"weight_delta_norm", "weight_drift", "weight_effective_rank"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static int index_in(const char *name, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(name, list[i]) == 0)
            return (int)i;
    return -1;
}

/* Sort key: group (0 seed, 1 image, 2 weight, 3 the rest) and place. */
static void metric_key(const char *name, int *group, int *place)
{
    int i;
    if ((i = index_in(name, seed_metrics, COUNT(seed_metrics))) >= 0) {
        *group = 0;
        *place = i;
    } else if ((i = index_in(name, image_metrics, COUNT(image_metrics))) >= 0) {
        *group = 1;
        *place = i;
    } else if ((i = index_in(name, weight_metrics, COUNT(weight_metrics))) >= 0) {
        *group = 2;
        *place = i;
    } else if (sr_str_has_prefix(name, "weight_")) {
        *group = 2;
        *place = (int)COUNT(weight_metrics);
    } else {
        *group = 3;
        *place = 0;
    }
}

int sr_metric_name_cmp(const void *pa, const void *pb)
{
    const char *a = *(const char *const *)pa, *b = *(const char *const *)pb;
    int ga, pa_, gb, pb_;
    metric_key(a, &ga, &pa_);
    metric_key(b, &gb, &pb_);
    if (ga != gb)
        return ga < gb ? -1 : 1;
    if (pa_ != pb_)
        return pa_ < pb_ ? -1 : 1;
    return strcmp(a, b);
}

static int is_key_metric(const char *name)
{
    return index_in(name, seed_metrics, COUNT(seed_metrics)) >= 0 ||
           index_in(name, image_metrics, COUNT(image_metrics)) >= 0 ||
           index_in(name, key_weight_metrics, COUNT(key_weight_metrics)) >= 0;
}

/* ---------------------------------------------------------------------------
 * The builder: the sweep, its analysis, the trial ranks and the charts so far
 * ------------------------------------------------------------------------- */

typedef struct {
    const sr_sweep *s;
    const sr_analysis *a;
    int *rank;              /* per trial: 0 .. SR_CHARTS_COLOURED-1 highlighted, -1 faded */
    int any_scored;
    int maximize;
    char *score_name;       /* "pixar_score" */
    char *score_label;      /* "pixar_score (lower is better)" */
    long best_trial, best_ckpt; /* the recommendation, -1 when none */
    char *best_text;        /* "best: trial_0004 e6" ("recommended: ..." with prefer-earlier) */
    char **metrics;         /* the metrics charted vs epoch, in chart order */
    size_t n_metrics;
    sr_named_chart *v;
    size_t n, cap;
} builder;

static double ckpt_score(const builder *b, size_t trial, size_t ck)
{
    const sr_analysis *a = b->a;
    if (!a || !a->trials || trial >= b->s->n_trials || !a->trials[trial].ckpts || ck >= b->s->trials[trial].n_ckpts)
        return NAN;
    return a->trials[trial].ckpts[ck].score;
}

static double trial_best(const builder *b, size_t trial)
{
    const sr_analysis *a = b->a;
    if (!a || !a->trials || trial >= b->s->n_trials)
        return NAN;
    return a->trials[trial].best_score;
}

static const char *trial_name(const builder *b, size_t trial)
{
    const char *n = b->s->trials[trial].name;
    return n ? n : "trial";
}

/* A trial's place in the ranking: the best score, negated when higher is
 * better, so that smaller keys rank first. */
typedef struct {
    double key;
    size_t trial;
} rank_key;

/* Better first; NaN last; ties by trial order. */
static int rank_key_cmp(const void *pa, const void *pb)
{
    const rank_key *x = pa, *y = pb;
    int fx = isfinite(x->key), fy = isfinite(y->key);
    if (fx != fy)
        return fx ? -1 : 1;
    if (fx && x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->trial < y->trial ? -1 : x->trial > y->trial;
}

static void builder_init(builder *b, const sr_sweep *s, const sr_analysis *a)
{
    memset(b, 0, sizeof *b);
    b->s = s;
    b->a = a;
    b->maximize = a ? a->maximize : 0;
    b->best_trial = b->best_ckpt = -1;
    size_t nt = s->n_trials;
    b->rank = xcalloc(nt ? nt : 1, sizeof *b->rank);
    rank_key *order = xcalloc(nt ? nt : 1, sizeof *order);
    size_t scored = 0;
    for (size_t i = 0; i < nt; i++) {
        double best = trial_best(b, i);
        order[i].key = b->maximize ? -best : best;
        order[i].trial = i;
        b->rank[i] = -1;
        if (isfinite(best))
            scored++;
        for (size_t k = 0; k < s->trials[i].n_ckpts && !b->any_scored; k++)
            if (isfinite(ckpt_score(b, i, k)))
                b->any_scored = 1;
    }
    int coloured = 0;
    if (scored > 0) {
        qsort(order, nt, sizeof *order, rank_key_cmp);
        for (size_t r = 0; r < scored && r < SR_CHARTS_TOP; r++)
            b->rank[order[r].trial] = coloured++;
    }
    if (nt <= SR_CHARTS_COLOURED) /* the rest too, in folder order */
        for (size_t i = 0; i < nt; i++)
            if (b->rank[i] < 0)
                b->rank[i] = coloured++;
    free(order);

    b->score_name = xstrdup(a && a->expression ? a->expression : "score");
    b->score_label = xasprintf("%s (%s is better)", b->score_name, b->maximize ? "higher" : "lower");
    if (a && a->has_best && a->best.trial < nt && a->best.ckpt < s->trials[a->best.trial].n_ckpts) {
        b->best_trial = (long)a->best.trial;
        b->best_ckpt = (long)a->best.ckpt;
        const sr_checkpoint *c = &s->trials[a->best.trial].ckpts[a->best.ckpt];
        /* with --prefer-earlier the star is the earlier pick, not the best */
        const char *what = a->prefer_earlier > 0 ? "recommended" : "best";
        if (c->epoch >= 0)
            b->best_text = xasprintf("%s: %s e%ld", what, trial_name(b, a->best.trial), c->epoch);
        else
            b->best_text = xasprintf("%s: %s", what, trial_name(b, a->best.trial));
    }
}

static void builder_free(builder *b)
{
    free(b->rank);
    free(b->score_name);
    free(b->score_label);
    free(b->best_text);
    for (size_t i = 0; i < b->n_metrics; i++)
        free(b->metrics[i]);
    free(b->metrics);
}

static size_t builder_finish(builder *b, sr_named_chart **out)
{
    size_t n = b->n;
    if (n == 0) {
        free(b->v);
        *out = NULL;
    } else {
        *out = b->v;
    }
    b->v = NULL;
    b->n = b->cap = 0;
    builder_free(b);
    return n;
}

/* File-name safe, short enough and unique. */
static char *make_id(const builder *b, const char *prefix, const char *name)
{
    char *base = name ? xasprintf("%s%s", prefix, name) : xstrdup(prefix);
    for (char *p = base; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
              ch == '-' || ch == '.'))
            *p = '_';
    }
    base = sr_short_file_name(base, SR_FILE_NAME_STEM_MAX); /* a long trial name */
    char *id = xstrdup(base);
    for (int k = 2;; k++) {
        int taken = 0;
        for (size_t i = 0; i < b->n && !taken; i++)
            taken = strcmp(b->v[i].id, id) == 0;
        if (!taken)
            break;
        free(id);
        id = xasprintf("%s-%d", base, k);
    }
    free(base);
    return id;
}

/* A new chart at the end of the list; the pointer holds until the next one. */
static sr_chart *new_chart(builder *b, sr_chart_kind kind, const char *prefix, const char *name, const char *title)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 16;
        b->v = xrealloc(b->v, b->cap * sizeof *b->v);
    }
    sr_named_chart *nc = &b->v[b->n];
    memset(nc, 0, sizeof *nc);
    nc->kind = kind;
    nc->id = make_id(b, prefix, name);
    b->n++;
    sr_chart_init(&nc->chart, title);
    return &nc->chart;
}

static void drop_last(builder *b)
{
    sr_named_chart *nc = &b->v[--b->n];
    free(nc->id);
    sr_chart_free(&nc->chart);
}

static void set_str(char **dst, const char *s)
{
    free(*dst);
    *dst = s ? xstrdup(s) : NULL;
}

/* Colour by rank; from the fourth rank on also dashed lines and square
 * markers, a second cue for readers who cannot tell the colours apart
 * (bluish green and reddish purple, blue and sky blue look alike to many).
 * The recommended trial's line is wider, on top of the others. */
static void style_trial(const builder *b, sr_series *se, size_t trial)
{
    int r = b->rank[trial];
    se->highlighted = r >= 0;
    se->color = r >= 0 ? rank_colors[r] : FADED_COLOR;
    se->emphasis = r >= 0 && b->best_trial == (long)trial; /* the recommended trial stands out */
    if (r >= 3) {
        se->dashed = se->kind == SR_SERIES_LINE;
        if (se->marker == SR_MARK_CIRCLE)
            se->marker = SR_MARK_SQUARE;
    }
}

/* A chart of many trials says what its grey lines are: trials outside the
 * best SR_CHARTS_TOP, which have no legend entry (some of the best may not
 * be in this chart at all). */
static void note_faded(const builder *b, sr_chart *c)
{
    size_t faded = 0, ranked = 0;
    for (size_t i = 0; i < c->n_series; i++)
        faded += !c->series[i].highlighted;
    for (size_t i = 0; i < b->s->n_trials; i++)
        ranked += b->rank[i] >= 0;
    if (faded == 0)
        return;
    /* fewer ranked trials than there are colours for: every trial with a
     * best score is in colour, the grey ones have none */
    char *note = ranked == 0 ? xstrdup("no trial has a best score yet: every trial in grey")
                 : ranked < SR_CHARTS_TOP
                     ? xasprintf("in grey: %zu trial%s without a best score", faded, faded == 1 ? "" : "s")
                     : xasprintf("in grey: %zu trial%s outside the best %d", faded, faded == 1 ? "" : "s",
                                 SR_CHARTS_TOP);
    char *sub = c->subtitle ? xasprintf("%s; %s", c->subtitle, note) : NULL;
    set_str(&c->subtitle, sub ? sub : note);
    free(sub);
    free(note);
}

/* ---------------------------------------------------------------------------
 * Points gathered before a series is made
 * ------------------------------------------------------------------------- */

typedef struct {
    double *x, *y;
    char **t;
    size_t n, cap;
} pts;

static void pts_add(pts *p, double x, double y, char *title)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 16;
        p->x = xrealloc(p->x, p->cap * sizeof *p->x);
        p->y = xrealloc(p->y, p->cap * sizeof *p->y);
        p->t = xrealloc(p->t, p->cap * sizeof *p->t);
    }
    p->x[p->n] = x;
    p->y[p->n] = y;
    p->t[p->n] = title;
    p->n++;
}

static void pts_free(pts *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->t[i]);
    free(p->x);
    free(p->y);
    free(p->t);
    memset(p, 0, sizeof *p);
}

/* Adds the points as a series (the titles move into it; p is left empty).
 * Returns the series, valid until the next one is added. */
static sr_series *emit(sr_chart *c, const char *name, sr_series_kind kind, sr_marker marker, pts *p)
{
    sr_series *se = sr_chart_add_series(c, name, kind, p->n);
    if (p->n) {
        memcpy(se->x, p->x, p->n * sizeof *p->x);
        memcpy(se->y, p->y, p->n * sizeof *p->y);
        if (se->point_titles) {
            for (size_t i = 0; i < p->n; i++) {
                free(se->point_titles[i]);
                se->point_titles[i] = p->t[i];
            }
        } else {
            se->point_titles = xcalloc(p->n, sizeof *se->point_titles);
            memcpy(se->point_titles, p->t, p->n * sizeof *p->t);
        }
        p->n = 0;
    }
    se->marker = marker;
    pts_free(p);
    return se;
}

/* ---------------------------------------------------------------------------
 * Values vs epoch: the score, a metric; all trials or one
 * ------------------------------------------------------------------------- */

/* name NULL: the score. */
static double value_at(const builder *b, size_t trial, size_t ck, const char *name)
{
    if (!name)
        return ckpt_score(b, trial, ck);
    double v;
    if (!sr_metrics_get(&b->s->trials[trial].ckpts[ck].metrics, name, &v))
        return NAN;
    return v;
}

/* Range of a value over every checkpoint of known epoch. */
static int value_range(const builder *b, const char *name, double *lo, double *hi)
{
    int any = 0;
    for (size_t i = 0; i < b->s->n_trials; i++) {
        const sr_trial *t = &b->s->trials[i];
        for (size_t k = 0; k < t->n_ckpts; k++) {
            double v = value_at(b, i, k, name);
            if (t->ckpts[k].epoch < 0 || !isfinite(v))
                continue;
            if (!any) {
                *lo = *hi = v;
                any = 1;
            }
            *lo = fmin(*lo, v);
            *hi = fmax(*hi, v);
        }
    }
    return any;
}

/* Range of the sweep's known epochs. */
static int epoch_range(const sr_sweep *s, double *lo, double *hi)
{
    int any = 0;
    for (size_t i = 0; i < s->n_trials; i++)
        for (size_t k = 0; k < s->trials[i].n_ckpts; k++) {
            double e = (double)s->trials[i].ckpts[k].epoch;
            if (e < 0)
                continue;
            *lo = any ? fmin(*lo, e) : e;
            *hi = any ? fmax(*hi, e) : e;
            any = 1;
        }
    return any;
}

static char *format_value(double v)
{
    return xasprintf("%.4g", v);
}

/* Builds one value-vs-epoch chart over trials [t0, t1); drops it when empty.
 * shared: the value axis too ranged over the whole sweep (small multiples). */
static void epoch_chart(builder *b, sr_chart_kind kind, const char *prefix, const char *id_name, const char *title,
                        const char *name, size_t t0, size_t t1, int shared)
{
    const sr_sweep *s = b->s;
    sr_chart *c = new_chart(b, kind, prefix, id_name, title);
    set_str(&c->x.label, "epoch");
    set_str(&c->y.label, name ? name : b->score_label);
    c->x.integer = 1;
    size_t n_series = 0;
    for (size_t i = t0; i < t1; i++) {
        const sr_trial *t = &s->trials[i];
        pts p = {0};
        for (size_t k = 0; k < t->n_ckpts; k++) {
            double v = value_at(b, i, k, name);
            if (t->ckpts[k].epoch < 0 || !isfinite(v))
                continue;
            char *val = format_value(v);
            pts_add(&p, (double)t->ckpts[k].epoch, v,
                    xasprintf("%s epoch %ld%s: %s", trial_name(b, i), t->ckpts[k].epoch,
                              t->ckpts[k].final ? " (final)" : "", val));
            free(val);
        }
        if (p.n == 0) {
            pts_free(&p);
            continue;
        }
        sr_series *se = emit(c, trial_name(b, i), SR_SERIES_LINE, SR_MARK_CIRCLE, &p);
        style_trial(b, se, i);
        if (t1 - t0 == 1) { /* a small multiple: one plain series */
            se->highlighted = 1;
            se->emphasis = 0;
            se->dashed = 0;
            se->marker = SR_MARK_CIRCLE;
            if (b->rank[i] < 0)
                se->color = SOLO_COLOR;
        }
        n_series++;
    }
    if (n_series == 0) {
        drop_last(b);
        return;
    }
    c->legend = t1 - t0 > 1;
    if (c->legend)
        note_faded(b, c);

    /* the recommendation */
    if (b->best_trial >= 0 && (size_t)b->best_trial >= t0 && (size_t)b->best_trial < t1) {
        const sr_checkpoint *ck = &s->trials[b->best_trial].ckpts[b->best_ckpt];
        double v = name ? value_at(b, (size_t)b->best_trial, (size_t)b->best_ckpt, name) : b->a->best_score;
        if (ck->epoch >= 0 && isfinite(v))
            sr_chart_add_note(c, (double)ck->epoch, v, b->best_text, SR_MARK_STAR, ACCENT_COLOR);
    }
    /* a trial's own best, in its small multiple, when it is not the recommendation */
    if (!name && t1 - t0 == 1 && b->a && b->a->trials) {
        long k = b->a->trials[t0].best;
        if (k >= 0 && (size_t)k < s->trials[t0].n_ckpts &&
            !(b->best_trial == (long)t0 && b->best_ckpt == k) && s->trials[t0].ckpts[k].epoch >= 0) {
            double v = ckpt_score(b, t0, (size_t)k);
            if (isfinite(v))
                sr_chart_add_note(c, (double)s->trials[t0].ckpts[k].epoch, v, "best of trial", SR_MARK_CIRCLE,
                                  ACCENT_COLOR);
        }
    }

    /* every epoch chart spans the sweep's epochs (a metric known only at the
     * final checkpoints still sits where training ended) */
    double lo = 0, hi = 0;
    if (epoch_range(s, &lo, &hi) && hi > lo) {
        c->x.has_range = 1;
        c->x.min = lo;
        c->x.max = hi;
    }
    if (shared && value_range(b, name, &lo, &hi) && hi > lo) {
        double pad = (hi - lo) * 0.05;
        c->y.has_range = 1;
        c->y.min = lo - pad;
        c->y.max = hi + pad;
    }
}

/* Every metric with a finite value in a checkpoint of known epoch: how many
 * checkpoints have one, whether it is the same value in all of them, and
 * whether some trial has it at two epochs at least (a line to draw). */
typedef struct {
    const char *name; /* borrowed from the sweep */
    size_t count;
    double value;     /* the first one */
    int varies;
    size_t trial;     /* the trial last counted in, and its first epoch there */
    long first_epoch;
    int curve;
} metric_census;

static size_t take_census(const sr_sweep *s, metric_census **out)
{
    metric_census *v = NULL;
    size_t n = 0, cap = 0;
    for (size_t i = 0; i < s->n_trials; i++) {
        const sr_trial *t = &s->trials[i];
        for (size_t k = 0; k < t->n_ckpts; k++) {
            const sr_checkpoint *c = &t->ckpts[k];
            if (c->epoch < 0)
                continue;
            for (size_t m = 0; m < c->metrics.n; m++) {
                const sr_metric *mt = &c->metrics.items[m];
                if (!isfinite(mt->value))
                    continue;
                size_t j = 0;
                while (j < n && strcmp(v[j].name, mt->name) != 0)
                    j++;
                if (j == n) {
                    if (n == cap) {
                        cap = cap ? cap * 2 : 32;
                        v = xrealloc(v, cap * sizeof *v);
                    }
                    v[n++] = (metric_census){mt->name, 0, mt->value, 0, i, c->epoch, 0};
                }
                v[j].count++;
                v[j].varies |= mt->value != v[j].value;
                if (v[j].trial != i) {
                    v[j].trial = i;
                    v[j].first_epoch = c->epoch;
                }
                v[j].curve |= c->epoch != v[j].first_epoch; /* two epochs of one trial: a line */
            }
        }
    }
    *out = v;
    return n;
}

/* A metric charted vs epoch would be one with values in two checkpoints at
 * least, other than the bookkeeping. */
static int chartable(const metric_census *m)
{
    return m->count >= 2 && index_in(m->name, bookkeeping, COUNT(bookkeeping)) < 0;
}

/* The metrics worth a chart, in chart order: a metric with the same value
 * everywhere draws a flat line, and one that no trial has at two epochs
 * draws lone points (lpips_diversity of final evaluations, say): both are
 * said in a sentence instead (sr_unvarying_metrics). */
static void collect_metrics(builder *b)
{
    metric_census *m = NULL;
    size_t n = take_census(b->s, &m);
    b->metrics = xcalloc(n ? n : 1, sizeof *b->metrics);
    for (size_t j = 0; j < n; j++) {
        if (!chartable(&m[j]) || !m[j].varies || !m[j].curve)
            continue;
        /* the score chart already shows it */
        if (b->any_scored && strcmp(m[j].name, b->score_name) == 0)
            continue;
        b->metrics[b->n_metrics++] = xstrdup(m[j].name);
    }
    qsort(b->metrics, b->n_metrics, sizeof *b->metrics, sr_metric_name_cmp);
    free(m);
}

static int unvarying_cmp(const void *pa, const void *pb)
{
    const sr_unvarying_metric *x = pa, *y = pb;
    return sr_metric_name_cmp(&x->name, &y->name);
}

size_t sr_unvarying_metrics(const sr_sweep *s, const sr_analysis *a, sr_unvarying_metric **out)
{
    metric_census *m = NULL;
    size_t n = take_census(s, &m), k = 0;
    sr_unvarying_metric *v = xcalloc(n ? n : 1, sizeof *v);
    /* the score chart shows the score whatever its values */
    const char *score = a && isfinite(a->score_min) ? a->expression : NULL;
    for (size_t j = 0; j < n; j++)
        if (chartable(&m[j]) && (!m[j].varies || !m[j].curve) && !(score && strcmp(m[j].name, score) == 0))
            v[k++] = (sr_unvarying_metric){xstrdup(m[j].name), m[j].value, m[j].count, m[j].varies};
    free(m);
    qsort(v, k, sizeof *v, unvarying_cmp);
    if (!k) {
        free(v);
        v = NULL;
    }
    *out = v;
    return k;
}

char *sr_unvarying_metrics_text(const sr_unvarying_metric *m, size_t n)
{
    if (!n)
        return NULL;
    sr_buf b;
    sr_buf_init(&b);
    size_t same = 0, lone = 0;
    for (size_t i = 0; i < n; i++) {
        if (m[i].one_per_trial)
            continue;
        sr_buf_printf(&b, "%s%s %.6g", same++ ? ", " : "Not charted, the same in every checkpoint that has it: ",
                      m[i].name, m[i].value);
    }
    if (same)
        sr_buf_printf(&b, ".");
    for (size_t i = 0; i < n; i++) {
        if (!m[i].one_per_trial)
            continue;
        if (!lone++)
            sr_buf_printf(&b, "%sNot charted by epoch, no trial has it at two epochs (the tables show it): ",
                          same ? " " : "");
        else
            sr_buf_puts(&b, ", ");
        sr_buf_puts(&b, m[i].name);
    }
    if (lone)
        sr_buf_printf(&b, ".");
    return b.s;
}

void sr_unvarying_metrics_free(sr_unvarying_metric *m, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(m[i].name);
    free(m);
}

/* ---------------------------------------------------------------------------
 * Optimization history
 * ------------------------------------------------------------------------- */

static const char *sweep_trial_of(const sr_sweep *s, int number)
{
    for (size_t i = 0; i < s->n_trials; i++)
        if (s->trials[i].optuna && s->trials[i].optuna->number == number)
            return s->trials[i].name;
    return NULL;
}

static void opt_history_chart(builder *b)
{
    const sr_study *st = b->s->study;
    if (!st || st->n_trials == 0)
        return;
    int maximize = st->direction && strcmp(st->direction, "MAXIMIZE") == 0;
    pts p = {0}, best = {0};
    double cur = NAN;
    for (size_t k = 0; k < st->n_trials; k++) {
        const sr_optuna_trial *ot = &st->trials[k];
        if (!ot->has_value || !isfinite(ot->value))
            continue;
        const char *tn = sweep_trial_of(b->s, ot->number);
        char *val = format_value(ot->value);
        char *title = tn ? xasprintf("%s (Optuna trial %d): %s", tn, ot->number, val)
                         : xasprintf("Optuna trial %d: %s", ot->number, val);
        pts_add(&p, ot->number, ot->value, title);
        double prev = cur;
        if (isnan(cur) || (maximize ? ot->value > cur : ot->value < cur))
            cur = ot->value;
        char *bv = format_value(cur);
        if (!isnan(prev) && prev != cur)
            pts_add(&best, ot->number, prev, xasprintf("best so far after trial %d: %s", ot->number, bv));
        pts_add(&best, ot->number, cur, xasprintf("best so far after trial %d: %s", ot->number, bv));
        free(bv);
        free(val);
    }
    if (p.n == 0) {
        pts_free(&p);
        pts_free(&best);
        return;
    }
    sr_chart *c = new_chart(b, SR_CHART_OPT_HISTORY, "optuna-history", NULL, "Optimization history");
    char *sub = xasprintf("Optuna study %s: objective per trial and the best so far (%s)", st->name ? st->name : "",
                          maximize ? "maximize" : "minimize");
    set_str(&c->subtitle, sub);
    free(sub);
    set_str(&c->x.label, "Optuna trial number");
    c->x.integer = 1;
    char *yl = xasprintf("objective value (%s is better)", maximize ? "higher" : "lower");
    set_str(&c->y.label, yl);
    free(yl);
    sr_series *se = emit(c, "objective value", SR_SERIES_POINTS, SR_MARK_CIRCLE, &p);
    se->highlighted = 1;
    se->color = SOLO_COLOR;
    se = emit(c, "best so far", SR_SERIES_LINE, SR_MARK_NONE, &best);
    se->highlighted = 1;
    se->color = ACCENT_COLOR;
    c->legend = 1;
}

/* ---------------------------------------------------------------------------
 * Parameters: slices, parallel coordinates
 * ------------------------------------------------------------------------- */

typedef struct {
    const char *name;
    int categorical;
    int log;
    double *v;          /* per trial: the value (category index when categorical); NAN when unknown */
    char **cats;
    size_t n_cats;
} param_data;

/* params.json wins (it is what the training used), then Optuna's params. */
static const cJSON *param_value(const sr_trial *t, const char *name)
{
    const cJSON *v = t->params ? cJSON_GetObjectItemCaseSensitive(t->params, name) : NULL;
    if (!v && t->optuna && t->optuna->params)
        v = cJSON_GetObjectItemCaseSensitive(t->optuna->params, name);
    if (!v || cJSON_IsNull(v))
        return NULL;
    return v;
}

/* A value's category text (the caller frees), or NULL. */
static char *category_text(const cJSON *v)
{
    if (cJSON_IsString(v))
        return xstrdup(v->valuestring);
    if (cJSON_IsTrue(v))
        return xstrdup("true");
    if (cJSON_IsFalse(v))
        return xstrdup("false");
    if (cJSON_IsNumber(v))
        return xasprintf("%g", v->valuedouble);
    return NULL;
}

static size_t category_index(param_data *pd, const char *text)
{
    for (size_t i = 0; i < pd->n_cats; i++)
        if (strcmp(pd->cats[i], text) == 0)
            return i;
    pd->cats = xrealloc(pd->cats, (pd->n_cats + 1) * sizeof *pd->cats);
    pd->cats[pd->n_cats] = xstrdup(text);
    return pd->n_cats++;
}

static void param_data_free(param_data *pd)
{
    free(pd->v);
    for (size_t i = 0; i < pd->n_cats; i++)
        free(pd->cats[i]);
    free(pd->cats);
}

/* The values of one analysed parameter over the scored trials.  Returns 1
 * when it has at least two distinct values there (something to show). */
static int param_fill(const builder *b, const sr_param_analysis *pa, param_data *pd)
{
    const sr_sweep *s = b->s;
    memset(pd, 0, sizeof *pd);
    pd->name = pa->name;
    pd->categorical = pa->categorical;
    pd->v = xcalloc(s->n_trials ? s->n_trials : 1, sizeof *pd->v);
    for (size_t i = 0; i < s->n_trials; i++) {
        pd->v[i] = NAN;
        const cJSON *v = isfinite(trial_best(b, i)) ? param_value(&s->trials[i], pa->name) : NULL;
        if (v && !cJSON_IsNumber(v))
            pd->categorical = 1;
    }
    if (pd->categorical)
        for (size_t j = 0; j < pa->n_values; j++)
            if (pa->values && pa->values[j])
                category_index(pd, pa->values[j]);
    int all_positive = 1;
    double first = NAN;
    int distinct = 0;
    for (size_t i = 0; i < s->n_trials; i++) {
        if (!isfinite(trial_best(b, i)))
            continue;
        const cJSON *v = param_value(&s->trials[i], pa->name);
        if (!v)
            continue;
        double x;
        if (pd->categorical) {
            char *text = category_text(v);
            if (!text)
                continue;
            x = (double)category_index(pd, text);
            free(text);
        } else {
            x = v->valuedouble;
            if (!isfinite(x))
                continue;
            if (x <= 0)
                all_positive = 0;
        }
        pd->v[i] = x;
        if (isnan(first))
            first = x;
        else if (x != first)
            distinct = 1;
    }
    pd->log = !pd->categorical && pa->log_scale && all_positive;
    return distinct;
}

static void slice_chart(builder *b, const param_data *pd)
{
    const sr_sweep *s = b->s;
    char *title = xasprintf("Slice: %s", pd->name);
    sr_chart *c = new_chart(b, SR_CHART_SLICE, "slice-", pd->name, title);
    free(title);
    char *xl = pd->log ? xasprintf("%s (log scale)", pd->name) : xstrdup(pd->name);
    set_str(&c->x.label, xl);
    free(xl);
    char *yl = xasprintf("best %s", b->score_label);
    set_str(&c->y.label, yl);
    free(yl);
    set_str(&c->subtitle, "each trial's best checkpoint against the parameter value");
    c->x.scale = pd->log ? SR_AXIS_LOG : SR_AXIS_LINEAR;
    if (pd->categorical) {
        c->x.categories = xcalloc(pd->n_cats ? pd->n_cats : 1, sizeof *c->x.categories);
        for (size_t j = 0; j < pd->n_cats; j++)
            c->x.categories[j] = xstrdup(pd->cats[j]);
        c->x.n_categories = pd->n_cats;
        c->x.has_range = 1;
        c->x.min = -0.5;
        c->x.max = (double)pd->n_cats - 0.5;
    } else if (!pd->log) {
        /* whole-numbered parameters (network_dim, batch size) tick at whole numbers */
        int whole = 1;
        for (size_t i = 0; i < s->n_trials && whole; i++)
            whole = isnan(pd->v[i]) || pd->v[i] == floor(pd->v[i]);
        c->x.integer = whole;
    }
    for (size_t i = 0; i < s->n_trials; i++) {
        double y = trial_best(b, i);
        if (isnan(pd->v[i]) || !isfinite(y))
            continue;
        pts p = {0};
        char *val = format_value(y);
        char *xv = pd->categorical ? xstrdup(pd->cats[(size_t)pd->v[i]]) : format_value(pd->v[i]);
        pts_add(&p, pd->v[i], y, xasprintf("%s %s=%s: %s", trial_name(b, i), pd->name, xv, val));
        free(xv);
        free(val);
        sr_series *se = emit(c, trial_name(b, i), SR_SERIES_POINTS, SR_MARK_CIRCLE, &p);
        style_trial(b, se, i);
    }
    c->legend = 1;
    if (b->best_trial >= 0) {
        double x = pd->v[b->best_trial], y = trial_best(b, (size_t)b->best_trial);
        if (!isnan(x) && isfinite(y))
            sr_chart_add_note(c, x, y, b->best_text, SR_MARK_STAR, ACCENT_COLOR);
    }
}

static void parallel_chart(builder *b, const param_data *pds, size_t np)
{
    const sr_sweep *s = b->s;
    size_t nd = np + 1, scored = 0;
    for (size_t i = 0; i < s->n_trials; i++)
        scored += isfinite(trial_best(b, i)) != 0;
    if (np == 0 || scored < 2)
        return;
    /* per axis: the range of the (log) values */
    double *lo = xcalloc(nd, sizeof *lo), *hi = xcalloc(nd, sizeof *hi);
    for (size_t d = 0; d < nd; d++) {
        lo[d] = INFINITY;
        hi[d] = -INFINITY;
        for (size_t i = 0; i < s->n_trials; i++) {
            double v = d < np ? pds[d].v[i] : trial_best(b, i);
            if (!isfinite(trial_best(b, i)) || isnan(v))
                continue;
            if (d < np && pds[d].log)
                v = log10(v);
            lo[d] = fmin(lo[d], v);
            hi[d] = fmax(hi[d], v);
        }
    }
    sr_chart *c = new_chart(b, SR_CHART_PARALLEL, "parallel", NULL, "Parallel coordinates");
    char *sub = xasprintf("one line per trial; each axis spans its values from bottom to top; %s %s is better",
                          b->maximize ? "higher" : "lower", b->score_name);
    set_str(&c->subtitle, sub);
    free(sub);
    c->parallel = 1;
    c->x.categories = xcalloc(nd, sizeof *c->x.categories);
    for (size_t d = 0; d < np; d++) /* a log-distributed parameter's axis is a log axis, and says so */
        c->x.categories[d] = pds[d].log ? xasprintf("%s (log)", pds[d].name) : xstrdup(pds[d].name);
    c->x.categories[np] = xasprintf("best %s", b->score_name);
    c->x.n_categories = nd;
    for (size_t d = 0; d < nd; d++) {
        char *elo, *ehi;
        if (d < np && pds[d].categorical) {
            elo = xstrdup(pds[d].n_cats ? pds[d].cats[0] : "");
            ehi = xstrdup(pds[d].n_cats ? pds[d].cats[pds[d].n_cats - 1] : "");
        } else if (!(hi[d] > lo[d])) {
            continue;
        } else if (d < np && pds[d].log) {
            elo = format_value(pow(10, lo[d]));
            ehi = format_value(pow(10, hi[d]));
        } else {
            elo = format_value(lo[d]);
            ehi = format_value(hi[d]);
        }
        sr_chart_parallel_ends(c, d, elo, ehi);
        free(elo);
        free(ehi);
    }
    c->x.has_range = 1;
    c->x.min = 0;
    c->x.max = (double)(nd - 1);
    c->y.has_range = 1;
    c->y.min = 0;
    c->y.max = 1;
    set_str(&c->y.label, "normalised value");
    /* faded lines first, so that the highlighted ones are drawn on top */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < s->n_trials; i++) {
            if (!isfinite(trial_best(b, i)) || (b->rank[i] >= 0) != (pass == 1))
                continue;
            pts p = {0};
            for (size_t d = 0; d < nd; d++) {
                double raw = d < np ? pds[d].v[i] : trial_best(b, i);
                double y = NAN;
                char *text;
                if (isnan(raw)) {
                    text = xasprintf("%s %s: unknown", trial_name(b, i), d < np ? pds[d].name : c->x.categories[d]);
                } else {
                    if (d < np && pds[d].categorical)
                        y = pds[d].n_cats > 1 ? raw / (double)(pds[d].n_cats - 1) : 0.5;
                    else {
                        double v = d < np && pds[d].log ? log10(raw) : raw;
                        y = hi[d] > lo[d] ? (v - lo[d]) / (hi[d] - lo[d]) : 0.5;
                    }
                    char *val = d < np && pds[d].categorical ? xstrdup(pds[d].cats[(size_t)raw]) : format_value(raw);
                    text = xasprintf("%s %s: %s", trial_name(b, i), d < np ? pds[d].name : c->x.categories[d], val);
                    free(val);
                }
                pts_add(&p, (double)d, y, text);
            }
            sr_series *se = emit(c, trial_name(b, i), SR_SERIES_LINE, SR_MARK_NONE, &p);
            style_trial(b, se, i);
        }
    }
    c->legend = 1;
    note_faded(b, c);
    free(lo);
    free(hi);
}

typedef struct {
    const char *name;
    double value;
} importance_item;

static int importance_cmp(const void *pa, const void *pb)
{
    const importance_item *a = pa, *b = pb;
    if (a->value != b->value)
        return a->value > b->value ? -1 : 1;
    return strcmp(a->name, b->name);
}

static void importance_chart(builder *b)
{
    const sr_analysis *a = b->a;
    if (!a || a->n_params == 0)
        return;
    int ped = 0;
    for (size_t p = 0; p < a->n_params; p++)
        if (isfinite(a->params[p].importance))
            ped = 1;
    importance_item *items = xcalloc(a->n_params, sizeof *items);
    size_t n = 0, constant = 0;
    for (size_t p = 0; p < a->n_params; p++) {
        /* a parameter the trials all share: a bar that says nothing */
        if (a->params[p].constant) {
            constant++;
            continue;
        }
        double v = ped ? a->params[p].importance : fabs(a->params[p].spearman);
        if (!isfinite(v))
            continue;
        items[n].name = a->params[p].name;
        items[n++].value = v;
    }
    if (n == 0) {
        free(items);
        return;
    }
    qsort(items, n, sizeof *items, importance_cmp);
    sr_chart *c = new_chart(b, SR_CHART_IMPORTANCE, "importance", NULL, "Parameter importance");
    char left_out[96] = "";
    if (constant)
        snprintf(left_out, sizeof left_out, "; %zu parameter%s the trials all share left out", constant,
                 constant == 1 ? "" : "s");
    char *sub = xasprintf("%s%s",
                          ped ? "PED-ANOVA, as Optuna computes it, on each trial's best score"
                              : "absolute Spearman correlation with each trial's best score",
                          left_out);
    set_str(&c->subtitle, sub);
    free(sub);
    set_str(&c->y.label, ped ? "importance (PED-ANOVA)" : "|Spearman correlation|");
    set_str(&c->x.label, "parameter");
    c->x.categories = xcalloc(n, sizeof *c->x.categories);
    c->x.n_categories = n;
    c->x.has_range = 1;
    c->x.min = -0.5;
    c->x.max = (double)n - 0.5;
    c->y.has_range = 1;
    c->y.min = 0;
    c->y.max = ped ? fmax(items[0].value, 1e-12) * 1.05 : 1;
    pts p = {0};
    for (size_t k = 0; k < n; k++) {
        c->x.categories[k] = xstrdup(items[k].name);
        char *val = format_value(items[k].value);
        pts_add(&p, (double)k, items[k].value, xasprintf("%s: %s", items[k].name, val));
        free(val);
    }
    sr_series *se = emit(c, ped ? "importance" : "|Spearman|", SR_SERIES_BARS, SR_MARK_NONE, &p);
    se->highlighted = 1;
    se->color = SOLO_COLOR;
    free(items);
}

/* ---------------------------------------------------------------------------
 * TensorBoard
 * ------------------------------------------------------------------------- */

/* kohya logs the per-epoch loss with the epoch as its step. */
static int tag_counts_epochs(const char *tag)
{
    return strcmp(tag, "loss/epoch_average") == 0 || strcmp(tag, "loss/epoch") == 0;
}

/* The first usable tag of the list on the epoch axis (a per-step tag needs
 * the trial's steps per epoch); NULL when none. */
static const sr_scalar_series *pick_tag(const sr_trial *t, const char *const *tags, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const sr_scalar_series *ss = sr_scalars_find(&t->scalars, tags[i]);
        if (ss && ss->n > 0 && (tag_counts_epochs(ss->tag) || t->steps_per_epoch > 0))
            return ss;
    }
    return NULL;
}

static const sr_scalar_series *pick_lr(const sr_trial *t)
{
    static const char *const pref[] = {"lr/unet", "lr/group0"};
    const sr_scalar_series *ss = pick_tag(t, pref, COUNT(pref));
    if (ss || !(t->steps_per_epoch > 0))
        return ss;
    for (size_t i = 0; i < t->scalars.n; i++)
        if (sr_str_has_prefix(t->scalars.items[i].tag, "lr/") && t->scalars.items[i].n > 0)
            return &t->scalars.items[i];
    return NULL;
}

static void tb_points(const builder *b, size_t trial, const sr_scalar_series *ss, pts *p)
{
    const sr_trial *t = &b->s->trials[trial];
    int by_epoch = tag_counts_epochs(ss->tag);
    size_t per = (ss->n + TB_MAX_POINTS - 1) / TB_MAX_POINTS;
    if (per < 1)
        per = 1;
    for (size_t k0 = 0; k0 < ss->n; k0 += per) {
        double sx = 0, sy = 0;
        size_t m = 0;
        for (size_t k = k0; k < ss->n && k < k0 + per; k++) {
            if (!isfinite(ss->values[k]))
                continue;
            sx += by_epoch ? (double)ss->steps[k] : (double)ss->steps[k] / t->steps_per_epoch;
            sy += ss->values[k];
            m++;
        }
        if (m == 0)
            continue;
        double x = sx / (double)m, y = sy / (double)m;
        char *val = format_value(y);
        pts_add(p, x, y, xasprintf("%s epoch %.2f: %s", trial_name(b, trial), x, val));
        free(val);
    }
}

/* lr: 0 loss, 1 learning rate */
static void tb_chart(builder *b, int lr)
{
    static const char *const loss_tags[] = {"loss/average", "loss/current", "loss/epoch_average", "loss/epoch"};
    const sr_sweep *s = b->s;
    sr_chart *c = NULL;
    char *used = NULL; /* the tags, for the subtitle */
    for (size_t i = 0; i < s->n_trials; i++) {
        const sr_trial *t = &s->trials[i];
        const sr_scalar_series *ss = lr ? pick_lr(t) : pick_tag(t, loss_tags, COUNT(loss_tags));
        if (!ss)
            continue;
        pts p = {0};
        tb_points(b, i, ss, &p);
        if (p.n == 0) {
            pts_free(&p);
            continue;
        }
        if (!c) {
            c = lr ? new_chart(b, SR_CHART_TB_LR, "tb-lr", NULL, "Learning rate")
                   : new_chart(b, SR_CHART_TB_LOSS, "tb-loss", NULL, "Training loss");
            set_str(&c->x.label, "epoch");
            set_str(&c->y.label, lr ? "learning rate" : "loss");
            c->x.integer = 1;
            c->legend = 1;
        }
        if (!used) {
            used = xstrdup(ss->tag);
        } else if (!strstr(used, ss->tag)) {
            char *u = xasprintf("%s, %s", used, ss->tag);
            free(used);
            used = u;
        }
        sr_series *se = emit(c, trial_name(b, i), SR_SERIES_LINE, SR_MARK_NONE, &p);
        style_trial(b, se, i);
    }
    if (c) {
        char *sub = xasprintf("TensorBoard %s", used);
        set_str(&c->subtitle, sub);
        free(sub);
        note_faded(b, c);
    }
    free(used);
}

/* ---------------------------------------------------------------------------
 * Entry points
 * ------------------------------------------------------------------------- */

static sr_chart_kind metric_kind(const char *name)
{
    if (strcmp(name, "weight_delta_norm") == 0)
        return SR_CHART_WEIGHT_NORM;
    if (strcmp(name, "weight_drift") == 0)
        return SR_CHART_WEIGHT_DRIFT;
    return SR_CHART_METRIC_VS_EPOCH;
}

static char *metric_title(const char *name)
{
    if (strcmp(name, "weight_delta_norm") == 0)
        return xstrdup("Weight delta norm by epoch");
    if (strcmp(name, "weight_drift") == 0)
        return xstrdup("Weight drift from the previous checkpoint");
    return xasprintf("%s by epoch", name);
}

size_t sr_build_sweep_charts(const sr_sweep *s, const sr_analysis *a, sr_named_chart **out)
{
    builder b;
    builder_init(&b, s, a);
    collect_metrics(&b);
    size_t nt = s->n_trials;

    if (b.any_scored) {
        epoch_chart(&b, SR_CHART_SCORE_VS_EPOCH, "score", NULL, "Score by epoch", NULL, 0, nt, 0);
        if (b.n > 0 && b.v[b.n - 1].kind == SR_CHART_SCORE_VS_EPOCH && b.best_trial >= 0) {
            sr_chart *c = &b.v[b.n - 1].chart;
            const sr_checkpoint *ck = &s->trials[b.best_trial].ckpts[b.best_ckpt];
            char *val = format_value(a->best_score);
            char *sub = ck->epoch >= 0 ? xasprintf("recommended: %s epoch %ld (%s %s)", trial_name(&b, (size_t)b.best_trial),
                                                   ck->epoch, b.score_name, val)
                                       : xasprintf("recommended: %s %s (%s %s)", trial_name(&b, (size_t)b.best_trial),
                                                   ck->file ? ck->file : "", b.score_name, val);
            set_str(&c->subtitle, sub);
            free(sub);
            free(val);
            note_faded(&b, c);
        }
    }
    for (size_t m = 0; m < b.n_metrics; m++) {
        char *title = metric_title(b.metrics[m]);
        epoch_chart(&b, metric_kind(b.metrics[m]), "metric-", b.metrics[m], title, b.metrics[m], 0, nt, 0);
        free(title);
    }
    opt_history_chart(&b);

    if (a && a->params && b.any_scored) {
        param_data *pds = xcalloc(a->n_params ? a->n_params : 1, sizeof *pds);
        size_t np = 0;
        for (size_t p = 0; p < a->n_params; p++) {
            if (!a->params[p].name)
                continue;
            if (param_fill(&b, &a->params[p], &pds[np]))
                np++;
            else
                param_data_free(&pds[np]);
        }
        for (size_t p = 0; p < np; p++)
            slice_chart(&b, &pds[p]);
        parallel_chart(&b, pds, np);
        for (size_t p = 0; p < np; p++)
            param_data_free(&pds[p]);
        free(pds);
    }
    importance_chart(&b);
    tb_chart(&b, 0);
    tb_chart(&b, 1);
    return builder_finish(&b, out);
}

size_t sr_build_trial_charts(const sr_sweep *s, const sr_analysis *a, size_t trial, sr_named_chart **out)
{
    builder b;
    builder_init(&b, s, a);
    if (trial >= s->n_trials)
        return builder_finish(&b, out);
    collect_metrics(&b);
    const char *tn = trial_name(&b, trial);
    char *prefix = xasprintf("trial-%s-", tn);
    if (b.any_scored) {
        char *title = xasprintf("%s: score", tn);
        epoch_chart(&b, SR_CHART_TRIAL_SMALL_MULTIPLE, prefix, "score", title, NULL, trial, trial + 1, 1);
        free(title);
    }
    for (size_t m = 0; m < b.n_metrics; m++) {
        if (!is_key_metric(b.metrics[m]))
            continue;
        char *title = xasprintf("%s: %s", tn, b.metrics[m]);
        epoch_chart(&b, SR_CHART_TRIAL_SMALL_MULTIPLE, prefix, b.metrics[m], title, b.metrics[m], trial, trial + 1,
                    1);
        free(title);
    }
    free(prefix);
    return builder_finish(&b, out);
}

void sr_named_charts_free(sr_named_chart *c, size_t n)
{
    if (!c)
        return;
    for (size_t i = 0; i < n; i++) {
        free(c[i].id);
        sr_chart_free(&c[i].chart);
    }
    free(c);
}
