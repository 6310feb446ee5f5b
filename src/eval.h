/* eval.h - the measuring stage: whatever a sweep's checkpoints lack.
 *
 * For every valid checkpoint: the weight metrics (from the file itself,
 * drift against the previous checkpoint of its trial) and, when it has
 * samples, the image metrics (each PNG decoded once).  With a sampler
 * command, checkpoints without samples get them first.  Results go to
 * metrics.json beside samples that had none (seed layout) and to
 * sweepreport's store; nothing another tool wrote is modified.
 *
 * Shards: with shard_count N > 1 a process measures only the checkpoints
 * whose shard (sr_eval_shard_of) is shard_index, so that N processes -- a
 * job array -- together measure every checkpoint exactly once.  A shard
 * still reads the previous checkpoint of a trial for the drift when another
 * shard owns it, and everything a shard writes belongs to its own
 * checkpoints (one store record each, written atomically), so shards may
 * run at the same time and their union is what one unsharded run writes.
 *
 * Several devices: with a list of CUDA devices, one worker thread per
 * device takes whole trials (a trial's drift chain stays on one worker);
 * the CPU threads for decoding are shared out among the workers. */
#ifndef SR_EVAL_H
#define SR_EVAL_H

#include "device.h"
#include "problems.h"
#include "scan.h"

#include <stddef.h>

typedef struct {
    const char *device;        /* a device spec (device.h): "auto", "cpu", "cuda:N", "cuda:0,1", "cuda:all" */
    const sr_device_list *devices; /* when set: these devices, and device is ignored */
    int jobs;                  /* CPU threads; 0: all cores */
    int force;                 /* measure again what is already measured */
    const char *sampler;       /* command template, or NULL */
    double sampler_timeout;    /* seconds */
    int sampler_samples;       /* {n} */
    int verbose;               /* a line per checkpoint */
    int quiet;                 /* nothing but errors */
    unsigned shard_index;      /* measure only the checkpoints of this shard ... */
    unsigned shard_count;      /* ... of this many; 0 or 1: every checkpoint */
    sr_scan_opts scan;
    /* Called after each valid checkpoint (done of total) with what was
     * measured: "weights", "images", "weights, images", or NULL for nothing.
     * NULL: no calls. */
    void (*progress)(void *ctx, size_t done, size_t total, const char *rel_path, const char *measured);
    void *progress_ctx;
} sr_eval_opts;

typedef struct {
    size_t checkpoints;        /* valid checkpoints seen (of this shard) */
    size_t pending;            /* pending (see scan.h) or changed while measured: left for later (of this shard) */
    size_t weights_measured;
    size_t images_measured;
    size_t metrics_written;    /* metrics.json files created */
    size_t sampled;            /* checkpoints the sampler rendered samples for */
    size_t failed;             /* measurements or sampler runs that failed (see problems) */
    char device[512];          /* where the work ran (sr_device_list_describe) */
} sr_eval_stats;

void sr_eval_defaults(sr_eval_opts *o);

/* The shard, of shard_count, that measures a checkpoint: FNV-1a 64 of its
 * path relative to the sweep ("trial_0001/lora_trial_1-000002.safetensors")
 * modulo shard_count (0 when shard_count is 0 or 1).  The same on every
 * machine, so that every process of a job array agrees. */
unsigned sr_eval_shard_of(const char *ckpt_rel, unsigned shard_count);

/* Every metric name eval can give a checkpoint (values 0). */
void sr_eval_metric_names(sr_metrics *names);

/* Returns 0 (problems, if any, are in *problems: the caller prints them),
 * or -1 with a reason when the sweep cannot be read or the device cannot
 * be used. */
int sr_eval(const char *sweep_path, const sr_eval_opts *o, sr_eval_stats *stats, sr_problems *problems, char *err,
            size_t errlen);

#endif
