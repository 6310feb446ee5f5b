/* out_dir.h - the report's output folder: where it is, and whether a report
 * may be published there.
 *
 * Publishing swaps a new folder in for OUT as a whole (render.c), so what
 * was in OUT is gone afterwards.  That is meant for a previous report and
 * nothing else: OUT may be absent, an empty folder, or a folder holding a
 * report of sweepreport's (its summary.json names the tool).  It may not be
 * the sweep, hold the sweep, be a link, lie in a trial folder (the scan
 * would read the report as part of the trial) or in sweepreport's store. */
#ifndef SR_OUT_DIR_H
#define SR_OUT_DIR_H

#include <stddef.h>

/* The output folder: out_dir without trailing slashes ("/" stays), or
 * SWEEP/sweepreport when out_dir is NULL.  Malloc'd. */
char *sr_out_dir(const char *sweep_path, const char *out_dir);

/* The folder out is in: "." for a bare name, "/" for "/x".  Malloc'd. */
char *sr_out_parent(const char *out);

/* Whether a report of the sweep at sweep_path may be published at out (as
 * sr_out_dir gives it).  Returns 0, or -1 with a one-line reason that names
 * out and says what to do. */
int sr_out_dir_check(const char *sweep_path, const char *out, char *err, size_t errlen);

#endif
