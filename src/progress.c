/* progress.c - stage lines: redrawn on a terminal, plain everywhere else. */
#include "config.h"

#include "progress.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

double sr_progress_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void sr_progress_init(sr_progress *p, FILE *out, int tty, int verbosity)
{
    memset(p, 0, sizeof *p);
    p->out = out;
    p->verbosity = verbosity;
    if (tty < 0) {
        const char *term = getenv("TERM");
        tty = isatty(fileno(out)) && !(term && strcmp(term, "dumb") == 0);
    }
    p->tty = tty;
}

static void duration(char *buf, size_t len, double s)
{
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, len, "%ld:%02ld", t / 60, t % 60);
}

void sr_progress_format(char *buf, size_t len, const char *stage, size_t done, size_t total, double elapsed)
{
    int n = total     ? snprintf(buf, len, "%s %zu/%zu", stage, done, total)
            : done    ? snprintf(buf, len, "%s %zu", stage, done)
                      : snprintf(buf, len, "%s ...", stage);
    if (n < 0 || (size_t)n >= len || done == 0 || !(elapsed > 0))
        return;
    double rate = (double)done / elapsed;
    n += snprintf(buf + n, len - (size_t)n, rate >= 10 ? "  %.0f/s" : "  %.2g/s", rate);
    if ((size_t)n >= len || !total || done >= total)
        return;
    char eta[32];
    duration(eta, sizeof eta, (double)(total - done) / rate);
    snprintf(buf + n, len - (size_t)n, "  ETA %s", eta);
}

void sr_progress_clear(sr_progress *p)
{
    if (p->drawn) {
        fputs("\r\033[K", p->out);
        fflush(p->out);
        p->drawn = 0;
    }
}

static void redraw(sr_progress *p)
{
    char line[256];
    sr_progress_format(line, sizeof line, p->stage, p->done, p->total, sr_progress_now() - p->t0);
    fprintf(p->out, "\r\033[K%s", line);
    fflush(p->out);
    p->drawn = 1;
    p->last_draw = sr_progress_now();
}

void sr_progress_begin(sr_progress *p, const char *stage, size_t total)
{
    snprintf(p->stage, sizeof p->stage, "%s", stage);
    p->done = 0;
    p->total = total;
    p->t0 = sr_progress_now();
    p->last_draw = 0;
    if (p->tty && p->verbosity >= SR_NORMAL)
        redraw(p);
}

void sr_progress_update(sr_progress *p, size_t done, const char *item, const char *detail)
{
    p->done = done;
    if (p->verbosity < SR_NORMAL)
        return;
    if (p->verbosity >= SR_VERBOSE && item) {
        sr_progress_clear(p);
        fprintf(p->out, "%s: %s%s%s\n", p->stage, item, detail ? ": " : "", detail ? detail : "");
        fflush(p->out);
    }
    if (p->tty && (sr_progress_now() - p->last_draw >= 0.1 || (p->total && done >= p->total)))
        redraw(p);
}

void sr_progress_end(sr_progress *p, const char *fmt, ...)
{
    if (p->verbosity < SR_NORMAL)
        return;
    sr_progress_clear(p);
    fprintf(p->out, "%s: ", p->stage);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(p->out, fmt, ap);
    va_end(ap);
    fprintf(p->out, " (%.1f s)\n", sr_progress_now() - p->t0);
    fflush(p->out);
}

void sr_progress_say(sr_progress *p, const char *fmt, ...)
{
    if (p->verbosity < SR_NORMAL)
        return;
    sr_progress_clear(p);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(p->out, fmt, ap);
    va_end(ap);
    fputc('\n', p->out);
    fflush(p->out);
}
