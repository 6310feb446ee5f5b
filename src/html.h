/* html.h - the HTML report: a static site built from the summary document.
 *
 * Pages are Mustache templates (templates/NAME.mustache) filled with a view of
 * the summary; every string that comes from the sweep is escaped, only the
 * SVG charts drawn here are inserted as markup.  The site works from file://
 * without a network: no external URL, CDN or web font. */
#ifndef SR_HTML_H
#define SR_HTML_H

#include "analysis.h"
#include "charts.h"
#include "sweep.h"

#include <cjson/cJSON.h>
#include <stddef.h>

/* Charts the caller has drawn already, as SVG at the report's sizes
 * (charts.h): shown as they are instead of being drawn again. */
typedef struct {
    const sr_named_chart *charts;
    size_t n;
    char *const *svg; /* n SVG documents; NULL where a chart could not be drawn ... */
    char *const *why; /* ... and then why */
} sr_html_drawn;

typedef struct {
    /* NULL: $SR_TEMPLATES when set, else SR_DATADIR "/templates", falling
     * back to the source tree's templates/ */
    const char *templates_dir;
    /* one dir/index.html with the styles, the script and the images inline
     * (data: URIs), no other files */
    int self_contained;
    /* called after each page written ("trials/trial_0001.html", "index.html"); may be NULL */
    void (*progress)(void *ctx, const char *page);
    void *progress_ctx;
    /* the sweep's charts (sr_build_sweep_charts) and each trial's
     * (sr_build_trial_charts, one per trial) drawn already; NULL: drawn here */
    const sr_html_drawn *sweep_drawn;
    const sr_html_drawn *trial_drawn;
    /* summary.json (and with_pdf, report.pdf) are written beside
     * index.html: the page links them */
    int with_summary, with_pdf;
} sr_html_opts;

/* The templates folder sr_html_write reads (see templates_dir above); the caller frees. */
char *sr_html_templates_dir(const sr_html_opts *o);

/* Writes dir/index.html, dir/trials/<trial>.html and
 * dir/assets/{style.css,report.js,<trial>-sheet.jpg} (dir is created when
 * missing).  summary = sr_summary_json(s, a, ...).  The sweep charts
 * (sr_build_sweep_charts) and each trial's charts (sr_build_trial_charts)
 * are inlined as SVG, drawn here unless the options hold them.  Links to the original samples are
 * relative from the page to the sweep folder; originals are never copied.
 * Returns 0, or -1 with a one-line reason in err. */
int sr_html_write(const char *dir, const sr_sweep *s, const sr_analysis *a, const cJSON *summary,
                  const sr_html_opts *o, char *err, size_t errlen);

#endif
