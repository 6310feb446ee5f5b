/* render.h - the report stage: summary.json, the charts, the HTML site and
 * the PDF, published atomically into the output folder.
 *
 * A report records the fingerprint of everything it was made from (see
 * fingerprint.h).  When the published report has the fingerprint a render
 * would give it, nothing is written: a rerun with nothing new is cheap. */
#ifndef SR_RENDER_H
#define SR_RENDER_H

#include "analysis.h"
#include "progress.h"
#include "scan.h"

#include <stddef.h>

typedef struct {
    const char *out_dir;        /* NULL: SWEEP/sweepreport */
    sr_analysis_opts analysis;
    sr_scan_opts scan;
    const char *templates_dir;  /* NULL: the installed templates */
    int self_contained;         /* one index.html with everything inline */
    int quiet;
    /* what to write (a profile, see profile.h) */
    const char *profile;        /* its name, recorded in summary.json; NULL: "summary" */
    int html;                   /* index.html, trials/, assets/, charts/ */
    int pdf;                    /* report.pdf */
    int archive;                /* a PDF per trial: SWEEP/<trial>/<trial>_report.pdf (pdf_archive.h) */
    int since_last_run;         /* since_last_run in summary.json and on the index page */
    int history;                /* keep this many summaries in OUT/history (0: add none) */
    int force;                  /* render even when the report is up to date */
    sr_progress *progress;      /* a stage the caller began, or NULL: its total and steps are set here */
} sr_render_opts;

/* The summary profile: html and pdf, nothing else. */
void sr_render_defaults(sr_render_opts *o);

typedef struct {
    char out_dir[4096];
    size_t charts;
    int unchanged;              /* the published report was up to date: nothing written */
    char fingerprint[17];
    char previous[64];          /* generated_at of the report found there ("" when none) */
    int wrote_html, wrote_pdf;
    size_t pending;             /* checkpoints left for the next run */
    char history_added[64];     /* history/ file added, "" when none */
    int has_best;
    size_t score_nonfinite;     /* checkpoints with the score's metrics but no finite score */
    int any_scored;             /* some checkpoint has a finite score (a best needs finite weights too) */
    char score_expression[256]; /* the score asked for, "" for the default */
    char best[512];             /* "trial_0004/lora_trial_4-000006.safetensors (epoch 6, score 0.0812)" */
    char best_trial[256];
    char best_path[4096];
    long best_epoch;            /* -1 when unknown */
    double best_score;
    size_t archives;            /* archive PDFs written ... */
    size_t archives_wanted;     /* ... of this many (the trials with checkpoints) */
} sr_render_result;

/* Returns 0; -1 with a reason when the sweep cannot be read or the output
 * cannot be written; -2 for a usage error: the score expression is wrong, or
 * the output folder is one a report may not replace (out_dir.h).
 * Problems already in *problems (eval's, in run) are listed in summary.json
 * too; the scan's and the render's own are added to *problems. */
int sr_render(const char *sweep_path, const sr_render_opts *o, sr_render_result *res, sr_problems *problems,
              char *err, size_t errlen);

#endif
