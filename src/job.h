/* job.h - the run job: lock the sweep, measure what is new, render what
 * changed; once, or again and again until told to stop. */
#ifndef SR_JOB_H
#define SR_JOB_H

#include "eval.h"
#include "problems.h"
#include "profile.h"
#include "progress.h"
#include "render.h"

#include <signal.h>
#include <stddef.h>

/* The outcomes, equal to the program's exit statuses. */
enum { SR_JOB_OK = 0, SR_JOB_FAILED = 1, SR_JOB_USAGE = 2, SR_JOB_LOCKED = 3 };

typedef struct {
    const char *command;   /* "run", "render", "eval", "demo": named in the lock file */
    int measure;           /* eval before render */
    int render;            /* render (after eval) */
    sr_eval_opts eval;     /* scan options here are set from render.scan */
    sr_render_opts render_opts;
    double wait;           /* seconds to wait for the lock (0: no wait) */
} sr_job_opts;

typedef struct {
    int measured;          /* eval ran */
    sr_eval_stats eval;
    int rendered;          /* render ran (the report may have been up to date) */
    sr_render_result render;
    int interrupted;       /* stopped between eval and render */
} sr_job_result;

/* Sets what the render writes from a profile (which must outlive o). */
void sr_job_use_profile(sr_job_opts *o, const sr_profile *p);

/* One cycle: takes the sweep's lock (see lock.h), measures (a "measure"
 * stage on pr), renders (a "render" stage) unless *stop was set meanwhile
 * (stop may be NULL), lets the lock go.  Problems of both stages are added
 * to problems once each.  Returns an SR_JOB_ outcome; err says why for the
 * others (for SR_JOB_LOCKED it names the holder). */
int sr_job_once(const char *sweep, const sr_job_opts *o, sr_progress *pr, volatile sig_atomic_t *stop,
                sr_job_result *r, sr_problems *problems, char *err, size_t errlen);

/* "report: OUT/index.html, OUT/report.pdf; recommended: TRIAL epoch E PATH"
 * (what was written, or summary.json alone; "recommended: nothing yet ..."
 * when no checkpoint has a score). */
void sr_job_last_line(const sr_job_result *r, char *buf, size_t len);

/* Runs a cycle every interval seconds until *stop is set (a signal handler
 * sets it; the cycle under way finishes first).  Prints one line per cycle
 * that measured or rendered something, problems when the report changed,
 * and errors of failed cycles, and goes on; a locked sweep skips the cycle.
 * Returns SR_JOB_OK when stopped, SR_JOB_USAGE at once for a usage error. */
int sr_job_watch(const char *sweep, const sr_job_opts *o, double interval, sr_progress *pr,
                 volatile sig_atomic_t *stop);

/* Problems on stderr, one line each: "sweepreport: PATH: problem". */
void sr_job_print_problems(sr_progress *pr, const sr_problems *problems);

#endif
