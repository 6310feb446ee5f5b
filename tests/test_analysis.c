/* test_analysis.c - score expressions, the recommendation, hyperparameter
 * importance and summary.json, over sweeps built in memory. */
#include "config.h"

#include "analysis.h"
#include "check_main.h"
#include "json.h"
#include "score_expr.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------
 * Building sweeps by hand
 * ------------------------------------------------------------------------- */

static sr_sweep *new_sweep(size_t n_trials)
{
    sr_sweep *s = xcalloc(1, sizeof *s);
    s->path = xstrdup("/sweeps/demo");
    s->trials = xcalloc(n_trials ? n_trials : 1, sizeof *s->trials);
    s->n_trials = n_trials;
    for (size_t i = 0; i < n_trials; i++) {
        s->trials[i].name = xasprintf("trial_%04zu", i + 1);
        s->trials[i].path = xasprintf("/sweeps/demo/trial_%04zu", i + 1);
    }
    return s;
}

static void free_sweep(sr_sweep *s)
{
    sr_sweep_free(s);
    free(s);
}

/* A checkpoint at epoch (final: the trial's last model); returns its index. */
static size_t add_ckpt(sr_sweep *s, size_t trial, long epoch, int final)
{
    sr_trial *t = &s->trials[trial];
    t->ckpts = xrealloc(t->ckpts, (t->n_ckpts + 1) * sizeof *t->ckpts);
    sr_checkpoint *c = &t->ckpts[t->n_ckpts];
    memset(c, 0, sizeof *c);
    if (final)
        c->file = xasprintf("lora_trial_%zu.safetensors", trial + 1);
    else
        c->file = xasprintf("lora_trial_%zu-%06ld.safetensors", trial + 1, epoch);
    c->path = xasprintf("%s/%s", t->path, c->file);
    c->rel_path = xasprintf("%s/%s", t->name, c->file);
    c->final = final;
    c->epoch = epoch;
    c->step = -1;
    c->status = SR_CKPT_OK;
    c->format = "lora";
    c->name.kind = final ? SR_CKPT_FINAL : SR_CKPT_EPOCH;
    return t->n_ckpts++;
}

static void set_metric(sr_sweep *s, size_t trial, size_t ckpt, const char *name, double v)
{
    sr_metrics_set(&s->trials[trial].ckpts[ckpt].metrics, name, v);
}

/* A checkpoint scored directly by pixar_score. */
static size_t add_scored(sr_sweep *s, size_t trial, long epoch, int final, double score)
{
    size_t j = add_ckpt(s, trial, epoch, final);
    set_metric(s, trial, j, "pixar_score", score);
    return j;
}

static void add_study(sr_sweep *s, size_t n, const char *direction)
{
    s->study = xcalloc(1, sizeof *s->study);
    s->study->name = xstrdup("lora_sweep");
    s->study->direction = xstrdup(direction);
    s->study->source = xstrdup("/sweeps/demo/optuna.db");
    s->study->trials = xcalloc(n, sizeof *s->study->trials);
    s->study->n_trials = n;
    for (size_t i = 0; i < n; i++) {
        sr_optuna_trial *t = &s->study->trials[i];
        t->trial_id = (int64_t)i + 1;
        t->number = (int)i;
        t->state = "COMPLETE";
        t->value = NAN;
        t->params = cJSON_CreateObject();
        t->distributions = cJSON_CreateObject();
        t->user_attrs = cJSON_CreateObject();
    }
}

static void set_optuna_value(sr_sweep *s, size_t number, double v)
{
    s->study->trials[number].has_value = 1;
    s->study->trials[number].value = v;
}

static cJSON *parse(const char *text)
{
    char err[256];
    cJSON *j = sr_json_parse(text, strlen(text), err, sizeof err);
    ck_assert_msg(j != NULL, "%s: %s", text, err);
    return j;
}

static void analyze_ok(const sr_sweep *s, const sr_analysis_opts *o, sr_analysis *a)
{
    char err[1024];
    int rc = sr_analyze(s, o, a, err, sizeof err);
    ck_assert_msg(rc == 0, "sr_analyze: %s", err);
}

static int ref_is(sr_ckpt_ref r, size_t trial, size_t ckpt)
{
    return r.trial == trial && r.ckpt == ckpt;
}

/* ---------------------------------------------------------------------------
 * Score expressions
 * ------------------------------------------------------------------------- */

static double eval_text(const char *text, const sr_metrics *m)
{
    char err[512];
    sr_score_expr *e = sr_score_compile(text, NULL, 0, err, sizeof err);
    ck_assert_msg(e != NULL, "compile '%s': %s", text, err);
    double v = sr_score_eval(e, m);
    sr_score_free(e);
    return v;
}

START_TEST(test_expr_evaluates)
{
    sr_metrics m = {0};
    sr_metrics_set(&m, "a", 2);
    sr_metrics_set(&m, "b", 3);
    sr_metrics_set(&m, "c", 4);
    sr_metrics_set(&m, "lpips.v2", 0.25);
    static const struct {
        const char *text;
        double want;
    } cases[] = {
        {"a + b * c", 14},
        {"(a + b) * c", 20},
        {"a - b - c", -5},
        {"c / a / a", 1},
        {"a * b / c", 1.5},
        {"-a * b", -6},
        {"- -a", 2},
        {"a - -b", 5},
        {"2 * -a + +b", -1},
        {"-(a + b)", -5},
        {"abs(a - b)", 1},
        {"min(a, b, c)", 2},
        {"max(a, b)", 3},
        {"max(c, b, a) - min(b, c)", 1},
        {"sqrt(c)", 2},
        {"log(1)", 0},
        {"1e-3 * 1000", 1},
        {"2.5E+1 - .5", 24.5},
        {"((((a))))", 2},
        {"max(min(a, b), c) * (1 + (2 - (3)))", 0},
        {"lpips.v2 * 4", 1},
        {"\"a\" + 1", 3},
        {"  a\t+\nb  ", 5},
        {"abs(mean_brightness - 0.5)", NAN}, /* missing metric */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double v = eval_text(cases[i].text, &m);
        if (isnan(cases[i].want))
            ck_assert_msg(isnan(v), "'%s' gave %g, wanted no score", cases[i].text, v);
        else
            ck_assert_msg(fabs(v - cases[i].want) < 1e-12, "'%s' gave %.17g, wanted %g", cases[i].text, v,
                          cases[i].want);
    }
    sr_metrics_free(&m);
}
END_TEST

START_TEST(test_expr_not_finite)
{
    sr_metrics m = {0};
    sr_metrics_set(&m, "a", 2);
    sr_metrics_set(&m, "zero", 0);
    sr_metrics_set(&m, "big", 1e308);
    static const char *const texts[] = {"a / zero", "a / (a - a)", "log(zero)", "sqrt(-a)", "big * big",
                                        "log(-1)", "max(a, a / zero)", "nothere + 1"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        ck_assert_msg(isnan(eval_text(texts[i], &m)), "'%s' should have no score", texts[i]);
    /* a NaN stored as a metric is no score either */
    sr_metrics_set(&m, "nan", NAN);
    ck_assert(isnan(eval_text("nan + 1", &m)));
    ck_assert(isnan(eval_text("min(nan, 1)", &m)));
    sr_metrics_free(&m);
}
END_TEST

START_TEST(test_expr_malformed)
{
    static const struct {
        const char *text;
        const char *want1, *want2;
    } cases[] = {
        {"a +", "expected a number, a metric name or '('", "column 4"},
        {"(a", "expected ')' at column 3", "not closed"},
        {"a b", "expected an operator (+ - * /) at column 3, found 'b'", ""},
        {"1..2", "malformed number '1..2'", "column 1"},
        {"a * 1e", "malformed number '1e'", "column 5"},
        {"0x10", "malformed number", "column 1"},
        {"max(a)", "max at column 1 needs at least 2 arguments, got 1", ""},
        {"abs(a, b)", "abs at column 1 needs exactly 1 argument, got 2", ""},
        {"min()", "min at column 1 needs at least 2 arguments", ""},
        {"1 + foo(a)", "unknown function 'foo' at column 5", "known: abs"},
        {"", "empty expression", ""},
        {"   ", "empty expression", ""},
        {"a )", "unmatched ')'", "column 3"},
        {"a # b", "found '#'", "column 3"},
        {"max(a b)", "expected ',' or ')'", "column 7"},
        {"\"a", "unterminated quoted name", "column 1"},
        {"* a", "expected a number", "column 1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[512] = "";
        sr_score_expr *e = sr_score_compile(cases[i].text, NULL, 0, err, sizeof err);
        ck_assert_msg(e == NULL, "'%s' compiled", cases[i].text);
        ck_assert_msg(strstr(err, cases[i].want1) && strstr(err, cases[i].want2), "'%s': message '%s'",
                      cases[i].text, err);
    }
}
END_TEST

START_TEST(test_expr_depth_limit)
{
    /* a parenthesis bomb stops at the limit instead of exhausting the stack */
    size_t n = 100000;
    char *text = xmalloc(2 * n + 2);
    memset(text, '(', n);
    text[n] = 'a';
    memset(text + n + 1, ')', n);
    text[2 * n + 1] = '\0';
    char err[512];
    ck_assert_ptr_null(sr_score_compile(text, NULL, 0, err, sizeof err));
    ck_assert_msg(strstr(err, "nesting deeper than 64") != NULL, "%s", err);
    /* so do unary minus chains and nested calls */
    memset(text, '-', n);
    text[n] = 'a';
    text[n + 1] = '\0';
    ck_assert_ptr_null(sr_score_compile(text, NULL, 0, err, sizeof err));
    ck_assert_msg(strstr(err, "nesting deeper") != NULL, "%s", err);
    sr_buf b;
    sr_buf_init(&b);
    for (int i = 0; i < 200; i++)
        sr_buf_puts(&b, "abs(");
    sr_buf_puts(&b, "a");
    for (int i = 0; i < 200; i++)
        sr_buf_puts(&b, ")");
    ck_assert_ptr_null(sr_score_compile(b.s, NULL, 0, err, sizeof err));
    ck_assert_msg(strstr(err, "nesting deeper") != NULL, "%s", err);
    sr_buf_free(&b);
    /* within the limit is fine */
    sr_buf_init(&b);
    for (int i = 0; i < 60; i++)
        sr_buf_puts(&b, "(");
    sr_buf_puts(&b, "a");
    for (int i = 0; i < 60; i++)
        sr_buf_puts(&b, ")");
    sr_score_expr *e = sr_score_compile(b.s, NULL, 0, err, sizeof err);
    ck_assert_msg(e != NULL, "%s", err);
    sr_score_free(e);
    sr_buf_free(&b);
    free(text);
}
END_TEST

START_TEST(test_expr_unknown_metric)
{
    static const char *const names[] = {"lpips_diversity", "mean_brightness", "pixar_score"};
    char err[512];
    ck_assert_ptr_null(sr_score_compile("pixar_score + clip_score", names, 3, err, sizeof err));
    ck_assert_msg(strstr(err, "unknown metric 'clip_score' at column 15") != NULL, "%s", err);
    ck_assert_msg(strstr(err, "available metrics: lpips_diversity, mean_brightness, pixar_score") != NULL, "%s",
                  err);
    ck_assert_ptr_null(sr_score_compile("x", names, 0, err, sizeof err));
    ck_assert_msg(strstr(err, "unknown metric 'x'") && strstr(err, "no checkpoint has metrics"), "%s", err);
    /* known names compile; the metrics read are listed once each */
    sr_score_expr *e = sr_score_compile("0.4*pixar_score + 0.3*abs(lpips_diversity - 0.4) + pixar_score", names, 3,
                                        err, sizeof err);
    ck_assert_msg(e != NULL, "%s", err);
    ck_assert_uint_eq(sr_score_n_metrics(e), 2);
    ck_assert_str_eq(sr_score_metric(e, 0), "pixar_score");
    ck_assert_str_eq(sr_score_metric(e, 1), "lpips_diversity");
    ck_assert_ptr_null(sr_score_metric(e, 2));
    sr_score_free(e);
    /* a function name is not mistaken for a metric, nor the reverse */
    ck_assert_ptr_null(sr_score_compile("abs + 1", names, 3, err, sizeof err));
    ck_assert_msg(strstr(err, "unknown metric 'abs'") != NULL, "%s", err);
}
END_TEST

START_TEST(test_analyze_unknown_metric)
{
    sr_sweep *s = new_sweep(1);
    size_t j = add_scored(s, 0, 1, 1, 0.2);
    set_metric(s, 0, j, "lpips_diversity", 0.3);
    sr_analysis_opts o = {.expression = "clip_consistency * 2"};
    sr_analysis a;
    char err[512];
    ck_assert_int_eq(sr_analyze(s, &o, &a, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "clip_consistency") && strstr(err, "lpips_diversity, pixar_score"), "%s", err);
    sr_analysis_free(&a);
    free_sweep(s);
}
END_TEST

/* ---------------------------------------------------------------------------
 * Scores and the recommendation
 * ------------------------------------------------------------------------- */

START_TEST(test_default_score)
{
    sr_sweep *s = new_sweep(1);
    size_t j0 = add_scored(s, 0, 1, 0, 0.3);                /* pixar_score as eval wrote it */
    set_metric(s, 0, j0, "mean_brightness", 0.9);           /* ignored: pixar_score is there */
    size_t j1 = add_ckpt(s, 0, 2, 0);                       /* only the parts */
    set_metric(s, 0, j1, "mean_brightness", 0.62);
    set_metric(s, 0, j1, "std_brightness", 0.04);
    set_metric(s, 0, j1, "mean_contrast", 0.15);
    set_metric(s, 0, j1, "std_contrast", 0.02);
    size_t j2 = add_ckpt(s, 0, 3, 1);                       /* a part missing: no score */
    set_metric(s, 0, j2, "mean_brightness", 0.5);
    sr_analysis a;
    analyze_ok(s, NULL, &a);
    ck_assert_str_eq(a.expression, "pixar_score");
    ck_assert_double_eq_tol(a.trials[0].ckpts[j0].score, 0.3, 1e-15);
    /* |0.62-0.5| + 0.5*0.04 + |0.15-0.2| + 0.5*0.02 = 0.12 + 0.02 + 0.05 + 0.01 */
    ck_assert_double_eq_tol(a.trials[0].ckpts[j1].score, 0.20, 1e-12);
    ck_assert(isnan(a.trials[0].ckpts[j2].score));
    ck_assert(a.has_best);
    ck_assert(ref_is(a.best, 0, j1));
    ck_assert(isnan(a.trials[0].final_score));
    ck_assert(!a.trials[0].overfit);
    ck_assert_msg(strstr(a.reason, "final checkpoint has no score") != NULL, "%s", a.reason);
    sr_analysis_free(&a);
    /* asked for by name, with spaces: the same scores, formula included */
    sr_analysis_opts o = {.expression = " pixar_score "};
    analyze_ok(s, &o, &a);
    ck_assert_str_eq(a.expression, "pixar_score");
    ck_assert_double_eq_tol(a.trials[0].ckpts[j1].score, 0.20, 1e-12);
    ck_assert(ref_is(a.best, 0, j1));
    sr_analysis_free(&a);
    free_sweep(s);
}
END_TEST

/* A score may name metrics the sweep does not have yet when they are
 * known (what measuring will give); a checkpoint with the metrics but no
 * finite score is counted. */
START_TEST(test_score_names_known)
{
    sr_sweep *s = new_sweep(1);
    size_t j0 = add_ckpt(s, 0, 1, 0);
    set_metric(s, 0, j0, "mean_brightness", 0.4);
    size_t j1 = add_ckpt(s, 0, 2, 1);
    set_metric(s, 0, j1, "mean_brightness", 0.6);
    sr_analysis a;
    char err[512];
    sr_analysis_opts o = {.expression = "mean_sharpness"};
    ck_assert_int_eq(sr_analyze(s, &o, &a, err, sizeof err), -1); /* unknown here and not known */
    ck_assert_msg(strstr(err, "unknown metric 'mean_sharpness'") != NULL, "%s", err);
    sr_metrics known;
    memset(&known, 0, sizeof known);
    sr_metrics_set(&known, "mean_sharpness", 0);
    o.known = &known;
    analyze_ok(s, &o, &a);
    ck_assert(!a.has_best);
    ck_assert_uint_eq(a.n_score_nonfinite, 0); /* nothing has the metric: no score yet */
    sr_analysis_free(&a);
    /* the metrics are there, the expression gives no number for either */
    o.expression = "log(mean_brightness - 1)";
    analyze_ok(s, &o, &a);
    ck_assert(!a.has_best);
    ck_assert_uint_eq(a.n_score_nonfinite, 2);
    sr_analysis_free(&a);
    o.expression = "log(mean_brightness - 0.5)"; /* one of them */
    analyze_ok(s, &o, &a);
    ck_assert(a.has_best);
    ck_assert_uint_eq(a.n_score_nonfinite, 1);
    sr_analysis_free(&a);
    sr_metrics_free(&known);
    free_sweep(s);
}
END_TEST

START_TEST(test_best_over_all_checkpoints)
{
    sr_sweep *s = new_sweep(2);
    add_scored(s, 0, 1, 0, 0.5);
    add_scored(s, 0, 2, 0, 0.2);
    add_scored(s, 0, 3, 1, 0.4);
    add_scored(s, 1, 1, 0, 0.3);
    add_scored(s, 1, 2, 0, 0.25);
    size_t bad = add_scored(s, 1, 3, 1, 0.1);
    set_metric(s, 1, bad, "weight_nonfinite", 12);      /* NaN weights: never recommended */
    set_metric(s, 0, 0, "weight_nonfinite", 0);         /* zero is fine */
    sr_analysis a;
    analyze_ok(s, NULL, &a);
    ck_assert(a.has_best);
    ck_assert(ref_is(a.best, 0, 1)); /* an intermediate epoch, not a final one */
    ck_assert_double_eq(a.best_score, 0.2);
    /* the broken checkpoint keeps its score for display */
    ck_assert_double_eq(a.trials[1].ckpts[bad].score, 0.1);
    ck_assert_double_eq(a.score_min, 0.1);
    ck_assert_double_eq(a.score_max, 0.5);
    ck_assert_int_eq(a.trials[0].best, 1);
    ck_assert_int_eq(a.trials[1].best, 1); /* not the broken final */
    ck_assert_double_eq(a.trials[1].best_score, 0.25);
    ck_assert_double_eq(a.trials[1].final_score, 0.1);
    /* runners-up: 0.25, 0.3, 0.4, 0.5 (the broken one is left out) */
    ck_assert_uint_eq(a.n_runners_up, 4);
    ck_assert(ref_is(a.runners_up[0], 1, 1));
    ck_assert(ref_is(a.runners_up[1], 1, 0));
    ck_assert(ref_is(a.runners_up[2], 0, 2));
    ck_assert(ref_is(a.runners_up[3], 0, 0));
    ck_assert_msg(strstr(a.reason, "trial_0001 at epoch 2 scores 0.2 (pixar_score, lower is better): 50% better "
                                   "than its final epoch 3 (0.4).") != NULL,
                  "%s", a.reason);
    ck_assert_msg(strstr(a.reason, "1 better-scoring checkpoint with non-finite weights was passed over") != NULL,
                  "%s", a.reason);
    ck_assert_msg(strstr(a.reason, "no Optuna study") != NULL, "%s", a.reason);
    sr_analysis_free(&a);
    free_sweep(s);
}
END_TEST

START_TEST(test_ties)
{
    /* equal scores: the earlier epoch wins, whatever the trial */
    sr_sweep *s = new_sweep(2);
    add_scored(s, 0, 3, 0, 0.1);
    add_scored(s, 0, 4, 1, 0.3);
    add_scored(s, 1, 2, 0, 0.1);
    add_scored(s, 1, 4, 1, 0.3);
    sr_analysis a;
    analyze_ok(s, NULL, &a);
    ck_assert(ref_is(a.best, 1, 0));
    ck_assert(ref_is(a.runners_up[0], 0, 0));
    /* then equal epochs: the lower trial index wins */
    ck_assert(ref_is(a.runners_up[1], 0, 1));
    ck_assert(ref_is(a.runners_up[2], 1, 1));
    sr_analysis_free(&a);
    free_sweep(s);

    s = new_sweep(3);
    add_scored(s, 0, 2, 1, 0.7);
    add_scored(s, 1, 2, 1, 0.1);
    add_scored(s, 2, 2, 1, 0.1);
    analyze_ok(s, NULL, &a);
    ck_assert(ref_is(a.best, 1, 0));
    ck_assert(ref_is(a.runners_up[0], 2, 0));
    ck_assert(ref_is(a.runners_up[1], 0, 0));
    sr_analysis_free(&a);
    free_sweep(s);
}
END_TEST

START_TEST(test_unscored_checkpoints)
{
    sr_sweep *s = new_sweep(2);
    size_t j = add_scored(s, 0, 1, 0, 0.01);
    s->trials[0].ckpts[j].status = SR_CKPT_INCOMPLETE; /* still being written: no score */
    j = add_scored(s, 0, 2, 0, 0.02);
    s->trials[0].ckpts[j].status = SR_CKPT_INVALID;
    add_ckpt(s, 0, 3, 1);                              /* no metrics */
    add_scored(s, 1, 1, 1, 0.5);
    sr_analysis a;
    analyze_ok(s, NULL, &a);
    for (size_t k = 0; k < 3; k++)
        ck_assert(isnan(a.trials[0].ckpts[k].score));
    ck_assert_int_eq(a.trials[0].best, -1);
    ck_assert(isnan(a.trials[0].best_score));
    ck_assert(ref_is(a.best, 1, 0));
    ck_assert_uint_eq(a.n_runners_up, 0);
    ck_assert_msg(strstr(a.reason, "trial_0002 at epoch 1 scores 0.5") && strstr(a.reason, "it is the trial's final "
                                                                                          "checkpoint."),
                  "%s", a.reason);
    sr_analysis_free(&a);
    free_sweep(s);
}
END_TEST

START_TEST(test_maximize)
{
    sr_sweep *s = new_sweep(2);
    add_scored(s, 0, 1, 0, 0.2);
    add_scored(s, 0, 2, 1, 0.9);
    add_scored(s, 1, 1, 0, 0.8);
    add_scored(s, 1, 2, 1, 0.4);
    sr_analysis_opts o = {.expression = "pixar_score", .maximize = 1};
    sr_analysis a;
    analyze_ok(s, &o, &a);
    ck_assert(a.maximize);
    ck_assert(ref_is(a.best, 0, 1));
    ck_assert(ref_is(a.runners_up[0], 1, 0));
    ck_assert(ref_is(a.runners_up[1], 1, 1));
    ck_assert(ref_is(a.runners_up[2], 0, 0));
    ck_assert_int_eq(a.trials[1].best, 0);
    /* trial 2 falls from 0.8 to 0.4: more than 10 % of the range 0.7 */
    ck_assert(a.trials[1].overfit);
    ck_assert(!a.trials[0].overfit);
    ck_assert_msg(strstr(a.reason, "higher is better") != NULL, "%s", a.reason);
    sr_analysis_free(&a);
    free_sweep(s);
}
END_TEST

START_TEST(test_single_checkpoint)
{
    sr_sweep *s = new_sweep(1);
    add_scored(s, 0, -1, 1, 0.125);
    sr_analysis a;
    analyze_ok(s, NULL, &a);
    ck_assert(a.has_best);
    ck_assert(ref_is(a.best, 0, 0));
    ck_assert_uint_eq(a.n_runners_up, 0);
    ck_assert_double_eq(a.score_min, a.score_max);
    ck_assert(!a.trials[0].overfit);
    ck_assert_msg(strstr(a.reason, "trial_0001's checkpoint lora_trial_1.safetensors scores 0.125") != NULL, "%s",
                  a.reason);
    sr_analysis_free(&a);
    free_sweep(s);
}
END_TEST

/* A recommendation scored from kohya's training-time samples says so. */
START_TEST(test_reason_training_samples)
{
    sr_sweep *s = new_sweep(1);
    size_t j = add_scored(s, 0, 2, 0, 0.25);
    add_scored(s, 0, -1, 1, 0.5);
    sr_analysis a;
    analyze_ok(s, NULL, &a);
    ck_assert_msg(!strstr(a.reason, "training-time"), "%s", a.reason);
    sr_analysis_free(&a);
    sr_checkpoint *c = &s->trials[0].ckpts[j];
    c->samples_from_training = 1;
    c->samples = xcalloc(1, sizeof *c->samples);
    c->samples[0] = xstrdup("sample/lora_trial_1_e000002_00.png");
    c->n_samples = 1;
    analyze_ok(s, NULL, &a);
    ck_assert_msg(strstr(a.reason, "No evaluator rendered samples for it: its image metrics are of kohya's "
                                   "training-time samples (sample/)"),
                  "%s", a.reason);
    sr_analysis_free(&a);
    free_sweep(s);
}
END_TEST

START_TEST(test_nothing_scored)
{
    sr_sweep *s = new_sweep(2);
    add_ckpt(s, 0, 1, 0);
    add_ckpt(s, 0, 2, 1);
    size_t j = add_scored(s, 1, 1, 1, 0.3);
    set_metric(s, 1, j, "weight_nonfinite", 1);
    sr_analysis a;
    analyze_ok(s, NULL, &a);
    ck_assert(!a.has_best);
    ck_assert_ptr_null(a.reason);
    ck_assert_uint_eq(a.n_runners_up, 0);
    cJSON *sum = sr_summary_json(s, &a, "2025-11-15T10:45:12Z");
    ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(sum, "best")));
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(sum, "runners_up")), 0);
    cJSON_Delete(sum);
    sr_analysis_free(&a);
    free_sweep(s);

    /* an empty sweep */
    s = new_sweep(0);
    analyze_ok(s, NULL, &a);
    ck_assert(!a.has_best);
    ck_assert(isnan(a.score_min));
    ck_assert_uint_eq(a.n_params, 0);
    sum = sr_summary_json(s, &a, NULL);
    ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(sum, "best")));
    ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(sum, "generated_at")));
    cJSON_Delete(sum);
    sr_analysis_free(&a);
    free_sweep(s);
}
END_TEST

START_TEST(test_prefer_earlier)
{
    sr_sweep *s = new_sweep(2);
    add_scored(s, 0, 2, 0, 0.105);
    add_scored(s, 0, 5, 0, 0.1);
    add_scored(s, 0, 8, 1, 0.3);
    add_scored(s, 1, 1, 0, 0.5);
    add_scored(s, 1, 3, 1, 0.2);
    sr_analysis_opts o = {.prefer_earlier = 10};
    sr_analysis a;
    analyze_ok(s, &o, &a);
    ck_assert(ref_is(a.best, 0, 0)); /* 0.105 is within 10 % of 0.1 */
    ck_assert_double_eq(a.best_score, 0.105);
    ck_assert(ref_is(a.runners_up[0], 0, 1));
    ck_assert_msg(strstr(a.reason, "earliest checkpoint within 10% of the best score, 0.1 (trial_0001 at epoch 5)"),
                  "%s", a.reason);
    sr_analysis_free(&a);
    o.prefer_earlier = 4;
    analyze_ok(s, &o, &a);
    ck_assert(ref_is(a.best, 0, 1));
    ck_assert_ptr_null(strstr(a.reason, "earliest"));
    sr_analysis_free(&a);
    /* a generous tolerance reaches back to epoch 1 of the other trial */
    o.prefer_earlier = 500;
    analyze_ok(s, &o, &a);
    ck_assert(ref_is(a.best, 1, 0));
    sr_analysis_free(&a);
    free_sweep(s);

    /* several checkpoints at the earliest epoch within the tolerance: the
     * best of them, not the first trial's (here the best overall) */
    s = new_sweep(3);
    add_scored(s, 0, 2, 0, 0.2161);
    add_scored(s, 1, 2, 0, 0.2109);
    add_scored(s, 2, 2, 0, 0.1444);
    add_scored(s, 2, 4, 1, 0.1471);
    o.prefer_earlier = 50;
    analyze_ok(s, &o, &a);
    ck_assert_msg(ref_is(a.best, 2, 0), "recommended trial %zu checkpoint %zu", a.best.trial, a.best.ckpt);
    ck_assert_ptr_null(strstr(a.reason, "earliest"));
    sr_analysis_free(&a);
    /* and when the earliest epoch is not the best one's: the best there */
    s->trials[2].ckpts[0].epoch = 3;
    analyze_ok(s, &o, &a);
    ck_assert_msg(ref_is(a.best, 1, 0), "recommended trial %zu checkpoint %zu", a.best.trial, a.best.ckpt);
    sr_analysis_free(&a);
    free_sweep(s);

    /* a best score of 0: the tolerance is a share of the score range (1) */
    s = new_sweep(1);
    add_scored(s, 0, 1, 0, 0.08);
    add_scored(s, 0, 2, 0, 0.0);
    add_scored(s, 0, 3, 1, 1.0);
    o.prefer_earlier = 10;
    analyze_ok(s, &o, &a);
    ck_assert(ref_is(a.best, 0, 0));
    sr_analysis_free(&a);
    o.prefer_earlier = 5;
    analyze_ok(s, &o, &a);
    ck_assert(ref_is(a.best, 0, 1));
    sr_analysis_free(&a);
    free_sweep(s);
}
END_TEST

START_TEST(test_overfit)
{
    sr_sweep *s = new_sweep(3);
    add_scored(s, 0, 1, 0, 0.5);
    add_scored(s, 0, 2, 0, 0.1);
    add_scored(s, 0, 3, 1, 0.4);  /* 0.3 worse, range 0.4: overfit */
    add_scored(s, 1, 1, 0, 0.12);
    add_scored(s, 1, 2, 1, 0.15); /* 0.03 worse < 0.04: not */
    add_scored(s, 2, 1, 0, 0.3);
    add_scored(s, 2, 2, 0, 0.2);  /* no final checkpoint */
    sr_analysis a;
    analyze_ok(s, NULL, &a);
    ck_assert(a.trials[0].overfit);
    ck_assert(!a.trials[1].overfit);
    ck_assert(!a.trials[2].overfit);
    /* judged for the two with a scored final checkpoint only */
    ck_assert(a.trials[0].overfit_known && a.trials[1].overfit_known && !a.trials[2].overfit_known);
    ck_assert(isnan(a.trials[2].final_score));
    ck_assert_double_eq(a.trials[0].final_score, 0.4);
    sr_analysis_free(&a);
    free_sweep(s);

    /* the best of a trial without a final checkpoint */
    s = new_sweep(1);
    add_scored(s, 0, 1, 0, 0.3);
    add_scored(s, 0, 2, 0, 0.2);
    analyze_ok(s, NULL, &a);
    ck_assert_msg(strstr(a.reason, "the trial has no final checkpoint") != NULL, "%s", a.reason);
    sr_analysis_free(&a);
    free_sweep(s);
}
END_TEST

START_TEST(test_runners_up)
{
    sr_sweep *s = new_sweep(3);
    static const double sc[3][3] = {{0.9, 0.35, 0.6}, {0.5, 0.1, 0.45}, {0.2, 0.3, 0.8}};
    for (size_t i = 0; i < 3; i++)
        for (size_t e = 0; e < 3; e++)
            add_scored(s, i, (long)e + 1, e == 2, sc[i][e]);
    sr_analysis a;
    analyze_ok(s, NULL, &a);
    ck_assert(ref_is(a.best, 1, 1));
    ck_assert_uint_eq(a.n_runners_up, 5);
    /* 0.2, 0.3, 0.35, 0.45, 0.5 */
    ck_assert(ref_is(a.runners_up[0], 2, 0));
    ck_assert(ref_is(a.runners_up[1], 2, 1));
    ck_assert(ref_is(a.runners_up[2], 0, 1));
    ck_assert(ref_is(a.runners_up[3], 1, 2));
    ck_assert(ref_is(a.runners_up[4], 1, 0));
    sr_analysis_free(&a);
    free_sweep(s);
}
END_TEST

START_TEST(test_reason_optuna)
{
    /* the example of the manual: trial_0004 epoch 6 vs its final epoch 10 */
    sr_sweep *s = new_sweep(4);
    add_study(s, 4, "MINIMIZE");
    for (size_t i = 0; i < 4; i++) {
        s->trials[i].optuna = &s->study->trials[i];
        set_optuna_value(s, i, 0.3 - 0.05 * (double)i);
    }
    set_optuna_value(s, 3, 0.4); /* Optuna's best is number 2: trial_0003 */
    add_scored(s, 0, 10, 1, 0.3);
    add_scored(s, 1, 10, 1, 0.25);
    add_scored(s, 2, 10, 1, 0.2);
    add_scored(s, 3, 6, 0, 0.0812);
    add_scored(s, 3, 10, 1, 0.1054);
    sr_analysis a;
    analyze_ok(s, NULL, &a);
    ck_assert_str_eq(a.reason, "trial_0004 at epoch 6 scores 0.0812 (pixar_score, lower is better): 23% better than "
                               "its final epoch 10 (0.1054). Optuna's best trial, number 2, is trial_0003, 2nd here by "
                               "best score: Optuna ranks trials by its own objective value.");
    ck_assert_int_eq(a.optuna_best_number, 2);
    ck_assert_int_eq(a.optuna_best, 2);
    sr_analysis_free(&a);

    /* agreement; a MAXIMIZE study; a custom expression named in the reason */
    free(s->study->direction);
    s->study->direction = xstrdup("MAXIMIZE"); /* best: number 3 (0.4) */
    sr_analysis_opts o = {.expression = "pixar_score * 2"};
    analyze_ok(s, &o, &a);
    ck_assert_msg(strstr(a.reason, "(pixar_score * 2, lower is better)") != NULL, "%s", a.reason);
    ck_assert_msg(strstr(a.reason, "Optuna's best trial, number 3, is this trial (trial_0004) too.") != NULL, "%s",
                  a.reason);
    sr_analysis_free(&a);

    /* Optuna's best trial has no folder; then no completed trial with a value */
    s->trials[3].optuna = NULL;
    analyze_ok(s, NULL, &a);
    ck_assert_msg(strstr(a.reason, "Optuna's best trial (number 3) has no trial folder here.") != NULL, "%s",
                  a.reason);
    sr_analysis_free(&a);
    for (size_t i = 0; i < 4; i++)
        s->study->trials[i].state = i == 0 ? "PRUNED" : "RUNNING";
    analyze_ok(s, NULL, &a);
    ck_assert_msg(strstr(a.reason, "Optuna has no completed trial") != NULL, "%s", a.reason);
    ck_assert_int_eq(a.optuna_best_number, -1);
    sr_analysis_free(&a);
    free_sweep(s);

    /* the best checkpoint is a pruned trial's: said first; Optuna's best
     * ranks third here */
    s = new_sweep(3);
    add_study(s, 3, "MINIMIZE");
    for (size_t i = 0; i < 3; i++)
        s->trials[i].optuna = &s->study->trials[i];
    s->study->trials[0].state = "PRUNED";
    set_optuna_value(s, 1, 0.5);
    set_optuna_value(s, 2, 0.1); /* Optuna's best: number 2, trial_0003 */
    add_scored(s, 0, 2, 0, 0.1);
    add_scored(s, 0, 4, 0, 0.2);
    add_scored(s, 1, 2, 1, 0.3);
    add_scored(s, 2, 2, 1, 0.4);
    analyze_ok(s, NULL, &a);
    ck_assert_str_eq(a.reason, "trial_0001 at epoch 2 scores 0.1 (pixar_score, lower is better): Optuna pruned this "
                               "trial, so it has no final checkpoint to compare with. Optuna's best trial, number 2, "
                               "is trial_0003, 3rd here by best score: Optuna ranks trials by its own objective value.");
    sr_analysis_free(&a);
    s->study->trials[0].state = "RUNNING";
    analyze_ok(s, NULL, &a);
    ck_assert_msg(strstr(a.reason, "the trial is still running: it has no final checkpoint yet.") != NULL, "%s",
                  a.reason);
    sr_analysis_free(&a);
    free_sweep(s);
}
END_TEST

/* ---------------------------------------------------------------------------
 * Hyperparameters
 * ------------------------------------------------------------------------- */

static const sr_param_analysis *find_param(const sr_analysis *a, const char *name)
{
    for (size_t i = 0; i < a->n_params; i++)
        if (strcmp(a->params[i].name, name) == 0)
            return &a->params[i];
    ck_abort_msg("no parameter %s", name);
    return NULL;
}

START_TEST(test_spearman)
{
    /* x = 1..5 against scores ranked 2 1 4 3 5: rho = 1 - 6*4/(5*24) = 0.8 */
    static const double score[] = {0.2, 0.1, 0.4, 0.3, 0.5};
    /* with a tie in x: ranks 1 2.5 2.5 4 5 against 2 1 4 3 5 */
    static const double tied[] = {1, 2, 2, 3, 4};
    sr_sweep *s = new_sweep(5);
    for (size_t i = 0; i < 5; i++) {
        add_scored(s, i, 1, 1, score[i]);
        char text[256];
        snprintf(text, sizeof text,
                 "{\"x\": %zu, \"tied\": %g, \"constant\": 7, \"few\": %s, \"optimizer\": \"%s\", \"flag\": %s}",
                 i + 1, tied[i], i < 2 ? "1" : "null", i % 2 ? "Lion" : "AdamW8bit", i < 3 ? "true" : "false");
        s->trials[i].params = parse(text);
    }
    sr_analysis a;
    analyze_ok(s, NULL, &a);
    ck_assert_double_eq_tol(find_param(&a, "x")->spearman, 0.8, 1e-12);
    /* ranks of tied: 1 2.5 2.5 4 5; of the scores: 2 1 4 3 5;
     * dx = -2 -.5 -.5 1 2, dy = -1 -2 1 0 2: sxy = 2+1-.5+0+4 = 6.5, sxx = 9.5, syy = 10 */
    ck_assert_double_eq_tol(find_param(&a, "tied")->spearman, 6.5 / sqrt(95.0), 1e-12);
    ck_assert(isnan(find_param(&a, "constant")->spearman));
    /* one value for every trial: constant, whatever its type */
    ck_assert(find_param(&a, "constant")->constant);
    ck_assert(!find_param(&a, "x")->constant && !find_param(&a, "tied")->constant);
    ck_assert(!find_param(&a, "optimizer")->constant && !find_param(&a, "flag")->constant);
    ck_assert(isnan(find_param(&a, "few")->spearman)); /* 2 trials */
    ck_assert_uint_eq(find_param(&a, "few")->n_trials, 2);
    const sr_param_analysis *opt = find_param(&a, "optimizer");
    ck_assert(opt->categorical);
    ck_assert(isnan(opt->spearman));
    ck_assert_uint_eq(opt->n_values, 2);
    ck_assert_str_eq(opt->values[0], "AdamW8bit"); /* 0.2 0.4 0.5 */
    ck_assert_uint_eq(opt->count[0], 3);
    ck_assert_double_eq_tol(opt->mean[0], 1.1 / 3, 1e-12);
    ck_assert_double_eq_tol(opt->median[0], 0.4, 1e-12);
    ck_assert_double_eq_tol(opt->best[0], 0.2, 1e-12);
    ck_assert_str_eq(opt->values[1], "Lion"); /* 0.1 0.3 */
    ck_assert_double_eq_tol(opt->median[1], 0.2, 1e-12);
    ck_assert_double_eq_tol(opt->best[1], 0.1, 1e-12);
    const sr_param_analysis *flag = find_param(&a, "flag");
    ck_assert(flag->categorical);
    ck_assert_uint_eq(flag->n_values, 2);
    ck_assert_str_eq(flag->values[0], "false");
    ck_assert_str_eq(flag->values[1], "true");
    ck_assert(isnan(find_param(&a, "x")->importance)); /* 5 trials: no PED-ANOVA */
    ck_assert_uint_eq(a.n_complete, 5);                 /* no study: final checkpoints count */
    ck_assert(!find_param(&a, "x")->categorical);
    ck_assert_uint_eq(find_param(&a, "x")->n_values, 0);
    sr_analysis_free(&a);

    /* maximising changes the best per value, not the correlation with the score */
    sr_analysis_opts o = {.maximize = 1};
    analyze_ok(s, &o, &a);
    ck_assert_double_eq_tol(find_param(&a, "x")->spearman, 0.8, 1e-12); /* the scores are the same */
    ck_assert_double_eq_tol(find_param(&a, "optimizer")->best[0], 0.5, 1e-12);
    sr_analysis_free(&a);
    free_sweep(s);
}
END_TEST

static void add_dist(sr_optuna_trial *t, const char *name, const char *json)
{
    cJSON_AddItemToObject(t->distributions, name, parse(json));
}

/* 12 complete trials whose score is set by lr; noise is irrelevant.  Reference
 * numbers from a numpy/scipy transcription of Optuna's PedAnovaImportanceEvaluator
 * (baseline_quantile=0.1, evaluate_on_local=True) on the same data. */
static sr_sweep *ped_sweep(size_t n)
{
    sr_sweep *s = new_sweep(n);
    add_study(s, n, "MINIMIZE");
    for (size_t i = 0; i < n; i++) {
        double lr = pow(10, -5 + 2.0 * (double)i / 11);
        double noise = (double)((i * 5) % 12) / 11;
        const char *opt = i % 3 == 0 ? "a" : "b";
        static const int dims[] = {4, 8, 16, 32};
        double score = pow(log10(lr) + 4, 2) + 0.001 * noise + (opt[0] == 'b' ? 0.01 : 0);
        sr_optuna_trial *t = &s->study->trials[i];
        cJSON_AddNumberToObject(t->params, "lr", lr);
        cJSON_AddNumberToObject(t->params, "noise", noise);
        cJSON_AddStringToObject(t->params, "opt", opt);
        cJSON_AddNumberToObject(t->params, "dim", dims[i % 4]);
        cJSON_AddNumberToObject(t->params, "fixed", 3);
        add_dist(t, "lr", "{\"name\": \"FloatDistribution\", \"attributes\": {\"step\": null, \"low\": 1e-05, "
                          "\"high\": 0.001, \"log\": true}}");
        add_dist(t, "noise", "{\"name\": \"FloatDistribution\", \"attributes\": {\"step\": null, \"low\": 0.0, "
                             "\"high\": 1.0, \"log\": false}}");
        add_dist(t, "opt", "{\"name\": \"CategoricalDistribution\", \"attributes\": {\"choices\": [\"a\", \"b\", "
                           "\"c\"]}}");
        add_dist(t, "dim", "{\"name\": \"IntDistribution\", \"attributes\": {\"log\": false, \"step\": 4, "
                           "\"low\": 4, \"high\": 32}}");
        add_dist(t, "fixed", "{\"name\": \"IntDistribution\", \"attributes\": {\"log\": false, \"step\": 1, "
                             "\"low\": 3, \"high\": 3}}");
        set_optuna_value(s, i, score);
        s->trials[i].optuna = t;
        add_scored(s, i, 1, 0, score + 0.5);
        add_scored(s, i, 2, 1, score);
    }
    return s;
}

START_TEST(test_ped_anova)
{
    sr_sweep *s = ped_sweep(12);
    sr_analysis a;
    analyze_ok(s, NULL, &a);
    ck_assert_uint_eq(a.n_complete, 12);
    const sr_param_analysis *lr = find_param(&a, "lr"), *noise = find_param(&a, "noise");
    const sr_param_analysis *opt = find_param(&a, "opt"), *dim = find_param(&a, "dim");
    const sr_param_analysis *fixed = find_param(&a, "fixed");
    ck_assert_double_eq_tol(lr->importance, 0.83206456971058607, 1e-9);
    ck_assert_double_eq_tol(noise->importance, 0.046442515282503032, 1e-9);
    ck_assert_double_eq_tol(opt->importance, 0.032104186588312524, 1e-9);
    ck_assert_double_eq_tol(dim->importance, 0.08938872841859842, 1e-9);
    ck_assert_double_eq(fixed->importance, 0); /* a single-valued distribution */
    ck_assert(lr->importance > noise->importance);
    ck_assert_double_eq_tol(lr->importance + noise->importance + opt->importance + dim->importance, 1, 1e-12);
    /* most important first */
    ck_assert_str_eq(a.params[0].name, "lr");
    ck_assert(lr->log_scale);
    ck_assert(!noise->log_scale);
    /* a categorical distribution gives per-value numbers (only values seen) */
    ck_assert(opt->categorical);
    ck_assert_uint_eq(opt->n_values, 2);
    ck_assert_uint_eq(opt->count[0] + opt->count[1], 12);
    sr_analysis_free(&a);

    /* running and pruned trials do not count: 9 complete ones are too few */
    for (size_t i = 9; i < 12; i++)
        s->study->trials[i].state = i == 9 ? "PRUNED" : "RUNNING";
    analyze_ok(s, NULL, &a);
    ck_assert_uint_eq(a.n_complete, 9);
    for (size_t i = 0; i < a.n_params; i++)
        ck_assert_msg(isnan(a.params[i].importance), "%s has importance with 9 trials", a.params[i].name);
    ck_assert(isfinite(find_param(&a, "lr")->spearman));
    sr_analysis_free(&a);
    free_sweep(s);
}
END_TEST

START_TEST(test_ped_anova_relevance)
{
    /* 40 trials without a study (no distributions: ranges from the values):
     * x decides the score, y is drawn independently and does not matter */
    size_t n = 40;
    sr_sweep *s = new_sweep(n);
    sr_rng rng;
    sr_rng_seed(&rng, 7);
    for (size_t i = 0; i < n; i++) {
        double x = sr_rng_uniform(&rng), y = sr_rng_uniform(&rng);
        char text[200];
        snprintf(text, sizeof text,
                 "{\"x\": %.17g, \"y\": %.17g, \"rank\": %zu, \"tag\": \"%s\", \"output_dir\": \"/out/%zu\"}", x,
                 y, i % 3, i % 2 ? "p" : "q", i);
        s->trials[i].params = parse(text);
        add_scored(s, i, 3, 1, (x - 0.3) * (x - 0.3));
    }
    sr_analysis a;
    analyze_ok(s, NULL, &a);
    ck_assert_uint_eq(a.n_complete, n);
    const sr_param_analysis *x = find_param(&a, "x"), *y = find_param(&a, "y");
    ck_assert(isfinite(x->importance) && isfinite(y->importance));
    ck_assert_msg(x->importance > 2 * y->importance, "x %g y %g", x->importance, y->importance);
    ck_assert_str_eq(a.params[0].name, "x");
    /* text that differs in every trial names it: no importance, no share of the sum */
    ck_assert(isnan(find_param(&a, "output_dir")->importance));
    ck_assert(isfinite(find_param(&a, "tag")->importance));
    double sum = 0;
    for (size_t i = 0; i < a.n_params; i++)
        if (isfinite(a.params[i].importance))
            sum += a.params[i].importance;
    ck_assert_double_eq_tol(sum, 1, 1e-12);
    sr_analysis_free(&a);

    /* a trial whose final model is missing is not complete: 39 still run */
    s->trials[0].ckpts[0].final = 0;
    analyze_ok(s, NULL, &a);
    ck_assert_uint_eq(a.n_complete, n - 1);
    sr_analysis_free(&a);
    free_sweep(s);
}
END_TEST

/* ---------------------------------------------------------------------------
 * summary.json
 * ------------------------------------------------------------------------- */

static const cJSON *get(const cJSON *o, const char *key)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
    ck_assert_msg(it != NULL, "no member %s", key);
    return it;
}

START_TEST(test_summary_json)
{
    sr_sweep *s = ped_sweep(12);
    /* a broken checkpoint without a score, and a NaN weight one */
    size_t j = add_ckpt(s, 0, 3, 0);
    s->trials[0].ckpts[j].status = SR_CKPT_INVALID;
    s->trials[0].ckpts[j].problem = xstrdup("not a safetensors file");
    s->trials[1].params = parse("{\"note\": \"first\"}");
    sr_analysis a;
    analyze_ok(s, NULL, &a);
    cJSON *doc = sr_summary_json(s, &a, "2025-11-15T10:45:12Z");
    char *text = sr_json_print(doc);
    cJSON_Delete(doc);
    char err[256];
    cJSON *j2 = sr_json_parse(text, strlen(text), err, sizeof err);
    ck_assert_msg(j2 != NULL, "%s", err);
    free(text);

    /* the scan document is all there */
    ck_assert(cJSON_IsObject(get(j2, "tool")));
    ck_assert(cJSON_IsObject(get(j2, "sweep")));
    ck_assert(cJSON_IsArray(get(j2, "problems")));
    const cJSON *trials = get(j2, "trials");
    ck_assert_int_eq(cJSON_GetArraySize(trials), 12);
    const cJSON *t0 = cJSON_GetArrayItem(trials, 0);
    ck_assert_str_eq(get(t0, "name")->valuestring, "trial_0001");
    const cJSON *cks = get(t0, "checkpoints");
    ck_assert_int_eq(cJSON_GetArraySize(cks), 3);
    ck_assert(cJSON_IsNumber(get(cJSON_GetArrayItem(cks, 0), "score")));
    ck_assert_double_eq_tol(get(cJSON_GetArrayItem(cks, 1), "score")->valuedouble, a.trials[0].ckpts[1].score,
                            1e-12);
    ck_assert(cJSON_IsNull(get(cJSON_GetArrayItem(cks, 2), "score")));
    ck_assert(cJSON_IsString(get(t0, "best_checkpoint")));
    ck_assert_str_eq(get(t0, "best_checkpoint")->valuestring, "lora_trial_1.safetensors");
    ck_assert(cJSON_IsBool(get(t0, "overfit")));
    ck_assert(cJSON_IsFalse(get(t0, "overfit")));

    const cJSON *score = get(j2, "score");
    ck_assert_str_eq(get(score, "expression")->valuestring, "pixar_score");
    ck_assert_str_eq(get(score, "direction")->valuestring, "minimize");

    const cJSON *best = get(j2, "best");
    ck_assert(cJSON_IsObject(best));
    const sr_trial *bt = &s->trials[a.best.trial];
    ck_assert_str_eq(get(best, "trial")->valuestring, bt->name);
    ck_assert_str_eq(get(best, "checkpoint")->valuestring, bt->ckpts[a.best.ckpt].file);
    ck_assert_str_eq(get(best, "path")->valuestring, bt->ckpts[a.best.ckpt].path);
    ck_assert(cJSON_IsNumber(get(best, "epoch")));
    ck_assert_double_eq_tol(get(best, "score")->valuedouble, a.best_score, 1e-12);
    ck_assert_str_eq(get(best, "reason")->valuestring, a.reason);

    const cJSON *ru = get(j2, "runners_up");
    ck_assert_int_eq(cJSON_GetArraySize(ru), 5);
    for (int k = 0; k < 5; k++) {
        const cJSON *r = cJSON_GetArrayItem(ru, k);
        ck_assert(cJSON_IsString(get(r, "trial")) && cJSON_IsString(get(r, "checkpoint")) &&
                  cJSON_IsString(get(r, "path")) && cJSON_IsNumber(get(r, "epoch")) &&
                  cJSON_IsNumber(get(r, "score")));
        ck_assert_str_eq(get(r, "trial")->valuestring, s->trials[a.runners_up[k].trial].name);
    }

    const cJSON *imp = get(j2, "importance");
    ck_assert_int_eq(cJSON_GetArraySize(imp), (int)a.n_params);
    int seen_opt = 0, seen_note = 0;
    const cJSON *p;
    cJSON_ArrayForEach(p, imp)
    {
        const char *name = get(p, "param")->valuestring;
        ck_assert(cJSON_IsNumber(get(p, "spearman")) || cJSON_IsNull(get(p, "spearman")));
        ck_assert(cJSON_IsNumber(get(p, "ped_anova")) || cJSON_IsNull(get(p, "ped_anova")));
        ck_assert(cJSON_IsBool(get(p, "log_scale")));
        ck_assert(cJSON_IsBool(get(p, "constant")));
        if (strcmp(name, "opt") == 0) {
            seen_opt = 1;
            ck_assert(cJSON_IsNull(get(p, "spearman")));
            const cJSON *vals = get(p, "values");
            ck_assert_int_eq(cJSON_GetArraySize(vals), 2);
            const cJSON *v0 = cJSON_GetArrayItem(vals, 0);
            ck_assert_str_eq(get(v0, "value")->valuestring, "a");
            ck_assert_int_eq(get(v0, "count")->valueint, 4);
            ck_assert(cJSON_IsNumber(get(v0, "mean")) && cJSON_IsNumber(get(v0, "median")) &&
                      cJSON_IsNumber(get(v0, "best")));
        } else if (strcmp(name, "note") == 0) {
            seen_note = 1; /* only in one trial's params.json: no PED-ANOVA */
            ck_assert(cJSON_IsNull(get(p, "ped_anova")));
        } else if (strcmp(name, "lr") == 0) {
            ck_assert(cJSON_IsTrue(get(p, "log_scale")));
            ck_assert(cJSON_IsNumber(get(p, "ped_anova")));
            ck_assert(cJSON_IsNull(get(p, "values"))); /* present, null: not analysed per value */
            ck_assert(cJSON_IsFalse(get(p, "constant")));
        }
    }
    ck_assert(seen_opt && seen_note);
    ck_assert_str_eq(get(j2, "generated_at")->valuestring, "2025-11-15T10:45:12Z");
    cJSON_Delete(j2);
    sr_analysis_free(&a);

    /* maximize is spelled out; a custom expression is kept as given */
    sr_analysis_opts o = {.expression = "pixar_score + 1", .maximize = 1};
    analyze_ok(s, &o, &a);
    doc = sr_summary_json(s, &a, "t");
    ck_assert_str_eq(get(get(doc, "score"), "direction")->valuestring, "maximize");
    ck_assert_str_eq(get(get(doc, "score"), "expression")->valuestring, "pixar_score + 1");
    cJSON_Delete(doc);
    sr_analysis_free(&a);
    free_sweep(s);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("analysis");
    TCase *tc = tcase_create("expr");
    tcase_add_test(tc, test_expr_evaluates);
    tcase_add_test(tc, test_expr_not_finite);
    tcase_add_test(tc, test_expr_malformed);
    tcase_add_test(tc, test_expr_depth_limit);
    tcase_add_test(tc, test_expr_unknown_metric);
    tcase_add_test(tc, test_analyze_unknown_metric);
    suite_add_tcase(s, tc);
    tc = tcase_create("recommend");
    tcase_add_test(tc, test_default_score);
    tcase_add_test(tc, test_best_over_all_checkpoints);
    tcase_add_test(tc, test_ties);
    tcase_add_test(tc, test_unscored_checkpoints);
    tcase_add_test(tc, test_maximize);
    tcase_add_test(tc, test_single_checkpoint);
    tcase_add_test(tc, test_reason_training_samples);
    tcase_add_test(tc, test_nothing_scored);
    tcase_add_test(tc, test_prefer_earlier);
    tcase_add_test(tc, test_score_names_known);
    tcase_add_test(tc, test_overfit);
    tcase_add_test(tc, test_runners_up);
    tcase_add_test(tc, test_reason_optuna);
    suite_add_tcase(s, tc);
    tc = tcase_create("params");
    tcase_add_test(tc, test_spearman);
    tcase_add_test(tc, test_ped_anova);
    tcase_add_test(tc, test_ped_anova_relevance);
    tcase_add_test(tc, test_summary_json);
    suite_add_tcase(s, tc);
    return s;
}
