/* metrics_write.h - metrics.json beside a checkpoint's samples.
 *
 * The seed evaluator's layout, so that the tools that read its files read
 * ours too:
 *   {"checkpoint": FILE, "evaluation_time": "2025-11-15T10:45:12.123456",
 *    "metrics": {"total_samples", "avg_brightness": [...], "avg_contrast": [...],
 *                "mean_brightness", "mean_contrast", ...every other metric}}
 * plus two keys of sweepreport's own at the top level, "written_by"
 * ("sweepreport VERSION") and "samples_signature" (sr_samples_signature of
 * the samples measured, 16 hex digits).  The file is created atomically and never
 * replaces one that exists or appears while it is written, except, when
 * asked, one that sweepreport itself wrote (checked and replaced in one
 * step: see sr_atomic_commit_if). */
#ifndef SR_METRICS_WRITE_H
#define SR_METRICS_WRITE_H

#include "image_metrics.h"
#include "sweep.h"

#include <stddef.h>
#include <stdint.h>

/* Returns 0 when written, 1 when a metrics.json is already there (left as
 * it is), -1 on error with a one-line reason naming the file.  With
 * replace_own, a metrics.json that sweepreport wrote (from other samples)
 * is replaced; any other is left as it is. */
int sr_write_metrics_json(const char *dir, const char *checkpoint_file, const sr_image_lists *lists,
                          const sr_metrics *metrics, uint64_t samples_signature, int replace_own, char *err,
                          size_t errlen);

#endif
