/* util.h - memory, strings, paths and whole-file reads shared by every stage. */
#ifndef SR_UTIL_H
#define SR_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* Allocation that never returns NULL: on exhaustion the program stops with a
 * one-line message (there is nothing sensible left to do). */
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Growable byte string, always NUL-terminated. */
typedef struct {
    char *s;
    size_t len;
    size_t cap;
} sr_buf;

void sr_buf_init(sr_buf *b);
void sr_buf_free(sr_buf *b);
void sr_buf_append(sr_buf *b, const void *data, size_t n);
void sr_buf_puts(sr_buf *b, const char *s);
void sr_buf_printf(sr_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sr_buf_vprintf(sr_buf *b, const char *fmt, va_list ap);
/* Length of the valid UTF-8 character at s (1 to 4), 0 when s starts none
 * (a stray byte, an overlong form, a surrogate, beyond U+10FFFF). */
size_t sr_utf8_seq(const unsigned char *s);
/* s with each byte that starts no valid UTF-8 character replaced by U+FFFD
 * (malloc'd), or NULL when s is valid UTF-8 already.  File names and tags
 * may be any bytes; JSON and HTML must be UTF-8. */
char *sr_utf8_repair(const char *s);
/* Text from a file made safe for a terminal or a one-line message:
 * control characters (C0, DEL, C1: a newline would split the line, an
 * escape could recolour or retitle the terminal) and bytes that are no
 * UTF-8 are written as \xHH; the text is cut after at most max bytes of
 * it, between characters, with "..." when cut (SIZE_MAX: whole).
 * Malloc'd. */
char *sr_terminal_text(const char *s, size_t max);
/* Appends code point cp (below 0x110000) in UTF-8. */
void sr_buf_put_utf8(sr_buf *b, unsigned cp);
/* Hands the string to the caller and leaves b empty. */
char *sr_buf_steal(sr_buf *b);

/* "a" + "/" + "b" (no doubled slash); b absolute is returned as is. */
char *sr_path_join(const char *a, const char *b);

/* Whether path is the folder dir or lies inside it (as text: "a/bc" is
 * not under "a/b"). */
int sr_path_under(const char *path, const char *dir);

/* Whether path is a folder (following links). */
int sr_is_dir(const char *path);

/* A reason of the form "PATH: what" without its "PATH: " (all of it when
 * it does not start so, e.g. when a long path was cut short in it). */
const char *sr_reason_after_path(const char *why, const char *path);

/* Whether path is gone (stat says ENOENT): a file of the sweep deleted
 * since it was scanned, which is no bad input but the sweep changing. */
int sr_vanished(const char *path);

/* A folder of data files, e.g. "templates": $env_var when set, else the
 * installed one (pkgdatadir/name), else name beside src/ in the source tree
 * (running from a build), else name in the current folder.  Malloc'd. */
char *sr_data_dir(const char *env_var, const char *name);

/* The names in folder dir but "." and "..", malloc'd and sorted with cmp (a
 * qsort comparator of char * elements); *n is their count.  Returns NULL with
 * errno set when dir cannot be read (an empty folder gives a list).  Free
 * with sr_names_free. */
char **sr_dir_names(const char *dir, int (*cmp)(const void *, const void *), size_t *n);
void sr_names_free(char **names, size_t n);
/* Last component of a path (pointer into p). */
const char *sr_path_base(const char *p);
int sr_str_has_suffix(const char *s, const char *suffix);
int sr_str_has_prefix(const char *s, const char *prefix);

/* Reads a whole regular file, at most max bytes (a larger file is an error).
 * On failure returns -1 and writes a reason (without the path) into err. */
int sr_read_file(const char *path, size_t max, char **out, size_t *len, char *err, size_t errlen);

/* Deterministic pseudo-random numbers (splitmix64), for synthetic data. */
typedef struct {
    uint64_t state;
} sr_rng;
void sr_rng_seed(sr_rng *r, uint64_t seed);
uint64_t sr_rng_next(sr_rng *r);
double sr_rng_uniform(sr_rng *r);            /* [0, 1) */
double sr_rng_normal(sr_rng *r);             /* mean 0, sd 1 */

/* 64-bit FNV-1a: a stable fingerprint of bytes (not cryptographic). */
uint64_t sr_hash64(const void *data, size_t len);

/* A file name made from a folder or metric name must leave room for what is
 * added to it and stay under the file system's 255 bytes: a name longer than
 * max bytes (max > 17) is cut to max - 17 and ends in "-" and 16 hex digits
 * of a hash of the whole name, so that different long names stay apart.
 * Takes name (malloc'd) and returns the name to use. */
char *sr_short_file_name(char *name, size_t max);
/* Room for a one-line message: a path as long as the system allows (4096)
 * and the reason, so that a long path never cuts the reason off. */
#define SR_MSG_MAX 6144

/* The max the report uses: room for a suffix such as "-sheet.jpg" or "-12.svg". */
#define SR_FILE_NAME_STEM_MAX 200

/* Natural-order comparison: "sample_2" < "sample_10". */
int sr_strnatcmp(const char *a, const char *b);

#endif
