/* json.c - cJSON with Python's NaN/Infinity extension. */
#include "config.h"

#include "json.h"
#include "num_format.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* NaN has no numeric spelling that strtod and cJSON both accept, so it is
 * carried through the parser as this string and turned back afterwards.
 * The control bytes cannot occur in a parsed string by accident: they only
 * come from an escape that no writer of these files produces. */
#define NAN_MARK "\x01NaN\x01"

static int word_at(const char *p, const char *end, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(end - p) < n || memcmp(p, w, n) != 0)
        return 0;
    /* Must end there: "Infinityx" is not a token. */
    if (p + n < end) {
        char c = p[n];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')
            return 0;
    }
    return 1;
}

/* A replaced word: `from_len` bytes at `from` in the text became `to_len`
 * bytes at `to` in the rewritten text. */
typedef struct {
    size_t from, from_len, to, to_len;
} rewrite;

typedef struct {
    rewrite *at;
    size_t n, cap;
} rewrites;

/* Rewrites NaN / Infinity / -Infinity outside strings; each replacement
 * is recorded in rw. */
static char *rewrite_nonfinite(const char *text, size_t len, rewrites *rw, size_t *outlen)
{
    sr_buf b;
    sr_buf_init(&b);
    const char *p = text, *end = text + len, *run = text;
    int in_string = 0;
    while (p < end) {
        char c = *p;
        if (in_string) {
            if (c == '\\' && p + 1 < end)
                p += 2;
            else {
                if (c == '"')
                    in_string = 0;
                p++;
            }
            continue;
        }
        const char *rep = NULL;
        size_t skip = 0;
        if (c == '"') {
            in_string = 1;
        } else if (c == 'N' && word_at(p, end, "NaN")) {
            rep = "\"\\u0001NaN\\u0001\"";
            skip = 3;
        } else if (c == 'I' && word_at(p, end, "Infinity")) {
            rep = "1e99999";
            skip = 8;
        } else if (c == '-' && word_at(p, end, "-Infinity")) {
            rep = "-1e99999";
            skip = 9;
        }
        if (rep) {
            sr_buf_append(&b, run, (size_t)(p - run));
            if (rw->n == rw->cap) {
                rw->cap = rw->cap ? 2 * rw->cap : 8;
                rw->at = xrealloc(rw->at, rw->cap * sizeof *rw->at);
            }
            rw->at[rw->n++] = (rewrite){(size_t)(p - text), skip, b.len, strlen(rep)};
            sr_buf_puts(&b, rep);
            p += skip;
            run = p;
        } else {
            p++;
        }
    }
    sr_buf_append(&b, run, (size_t)(end - run));
    *outlen = b.len;
    return sr_buf_steal(&b);
}

/* The offset in the original text of offset `at` of the rewritten one (the
 * start of a replaced word for any offset inside its replacement). */
static size_t original_offset(const rewrites *rw, size_t at)
{
    size_t orig = at;
    for (size_t i = 0; i < rw->n && rw->at[i].to <= at; i++) {
        if (at < rw->at[i].to + rw->at[i].to_len)
            return rw->at[i].from;
        orig = orig - rw->at[i].to_len + rw->at[i].from_len;
    }
    return orig;
}

/* Turns the NaN marks back into numbers.  Returns -1 when one is a key:
 * NaN is a value, never a name. */
static int restore_nan(cJSON *item)
{
    for (; item; item = item->next) {
        if (item->string && strcmp(item->string, NAN_MARK) == 0)
            return -1;
        if (cJSON_IsString(item) && item->valuestring && strcmp(item->valuestring, NAN_MARK) == 0) {
            cJSON_free(item->valuestring);
            item->valuestring = NULL;
            item->type = cJSON_Number | (item->type & cJSON_StringIsConst);
            item->valuedouble = NAN;
            item->valueint = 0;
        }
        if (item->child && restore_nan(item->child) != 0)
            return -1;
    }
    return 0;
}

static void position_of(const char *text, const char *at, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (const char *p = text; p < at && *p; p++) {
        if (*p == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

cJSON *sr_json_parse(const char *text, size_t len, char *err, size_t errlen)
{
    rewrites rw = {NULL, 0, 0};
    size_t srclen = 0;
    char *src = rewrite_nonfinite(text, len, &rw, &srclen);
    cJSON *root = NULL;
    if (memchr(src, '\0', srclen)) {
        snprintf(err, errlen, "invalid JSON: NUL byte in the text");
        goto done;
    }
    const char *end = NULL;
    /* The length includes the terminating NUL: cJSON checks for it after the
     * value to reject trailing text. */
    root = cJSON_ParseWithLengthOpts(src, srclen + 1, &end, 1);
    if (!root) {
        /* the position in the text as it was, before the rewrite */
        size_t at = end ? (size_t)(end - src) : 0;
        int line, col;
        position_of(text, text + original_offset(&rw, at), &line, &col);
        if (srclen == 0 || at >= srclen)
            snprintf(err, errlen, "invalid JSON: unexpected end of the text at line %d", line);
        else
            snprintf(err, errlen, "invalid JSON at line %d, column %d", line, col);
        goto done;
    }
    if (rw.n && restore_nan(root) != 0) {
        snprintf(err, errlen, "invalid JSON: NaN used as a key");
        cJSON_Delete(root);
        root = NULL;
    }
done:
    free(rw.at);
    free(src);
    return root;
}

cJSON *sr_json_load(const char *path, char *err, size_t errlen)
{
    char *text;
    size_t len;
    if (sr_read_file(path, SR_JSON_MAX_BYTES, &text, &len, err, errlen) != 0)
        return NULL;
    cJSON *root = sr_json_parse(text, len, err, errlen);
    free(text);
    return root;
}

double sr_json_number(const cJSON *obj, const char *key)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(it) ? it->valuedouble : NAN;
}

const char *sr_json_string(const cJSON *obj, const char *key)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(it) ? it->valuestring : NULL;
}

/* Every finite number of the tree as raw text that reads back exactly
 * (cJSON stops at 15 digits whenever the number read back is within an
 * epsilon of it, so a double a script compares with == could come back
 * another). */
static void exact_numbers(cJSON *item)
{
    for (; item; item = item->next) {
        if (cJSON_IsNumber(item) && isfinite(item->valuedouble)) {
            char text[32];
            sr_format_exact(item->valuedouble, text, sizeof text);
            char *raw = cJSON_malloc(strlen(text) + 1);
            if (!raw) {
                fprintf(stderr, "sweepreport: out of memory (printing JSON)\n");
                abort();
            }
            strcpy(raw, text);
            item->type = cJSON_Raw | (item->type & cJSON_StringIsConst);
            item->valuestring = raw;
        }
        exact_numbers(item->child);
    }
}

char *sr_json_print(const cJSON *item)
{
    cJSON *copy = cJSON_Duplicate(item, 1);
    if (!copy) {
        fprintf(stderr, "sweepreport: out of memory (printing JSON)\n");
        abort();
    }
    exact_numbers(copy);
    char *s = cJSON_Print(copy);
    cJSON_Delete(copy);
    if (!s) {
        fprintf(stderr, "sweepreport: out of memory (printing JSON)\n");
        abort();
    }
    char *out = xasprintf("%s\n", s);
    cJSON_free(s);
    return out;
}

/* *text (cJSON's memory) made valid UTF-8 in place. */
static void repair_cjson_text(char **text)
{
    char *fixed = sr_utf8_repair(*text);
    if (!fixed)
        return;
    char *copy = cJSON_malloc(strlen(fixed) + 1);
    if (!copy) {
        fprintf(stderr, "sweepreport: out of memory (JSON text)\n");
        abort();
    }
    strcpy(copy, fixed);
    free(fixed);
    cJSON_free(*text);
    *text = copy;
}

void sr_json_repair_utf8(cJSON *item)
{
    for (; item; item = item->next) {
        if (item->string && !(item->type & cJSON_StringIsConst))
            repair_cjson_text(&item->string);
        if (cJSON_IsString(item) && item->valuestring && !(item->type & cJSON_IsReference))
            repair_cjson_text(&item->valuestring);
        sr_json_repair_utf8(item->child);
    }
}
