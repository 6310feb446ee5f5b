/* eval.h - the measuring stage: whatever a sweep's checkpoints lack.
 *
 * For every valid checkpoint: the weight metrics (from the file itself,
 * drift against the previous checkpoint of its trial) and, when it has
 * samples, the image metrics (each PNG decoded once).  With a sampler
 * command, checkpoints without samples get them first.  Results go to
 * metrics.json beside samples that had none (seed layout) and to
 * sweepreport's store; nothing another tool wrote is modified. */
#ifndef SR_EVAL_H
#define SR_EVAL_H

#include "problems.h"
#include "scan.h"

#include <stddef.h>

typedef struct {
    const char *device;        /* "auto", "cpu", "cuda", "cuda:N" */
    int jobs;                  /* CPU threads; 0: all cores */
    int force;                 /* measure again what is already measured */
    const char *sampler;       /* command template, or NULL */
    double sampler_timeout;    /* seconds */
    int sampler_samples;       /* {n} */
    int verbose;               /* a line per checkpoint */
    int quiet;                 /* nothing but errors */
    sr_scan_opts scan;
    /* Called after each valid checkpoint (done of total) with what was
     * measured: "weights", "images", "weights, images", or NULL for nothing.
     * NULL: no calls. */
    void (*progress)(void *ctx, size_t done, size_t total, const char *rel_path, const char *measured);
    void *progress_ctx;
} sr_eval_opts;

typedef struct {
    size_t checkpoints;        /* valid checkpoints seen */
    size_t pending;            /* pending (see scan.h) or changed while measured: left for later */
    size_t weights_measured;
    size_t images_measured;
    size_t metrics_written;    /* metrics.json files created */
    size_t sampled;            /* checkpoints the sampler rendered samples for */
    size_t failed;             /* measurements or sampler runs that failed (see problems) */
    char device[160];          /* where the work ran */
} sr_eval_stats;

void sr_eval_defaults(sr_eval_opts *o);

/* Returns 0 (problems, if any, are in *problems: the caller prints them),
 * or -1 with a reason when the sweep cannot be read or the device cannot
 * be used. */
int sr_eval(const char *sweep_path, const sr_eval_opts *o, sr_eval_stats *stats, sr_problems *problems, char *err,
            size_t errlen);

#endif
