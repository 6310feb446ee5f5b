// image_moments.cu - raw moments of an RGB8 image in one fused pass.
// CPU twin: image_moments.c (sr_image_moments_cpu).
//
// Every field of sr_image_moments is an exact integer, so the order of the
// additions does not matter and the GPU returns the twin's struct bit for
// bit.  One thread per pixel (grid-stride loop) adds:
//   - the byte sums and sums of squares, the opponent-colour sums,
//   - the Laplacian of luma (thousandths) when the pixel is interior, its
//     square kept as a 128-bit (hi, lo) pair,
// in registers; the saturation numerators and the luma histogram go into
// 64-bit shared-memory bins with shared atomics.  At the end of the block
// the registers are summed through warp shuffles and shared memory and
// thread 0 adds them to the global struct with 64-bit atomics (the 128-bit
// sum carries into its high word when the low word wraps); the shared bins
// are added to the global ones, skipping empty bins.
//
// n_pixels and lap_n are plain functions of w and h and are filled in on
// the host.
#include "config.h"

#include "cuda_check.h"
#include "cuda_scratch.h"
#include "image_kernels_cuda.h"
#include "image_moments.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr int kBlocksPerSM = 8;
constexpr int kBins = 256;

// Per-thread sums that are reduced together; signed ones are carried as
// two's complement in unsigned 64-bit words (addition modulo 2^64 gives the
// same bits as signed addition).
enum { V_SUM, V_SUMSQ, V_RG, V_YB2, V_RG_SQ, V_YB2_SQ, V_LAP, V_LAP_SQ_LO, V_LAP_SQ_HI, kVals };

static_assert(sizeof(uint64_t) == sizeof(unsigned long long), "64-bit atomics on uint64_t fields");
static_assert(sizeof(int64_t) == sizeof(unsigned long long), "64-bit atomics on int64_t fields");

__device__ __forceinline__ unsigned long long *u64p(uint64_t *p)
{
    return reinterpret_cast<unsigned long long *>(p);
}

__device__ __forceinline__ unsigned long long *u64p(int64_t *p)
{
    return reinterpret_cast<unsigned long long *>(p);
}

// Luma in thousandths of the pixel at p: 299 R + 587 G + 114 B (0..255000).
__device__ __forceinline__ int luma1000(const uint8_t *p)
{
    return 299 * (int)p[0] + 587 * (int)p[1] + 114 * (int)p[2];
}

// (hi, lo) += (b_hi, b_lo), modulo 2^128.
__device__ __forceinline__ void add128(unsigned long long &hi, unsigned long long &lo,
                                       unsigned long long b_hi, unsigned long long b_lo)
{
    const unsigned long long s = lo + b_lo;
    hi += b_hi + (s < b_lo ? 1ull : 0ull);
    lo = s;
}

// Adds v[] of every lane into lane 0 of the warp (all 32 lanes must call).
__device__ __forceinline__ void warp_reduce(unsigned long long v[kVals])
{
    for (int off = 16; off > 0; off /= 2) {
        unsigned long long o[kVals];
#pragma unroll
        for (int k = 0; k < kVals; k++)
            o[k] = __shfl_down_sync(0xffffffffu, v[k], off);
#pragma unroll
        for (int k = 0; k < V_LAP_SQ_LO; k++)
            v[k] += o[k];
        add128(v[V_LAP_SQ_HI], v[V_LAP_SQ_LO], o[V_LAP_SQ_HI], o[V_LAP_SQ_LO]);
    }
}

// acc must be zeroed before the launch; blockDim.x must be kThreads.
__global__ void image_moments_kernel(const uint8_t *__restrict__ rgb, int w, int h,
                                     sr_image_moments *__restrict__ acc)
{
    __shared__ unsigned long long s_sat[kBins];
    __shared__ unsigned long long s_hist[kBins];
    __shared__ unsigned long long s_warp[kWarps][kVals];

    for (int b = threadIdx.x; b < kBins; b += blockDim.x) {
        s_sat[b] = 0;
        s_hist[b] = 0;
    }
    __syncthreads();

    const uint64_t uw = (uint64_t)w, uh = (uint64_t)h;
    const uint64_t n = uw * uh;
    const uint64_t stride = (uint64_t)gridDim.x * blockDim.x;
    const size_t row_bytes = (size_t)uw * 3u;

    unsigned long long v[kVals];
#pragma unroll
    for (int k = 0; k < kVals; k++)
        v[k] = 0;

    for (uint64_t i = (uint64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        const uint8_t *p = rgb + (size_t)i * 3u;
        const int r = p[0], g = p[1], b = p[2];
        const int d_rg = r - g, d_yb2 = r + g - 2 * b;
        v[V_SUM] += (unsigned long long)(r + g + b);
        v[V_SUMSQ] += (unsigned long long)(r * r + g * g + b * b);
        v[V_RG] += (unsigned long long)(long long)d_rg;
        v[V_YB2] += (unsigned long long)(long long)d_yb2;
        v[V_RG_SQ] += (unsigned long long)(d_rg * d_rg);
        v[V_YB2_SQ] += (unsigned long long)(d_yb2 * d_yb2);

        const int mx = max(r, max(g, b)), mn = min(r, min(g, b));
        if (mx != mn) // the twin adds max - min = 0 otherwise
            atomicAdd(&s_sat[mx], (unsigned long long)(mx - mn));

        const int y1000 = luma1000(p);
        atomicAdd(&s_hist[(y1000 + 500) / 1000], 1ull); // 0..255

        const uint64_t y = i / uw, x = i - y * uw;
        if (x >= 1 && x + 1 < uw && y >= 1 && y + 1 < uh) {
            const long long lap = (long long)luma1000(p - 3) + luma1000(p + 3) +
                                  luma1000(p - row_bytes) + luma1000(p + row_bytes) -
                                  4ll * y1000;
            v[V_LAP] += (unsigned long long)lap;
            add128(v[V_LAP_SQ_HI], v[V_LAP_SQ_LO], 0, (unsigned long long)(lap * lap));
        }
    }

    // Block sum of the registers: each warp, then warp 0 over the warps.
    const unsigned lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    warp_reduce(v);
    if (lane == 0) {
        for (int k = 0; k < kVals; k++)
            s_warp[warp][k] = v[k];
    }
    __syncthreads(); // also: every shared-bin atomic of the block is done
    if (warp == 0) {
#pragma unroll
        for (int k = 0; k < kVals; k++)
            v[k] = lane < kWarps ? s_warp[lane][k] : 0;
        warp_reduce(v);
        if (lane == 0) {
            unsigned long long *dst[V_LAP_SQ_LO] = {
                u64p(&acc->sum),      u64p(&acc->sumsq),     u64p(&acc->rg_sum),
                u64p(&acc->yb2_sum),  u64p(&acc->rg_sumsq),  u64p(&acc->yb2_sumsq),
                u64p(&acc->lap_sum),
            };
            for (int k = 0; k < V_LAP_SQ_LO; k++)
                if (v[k] != 0)
                    atomicAdd(dst[k], v[k]);
            // 128-bit: the low word's wrap-around, seen from its old value,
            // is a carry into the high word.
            unsigned long long carry = 0;
            if (v[V_LAP_SQ_LO] != 0) {
                const unsigned long long old = atomicAdd(u64p(&acc->lap_sumsq_lo), v[V_LAP_SQ_LO]);
                carry = old + v[V_LAP_SQ_LO] < old ? 1ull : 0ull;
            }
            if (v[V_LAP_SQ_HI] + carry != 0)
                atomicAdd(u64p(&acc->lap_sumsq_hi), v[V_LAP_SQ_HI] + carry);
        }
    }

    for (int b = threadIdx.x; b < kBins; b += blockDim.x) {
        if (s_sat[b] != 0)
            atomicAdd(u64p(&acc->sat_num[b]), s_sat[b]);
        if (s_hist[b] != 0)
            atomicAdd(u64p(&acc->hist[b]), s_hist[b]);
    }
}

void set_msg(char *err, size_t errlen, const char *msg)
{
    if (err && errlen > 0)
        snprintf(err, errlen, "%s", msg);
}

// Blocks for an image of n pixels: enough to fill the GPU, no more than
// there is work for.
unsigned blocks_for(uint64_t n, int sms)
{
    uint64_t blocks = (n + kThreads - 1) / kThreads;
    const uint64_t cap = (uint64_t)(sms > 0 ? sms : 1) * kBlocksPerSM;
    if (blocks > cap)
        blocks = cap;
    return blocks == 0 ? 1u : (unsigned)blocks;
}

// Zeroes *d_acc and queues the kernel for a w x h image (w*h > 0) on s.
int enqueue_moments(const uint8_t *d_rgb, int w, int h, sr_image_moments *d_acc, int sms,
                    cudaStream_t s, char *err, size_t errlen)
{
    if (CUDA_CHECK(cudaMemsetAsync(d_acc, 0, sizeof *d_acc, s)) != 0)
        return -1;
    image_moments_kernel<<<blocks_for((uint64_t)w * (uint64_t)h, sms), kThreads, 0, s>>>(
        d_rgb, w, h, d_acc);
    return CUDA_CHECK_LAUNCH();
}

// The fields that depend only on the size.
void set_size_fields(sr_image_moments *m, int w, int h)
{
    m->n_pixels = (uint64_t)w * (uint64_t)h;
    m->lap_n = (w >= 3 && h >= 3) ? (uint64_t)(w - 2) * (uint64_t)(h - 2) : 0;
}

} // namespace

extern "C" int sr_cuda_image_moments(int dev, const uint8_t *rgb, int w, int h,
                                     sr_image_moments *out, char *err, size_t errlen)
{
    uint8_t *d_rgb = nullptr;
    sr_image_moments *d_acc = nullptr;
    sr_image_moments res;
    int rc = -1;

    if (err && errlen > 0)
        err[0] = '\0';
    if (!out) {
        set_msg(err, errlen, "sr_cuda_image_moments: NULL argument");
        return -1;
    }
    if (w < 0 || h < 0) {
        if (err && errlen > 0)
            snprintf(err, errlen, "sr_cuda_image_moments: bad image size %dx%d", w, h);
        return -1;
    }
    const uint64_t npix = (uint64_t)w * (uint64_t)h;
    if (npix > 0 && !rgb) {
        set_msg(err, errlen, "sr_cuda_image_moments: NULL argument");
        return -1;
    }
    (void)cudaGetLastError(); // do not report an earlier, unrelated error as ours
    if (CUDA_CHECK(cudaSetDevice(dev)) != 0)
        return -1;
    if (npix == 0) {
        memset(out, 0, sizeof *out);
        return 0;
    }

    const size_t bytes = (size_t)npix * 3u; // w, h < 2^31: no overflow in 64 bits
    int sms = 0;
    if (CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev)) != 0)
        goto out;
    if (CUDA_CHECK(cudaMalloc(&d_rgb, bytes)) != 0)
        goto out;
    if (CUDA_CHECK(cudaMalloc(&d_acc, sizeof *d_acc)) != 0)
        goto out;
    if (CUDA_CHECK(cudaMemcpy(d_rgb, rgb, bytes, cudaMemcpyHostToDevice)) != 0)
        goto out;
    if (enqueue_moments(d_rgb, w, h, d_acc, sms, 0, err, errlen) != 0)
        goto out;
    // Synchronous copy: also reports any error raised while the kernel ran.
    if (CUDA_CHECK(cudaMemcpy(&res, d_acc, sizeof res, cudaMemcpyDeviceToHost)) != 0)
        goto out;
    set_size_fields(&res, w, h);
    *out = res;
    rc = 0;

out:
    {
        const cudaError_t e_acc = d_acc ? cudaFree(d_acc) : cudaSuccess;
        const cudaError_t e_rgb = d_rgb ? cudaFree(d_rgb) : cudaSuccess;
        if (rc == 0 &&
            (sr_cuda_check(e_acc, "cudaFree(d_acc)", __FILE__, __LINE__, err, errlen) != 0 ||
             sr_cuda_check(e_rgb, "cudaFree(d_rgb)", __FILE__, __LINE__, err, errlen) != 0))
            rc = -1;
    }
    return rc;
}

// Two slots, each with its own stream, pinned staging buffer, device image
// buffer and device accumulator.  Image k goes to slot k % 2 (counting only
// non-empty images): the host waits until the slot's previous image is done,
// copies the image into the slot's pinned buffer and queues the upload, the
// kernel and the download of the result, then moves on.  So the host copy of
// one image overlaps the GPU work on the previous one, and one slot's upload
// overlaps the other slot's kernel.  Results land in a pinned array and
// reach out[] only when every image has succeeded.
extern "C" int sr_cuda_image_moments_batch(int dev, const uint8_t *const *rgbs, const int *w,
                                           const int *h, size_t n, sr_image_moments *out,
                                           char *err, size_t errlen)
{
    enum { kSlots = 2 };
    cudaStream_t streams[kSlots] = {nullptr, nullptr};
    bool stream_ok[kSlots] = {false, false};
    uint8_t *h_stage[kSlots] = {nullptr, nullptr};
    uint8_t *d_rgb[kSlots] = {nullptr, nullptr};
    sr_image_moments *d_acc[kSlots] = {nullptr, nullptr};
    sr_image_moments *h_res = nullptr;
    size_t max_bytes = 0;
    size_t busy = 0; // non-empty images queued so far
    int sms = 0;
    int rc = -1;

    if (err && errlen > 0)
        err[0] = '\0';
    if (n > 0 && (!rgbs || !w || !h || !out)) {
        set_msg(err, errlen, "sr_cuda_image_moments_batch: NULL argument");
        return -1;
    }
    for (size_t k = 0; k < n; k++) {
        if (w[k] < 0 || h[k] < 0) {
            if (err && errlen > 0)
                snprintf(err, errlen, "sr_cuda_image_moments_batch: image %zu: bad size %dx%d", k,
                         w[k], h[k]);
            return -1;
        }
        const size_t bytes = (size_t)((uint64_t)w[k] * (uint64_t)h[k]) * 3u;
        if (bytes > 0 && !rgbs[k]) {
            if (err && errlen > 0)
                snprintf(err, errlen, "sr_cuda_image_moments_batch: image %zu (%dx%d) is NULL", k,
                         w[k], h[k]);
            return -1;
        }
        if (bytes > max_bytes)
            max_bytes = bytes;
    }
    if (n > SIZE_MAX / sizeof *h_res) {
        if (err && errlen > 0)
            snprintf(err, errlen, "sr_cuda_image_moments_batch: %zu images is too many", n);
        return -1;
    }
    (void)cudaGetLastError();
    if (CUDA_CHECK(cudaSetDevice(dev)) != 0)
        return -1;
    if (max_bytes == 0) { // no images, or only empty ones
        for (size_t k = 0; k < n; k++)
            memset(&out[k], 0, sizeof out[k]);
        return 0;
    }

    if (CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev)) != 0)
        goto out;
    // Streams and buffers are the thread's own and outlive the call
    // (cuda_scratch.h): slots 0-1 stage images, 2-3 hold sums, 4 results.
    for (int s = 0; s < kSlots; s++) {
        if (sr_scratch_stream(dev, s, &streams[s], err, errlen) != 0)
            goto out;
        stream_ok[s] = true;
        h_stage[s] = static_cast<uint8_t *>(sr_scratch_host(dev, s, max_bytes, err, errlen));
        d_rgb[s] = static_cast<uint8_t *>(sr_scratch_device(dev, s, max_bytes, err, errlen));
        d_acc[s] = static_cast<sr_image_moments *>(sr_scratch_device(dev, 2 + s, sizeof *d_acc[s], err, errlen));
        if (!h_stage[s] || !d_rgb[s] || !d_acc[s])
            goto out;
    }
    h_res = static_cast<sr_image_moments *>(sr_scratch_host(dev, 4, n * sizeof *h_res, err, errlen));
    if (!h_res)
        goto out;

    for (size_t k = 0; k < n; k++) {
        const size_t bytes = (size_t)((uint64_t)w[k] * (uint64_t)h[k]) * 3u;
        if (bytes == 0)
            continue;
        const int s = (int)(busy++ % kSlots);
        // The slot's previous image is uploaded and its result downloaded.
        if (CUDA_CHECK(cudaStreamSynchronize(streams[s])) != 0)
            goto out;
        memcpy(h_stage[s], rgbs[k], bytes);
        if (CUDA_CHECK(cudaMemcpyAsync(d_rgb[s], h_stage[s], bytes, cudaMemcpyHostToDevice,
                                       streams[s])) != 0)
            goto out;
        if (enqueue_moments(d_rgb[s], w[k], h[k], d_acc[s], sms, streams[s], err, errlen) != 0)
            goto out;
        if (CUDA_CHECK(cudaMemcpyAsync(&h_res[k], d_acc[s], sizeof h_res[k],
                                       cudaMemcpyDeviceToHost, streams[s])) != 0)
            goto out;
    }
    for (int s = 0; s < kSlots; s++)
        if (CUDA_CHECK(cudaStreamSynchronize(streams[s])) != 0)
            goto out;

    for (size_t k = 0; k < n; k++) {
        if ((uint64_t)w[k] * (uint64_t)h[k] == 0)
            memset(&out[k], 0, sizeof out[k]);
        else
            out[k] = h_res[k];
        set_size_fields(&out[k], w[k], h[k]);
    }
    rc = 0;

out:
    // Nothing may still be using a buffer when the next call takes it.
    for (int s = 0; s < kSlots; s++)
        if (stream_ok[s])
            (void)cudaStreamSynchronize(streams[s]);
    return rc;
}
