/* kohya_samples.c - parses kohya training-time sample names. */
#include "config.h"

#include "kohya_samples.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TOKENS 64

static int all_digits(const char *s, size_t min_len, size_t max_len)
{
    size_t n = strlen(s);
    if (n < min_len || n > max_len)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return 0;
    return 1;
}

static long to_long(const char *s)
{
    errno = 0;
    long v = strtol(s, NULL, 10);
    return errno ? -1 : v;
}

/* e000002 -> epoch 2; 001200 -> step 1200. */
static int parse_num(const char *tok, long *epoch, long *step)
{
    if (tok[0] == 'e' && all_digits(tok + 1, 6, 12)) {
        *epoch = to_long(tok + 1);
        *step = -1;
        return *epoch >= 0 ? 0 : -1;
    }
    if (all_digits(tok, 6, 12)) {
        *step = to_long(tok);
        *epoch = -1;
        return *step >= 0 ? 0 : -1;
    }
    return -1;
}

static int is_timestamp(const char *tok)
{
    return all_digits(tok, 14, 14);
}

static int is_prompt(const char *tok)
{
    return all_digits(tok, 2, 6);
}

/* Tries the layout whose tokens (num, idx, ts, in file order) end at
 * tokens[end-1]; seed says whether one more number follows. */
static int try_layout(char **tok, size_t n, int old_order, int seed, sr_kohya_sample *out, size_t *prefix_len)
{
    size_t need = 3 + (seed ? 1 : 0);
    if (n < need)
        return -1;
    size_t b = n - need;
    if (seed && !all_digits(tok[n - 1], 1, 20))
        return -1;
    const char *ts = old_order ? tok[b] : tok[b + 2];
    const char *num = old_order ? tok[b + 1] : tok[b];
    const char *idx = old_order ? tok[b + 2] : tok[b + 1];
    if (!is_timestamp(ts) || !is_prompt(idx) || parse_num(num, &out->epoch, &out->step) != 0)
        return -1;
    out->prompt = (int)to_long(idx);
    out->timestamp = xstrdup(ts);
    *prefix_len = b;
    return 0;
}

int sr_kohya_sample_parse(const char *name, sr_kohya_sample *out)
{
    memset(out, 0, sizeof *out);
    out->epoch = out->step = -1;
    if (!sr_str_has_suffix(name, ".png"))
        return -1;
    char *base = xstrndup(name, strlen(name) - 4);
    char *tok[MAX_TOKENS];
    size_t n = 0;
    for (char *p = base, *save = NULL, *t; (t = strtok_r(p, "_", &save)) != NULL && n < MAX_TOKENS; p = NULL)
        tok[n++] = t;
    /* Newer layout first; a seed is tried after the plain form. */
    static const int layouts[][2] = {{0, 0}, {0, 1}, {1, 0}, {1, 1}};
    size_t prefix = 0;
    int rc = -1;
    for (size_t i = 0; i < 4 && rc != 0; i++)
        rc = try_layout(tok, n, layouts[i][0], layouts[i][1], out, &prefix);
    if (rc == 0) {
        sr_buf b;
        sr_buf_init(&b);
        for (size_t i = 0; i < prefix; i++) {
            if (i)
                sr_buf_puts(&b, "_");
            sr_buf_puts(&b, tok[i]);
        }
        out->output_name = sr_buf_steal(&b);
    }
    free(base);
    return rc;
}

void sr_kohya_sample_free(sr_kohya_sample *s)
{
    free(s->output_name);
    free(s->timestamp);
    s->output_name = s->timestamp = NULL;
}
