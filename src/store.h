/* store.h - sweepreport's own measurements, kept inside the sweep.
 *
 * SWEEP/.sweepreport/measurements/<fingerprint>.json, one small file per
 * checkpoint.  A record is valid only for the exact checkpoint it measured
 * (relative path, size, modification time, header fingerprint) and, for
 * image metrics, the exact set of samples: a changed file is measured again,
 * an unchanged one never.  Only this folder is ever written by sweepreport
 * inside a sweep, besides metrics.json files that did not exist. */
#ifndef SR_STORE_H
#define SR_STORE_H

#include "sweep.h"

#include <stddef.h>
#include <stdint.h>

#define SR_STORE_DIR ".sweepreport"

typedef struct {
    char *ckpt_rel;          /* trial_0001/lora_trial_1-000002.safetensors */
    uint64_t size;
    int64_t mtime_ns;
    uint64_t header_hash;
    int has_weights;
    sr_metrics weights;
    int has_drift_from;      /* records of older versions do not say */
    uint64_t drift_from;     /* sr_ckpt_identity of the checkpoint weight_drift is against, 0: none */
    int has_images;
    uint64_t samples_signature;
    sr_metrics images;
    char *device;            /* what measured it, e.g. "cpu" or "cuda:0 (...)" */
    char *measured_at;       /* ISO time */
} sr_measurement;

/* The fingerprint of a checkpoint's samples: names, sizes, mtimes (a
 * sample written again, even to the same size, changes it).  It keys the
 * store's image measurements and marks sweepreport's own metrics.json. */
uint64_t sr_samples_signature(const char *trial_path, char *const *samples, size_t n);

/* Which version of which checkpoint: its path relative to the sweep, size
 * and modification time (never 0). */
uint64_t sr_ckpt_identity(const char *ckpt_rel, uint64_t size, int64_t mtime_ns);

/* Path of the record for a checkpoint; the caller frees. */
char *sr_store_record_path(const char *sweep_path, const char *ckpt_rel);

/* Loads the record of checkpoint c (ckpt_rel relative to the sweep).
 * Returns 1 when a record exists (m filled; has_weights/has_images cleared
 * when they no longer match the checkpoint or its samples), 0 when there is
 * none, -1 when it is unreadable (reason in err; treat as none). */
int sr_store_load(const char *sweep_path, const char *ckpt_rel, const sr_checkpoint *c, const char *trial_path,
                  sr_measurement *m, char *err, size_t errlen);

/* Writes the record atomically (creating the store folders). 0 or -1. */
int sr_store_save(const char *sweep_path, const sr_measurement *m, char *err, size_t errlen);

void sr_measurement_free(sr_measurement *m);

/* Whether stored weight metrics are those of a file with tensors of which
 * no module could be measured (weight_modules 0, some unmeasured; see
 * sr_wm_unmeasurable); and the problem that names such a file (a format
 * of the number of modules not measured), the same text whether eval
 * measured it just now or the scan found its record. */
int sr_store_weights_unmeasurable(const sr_metrics *weights);
#define SR_STORE_UNMEASURABLE                                                                                    \
    "weights not measured: not one of its modules is one the formulas cover (%.0f not measured; inspect shows them)"

#endif
