/* sweep.h - the sweep model: what the scan found, in one plain structure.
 *
 * Data flows one way: scan fills this model; measurement, analysis and the
 * renderers read it (and add their own results beside it). */
#ifndef SR_SWEEP_H
#define SR_SWEEP_H

#include "ckpt_name.h"
#include "optuna.h"
#include "problems.h"
#include "tfevents.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

/* A flat set of named numbers, kept sorted by name. */
typedef struct {
    char *name;
    double value;
} sr_metric;

typedef struct {
    sr_metric *items;
    size_t n;
    size_t cap;
} sr_metrics;

void sr_metrics_set(sr_metrics *m, const char *name, double value);
/* Returns 1 and stores the value when present, else 0. */
int sr_metrics_get(const sr_metrics *m, const char *name, double *value);
void sr_metrics_free(sr_metrics *m);

typedef enum {
    SR_CKPT_OK,
    SR_CKPT_INCOMPLETE, /* shorter than its header promises: being written or cut */
    SR_CKPT_INVALID,    /* unreadable or not a valid safetensors file */
    SR_CKPT_PENDING     /* modified within the settle time: left for the next run (see scan.h) */
} sr_ckpt_status;

const char *sr_ckpt_status_name(sr_ckpt_status s);

/* The kohya metadata the later stages use (absent fields: -1 / NULL). */
typedef struct {
    long ss_epoch;
    long ss_steps;
    long ss_num_epochs;
    long ss_num_batches_per_epoch;
    long network_dim;
    double network_alpha;   /* NAN when absent or "Dynamic" */
    char *output_name;
    char *base_model;       /* ss_base_model_version */
    char *architecture;     /* modelspec.architecture */
    char *sd_model_name;    /* ss_sd_model_name: the model trained on */
    char *seed;             /* ss_seed, as written (it may not fit a double) */
    double training_started_at, training_finished_at; /* ss_training_*_at: Unix seconds, NAN when absent */
} sr_ckpt_meta;

typedef struct {
    char *file;              /* file name, e.g. lora_trial_1-000002.safetensors */
    char *path;              /* full path */
    sr_ckpt_name name;       /* what the name says */
    int final;               /* the final model of the trial */
    long epoch;              /* -1 when unknown */
    const char *epoch_from;  /* "name", "ss_epoch", "ss_num_epochs", "max_train_epochs" or NULL */
    long step;               /* -1 when unknown */
    sr_ckpt_status status;
    char *problem;           /* why, when incomplete or invalid */
    char *pending;           /* why, when pending ("modified 4 s ago", "still being written") */
    uint64_t size;
    int64_t mtime_ns;
    uint64_t header_hash;    /* fingerprint of the header bytes (0 when unreadable) */
    char *rel_path;          /* relative to the sweep: trial_0001/file.safetensors */
    const char *format;      /* "lora", "loha", "lokr", "peft", "unknown" (NULL when not ok) */
    size_t n_tensors;
    sr_ckpt_meta meta;
    sr_metrics metrics;      /* every numeric metric known, merged */
    int has_metrics_file;    /* a metrics.json exists beside the samples */
    int own_metrics_stale;   /* ... one sweepreport wrote from other samples than are there now:
                              * its metrics are not taken, eval writes it again */
    int sample_metrics_stale; /* the metrics files beside it are of other samples (that, or
                               * another tool's metrics.json counts others): sample metrics are
                               * taken from no file, only measured */
    char *samples_dir;       /* relative to the trial, NULL when none */
    char **samples;          /* relative to the trial, natural order */
    size_t n_samples;
    int samples_from_training; /* kohya's sample/ images, not an evaluator's */
    int has_stored_weights;  /* sweepreport's store holds this file's weight metrics ... */
    int stored_unmeasurable; /* ... of which none could be measured (never a predecessor) */
    int has_stored_drift_from; /* ... and says which checkpoint its drift is against */
    uint64_t stored_drift_from; /* (sr_measurement.drift_from) */
    int has_stored_images;   /* ... and image metrics for exactly these samples */
} sr_checkpoint;

typedef struct {
    char *name;              /* trial_0001 */
    char *path;
    cJSON *params;           /* params.json (an object), or NULL */
    sr_checkpoint *ckpts;    /* sorted by epoch, then step, final last */
    size_t n_ckpts;
    char **baseline_samples; /* kohya's e000000 images: before training */
    size_t n_baseline_samples;
    const sr_optuna_trial *optuna; /* the joined Optuna trial (in sweep->study), or NULL */
    sr_scalars scalars;      /* TensorBoard series of the loss and lr tags */
    double steps_per_epoch;  /* from the checkpoints' metadata; 0 when unknown */
} sr_trial;

typedef struct {
    char *path;              /* absolute when it could be resolved */
    sr_trial *trials;        /* natural order of names */
    size_t n_trials;
    sr_study *study;         /* the Optuna study, or NULL */
    sr_problems problems;
} sr_sweep;

void sr_sweep_free(sr_sweep *s);
size_t sr_sweep_count_checkpoints(const sr_sweep *s);

#endif
