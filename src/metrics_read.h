/* metrics_read.h - metrics that evaluators already wrote.
 *
 * Three files, several shapes (see FORMATS.md):
 *   <samples>/metrics.json        {"checkpoint", "metrics": {...}} or flat
 *   evaluation_summary.json       "checkpoints" as a list of {"name", "metrics"}
 *                                 or as an object stem -> flat record
 *   evaluation_state.json         "evaluation_results": {file: record}
 * Only numbers are metrics; bookkeeping fields (epoch, times) are not. */
#ifndef SR_METRICS_READ_H
#define SR_METRICS_READ_H

#include "sweep.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

/* Adds the numeric metrics of one record (nested "metrics" object or flat)
 * to m, replacing values of the same name. */
void sr_metrics_from_record(const cJSON *record, sr_metrics *m);

/* Adds the metric names the seed's evaluators write besides the image
 * metrics (lpips_diversity, clip_consistency, combined_score) to names,
 * with the value 0: names a score may use before any file has them. */
void sr_seed_metric_names(sr_metrics *names);

/* 1 for a metric that a checkpoint's samples determine and that the image
 * measurement gives (total_samples, brightness, contrast, saturation,
 * sharpness, colorfulness, entropy, sample_diversity, pixar_score). */
int sr_is_sample_metric(const char *name);

/* Reads a metrics.json.  0, or -1 with a reason (without the path). */
int sr_read_metrics_file(const char *path, sr_metrics *m, char *err, size_t errlen);

/* Who wrote a metrics.json: sweepreport marks its own (metrics_write.h). */
typedef struct {
    int ours;                   /* "written_by" names sweepreport */
    int has_signature;
    uint64_t samples_signature; /* ... and the samples it measured (metrics_write.h) */
} sr_metrics_origin;

/* sr_read_metrics_file, and who wrote it into *origin. */
int sr_read_metrics_file_origin(const char *path, sr_metrics *m, sr_metrics_origin *origin, char *err,
                                size_t errlen);

/* 1 when the file at path is a metrics.json sweepreport wrote: a regular
 * file (not a link) that reads and is marked so. */
int sr_metrics_file_is_own(const char *path);

/* The marker of sweepreport's own metrics.json ("written_by"). */
#define SR_METRICS_WRITTEN_BY PACKAGE_NAME " " PACKAGE_VERSION

/* Metrics per checkpoint stem, from a per-trial file. */
typedef struct {
    char *stem;
    sr_metrics metrics;
} sr_metrics_entry;

typedef struct {
    sr_metrics_entry *items;
    size_t n;
    size_t cap;
} sr_metrics_index;

int sr_read_evaluation_summary(const char *path, sr_metrics_index *idx, char *err, size_t errlen);
int sr_read_evaluation_state(const char *path, sr_metrics_index *idx, char *err, size_t errlen);
const sr_metrics *sr_metrics_index_find(const sr_metrics_index *idx, const char *stem);
void sr_metrics_index_free(sr_metrics_index *idx);

#endif
