/* ssim_rows.h - the row filters of ssim.c, for one vector width.
 *
 * Included by ssim.c once per instruction set, with
 *   SR_SSIM_SUFFIX  name suffix of the functions (generic, avx2)
 *   SR_SSIM_LANES   doubles per vector (2 or 4)
 *   SR_SSIM_TARGET  a function attribute selecting the instruction set
 * Lanes are independent and no multiply-add is fused, so every width gives
 * every output the same operations in the same order: bit-identical
 * results. */

#define SR_CAT_(a, b) a##_##b
#define SR_CAT(a, b) SR_CAT_(a, b)
#define SR_FN(name) SR_CAT(name, SR_SSIM_SUFFIX)
#define SR_VEC SR_CAT(sr_f64v, SR_SSIM_SUFFIX)

typedef double SR_VEC __attribute__((vector_size(8 * SR_SSIM_LANES)));

/* One row of the product a*b, n values. */
SR_SSIM_TARGET static void SR_FN(mul_row)(const double *a, const double *b, int n, double *out)
{
    int x = 0;
    for (; x + SR_SSIM_LANES <= n; x += SR_SSIM_LANES) {
        SR_VEC p, q, t;
        memcpy(&p, a + x, sizeof p);
        memcpy(&q, b + x, sizeof q);
        t = p * q;
        memcpy(out + x, &t, sizeof t);
    }
    for (; x < n; x++)
        out[x] = a[x] * b[x];
}

/* Vertical pass into v[0 .. w): rows[R] is the centre row, rows[R - k] and
 * rows[R + k] the rows k above and below it. */
SR_SSIM_TARGET static void SR_FN(vpass)(const double *const *rows, int w, double *v)
{
    const int wv = w - w % SR_SSIM_LANES;
    const double *c = rows[R];
    for (int x = 0; x < wv; x += SR_SSIM_LANES) {
        SR_VEC p, t;
        memcpy(&p, c + x, sizeof p);
        t = p * TAP[0];
        memcpy(v + x, &t, sizeof t);
    }
    /* tap by tap over the row: each tap streams two rows */
    for (int k = R; k >= 1; k--) {
        const double *u = rows[R - k], *d = rows[R + k];
        const double tap = TAP[k];
        for (int x = 0; x < wv; x += SR_SSIM_LANES) {
            SR_VEC pu, pd, t;
            memcpy(&pu, u + x, sizeof pu);
            memcpy(&pd, d + x, sizeof pd);
            memcpy(&t, v + x, sizeof t);
            t += (pu + pd) * tap;
            memcpy(v + x, &t, sizeof t);
        }
    }
    vpass_scalar(rows, wv, w, v);
}

/* Horizontal pass: out[x - R] for R <= x < w-R. */
SR_SSIM_TARGET static void SR_FN(hpass)(const double *v, int w, double *out)
{
    const int cw = w - 2 * R;
    const double *c = v + R;
    int x = 0;
    for (; x + SR_SSIM_LANES <= cw; x += SR_SSIM_LANES) {
        SR_VEC p, t;
        memcpy(&p, c + x, sizeof p);
        t = p * TAP[0];
        for (int k = R; k >= 1; k--) {
            SR_VEC l, r;
            memcpy(&l, c + x - k, sizeof l);
            memcpy(&r, c + x + k, sizeof r);
            t += (l + r) * TAP[k];
        }
        memcpy(out + x, &t, sizeof t);
    }
    for (; x < cw; x++) {
        double t = c[x] * TAP[0];
        for (int k = R; k >= 1; k--)
            t += (c[x - k] + c[x + k]) * TAP[k];
        out[x] = t;
    }
}

/* Sum over one row of the SSIM map (n values), skimage's expressions
 * operation by operation per value.  The row is summed in four interleaved
 * partial sums whatever the vector width, added in a fixed order at the
 * end: every width gives the same sum. */
SR_SSIM_TARGET static double SR_FN(map_row_sum)(const double *mu_a, const double *mu2_a, const double *mu_b,
                                                const double *mu2_b, const double *uxy, size_t n)
{
    enum { NV = 4 / SR_SSIM_LANES };
    const double k1r = 0.01 * 255.0, k2r = 0.03 * 255.0;
    const double c1 = k1r * k1r, c2 = k2r * k2r;
    SR_VEC acc[NV];
    memset(acc, 0, sizeof acc);
    size_t x = 0;
    for (; x + 4 <= n; x += 4) {
        for (int h = 0; h < NV; h++) {
            const size_t o = x + (size_t)h * SR_SSIM_LANES;
            SR_VEC ux, uy, ma, mb, xy;
            memcpy(&ux, mu_a + o, sizeof ux);
            memcpy(&uy, mu_b + o, sizeof uy);
            memcpy(&ma, mu2_a + o, sizeof ma);
            memcpy(&mb, mu2_b + o, sizeof mb);
            memcpy(&xy, uxy + o, sizeof xy);
            SR_VEC vx = ma - ux * ux, vy = mb - uy * uy, vxy = xy - ux * uy;
            SR_VEC a1 = 2.0 * ux * uy + c1, a2 = 2.0 * vxy + c2;
            SR_VEC b1 = ux * ux + uy * uy + c1, b2 = vx + vy + c2;
            acc[h] += (a1 * a2) / (b1 * b2);
        }
    }
    double sum = 0.0;
    for (int h = 0; h < NV; h++)
        for (int l = 0; l < SR_SSIM_LANES; l++)
            sum += acc[h][l];
    for (; x < n; x++) {
        double ux = mu_a[x], uy = mu_b[x];
        double vx = mu2_a[x] - ux * ux, vy = mu2_b[x] - uy * uy, vxy = uxy[x] - ux * uy;
        double a1 = 2.0 * ux * uy + c1, a2 = 2.0 * vxy + c2;
        double b1 = ux * ux + uy * uy + c1, b2 = vx + vy + c2;
        sum += (a1 * a2) / (b1 * b2);
    }
    return sum;
}

#undef SR_VEC
#undef SR_FN
#undef SR_CAT
#undef SR_CAT_
