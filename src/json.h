/* json.h - reading JSON written by other tools (through cJSON).
 *
 * Python's json module writes NaN, Infinity and -Infinity for non-finite
 * floats (Optuna attributes, evaluator metrics); these are accepted and
 * become numbers.  Everything else must be standard JSON. */
#ifndef SR_JSON_H
#define SR_JSON_H

#include <cjson/cJSON.h>
#include <stddef.h>

/* Largest JSON file read from a sweep. */
#define SR_JSON_MAX_BYTES (64u * 1024u * 1024u)

/* Parses text (len bytes, need not be NUL-terminated).  On failure returns
 * NULL and writes a reason with the line and column into err. */
cJSON *sr_json_parse(const char *text, size_t len, char *err, size_t errlen);

/* Reads and parses a file; the reason on failure does not repeat the path. */
cJSON *sr_json_load(const char *path, char *err, size_t errlen);

/* Number of a member or NAN when missing or not a number. */
double sr_json_number(const cJSON *obj, const char *key);
/* String of a member or NULL. */
const char *sr_json_string(const cJSON *obj, const char *key);

/* Serialises with tab indentation (non-finite numbers become null, every
 * other number in the fewest digits that read back as the same double) and
 * a final newline.  The caller frees. */
char *sr_json_print(const cJSON *item);

/* Makes every key and string in item, its siblings after it and all they
 * hold valid UTF-8 (sr_utf8_repair) in place: for documents others read
 * (summary.json, scan --json), where names from the file system may be
 * any bytes.  sweepreport's own store keeps them exact. */
void sr_json_repair_utf8(cJSON *item);

#endif
