/* metrics_write.h - measure sample images and write metrics.json in the
 * layout of the seed evaluator (evaluate_single_checkpoint.py). */
#ifndef SR_METRICS_WRITE_H
#define SR_METRICS_WRITE_H

#include <stddef.h>

/* Called once for each sample that cannot be measured; reason does not
 * repeat the path. */
typedef void (*sr_sample_problem_fn)(void *ctx, const char *path, const char *reason);

/* Measures the PNGs in sample_paths (in that order) and writes dir/metrics.json:
 *   {"checkpoint": checkpoint_file,
 *    "evaluation_time": "2025-11-15T10:45:12.123456"   (local time),
 *    "metrics": {"total_samples": N, "avg_brightness": [...], "avg_contrast": [...],
 *                "mean_brightness", "mean_contrast",
 *                "std_brightness", "std_contrast"}}       (population std over samples)
 * The file is created atomically and never replaces a metrics.json that
 * exists, or that appears while this runs.  Samples that fail to decode are
 * skipped and reported through on_problem (may be NULL); total_samples counts
 * the measured ones.
 * Returns 0 when written, 1 when a metrics.json is already there (nothing
 * written; err says so), -1 on error (no sample could be measured, or the
 * file cannot be written) with a reason in err. */
int sr_write_seed_metrics(const char *dir, const char *checkpoint_file, const char *const *sample_paths,
                          size_t n, sr_sample_problem_fn on_problem, void *ctx, char *err, size_t errlen);

#endif
