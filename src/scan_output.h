/* scan_output.h - the scan as JSON (a contract scripts rely on) and as text. */
#ifndef SR_SCAN_OUTPUT_H
#define SR_SCAN_OUTPUT_H

#include "sweep.h"

#include <cjson/cJSON.h>
#include <stdio.h>

/* {"tool", "sweep", "trials", "problems"}: see the manual for every field. */
cJSON *sr_scan_to_json(const sr_sweep *s);

/* One compact table per trial, then the problems. */
void sr_scan_print_text(const sr_sweep *s, FILE *out);

/* "4.6 MiB" */
void sr_format_size(uint64_t bytes, char *buf, size_t len);

#endif
