/* scan.h - the first stage: find every trial, checkpoint, sample and metric.
 *
 * Reads only what it needs: directory listings, small JSON files and the
 * headers of checkpoints (never their tensor data).  Bad things inside the
 * sweep become problems; only a missing or unreadable sweep folder fails. */
#ifndef SR_SCAN_H
#define SR_SCAN_H

#include "sweep.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *study_path;  /* Optuna storage; NULL: SWEEP/optuna_study.db when present */
    const char *study_name;  /* NULL: the only study in the storage */
    double settle;           /* seconds; 0: no checkpoint is pending (see sr_settle_status) */
    /* when the job began (ns since the epoch; 0: no job): a file modified
     * since, or less than settle before, is pending too, so that what a
     * job's measuring left for later is pending in its report as well */
    int64_t since_ns;
} sr_scan_opts;

/* The settle rule.  A checkpoint whose modification time is less than settle
 * seconds away from now (either way, for clocks that disagree) may still be
 * written: it is SR_CKPT_PENDING whatever its header says, and is neither
 * measured nor reported as a problem.  Once it has been left alone for the
 * settle time its header decides: complete is ok, shorter than the header
 * promises is incomplete (cut: a problem), anything else invalid.  With
 * settle <= 0 the header always decides.  A valid checkpoint with a sample
 * image that young is pending too: its samples may still be being written. */
#define SR_SETTLE_DEFAULT 30.0 /* seconds: run, eval and render */
sr_ckpt_status sr_settle_status(sr_ckpt_status from_header, int64_t mtime_ns, int64_t now_ns, double settle);

/* Returns 0 with *out filled (free with sr_sweep_free), or -1 with a
 * one-line reason in err when the sweep folder itself cannot be read. */
int sr_scan_with(const char *sweep_path, const sr_scan_opts *opts, sr_sweep *out, char *err, size_t errlen);
/* The same with default options. */
int sr_scan(const char *sweep_path, sr_sweep *out, char *err, size_t errlen);

#endif
