/* thumbs.c - area-average thumbnails and their cache in the sweep. */
#include "config.h"

#include "thumbs.h"
#include "atomic_file.h"
#include "png_io.h"
#include "store.h"
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Overlap of source pixel j with output pixel i when n source pixels map
 * onto tn output pixels, in units of 1/tn source pixel: output i covers
 * [i*n, (i+1)*n) and source j covers [j*tn, (j+1)*tn).  Over one output
 * pixel the overlaps add up to n exactly, so the filter is exact integer
 * arithmetic and a uniform area stays exactly uniform. */
static uint64_t overlap(int64_t i, int64_t j, int64_t n, int64_t tn)
{
    int64_t a = i * n, b = (i + 1) * n;
    int64_t c = j * tn, d = (j + 1) * tn;
    int64_t lo = a > c ? a : c, hi = b < d ? b : d;
    return hi > lo ? (uint64_t)(hi - lo) : 0;
}

uint8_t *sr_thumb_scale(const uint8_t *rgb, int w, int h, int max_side, int *tw, int *th)
{
    *tw = *th = 0;
    if (!rgb || w <= 0 || h <= 0 || max_side <= 0 || w > SR_PNG_MAX_SIDE || h > SR_PNG_MAX_SIDE)
        return NULL;
    int m = w > h ? w : h;
    size_t row = (size_t)w * 3;
    if (m <= max_side) {
        uint8_t *out = xmalloc(row * (size_t)h);
        memcpy(out, rgb, row * (size_t)h);
        *tw = w;
        *th = h;
        return out;
    }
    int ow = (int)(((int64_t)w * max_side + m / 2) / m);
    int oh = (int)(((int64_t)h * max_side + m / 2) / m);
    if (ow < 1)
        ow = 1;
    if (oh < 1)
        oh = 1;

    /* the weights of each output column, once: its first source column and
     * the overlaps of the columns it covers (at most w / ow + 2 of them) */
    const int span = w / ow + 2;
    int *j0s = xmalloc((size_t)ow * sizeof *j0s);
    int *nj = xmalloc((size_t)ow * sizeof *nj);
    uint32_t *wts = xcalloc((size_t)ow * (size_t)span, sizeof *wts);
    for (int x = 0; x < ow; x++) {
        int j0 = (int)(((int64_t)x * w) / ow);
        int j1 = (int)(((int64_t)(x + 1) * w - 1) / ow);
        j0s[x] = j0;
        nj[x] = j1 - j0 + 1;
        for (int j = j0; j <= j1; j++)
            wts[(size_t)x * (size_t)span + (size_t)(j - j0)] = (uint32_t)overlap(x, j, w, ow);
    }

    /* horizontal pass: weighted sums (at most 255 * w) per source row */
    uint32_t *hs = xmalloc((size_t)h * (size_t)ow * 3 * sizeof *hs);
    for (int y = 0; y < h; y++) {
        const uint8_t *src = rgb + (size_t)y * row;
        uint32_t *dst = hs + (size_t)y * (size_t)ow * 3;
        for (int x = 0; x < ow; x++) {
            const uint8_t *p = src + 3 * (size_t)j0s[x];
            const uint32_t *wt = wts + (size_t)x * (size_t)span;
            uint32_t s0 = 0, s1 = 0, s2 = 0;
            for (int j = 0; j < nj[x]; j++) {
                s0 += wt[j] * p[3 * j];
                s1 += wt[j] * p[3 * j + 1];
                s2 += wt[j] * p[3 * j + 2];
            }
            dst[3 * x] = s0;
            dst[3 * x + 1] = s1;
            dst[3 * x + 2] = s2;
        }
    }
    free(wts);
    free(nj);
    free(j0s);

    /* vertical pass: the total weight of an output pixel is w * h.  The
     * rounded quotient is taken in double: numerator and total are exact
     * there (< 2^53), and a quotient that is not a whole number lies at
     * least 1/total (>= 2^-28) from one, far more than the division's
     * rounding error, so truncating it gives the integer quotient. */
    uint8_t *out = xmalloc((size_t)ow * (size_t)oh * 3);
    uint64_t *acc = xmalloc((size_t)ow * 3 * sizeof *acc);
    uint64_t total = (uint64_t)w * (uint64_t)h;
    const double dtotal = (double)total;
    for (int y = 0; y < oh; y++) {
        memset(acc, 0, (size_t)ow * 3 * sizeof *acc);
        int i0 = (int)(((int64_t)y * h) / oh);
        int i1 = (int)(((int64_t)(y + 1) * h - 1) / oh);
        for (int i = i0; i <= i1; i++) {
            uint64_t wt = overlap(y, i, h, oh);
            const uint32_t *src = hs + (size_t)i * (size_t)ow * 3;
            for (size_t k = 0; k < (size_t)ow * 3; k++)
                acc[k] += wt * src[k];
        }
        uint8_t *dst = out + (size_t)y * (size_t)ow * 3;
        for (size_t k = 0; k < (size_t)ow * 3; k++)
            dst[k] = (uint8_t)(uint64_t)((double)(acc[k] + total / 2) / dtotal);
    }
    free(acc);
    free(hs);
    *tw = ow;
    *th = oh;
    return out;
}

int sr_thumb_id_of(const char *sample_abs, sr_thumb_id *id)
{
    struct stat st;
    if (stat(sample_abs, &st) != 0)
        return -1;
    if (!S_ISREG(st.st_mode)) {
        errno = EINVAL;
        return -1;
    }
    id->size = (uint64_t)st.st_size;
    id->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    return 0;
}

static char *thumbs_dir(const char *sweep_path)
{
    return xasprintf("%s/" SR_STORE_DIR "/thumbs", sweep_path);
}

char *sr_thumb_cache_path(const char *sweep_path, const char *sample_rel, const sr_thumb_id *id, int max_side)
{
    char *key = xasprintf("thumb v1\n%s\n%" PRIu64 "\n%" PRId64 "\n%d\n", sample_rel, id->size, id->mtime_ns,
                          max_side);
    uint64_t h = sr_hash64(key, strlen(key));
    free(key);
    char *dir = thumbs_dir(sweep_path);
    char *path = xasprintf("%s/%016" PRIx64 ".png", dir, h);
    free(dir);
    return path;
}

int sr_thumb_cache_get(const char *sweep_path, const char *sample_rel, const sr_thumb_id *id, int max_side,
                       uint8_t **thumb, int *tw, int *th, char *err, size_t errlen)
{
    *thumb = NULL;
    *tw = *th = 0;
    char *path = sr_thumb_cache_path(sweep_path, sample_rel, id, max_side);
    struct stat st;
    if (stat(path, &st) != 0) {
        int missing = errno == ENOENT || errno == ENOTDIR;
        if (!missing)
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
        free(path);
        return missing ? 0 : -1;
    }
    uint8_t *rgb;
    int w, h;
    if (sr_png_read_rgb8(path, &rgb, &w, &h, err, errlen) != 0) {
        free(path);
        return -1;
    }
    if (w > max_side || h > max_side) {
        snprintf(err, errlen, "%s: %dx%d is not a thumbnail of at most %d pixels", path, w, h, max_side);
        free(rgb);
        free(path);
        return -1;
    }
    free(path);
    *thumb = rgb;
    *tw = w;
    *th = h;
    return 1;
}

int sr_thumb_cache_put(const char *sweep_path, const char *sample_rel, const sr_thumb_id *id, int max_side,
                       const uint8_t *thumb, int tw, int th, char *err, size_t errlen)
{
    if (!thumb || tw <= 0 || th <= 0 || tw > max_side || th > max_side) {
        snprintf(err, errlen, "%s: invalid thumbnail %dx%d for at most %d pixels", sample_rel, tw, th, max_side);
        return -1;
    }
    char *dir = thumbs_dir(sweep_path);
    if (sr_mkdir_p(dir, 0777) != 0) {
        snprintf(err, errlen, "%s: cannot create: %s", dir, strerror(errno));
        free(dir);
        return -1;
    }
    free(dir);
    char *path = sr_thumb_cache_path(sweep_path, sample_rel, id, max_side);
    int rc = sr_png_write_rgb8_filtered(path, thumb, tw, th, SR_PNG_FILTER_SUB, err, errlen);
    free(path);
    return rc;
}

int sr_thumb_load(const char *sweep_path, const char *trial_path, const char *trial_name, const char *sample, int store,
                  uint8_t **thumb, int *tw, int *th, char *err, size_t errlen)
{
    *thumb = NULL;
    *tw = *th = 0;
    char *abs = sr_path_join(trial_path, sample);
    char *rel = xasprintf("%s/%s", trial_name, sample);
    sr_thumb_id id;
    char why[SR_MSG_MAX];
    int rc = -1;
    if (sr_thumb_id_of(abs, &id) != 0) {
        snprintf(err, errlen, "%s: %s", abs, strerror(errno));
    } else if (sr_thumb_cache_get(sweep_path, rel, &id, SR_THUMB_SIDE, thumb, tw, th, why, sizeof why) == 1) {
        rc = 0;
    } else {
        uint8_t *rgb = NULL;
        int w = 0, h = 0;
        if (sr_png_read_rgb8(abs, &rgb, &w, &h, err, errlen) == 0) {
            *thumb = sr_thumb_scale(rgb, w, h, SR_THUMB_SIDE, tw, th);
            free(rgb);
            if (*thumb) {
                rc = 0;
                if (store)
                    sr_thumb_cache_put(sweep_path, rel, &id, SR_THUMB_SIDE, *thumb, *tw, *th, why, sizeof why);
            } else {
                snprintf(err, errlen, "%s: cannot make a thumbnail of %dx%d pixels", abs, w, h);
            }
        }
    }
    free(rel);
    free(abs);
    return rc;
}
