/* analysis.h - scores, the best-checkpoint recommendation and what the
 * hyperparameters did.  Reads the sweep model (with its measurements) and
 * produces plain numbers for the renderers; nothing here writes files. */
#ifndef SR_ANALYSIS_H
#define SR_ANALYSIS_H

#include "sweep.h"

#include <cjson/cJSON.h>
#include <stddef.h>

/* Complete trials PED-ANOVA needs before it says anything. */
#define SR_ANALYSIS_PED_MIN_TRIALS 10

typedef struct {
    /* NULL: the seed's pixar_score (computed from mean/std brightness and
     * contrast where eval wrote those but not pixar_score itself) */
    const char *expression;
    int maximize;            /* 0: lower is better (the default) */
    double prefer_earlier;   /* percent: the earliest checkpoint within this much of the best wins */
    /* metric names the expression may use besides those the sweep has (the
     * ones measurement gives, whether or not it has run yet); NULL: none */
    const sr_metrics *known;
} sr_analysis_opts;

typedef struct {
    size_t trial;            /* index into sweep->trials */
    size_t ckpt;             /* index into trial->ckpts */
} sr_ckpt_ref;

typedef struct {
    double score;            /* NAN when the checkpoint has no score */
} sr_ckpt_analysis;

typedef struct {
    sr_ckpt_analysis *ckpts; /* one per checkpoint of the trial */
    long best;               /* index of the trial's best checkpoint, -1 when none is scored
                              * (one with non-finite weights is never a best) */
    int overfit;             /* the final checkpoint is worse than the best by > 10 % of the sweep's score range */
    int overfit_known;       /* overfit is judged: there is a scored final checkpoint and a best */
    double best_score;       /* NAN when none */
    double final_score;      /* NAN when there is no scored final checkpoint */
} sr_trial_analysis;

typedef struct {
    char *name;
    double spearman;         /* with each trial's best score; NAN when undefined */
    double importance;       /* PED-ANOVA (Optuna's algorithm, see analysis.c), NAN with fewer than 10
                              * complete trials or when some of them lack the parameter; sums to 1 */
    int categorical;         /* string or bool values */
    int constant;            /* every trial with a value has the same one: it tells nothing */
    int log_scale;           /* Optuna's distribution says log=true */
    /* per value, for categorical parameters (and numeric ones with an Optuna
     * categorical distribution), values in natural order */
    size_t n_values;
    char **values;
    double *mean, *median, *best;
    size_t *count;
    cJSON **value_items;     /* each value as it appears in the params (owned) */
    size_t n_trials;         /* scored trials that have a value for it */
} sr_param_analysis;

typedef struct {
    char *expression;        /* as used (the default spelled out) */
    int maximize;
    double prefer_earlier;   /* the tolerance in percent as asked, 0 when none */
    size_t n_score_nonfinite; /* valid checkpoints with every metric the score reads whose score is
                               * not finite (log of a negative, a division by 0) */
    sr_trial_analysis *trials;   /* one per sweep trial */
    size_t n_trials;
    int has_best;
    sr_ckpt_ref best;        /* the recommendation */
    double best_score;
    char *reason;            /* plain language; NULL when there is no recommendation */
    sr_ckpt_ref runners_up[5];
    size_t n_runners_up;
    double score_min, score_max; /* over scored checkpoints */
    sr_param_analysis *params;   /* most important first */
    size_t n_params;
    size_t n_complete;       /* complete trials with a best score: PED-ANOVA's trials */
    long optuna_best;        /* the folder (index into sweep->trials) of Optuna's best trial, -1 */
    int optuna_best_number;  /* Optuna's best trial number, -1 when there is none */
} sr_analysis;

/* Returns 0, or -1 with a reason (e.g. an unknown metric in the expression,
 * listing the available metrics: a usage error for the CLI). */
int sr_analyze(const sr_sweep *s, const sr_analysis_opts *o, sr_analysis *out, char *err, size_t errlen);
void sr_analysis_free(sr_analysis *a);

/* The leaderboard's order: trial indexes by best score, the best first;
 * trials without a score follow in their order.  order holds s->n_trials
 * entries. */
void sr_analysis_trial_order(const sr_sweep *s, const sr_analysis *a, size_t *order);

/* Whether expression compiles against the metrics of the sweep's
 * checkpoints and the names in more (e.g. those a measurement will add).
 * Returns 0, or -1 with "score expression: ..." in err. */
int sr_score_check(const char *expression, const sr_sweep *s, const sr_metrics *more, char *err, size_t errlen);

/* summary.json: the scan document plus score per checkpoint, best_checkpoint
 * and overfit per trial, score {expression, direction}, best, runners_up,
 * pending [{trial, checkpoint, path, epoch, reason}], importance and
 * generated_at (ISO time given by the caller, so tests can fix it). */
cJSON *sr_summary_json(const sr_sweep *s, const sr_analysis *a, const char *generated_at);

#endif
