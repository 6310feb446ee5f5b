/* scan.c - walks a sweep folder and builds the sweep model. */
#include "config.h"

#include "scan.h"
#include "image_metrics.h"
#include "json.h"
#include "kohya_samples.h"
#include "metrics_read.h"
#include "optuna.h"
#include "optuna_join.h"
#include "safetensors.h"
#include "store.h"
#include "tfevents.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* ---- small helpers ------------------------------------------------------ */

typedef struct {
    char **names;
    size_t n;
    size_t cap;
} name_list;

static void names_add(name_list *l, const char *name)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->names = xrealloc(l->names, l->cap * sizeof *l->names);
    }
    l->names[l->n++] = xstrdup(name);
}

static int cmp_nat(const void *a, const void *b)
{
    return sr_strnatcmp(*(char *const *)a, *(char *const *)b);
}

static void names_sort(name_list *l)
{
    if (l->n > 1)
        qsort(l->names, l->n, sizeof *l->names, cmp_nat);
}

static void names_free(name_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->names[i]);
    free(l->names);
    memset(l, 0, sizeof *l);
}

/* Lists the entries of dir; returns -1 with errno when it cannot be opened. */
static int list_dir(const char *dir, name_list *out)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        names_add(out, e->d_name);
    }
    closedir(d);
    names_sort(out);
    return 0;
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Integer value of a metadata string ("12", "12.0"); -1 when absent or not a number. */
static long meta_long(const sr_safetensors *st, const char *key)
{
    const char *v = sr_st_meta(st, key);
    if (!v || !*v)
        return -1;
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (errno || end == v || *end != '\0' || !isfinite(d) || d < 0 || d > (double)LONG_MAX)
        return -1;
    return (long)d;
}

static double meta_double(const sr_safetensors *st, const char *key)
{
    const char *v = sr_st_meta(st, key);
    if (!v || !*v)
        return NAN;
    char *end;
    double d = strtod(v, &end);
    return (end == v || *end != '\0') ? NAN : d;
}

static char *meta_strdup(const sr_safetensors *st, const char *key)
{
    const char *v = sr_st_meta(st, key);
    return v ? xstrdup(v) : NULL;
}

/* Which family of adapter the tensor names belong to. */
static const char *adapter_format(const sr_safetensors *st)
{
    size_t lora = 0, loha = 0, lokr = 0, peft = 0;
    for (size_t i = 0; i < st->n_tensors; i++) {
        const char *n = st->tensors[i].name;
        if (strstr(n, ".lora_down.") || strstr(n, ".lora_up."))
            lora++;
        else if (strstr(n, ".hada_w"))
            loha++;
        else if (strstr(n, ".lokr_w"))
            lokr++;
        else if (strstr(n, ".lora_A.") || strstr(n, ".lora_B."))
            peft++;
    }
    if (lora)
        return "lora";
    if (loha)
        return "loha";
    if (lokr)
        return "lokr";
    if (peft)
        return "peft";
    return "unknown";
}

/* ---- one checkpoint ----------------------------------------------------- */

sr_ckpt_status sr_settle_status(sr_ckpt_status from_header, int64_t mtime_ns, int64_t now_ns, double settle)
{
    if (!(settle > 0))
        return from_header;
    double age = (double)(now_ns - mtime_ns) / 1e9;
    return fabs(age) < settle ? SR_CKPT_PENDING : from_header;
}

static int64_t mtime_ns_of(const struct stat *st)
{
    return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

/* The settle rule's clock: now, the settle time, and since, when the job
 * began (0: no job): a file modified after the job began, or less than the
 * settle time before, is too recent as well, however long the job took. */
typedef struct {
    int64_t now, since;
    double settle;
} settle_clock;

static int too_recent(const settle_clock *k, int64_t mtime_ns)
{
    if (sr_settle_status(SR_CKPT_OK, mtime_ns, k->now, k->settle) == SR_CKPT_PENDING)
        return 1;
    return k->since && k->settle > 0 && mtime_ns <= k->now &&
           (double)(mtime_ns - k->since) / 1e9 > -k->settle;
}

/* Why a file is too recent to be judged: no age in it, so that it stays the
 * same while nothing changes. */
static char *recent_text(const settle_clock *k, int64_t mtime_ns)
{
    if (mtime_ns > k->now)
        return xasprintf("modified in the future by less than %g s", k->settle);
    if (k->since && mtime_ns > k->since)
        return xstrdup("modified while this run was going on");
    if (k->since && sr_settle_status(SR_CKPT_OK, mtime_ns, k->now, k->settle) != SR_CKPT_PENDING)
        return xasprintf("modified less than %g s before this run began", k->settle);
    return xasprintf("modified less than %g s ago", k->settle);
}

static void read_checkpoint_header(sr_checkpoint *c, const settle_clock *k, sr_problems *problems)
{
    sr_safetensors st;
    sr_st_read(c->path, &st);
    switch (st.status) {
    case SR_ST_OK:
        c->status = SR_CKPT_OK;
        break;
    case SR_ST_INCOMPLETE:
        c->status = SR_CKPT_INCOMPLETE;
        c->problem = xasprintf("incomplete, still being written or cut: %s", st.problem);
        break;
    case SR_ST_INVALID:
        c->status = SR_CKPT_INVALID;
        c->problem = xasprintf("not a valid safetensors file: %s", st.problem);
        break;
    case SR_ST_IO_ERROR:
    default:
        c->status = SR_CKPT_INVALID;
        c->problem = xasprintf("cannot read: %s", st.problem);
        break;
    }
    c->header_hash = st.header_hash;
    if (c->status == SR_CKPT_OK) {
        c->format = adapter_format(&st);
        c->n_tensors = st.n_tensors;
        c->meta.ss_epoch = meta_long(&st, "ss_epoch");
        c->meta.ss_steps = meta_long(&st, "ss_steps");
        c->meta.ss_num_epochs = meta_long(&st, "ss_num_epochs");
        c->meta.ss_num_batches_per_epoch = meta_long(&st, "ss_num_batches_per_epoch");
        c->meta.network_dim = meta_long(&st, "ss_network_dim");
        c->meta.network_alpha = meta_double(&st, "ss_network_alpha");
        c->meta.output_name = meta_strdup(&st, "ss_output_name");
        c->meta.base_model = meta_strdup(&st, "ss_base_model_version");
        c->meta.architecture = meta_strdup(&st, "modelspec.architecture");
        c->meta.sd_model_name = meta_strdup(&st, "ss_sd_model_name");
        c->meta.seed = meta_strdup(&st, "ss_seed");
        c->meta.training_started_at = meta_double(&st, "ss_training_started_at");
        c->meta.training_finished_at = meta_double(&st, "ss_training_finished_at");
    }
    if (too_recent(k, c->mtime_ns)) {
        c->pending = c->status == SR_CKPT_INCOMPLETE ? xasprintf("still being written: %s", st.problem)
                                                     : recent_text(k, c->mtime_ns);
        c->status = SR_CKPT_PENDING;
        c->format = NULL;
        free(c->problem);
        c->problem = NULL;
    }
    if (c->problem)
        sr_problems_add(problems, c->path, "%s", c->problem);
    sr_st_free(&st);
}

/* The settle rule for a checkpoint's samples: an evaluator may still be
 * writing them (more may follow), so a checkpoint with a sample younger than
 * settle is pending as a whole, measured once they have been left alone.
 * Samples already measured as they are now (the store has them: those of
 * --sampler, say, measured by the run that made them) are settled. */
static void settle_samples(sr_checkpoint *c, const char *trial_path, const settle_clock *k)
{
    if (c->status != SR_CKPT_OK || !(k->settle > 0) || c->has_stored_images)
        return;
    for (size_t j = 0; j < c->n_samples; j++) {
        char *p = sr_path_join(trial_path, c->samples[j]);
        struct stat st;
        int young = stat(p, &st) == 0 && too_recent(k, mtime_ns_of(&st));
        free(p);
        if (young) {
            char *when = recent_text(k, mtime_ns_of(&st));
            c->status = SR_CKPT_PENDING;
            c->pending = xasprintf("its samples may still be being written: %s %s", sr_path_base(c->samples[j]), when);
            c->format = NULL;
            free(when);
            return;
        }
    }
}

/* The epoch: from the name, else ss_epoch, else (final model) the number of
 * epochs trained, from the metadata or the trial's parameters. */
static void resolve_epoch_and_step(sr_checkpoint *c, const cJSON *params)
{
    c->epoch = -1;
    c->epoch_from = NULL;
    if (c->name.epoch >= 0) {
        c->epoch = c->name.epoch;
        c->epoch_from = "name";
    } else if (c->meta.ss_epoch >= 0) {
        c->epoch = c->meta.ss_epoch;
        c->epoch_from = "ss_epoch";
    } else if (c->final && c->meta.ss_num_epochs >= 0) {
        c->epoch = c->meta.ss_num_epochs;
        c->epoch_from = "ss_num_epochs";
    } else if (c->final) {
        double e = sr_json_number(params, "max_train_epochs");
        if (isfinite(e) && e >= 0 && e < 1e9) {
            c->epoch = (long)e;
            c->epoch_from = "max_train_epochs";
        }
    }
    c->step = c->meta.ss_steps >= 0 ? c->meta.ss_steps : c->name.step;
}

/* sample_*.png files of one folder, relative to the trial; one that is no
 * regular file (a folder, a FIFO) is named, one gone meanwhile skipped. */
static void collect_samples(sr_checkpoint *c, const char *trial_path, const char *rel_dir, sr_problems *problems)
{
    char *dir = sr_path_join(trial_path, rel_dir);
    name_list l = {0};
    if (list_dir(dir, &l) == 0) {
        for (size_t i = 0; i < l.n; i++) {
            const char *n = l.names[i];
            if (!sr_str_has_prefix(n, "sample_") || !sr_str_has_suffix(n, ".png"))
                continue;
            char *full = sr_path_join(dir, n);
            struct stat st;
            int there = stat(full, &st) == 0, ok = there && S_ISREG(st.st_mode);
            if (there && !ok)
                sr_problems_add(problems, full, "not a regular file, so not a sample");
            free(full);
            if (!ok)
                continue;
            c->samples = xrealloc(c->samples, (c->n_samples + 1) * sizeof *c->samples);
            c->samples[c->n_samples++] = sr_path_join(rel_dir, n);
        }
    }
    names_free(&l);
    free(dir);
}

/* Where an evaluator put the checkpoint's samples and metrics.json: the
 * final model's in evaluation/, the others' in realtime_evaluations/<stem>/
 * (where the final one can also be found). */
static void merge_metrics(sr_metrics *dst, const sr_metrics *src);
static void merge_metrics_of(sr_metrics *dst, const sr_metrics *src, int with_sample_metrics);
static int counts_other_samples(const sr_checkpoint *c, const sr_metrics *m);
static const char *off_scale(const sr_metrics *m, double *value);

static void find_samples_and_metrics(sr_checkpoint *c, const char *trial_path, sr_problems *problems)
{
    char *candidates[2];
    size_t nc = 0;
    if (c->final)
        candidates[nc++] = xstrdup("evaluation");
    candidates[nc++] = xasprintf("realtime_evaluations/%s", c->name.stem);

    for (size_t i = 0; i < nc && !c->samples_dir; i++) {
        char *dir = sr_path_join(trial_path, candidates[i]);
        char *mfile = sr_path_join(dir, "metrics.json");
        int has_dir = sr_is_dir(dir);
        if (has_dir) {
            collect_samples(c, trial_path, candidates[i], problems);
            /* whatever has the name is the evaluator's: eval writes none
             * there, and one that cannot be read is named */
            struct stat st;
            if (stat(mfile, &st) == 0) {
                char err[SR_MSG_MAX];
                sr_metrics_origin origin;
                sr_metrics read = {0};
                c->has_metrics_file = 1;
                if (sr_read_metrics_file_origin(mfile, &read, &origin, err, sizeof err) != 0)
                    sr_problems_add(problems, mfile, "%s", err);
                /* metrics of other samples than are there now (more
                 * arrived, or some were replaced): sweepreport's own file is
                 * out of date, and is written again; another tool's stays,
                 * but its sample metrics are not taken.  Samples deleted to
                 * save space leave it as it is. */
                const int other = counts_other_samples(c, &read);
                if (c->n_samples > 0 && origin.ours &&
                    (origin.has_signature
                         ? origin.samples_signature != sr_samples_signature(trial_path, c->samples, c->n_samples)
                         : other)) {
                    c->own_metrics_stale = c->sample_metrics_stale = 1;
                } else if (!origin.ours && (other || off_scale(&read, NULL))) {
                    double counted = 0, v = 0;
                    sr_metrics_get(&read, "total_samples", &counted);
                    const char *measured = c->n_samples > 0 ? ", eval measures the samples themselves" : "";
                    if (other)
                        sr_problems_add(problems, mfile,
                                        "it counts %g samples, the folder has %zu: its sample metrics are not taken%s "
                                        "(the file is left as it is)",
                                        counted, c->n_samples, measured);
                    else {
                        const char *off = off_scale(&read, &v);
                        sr_problems_add(problems, mfile,
                                        "its %s is %g, outside 0..1 (the 0-255 scale?): its sample metrics are not "
                                        "taken%s (the file is left as it is)",
                                        off, v, measured);
                    }
                    c->sample_metrics_stale = 1;
                    merge_metrics_of(&c->metrics, &read, 0);
                } else {
                    merge_metrics(&c->metrics, &read);
                }
                sr_metrics_free(&read);
            }
            if (c->n_samples > 0 || c->has_metrics_file)
                c->samples_dir = xstrdup(candidates[i]);
        }
        free(mfile);
        free(dir);
    }
    for (size_t i = 0; i < nc; i++)
        free(candidates[i]);
}

static void merge_metrics(sr_metrics *dst, const sr_metrics *src)
{
    if (!src)
        return;
    for (size_t i = 0; i < src->n; i++) {
        double v;
        /* metrics.json wins over the per-trial summaries */
        if (!sr_metrics_get(dst, src->items[i].name, &v))
            sr_metrics_set(dst, src->items[i].name, src->items[i].value);
    }
}

/* 1 when a record of metrics counts other samples than c has now. */
static int counts_other_samples(const sr_checkpoint *c, const sr_metrics *m)
{
    double counted;
    return m && c->n_samples > 0 && sr_metrics_get(m, "total_samples", &counted) && counted != (double)c->n_samples;
}

/* The first of the sample metrics that the seed gives on 0..1 (brightness
 * and contrast as fractions of 255) that lies outside it, with its value
 * (a NaN or an infinity says "not known", not "another scale");
 * NULL when all that are there lie inside. */
static const char *off_scale(const sr_metrics *m, double *value)
{
    static const char *const fractions[] = {"mean_brightness", "mean_contrast", "std_brightness", "std_contrast"};
    double v;
    for (size_t i = 0; m && i < sizeof fractions / sizeof fractions[0]; i++)
        if (sr_metrics_get(m, fractions[i], &v) && isfinite(v) && (v < 0.0 || v > 1.0)) {
            if (value)
                *value = v;
            return fractions[i];
        }
    return NULL;
}

/* merge_metrics, leaving out the metrics of samples (sr_is_sample_metric)
 * unless with_sample_metrics. */
static void merge_metrics_of(sr_metrics *dst, const sr_metrics *src, int with_sample_metrics)
{
    if (!src || with_sample_metrics) {
        merge_metrics(dst, src);
        return;
    }
    sr_metrics kept = {0};
    for (size_t k = 0; k < src->n; k++)
        if (!sr_is_sample_metric(src->items[k].name))
            sr_metrics_set(&kept, src->items[k].name, src->items[k].value);
    merge_metrics(dst, &kept);
    sr_metrics_free(&kept);
}

/* ---- kohya's training-time samples ----------------------------------------- */

typedef struct {
    char *rel;          /* sample/<name> */
    sr_kohya_sample s;
} training_sample;

static int training_sample_order(const void *pa, const void *pb)
{
    const training_sample *a = pa, *b = pb;
    if (a->s.prompt != b->s.prompt)
        return a->s.prompt < b->s.prompt ? -1 : 1;
    return strcmp(a->rel, b->rel);
}

static int sample_belongs_to(const sr_kohya_sample *s, const sr_checkpoint *c)
{
    if (s->output_name[0] && strcmp(s->output_name, c->name.output_name) != 0 &&
        !(c->meta.output_name && strcmp(s->output_name, c->meta.output_name) == 0))
        return 0;
    if (s->epoch >= 0)
        return c->name.kind != SR_CKPT_STEP && c->epoch == s->epoch;
    return c->step >= 0 && c->step == s->step;
}

/* Samples kohya rendered while training (<trial>/sample/) become the samples
 * of the checkpoint saved at the same epoch or step, when an evaluator left
 * none for it.  e000000 images (before training) belong to the trial. */
static void attach_training_samples(sr_trial *t)
{
    char *dir = sr_path_join(t->path, "sample");
    name_list l = {0};
    if (list_dir(dir, &l) != 0) {
        free(dir);
        return;
    }
    training_sample *ts = xcalloc(l.n, sizeof *ts);
    size_t n = 0;
    for (size_t i = 0; i < l.n; i++) {
        if (sr_kohya_sample_parse(l.names[i], &ts[n].s) != 0)
            continue;
        ts[n++].rel = sr_path_join("sample", l.names[i]);
    }
    if (n > 1)
        qsort(ts, n, sizeof *ts, training_sample_order);
    for (size_t i = 0; i < n; i++) {
        if (ts[i].s.epoch == 0) {
            t->baseline_samples = xrealloc(t->baseline_samples, (t->n_baseline_samples + 1) * sizeof(char *));
            t->baseline_samples[t->n_baseline_samples++] = xstrdup(ts[i].rel);
            continue;
        }
        for (size_t j = 0; j < t->n_ckpts; j++) {
            sr_checkpoint *c = &t->ckpts[j];
            if (c->status != SR_CKPT_OK || (c->n_samples && !c->samples_from_training) ||
                !sample_belongs_to(&ts[i].s, c))
                continue;
            c->samples = xrealloc(c->samples, (c->n_samples + 1) * sizeof *c->samples);
            c->samples[c->n_samples++] = xstrdup(ts[i].rel);
            c->samples_from_training = 1;
            if (!c->samples_dir)
                c->samples_dir = xstrdup("sample");
            break;
        }
    }
    for (size_t i = 0; i < n; i++) {
        free(ts[i].rel);
        sr_kohya_sample_free(&ts[i].s);
    }
    free(ts);
    names_free(&l);
    free(dir);
}

/* ---- one trial ---------------------------------------------------------- */

typedef struct {
    sr_metrics_index summary;
    sr_metrics_index state;
    char *path[2]; /* of the summary, of the state */
} trial_records;

static void read_trial_records(const char *trial_path, trial_records *r, sr_problems *problems)
{
    static const char *const files[] = {"realtime_evaluations/evaluation_summary.json",
                                        "realtime_evaluations/evaluation_state.json"};
    for (int i = 0; i < 2; i++) {
        char *p = r->path[i] = sr_path_join(trial_path, files[i]);
        if (file_exists(p)) {
            char err[SR_MSG_MAX];
            int rc = i == 0 ? sr_read_evaluation_summary(p, &r->summary, err, sizeof err)
                            : sr_read_evaluation_state(p, &r->state, err, sizeof err);
            if (rc != 0)
                sr_problems_add(problems, p, "%s", err);
        }
    }
}

static void read_params(sr_trial *t, sr_problems *problems)
{
    char *p = sr_path_join(t->path, "params.json");
    struct stat st;
    if (stat(p, &st) != 0) {
        if (errno == ENOENT)
            sr_problems_add(problems, p, "missing: the trial has no hyperparameters");
        else
            sr_problems_add(problems, p, "cannot read: %s", strerror(errno));
    } else {
        char err[SR_MSG_MAX];
        cJSON *j = sr_json_load(p, err, sizeof err);
        if (!j)
            sr_problems_add(problems, p, "%s", err);
        else if (!cJSON_IsObject(j)) {
            sr_problems_add(problems, p, "expected a JSON object of hyperparameters");
            cJSON_Delete(j);
        } else
            t->params = j;
    }
    free(p);
}

static int ckpt_order(const void *pa, const void *pb)
{
    const sr_checkpoint *a = pa, *b = pb;
    if (a->final != b->final)
        return a->final ? 1 : -1;
    long ea = a->epoch < 0 ? LONG_MAX : a->epoch, eb = b->epoch < 0 ? LONG_MAX : b->epoch;
    if (ea != eb)
        return ea < eb ? -1 : 1;
    long sa = a->step < 0 ? LONG_MAX : a->step, sb = b->step < 0 ? LONG_MAX : b->step;
    if (sa != sb)
        return sa < sb ? -1 : 1;
    return sr_strnatcmp(a->file, b->file);
}

/* The seed's objective of the numbers the report shows: the evaluator's
 * pixar_score where it wrote one, else the formula over the brightness and
 * contrast that are shown, from whichever source each came.  So a measured
 * pixar_score is kept only where no other source gave any of the four.  A
 * NaN of another source says "not known": the measured number takes its
 * place. */
static const char *const pixar_inputs[4] = {"mean_brightness", "std_brightness", "mean_contrast", "std_contrast"};

static void merge_images(sr_metrics *dst, const sr_metrics *measured)
{
    double v, in[4];
    int from_elsewhere = 0;
    for (int i = 0; i < 4; i++)
        from_elsewhere |= sr_metrics_get(dst, pixar_inputs[i], &v) && isfinite(v);
    for (size_t k = 0; k < measured->n; k++) {
        const char *name = measured->items[k].name;
        if (from_elsewhere && strcmp(name, "pixar_score") == 0)
            continue;
        if (!sr_metrics_get(dst, name, &v) || (!isfinite(v) && isfinite(measured->items[k].value)))
            sr_metrics_set(dst, name, measured->items[k].value);
    }
    if (!from_elsewhere)
        return;
    if (sr_metrics_get(dst, "pixar_score", &v))
        return; /* the evaluator's own */
    for (int i = 0; i < 4; i++)
        if (!sr_metrics_get(dst, pixar_inputs[i], &in[i]))
            return;
    sr_metrics_set(dst, "pixar_score", sr_pixar_score(in[0], in[1], in[2], in[3]));
}

/* sweepreport's own earlier measurements of this very file and samples. */
static void merge_stored(sr_checkpoint *c, const char *sweep_path, const char *trial_path, sr_problems *problems)
{
    sr_measurement m;
    char err[SR_MSG_MAX];
    int rc = sr_store_load(sweep_path, c->rel_path, c, trial_path, &m, err, sizeof err);
    if (rc < 0) {
        char *p = sr_store_record_path(sweep_path, c->rel_path);
        sr_problems_add(problems, p, "%s (it will be measured again)", err);
        free(p);
        return;
    }
    if (rc == 0)
        return;
    c->has_stored_weights = m.has_weights;
    c->has_stored_drift_from = m.has_drift_from;
    c->stored_drift_from = m.drift_from;
    c->stored_unmeasurable = m.has_weights && sr_store_weights_unmeasurable(&m.weights);
    c->has_stored_images = m.has_images;
    if (m.has_weights && sr_store_weights_unmeasurable(&m.weights)) {
        /* nothing of it could be measured: named on every run, and no norm
         * or drift kept (records of older versions hold zeros) */
        double unmeasured = 0;
        sr_metrics_get(&m.weights, "weight_modules_unmeasured", &unmeasured);
        sr_problems_add(problems, c->path, SR_STORE_UNMEASURABLE, unmeasured);
        sr_metrics kept = {0};
        for (size_t i = 0; i < m.weights.n; i++) {
            const char *name = m.weights.items[i].name;
            if (!sr_str_has_prefix(name, "weight_norm_") && strcmp(name, "weight_delta_norm") != 0 &&
                strcmp(name, "weight_drift") != 0 && strcmp(name, "weight_effective_rank") != 0)
                sr_metrics_set(&kept, name, m.weights.items[i].value);
        }
        merge_metrics(&c->metrics, &kept);
        sr_metrics_free(&kept);
    } else if (m.has_weights) {
        merge_metrics(&c->metrics, &m.weights);
    }
    if (m.has_images)
        merge_images(&c->metrics, &m.images);
    sr_measurement_free(&m);
}

/* Optimizer steps per epoch, to put TensorBoard's steps on the epoch axis:
 * ss_steps / ss_epoch of a saved checkpoint, else ss_num_batches_per_epoch
 * over the gradient accumulation steps. */
static double steps_per_epoch(const sr_trial *t)
{
    for (size_t i = 0; i < t->n_ckpts; i++) {
        const sr_checkpoint *c = &t->ckpts[i];
        if (c->status == SR_CKPT_OK && c->meta.ss_steps > 0 && c->meta.ss_epoch > 0)
            return (double)c->meta.ss_steps / (double)c->meta.ss_epoch;
    }
    for (size_t i = 0; i < t->n_ckpts; i++) {
        const sr_checkpoint *c = &t->ckpts[i];
        if (c->status == SR_CKPT_OK && c->step > 0 && c->epoch > 0)
            return (double)c->step / (double)c->epoch;
    }
    /* kohya counts batches; an optimizer step takes gradient_accumulation_steps of them */
    double gas = sr_json_number(t->params, "gradient_accumulation_steps");
    if (!(gas >= 1))
        gas = 1;
    for (size_t i = 0; i < t->n_ckpts; i++) {
        const sr_checkpoint *c = &t->ckpts[i];
        if (c->status == SR_CKPT_OK && c->meta.ss_num_batches_per_epoch > 0)
            return ceil((double)c->meta.ss_num_batches_per_epoch / gas);
    }
    return 0;
}

static void scan_trial(sr_trial *t, const char *sweep_path, const settle_clock *k, sr_problems *problems)
{
    read_params(t, problems);
    name_list entries = {0};
    if (list_dir(t->path, &entries) != 0) {
        sr_problems_add(problems, t->path, "cannot list the trial folder: %s", strerror(errno));
        return;
    }
    trial_records rec;
    memset(&rec, 0, sizeof rec);
    read_trial_records(t->path, &rec, problems);

    for (size_t i = 0; i < entries.n; i++) {
        const char *name = entries.names[i];
        sr_ckpt_name cn;
        if (sr_ckpt_parse_name(name, &cn) != 0)
            continue;
        char *path = sr_path_join(t->path, name);
        struct stat st;
        if (stat(path, &st) != 0) {
            sr_problems_add(problems, path, "cannot read: %s", strerror(errno));
            free(path);
            sr_ckpt_name_free(&cn);
            continue;
        }
        if (!S_ISREG(st.st_mode)) {
            sr_problems_add(problems, path, "not a regular file, so not a checkpoint");
            free(path);
            sr_ckpt_name_free(&cn);
            continue;
        }
        t->ckpts = xrealloc(t->ckpts, (t->n_ckpts + 1) * sizeof *t->ckpts);
        sr_checkpoint *c = &t->ckpts[t->n_ckpts++];
        memset(c, 0, sizeof *c);
        c->file = xstrdup(name);
        c->path = path;
        c->rel_path = xasprintf("%s/%s", t->name, name);
        c->name = cn;
        c->final = cn.kind == SR_CKPT_FINAL;
        c->size = (uint64_t)st.st_size;
        c->mtime_ns = mtime_ns_of(&st);
        c->meta.ss_epoch = c->meta.ss_steps = c->meta.ss_num_epochs = -1;
        c->meta.ss_num_batches_per_epoch = c->meta.network_dim = -1;
        c->meta.network_alpha = NAN;
        c->meta.training_started_at = c->meta.training_finished_at = NAN;
        read_checkpoint_header(c, k, problems);
        resolve_epoch_and_step(c, t->params);
        find_samples_and_metrics(c, t->path, problems);
        /* the evaluator's per-trial files: of the same samples, unless
         * those changed since */
        const sr_metrics *recs[2] = {sr_metrics_index_find(&rec.summary, cn.stem),
                                     sr_metrics_index_find(&rec.state, cn.stem)};
        for (int r = 0; r < 2; r++) {
            double v;
            const char *off = off_scale(recs[r], &v);
            if (off)
                sr_problems_add(problems, rec.path[r],
                                "%s: its %s is %g, outside 0..1 (the 0-255 scale?): its sample metrics are not taken",
                                cn.stem, off, v);
            merge_metrics_of(&c->metrics, recs[r],
                             !c->sample_metrics_stale && !counts_other_samples(c, recs[r]) && !off);
        }
    }
    attach_training_samples(t);
    for (size_t i = 0; i < t->n_ckpts; i++) {
        if (t->ckpts[i].status == SR_CKPT_OK)
            merge_stored(&t->ckpts[i], sweep_path, t->path, problems);
        settle_samples(&t->ckpts[i], t->path, k);
    }
    if (t->n_ckpts > 1)
        qsort(t->ckpts, t->n_ckpts, sizeof *t->ckpts, ckpt_order);
    if (t->n_ckpts == 0)
        sr_problems_add(problems, t->path, "no checkpoint in this trial");
    t->steps_per_epoch = steps_per_epoch(t);
    sr_tfevents_read_trial(t->path, &t->scalars, problems);
    sr_metrics_index_free(&rec.summary);
    sr_metrics_index_free(&rec.state);
    free(rec.path[0]);
    free(rec.path[1]);
    names_free(&entries);
}

/* ---- the sweep ---------------------------------------------------------- */

/* The Optuna study: the storage given, else SWEEP/optuna_study.db, else the
 * JSON files the seed pipeline writes into results/. */
static void load_study(sr_sweep *s, const sr_scan_opts *opts)
{
    char err[SR_MSG_MAX];
    sr_study *study = xcalloc(1, sizeof *study);
    char *db = opts->study_path ? xstrdup(opts->study_path) : sr_path_join(s->path, "optuna_study.db");
    int loaded = 0;
    struct stat st;
    int there = stat(db, &st) == 0;
    if (there && !S_ISREG(st.st_mode)) {
        sr_problems_add(&s->problems, db, "not a regular file, so not an Optuna storage");
    } else if (there) {
        if (sr_study_load_sqlite(db, opts->study_name, study, &s->problems, err, sizeof err) == 0)
            loaded = 1;
        else
            sr_problems_add(&s->problems, db, "%s", err);
    } else if (opts->study_path) {
        sr_problems_add(&s->problems, db, "no such Optuna storage");
    } else if (opts->study_name) {
        sr_problems_add(&s->problems, db, "no such Optuna storage to find the study \"%s\" in", opts->study_name);
    }
    /* the seed's results file stands in for the database only when no
     * study was asked for: one that was asked for and cannot be used leaves
     * the sweep without a study, never with another one */
    if (!loaded && !opts->study_path && !opts->study_name) {
        char *results = sr_path_join(s->path, "results/all_trials.json");
        if (file_exists(results)) {
            if (sr_study_load_results(s->path, study, &s->problems, err, sizeof err) == 0)
                loaded = 1;
            else
                sr_problems_add(&s->problems, results, "%s", err);
        }
        free(results);
    }
    free(db);
    if (!loaded) {
        free(study);
        return;
    }
    s->study = study;
    sr_join_folder *folders = xcalloc(s->n_trials, sizeof *folders);
    for (size_t i = 0; i < s->n_trials; i++) {
        folders[i].name = s->trials[i].name;
        folders[i].params = s->trials[i].params;
    }
    sr_join j;
    sr_study_join(study, folders, s->n_trials, &j, &s->problems, s->path);
    for (size_t i = 0; i < s->n_trials; i++)
        if (j.trial_of_folder[i] >= 0)
            s->trials[i].optuna = &study->trials[j.trial_of_folder[i]];
    sr_join_free(&j);
    free(folders);
}

int sr_scan(const char *sweep_path, sr_sweep *out, char *err, size_t errlen)
{
    sr_scan_opts opts = {0};
    return sr_scan_with(sweep_path, &opts, out, err, errlen);
}

int sr_scan_with(const char *sweep_path, const sr_scan_opts *opts, sr_sweep *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    struct stat st;
    if (stat(sweep_path, &st) != 0) {
        snprintf(err, errlen, "%s: cannot open the sweep folder: %s", sweep_path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: not a folder", sweep_path);
        return -1;
    }
    name_list entries = {0};
    if (list_dir(sweep_path, &entries) != 0) {
        snprintf(err, errlen, "%s: cannot list the sweep folder: %s", sweep_path, strerror(errno));
        return -1;
    }
    char *real = realpath(sweep_path, NULL);
    out->path = real ? xstrdup(real) : xstrdup(sweep_path);
    free(real);
    sr_problems_init(&out->problems);

    for (size_t i = 0; i < entries.n; i++) {
        const char *name = entries.names[i];
        if (!sr_str_has_prefix(name, "trial_"))
            continue;
        char *path = sr_path_join(out->path, name);
        if (stat(path, &st) != 0) {
            sr_problems_add(&out->problems, path, "cannot open: %s", strerror(errno));
            free(path);
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            free(path);
            continue;
        }
        out->trials = xrealloc(out->trials, (out->n_trials + 1) * sizeof *out->trials);
        sr_trial *t = &out->trials[out->n_trials++];
        memset(t, 0, sizeof *t);
        t->name = xstrdup(name);
        t->path = path;
    }
    /* Trials are independent: scan them in parallel, each with its own list
     * of problems, then keep the problems in the order of the trials. */
    sr_problems *per_trial = xcalloc(out->n_trials, sizeof *per_trial);
    long n = (long)out->n_trials;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    const settle_clock k = {(int64_t)now.tv_sec * 1000000000 + now.tv_nsec, opts->since_ns, opts->settle};
#pragma omp parallel for schedule(dynamic, 1)
    for (long i = 0; i < n; i++)
        scan_trial(&out->trials[i], out->path, &k, &per_trial[i]);
    for (size_t i = 0; i < out->n_trials; i++) {
        for (size_t j = 0; j < per_trial[i].n; j++)
            sr_problems_add(&out->problems, per_trial[i].items[j].path, "%s", per_trial[i].items[j].problem);
        sr_problems_free(&per_trial[i]);
    }
    free(per_trial);
    if (out->n_trials == 0)
        sr_problems_add(&out->problems, out->path, "no trial_* folder in this sweep");
    load_study(out, opts);
    names_free(&entries);
    return 0;
}
