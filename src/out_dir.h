/* out_dir.h - the report's output folder: where it is, and whether a report
 * may be published there.
 *
 * Publishing swaps a new folder in for OUT as a whole (render.c), so what
 * was in OUT is gone afterwards.  That is meant for a previous report and
 * nothing else: OUT may be absent, an empty folder, or a folder holding a
 * report of sweepreport's (its summary.json names the tool).  It may not be
 * the sweep, hold the sweep, lie in a trial folder (the scan would read the
 * report as part of the trial) or in sweepreport's store.  Links and ".."
 * are resolved first: a link to a report folder is written through. */
#ifndef SR_OUT_DIR_H
#define SR_OUT_DIR_H

#include <cjson/cJSON.h>
#include <stddef.h>

/* The output folder, out_dir or SWEEP/sweepreport when out_dir is NULL,
 * as an absolute path with every link and ".." resolved: the folder that
 * sr_out_dir_check judged is the one written.  Malloc'd. */
char *sr_out_dir(const char *sweep_path, const char *out_dir);

/* The folder out is in: "." for a bare name, "/" for "/x".  Malloc'd. */
char *sr_out_parent(const char *out);

/* Whether a report of the sweep at sweep_path may be published at out_dir
 * (as given; NULL: the default).  summary is the summary.json in that
 * folder as the caller read it (NULL: none, or not a JSON object): the
 * render reads it anyway, to compare with.  Returns 0, or -1 with a
 * one-line reason that names out_dir as given and says what to do. */
int sr_out_dir_check(const char *sweep_path, const char *out_dir, const cJSON *summary, char *err, size_t errlen);

/* The same before anything is measured, without reading summary.json: a
 * folder with one as a regular file passes (the render that publishes
 * checks in full). */
int sr_out_dir_precheck(const char *sweep_path, const char *out_dir, char *err, size_t errlen);

#endif
