/* fingerprint.h - one number for everything a report is made from.
 *
 * A rerun compares the fingerprint of what it would render with the one the
 * published report records, and leaves the report alone when they match. */
#ifndef SR_FINGERPRINT_H
#define SR_FINGERPRINT_H

#include "sweep.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

/* A running 64-bit FNV-1a. */
typedef struct {
    uint64_t h;
} sr_fp;

void sr_fp_init(sr_fp *f);
void sr_fp_bytes(sr_fp *f, const void *data, size_t len);
/* The string and its terminating NUL (so "ab","c" differs from "a","bc"). */
void sr_fp_str(sr_fp *f, const char *s);
void sr_fp_u64(sr_fp *f, uint64_t v);

/* Every regular file of a folder (names and contents, in name order), or
 * the folder's absence. */
void sr_fp_folder(sr_fp *f, const char *dir);

/* The report's fingerprint as 16 hex digits (buf of 17 or more): the summary
 * document as given (the caller leaves out what changes on its own, such as
 * the time; the size, pending reason, samples and metrics of a pending
 * checkpoint, which change while it or its samples are written, are left
 * out here), the size, modification
 * time and inode of every sample image of a checkpoint that is not pending,
 * the Optuna study's trials, the templates (every file of templates_dir, may
 * be NULL), settings (the profile and options, as text) and the program's
 * version. */
void sr_report_fingerprint(const sr_sweep *s, const cJSON *summary, const char *templates_dir, const char *settings,
                           char *buf, size_t len);

#endif
