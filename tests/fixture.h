/* fixture.h - hand-made sweep folders for tests. */
#ifndef SR_TEST_FIXTURE_H
#define SR_TEST_FIXTURE_H

#include "analysis.h"
#include "sweep.h"

#include <stddef.h>

/* Writes text to dir/rel, creating parent folders; aborts the test on error. */
void fx_write(const char *dir, const char *rel, const char *text);

/* Writes a small valid kohya-style LoRA file (two modules, F16) to dir/rel.
 * meta: NULL-terminated key, value, key, value... list for __metadata__
 * (may be NULL).  Returns the file size. */
size_t fx_write_lora(const char *dir, const char *rel, const char *const *meta);

/* The same file cut to keep bytes. */
void fx_write_lora_truncated(const char *dir, const char *rel, size_t keep);

/* A tiny valid PNG (solid colour). */
void fx_write_png(const char *dir, const char *rel, int w, int h, unsigned char r, unsigned char g,
                  unsigned char b);

/* A small synthetic sweep written to dir (trials, 6 epochs every 2, two
 * samples of size px, rank 1, the given seed), measured on the CPU, scanned
 * and analysed with the default score.  Aborts the test program on error. */
void fx_measured_sweep(const char *dir, int trials, int size, unsigned long long seed, sr_sweep *sweep,
                       sr_analysis *analysis);

/* Scans the sweep in dir and analyses it with the default score (a failed
 * check when either fails). */
void fx_scan_analyze(const char *dir, sr_sweep *sweep, sr_analysis *analysis);

/* Adds "note": note to dir/trial/params.json (a tool's file that tests may
 * edit: they made it). */
void fx_plant_note(const char *dir, const char *trial, const char *note);

/* 1 when the program tool is on the PATH; otherwise prints a TAP skip
 * comment and returns 0. */
int fx_have_tool(const char *tool);

/* Runs a shell command and returns its standard output (malloc'd, never
 * NULL); *status (when not NULL) gets pclose's status. */
char *fx_run(const char *cmd, int *status);

/* Bytes from the size column of pdfimages -list ("12.3K", "1.20M", "845B"). */
double fx_pdfimages_bytes(const char *size);

#endif
