/* ckpt_name.c - parses kohya checkpoint file names. */
#include "config.h"

#include "ckpt_name.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SUFFIX ".safetensors"

/* Length of the run of digits that ends at s[len-1]. */
static size_t trailing_digits(const char *s, size_t len)
{
    size_t n = 0;
    while (n < len && isdigit((unsigned char)s[len - 1 - n]))
        n++;
    return n;
}

static long parse_digits(const char *s, size_t n)
{
    char buf[32];
    if (n >= sizeof buf)
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    errno = 0;
    long v = strtol(buf, NULL, 10);
    return errno ? -1 : v;
}

int sr_ckpt_parse_name(const char *file, sr_ckpt_name *out)
{
    memset(out, 0, sizeof *out);
    out->epoch = -1;
    out->step = -1;
    if (!sr_str_has_suffix(file, SUFFIX))
        return -1;
    size_t len = strlen(file) - strlen(SUFFIX);
    if (len == 0)
        return -1;
    out->stem = xstrndup(file, len);

    const char *s = out->stem;
    size_t nd = trailing_digits(s, len);
    size_t head = len - nd;
    /* {name}-step{8+ digits} */
    if (nd >= 8 && head > 5 && memcmp(s + head - 5, "-step", 5) == 0) {
        long v = parse_digits(s + head, nd);
        if (v >= 0) {
            out->kind = SR_CKPT_STEP;
            out->step = v;
            out->output_name = xstrndup(s, head - 5);
            return 0;
        }
    }
    /* {name}-{6+ digits} */
    if (nd >= 6 && head > 1 && s[head - 1] == '-') {
        long v = parse_digits(s + head, nd);
        if (v >= 0) {
            out->kind = SR_CKPT_EPOCH;
            out->epoch = v;
            out->output_name = xstrndup(s, head - 1);
            return 0;
        }
    }
    out->kind = SR_CKPT_FINAL;
    out->output_name = xstrdup(s);
    return 0;
}

void sr_ckpt_name_free(sr_ckpt_name *n)
{
    free(n->stem);
    free(n->output_name);
    n->stem = n->output_name = NULL;
}

const char *sr_ckpt_kind_name(sr_ckpt_kind k)
{
    switch (k) {
    case SR_CKPT_EPOCH:
        return "epoch";
    case SR_CKPT_STEP:
        return "step";
    case SR_CKPT_FINAL:
        return "final";
    }
    return "?";
}
