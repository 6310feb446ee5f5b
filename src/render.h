/* render.h - the report stage: summary.json, the charts and the HTML site,
 * published atomically into the output folder. */
#ifndef SR_RENDER_H
#define SR_RENDER_H

#include "analysis.h"
#include "scan.h"

#include <stddef.h>

typedef struct {
    const char *out_dir;        /* NULL: SWEEP/sweepreport */
    sr_analysis_opts analysis;
    sr_scan_opts scan;
    const char *templates_dir;  /* NULL: the installed templates */
    int self_contained;         /* one index.html with everything inline */
    int quiet;
    int archive;                /* also SWEEP/<trial>/<trial>_report.pdf (pdf_archive.h) */
} sr_render_opts;

typedef struct {
    char out_dir[4096];
    size_t charts;
    int has_best;
    char best[512];             /* "trial_0004/lora_trial_4-000006.safetensors (epoch 6, score 0.0812)" */
    size_t archives;            /* archive PDFs written */
} sr_render_result;

/* Returns 0; -1 with a reason when the sweep cannot be read or the output
 * cannot be written; -2 when the score expression is wrong (a usage error). */
int sr_render(const char *sweep_path, const sr_render_opts *o, sr_render_result *res, sr_problems *problems,
              char *err, size_t errlen);

#endif
