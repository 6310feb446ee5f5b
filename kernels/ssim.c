/* ssim.c - CPU twin of ssim_pairs.cu.
 *
 * Only the part of the SSIM map that is kept (a border of 5 pixels cropped on
 * each side) is computed, and that part only reads pixels inside the image.
 * Each filter is separable: a vertical pass over the rows the kept part
 * needs, then a horizontal pass.  The additions follow scipy.ndimage's
 * correlate1d for a symmetric kernel (centre tap first, then the pairs of
 * taps from the outside in) and its axis order (axis 0, then axis 1), and
 * the map follows skimage's expressions operation by operation, so the map
 * agrees with skimage's to the last bit or so; only the final mean's order
 * of summation differs (it is compensated here).
 *
 * The local mean and mean of squares of each plane are computed once and
 * shared by all its pairs; per pair only the product a*b is filtered, one
 * row at a time, and the map row is reduced at once. */
#include "config.h"

#include "ssim.h"

#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* scipy.ndimage._gaussian_kernel1d(1.5, 0, 5): exp(-x^2 / (2 * 1.5^2)) over
 * x = -5..5 divided by its sum, as numpy computes it; TAP[k] is the weight
 * at distance k. */
static const double TAP[SR_SSIM_RADIUS + 1] = {
    0x1.106560aa892c0p-2, 0x1.b43c3f52b19f2p-3, 0x1.bff0fe8e98418p-4,
    0x1.26eb175d83f65p-5, 0x1.f1fe01ae5a5b9p-8, 0x1.0d956b52a1d70p-10,
};

#define R SR_SSIM_RADIUS

/* No fused multiply-adds: they would change the rounding (GCC in ISO C mode
 * never contracts). */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

/* The filter loops work on a few neighbouring columns at once: with GCC or
 * Clang as a vector of doubles (SSE2 / NEON at the default -O2), elsewhere
 * one column at a time.  Lanes are independent, so each output sees the
 * same operations in the same order either way. */
#if defined(__GNUC__) || defined(__clang__)
typedef double sr_f64v __attribute__((vector_size(16)));
#define LANES 2
#define VLOAD(dst, p) memcpy(&(dst), (p), sizeof(sr_f64v))
#define VSTORE(p, src) memcpy((p), &(src), sizeof(sr_f64v))
#else
#define LANES 0
#endif

/* Vertical pass for image row y (R <= y < h-R), columns x0 .. w-1, of a or
 * of the product a*b when b is not NULL. */
static void vpass_scalar(const double *ca, const double *cb, size_t sw, int x0, int w, double *v)
{
    for (int x = x0; x < w; x++) {
        double t = cb ? ca[x] * cb[x] * TAP[0] : ca[x] * TAP[0];
        for (int k = R; k >= 1; k--) {
            const double *au = ca - (size_t)k * sw, *ad = ca + (size_t)k * sw;
            if (cb) {
                const double *bu = cb - (size_t)k * sw, *bd = cb + (size_t)k * sw;
                t += (au[x] * bu[x] + ad[x] * bd[x]) * TAP[k];
            } else {
                t += (au[x] + ad[x]) * TAP[k];
            }
        }
        v[x] = t;
    }
}

static void vpass(const double *a, const double *b, int w, int y, double *v)
{
    const size_t sw = (size_t)w;
    const double *ca = a + (size_t)y * sw;
    const double *cb = b ? b + (size_t)y * sw : NULL;
#if LANES
    /* Tap by tap over the row (each tap streams two rows of the plane). */
    const int wv = w - w % LANES;
    if (cb) {
        for (int x = 0; x < wv; x += LANES) {
            sr_f64v p, q, t;
            VLOAD(p, ca + x);
            VLOAD(q, cb + x);
            t = p * q * TAP[0];
            VSTORE(v + x, t);
        }
        for (int k = R; k >= 1; k--) {
            const double *au = ca - (size_t)k * sw, *ad = ca + (size_t)k * sw;
            const double *bu = cb - (size_t)k * sw, *bd = cb + (size_t)k * sw;
            const double tap = TAP[k];
            for (int x = 0; x < wv; x += LANES) {
                sr_f64v pu, qu, pd, qd, t;
                VLOAD(pu, au + x);
                VLOAD(qu, bu + x);
                VLOAD(pd, ad + x);
                VLOAD(qd, bd + x);
                VLOAD(t, v + x);
                t += (pu * qu + pd * qd) * tap;
                VSTORE(v + x, t);
            }
        }
    } else {
        for (int x = 0; x < wv; x += LANES) {
            sr_f64v p, t;
            VLOAD(p, ca + x);
            t = p * TAP[0];
            VSTORE(v + x, t);
        }
        for (int k = R; k >= 1; k--) {
            const double *au = ca - (size_t)k * sw, *ad = ca + (size_t)k * sw;
            const double tap = TAP[k];
            for (int x = 0; x < wv; x += LANES) {
                sr_f64v pu, pd, t;
                VLOAD(pu, au + x);
                VLOAD(pd, ad + x);
                VLOAD(t, v + x);
                t += (pu + pd) * tap;
                VSTORE(v + x, t);
            }
        }
    }
    vpass_scalar(ca, cb, sw, wv, w, v);
#else
    vpass_scalar(ca, cb, sw, 0, w, v);
#endif
}

/* Horizontal pass: out[x - R] for R <= x < w-R. */
static void hpass(const double *v, int w, double *out)
{
    const int cw = w - 2 * R;
    const double *c = v + R;
    int x = 0;
#if LANES
    for (; x + LANES <= cw; x += LANES) {
        sr_f64v p, t;
        VLOAD(p, c + x);
        t = p * TAP[0];
        for (int k = R; k >= 1; k--) {
            sr_f64v l, r;
            VLOAD(l, c + x - k);
            VLOAD(r, c + x + k);
            t += (l + r) * TAP[k];
        }
        VSTORE(out + x, t);
    }
#endif
    for (; x < cw; x++) {
        double t = c[x] * TAP[0];
        for (int k = R; k >= 1; k--)
            t += (c[x - k] + c[x + k]) * TAP[k];
        out[x] = t;
    }
}

/* Local mean and mean of squares of one plane over the kept region
 * ((w-2R) x (h-2R), row-major).  v is a scratch row of w doubles. */
static void plane_stats(const double *a, int w, int h, double *mu, double *mu2, double *v)
{
    const size_t cw = (size_t)(w - 2 * R);
    for (int y = R; y < h - R; y++) {
        size_t row = (size_t)(y - R) * cw;
        vpass(a, NULL, w, y, v);
        hpass(v, w, mu + row);
        vpass(a, a, w, y, v);
        hpass(v, w, mu2 + row);
    }
}

/* Mean SSIM of a pair from the planes and their statistics; v and uxy are
 * scratch rows of w and w-2R doubles. */
static double pair_ssim(const double *a, const double *b, const double *mu_a,
                        const double *mu2_a, const double *mu_b, const double *mu2_b, int w,
                        int h, double *v, double *uxy)
{
    const double k1r = 0.01 * 255.0, k2r = 0.03 * 255.0;
    const double c1 = k1r * k1r, c2 = k2r * k2r;
    const size_t cw = (size_t)(w - 2 * R);
    double sum = 0.0, comp = 0.0; /* Neumaier summation */
    for (int y = R; y < h - R; y++) {
        size_t row = (size_t)(y - R) * cw;
        vpass(a, b, w, y, v);
        hpass(v, w, uxy);
        for (size_t x = 0; x < cw; x++) {
            double ux = mu_a[row + x], uy = mu_b[row + x];
            double vx = mu2_a[row + x] - ux * ux;
            double vy = mu2_b[row + x] - uy * uy;
            double vxy = uxy[x] - ux * uy;
            double a1 = 2.0 * ux * uy + c1, a2 = 2.0 * vxy + c2;
            double b1 = ux * ux + uy * uy + c1, b2 = vx + vy + c2;
            double s = (a1 * a2) / (b1 * b2);
            double t = sum + s;
            comp += fabs(sum) >= fabs(s) ? (sum - t) + s : (s - t) + sum;
            sum = t;
        }
    }
    return (sum + comp) / ((double)cw * (double)(h - 2 * R));
}

double sr_ssim_cpu(const double *a, const double *b, int w, int h)
{
    double out;
    const double *planes[2] = {a, b};
    sr_ssim_pairs_cpu(planes, 2, w, h, &out);
    return out;
}

void sr_ssim_pairs_cpu(const double *const *lumas, size_t n, int w, int h, double *out)
{
    if (n < 2)
        return;
    const size_t n_pairs = n * (n - 1) / 2;
    if (w < SR_SSIM_MIN_SIDE || h < SR_SSIM_MIN_SIDE) {
        for (size_t k = 0; k < n_pairs; k++)
            out[k] = NAN;
        return;
    }
    const size_t region = (size_t)(w - 2 * R) * (size_t)(h - 2 * R);
    double *mu = xmalloc(2 * n * region * sizeof *mu); /* per plane: mean, then mean of squares */
    size_t *first = xmalloc(n_pairs * sizeof *first);
    size_t *second = xmalloc(n_pairs * sizeof *second);
    for (size_t i = 0, k = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++, k++) {
            first[k] = i;
            second[k] = j;
        }

#ifdef _OPENMP
#pragma omp parallel
#endif
    {
        double *v = xmalloc((size_t)w * 2 * sizeof *v);
        double *uxy = v + w;
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
        for (size_t i = 0; i < n; i++)
            plane_stats(lumas[i], w, h, mu + 2 * i * region, mu + (2 * i + 1) * region, v);
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
        for (size_t k = 0; k < n_pairs; k++) {
            size_t i = first[k], j = second[k];
            out[k] = pair_ssim(lumas[i], lumas[j], mu + 2 * i * region, mu + (2 * i + 1) * region,
                               mu + 2 * j * region, mu + (2 * j + 1) * region, w, h, v, uxy);
        }
        free(v);
    }
    free(second);
    free(first);
    free(mu);
}
