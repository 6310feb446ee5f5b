/* charts.h - the charts of a sweep report, as plain sr_chart descriptions.
 *
 * Builders only: they read the sweep model and its analysis and fill charts
 * (chart.h); the backends draw them.  Nothing here draws or writes files.
 *
 * Common rules:
 *  - One series per trial, named after the trial; the five trials with the
 *    best scores (by their best checkpoint, direction-aware) are highlighted
 *    with palette colours 0..4 by rank (the same colour for a trial in every
 *    chart), the others faded and counted in the subtitle.  A sweep of at
 *    most six trials has all of them highlighted, those without a score
 *    after the ranked ones.  From the fourth rank on, lines are dashed and
 *    markers square as well (a cue besides colour).  The recommended
 *    trial's series is emphasised (a wider line, on top).
 *  - Hover titles per point, e.g. "trial_0003 epoch 6: 0.0812".
 *  - The recommended checkpoint is marked with a star note ("best:
 *    trial_0004 e6") wherever it has a value.
 *  - A chart with nothing to show is not built. */
#ifndef SR_CHARTS_H
#define SR_CHARTS_H

#include "analysis.h"
#include "chart.h"
#include "sweep.h"

#include <stddef.h>

typedef enum {
    SR_CHART_METRIC_VS_EPOCH,      /* "metric-NAME" */
    SR_CHART_SCORE_VS_EPOCH,       /* "score" */
    SR_CHART_TRIAL_SMALL_MULTIPLE, /* "trial-TRIAL-score", "trial-TRIAL-NAME" */
    SR_CHART_OPT_HISTORY,          /* "optuna-history" */
    SR_CHART_SLICE,                /* "slice-PARAM" */
    SR_CHART_PARALLEL,             /* "parallel" */
    SR_CHART_IMPORTANCE,           /* "importance" */
    SR_CHART_TB_LOSS,              /* "tb-loss" */
    SR_CHART_TB_LR,                /* "tb-lr" */
    SR_CHART_WEIGHT_NORM,          /* "metric-weight_delta_norm" */
    SR_CHART_WEIGHT_DRIFT          /* "metric-weight_drift" */
} sr_chart_kind;

typedef struct {
    sr_chart_kind kind;
    char *id;        /* file-name safe ([A-Za-z0-9_.-]) and unique within one call */
    sr_chart chart;
} sr_named_chart;

/* How many trials are highlighted, by rank; a sweep of at most
 * SR_CHARTS_COLOURED trials has every trial in a colour of its own (those
 * without a score after the ranked ones). */
#define SR_CHARTS_TOP 5
#define SR_CHARTS_COLOURED 6

/* Sizes the report draws charts at, in pixels (SVG user units): the
 * sweep's charts, and a trial's small multiples. */
#define SR_CHART_WIDTH 800
#define SR_CHART_HEIGHT 480
#define SR_SMALL_CHART_WIDTH 480
#define SR_SMALL_CHART_HEIGHT 300

/* Every chart of the sweep report, in this order:
 *   score           score vs epoch for all trials (when anything is scored)
 *   metric-NAME     each numeric metric with a finite value in at least two
 *                   checkpoints of known epoch, not the same value in all of
 *                   them, and at two epochs of one trial at least
 *                   (sr_unvarying_metrics), vs epoch for all trials;
 *                   seed metrics first, then image metrics, weight metrics
 *                   (weight_delta_norm and weight_drift with the kinds
 *                   SR_CHART_WEIGHT_NORM / SR_CHART_WEIGHT_DRIFT), then the
 *                   rest alphabetically.  Bookkeeping (total_samples,
 *                   weight_modules, weight_modules_unmeasured) and the metric
 *                   that is the score expression itself are left out.
 *   optuna-history  Optuna objective per trial number (trials with a finite
 *                   value) and the best-so-far step line (study direction)
 *   slice-PARAM     per analysed parameter with at least two distinct values
 *                   among scored trials: value vs the trial's best score (log
 *                   x axis for log distributions, categories for strings)
 *   parallel        those parameters and the best score, each normalised to
 *                   [0, 1], a line per scored trial
 *   importance      PED-ANOVA importance when any is known, else |Spearman|;
 *                   parameters every trial shares left out and counted
 *   tb-loss         TensorBoard loss (loss/average, else loss/current, else
 *                   loss/epoch_average) on the epoch axis
 *   tb-lr           TensorBoard learning rate (lr/unet, else the first lr/ tag)
 * a may be NULL (nothing scored).  Returns the number of charts; *out is
 * NULL when there are none.  Free with sr_named_charts_free. */
size_t sr_build_sweep_charts(const sr_sweep *s, const sr_analysis *a, sr_named_chart **out);

/* A metric left out of the sweep's charts because every checkpoint of known
 * epoch that has a finite value of it has the same one (weight_nonfinite 0
 * everywhere, say: a flat line), or because no trial has it at two epochs
 * (lpips_diversity of the final evaluations, say: lone points); the
 * reports say so in words. */
typedef struct {
    char *name;
    double value;       /* the value, when it is the same everywhere */
    size_t count;       /* the checkpoints that have it */
    int one_per_trial;  /* it differs, but no trial has it twice */
} sr_unvarying_metric;

/* Those metrics (at least two checkpoints, bookkeeping and the score of a
 * (may be NULL) aside), in chart order.  Returns their number; *out is NULL
 * when there are none.  Free with sr_unvarying_metrics_free. */
size_t sr_unvarying_metrics(const sr_sweep *s, const sr_analysis *a, sr_unvarying_metric **out);
void sr_unvarying_metrics_free(sr_unvarying_metric *m, size_t n);
/* The sentence the reports show for them ("Not charted, the same in every
 * checkpoint that has it: weight_nonfinite 0."), malloc'd; NULL when n is
 * 0. */
char *sr_unvarying_metrics_text(const sr_unvarying_metric *m, size_t n);

/* The order metric names are shown in, for qsort over char *: the seed's
 * (pixar_score, brightness, contrast ...), the image metrics, the weight
 * metrics, then the rest by name. */
int sr_metric_name_cmp(const void *pa, const void *pb);

/* Small multiples of one trial (index into s->trials): its score and each key
 * metric (seed, image and the main weight metrics) vs epoch, one small chart
 * each, axes shared across trials so that trials compare at a glance. */
size_t sr_build_trial_charts(const sr_sweep *s, const sr_analysis *a, size_t trial, sr_named_chart **out);

void sr_named_charts_free(sr_named_chart *c, size_t n);

#endif
