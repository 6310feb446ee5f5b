/* leftovers.h - what a killed run left behind.
 *
 * Every output is written to a temporary name beside its place and renamed
 * into place (atomic_file.h; render's whole report folder likewise), so a
 * run killed at any instant leaves the previous files whole, plus perhaps
 * a temporary file or folder named ".NAME.sweepreport-tmp-XXXXXX"
 * (SR_TEMP_MARK).  Nothing reads those; the next run that holds the sweep's
 * lock alone removes them, and nothing else: another tool's temporaries
 * (a trainer's ".NAME.tmp-XXXXXX") are left alone.  A file a killed
 * check-and-swap left under ".NAME" SR_SWAP_MARK "XXXXXX" is put back when
 * NAME is missing, removed when it is empty or sweepreport's own
 * metrics.json, and otherwise kept: it may be another tool's. */
#ifndef SR_LEFTOVERS_H
#define SR_LEFTOVERS_H

#include <stddef.h>

/* 1 when name is one of our temporary names: ".NAME" SR_TEMP_MARK and six
 * more characters, nothing after them. */
int sr_is_temp_name(const char *name);

/* Removes our temporary files and folders from the places a run writes:
 * SWEEP/.sweepreport (all of it), each trial folder and each of its
 * realtime_evaluations/<stem>/ folders, and the folder that holds out_dir
 * (only the temporaries of out_dir itself).  Returns how many were
 * removed. */
size_t sr_remove_leftovers(const char *sweep_path, const char *out_dir);

#endif
