/* eval.c - measures what a sweep's checkpoints lack. */
#include "config.h"

#include "eval.h"
#include "atomic_file.h"
#include "device.h"
#include "image_measure.h"
#include "metrics_write.h"
#include "png_io.h"
#include "sampler.h"
#include "store.h"
#include "thumbs.h"
#include "util.h"
#include "weight_metrics.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

void sr_eval_defaults(sr_eval_opts *o)
{
    memset(o, 0, sizeof *o);
    o->device = "auto";
    o->sampler_timeout = 600;
    o->sampler_samples = 8;
}

/* The image metrics eval produces; a checkpoint that has all of them from
 * any source needs no image measurement. */
static const char *const image_metric_names[] = {
    "mean_brightness", "mean_contrast",     "std_brightness", "std_contrast", "mean_saturation",
    "mean_sharpness",  "mean_colorfulness", "mean_entropy",   "pixar_score",
};

static int needs_images(const sr_checkpoint *c, int force)
{
    if (c->status != SR_CKPT_OK || c->n_samples == 0)
        return 0;
    if (force)
        return 1;
    if (c->has_stored_images)
        return 0;
    double v;
    for (size_t i = 0; i < sizeof image_metric_names / sizeof image_metric_names[0]; i++)
        if (!sr_metrics_get(&c->metrics, image_metric_names[i], &v))
            return 1;
    return 0;
}

static int needs_weights(const sr_checkpoint *c, int force)
{
    return c->status == SR_CKPT_OK && (force || !c->has_stored_weights);
}

static void now_iso(char *buf, size_t len)
{
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
}

/* ---- the sampler hook ------------------------------------------------------ */

static int is_sample_name(const char *n)
{
    return sr_str_has_prefix(n, "sample_") && sr_str_has_suffix(n, ".png");
}

/* sample_*.png in dir, natural order. */
static size_t list_samples(const char *dir, char ***out)
{
    DIR *d = opendir(dir);
    size_t n = 0;
    *out = NULL;
    if (!d)
        return 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!is_sample_name(e->d_name))
            continue;
        *out = xrealloc(*out, (n + 1) * sizeof **out);
        (*out)[n++] = xstrdup(e->d_name);
    }
    closedir(d);
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && sr_strnatcmp((*out)[j - 1], (*out)[j]) > 0; j--) {
            char *t = (*out)[j];
            (*out)[j] = (*out)[j - 1];
            (*out)[j - 1] = t;
        }
    return n;
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* Renders samples for a checkpoint that has none into
 * realtime_evaluations/<stem>/, the seed evaluator's layout.  The command
 * writes into a hidden temporary folder; only its sample_*.png files are
 * moved into place, never over a file that is there. */
static int run_sampler(const char *sweep_path, const sr_trial *t, sr_checkpoint *c, const sr_sampler *sampler,
                       const sr_eval_opts *o, sr_problems *problems)
{
    char err[512];
    char *rt = sr_path_join(t->path, "realtime_evaluations");
    char *target = sr_path_join(rt, c->name.stem);
    char *tmpl = xasprintf("%s/.%s.tmp-XXXXXX", rt, c->name.stem);
    char *logdir = xasprintf("%s/" SR_STORE_DIR "/logs", sweep_path);
    char *log = xasprintf("%s/sampler-%s-%s.log", logdir, t->name, c->name.stem);
    int rc = -1;
    if (sr_mkdir_p(rt, 0755) != 0 || sr_mkdir_p(logdir, 0755) != 0 || !mkdtemp(tmpl)) {
        sr_problems_add(problems, c->path, "sampler: cannot create a folder for its output: %s", strerror(errno));
        goto out;
    }
    if (sr_sampler_run(sampler, c->path, tmpl, o->sampler_samples, o->sampler_timeout, log, err, sizeof err) != 0) {
        sr_problems_add(problems, c->path, "sampler: %s (log: %s)", err, log);
        goto out;
    }
    char **names;
    size_t n = list_samples(tmpl, &names);
    if (n == 0) {
        sr_problems_add(problems, c->path, "sampler: it wrote no sample_*.png into {outdir} (log: %s)", log);
        goto out;
    }
    struct stat st;
    if (stat(target, &st) != 0 && rename(tmpl, target) == 0) {
        rc = 0;
    } else if (sr_mkdir_p(target, 0755) == 0) {
        size_t moved = 0;
        for (size_t i = 0; i < n; i++) {
            char *from = sr_path_join(tmpl, names[i]), *to = sr_path_join(target, names[i]);
            moved += link(from, to) == 0;
            free(from);
            free(to);
        }
        rc = moved ? 0 : -1;
        if (rc != 0)
            sr_problems_add(problems, target, "sampler: its samples could not be moved here");
    }
    free_names(names, n);
    if (rc == 0) {
        /* the checkpoint's samples are now these */
        for (size_t i = 0; i < c->n_samples; i++)
            free(c->samples[i]);
        free(c->samples);
        free(c->samples_dir);
        c->samples_dir = xasprintf("realtime_evaluations/%s", c->name.stem);
        c->samples_from_training = 0;
        char **fresh;
        size_t m = list_samples(target, &fresh);
        c->samples = xcalloc(m ? m : 1, sizeof *c->samples);
        for (size_t i = 0; i < m; i++)
            c->samples[i] = sr_path_join(c->samples_dir, fresh[i]);
        c->n_samples = m;
        free_names(fresh, m);
        char *mf = sr_path_join(target, "metrics.json");
        c->has_metrics_file = access(mf, F_OK) == 0;
        free(mf);
    }
out:
    if (access(tmpl, F_OK) == 0)
        sr_remove_tree(tmpl);
    free(log);
    free(logdir);
    free(tmpl);
    free(target);
    free(rt);
    return rc;
}

/* ---- thumbnails -------------------------------------------------------- */

/* Keeps a thumbnail of a decoded sample for the report, unless one of this
 * very file is kept already. */
static void keep_thumbnail(const char *sweep_path, const char *rel, const sr_thumb_id *id, const uint8_t *rgb, int w,
                           int h)
{
    uint8_t *t;
    int tw, th;
    char err[256];
    if (sr_thumb_cache_get(sweep_path, rel, id, SR_THUMB_SIDE, &t, &tw, &th, err, sizeof err) == 1) {
        free(t);
        return;
    }
    t = sr_thumb_scale(rgb, w, h, SR_THUMB_SIDE, &tw, &th);
    if (t)
        sr_thumb_cache_put(sweep_path, rel, id, SR_THUMB_SIDE, t, tw, th, err, sizeof err);
    free(t);
}

/* png_io's reasons start with "PATH: "; the problem is the rest (all of it
 * when a long path was cut short in the message). */
static const char *png_reason(const char *why, const char *path)
{
    size_t n = strlen(path);
    return strncmp(why, path, n) == 0 && why[n] == ':' && why[n + 1] == ' ' ? why + n + 2 : why;
}

/* Samples whose metrics are known still need a thumbnail once: decode only
 * those that have none.  One that cannot be decoded is a problem again. */
static void make_missing_thumbnails(const char *sweep_path, const sr_trial *t, const sr_checkpoint *c,
                                    sr_problems *problems)
{
    char **why = xcalloc(c->n_samples ? c->n_samples : 1, sizeof *why);
#pragma omp parallel for schedule(dynamic, 1)
    for (long i = 0; i < (long)c->n_samples; i++) {
        char *abs = sr_path_join(t->path, c->samples[i]);
        char *rel = xasprintf("%s/%s", t->name, c->samples[i]);
        sr_thumb_id id;
        char err[512];
        if (sr_thumb_id_of(abs, &id) == 0) {
            /* the cache names a thumbnail by the sample's version: one that is
             * there is current (the report decodes it, and remakes a bad one) */
            char *cached = sr_thumb_cache_path(sweep_path, rel, &id, SR_THUMB_SIDE);
            struct stat st;
            int have = stat(cached, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
            free(cached);
            if (!have) {
                uint8_t *rgb;
                int w, h;
                if (sr_png_read_rgb8(abs, &rgb, &w, &h, err, sizeof err) == 0) {
                    keep_thumbnail(sweep_path, rel, &id, rgb, w, h);
                    free(rgb);
                } else {
                    why[i] = xstrdup(err);
                }
            }
        }
        free(rel);
        free(abs);
    }
    for (size_t i = 0; i < c->n_samples; i++) {
        if (!why[i])
            continue;
        char *p = sr_path_join(t->path, c->samples[i]);
        sr_problems_add(problems, p, "%s", png_reason(why[i], p));
        free(p);
        free(why[i]);
    }
    free(why);
}

/* ---- image metrics -------------------------------------------------------- */

static int measure_images(const char *sweep_path, const sr_trial *t, const sr_checkpoint *c, const sr_device *dev,
                          sr_metrics *out, sr_image_lists *lists, sr_problems *problems)
{
    size_t n = c->n_samples;
    uint8_t **rgb = xcalloc(n, sizeof *rgb);
    int *w = xcalloc(n, sizeof *w), *h = xcalloc(n, sizeof *h);
    char **why = xcalloc(n, sizeof *why);
    /* every PNG is decoded once, in parallel */
#pragma omp parallel for schedule(dynamic, 1)
    for (long i = 0; i < (long)n; i++) {
        char err[512];
        char *p = sr_path_join(t->path, c->samples[i]);
        sr_thumb_id id;
        int have_id = sr_thumb_id_of(p, &id) == 0; /* before decoding: a rewrite meanwhile is seen */
        if (sr_png_read_rgb8(p, &rgb[i], &w[i], &h[i], err, sizeof err) != 0) {
            why[i] = xstrdup(err);
            rgb[i] = NULL;
        } else if (have_id) {
            char *rel = xasprintf("%s/%s", t->name, c->samples[i]);
            keep_thumbnail(sweep_path, rel, &id, rgb[i], w[i], h[i]);
            free(rel);
        }
        free(p);
    }
    size_t ok = 0;
    for (size_t i = 0; i < n; i++) {
        if (why[i]) {
            char *p = sr_path_join(t->path, c->samples[i]);
            sr_problems_add(problems, p, "%s", png_reason(why[i], p));
            free(p);
            free(why[i]);
            continue;
        }
        rgb[ok] = rgb[i];
        w[ok] = w[i];
        h[ok] = h[i];
        ok++;
    }
    int rc = -1;
    if (ok > 0) {
        sr_image_set set;
        sr_measure_image_set(dev, (const uint8_t *const *)rgb, w, h, ok, &set);
        sr_image_set_aggregate(&set, out, lists);
        sr_image_set_free(&set);
        rc = 0;
    } else {
        sr_problems_add(problems, c->path, "none of its %zu samples could be decoded", n);
    }
    for (size_t i = 0; i < ok; i++)
        free(rgb[i]);
    free(why);
    free(rgb);
    free(w);
    free(h);
    return rc;
}

/* ---- the store ------------------------------------------------------------ */

static void save_record(const char *sweep_path, const sr_trial *t, const sr_checkpoint *c, const sr_metrics *weights,
                        const sr_metrics *images, const char *device, sr_problems *problems)
{
    sr_measurement m;
    char err[512];
    if (sr_store_load(sweep_path, c->rel_path, c, t->path, &m, err, sizeof err) != 1)
        memset(&m, 0, sizeof m);
    free(m.ckpt_rel);
    m.ckpt_rel = xstrdup(c->rel_path);
    m.size = c->size;
    m.mtime_ns = c->mtime_ns;
    m.header_hash = c->header_hash;
    if (weights) {
        sr_metrics_free(&m.weights);
        for (size_t i = 0; i < weights->n; i++)
            sr_metrics_set(&m.weights, weights->items[i].name, weights->items[i].value);
        m.has_weights = 1;
    }
    if (images) {
        sr_metrics_free(&m.images);
        for (size_t i = 0; i < images->n; i++)
            sr_metrics_set(&m.images, images->items[i].name, images->items[i].value);
        m.has_images = 1;
        m.samples_signature = sr_samples_signature(t->path, c->samples, c->n_samples);
    }
    free(m.device);
    m.device = xstrdup(device);
    char when[32];
    now_iso(when, sizeof when);
    free(m.measured_at);
    m.measured_at = xstrdup(when);
    if (sr_store_save(sweep_path, &m, err, sizeof err) != 0)
        sr_problems_add(problems, c->path, "cannot keep its measurements: %s", err);
    sr_measurement_free(&m);
}

/* ---- one trial ---------------------------------------------------------- */

static void eval_trial(const char *sweep_path, sr_trial *t, const sr_device *dev, const sr_sampler *sampler,
                       const sr_eval_opts *o, size_t total, sr_eval_stats *stats, sr_problems *problems)
{
    const char *devname = sr_device_describe(dev);
    size_t n = t->n_ckpts;
    sr_metrics *weights = xcalloc(n ? n : 1, sizeof *weights);
    int *have_weights = xcalloc(n ? n : 1, sizeof *have_weights);

    /* Weights: measured in order, so that each drift has its predecessor.
     * Start at the checkpoint before the first one that needs measuring. */
    size_t first = n;
    for (size_t i = 0; i < n && first == n; i++)
        if (needs_weights(&t->ckpts[i], o->force))
            first = i;
    if (first < n) {
        size_t start = first;
        while (start > 0 && t->ckpts[start - 1].status != SR_CKPT_OK)
            start--;
        if (start > 0)
            start--;
        sr_wm_trial wt;
        sr_wm_trial_init(&wt, dev);
        for (size_t i = start; i < n; i++) {
            sr_checkpoint *c = &t->ckpts[i];
            if (c->status != SR_CKPT_OK)
                continue;
            char err[512];
            sr_st_status st = sr_wm_trial_next(&wt, c->path, &weights[i], err, sizeof err);
            if (st == SR_ST_OK) {
                have_weights[i] = needs_weights(c, o->force);
            } else if (st == SR_ST_INCOMPLETE) {
                stats->pending++;
            } else {
                sr_problems_add(problems, c->path, "weights not measured: %s", err);
                stats->failed++;
            }
        }
        sr_wm_trial_free(&wt);
    }

    for (size_t i = 0; i < n; i++) {
        sr_checkpoint *c = &t->ckpts[i];
        if (c->status != SR_CKPT_OK) {
            if (c->status == SR_CKPT_PENDING)
                stats->pending++;
            continue;
        }
        stats->checkpoints++;
        if (c->n_samples == 0 && sampler) {
            if (run_sampler(sweep_path, t, c, sampler, o, problems) == 0)
                stats->sampled++;
            else
                stats->failed++;
        }
        sr_metrics images = {0};
        sr_image_lists lists = {0};
        int have_images = 0;
        if (needs_images(c, o->force)) {
            if (measure_images(sweep_path, t, c, dev, &images, &lists, problems) == 0) {
                have_images = 1;
                stats->images_measured++;
                /* metrics.json beside an evaluator's samples that have none */
                if (c->samples_dir && !c->samples_from_training && !c->has_metrics_file) {
                    char err[512];
                    char *dir = sr_path_join(t->path, c->samples_dir);
                    int rc = sr_write_metrics_json(dir, c->file, &lists, &images, err, sizeof err);
                    if (rc == 0)
                        stats->metrics_written++;
                    else if (rc < 0)
                        sr_problems_add(problems, dir, "%s", err);
                    free(dir);
                }
            } else {
                stats->failed++;
            }
        } else if (c->n_samples > 0) {
            make_missing_thumbnails(sweep_path, t, c, problems);
        }
        if (have_weights[i])
            stats->weights_measured++;
        if (have_weights[i] || have_images)
            save_record(sweep_path, t, c, have_weights[i] ? &weights[i] : NULL, have_images ? &images : NULL,
                        devname, problems);
        if (o->verbose && (have_weights[i] || have_images))
            printf("eval: %s: %s%s%s\n", c->rel_path, have_weights[i] ? "weights" : "",
                   have_weights[i] && have_images ? ", " : "", have_images ? "images" : "");
        if (o->progress)
            o->progress(o->progress_ctx, stats->checkpoints, total, c->rel_path,
                        have_weights[i] && have_images ? "weights, images"
                        : have_weights[i]             ? "weights"
                        : have_images                 ? "images"
                                                      : NULL);
        sr_metrics_free(&images);
        sr_image_lists_free(&lists);
    }
    for (size_t i = 0; i < n; i++)
        sr_metrics_free(&weights[i]);
    free(weights);
    free(have_weights);
}

int sr_eval(const char *sweep_path, const sr_eval_opts *o, sr_eval_stats *stats, sr_problems *problems, char *err,
            size_t errlen)
{
    memset(stats, 0, sizeof *stats);
    sr_device dev;
    if (sr_device_select(o->device, &dev, err, errlen) != 0)
        return -1;
    snprintf(stats->device, sizeof stats->device, "%s", sr_device_describe(&dev));
    sr_sampler sampler;
    int has_sampler = 0;
    if (o->sampler) {
        if (sr_sampler_parse(o->sampler, &sampler, err, errlen) != 0)
            return -1;
        has_sampler = 1;
    }
#ifdef _OPENMP
    if (o->jobs > 0)
        omp_set_num_threads(o->jobs);
#endif
    sr_sweep s;
    if (sr_scan_with(sweep_path, &o->scan, &s, err, errlen) != 0) {
        if (has_sampler)
            sr_sampler_free(&sampler);
        return -1;
    }
    for (size_t i = 0; i < s.problems.n; i++)
        sr_problems_add(problems, s.problems.items[i].path, "%s", s.problems.items[i].problem);
    size_t total = 0;
    for (size_t i = 0; i < s.n_trials; i++)
        for (size_t j = 0; j < s.trials[i].n_ckpts; j++)
            total += s.trials[i].ckpts[j].status == SR_CKPT_OK;
    for (size_t i = 0; i < s.n_trials; i++)
        eval_trial(s.path, &s.trials[i], &dev, has_sampler ? &sampler : NULL, o, total, stats, problems);
    sr_sweep_free(&s);
    if (has_sampler)
        sr_sampler_free(&sampler);
    return 0;
}
