/* job.c - lock, measure, render: the job behind run, render, demo and --watch. */
#include "config.h"

#include "job.h"
#include "leftovers.h"
#include "lock.h"
#include "out_dir.h"
#include "util.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

void sr_job_use_profile(sr_job_opts *o, const sr_profile *p)
{
    o->render_opts.profile = p->name;
    o->render_opts.html = p->html;
    o->render_opts.pdf = p->pdf;
    o->render_opts.archive = p->archive;
    o->render_opts.since_last_run = p->since_last_run;
    o->render_opts.history = p->history;
}

static void eval_progress(void *ctx, size_t done, size_t total, const char *rel_path, const char *measured)
{
    sr_progress *pr = ctx;
    pr->total = total;
    char *rel = sr_terminal_text(rel_path, SIZE_MAX); /* a file may be called anything */
    sr_progress_update(pr, done, rel, measured ? measured : "measured before");
    free(rel);
}

static void merge_problems(sr_problems *dst, const sr_problems *src)
{
    for (size_t i = 0; i < src->n; i++)
        if (!sr_problems_has(dst, src->items[i].path, src->items[i].problem))
            sr_problems_add(dst, src->items[i].path, "%s", src->items[i].problem);
}

void sr_job_print_problems(sr_progress *pr, const sr_problems *problems)
{
    if (problems->n && pr)
        sr_progress_clear(pr);
    sr_problems_print(stderr, problems);
}

static void measure_line(sr_progress *pr, const sr_eval_stats *st)
{
    size_t measured = st->weights_measured > st->images_measured ? st->weights_measured : st->images_measured;
    char pending[64] = "", failed[64] = "", sampled[64] = "";
    if (st->pending)
        snprintf(pending, sizeof pending, ", %zu pending", st->pending);
    if (st->failed)
        snprintf(failed, sizeof failed, ", %zu failed", st->failed);
    if (st->sampled)
        snprintf(sampled, sizeof sampled, ", samples rendered for %zu", st->sampled);
    if (measured == 0 && !st->sampled)
        sr_progress_end(pr, "%zu checkpoint%s on %s, nothing new to measure%s%s", st->checkpoints,
                        st->checkpoints == 1 ? "" : "s", st->device, pending, failed);
    else
        sr_progress_end(pr,
                        "%zu checkpoint%s on %s: weights measured for %zu, samples for %zu, %zu metrics.json written%s%s%s",
                        st->checkpoints, st->checkpoints == 1 ? "" : "s", st->device, st->weights_measured,
                        st->images_measured, st->metrics_written, sampled, pending, failed);
}

static void render_line(sr_progress *pr, const sr_render_result *r)
{
    if (r->unchanged) {
        sr_progress_end(pr, "nothing changed since the report of %s: left as it is",
                        r->previous[0] ? r->previous : "an unknown time");
        return;
    }
    char pending[64] = "", hist[96] = "";
    if (r->pending)
        snprintf(pending, sizeof pending, "; %zu checkpoint%s pending", r->pending, r->pending == 1 ? "" : "s");
    if (r->history_added[0])
        snprintf(hist, sizeof hist, ", history/%s", r->history_added);
    sr_progress_end(pr, "wrote summary.json%s%s%s (%zu charts)%s", r->wrote_html ? ", index.html" : "",
                    r->wrote_pdf ? ", report.pdf" : "", hist, r->charts, pending);
}

/* A wrong --score is a usage error before anything is measured: its names
 * must be metrics the sweep has or ones the measurement gives.  A sweep that
 * cannot be scanned is left to the measurement to report. */
static int score_check(const char *sweep, const sr_job_opts *o, char *err, size_t errlen)
{
    sr_sweep s;
    char why[SR_MSG_MAX];
    if (sr_scan_with(sweep, &o->render_opts.scan, &s, why, sizeof why) != 0)
        return 0;
    /* the names the render accepts too (the command's), else what eval gives */
    sr_metrics names;
    memset(&names, 0, sizeof names);
    if (!o->render_opts.analysis.known)
        sr_eval_metric_names(&names);
    int rc = sr_score_check(o->render_opts.analysis.expression, &s,
                            o->render_opts.analysis.known ? o->render_opts.analysis.known : &names, err, errlen);
    sr_metrics_free(&names);
    sr_sweep_free(&s);
    return rc;
}

int sr_job_once(const char *sweep, const sr_job_opts *o, sr_progress *pr, volatile sig_atomic_t *stop,
                sr_job_result *r, sr_problems *problems, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    struct stat st;
    if (stat(sweep, &st) == 0 && !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: not a folder, so not a sweep", sweep);
        return SR_JOB_FAILED;
    }
    if (o->render) {
        /* before anything is measured: a report may not go where it would
         * replace what is not a report */
        if (sr_out_dir_precheck(sweep, o->render_opts.out_dir, err, errlen) != 0)
            return SR_JOB_USAGE;
    }
    sr_lock lock;
    sr_lock_holder holder;
    /* a stop request (watch mode) ends a wait for the lock too */
    int lr = sr_lock_acquire_or_stop(&lock, sweep, o->command, !o->measure, o->wait, stop, &holder, err, errlen);
    if (lr == SR_LOCK_BUSY)
        return SR_JOB_LOCKED;
    if (lr == SR_LOCK_ERROR) {
        /* a sweep on read-only storage can still be rendered elsewhere: no
         * one can write its store, so there is nothing to keep apart */
        int e = errno;
        const int read_only = e == EROFS || e == EACCES || e == EPERM;
        if (o->measure && read_only) {
            size_t n = strlen(err);
            snprintf(err + n, errlen - n, " (measuring writes into the sweep: render -o DIR reports on a sweep you "
                     "cannot write)");
        }
        if (o->measure || !read_only)
            return SR_JOB_FAILED;
    }
    /* alone with the sweep: what a killed run left behind can go */
    if (lr == SR_LOCK_HELD)
        sr_remove_leftovers(sweep, o->render_opts.out_dir);
    int rc = SR_JOB_OK;
    if (o->measure && o->render && o->render_opts.analysis.expression &&
        score_check(sweep, o, err, errlen) != 0) {
        sr_lock_release(&lock);
        return SR_JOB_USAGE;
    }
    /* one time for the settle rule of both stages */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    sr_scan_opts scan = o->render_opts.scan;
    if (!scan.since_ns)
        scan.since_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
    if (o->measure) {
        sr_eval_opts eo = o->eval;
        eo.scan = scan;
        eo.verbose = 0;
        eo.quiet = 1;
        eo.progress = eval_progress;
        eo.progress_ctx = pr;
        sr_progress_begin(pr, "measure", 0);
        sr_problems ep;
        sr_problems_init(&ep);
        if (sr_eval(sweep, &eo, &r->eval, &ep, err, errlen) != 0) {
            sr_progress_clear(pr);
            rc = SR_JOB_FAILED;
        } else {
            r->measured = 1;
            measure_line(pr, &r->eval);
        }
        merge_problems(problems, &ep);
        sr_problems_free(&ep);
    }
    if (rc == SR_JOB_OK && o->render && stop && *stop) {
        r->interrupted = 1;
    } else if (rc == SR_JOB_OK && o->render) {
        sr_render_opts ro = o->render_opts;
        ro.scan = scan;
        ro.progress = pr;
        sr_progress_begin(pr, "render", 0);
        sr_problems rp;
        sr_problems_init(&rp);
        merge_problems(&rp, problems); /* what eval found goes into summary.json too */
        int rr = sr_render(sweep, &ro, &r->render, &rp, err, errlen);
        merge_problems(problems, &rp);
        sr_problems_free(&rp);
        if (rr == 0) {
            r->rendered = 1;
            render_line(pr, &r->render);
        } else {
            sr_progress_clear(pr);
            rc = rr == -2 ? SR_JOB_USAGE : SR_JOB_FAILED;
        }
    }
    sr_lock_release(&lock);
    return rc;
}

void sr_job_last_line(const sr_job_result *r, char *buf, size_t len)
{
    const sr_render_result *rr = &r->render;
    sr_buf b;
    sr_buf_init(&b);
    sr_buf_puts(&b, "report: ");
    if (rr->wrote_html)
        sr_buf_printf(&b, "%s/index.html", rr->out_dir);
    if (rr->wrote_pdf)
        sr_buf_printf(&b, "%s%s/report.pdf", rr->wrote_html ? ", " : "", rr->out_dir);
    if (!rr->wrote_html && !rr->wrote_pdf)
        sr_buf_printf(&b, "%s/summary.json", rr->out_dir);
    if (rr->has_best) {
        sr_buf_printf(&b, "; recommended: %s", rr->best_trial);
        if (rr->best_epoch >= 0)
            sr_buf_printf(&b, " epoch %ld", rr->best_epoch);
        sr_buf_printf(&b, " %s", rr->best_path);
    } else if (rr->any_scored) {
        sr_buf_puts(&b, "; recommended: nothing (every scored checkpoint has non-finite weights)");
    } else if (rr->score_nonfinite) {
        /* the metrics are there: the expression itself gives no number */
        sr_buf_printf(&b, "; recommended: nothing (the score is not a finite number for any of the %zu checkpoint%s "
                      "that have its metrics)",
                      rr->score_nonfinite, rr->score_nonfinite == 1 ? "" : "s");
    } else if (rr->score_expression[0]) {
        /* a score of metrics no checkpoint has (yet) */
        sr_buf_printf(&b, "; recommended: nothing yet (no checkpoint has every metric the score '%s' reads)",
                      rr->score_expression);
    } else {
        sr_buf_puts(&b, "; recommended: nothing yet (no checkpoint has a score)");
    }
    char *line = sr_terminal_text(b.s, SIZE_MAX); /* names and paths may hold any bytes */
    snprintf(buf, len, "%s", line);
    free(line);
    sr_buf_free(&b);
}

static void sleep_until(double deadline, volatile sig_atomic_t *stop)
{
    while (!*stop) {
        double left = deadline - sr_progress_now();
        if (left <= 0)
            return;
        if (left > 0.2)
            left = 0.2;
        struct timespec ts = {(time_t)left, (long)((left - (double)(time_t)left) * 1e9)};
        nanosleep(&ts, NULL); /* a signal ends it early */
    }
}

static void utc_now(char *buf, size_t len)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int sr_job_watch(const char *sweep, const sr_job_opts *o, double interval, sr_progress *pr,
                 volatile sig_atomic_t *stop)
{
    /* the stage lines are for -v; the cycle line says what happened */
    sr_progress quiet = *pr;
    quiet.verbosity = pr->verbosity - 1;
    quiet.tty = pr->tty && quiet.verbosity >= SR_NORMAL;
    sr_progress_say(pr, "watching %s every %g s (SIGINT or SIGTERM stops)", sweep, interval);
    long last_holder = -1;
    char *last_error = NULL;
    while (!*stop) {
        double next = sr_progress_now() + interval;
        sr_job_result r;
        sr_problems problems;
        sr_problems_init(&problems);
        char err[SR_MSG_MAX];
        int rc = sr_job_once(sweep, o, &quiet, stop, &r, &problems, err, sizeof err);
        char when[32];
        utc_now(when, sizeof when);
        if (rc == SR_JOB_USAGE) {
            sr_progress_clear(&quiet);
            fprintf(stderr, "sweepreport: %s: %s\n", o->command, err);
            sr_problems_free(&problems);
            free(last_error);
            return SR_JOB_USAGE;
        }
        if (rc == SR_JOB_LOCKED) {
            sr_lock_holder h;
            char *lp = sr_lock_path(sweep);
            long pid = sr_lock_read_holder(lp, &h) == 0 ? h.pid : 0;
            free(lp);
            if (pid != last_holder && !*stop) /* a stop ends the wait: no "again" */
                sr_progress_say(pr, "%s %s; trying again in %g s", when, err, interval);
            last_holder = pid;
        } else if (rc == SR_JOB_FAILED) {
            if (!last_error || strcmp(last_error, err) != 0) {
                sr_progress_clear(pr);
                fprintf(stderr, "sweepreport: %s: %s\n", o->command, err);
            }
            free(last_error);
            last_error = xstrdup(err);
        } else {
            last_holder = -1;
            free(last_error);
            last_error = NULL;
            size_t measured = r.eval.weights_measured > r.eval.images_measured ? r.eval.weights_measured
                                                                                 : r.eval.images_measured;
            int changed = r.rendered && !r.render.unchanged;
            if (changed)
                sr_job_print_problems(pr, &problems);
            if (r.interrupted && measured) {
                /* stopped between measuring and rendering: the published
                 * report is the last one, untouched */
                sr_progress_say(pr, "%s measured %zu; stopped before rendering, the report was not updated", when,
                                measured);
            } else if (!r.interrupted && (measured || changed)) {
                char last[8192];
                sr_job_last_line(&r, last, sizeof last);
                char pending[48] = "";
                if (r.render.pending)
                    snprintf(pending, sizeof pending, ", %zu pending", r.render.pending);
                sr_progress_say(pr, "%s measured %zu, %s%s; %s", when, measured,
                                changed ? "report updated" : "report unchanged", pending, last);
            }
        }
        sr_problems_free(&problems);
        sleep_until(next, stop);
    }
    free(last_error);
    sr_progress_say(pr, "stopped");
    return SR_JOB_OK;
}
