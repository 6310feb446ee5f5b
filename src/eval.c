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
#include <math.h>
#include <pthread.h>
#include <stdint.h>
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

void sr_eval_metric_names(sr_metrics *names)
{
    sr_image_metric_names(names);
    sr_wm_metric_names(names);
}

static int needs_images(const sr_checkpoint *c, int force)
{
    if (c->status != SR_CKPT_OK || c->n_samples == 0)
        return 0;
    if (force)
        return 1;
    /* an out-of-date metrics.json of ours is written again when measuring;
     * measured already (the store has these very samples), it is not */
    if (c->has_stored_images)
        return 0;
    if (c->own_metrics_stale)
        return 1;
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

static uint64_t identity_of(const sr_checkpoint *c)
{
    return sr_ckpt_identity(c->rel_path, c->size, c->mtime_ns);
}

/* Checkpoint i's predecessor as far as the scan knows it (the nearest
 * earlier valid checkpoint not known to be unmeasurable): the identity a
 * measurement of i records, 0 when there is none.  measure_weights may
 * yet pass over that one (it cannot be loaded, or turns out unmeasurable):
 * what is recorded is still this, so that the question "is this drift
 * against the checkpoint before it now?" is asked the same way each run,
 * and a checkpoint is measured again only when the scan's picture
 * changes. */
static uint64_t scan_predecessor(const sr_trial *t, size_t i)
{
    for (size_t j = i; j-- > 0;)
        if (t->ckpts[j].status == SR_CKPT_OK && !t->ckpts[j].stored_unmeasurable)
            return identity_of(&t->ckpts[j]);
    return 0;
}

/* 1 when checkpoint i of t has a stored drift against another checkpoint
 * than its predecessor now: one that was pending, cut or not there yet
 * when it was measured, or has been written again since. */
static int drift_outdated(const sr_trial *t, size_t i)
{
    const sr_checkpoint *c = &t->ckpts[i];
    if (!c->has_stored_weights || !c->has_stored_drift_from || c->stored_unmeasurable)
        return 0;
    return scan_predecessor(t, i) != c->stored_drift_from;
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
    char err[SR_MSG_MAX];
    char *rt = sr_path_join(t->path, "realtime_evaluations");
    char *target = sr_path_join(rt, c->name.stem);
    char *tmpl = xasprintf("%s/.%s" SR_TEMP_MARK "XXXXXX", rt, c->name.stem);
    char *logdir = xasprintf("%s/" SR_STORE_DIR "/logs", sweep_path);
    char *log = xasprintf("%s/sampler-%s-%s.log", logdir, t->name, c->name.stem);
    int rc = -1;
    if (sr_mkdir_p(rt, 0777) != 0 || sr_mkdir_p(logdir, 0777) != 0 || !mkdtemp(tmpl)) {
        sr_problems_add(problems, c->path, "sampler: cannot create a folder for its output: %s", strerror(errno));
        goto out;
    }
    /* mkdtemp makes it private; it becomes an ordinary folder of the sweep,
     * readable by whoever reads the report that links its samples */
    (void)chmod(tmpl, 0777 & ~(mode_t)sr_umask());
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
    } else if (sr_mkdir_p(target, 0777) == 0) {
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
        c->own_metrics_stale = 0;
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
    char err[SR_MSG_MAX];
    if (sr_thumb_cache_get(sweep_path, rel, id, SR_THUMB_SIDE, &t, &tw, &th, err, sizeof err) == 1) {
        free(t);
        return;
    }
    t = sr_thumb_scale(rgb, w, h, SR_THUMB_SIDE, &tw, &th);
    if (t)
        sr_thumb_cache_put(sweep_path, rel, id, SR_THUMB_SIDE, t, tw, th, err, sizeof err);
    free(t);
}

/* png_io's reasons start with "PATH: "; the problem is the rest. */
static const char *png_reason(const char *why, const char *path)
{
    return sr_reason_after_path(why, path);
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
        char err[SR_MSG_MAX];
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
        if (!sr_vanished(p))
            sr_problems_add(problems, p, "%s", png_reason(why[i], p));
        free(p);
        free(why[i]);
    }
    free(why);
}

/* ---- image metrics -------------------------------------------------------- */

/* The decoded samples of one checkpoint. */
typedef struct {
    size_t n;      /* samples */
    uint8_t **rgb; /* n RGB8 images; NULL where a sample could not be decoded ... */
    char **why;    /* ... and then why */
    int *w, *h;
} decoded_samples;

/* One sample of a checkpoint. */
typedef struct {
    const char *sweep_path;
    const sr_trial *t;
    const sr_checkpoint *c;
} sample_source;

/* Decodes sample i once and keeps its thumbnail if it has none
 * (sr_sample_decode_fn). */
static int decode_one(void *ctx, size_t i, uint8_t **rgb, int *w, int *h, char **why)
{
    const sample_source *src = ctx;
    char err[SR_MSG_MAX];
    char *p = sr_path_join(src->t->path, src->c->samples[i]);
    sr_thumb_id id;
    int have_id = sr_thumb_id_of(p, &id) == 0; /* before decoding: a rewrite meanwhile is seen */
    int rc = 0;
    if (sr_png_read_rgb8(p, rgb, w, h, err, sizeof err) != 0) {
        *why = xstrdup(err);
        *rgb = NULL;
        rc = -1;
    } else if (have_id) {
        char *rel = xasprintf("%s/%s", src->t->name, src->c->samples[i]);
        keep_thumbnail(src->sweep_path, rel, &id, *rgb, *w, *h);
        free(rel);
    }
    free(p);
    return rc;
}

/* Decodes every sample of the checkpoint once, in parallel, and keeps the
 * thumbnails of those that have none. */
static void decode_samples(const char *sweep_path, const sr_trial *t, const sr_checkpoint *c, decoded_samples *d)
{
    size_t n = c->n_samples;
    d->n = n;
    d->rgb = xcalloc(n ? n : 1, sizeof *d->rgb);
    d->why = xcalloc(n ? n : 1, sizeof *d->why);
    d->w = xcalloc(n ? n : 1, sizeof *d->w);
    d->h = xcalloc(n ? n : 1, sizeof *d->h);
    sample_source src = {sweep_path, t, c};
#pragma omp parallel for schedule(dynamic, 1)
    for (long i = 0; i < (long)n; i++)
        (void)decode_one(&src, (size_t)i, &d->rgb[i], &d->w[i], &d->h[i], &d->why[i]);
}

static void decoded_free(decoded_samples *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free(d->rgb[i]);
        free(d->why[i]);
    }
    free(d->rgb);
    free(d->why);
    free(d->w);
    free(d->h);
    memset(d, 0, sizeof *d);
}

/* Names the samples that could not be decoded (why[i] set) as problems,
 * but those gone since the scan; returns how many are gone. */
static size_t report_undecoded(const sr_trial *t, const sr_checkpoint *c, char *const *why, sr_problems *problems)
{
    size_t gone = 0;
    for (size_t i = 0; i < c->n_samples; i++) {
        if (!why[i])
            continue;
        char *p = sr_path_join(t->path, c->samples[i]);
        if (sr_vanished(p))
            gone++;
        else
            sr_problems_add(problems, p, "%s", png_reason(why[i], p));
        free(p);
    }
    return gone;
}

/* The checkpoint's metrics from its measured set.  Returns 0, -1 when no
 * sample could be decoded, or 1 when a sample is gone since the scan
 * (nothing is kept: the next run measures the samples there are then). */
static int finish_images(const sr_checkpoint *c, const sr_image_set *set, size_t gone, sr_metrics *out,
                         sr_image_lists *lists, sr_problems *problems)
{
    if (gone > 0)
        return 1;
    if (set->n == 0) {
        sr_problems_add(problems, c->path, "none of its %zu samples could be decoded", c->n_samples);
        return -1;
    }
    sr_image_set_aggregate(set, out, lists);
    return 0;
}

/* The image metrics of the decoded samples; those that could not be
 * decoded are problems.  Returns as finish_images. */
static int measure_decoded(const sr_trial *t, const sr_checkpoint *c, decoded_samples *d, const sr_device *dev,
                           sr_metrics *out, sr_image_lists *lists, sr_problems *problems)
{
    size_t n = d->n, ok = 0;
    const uint8_t **rgb = xcalloc(n ? n : 1, sizeof *rgb);
    int *w = xcalloc(n ? n : 1, sizeof *w), *h = xcalloc(n ? n : 1, sizeof *h);
    size_t gone = report_undecoded(t, c, d->why, problems);
    for (size_t i = 0; i < n; i++) {
        if (d->why[i])
            continue;
        rgb[ok] = d->rgb[i];
        w[ok] = d->w[i];
        h[ok] = d->h[i];
        ok++;
    }
    sr_image_set set = {0};
    if (!gone && ok > 0)
        sr_measure_image_set(dev, rgb, w, h, ok, &set);
    int rc = finish_images(c, &set, gone, out, lists, problems);
    sr_image_set_free(&set);
    free(rgb);
    free(w);
    free(h);
    return rc;
}

/* Samples of a checkpoint held in memory at once, at most: one with more
 * is decoded and measured this many at a time (measure_streamed), and is
 * not decoded ahead (below). */
#define SAMPLES_AT_ONCE 64

/* As measure_decoded for a checkpoint with many samples, SAMPLES_AT_ONCE
 * at a time. */
static int measure_streamed(const char *sweep_path, const sr_trial *t, const sr_checkpoint *c, const sr_device *dev,
                            sr_metrics *out, sr_image_lists *lists, sr_problems *problems)
{
    char **why = xcalloc(c->n_samples ? c->n_samples : 1, sizeof *why);
    sample_source src = {sweep_path, t, c};
    sr_image_set set;
    sr_measure_image_stream(dev, c->n_samples, SAMPLES_AT_ONCE, decode_one, &src, &set, why);
    size_t gone = report_undecoded(t, c, why, problems);
    int rc = finish_images(c, &set, gone, out, lists, problems);
    sr_image_set_free(&set);
    for (size_t i = 0; i < c->n_samples; i++)
        free(why[i]);
    free(why);
    return rc;
}

/* ---- the store ------------------------------------------------------------ */

static void save_record(const char *sweep_path, const sr_trial *t, const sr_checkpoint *c, const sr_metrics *weights,
                        uint64_t drift_from, const sr_metrics *images, uint64_t samples_signature, const char *device,
                        sr_problems *problems)
{
    sr_measurement m;
    char err[SR_MSG_MAX];
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
        m.has_drift_from = 1;
        m.drift_from = drift_from;
    }
    if (images) {
        sr_metrics_free(&m.images);
        for (size_t i = 0; i < images->n; i++)
            sr_metrics_set(&m.images, images->items[i].name, images->items[i].value);
        m.has_images = 1;
        m.samples_signature = samples_signature;
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

/* What every worker shares. */
typedef struct {
    const char *sweep_path;
    const sr_eval_opts *o;
    const sr_sampler *sampler;
    pthread_mutex_t *sampler_lock; /* sampler runs one at a time; NULL with one worker */
    pthread_mutex_t *progress_lock; /* guards *done and the progress calls */
    size_t *done;                  /* checkpoints done, for o->progress */
    size_t total;                  /* valid checkpoints of this shard */
} eval_ctx;

static int owned(const eval_ctx *x, const sr_checkpoint *c)
{
    return x->o->shard_count <= 1 || sr_eval_shard_of(c->rel_path, x->o->shard_count) == x->o->shard_index;
}

/* Weight metrics of the trial's checkpoints that this process owns and that
 * need measuring, in order.  The drift of each is against its predecessor:
 * the nearest earlier valid checkpoint of the trial that can be read and
 * has something measured (sr_wm_unmeasurable), whoever owns it.  The last
 * checkpoint read stays in memory, so a process that owns every checkpoint
 * reads each file once; a shard reads a predecessor that another shard owns
 * as well.  A checkpoint that is being written or is gone since the scan is
 * marked in later[]. */
static void measure_weights(const eval_ctx *x, const sr_trial *t, const sr_device *dev, sr_metrics *weights,
                            int *have_weights, uint64_t *drift_from, unsigned char *later, sr_eval_stats *stats,
                            sr_problems *problems)
{
    size_t n = t->n_ckpts;
    unsigned char *unreadable = xcalloc(n ? n : 1, 1); /* or unmeasurable: no predecessor */
    sr_wm_ckpt *prev = NULL; /* the last checkpoint read ... */
    size_t prev_idx = SIZE_MAX; /* ... and its index */
    char err[SR_MSG_MAX];
    for (size_t i = 0; i < n; i++) {
        const sr_checkpoint *c = &t->ckpts[i];
        if (!(needs_weights(c, x->o->force) || (c->status == SR_CKPT_OK && drift_outdated(t, i))) || !owned(x, c))
            continue;
        const sr_wm_ckpt *pred = NULL;
        for (size_t j = i; j-- > 0;) {
            if (j == prev_idx) {
                pred = prev;
                break;
            }
            if (t->ckpts[j].status != SR_CKPT_OK || unreadable[j])
                continue;
            sr_wm_ckpt *p;
            if (sr_wm_load(t->ckpts[j].path, dev, &p, err, sizeof err) != SR_ST_OK) {
                unreadable[j] = 1; /* its owner says why */
                continue;
            }
            if (sr_wm_unmeasurable(sr_wm_summary_of(p))) {
                sr_wm_free(p); /* nothing to drift from: the one before it */
                unreadable[j] = 1;
                continue;
            }
            sr_wm_free(prev);
            prev = p;
            prev_idx = j;
            pred = p;
            break;
        }
        sr_wm_ckpt *cur;
        sr_st_status st = sr_wm_load(c->path, dev, &cur, err, sizeof err);
        if (st == SR_ST_OK) {
            sr_wm_metrics(cur, &weights[i]);
            /* valid, but nothing the formulas cover: named (the scan names
             * it again from the record on every later run) */
            const sr_wm_summary *sum = sr_wm_summary_of(cur);
            const int unmeasurable = sr_wm_unmeasurable(sum);
            if (unmeasurable)
                sr_problems_add(problems, c->path, SR_STORE_UNMEASURABLE, (double)(sum->n_modules - sum->n_measured));
            double d;
            if (pred && sr_wm_drift(cur, pred, dev, &d) == 0 && isfinite(d))
                sr_metrics_set(&weights[i], "weight_drift", d);
            drift_from[i] = scan_predecessor(t, i);
            have_weights[i] = 1;
            if (unmeasurable) { /* never a predecessor */
                sr_wm_free(cur);
                unreadable[i] = 1;
            } else {
                sr_wm_free(prev);
                prev = cur;
                prev_idx = i;
            }
        } else {
            unreadable[i] = 1;
            if (st == SR_ST_INCOMPLETE || sr_vanished(c->path)) {
                later[i] = 1;
            } else {
                sr_problems_add(problems, c->path, "weights not measured: %s", err);
                stats->failed++;
            }
        }
    }
    sr_wm_free(prev);
    free(unreadable);
}

/* Decoding runs ahead by one checkpoint: while one checkpoint's samples are
 * measured (on the GPU, or on the CPU's other threads), and the first
 * ones while the weights are, the next checkpoint's are decoded on a thread
 * of their own.  Only samples already there are decoded ahead (a sampler
 * only makes those of checkpoints that have none), and only for checkpoints
 * of at most SAMPLES_AT_ONCE, so that two checkpoints in memory stay a
 * small cost. */

typedef struct {
    pthread_t thread;
    int running;
    size_t index; /* the checkpoint being decoded */
    const char *sweep_path;
    const sr_trial *t;
    int threads; /* OpenMP threads, as the worker's */
    decoded_samples d;
} decode_ahead;

static void *decode_ahead_main(void *arg)
{
    decode_ahead *a = arg;
#ifdef _OPENMP
    omp_set_num_threads(a->threads);
#endif
    decode_samples(a->sweep_path, a->t, &a->t->ckpts[a->index], &a->d);
    return NULL;
}

/* Starts decoding the first checkpoint from index from on that will need
 * its samples decoded, if any. */
static void decode_ahead_start(decode_ahead *a, const eval_ctx *x, const sr_trial *t, size_t from)
{
    for (size_t j = from; j < t->n_ckpts; j++) {
        const sr_checkpoint *c = &t->ckpts[j];
        if (!owned(x, c) || c->status != SR_CKPT_OK)
            continue;
        if (!needs_images(c, x->o->force))
            continue;
        if (c->n_samples > SAMPLES_AT_ONCE)
            return;
        a->index = j;
        a->sweep_path = x->sweep_path;
        a->t = t;
#ifdef _OPENMP
        a->threads = omp_get_max_threads();
#else
        a->threads = 1;
#endif
        memset(&a->d, 0, sizeof a->d);
        a->running = pthread_create(&a->thread, NULL, decode_ahead_main, a) == 0;
        return;
    }
}

/* The decoded samples of checkpoint i: those decoded ahead, else decoded
 * now.  Then starts on the next. */
static void decode_for(decode_ahead *a, const eval_ctx *x, const sr_trial *t, size_t i, decoded_samples *d)
{
    if (a->running && a->index == i) {
        pthread_join(a->thread, NULL);
        a->running = 0;
        *d = a->d;
    } else {
        decode_samples(x->sweep_path, t, &t->ckpts[i], d);
    }
    if (!a->running)
        decode_ahead_start(a, x, t, i + 1);
}

static void decode_ahead_finish(decode_ahead *a)
{
    if (a->running) {
        pthread_join(a->thread, NULL);
        a->running = 0;
        decoded_free(&a->d);
    }
}

static void eval_trial(const eval_ctx *x, sr_trial *t, const sr_device *dev, sr_eval_stats *stats,
                       sr_problems *problems)
{
    const sr_eval_opts *o = x->o;
    char devname[sizeof dev->name + 32];
    snprintf(devname, sizeof devname, "%s", sr_device_describe(dev));
    size_t n = t->n_ckpts;
    sr_metrics *weights = xcalloc(n ? n : 1, sizeof *weights);
    int *have_weights = xcalloc(n ? n : 1, sizeof *have_weights);
    uint64_t *drift_from = xcalloc(n ? n : 1, sizeof *drift_from);
    unsigned char *later = xcalloc(n ? n : 1, 1); /* changed since the scan: left for the next run */

    /* the first samples are decoded while the weights are measured */
    decode_ahead ahead;
    memset(&ahead, 0, sizeof ahead);
    decode_ahead_start(&ahead, x, t, 0);

    measure_weights(x, t, dev, weights, have_weights, drift_from, later, stats, problems);

    for (size_t i = 0; i < n; i++) {
        sr_checkpoint *c = &t->ckpts[i];
        if (!owned(x, c))
            continue;
        if (c->status != SR_CKPT_OK) {
            if (c->status == SR_CKPT_PENDING)
                stats->pending++;
            continue;
        }
        stats->checkpoints++;
        if (c->n_samples == 0 && x->sampler) {
            if (x->sampler_lock)
                pthread_mutex_lock(x->sampler_lock);
            int rc = run_sampler(x->sweep_path, t, c, x->sampler, o, problems);
            if (x->sampler_lock)
                pthread_mutex_unlock(x->sampler_lock);
            if (rc == 0)
                stats->sampled++;
            else
                stats->failed++;
        }
        sr_metrics images = {0};
        sr_image_lists lists = {0};
        int have_images = 0;
        uint64_t samples_sig = 0;
        if (needs_images(c, o->force)) {
            int mr;
            if (c->n_samples > SAMPLES_AT_ONCE) {
                mr = measure_streamed(x->sweep_path, t, c, dev, &images, &lists, problems);
                if (!ahead.running)
                    decode_ahead_start(&ahead, x, t, i + 1);
            } else {
                decoded_samples d;
                decode_for(&ahead, x, t, i, &d);
                mr = measure_decoded(t, c, &d, dev, &images, &lists, problems);
                decoded_free(&d);
            }
            if (mr == 0) {
                have_images = 1;
                stats->images_measured++;
                /* the samples measured, for the store and our metrics.json alike */
                samples_sig = sr_samples_signature(t->path, c->samples, c->n_samples);
                /* metrics.json beside an evaluator's samples that have none,
                 * or that have ours from other samples */
                if (c->samples_dir && !c->samples_from_training && (!c->has_metrics_file || c->own_metrics_stale)) {
                    char err[SR_MSG_MAX];
                    char *dir = sr_path_join(t->path, c->samples_dir);
                    int rc = sr_write_metrics_json(dir, c->file, &lists, &images, samples_sig, c->own_metrics_stale,
                                                   err, sizeof err);
                    if (rc == 0)
                        stats->metrics_written++;
                    else if (rc < 0)
                        sr_problems_add(problems, dir, "%s", err);
                    free(dir);
                }
            } else if (mr > 0) {
                later[i] = 1;
            } else {
                stats->failed++;
            }
        } else if (c->n_samples > 0) {
            make_missing_thumbnails(x->sweep_path, t, c, problems);
        }
        if (have_weights[i])
            stats->weights_measured++;
        if (later[i])
            stats->pending++;
        if (have_weights[i] || have_images)
            save_record(x->sweep_path, t, c, have_weights[i] ? &weights[i] : NULL, drift_from[i],
                        have_images ? &images : NULL, samples_sig, devname, problems);
        if (o->verbose && (have_weights[i] || have_images)) {
            char *rel = sr_terminal_text(c->rel_path, SIZE_MAX);
            printf("eval: %s: %s%s%s\n", rel, have_weights[i] ? "weights" : "",
                   have_weights[i] && have_images ? ", " : "", have_images ? "images" : "");
            free(rel);
        }
        if (o->progress) {
            pthread_mutex_lock(x->progress_lock);
            size_t done = ++*x->done;
            o->progress(o->progress_ctx, done, x->total, c->rel_path,
                        have_weights[i] && have_images ? "weights, images"
                        : have_weights[i]             ? "weights"
                        : have_images                 ? "images"
                                                      : NULL);
            pthread_mutex_unlock(x->progress_lock);
        }
        sr_metrics_free(&images);
        sr_image_lists_free(&lists);
    }
    decode_ahead_finish(&ahead);
    for (size_t i = 0; i < n; i++)
        sr_metrics_free(&weights[i]);
    free(weights);
    free(have_weights);
    free(drift_from);
    free(later);
}

/* ---- workers: one per device ------------------------------------------------ */

typedef struct {
    const eval_ctx *x;
    sr_sweep *s;
    const sr_device *dev;
    int threads;                 /* OpenMP threads for this worker; 0: as set already */
    pthread_mutex_t *next_lock;  /* guards *next */
    size_t *next;                /* the next trial nobody has taken */
    sr_eval_stats *stats;        /* per trial */
    sr_problems *problems;       /* per trial */
} eval_worker;

static void *worker_main(void *arg)
{
    eval_worker *w = arg;
#ifdef _OPENMP
    if (w->threads > 0)
        omp_set_num_threads(w->threads);
#endif
    for (;;) {
        pthread_mutex_lock(w->next_lock);
        size_t i = (*w->next)++;
        pthread_mutex_unlock(w->next_lock);
        if (i >= w->s->n_trials)
            break;
        eval_trial(w->x, &w->s->trials[i], w->dev, &w->stats[i], &w->problems[i]);
    }
    return NULL;
}

unsigned sr_eval_shard_of(const char *ckpt_rel, unsigned shard_count)
{
    if (shard_count <= 1)
        return 0;
    return (unsigned)(sr_hash64(ckpt_rel, strlen(ckpt_rel)) % shard_count);
}

/* Workers beyond the first run on helper threads that live as long as the
 * process: what a thread keeps for itself -- the GPU buffers the kernels
 * reuse per thread and device, the OpenMP threads it starts -- then serves
 * the next eval in the same process (run --watch) instead of piling up. */
typedef struct {
    int running;       /* the thread exists */
    eval_worker *job;  /* handed over; NULL when idle */
} helper;

static pthread_mutex_t helpers_busy = PTHREAD_MUTEX_INITIALIZER; /* one multi-device eval at a time */
static pthread_mutex_t helpers_lock = PTHREAD_MUTEX_INITIALIZER; /* guards helpers[] */
static pthread_cond_t helpers_cond = PTHREAD_COND_INITIALIZER;
static helper helpers[SR_DEVICE_MAX];

static void *helper_main(void *arg)
{
    helper *h = arg;
    pthread_mutex_lock(&helpers_lock);
    for (;;) {
        while (!h->job)
            pthread_cond_wait(&helpers_cond, &helpers_lock);
        eval_worker *w = h->job;
        pthread_mutex_unlock(&helpers_lock);
        worker_main(w);
        pthread_mutex_lock(&helpers_lock);
        h->job = NULL;
        pthread_cond_broadcast(&helpers_cond);
    }
    return NULL;
}

/* Hands w to helper k, starting it the first time.  0, or -1 when no
 * thread can be started (its trials are then left to the other workers). */
static int helper_start(int k, eval_worker *w)
{
    helper *h = &helpers[k];
    int rc = 0;
    pthread_mutex_lock(&helpers_lock);
    if (!h->running) {
        pthread_t tid;
        if (pthread_create(&tid, NULL, helper_main, h) == 0) {
            pthread_detach(tid);
            h->running = 1;
        }
    }
    if (h->running) {
        h->job = w;
        pthread_cond_broadcast(&helpers_cond);
    } else {
        rc = -1;
    }
    pthread_mutex_unlock(&helpers_lock);
    return rc;
}

static void helpers_wait(int n)
{
    pthread_mutex_lock(&helpers_lock);
    for (int k = 1; k < n; k++)
        while (helpers[k].job)
            pthread_cond_wait(&helpers_cond, &helpers_lock);
    pthread_mutex_unlock(&helpers_lock);
}

/* Measures every trial of s, spread over the devices: the calling thread is
 * the first worker, each further device gets a helper thread.  Trials are
 * taken in order by whichever worker is free; each trial's stats and
 * problems are kept apart and summed up in trial order at the end, so the
 * report does not depend on which worker took what. */
static void eval_trials(const eval_ctx *x, sr_sweep *s, const sr_device_list *devs, sr_eval_stats *stats,
                        sr_problems *problems)
{
    size_t nt = s->n_trials;
    sr_eval_stats *ts = xcalloc(nt ? nt : 1, sizeof *ts);
    sr_problems *tp = xcalloc(nt ? nt : 1, sizeof *tp);
    for (size_t i = 0; i < nt; i++)
        sr_problems_init(&tp[i]);
    int nw = devs->n > 0 ? devs->n : 1;
    if ((size_t)nw > nt)
        nw = nt > 0 ? (int)nt : 1;
    int threads = 0, saved_threads = 0;
#ifdef _OPENMP
    if (nw > 1) {
        /* the cores are shared out among the workers */
        int cores = x->o->jobs > 0 ? x->o->jobs : omp_get_num_procs();
        threads = (cores + nw - 1) / nw;
        saved_threads = omp_get_max_threads();
    }
#endif
    pthread_mutex_t next_lock = PTHREAD_MUTEX_INITIALIZER;
    size_t next = 0;
    eval_worker *w = xcalloc((size_t)nw, sizeof *w);
    for (int k = 0; k < nw; k++)
        w[k] = (eval_worker){.x = x, .s = s, .dev = &devs->dev[k], .threads = threads, .next_lock = &next_lock,
                             .next = &next, .stats = ts, .problems = tp};
    if (nw > 1) {
        pthread_mutex_lock(&helpers_busy);
        for (int k = 1; k < nw; k++)
            (void)helper_start(k, &w[k]);
    }
    worker_main(&w[0]);
    if (nw > 1) {
        helpers_wait(nw);
        pthread_mutex_unlock(&helpers_busy);
#ifdef _OPENMP
        omp_set_num_threads(saved_threads);
#endif
    }
    for (size_t i = 0; i < nt; i++) {
        stats->checkpoints += ts[i].checkpoints;
        stats->pending += ts[i].pending;
        stats->weights_measured += ts[i].weights_measured;
        stats->images_measured += ts[i].images_measured;
        stats->metrics_written += ts[i].metrics_written;
        stats->sampled += ts[i].sampled;
        stats->failed += ts[i].failed;
        for (size_t j = 0; j < tp[i].n; j++) /* the scan may have named it already, from the store */
            if (!sr_problems_has(problems, tp[i].items[j].path, tp[i].items[j].problem))
                sr_problems_add(problems, tp[i].items[j].path, "%s", tp[i].items[j].problem);
        sr_problems_free(&tp[i]);
    }
    free(w);
    free(tp);
    free(ts);
}

int sr_eval(const char *sweep_path, const sr_eval_opts *o, sr_eval_stats *stats, sr_problems *problems, char *err,
            size_t errlen)
{
    memset(stats, 0, sizeof *stats);
    if (o->shard_count > 1 && o->shard_index >= o->shard_count) {
        snprintf(err, errlen, "shard %u/%u does not exist (shards are 0 to %u)", o->shard_index, o->shard_count,
                 o->shard_count - 1);
        return -1;
    }
    sr_device_list *devs = xcalloc(1, sizeof *devs);
    if (o->devices) {
        *devs = *o->devices;
    } else if (sr_device_select_list(o->device, devs, err, errlen) != 0) {
        free(devs);
        return -1;
    }
    if (devs->n < 1) {
        devs->n = 1;
        devs->dev[0] = (sr_device){.kind = SR_DEV_CPU, .index = 0, .name = "cpu"};
    }
    sr_device_list_describe(devs, stats->device, sizeof stats->device);
    sr_sampler sampler;
    int has_sampler = 0;
    if (o->sampler) {
        if (sr_sampler_parse(o->sampler, &sampler, err, errlen) != 0) {
            free(devs);
            return -1;
        }
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
        free(devs);
        return -1;
    }
    for (size_t i = 0; i < s.problems.n; i++)
        sr_problems_add(problems, s.problems.items[i].path, "%s", s.problems.items[i].problem);
    pthread_mutex_t sampler_lock = PTHREAD_MUTEX_INITIALIZER, progress_lock = PTHREAD_MUTEX_INITIALIZER;
    size_t done = 0;
    eval_ctx x = {.sweep_path = s.path,
                  .o = o,
                  .sampler = has_sampler ? &sampler : NULL,
                  .sampler_lock = devs->n > 1 ? &sampler_lock : NULL,
                  .progress_lock = &progress_lock,
                  .done = &done};
    for (size_t i = 0; i < s.n_trials; i++)
        for (size_t j = 0; j < s.trials[i].n_ckpts; j++)
            x.total += s.trials[i].ckpts[j].status == SR_CKPT_OK && owned(&x, &s.trials[i].ckpts[j]);
    eval_trials(&x, &s, devs, stats, problems);
    sr_sweep_free(&s);
    if (has_sampler)
        sr_sampler_free(&sampler);
    free(devs);
    return 0;
}
