// ssim_pairs.cu - SSIM of every pair of n same-size luma planes.
// CPU twin: ssim.c (sr_ssim_pairs_cpu).
//
// The planes are uploaded once.  Only the kept part of the SSIM map (the
// image less a border of R = 5 pixels) is computed, and it reads only
// pixels inside the image, so no boundary rule is needed (the twin does the
// same).  Three kernels:
//
//   plane_stats_kernel  per plane: the Gaussian-filtered mean and mean of
//                       squares over the kept region, once;
//   pair_kernel         per pair and tile: the filtered product, the SSIM
//                       map and the tile's sum of it;
//   pair_sum_kernel     per pair: the sum of its tile sums, in a fixed
//                       order, divided by the number of kept pixels.
//
// A tile is 32 x 8 kept pixels, one per thread.  Its input, 42 x 18 values
// (the tile plus the filter radius all round), goes to shared memory; the
// vertical pass writes 42 x 8 values, the horizontal pass gives each thread
// its output.  Every filter and map operation is in double and in the
// twin's order, with explicitly rounded operations (no fused multiply-add),
// so each map value is the twin's value bit for bit; only the additions of
// the final mean are in a different order.
#include "config.h"

#include "cuda_check.h"
#include "cuda_scratch.h"
#include "image_kernels_cuda.h"
#include "ssim.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

namespace {

constexpr int R = SR_SSIM_RADIUS;
constexpr int kTileW = 32, kTileH = 8;
constexpr int kThreads = kTileW * kTileH;
constexpr int kWarps = kThreads / 32;
constexpr int kInW = kTileW + 2 * R, kInH = kTileH + 2 * R;
constexpr size_t kMaxGridY = 65535;
constexpr size_t kPartialCap = (size_t)1 << 22; // tile sums per launch (32 MiB)

// Gaussian taps, sigma 1.5, radius 5, normalised: kTap[k] is the weight at
// distance k.  The same bits as the twin's table (scipy.ndimage's kernel).
__constant__ double kTap[R + 1] = {
    0x1.106560aa892c0p-2, 0x1.b43c3f52b19f2p-3, 0x1.bff0fe8e98418p-4,
    0x1.26eb175d83f65p-5, 0x1.f1fe01ae5a5b9p-8, 0x1.0d956b52a1d70p-10,
};

// Vertical pass over a tile: v[r][c] for the kTileH output rows, every input
// column, in the twin's order (centre tap, then the pairs from the outside in).
__device__ void vertical_pass(const double (*in)[kInW], double (*v)[kInW], int tid)
{
    for (int idx = tid; idx < kTileH * kInW; idx += kThreads) {
        const int r = idx / kInW + R, c = idx % kInW;
        double t = __dmul_rn(in[r][c], kTap[0]);
#pragma unroll
        for (int k = R; k >= 1; k--)
            t = __dadd_rn(t, __dmul_rn(__dadd_rn(in[r - k][c], in[r + k][c]), kTap[k]));
        v[r - R][c] = t;
    }
}

// Horizontal pass for the output at tile row ty, column tx.
__device__ double horizontal_pass(const double (*v)[kInW], int ty, int tx)
{
    const int c = tx + R;
    double t = __dmul_rn(v[ty][c], kTap[0]);
#pragma unroll
    for (int k = R; k >= 1; k--)
        t = __dadd_rn(t, __dmul_rn(__dadd_rn(v[ty][c - k], v[ty][c + k]), kTap[k]));
    return t;
}

// The tile's first input pixel: kept pixel (cx, cy) is image pixel
// (cx + R, cy + R) and its filter reads image columns cx .. cx + 2R and rows
// cy .. cy + 2R.
struct Tile {
    int x0, y0; // of the tile's first kept pixel, in kept coordinates
};

__device__ Tile tile_of(unsigned t, int cw)
{
    const unsigned tiles_x = ((unsigned)cw + kTileW - 1) / kTileW;
    Tile tile;
    tile.x0 = (int)(t % tiles_x) * kTileW;
    tile.y0 = (int)(t / tiles_x) * kTileH;
    return tile;
}

// Sum over the block of x (blockDim kThreads); the result in thread 0.
__device__ double block_sum(double x, double *s_warp, int tid)
{
    const int lane = tid % 32, warp = tid / 32;
    for (int off = 16; off > 0; off /= 2)
        x += __shfl_down_sync(0xffffffffu, x, off);
    if (lane == 0)
        s_warp[warp] = x;
    __syncthreads();
    if (warp == 0) {
        x = lane < kWarps ? s_warp[lane] : 0.0;
        for (int off = 16; off > 0; off /= 2)
            x += __shfl_down_sync(0xffffffffu, x, off);
    }
    return x;
}

// grid (tiles, planes in this launch); plane = plane0 + blockIdx.y.
// planes: n planes of w*h; mu: per plane the mean map, then the mean-of-
// squares map, each cw*ch.
__global__ void plane_stats_kernel(const double *__restrict__ planes, int w, int h,
                                   size_t plane0, double *__restrict__ mu)
{
    __shared__ double s_a[kInH][kInW], s_aa[kInH][kInW];
    __shared__ double v_a[kTileH][kInW], v_aa[kTileH][kInW];

    const int cw = w - 2 * R, ch = h - 2 * R;
    const size_t plane = plane0 + blockIdx.y;
    const size_t npix = (size_t)w * (size_t)h, region = (size_t)cw * (size_t)ch;
    const double *a = planes + plane * npix;
    const int tid = threadIdx.y * kTileW + threadIdx.x;
    const Tile tile = tile_of(blockIdx.x, cw);

    for (int idx = tid; idx < kInH * kInW; idx += kThreads) {
        const int r = idx / kInW, c = idx % kInW;
        const long long gx = (long long)tile.x0 + c, gy = (long long)tile.y0 + r;
        // Outside the image only past the last tile's edge, where no kept
        // pixel reads it.
        const double x = (gx < w && gy < h) ? a[(size_t)gy * (size_t)w + (size_t)gx] : 0.0;
        s_a[r][c] = x;
        s_aa[r][c] = __dmul_rn(x, x);
    }
    __syncthreads();
    vertical_pass(s_a, v_a, tid);
    vertical_pass(s_aa, v_aa, tid);
    __syncthreads();

    const int cx = tile.x0 + (int)threadIdx.x, cy = tile.y0 + (int)threadIdx.y;
    if (cx < cw && cy < ch) {
        const size_t o = (size_t)cy * cw + cx;
        mu[2 * plane * region + o] = horizontal_pass(v_a, threadIdx.y, threadIdx.x);
        mu[(2 * plane + 1) * region + o] = horizontal_pass(v_aa, threadIdx.y, threadIdx.x);
    }
}

// grid (tiles, pairs in this launch); pair = pair0 + blockIdx.y, of planes
// first[pair] < second[pair].  partial[blockIdx.y * gridDim.x + blockIdx.x]
// gets the tile's sum of the SSIM map.
__global__ void pair_kernel(const double *__restrict__ planes, const double *__restrict__ mu,
                            const uint32_t *__restrict__ first,
                            const uint32_t *__restrict__ second, int w, int h, size_t pair0,
                            double *__restrict__ partial)
{
    __shared__ double s_ab[kInH][kInW];
    __shared__ double v_ab[kTileH][kInW];
    __shared__ double s_warp[kWarps];

    const int cw = w - 2 * R, ch = h - 2 * R;
    const size_t pair = pair0 + blockIdx.y;
    const size_t i = first[pair], j = second[pair];
    const size_t npix = (size_t)w * (size_t)h, region = (size_t)cw * (size_t)ch;
    const double *a = planes + i * npix, *b = planes + j * npix;
    const int tid = threadIdx.y * kTileW + threadIdx.x;
    const Tile tile = tile_of(blockIdx.x, cw);

    for (int idx = tid; idx < kInH * kInW; idx += kThreads) {
        const int r = idx / kInW, c = idx % kInW;
        const long long gx = (long long)tile.x0 + c, gy = (long long)tile.y0 + r;
        double p = 0.0;
        if (gx < w && gy < h) {
            const size_t o = (size_t)gy * (size_t)w + (size_t)gx;
            p = __dmul_rn(a[o], b[o]);
        }
        s_ab[r][c] = p;
    }
    __syncthreads();
    vertical_pass(s_ab, v_ab, tid);
    __syncthreads();

    double s = 0.0;
    const int cx = tile.x0 + (int)threadIdx.x, cy = tile.y0 + (int)threadIdx.y;
    if (cx < cw && cy < ch) {
        // skimage's expressions, operation by operation, as in the twin.
        const double k1r = 0.01 * 255.0, k2r = 0.03 * 255.0;
        const double c1 = k1r * k1r, c2 = k2r * k2r;
        const size_t o = (size_t)cy * cw + cx;
        const double uxy = horizontal_pass(v_ab, threadIdx.y, threadIdx.x);
        const double ux = mu[2 * i * region + o], uy = mu[2 * j * region + o];
        const double vx = __dsub_rn(mu[(2 * i + 1) * region + o], __dmul_rn(ux, ux));
        const double vy = __dsub_rn(mu[(2 * j + 1) * region + o], __dmul_rn(uy, uy));
        const double vxy = __dsub_rn(uxy, __dmul_rn(ux, uy));
        const double a1 = __dadd_rn(__dmul_rn(__dmul_rn(2.0, ux), uy), c1);
        const double a2 = __dadd_rn(__dmul_rn(2.0, vxy), c2);
        const double b1 = __dadd_rn(__dadd_rn(__dmul_rn(ux, ux), __dmul_rn(uy, uy)), c1);
        const double b2 = __dadd_rn(__dadd_rn(vx, vy), c2);
        s = __ddiv_rn(__dmul_rn(a1, a2), __dmul_rn(b1, b2));
    }
    s = block_sum(s, s_warp, tid);
    if (tid == 0)
        partial[(size_t)blockIdx.y * gridDim.x + blockIdx.x] = s;
}

// grid (pairs in this launch), kThreads threads: out[pair0 + blockIdx.x] =
// the sum of the pair's tiles / kept pixels.
__global__ void pair_sum_kernel(const double *__restrict__ partial, unsigned tiles,
                                double n_kept, size_t pair0, double *__restrict__ out)
{
    __shared__ double s_warp[kWarps];
    const double *p = partial + (size_t)blockIdx.x * tiles;
    double s = 0.0;
    for (unsigned t = threadIdx.x; t < tiles; t += kThreads)
        s += p[t];
    s = block_sum(s, s_warp, threadIdx.x);
    if (threadIdx.x == 0)
        out[pair0 + blockIdx.x] = s / n_kept;
}

void set_msg(char *err, size_t errlen, const char *msg)
{
    if (err && errlen > 0)
        snprintf(err, errlen, "%s", msg);
}

} // namespace

extern "C" int sr_cuda_ssim_pairs(int dev, const double *const *lumas, size_t n, int w, int h,
                                  double *out, char *err, size_t errlen)
{
    double *d_planes = nullptr, *d_mu = nullptr, *d_partial = nullptr, *d_out = nullptr;
    uint32_t *d_first = nullptr, *d_second = nullptr;
    uint32_t *h_first = nullptr, *h_second = nullptr;
    double *h_out = nullptr;
    int rc = -1;

    if (err && errlen > 0)
        err[0] = '\0';
    if (n >= 2 && (!lumas || !out)) {
        set_msg(err, errlen, "sr_cuda_ssim_pairs: NULL argument");
        return -1;
    }
    if (w < 0 || h < 0) {
        if (err && errlen > 0)
            snprintf(err, errlen, "sr_cuda_ssim_pairs: bad plane size %dx%d", w, h);
        return -1;
    }
    if (n > UINT32_MAX || (n >= 2 && n * (n - 1) / 2 > SIZE_MAX / 16)) {
        if (err && errlen > 0)
            snprintf(err, errlen, "sr_cuda_ssim_pairs: %zu planes is too many", n);
        return -1;
    }
    // As the twin; the kernels themselves need at least one kept pixel.
    const bool too_small = w < SR_SSIM_MIN_SIDE || h < SR_SSIM_MIN_SIDE || w <= 2 * R ||
                           h <= 2 * R;
    const size_t npix = (size_t)w * (size_t)h;
    if (n >= 2 && !too_small) {
        for (size_t k = 0; k < n; k++)
            if (!lumas[k]) {
                if (err && errlen > 0)
                    snprintf(err, errlen, "sr_cuda_ssim_pairs: plane %zu is NULL", k);
                return -1;
            }
        if (npix > SIZE_MAX / sizeof(double) / 3 / n) {
            if (err && errlen > 0)
                snprintf(err, errlen, "sr_cuda_ssim_pairs: %zu planes of %dx%d is too much", n,
                         w, h);
            return -1;
        }
    }
    (void)cudaGetLastError(); // do not report an earlier, unrelated error as ours
    if (CUDA_CHECK(cudaSetDevice(dev)) != 0)
        return -1;
    if (n < 2)
        return 0;
    const size_t n_pairs = n * (n - 1) / 2;
    if (too_small) {
        for (size_t k = 0; k < n_pairs; k++)
            out[k] = NAN;
        return 0;
    }

    const int cw = w - 2 * R, ch = h - 2 * R;
    const size_t region = (size_t)cw * (size_t)ch;
    const size_t tiles_x = ((size_t)cw + kTileW - 1) / kTileW;
    const size_t tiles_y = ((size_t)ch + kTileH - 1) / kTileH;
    const size_t tiles = tiles_x * tiles_y;
    if (tiles > INT32_MAX) {
        if (err && errlen > 0)
            snprintf(err, errlen, "sr_cuda_ssim_pairs: %dx%d planes are too large", w, h);
        return -1;
    }
    size_t pairs_per_launch = kPartialCap / tiles;
    if (pairs_per_launch == 0)
        pairs_per_launch = 1;
    if (pairs_per_launch > kMaxGridY)
        pairs_per_launch = kMaxGridY;
    if (pairs_per_launch > n_pairs)
        pairs_per_launch = n_pairs;

    h_first = (uint32_t *)malloc(n_pairs * sizeof *h_first);
    h_second = (uint32_t *)malloc(n_pairs * sizeof *h_second);
    h_out = (double *)malloc(n_pairs * sizeof *h_out);
    if (!h_first || !h_second || !h_out) {
        set_msg(err, errlen, "sr_cuda_ssim_pairs: out of host memory");
        goto out;
    }
    for (size_t i = 0, k = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++, k++) {
            h_first[k] = (uint32_t)i;
            h_second[k] = (uint32_t)j;
        }

    if (!(d_planes = static_cast<double *>(sr_scratch_device(dev, 0, n * npix * sizeof *d_planes, err, errlen))))
        goto out;
    if (!(d_mu = static_cast<double *>(sr_scratch_device(dev, 1, 2 * n * region * sizeof *d_mu, err, errlen))))
        goto out;
    if (!(d_partial = static_cast<double *>(sr_scratch_device(dev, 2, pairs_per_launch * tiles * sizeof *d_partial, err, errlen))))
        goto out;
    if (!(d_out = static_cast<double *>(sr_scratch_device(dev, 3, n_pairs * sizeof *d_out, err, errlen))))
        goto out;
    if (!(d_first = static_cast<uint32_t *>(sr_scratch_device(dev, 4, n_pairs * sizeof *d_first, err, errlen))))
        goto out;
    if (!(d_second = static_cast<uint32_t *>(sr_scratch_device(dev, 5, n_pairs * sizeof *d_second, err, errlen))))
        goto out;
    for (size_t k = 0; k < n; k++)
        if (CUDA_CHECK(cudaMemcpy(d_planes + k * npix, lumas[k], npix * sizeof *d_planes,
                                  cudaMemcpyHostToDevice)) != 0)
            goto out;
    if (CUDA_CHECK(cudaMemcpy(d_first, h_first, n_pairs * sizeof *d_first,
                              cudaMemcpyHostToDevice)) != 0)
        goto out;
    if (CUDA_CHECK(cudaMemcpy(d_second, h_second, n_pairs * sizeof *d_second,
                              cudaMemcpyHostToDevice)) != 0)
        goto out;

    for (size_t p0 = 0; p0 < n; p0 += kMaxGridY) {
        const size_t count = n - p0 < kMaxGridY ? n - p0 : kMaxGridY;
        plane_stats_kernel<<<dim3((unsigned)tiles, (unsigned)count), dim3(kTileW, kTileH)>>>(
            d_planes, w, h, p0, d_mu);
        if (CUDA_CHECK_LAUNCH() != 0)
            goto out;
    }
    for (size_t q0 = 0; q0 < n_pairs; q0 += pairs_per_launch) {
        const size_t count = n_pairs - q0 < pairs_per_launch ? n_pairs - q0 : pairs_per_launch;
        pair_kernel<<<dim3((unsigned)tiles, (unsigned)count), dim3(kTileW, kTileH)>>>(
            d_planes, d_mu, d_first, d_second, w, h, q0, d_partial);
        if (CUDA_CHECK_LAUNCH() != 0)
            goto out;
        pair_sum_kernel<<<(unsigned)count, kThreads>>>(d_partial, (unsigned)tiles,
                                                       (double)cw * (double)ch, q0, d_out);
        if (CUDA_CHECK_LAUNCH() != 0)
            goto out;
    }
    // Synchronous copy: also reports any error raised while the kernels ran.
    if (CUDA_CHECK(cudaMemcpy(h_out, d_out, n_pairs * sizeof *h_out, cudaMemcpyDeviceToHost)) != 0)
        goto out;
    memcpy(out, h_out, n_pairs * sizeof *out);
    rc = 0;

out:
    free(h_out);
    free(h_second);
    free(h_first);
    return rc;
}
