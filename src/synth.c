/* synth.c - writes a realistic synthetic sweep (seed pipeline layout).
 *
 * The rules, relied on by tests elsewhere (trial numbers are the 1-based
 * folder counters, trial_%04d, output_name lora_trial_{i}; E = epochs,
 * K = save_every):
 *  - Every trial trains for max_train_epochs = E.  Epoch checkpoints
 *    lora_trial_{i}-{e:06d}.safetensors exist for e = K, 2K, ... < E; the
 *    final lora_trial_{i}.safetensors holds epoch E.
 *  - trials >= 2: the LAST trial is RUNNING (Optuna RUNNING, value null): epoch
 *    checkpoints up to 2E/3 (at least the first), no final; its newest
 *    checkpoint is cut to half its size and has no samples and no metrics;
 *    training.log ends with the "saving checkpoint" line of that file.
 *  - trials >= 4: trial_0003 FAILED (Optuna PRUNED, value null): only its
 *    first two epoch checkpoints (one if only one exists), no final;
 *    training.log ends with a torch.cuda.OutOfMemoryError traceback.
 *  - All other trials are COMPLETE; value = combined_score of the final
 *    evaluation's metrics.
 *  - Overfitting: a complete trial overfits when its learning_rate >= 4e-4 or
 *    it has the highest learning_rate of the complete trials.  Its samples get
 *    over-saturated, over-contrasted, with artifacts, from mid training on.
 *  - Samples (samples > 0): every checkpoint has them except the first
 *    checkpoint of trial_0002 (the evaluator never ran) and the running
 *    trial's half-written one.  Final: evaluation/sample_%02d.png,
 *    intermediate: realtime_evaluations/<stem>/sample_%02d.png.
 *  - Metrics: every final checkpoint has evaluation/metrics.json (plus
 *    generation_results.json).  Counting the intermediate checkpoints with
 *    samples over the whole sweep in trial and epoch order, every third one
 *    (3rd, 6th, ...) has no metrics.json (the evaluator timed out).
 *  - trial_0002 writes every metrics.json in the old flat layout.
 *  - realtime_evaluations/evaluation_summary.json and evaluation_state.json
 *    exist for trials with intermediate metrics (odd trials: the "code"
 *    summary shape, even trials: the "note" shape).
 *  - optuna_study.db: study luca_intermediate_checkpoint_study (minimize),
 *    Optuna 3.1 schema, the same trials, states, values and params as
 *    results/all_trials.json; intermediate values = avr_loss at the end of
 *    each finished epoch for complete and running trials, none for the pruned
 *    one; no end time for the running trial.
 *  - logs/<start>/network_train/events.out.tfevents.*: TensorBoard scalars as
 *    kohya writes them (loss/current, loss/average, lr/unet, lr/textencoder
 *    per step; loss/epoch_average per finished epoch) up to where training.log
 *    stops.
 *  - No current time anywhere: times count from 2025-11-15T08:00:00.  Each
 *    saved checkpoint's modification time is when training saved it; only
 *    the half-written one is modified now (it is being written). */
#include "config.h"

#include "synth.h"
#include "atomic_file.h"
#include "json.h"
#include "png_io.h"
#include "synth_lora.h"
#include "synth_optuna.h"
#include "synth_scene.h"
#include "tfevents_write.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* 2025-11-15T08:00:00 (UTC), the start of the sweep. */
#define BASE_UNIX 1763193600LL
/* Where the sweep lived on the machine that "ran" it (paths inside files). */
#define SWEEP_ROOT "/mnt/data/ai_data/models/lora/luca/optimization_with_intermediate_checkpoints"
#define BASE_MODEL "v1-5-pruned-emaonly.safetensors"
#define TRAIN_IMAGES 120
#define BATCH_SIZE 2
#define NUM_BATCHES (TRAIN_IMAGES / BATCH_SIZE)

static const char *const optimizers[] = {"AdamW8bit", "Lion", "Prodigy"};
static const char *const optimizer_classes[] = {"bitsandbytes.optim.adamw.AdamW8bit", "lion_pytorch.lion_pytorch.Lion",
                                                "prodigyopt.prodigy.Prodigy"};
static const char *const schedulers[] = {"cosine", "constant", "cosine_with_restarts"};

typedef enum { TRIAL_COMPLETE, TRIAL_FAILED, TRIAL_RUNNING } trial_state;

typedef struct {
    int epoch;
    int final;
    char stem[64];
    char file[80];
    int partial;     /* half written */
    int has_samples;
    int has_metrics;
    double t_saved;  /* seconds from BASE_UNIX */
    double t_eval;   /* evaluation finished */
    double eval_seconds;
    double *bright;  /* per sample */
    double *contrast;
    int n_samples;
    double mean_b, mean_c, std_b, std_c;
} ckpt_plan;

typedef struct {
    int num; /* folder counter, 1-based; Optuna number = num - 1 */
    trial_state state;
    int overfit;
    uint64_t seed;
    double lr, te_lr, alpha;
    int opt, sched, gas;
    int steps_per_epoch;
    double sec_per_it;
    double t_start, t_train, t_end;
    /* look of the samples */
    double tone, sat_target, con_target, warmth;
    /* final evaluation extras and the objective */
    double lpips, clip, value;
    unsigned long long session_id, train_seed;
    int n_ck;
    ckpt_plan *ck;
} trial_plan;

/* ---------------------------------------------------------------------------
 * The per-trial rules
 * ------------------------------------------------------------------------- */

static trial_state trial_state_of(const sr_synth_opts *o, int num)
{
    if (o->trials >= 2 && num == o->trials)
        return TRIAL_RUNNING;
    if (o->trials >= 4 && num == 3)
        return TRIAL_FAILED;
    return TRIAL_COMPLETE;
}

/* The running trial has saved epoch checkpoints up to this epoch. */
static int running_last_epoch(const sr_synth_opts *o)
{
    int e = (2 * o->epochs) / 3;
    return e < o->save_every ? o->save_every : e;
}

/* Epochs with a checkpoint; returns how many (final included). */
static int checkpoint_epochs(const sr_synth_opts *o, trial_state st, int *out)
{
    int n = 0;
    for (int e = o->save_every; e < o->epochs; e += o->save_every) {
        if (st == TRIAL_FAILED && n == 2)
            break;
        if (st == TRIAL_RUNNING && e > running_last_epoch(o))
            break;
        out[n++] = e;
    }
    if (st == TRIAL_COMPLETE)
        out[n++] = o->epochs;
    return n;
}

static int checkpoint_is_half_written(const trial_plan *t, int k)
{
    return t->state == TRIAL_RUNNING && k == t->n_ck - 1;
}

static int checkpoint_has_samples(const sr_synth_opts *o, const trial_plan *t, int k)
{
    if (o->samples <= 0 || checkpoint_is_half_written(t, k))
        return 0;
    if (t->num == 2 && k == 0) /* the evaluator never ran */
        return 0;
    return 1;
}

/* ordinal: 1-based count of sampled intermediate checkpoints over the sweep. */
static int checkpoint_has_metrics(const ckpt_plan *c, int ordinal)
{
    if (!c->has_samples)
        return 0;
    if (c->final)
        return 1;
    return ordinal % 3 != 0; /* the evaluator timed out */
}

static int trial_uses_flat_metrics(const trial_plan *t)
{
    return t->num == 2;
}

static int trial_uses_note_summary(const trial_plan *t)
{
    return t->num % 2 == 0;
}

/* Overfitting: high learning rates, and always the highest of the complete trials. */
static void mark_overfitting(trial_plan *tp, int n)
{
    int best = -1;
    for (int i = 0; i < n; i++)
        if (tp[i].state == TRIAL_COMPLETE && (best < 0 || tp[i].lr > tp[best].lr))
            best = i;
    for (int i = 0; i < n; i++)
        tp[i].overfit = tp[i].state == TRIAL_COMPLETE && (tp[i].lr >= 4e-4 || i == best);
}

/* ---------------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------------- */

static uint64_t mix_seed(uint64_t a, uint64_t b)
{
    sr_rng r;
    sr_rng_seed(&r, a ^ 0x6a09e667f3bcc909ULL);
    r.state ^= b * 0x9fb21c651e98df25ULL;
    (void)sr_rng_next(&r);
    return sr_rng_next(&r);
}

/* Python's repr() of a float: the shortest text that reads back the same. */
static void py_float(char *buf, size_t len, double v)
{
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, len, "%.*g", p, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    if (!strpbrk(buf, ".eEn")) /* integral: Python writes "16.0" */
        snprintf(buf + strlen(buf), len - strlen(buf), ".0");
}

/* "2025-11-15T10:45:12.123456" (micro) or "2025-11-15T10:45:12". */
static void iso_time(char *buf, size_t len, double t, int micro)
{
    long long us = llround(t * 1e6);
    time_t secs = (time_t)(BASE_UNIX + us / 1000000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char date[32];
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    if (micro)
        snprintf(buf, len, "%s.%06lld", date, us % 1000000);
    else
        snprintf(buf, len, "%s", date);
}

static double uniform(sr_rng *r, double lo, double hi)
{
    return lo + (hi - lo) * sr_rng_uniform(r);
}

static double clamp01(double v)
{
    return v < 0 ? 0 : v > 1 ? 1 : v;
}

static int write_json_file(const char *path, cJSON *doc, char *err, size_t errlen)
{
    char *text = sr_json_print(doc);
    cJSON_Delete(doc);
    int rc = sr_write_file_atomic(path, text, strlen(text), SR_ATOMIC_REPLACE);
    if (rc != 0)
        snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
    free(text);
    return rc;
}

static int write_text_file(const char *path, const sr_buf *b, char *err, size_t errlen)
{
    if (sr_write_file_atomic(path, b->s ? b->s : "", b->len, SR_ATOMIC_REPLACE) != 0) {
        snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

static int make_dir(const char *path, char *err, size_t errlen)
{
    if (sr_mkdir_p(path, 0777) != 0) {
        snprintf(err, errlen, "%s: cannot create the folder: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* A float written as Python's json module would (16.0, 1e-05). */
static void add_pyfloat(cJSON *obj, const char *key, double v)
{
    char buf[40];
    py_float(buf, sizeof buf, v);
    cJSON_AddRawToObject(obj, key, buf);
}

/* ---------------------------------------------------------------------------
 * Planning
 * ------------------------------------------------------------------------- */

static void plan_trial(const sr_synth_opts *o, int num, trial_plan *t)
{
    memset(t, 0, sizeof *t);
    t->num = num;
    t->state = trial_state_of(o, num);
    t->seed = mix_seed(o->seed, (uint64_t)num);
    sr_rng r;
    sr_rng_seed(&r, t->seed);
    /* Hyperparameters, in a fixed order of draws. */
    t->lr = pow(10.0, uniform(&r, -5.0, -3.0));
    t->te_lr = pow(10.0, uniform(&r, log10(5e-6), -4.0));
    t->alpha = sr_rng_uniform(&r) < 0.5 ? (double)o->rank : o->rank / 2.0;
    t->opt = (int)(sr_rng_uniform(&r) * 3);
    t->sched = (int)(sr_rng_uniform(&r) * 3);
    t->gas = sr_rng_uniform(&r) < 0.5 ? 1 : 2;
    /* Everything else about the run. */
    t->steps_per_epoch = (NUM_BATCHES + t->gas - 1) / t->gas;
    t->sec_per_it = uniform(&r, 1.55, 2.35) * t->gas;
    t->session_id = sr_rng_next(&r) & 0xffffffffULL;
    t->train_seed = sr_rng_next(&r) % 100000ULL;
    double sign = sr_rng_uniform(&r) < 0.5 ? -1.0 : 1.0;
    t->tone = sign * uniform(&r, 0.05, 0.11);
    t->warmth = uniform(&r, -0.8, 0.8);
    t->sat_target = (t->opt == 2 ? 1.25 : t->opt == 1 ? 1.15 : 1.05) + (t->alpha == o->rank ? 0.05 : 0.0) +
                    uniform(&r, -0.05, 0.05);
    t->con_target = (t->sched == 1 ? 1.15 : t->sched == 2 ? 1.07 : 1.0) - 0.03 * (t->gas - 1) +
                    uniform(&r, -0.04, 0.04);
    t->lpips = uniform(&r, 0.30, 0.46);
    t->clip = uniform(&r, 0.27, 0.36);
    t->value = NAN;
}

/* Times: trials run one after another; eval times come from per-checkpoint draws. */
static void plan_checkpoints(const sr_synth_opts *o, trial_plan *t, double t_start, int *ordinal)
{
    int *epochs = xmalloc(sizeof(int) * ((size_t)o->epochs / (size_t)o->save_every + 2));
    t->n_ck = checkpoint_epochs(o, t->state, epochs);
    t->ck = xcalloc((size_t)t->n_ck + 1, sizeof *t->ck);
    sr_rng r;
    sr_rng_seed(&r, mix_seed(t->seed, 0xc4ec4ULL));
    t->t_start = t_start;
    t->t_train = t_start + uniform(&r, 40, 70);
    double epoch_s = t->steps_per_epoch * t->sec_per_it;
    for (int k = 0; k < t->n_ck; k++) {
        ckpt_plan *c = &t->ck[k];
        c->epoch = epochs[k];
        c->final = c->epoch == o->epochs;
        if (c->final)
            snprintf(c->stem, sizeof c->stem, "lora_trial_%d", t->num);
        else
            snprintf(c->stem, sizeof c->stem, "lora_trial_%d-%06d", t->num, c->epoch);
        snprintf(c->file, sizeof c->file, "%s.safetensors", c->stem);
        c->partial = checkpoint_is_half_written(t, k);
        c->has_samples = checkpoint_has_samples(o, t, k);
        if (c->has_samples && !c->final)
            (*ordinal)++;
        c->has_metrics = checkpoint_has_metrics(c, *ordinal);
        c->t_saved = t->t_train + c->epoch * epoch_s + uniform(&r, 1, 4);
        c->eval_seconds = round(uniform(&r, c->final ? 60 : 34, c->final ? 95 : 58) * 1000) / 1000;
        c->t_eval = c->t_saved + (c->final ? uniform(&r, 10, 20) : uniform(&r, 3, 30)) + c->eval_seconds;
    }
    free(epochs);
    if (t->state == TRIAL_COMPLETE)
        t->t_end = t->ck[t->n_ck - 1].t_eval + uniform(&r, 5, 15);
    else if (t->state == TRIAL_FAILED) /* dies partway into the epoch after its last checkpoint */
        t->t_end = t->t_train + ((t->n_ck ? t->ck[t->n_ck - 1].epoch : 0) + 0.4) * epoch_s;
    else /* running: now is the moment its newest checkpoint is being written */
        t->t_end = t->n_ck ? t->ck[t->n_ck - 1].t_saved : t->t_train + 0.5 * epoch_s;
}

/* ---------------------------------------------------------------------------
 * Style of the samples
 * ------------------------------------------------------------------------- */

/* 0..1: how much of the trial's look a checkpoint has learned (faster with lr). */
static double learned_share(const trial_plan *t, double p)
{
    double lrn = clamp01((log10(t->lr) + 5.0) / 2.0);
    double speed = 1.2 + 3.0 * lrn;
    return (1.0 - exp(-speed * p)) / (1.0 - exp(-speed));
}

/* 0..1: over-training artifacts, growing over the second half of training. */
static double overfit_amount(const trial_plan *t, double p)
{
    if (!t->overfit)
        return 0;
    double a = clamp01((p - 0.5) / 0.5);
    return pow(a, 1.3);
}

/* Sets a file's modification time to t seconds after the sweep's start. */
static int set_mtime(const char *path, double t, char *err, size_t errlen)
{
    long long ns = llround(t * 1e9);
    struct timespec times[2];
    times[0].tv_sec = times[1].tv_sec = (time_t)(BASE_UNIX + ns / 1000000000);
    times[0].tv_nsec = times[1].tv_nsec = (long)(ns % 1000000000);
    if (utimensat(AT_FDCWD, path, times, 0) != 0) {
        snprintf(err, errlen, "%s: cannot set the modification time: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

static sr_scene_style sample_style(const sr_synth_opts *o, const trial_plan *t, int epoch, int sample)
{
    double p = (double)epoch / o->epochs;
    double l = learned_share(t, p), a = overfit_amount(t, p);
    sr_scene_style s;
    s.prompt_index = sample;
    s.detail = 0.15 + 0.85 * l;
    s.brightness = t->tone * l + 0.03 * a;
    s.saturation = 0.62 + (t->sat_target - 0.62) * l + 1.3 * a;
    s.contrast = 0.80 + (t->con_target - 0.80) * l + 0.8 * a;
    s.warmth = t->warmth * l;
    s.artifacts = a;
    return s;
}

/* ---------------------------------------------------------------------------
 * Metrics (exactly numpy's mean and population std over the uint8 array)
 * ------------------------------------------------------------------------- */

static void image_stats(const uint8_t *rgb, size_t nbytes, double *brightness, double *contrast)
{
    unsigned long long hist[256] = {0}, sum = 0;
    for (size_t i = 0; i < nbytes; i++)
        hist[rgb[i]]++;
    for (int v = 0; v < 256; v++)
        sum += hist[v] * (unsigned long long)v;
    double n = (double)nbytes, mean = (double)sum / n, q = 0;
    for (int v = 0; v < 256; v++)
        if (hist[v]) {
            double d = v - mean;
            q += (double)hist[v] * d * d;
        }
    *brightness = mean / 255.0;
    *contrast = sqrt(q / n) / 255.0;
}

static void mean_std(const double *v, int n, double *mean, double *sd)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += v[i];
    double m = s / n, q = 0;
    for (int i = 0; i < n; i++)
        q += (v[i] - m) * (v[i] - m);
    *mean = m;
    *sd = sqrt(q / n);
}

static double combined_score(double mb, double mc, double sb, double sc, double lpips, double clip)
{
    double pixar = fabs(mb - 0.50) + 0.5 * sb + fabs(mc - 0.20) + 0.5 * sc;
    double lp = fabs(lpips - 0.40);
    double cl = clip < 0.35 ? 0.35 - clip : 0;
    return 0.40 * pixar + 0.30 * lp + 0.30 * cl;
}

/* ---------------------------------------------------------------------------
 * Writers
 * ------------------------------------------------------------------------- */

static cJSON *params_json(const sr_synth_opts *o, const trial_plan *t)
{
    cJSON *p = cJSON_CreateObject();
    add_pyfloat(p, "learning_rate", t->lr);
    add_pyfloat(p, "text_encoder_lr", t->te_lr);
    cJSON_AddNumberToObject(p, "network_dim", o->rank);
    add_pyfloat(p, "network_alpha", t->alpha);
    cJSON_AddStringToObject(p, "optimizer_type", optimizers[t->opt]);
    cJSON_AddStringToObject(p, "lr_scheduler", schedulers[t->sched]);
    cJSON_AddNumberToObject(p, "max_train_epochs", o->epochs);
    cJSON_AddNumberToObject(p, "gradient_accumulation_steps", t->gas);
    cJSON_AddNumberToObject(p, "save_every_n_epochs", o->save_every);
    return p;
}

static int write_params(const char *tdir, const sr_synth_opts *o, const trial_plan *t, char *err, size_t errlen)
{
    char *path = sr_path_join(tdir, "params.json");
    int rc = write_json_file(path, params_json(o, t), err, errlen);
    free(path);
    return rc;
}

static int write_checkpoint(const char *tdir, const sr_synth_opts *o, const trial_plan *t, const ckpt_plan *c,
                            char *err, size_t errlen)
{
    char v[16][64];
    int nv = 0;
#define META_NUM(fmt, val) (snprintf(v[nv], sizeof v[nv], fmt, val), v[nv++])
    char lr[40], te[40], al[40], started[40], finished[40], date[40], outname[40];
    snprintf(outname, sizeof outname, "lora_trial_%d", t->num);
    py_float(lr, sizeof lr, t->lr);
    py_float(te, sizeof te, t->te_lr);
    py_float(al, sizeof al, t->alpha);
    py_float(started, sizeof started, (double)BASE_UNIX + t->t_train);
    py_float(finished, sizeof finished, (double)BASE_UNIX + c->t_saved);
    iso_time(date, sizeof date, c->t_saved, 0);
    sr_lora_meta meta[32];
    size_t n = 0;
#define META(k, val) (meta[n].key = (k), meta[n].value = (val), n++)
    META("ss_epoch", META_NUM("%d", c->epoch));
    META("ss_steps", META_NUM("%d", c->epoch * t->steps_per_epoch));
    META("ss_num_epochs", META_NUM("%d", o->epochs));
    META("ss_max_train_steps", META_NUM("%d", o->epochs * t->steps_per_epoch));
    META("ss_num_batches_per_epoch", META_NUM("%d", NUM_BATCHES));
    META("ss_num_train_images", META_NUM("%d", TRAIN_IMAGES));
    META("ss_batch_size_per_device", META_NUM("%d", BATCH_SIZE));
    META("ss_gradient_accumulation_steps", META_NUM("%d", t->gas));
    META("ss_output_name", outname);
    META("ss_network_module", "networks.lora");
    META("ss_network_dim", META_NUM("%d", o->rank));
    META("ss_network_alpha", al);
    META("ss_learning_rate", lr);
    META("ss_text_encoder_lr", te);
    META("ss_unet_lr", "None");
    META("ss_lr_scheduler", schedulers[t->sched]);
    META("ss_optimizer", optimizer_classes[t->opt]);
    META("ss_mixed_precision", "fp16");
    META("ss_base_model_version", "sd_v1");
    META("ss_sd_model_name", BASE_MODEL);
    META("ss_seed", META_NUM("%llu", t->train_seed));
    META("ss_session_id", META_NUM("%llu", t->session_id));
    META("ss_training_started_at", started);
    if (c->final)
        META("ss_training_finished_at", finished);
    META("modelspec.sai_model_spec", "1.0.0");
    META("modelspec.architecture", "stable-diffusion-v1/lora");
    META("modelspec.title", outname);
    META("modelspec.resolution", "512x512");
    META("modelspec.date", date);
#undef META
#undef META_NUM

    double p = (double)c->epoch / o->epochs;
    double lr_factor = sqrt(t->lr / 1e-4);
    double a = overfit_amount(t, p);
    sr_lora_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.rank = o->rank;
    spec.alpha = t->alpha;
    spec.base_seed = mix_seed(t->seed, 0xba5eULL);
    spec.noise_seed = mix_seed(t->seed, 0x1000ULL + (uint64_t)c->epoch);
    spec.up_scale = 0.01 * lr_factor * p * (1.0 + 1.5 * a);
    spec.up_noise = 0.0012 * lr_factor;
    spec.meta = meta;
    spec.n_meta = n;
    spec.keep_fraction = c->partial ? 0.5 : 1.0;
    char *path = sr_path_join(tdir, c->file);
    int rc = sr_lora_write(path, &spec, err, errlen);
    /* A saved checkpoint was last modified when training saved it; the
     * half-written one is being written now, so it keeps the current time. */
    if (rc == 0 && !c->partial)
        rc = set_mtime(path, c->t_saved, err, errlen);
    free(path);
    return rc;
}

/* Renders (and with write != 0 saves) the samples of a checkpoint; fills its
 * per-sample metrics. */
static int render_samples(const char *outdir, const sr_synth_opts *o, const trial_plan *t, ckpt_plan *c, int count,
                          int write, char *err, size_t errlen)
{
    size_t nbytes = (size_t)o->size * (size_t)o->size * 3;
    uint8_t *rgb = xmalloc(nbytes);
    c->n_samples = count;
    c->bright = xcalloc((size_t)count, sizeof(double));
    c->contrast = xcalloc((size_t)count, sizeof(double));
    int rc = 0;
    for (int s = 0; s < count && rc == 0; s++) {
        sr_scene_style st = sample_style(o, t, c->epoch, s);
        if (sr_scene_render(rgb, o->size, &st) != 0) {
            snprintf(err, errlen, "%s: cannot draw sample %d", outdir, s);
            rc = -1;
            break;
        }
        image_stats(rgb, nbytes, &c->bright[s], &c->contrast[s]);
        if (write) {
            char name[32];
            snprintf(name, sizeof name, "sample_%02d.png", s);
            char *path = sr_path_join(outdir, name);
            rc = sr_png_write_rgb8(path, rgb, o->size, o->size, err, errlen);
            /* the evaluator wrote it before it finished */
            if (rc == 0)
                rc = set_mtime(path, c->t_eval - c->eval_seconds * (count - s) / (count + 1), err, errlen);
            free(path);
        }
    }
    free(rgb);
    if (rc == 0) {
        mean_std(c->bright, count, &c->mean_b, &c->std_b);
        mean_std(c->contrast, count, &c->mean_c, &c->std_c);
    }
    return rc;
}

static void add_metric_fields(cJSON *m, const ckpt_plan *c, const trial_plan *t)
{
    cJSON_AddNumberToObject(m, "total_samples", c->n_samples);
    cJSON_AddItemToObject(m, "avg_brightness", cJSON_CreateDoubleArray(c->bright, c->n_samples));
    cJSON_AddItemToObject(m, "avg_contrast", cJSON_CreateDoubleArray(c->contrast, c->n_samples));
    cJSON_AddNumberToObject(m, "mean_brightness", c->mean_b);
    cJSON_AddNumberToObject(m, "mean_contrast", c->mean_c);
    cJSON_AddNumberToObject(m, "std_brightness", c->std_b);
    cJSON_AddNumberToObject(m, "std_contrast", c->std_c);
    if (c->final) {
        cJSON_AddNumberToObject(m, "lpips_diversity", t->lpips);
        cJSON_AddNumberToObject(m, "clip_consistency", t->clip);
    }
}

static int write_metrics(const char *outdir, const trial_plan *t, const ckpt_plan *c, char *err, size_t errlen)
{
    cJSON *doc = cJSON_CreateObject();
    char when[40];
    iso_time(when, sizeof when, c->t_eval, 1);
    cJSON_AddStringToObject(doc, "checkpoint", c->file);
    if (c->final) {
        cJSON_AddStringToObject(doc, "evaluation_time", when);
    } else {
        cJSON_AddStringToObject(doc, "checkpoint_name", c->stem);
        cJSON_AddNumberToObject(doc, "evaluation_time", c->eval_seconds);
        cJSON_AddStringToObject(doc, "timestamp", when);
    }
    if (trial_uses_flat_metrics(t)) {
        add_metric_fields(doc, c, t);
    } else {
        cJSON *m = cJSON_AddObjectToObject(doc, "metrics");
        add_metric_fields(m, c, t);
    }
    char *path = sr_path_join(outdir, "metrics.json");
    int rc = write_json_file(path, doc, err, errlen);
    free(path);
    return rc;
}

static int write_generation_results(const char *outdir, const trial_plan *t, const ckpt_plan *c, char *err,
                                    size_t errlen)
{
    cJSON *arr = cJSON_CreateArray();
    for (int s = 0; s < c->n_samples; s++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "index", s);
        cJSON_AddStringToObject(e, "prompt", sr_scene_prompt(s));
        char *img = xasprintf(SWEEP_ROOT "/trial_%04d/evaluation/sample_%02d.png", t->num, s);
        cJSON_AddStringToObject(e, "image_path", img);
        free(img);
        cJSON_AddItemToArray(arr, e);
    }
    char *path = sr_path_join(outdir, "generation_results.json");
    int rc = write_json_file(path, arr, err, errlen);
    free(path);
    return rc;
}

/* evaluation_summary.json and evaluation_state.json (intermediate checkpoints only). */
static int write_realtime_summaries(const char *rtdir, const trial_plan *t, char *err, size_t errlen)
{
    int count = 0;
    double last = 0;
    for (int k = 0; k < t->n_ck; k++)
        if (!t->ck[k].final && t->ck[k].has_metrics) {
            count++;
            last = t->ck[k].t_eval;
        }
    if (count == 0)
        return 0;
    char when[40], last_s[40];
    iso_time(last_s, sizeof last_s, last, 1);

    cJSON *sum = cJSON_CreateObject();
    if (trial_uses_note_summary(t)) {
        char *name = xasprintf("trial_%04d", t->num);
        cJSON_AddStringToObject(sum, "trial_name", name);
        free(name);
        cJSON_AddNumberToObject(sum, "total_checkpoints_evaluated", count);
        cJSON *cks = cJSON_AddObjectToObject(sum, "checkpoints");
        for (int k = 0; k < t->n_ck; k++) {
            const ckpt_plan *c = &t->ck[k];
            if (c->final || !c->has_metrics)
                continue;
            cJSON *e = cJSON_AddObjectToObject(cks, c->stem);
            cJSON_AddNumberToObject(e, "epoch", c->epoch);
            cJSON_AddNumberToObject(e, "mean_brightness", c->mean_b);
            cJSON_AddNumberToObject(e, "mean_contrast", c->mean_c);
            iso_time(when, sizeof when, c->t_eval, 0);
            cJSON_AddStringToObject(e, "evaluation_time", when);
        }
        cJSON_AddStringToObject(sum, "last_update", last_s);
    } else {
        char *dir = xasprintf(SWEEP_ROOT "/trial_%04d", t->num);
        cJSON_AddStringToObject(sum, "trial_dir", dir);
        free(dir);
        cJSON_AddNumberToObject(sum, "total_checkpoints_evaluated", count);
        cJSON_AddStringToObject(sum, "last_update", last_s);
        cJSON *cks = cJSON_AddArrayToObject(sum, "checkpoints");
        for (int k = 0; k < t->n_ck; k++) {
            const ckpt_plan *c = &t->ck[k];
            if (c->final || !c->has_metrics)
                continue;
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "name", c->file);
            iso_time(when, sizeof when, c->t_eval, 1);
            cJSON_AddStringToObject(e, "timestamp", when);
            cJSON *m = cJSON_AddObjectToObject(e, "metrics");
            cJSON_AddNumberToObject(m, "total_samples", c->n_samples);
            cJSON_AddNumberToObject(m, "mean_brightness", c->mean_b);
            cJSON_AddNumberToObject(m, "mean_contrast", c->mean_c);
            cJSON_AddNumberToObject(m, "std_brightness", c->std_b);
            cJSON_AddNumberToObject(m, "std_contrast", c->std_c);
            cJSON_AddItemToArray(cks, e);
        }
    }
    char *path = sr_path_join(rtdir, "evaluation_summary.json");
    int rc = write_json_file(path, sum, err, errlen);
    free(path);
    if (rc != 0)
        return rc;

    cJSON *st = cJSON_CreateObject();
    cJSON *done = cJSON_AddArrayToObject(st, "evaluated_checkpoints");
    cJSON *res = cJSON_AddObjectToObject(st, "evaluation_results");
    for (int k = 0; k < t->n_ck; k++) {
        const ckpt_plan *c = &t->ck[k];
        if (c->final || !c->has_metrics)
            continue;
        cJSON_AddItemToArray(done, cJSON_CreateString(c->file));
        cJSON *e = cJSON_AddObjectToObject(res, c->file);
        cJSON_AddNumberToObject(e, "mean_brightness", c->mean_b);
        cJSON_AddNumberToObject(e, "mean_contrast", c->mean_c);
    }
    cJSON_AddStringToObject(st, "last_update", last_s);
    path = sr_path_join(rtdir, "evaluation_state.json");
    rc = write_json_file(path, st, err, errlen);
    free(path);
    return rc;
}

/* ---------------------------------------------------------------------------
 * training.log
 * ------------------------------------------------------------------------- */

static void fmt_interval(char *buf, size_t len, double secs)
{
    long s = (long)secs;
    if (s >= 3600)
        snprintf(buf, len, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
    else
        snprintf(buf, len, "%02ld:%02ld", s / 60, s % 60);
}

/* One tqdm line: "steps:  30%|███       | 36/120 [01:12<02:48,  2.00s/it, avr_loss=0.0912]". */
static void log_progress(sr_buf *b, int step, int total, double s_it, double loss)
{
    static const char *const parts[] = {" ", "▏", "▎", "▍", "▌", "▋", "▊", "▉"};
    double frac = (double)step / total;
    int eighths = (int)(frac * 10 * 8);
    int full = eighths / 8, part = eighths % 8;
    sr_buf_printf(b, "steps: %3.0f%%|", frac * 100);
    for (int i = 0; i < full && i < 10; i++)
        sr_buf_puts(b, "█");
    if (full < 10) {
        sr_buf_puts(b, parts[part]);
        for (int i = full + 1; i < 10; i++)
            sr_buf_puts(b, " ");
    }
    if (step == 0) {
        sr_buf_printf(b, "| 0/%d [00:00<?, ?it/s]\n", total);
        return;
    }
    char el[24], rem[24];
    fmt_interval(el, sizeof el, step * s_it);
    fmt_interval(rem, sizeof rem, (total - step) * s_it);
    sr_buf_printf(b, "| %d/%d [%s<%s, %5.2fs/it, avr_loss=%.3g]\n", step, total, el, rem, s_it, loss);
}

static double loss_at(const trial_plan *t, double q, sr_rng *r)
{
    double wiggle = 0.004 * (sr_rng_uniform(r) - 0.5);
    if (t->overfit) /* falls fast, then flat */
        return 0.048 + 0.085 * exp(-9.0 * q) + wiggle;
    double lrn = clamp01((log10(t->lr) + 5.0) / 2.0);
    return 0.072 + 0.065 * exp(-(1.5 + 1.5 * lrn) * q) + wiggle;
}

static void log_oom(sr_buf *b)
{
    sr_buf_puts(b,
                "Traceback (most recent call last):\n"
                "  File \"/opt/kohya_ss/sd-scripts/train_network.py\", line 1115, in <module>\n"
                "    trainer.train(args)\n"
                "  File \"/opt/kohya_ss/sd-scripts/train_network.py\", line 889, in train\n"
                "    accelerator.backward(loss)\n"
                "  File \"/opt/conda/envs/kohya_ss/lib/python3.10/site-packages/accelerate/accelerator.py\", "
                "line 1995, in backward\n"
                "    self.scaler.scale(loss).backward(**kwargs)\n"
                "  File \"/opt/conda/envs/kohya_ss/lib/python3.10/site-packages/torch/_tensor.py\", line 522, "
                "in backward\n"
                "    torch.autograd.backward(\n"
                "  File \"/opt/conda/envs/kohya_ss/lib/python3.10/site-packages/torch/autograd/__init__.py\", "
                "line 266, in backward\n"
                "    Variable._execution_engine.run_backward(  # Calls into the C++ engine to run the backward "
                "pass\n"
                "torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 640.00 MiB. GPU 0 has a total "
                "capacity of 15.99 GiB of which 212.44 MiB is free. Including non-PyTorch memory, this process has "
                "15.12 GiB memory in use. Of the allocated memory 14.31 GiB is allocated by PyTorch, and 512.37 MiB "
                "is reserved by PyTorch but unallocated. If reserved but unallocated memory is large try setting "
                "PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True to avoid fragmentation.  See documentation for "
                "Memory Management  (https://pytorch.org/docs/stable/notes/cuda.html#environment-variables)\n");
}

static int write_training_log(const char *tdir, const sr_synth_opts *o, const trial_plan *t, char *err,
                              size_t errlen)
{
    sr_buf b;
    sr_buf_init(&b);
    int total = o->epochs * t->steps_per_epoch;
    char al[40];
    py_float(al, sizeof al, t->alpha);
    sr_buf_printf(&b,
                  "prepare tokenizer\n"
                  "update token length: 225\n"
                  "Using DreamBooth method.\n"
                  "prepare images.\n"
                  "found directory /mnt/data/ai_data/datasets/luca/training_data/10_luca contains %d image files\n"
                  "%d train images with repeating.\n"
                  "loading model for process 0/1\n"
                  "load StableDiffusion checkpoint: /mnt/c/AI_LLM_projects/ai_warehouse/models/stable-diffusion/"
                  "checkpoints/" BASE_MODEL "\n"
                  "UNet2DConditionModel: 64, 8, 768, False, False\n"
                  "loading u-net: <All keys matched successfully>\n"
                  "loading vae: <All keys matched successfully>\n"
                  "loading text encoder: <All keys matched successfully>\n"
                  "create LoRA network. base dim (rank): %d, alpha: %s\n"
                  "neuron dropout: p=None, rank dropout: p=None, module dropout: p=None\n"
                  "create LoRA for Text Encoder:\n"
                  "create LoRA for Text Encoder: %d modules.\n"
                  "create LoRA for U-Net: %d modules.\n"
                  "enable LoRA for text encoder\n"
                  "enable LoRA for U-Net\n"
                  "use %s optimizer | {}\n"
                  "running training / 学習開始\n"
                  "  num train images * repeats / 学習画像の数×繰り返し回数: %d\n"
                  "  num reg images / 正則化画像の数: 0\n"
                  "  num batches per epoch / 1epochのバッチ数: %d\n"
                  "  num epochs / epoch数: %d\n"
                  "  batch size per device / バッチサイズ: %d\n"
                  "  gradient accumulation steps / 勾配を合計するステップ数 = %d\n"
                  "  total optimization steps / 学習ステップ数: %d\n",
                  TRAIN_IMAGES / 10, TRAIN_IMAGES, o->rank, al, SR_LORA_SD15_TE_MODULES,
                  SR_LORA_SD15_UNET_MODULES, t->opt == 0 ? "8-bit AdamW" : optimizers[t->opt], TRAIN_IMAGES,
                  NUM_BATCHES, o->epochs, BATCH_SIZE, t->gas, total);
    log_progress(&b, 0, total, t->sec_per_it, 0);

    /* Where the log stops. */
    int last_epoch = o->epochs; /* epochs that run (the last one maybe partly) */
    double stop_frac = 1.0;
    if (t->state == TRIAL_FAILED) {
        last_epoch = (t->n_ck ? t->ck[t->n_ck - 1].epoch : 0) + 1;
        stop_frac = 0.4;
    } else if (t->state == TRIAL_RUNNING) {
        last_epoch = t->n_ck ? t->ck[t->n_ck - 1].epoch : 1;
        stop_frac = t->n_ck ? 1.0 : 0.5;
    }
    sr_rng r;
    sr_rng_seed(&r, mix_seed(t->seed, 0x10a5ULL));
    for (int e = 1; e <= last_epoch; e++) {
        sr_buf_printf(&b, "\nepoch %d/%d\n", e, o->epochs);
        int quarters = e == last_epoch ? (int)(stop_frac * 4 + 0.5) : 4;
        for (int q = 1; q <= quarters; q++) {
            int step = (e - 1) * t->steps_per_epoch + (t->steps_per_epoch * q) / 4;
            if (step < 1)
                step = 1;
            log_progress(&b, step, total, t->sec_per_it, loss_at(t, (double)step / total, &r));
        }
        if (e == last_epoch && stop_frac < 1.0)
            break;
        for (int k = 0; k < t->n_ck; k++)
            if (t->ck[k].epoch == e)
                sr_buf_printf(&b, "\nsaving checkpoint: " SWEEP_ROOT "/trial_%04d/%s\n", t->num, t->ck[k].file);
    }
    if (t->state == TRIAL_FAILED)
        log_oom(&b);
    else if (t->state == TRIAL_COMPLETE)
        sr_buf_puts(&b, "model saved.\n");

    char *path = sr_path_join(tdir, "training.log");
    int rc = write_text_file(path, &b, err, errlen);
    free(path);
    sr_buf_free(&b);
    return rc;
}

/* Steps the trial trained, as training.log tells it. */
static int trained_steps(const sr_synth_opts *o, const trial_plan *t)
{
    if (t->state == TRIAL_FAILED)
        return (t->n_ck ? t->ck[t->n_ck - 1].epoch : 0) * t->steps_per_epoch + (t->steps_per_epoch * 2) / 5;
    if (t->state == TRIAL_RUNNING)
        return (t->n_ck ? t->ck[t->n_ck - 1].epoch : 0) * t->steps_per_epoch;
    return o->epochs * t->steps_per_epoch;
}

/* The learning rate a scheduler gives at fraction q of training. */
static double scheduled_lr(const trial_plan *t, double base, double q)
{
    switch (t->sched) {
    case 0: /* cosine */
        return base * 0.5 * (1.0 + cos(M_PI * q));
    case 2: /* cosine_with_restarts, two cycles */
        return base * 0.5 * (1.0 + cos(M_PI * fmod(2.0 * q, 1.0)));
    default:
        return base;
    }
}

static int write_tensorboard(const char *tdir, const sr_synth_opts *o, const trial_plan *t, char *err,
                             size_t errlen)
{
    char stamp[32];
    time_t start = (time_t)(BASE_UNIX + (long long)t->t_start);
    struct tm tm;
    gmtime_r(&start, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%d%H%M%S", &tm);
    char *dir = xasprintf("%s/logs/%s/network_train", tdir, stamp);
    if (make_dir(dir, err, errlen) != 0) {
        free(dir);
        return -1;
    }
    char *path = xasprintf("%s/events.out.tfevents.%lld.synth.%d.0", dir, (long long)start, t->num);
    double t0 = (double)start;
    sr_tfevents_writer *w = sr_tfevents_open(path, t0, err, errlen);
    int rc = w ? 0 : -1;
    int steps = trained_steps(o, t), total = o->epochs * t->steps_per_epoch;
    sr_rng r;
    sr_rng_seed(&r, mix_seed(t->seed, 0x7b0a4dULL));
    double sum = 0, epoch_sum = 0;
    for (int step = 1; step <= steps && rc == 0; step++) {
        double q = (double)step / total, wall = t0 + step * t->sec_per_it;
        double loss = loss_at(t, q, &r) + 0.02 * (sr_rng_uniform(&r) - 0.5);
        sum += loss;
        epoch_sum += loss;
        rc |= sr_tfevents_add_scalar(w, "loss/current", step, (float)loss, wall);
        rc |= sr_tfevents_add_scalar(w, "loss/average", step, (float)(sum / step), wall);
        rc |= sr_tfevents_add_scalar(w, "lr/unet", step, (float)scheduled_lr(t, t->lr, q), wall);
        rc |= sr_tfevents_add_scalar(w, "lr/textencoder", step, (float)scheduled_lr(t, t->te_lr, q), wall);
        if (step % t->steps_per_epoch == 0) {
            rc |= sr_tfevents_add_scalar(w, "loss/epoch_average", step / t->steps_per_epoch,
                                         (float)(epoch_sum / t->steps_per_epoch), wall);
            epoch_sum = 0;
        }
    }
    if (rc != 0) {
        snprintf(err, errlen, "%s: cannot write the event file", path);
        if (w)
            sr_tfevents_abort(w);
    } else {
        rc = sr_tfevents_close(w, err, errlen);
    }
    free(path);
    free(dir);
    return rc;
}

/* ---------------------------------------------------------------------------
 * One trial
 * ------------------------------------------------------------------------- */

static int write_trial(const char *dir, const sr_synth_opts *o, trial_plan *t, char *err, size_t errlen)
{
    char *tname = xasprintf("trial_%04d", t->num);
    char *tdir = sr_path_join(dir, tname);
    char *rtdir = sr_path_join(tdir, "realtime_evaluations");
    int rc = make_dir(tdir, err, errlen);
    if (rc == 0)
        rc = write_params(tdir, o, t, err, errlen);
    for (int k = 0; k < t->n_ck && rc == 0; k++) {
        ckpt_plan *c = &t->ck[k];
        rc = write_checkpoint(tdir, o, t, c, err, errlen);
        if (rc != 0)
            break;
        if (c->final) {
            /* The final evaluation also scores the trial, even without samples to keep. */
            char *edir = sr_path_join(tdir, "evaluation");
            int write = c->has_samples;
            if (write)
                rc = make_dir(edir, err, errlen);
            if (rc == 0)
                rc = render_samples(edir, o, t, c, write ? o->samples : 1, write, err, errlen);
            if (rc == 0 && write)
                rc = write_metrics(edir, t, c, err, errlen);
            if (rc == 0 && write)
                rc = write_generation_results(edir, t, c, err, errlen);
            if (rc == 0)
                t->value = combined_score(c->mean_b, c->mean_c, c->std_b, c->std_c, t->lpips, t->clip);
            free(edir);
        } else if (c->has_samples) {
            char *cdir = sr_path_join(rtdir, c->stem);
            rc = make_dir(cdir, err, errlen);
            if (rc == 0)
                rc = render_samples(cdir, o, t, c, o->samples, 1, err, errlen);
            if (rc == 0 && c->has_metrics)
                rc = write_metrics(cdir, t, c, err, errlen);
            free(cdir);
        }
    }
    if (rc == 0)
        rc = write_realtime_summaries(rtdir, t, err, errlen);
    if (rc == 0)
        rc = write_training_log(tdir, o, t, err, errlen);
    if (rc == 0)
        rc = write_tensorboard(tdir, o, t, err, errlen);
    free(rtdir);
    free(tdir);
    free(tname);
    return rc;
}

/* ---------------------------------------------------------------------------
 * Study results
 * ------------------------------------------------------------------------- */

static int write_results(const char *dir, const sr_synth_opts *o, const trial_plan *tp, int n, char *err,
                         size_t errlen)
{
    char *rdir = sr_path_join(dir, "results");
    int rc = make_dir(rdir, err, errlen);
    if (rc != 0) {
        free(rdir);
        return rc;
    }
    cJSON *all = cJSON_CreateArray();
    int best = -1;
    for (int i = 0; i < n; i++) {
        const trial_plan *t = &tp[i];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "number", t->num - 1);
        cJSON_AddStringToObject(e, "state",
                                t->state == TRIAL_COMPLETE ? "COMPLETE" : t->state == TRIAL_FAILED ? "PRUNED" : "RUNNING");
        if (t->state == TRIAL_COMPLETE && !isnan(t->value)) {
            cJSON_AddNumberToObject(e, "value", t->value);
            if (best < 0 || t->value < tp[best].value)
                best = i;
        } else {
            cJSON_AddNullToObject(e, "value");
        }
        cJSON_AddItemToObject(e, "params", params_json(o, t));
        cJSON_AddObjectToObject(e, "user_attrs");
        cJSON_AddItemToArray(all, e);
    }
    char *path = sr_path_join(rdir, "all_trials.json");
    rc = write_json_file(path, all, err, errlen);
    free(path);
    if (rc == 0 && best >= 0) {
        const trial_plan *t = &tp[best];
        const ckpt_plan *c = &t->ck[t->n_ck - 1];
        cJSON *b = cJSON_CreateObject();
        cJSON_AddNumberToObject(b, "trial_number", t->num - 1);
        cJSON_AddNumberToObject(b, "combined_score", t->value);
        cJSON_AddItemToObject(b, "parameters", params_json(o, t));
        cJSON *m = cJSON_AddObjectToObject(b, "metrics");
        cJSON_AddNumberToObject(m, "mean_brightness", c->mean_b);
        cJSON_AddNumberToObject(m, "mean_contrast", c->mean_c);
        cJSON_AddNumberToObject(m, "std_brightness", c->std_b);
        cJSON_AddNumberToObject(m, "std_contrast", c->std_c);
        cJSON_AddNumberToObject(m, "lpips_diversity", t->lpips);
        cJSON_AddNumberToObject(m, "clip_consistency", t->clip);
        path = sr_path_join(rdir, "best_parameters.json");
        rc = write_json_file(path, b, err, errlen);
        free(path);
    }
    free(rdir);
    return rc;
}

/* ---------------------------------------------------------------------------
 * Entry points
 * ------------------------------------------------------------------------- */

void sr_synth_defaults(sr_synth_opts *o)
{
    o->trials = 6;
    o->epochs = 10;
    o->save_every = 2;
    o->samples = 4;
    o->size = 128;
    o->rank = 4;
    o->seed = 1;
}

/* 0 when dir is missing or an empty folder. */
static int check_target(const char *dir, char *err, size_t errlen)
{
    struct stat st;
    if (stat(dir, &st) != 0) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: exists and is not a folder", dir);
        return -1;
    }
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "%s: cannot open: %s", dir, strerror(errno));
        return -1;
    }
    struct dirent *de;
    int empty = 1;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
            empty = 0;
            break;
        }
    }
    closedir(d);
    if (!empty) {
        snprintf(err, errlen, "%s: the folder is not empty (refusing to write a sweep into it)", dir);
        return -1;
    }
    return 0;
}

static int check_opts(const sr_synth_opts *o, char *err, size_t errlen)
{
    const char *bad = NULL;
    if (o->trials < 1 || o->trials > 9999)
        bad = "trials must be 1..9999";
    else if (o->epochs < 1 || o->epochs > 999999)
        bad = "epochs must be 1..999999";
    else if (o->save_every < 1)
        bad = "save_every must be at least 1";
    else if (o->samples < 0 || o->samples > 100)
        bad = "samples must be 0..100";
    else if (o->size < 16 || o->size > 4096)
        bad = "size must be 16..4096";
    else if (o->rank < 1 || o->rank > 1024)
        bad = "rank must be 1..1024";
    if (bad) {
        snprintf(err, errlen, "invalid synthetic sweep options: %s", bad);
        return -1;
    }
    return 0;
}

static int write_optuna(const char *dir, const sr_synth_opts *o, const trial_plan *tp, int n, char *err,
                        size_t errlen)
{
    static const char *const state_name[] = {"COMPLETE", "PRUNED", "RUNNING"}; /* by trial_state */
    cJSON *dist = cJSON_CreateObject();
    cJSON_AddItemToObject(dist, "learning_rate", sr_synth_optuna_float_dist(1e-5, 1e-3, 1));
    cJSON_AddItemToObject(dist, "text_encoder_lr", sr_synth_optuna_float_dist(5e-6, 1e-4, 1));
    sr_synth_optuna_add_categorical(dist, "network_dim", cJSON_CreateIntArray(&o->rank, 1));
    sr_synth_optuna_add_categorical(dist, "network_alpha",
                                    sr_synth_optuna_float_choices((double[]){o->rank / 2.0, o->rank}, 2));
    sr_synth_optuna_add_categorical(dist, "optimizer_type", cJSON_CreateStringArray(optimizers, 3));
    sr_synth_optuna_add_categorical(dist, "lr_scheduler", cJSON_CreateStringArray(schedulers, 3));
    sr_synth_optuna_add_categorical(dist, "max_train_epochs", cJSON_CreateIntArray(&o->epochs, 1));
    sr_synth_optuna_add_categorical(dist, "gradient_accumulation_steps", cJSON_CreateIntArray((int[]){1, 2}, 2));
    sr_synth_optuna_add_categorical(dist, "save_every_n_epochs", cJSON_CreateIntArray(&o->save_every, 1));
    sr_synth_optuna_trial *ot = xcalloc((size_t)n, sizeof *ot);
    double *loss = xcalloc((size_t)n * (size_t)o->epochs, sizeof *loss);
    char(*when)[2][40] = xcalloc((size_t)n, sizeof *when);
    for (int i = 0; i < n; i++) {
        const trial_plan *t = &tp[i];
        double *l = loss + (size_t)i * (size_t)o->epochs;
        int done = t->state == TRIAL_COMPLETE                 ? o->epochs
                   : t->state == TRIAL_RUNNING && t->n_ck ? t->ck[t->n_ck - 1].epoch
                                                              : 0;
        sr_rng r; /* training.log's draws again: 4 tqdm lines per epoch, the last one counts */
        sr_rng_seed(&r, mix_seed(t->seed, 0x10a5ULL));
        for (int k = 0; k < done * 4; k++) {
            int step = (k / 4) * t->steps_per_epoch + (t->steps_per_epoch * (k % 4 + 1)) / 4;
            l[k / 4] = loss_at(t, (double)(step < 1 ? 1 : step) / (o->epochs * t->steps_per_epoch), &r);
        }
        iso_time(when[i][0], sizeof when[i][0], t->t_start, 1);
        iso_time(when[i][1], sizeof when[i][1], t->t_end, 1);
        ot[i] = (sr_synth_optuna_trial){t->num - 1, state_name[t->state], t->state == TRIAL_COMPLETE, t->value,
                                        params_json(o, t), dist, NULL, l, done, when[i][0],
                                        t->state == TRIAL_RUNNING ? NULL : when[i][1]};
    }
    char *path = sr_path_join(dir, "optuna_study.db");
    int rc = sr_synth_write_optuna(path, "luca_intermediate_checkpoint_study", "minimize", ot, (size_t)n, err,
                                   errlen);
    for (int i = 0; i < n; i++)
        cJSON_Delete((cJSON *)ot[i].params);
    cJSON_Delete(dist);
    free(path);
    free(when);
    free(loss);
    free(ot);
    return rc;
}

int sr_synth(const char *dir, const sr_synth_opts *opts, char *err, size_t errlen)
{
    sr_synth_opts o;
    if (opts)
        o = *opts;
    else
        sr_synth_defaults(&o);
    if (check_opts(&o, err, errlen) != 0 || check_target(dir, err, errlen) != 0)
        return -1;
    if (make_dir(dir, err, errlen) != 0)
        return -1;

    int n = o.trials;
    trial_plan *tp = xcalloc((size_t)n, sizeof *tp);
    for (int i = 0; i < n; i++)
        plan_trial(&o, i + 1, &tp[i]);
    mark_overfitting(tp, n);
    double t = 0;
    int ordinal = 0;
    for (int i = 0; i < n; i++) {
        plan_checkpoints(&o, &tp[i], t, &ordinal);
        t = tp[i].t_end + 20.0;
    }
    /* the trials are independent (each draws from its own seeds): written in
     * parallel; the first failure in trial order is the one reported */
    char **why = xcalloc((size_t)n, sizeof *why);
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1)
#endif
    for (int i = 0; i < n; i++) {
        char e[1024];
        if (write_trial(dir, &o, &tp[i], e, sizeof e) != 0)
            why[i] = xstrdup(e);
    }
    int rc = 0;
    for (int i = 0; i < n; i++) {
        if (why[i] && rc == 0) {
            snprintf(err, errlen, "%s", why[i]);
            rc = -1;
        }
        free(why[i]);
    }
    free(why);
    if (rc == 0)
        rc = write_results(dir, &o, tp, n, err, errlen);
    if (rc == 0)
        rc = write_optuna(dir, &o, tp, n, err, errlen);
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < tp[i].n_ck; k++) {
            free(tp[i].ck[k].bright);
            free(tp[i].ck[k].contrast);
        }
        free(tp[i].ck);
    }
    free(tp);
    return rc;
}
