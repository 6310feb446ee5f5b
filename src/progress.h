/* progress.h - what a long job says while it works.
 *
 * On a terminal each stage redraws one line (stage, n/N, rate, ETA) and
 * leaves one closing line behind; anywhere else (cron, a pipe, a log file)
 * a stage prints one plain line when it ends, with no carriage return and no
 * escape code.  Quiet prints nothing (errors go to stderr elsewhere);
 * verbose adds a line per item. */
#ifndef SR_PROGRESS_H
#define SR_PROGRESS_H

#include <stddef.h>
#include <stdio.h>

enum { SR_QUIET = -1, SR_NORMAL = 0, SR_VERBOSE = 1 };

typedef struct {
    FILE *out;
    int tty;              /* redraw in place */
    int verbosity;        /* SR_QUIET, SR_NORMAL or SR_VERBOSE */
    char stage[32];
    size_t done, total;
    double t0;            /* when the stage began (monotonic seconds) */
    double last_draw;
    int drawn;            /* a redrawn line is on the terminal */
} sr_progress;

/* tty < 0: out is a terminal (and TERM is not "dumb"). */
void sr_progress_init(sr_progress *p, FILE *out, int tty, int verbosity);

void sr_progress_begin(sr_progress *p, const char *stage, size_t total);
/* done of total; item (may be NULL) gets its own line when verbose, with
 * detail after it.  On a terminal the line is redrawn at most 10 times a second. */
void sr_progress_update(sr_progress *p, size_t done, const char *item, const char *detail);
/* Ends the stage with one line: "STAGE: message (12.3 s)". */
void sr_progress_end(sr_progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A line of its own (not quiet), clearing a redrawn line first. */
void sr_progress_say(sr_progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Clears a redrawn line (before an error on stderr, say). */
void sr_progress_clear(sr_progress *p);

/* "measure 12/72  3.4/s  ETA 0:18" (no rate or ETA before the first item,
 * no ETA without a total). */
void sr_progress_format(char *buf, size_t len, const char *stage, size_t done, size_t total, double elapsed);

/* Monotonic seconds. */
double sr_progress_now(void);

#endif
