// lora_gram.cu - Gram matrices of LoRA factors on the GPU.
// CPU twin: lora_gram.c (sr_lora_gram_cpu).
//
// One launch for a whole batch of jobs.  The input matrices are copied to
// the device straight from where they lie, nearby ones together in one
// transfer (the factors of a checkpoint are neighbours in its data buffer;
// from page-locked memory, see weight_metrics.c, at full bus speed); every
// matrix keeps on the device the alignment its values need.  Device and
// result buffers are reused from call to call (cuda_scratch.h).  The grid is a flat list
// of blocks; block b belongs to the job whose first_block is the largest
// one <= b (binary search over the job table) and covers one 16×16 tile of
// the job's r_a×r_b output over one chunk of kChunk values of the shared
// length.  Per step of 32 values of k the block converts a 16×32 slice of
// A and of B to float in shared memory (binary16 and bfloat16 exactly, as
// the twin does), and each thread adds 32 products into its double
// accumulator: the product of two converted values is exact in double, as
// on the CPU.  The chunks of a tile meet in the output through double
// atomicAdd (sm_60 and newer), so the order of the sums differs from the
// twin's and the results agree with it to rounding.  The statistics of A
// (non-finite count, Σ|x|, Σx²) are taken by the blocks of the first tile
// column, which between them load every value of A exactly once.
#include "config.h"

#include "cuda_check.h"
#include "cuda_scratch.h"
#include "lora_gram.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

namespace {

constexpr int kTile = 16;                  // output rows and columns per block
constexpr int kStep = 32;                  // values of k per shared-memory step
constexpr int kThreads = kTile * kTile;    // one thread per output entry
constexpr uint64_t kChunk = 4096;          // values of k per block
constexpr int kLoads = kTile * kStep / kThreads; // values of A (and of B) each thread loads per step
constexpr size_t kAlign = 256;

static_assert(kTile * kStep % kThreads == 0, "every thread loads the same number of values");
static_assert(kThreads % 32 == 0, "whole warps");

struct DevMat {
    const unsigned char *p; // device copy, 256-byte aligned
    int dtype;              // sr_lg_dtype
    uint64_t cols;          // row length (the stride of the row-major storage)
};

struct DevJob {
    DevMat a, b;            // b == a for a self Gram
    int rank_in_cols;
    int want_stats;
    unsigned ra, rb;
    uint64_t len;           // shared length
    unsigned ti, tj;        // tiles along r_a and r_b
    uint64_t nchunks;
    uint64_t first_block;   // prefix sum of the blocks of the jobs before
    uint64_t nblocks;       // ti · tj · nchunks
    uint64_t out_off;       // offset of out in the output arena (doubles)
    unsigned id;            // the job's index in the caller's list (its statistics)
};

struct DevStats {
    unsigned long long nonfinite;
    double sum_abs;
    double sum_sq;
};

// binary16 bits -> float, exact (the same steps as the twin: no subnormal
// intermediate, so the result does not depend on flush-to-zero modes).
__device__ __forceinline__ float f16_to_float(unsigned h)
{
    const unsigned sign = (h & 0x8000u) << 16;
    const unsigned e = (h >> 10) & 0x1fu;
    const unsigned m = h & 0x3ffu;
    if (e == 0) {
        const float v = (float)m * 5.9604644775390625e-8f; // m · 2^-24
        return sign ? -v : v;
    }
    if (e == 31)
        return __uint_as_float(sign | 0x7f800000u | (m << 13));
    return __uint_as_float(sign | ((e + 127u - 15u) << 23) | (m << 13));
}

// Value number e of a matrix.
__device__ __forceinline__ float load_value(const DevMat &m, uint64_t e)
{
    if (m.dtype == SR_LG_F32)
        return __ldg(reinterpret_cast<const float *>(m.p) + e);
    const unsigned h = __ldg(reinterpret_cast<const unsigned short *>(m.p) + e);
    return m.dtype == SR_LG_F16 ? f16_to_float(h) : __uint_as_float(h << 16);
}

// Value (rank index i, shared index k).
__device__ __forceinline__ float load_at(const DevMat &m, int rank_in_cols, uint64_t i, uint64_t k)
{
    return load_value(m, rank_in_cols ? k * m.cols + i : i * m.cols + k);
}

__global__ void __launch_bounds__(kThreads)
    lora_gram_kernel(const DevJob *__restrict__ jobs, int njobs, uint64_t total_blocks,
                     double *__restrict__ out, DevStats *__restrict__ stats)
{
    const uint64_t block = blockIdx.x;
    if (block >= total_blocks)
        return;
    // The job of this block: the last one whose first block is <= block
    // (jobs without blocks share first_block with the next and are skipped).
    int lo = 0, hi = njobs - 1;
    while (lo < hi) {
        const int mid = lo + (hi - lo + 1) / 2;
        if (jobs[mid].first_block <= block)
            lo = mid;
        else
            hi = mid - 1;
    }
    const DevJob &job = jobs[lo];
    uint64_t local = block - job.first_block;
    if (local >= job.nblocks)
        return; // cannot happen for a consistent table; keeps bounds local
    const unsigned tile_j = (unsigned)(local % job.tj);
    local /= job.tj;
    const unsigned tile_i = (unsigned)(local % job.ti);
    const uint64_t chunk = local / job.ti;

    const uint64_t i0 = (uint64_t)tile_i * kTile, j0 = (uint64_t)tile_j * kTile;
    const uint64_t k_begin = chunk * kChunk;
    const uint64_t k_end = k_begin + kChunk < job.len ? k_begin + kChunk : job.len;
    const bool count = job.want_stats && tile_j == 0;
    const int cols = job.rank_in_cols;

    __shared__ float sa[kTile][kStep + 1];
    __shared__ float sb[kTile][kStep + 1];
    const int tx = threadIdx.x % kTile; // column j of the tile
    const int ty = threadIdx.x / kTile; // row i of the tile

    double acc = 0.0;
    unsigned long long nf = 0;
    double sabs = 0.0, ssq = 0.0;

    for (uint64_t k0 = k_begin; k0 < k_end; k0 += kStep) {
        // Each thread converts kLoads values of A and of B into shared
        // memory; consecutive threads walk along the contiguous direction
        // of the storage (k for rank rows, i for rank columns).
#pragma unroll
        for (int s = 0; s < kLoads; s++) {
            const int idx = threadIdx.x + s * kThreads;
            const int r = cols ? idx % kTile : idx / kStep;
            const int kk = cols ? idx / kTile : idx % kStep;
            const uint64_t k = k0 + (uint64_t)kk;
            float va = 0.0f, vb = 0.0f;
            if (k < k_end && i0 + r < job.ra) {
                va = load_at(job.a, cols, i0 + r, k);
                if (count) {
                    nf += (__float_as_uint(va) & 0x7f800000u) == 0x7f800000u;
                    sabs += fabs((double)va);
                    ssq += (double)va * (double)va;
                }
            }
            if (k < k_end && j0 + r < job.rb)
                vb = load_at(job.b, cols, j0 + r, k);
            sa[r][kk] = va;
            sb[r][kk] = vb;
        }
        __syncthreads();
#pragma unroll 8
        for (int kk = 0; kk < kStep; kk++)
            acc = fma((double)sa[ty][kk], (double)sb[tx][kk], acc);
        __syncthreads();
    }

    if (i0 + ty < job.ra && j0 + tx < job.rb)
        atomicAdd(&out[job.out_off + (i0 + ty) * job.rb + (j0 + tx)], acc);

    if (count) { // uniform across the block: every thread takes part
        __shared__ unsigned long long s_nf[kThreads / 32];
        __shared__ double s_abs[kThreads / 32], s_sq[kThreads / 32];
        for (int off = 16; off > 0; off /= 2) {
            nf += __shfl_down_sync(0xffffffffu, nf, off);
            sabs += __shfl_down_sync(0xffffffffu, sabs, off);
            ssq += __shfl_down_sync(0xffffffffu, ssq, off);
        }
        const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
        if (lane == 0) {
            s_nf[warp] = nf;
            s_abs[warp] = sabs;
            s_sq[warp] = ssq;
        }
        __syncthreads();
        if (threadIdx.x == 0) {
            unsigned long long tnf = 0;
            double tabs = 0.0, tsq = 0.0;
            for (int w = 0; w < kThreads / 32; w++) {
                tnf += s_nf[w];
                tabs += s_abs[w];
                tsq += s_sq[w];
            }
            if (tnf)
                atomicAdd(&stats[job.id].nonfinite, tnf);
            atomicAdd(&stats[job.id].sum_abs, tabs);
            atomicAdd(&stats[job.id].sum_sq, tsq);
        }
    }
}

// Ranks above kSmallRank: one block per 64×64 tile, each thread forming
// a 4×4 block of outputs (rows ty + 16a, columns tx + 16b), so that every
// pair of values read from shared memory feeds four products instead of
// one.  The same conversion, exact double products and chunked atomic sums
// as lora_gram_kernel; only the tiling differs.
constexpr int kSmallRank = 32;             // jobs up to this rank use lora_gram_kernel
constexpr int kBig = 64;                   // output rows and columns per block
constexpr int kBigStep = 16;               // values of k per shared-memory step
constexpr int kBigLoads = kBig * kBigStep / kThreads; // values of A (and of B) per thread per step
constexpr int kSub = kBig / kTile;         // outputs per thread along each side

static_assert(kBig * kBigStep % kThreads == 0, "every thread loads the same number of values");
static_assert(kSub * kTile == kBig, "16×16 threads cover the tile");

__global__ void __launch_bounds__(kThreads)
    lora_gram_big_kernel(const DevJob *__restrict__ jobs, int njobs, uint64_t total_blocks,
                         double *__restrict__ out, DevStats *__restrict__ stats)
{
    const uint64_t block = blockIdx.x;
    if (block >= total_blocks)
        return;
    int lo = 0, hi = njobs - 1;
    while (lo < hi) {
        const int mid = lo + (hi - lo + 1) / 2;
        if (jobs[mid].first_block <= block)
            lo = mid;
        else
            hi = mid - 1;
    }
    const DevJob &job = jobs[lo];
    uint64_t local = block - job.first_block;
    if (local >= job.nblocks)
        return;
    const unsigned tile_j = (unsigned)(local % job.tj);
    local /= job.tj;
    const unsigned tile_i = (unsigned)(local % job.ti);
    const uint64_t chunk = local / job.ti;

    const uint64_t i0 = (uint64_t)tile_i * kBig, j0 = (uint64_t)tile_j * kBig;
    const uint64_t k_begin = chunk * kChunk;
    const uint64_t k_end = k_begin + kChunk < job.len ? k_begin + kChunk : job.len;
    const bool count = job.want_stats && tile_j == 0;
    const int cols = job.rank_in_cols;

    // k-major, padded: the loads of rank-row matrices write down a column.
    __shared__ float sa[kBigStep][kBig + 1];
    __shared__ float sb[kBigStep][kBig + 1];
    const int tx = threadIdx.x % kTile;
    const int ty = threadIdx.x / kTile;

    double acc[kSub][kSub];
#pragma unroll
    for (int a = 0; a < kSub; a++)
#pragma unroll
        for (int b = 0; b < kSub; b++)
            acc[a][b] = 0.0;
    unsigned long long nf = 0;
    double sabs = 0.0, ssq = 0.0;

    for (uint64_t k0 = k_begin; k0 < k_end; k0 += kBigStep) {
#pragma unroll
        for (int s = 0; s < kBigLoads; s++) {
            const int idx = threadIdx.x + s * kThreads;
            // Consecutive threads walk the contiguous direction of the storage.
            const int r = cols ? idx % kBig : idx / kBigStep;
            const int kk = cols ? idx / kBig : idx % kBigStep;
            const uint64_t k = k0 + (uint64_t)kk;
            float va = 0.0f, vb = 0.0f;
            if (k < k_end && i0 + r < job.ra) {
                va = load_at(job.a, cols, i0 + r, k);
                if (count) {
                    nf += (__float_as_uint(va) & 0x7f800000u) == 0x7f800000u;
                    sabs += fabs((double)va);
                    ssq += (double)va * (double)va;
                }
            }
            if (k < k_end && j0 + r < job.rb)
                vb = load_at(job.b, cols, j0 + r, k);
            sa[kk][r] = va;
            sb[kk][r] = vb;
        }
        __syncthreads();
#pragma unroll 4
        for (int kk = 0; kk < kBigStep; kk++) {
            double va[kSub], vb[kSub];
#pragma unroll
            for (int a = 0; a < kSub; a++) {
                va[a] = (double)sa[kk][ty + kTile * a];
                vb[a] = (double)sb[kk][tx + kTile * a];
            }
#pragma unroll
            for (int a = 0; a < kSub; a++)
#pragma unroll
                for (int b = 0; b < kSub; b++)
                    acc[a][b] = fma(va[a], vb[b], acc[a][b]);
        }
        __syncthreads();
    }

#pragma unroll
    for (int a = 0; a < kSub; a++)
#pragma unroll
        for (int b = 0; b < kSub; b++) {
            const uint64_t i = i0 + ty + kTile * a, j = j0 + tx + kTile * b;
            if (i < job.ra && j < job.rb)
                atomicAdd(&out[job.out_off + i * job.rb + j], acc[a][b]);
        }

    if (count) {
        __shared__ unsigned long long s_nf[kThreads / 32];
        __shared__ double s_abs[kThreads / 32], s_sq[kThreads / 32];
        for (int off = 16; off > 0; off /= 2) {
            nf += __shfl_down_sync(0xffffffffu, nf, off);
            sabs += __shfl_down_sync(0xffffffffu, sabs, off);
            ssq += __shfl_down_sync(0xffffffffu, ssq, off);
        }
        const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
        if (lane == 0) {
            s_nf[warp] = nf;
            s_abs[warp] = sabs;
            s_sq[warp] = ssq;
        }
        __syncthreads();
        if (threadIdx.x == 0) {
            unsigned long long tnf = 0;
            double tabs = 0.0, tsq = 0.0;
            for (int w = 0; w < kThreads / 32; w++) {
                tnf += s_nf[w];
                tabs += s_abs[w];
                tsq += s_sq[w];
            }
            if (tnf)
                atomicAdd(&stats[job.id].nonfinite, tnf);
            atomicAdd(&stats[job.id].sum_abs, tabs);
            atomicAdd(&stats[job.id].sum_sq, tsq);
        }
    }
}

// A matrix to upload: which job and side it belongs to, where it goes.
struct Upload {
    const unsigned char *p;
    size_t bytes;
    size_t elem;  // bytes per value: a device copy must keep this alignment
    size_t job;
    int side;     // 0: A, 1: B
    size_t off;   // offset of the matrix in the device arena
};

int upload_cmp(const void *x, const void *y)
{
    const Upload *a = static_cast<const Upload *>(x), *b = static_cast<const Upload *>(y);
    if (a->p != b->p)
        return (uintptr_t)a->p < (uintptr_t)b->p ? -1 : 1;
    if (a->bytes != b->bytes)
        return a->bytes < b->bytes ? -1 : 1;
    return 0;
}

size_t align_up(size_t x)
{
    return (x + kAlign - 1) / kAlign * kAlign;
}

bool job_self(const sr_lg_job &j)
{
    return j.b.data == nullptr && j.b.rows == 0 && j.b.cols == 0;
}

void set_err(char *err, size_t errlen, const char *msg, size_t job, const char *why)
{
    if (err && errlen > 0)
        snprintf(err, errlen, "%s %zu: %s", msg, job, why);
}

// Matrices closer together than this in host memory travel in one copy
// (with the bytes between them): the factors of a checkpoint lie side by
// side in the buffer its data section was read into.
constexpr size_t kGap = 256 * 1024;

// A stretch of host memory copied to the device in one transfer.
struct Run {
    const unsigned char *base;
    size_t len;
    size_t off; // in the device arena, kAlign-aligned
};

enum { kSlotIn, kSlotOut, kSlotStats, kSlotJobs };

} // namespace

extern "C" int sr_cuda_lora_gram(int dev, const sr_lg_job *jobs, size_t njobs, char *err, size_t errlen)
{
    if (err && errlen > 0)
        err[0] = '\0';
    if (njobs == 0)
        return 0;
    if (!jobs) {
        if (err && errlen > 0)
            snprintf(err, errlen, "sr_cuda_lora_gram: NULL jobs");
        return -1;
    }
    if (njobs > (size_t)INT32_MAX) {
        if (err && errlen > 0)
            snprintf(err, errlen, "sr_cuda_lora_gram: %zu jobs is too many", njobs);
        return -1;
    }
    for (size_t j = 0; j < njobs; j++) {
        char why[160];
        if (sr_lg_job_check(&jobs[j], why, sizeof why) != 0) {
            set_err(err, errlen, "sr_cuda_lora_gram: job", j, why);
            return -1;
        }
    }
    (void)cudaGetLastError(); // do not report an earlier, unrelated error as ours
    if (CUDA_CHECK(cudaSetDevice(dev)) != 0)
        return -1;

    int rc = -1;
    Upload *up = nullptr;
    Run *runs = nullptr;
    DevJob *hjobs = nullptr;
    size_t nup = 0, nruns = 0, in_bytes = 0, out_doubles = 0;
    size_t *slot_of = nullptr; // job j's entry in hjobs
    size_t nsmall = 0, nbig = 0;
    uint64_t small_blocks = 0, big_blocks = 0;
    cudaStream_t stream;
    unsigned char *d_in;
    double *d_out, *hout;
    DevStats *d_stats, *hstats;
    DevJob *d_jobs;

    // The matrices in address order, grouped into runs of nearby memory;
    // each run is copied once (so a matrix shared between jobs, a self
    // Gram's A included, travels a single time) straight from where it is.
    up = static_cast<Upload *>(calloc(2 * njobs, sizeof *up));
    if (!up) {
        if (err && errlen > 0)
            snprintf(err, errlen, "sr_cuda_lora_gram: out of host memory");
        goto out;
    }
    for (size_t j = 0; j < njobs; j++) {
        const sr_lg_job &J = jobs[j];
        for (int side = 0; side < (job_self(J) ? 1 : 2); side++) {
            const sr_lg_matrix &m = side ? J.b : J.a;
            const size_t elem = sr_lg_dtype_size(m.dtype);
            up[nup++] = Upload{static_cast<const unsigned char *>(m.data), (size_t)(m.rows * m.cols) * elem, elem,
                               j, side, 0};
        }
    }
    qsort(up, nup, sizeof *up, upload_cmp);
    runs = static_cast<Run *>(calloc(nup + 1, sizeof *runs));
    if (!runs) {
        if (err && errlen > 0)
            snprintf(err, errlen, "sr_cuda_lora_gram: out of host memory");
        goto out;
    }
    for (size_t u = 0; u < nup; u++) {
        Upload &U = up[u];
        if (U.bytes == 0)
            continue;
        Run *r = nruns ? &runs[nruns - 1] : nullptr;
        // Joins the open run when it starts near its end and keeps the
        // alignment its values need on the device.
        if (r && U.p >= r->base && U.p <= r->base + r->len + kGap && (size_t)(U.p - r->base) % U.elem == 0) {
            const size_t end = (size_t)(U.p - r->base) + U.bytes;
            if (end > r->len)
                r->len = end;
        } else {
            if (r)
                in_bytes = r->off + align_up(r->len);
            runs[nruns++] = Run{U.p, U.bytes, in_bytes};
            r = &runs[nruns - 1];
        }
        U.off = r->off + (size_t)(U.p - r->base);
    }
    if (nruns)
        in_bytes = runs[nruns - 1].off + align_up(runs[nruns - 1].len);

    // The job tables: jobs of small rank first (lora_gram_kernel), then the
    // others (lora_gram_big_kernel), each numbering its own blocks.
    if (sr_scratch_stream(dev, 0, &stream, err, errlen) != 0)
        goto out;
    hjobs = static_cast<DevJob *>(calloc(njobs, sizeof *hjobs));
    slot_of = static_cast<size_t *>(calloc(njobs, sizeof *slot_of));
    if (!hjobs || !slot_of) {
        if (err && errlen > 0)
            snprintf(err, errlen, "sr_cuda_lora_gram: out of host memory");
        goto out;
    }
    for (int pass = 0; pass < 2; pass++) {
        uint64_t blocks = 0;
        for (size_t j = 0; j < njobs; j++) {
            const sr_lg_job &J = jobs[j];
            const int cols = J.rank_in_cols ? 1 : 0;
            const sr_lg_matrix &B = job_self(J) ? J.a : J.b;
            const uint64_t ra = sr_lg_rank(&J.a, cols), rb = sr_lg_rank(&B, cols);
            const bool big = ra > (uint64_t)kSmallRank || rb > (uint64_t)kSmallRank;
            if (big != (pass == 1))
                continue;
            const int tile = big ? kBig : kTile;
            slot_of[j] = nsmall + nbig;
            DevJob &D = hjobs[nsmall + nbig];
            (big ? nbig : nsmall)++;
            D.a.dtype = (int)J.a.dtype;
            D.a.cols = J.a.cols;
            D.b.dtype = (int)B.dtype;
            D.b.cols = B.cols;
            D.rank_in_cols = cols;
            D.want_stats = J.stats != nullptr;
            D.ra = (unsigned)ra;
            D.rb = (unsigned)rb;
            D.len = sr_lg_length(&J.a, cols);
            D.ti = (D.ra + tile - 1) / tile;
            D.tj = D.rb ? (D.rb + tile - 1) / tile : 1; // r_b = 0: still the statistics of A
            D.nchunks = (D.len + kChunk - 1) / kChunk;
            D.nblocks = (uint64_t)D.ti * D.tj * D.nchunks;
            D.first_block = blocks;
            D.out_off = out_doubles;
            D.id = (unsigned)j;
            blocks += D.nblocks;
            out_doubles += (size_t)D.ra * D.rb;
        }
        (pass ? big_blocks : small_blocks) = blocks;
    }
    if (small_blocks > (uint64_t)INT32_MAX || big_blocks > (uint64_t)INT32_MAX) {
        if (err && errlen > 0)
            snprintf(err, errlen, "sr_cuda_lora_gram: %llu blocks is more than one launch takes",
                     (unsigned long long)(small_blocks > big_blocks ? small_blocks : big_blocks));
        goto out;
    }

    // Buffers that outlive the call (cuda_scratch.h): no allocation, and no
    // device-wide wait for a free, once they are large enough.
    d_in = static_cast<unsigned char *>(sr_scratch_device(dev, kSlotIn, in_bytes, err, errlen));
    d_out = static_cast<double *>(sr_scratch_device(dev, kSlotOut, (out_doubles ? out_doubles : 1) * sizeof *d_out,
                                                    err, errlen));
    d_stats = static_cast<DevStats *>(sr_scratch_device(dev, kSlotStats, njobs * sizeof *d_stats, err, errlen));
    d_jobs = static_cast<DevJob *>(sr_scratch_device(dev, kSlotJobs, njobs * sizeof *d_jobs, err, errlen));
    hout = static_cast<double *>(sr_scratch_host(dev, kSlotOut, (out_doubles ? out_doubles : 1) * sizeof *hout,
                                                 err, errlen));
    hstats = static_cast<DevStats *>(sr_scratch_host(dev, kSlotStats, njobs * sizeof *hstats, err, errlen));
    if (!d_in || !d_out || !d_stats || !d_jobs || !hout || !hstats)
        goto out;
    for (size_t u = 0; u < nup; u++) {
        DevJob &D = hjobs[slot_of[up[u].job]];
        (up[u].side ? D.b : D.a).p = d_in + up[u].off;
    }
    for (size_t j = 0; j < njobs; j++)
        if (job_self(jobs[j]))
            hjobs[slot_of[j]].b.p = hjobs[slot_of[j]].a.p;

    for (size_t r = 0; r < nruns; r++)
        if (CUDA_CHECK(cudaMemcpyAsync(d_in + runs[r].off, runs[r].base, runs[r].len, cudaMemcpyHostToDevice,
                                       stream)) != 0)
            goto out;
    if (CUDA_CHECK(cudaMemcpyAsync(d_jobs, hjobs, njobs * sizeof *d_jobs, cudaMemcpyHostToDevice, stream)) != 0)
        goto out;
    if (CUDA_CHECK(cudaMemsetAsync(d_out, 0, (out_doubles ? out_doubles : 1) * sizeof *d_out, stream)) != 0)
        goto out;
    if (CUDA_CHECK(cudaMemsetAsync(d_stats, 0, njobs * sizeof *d_stats, stream)) != 0)
        goto out;
    if (small_blocks > 0) {
        lora_gram_kernel<<<(unsigned)small_blocks, kThreads, 0, stream>>>(d_jobs, (int)nsmall, small_blocks, d_out,
                                                                         d_stats);
        if (CUDA_CHECK_LAUNCH() != 0)
            goto out;
    }
    if (big_blocks > 0) {
        lora_gram_big_kernel<<<(unsigned)big_blocks, kThreads, 0, stream>>>(d_jobs + nsmall, (int)nbig, big_blocks,
                                                                           d_out, d_stats);
        if (CUDA_CHECK_LAUNCH() != 0)
            goto out;
    }
    if (CUDA_CHECK(cudaMemcpyAsync(hout, d_out, (out_doubles ? out_doubles : 1) * sizeof *hout,
                                   cudaMemcpyDeviceToHost, stream)) != 0)
        goto out;
    if (CUDA_CHECK(cudaMemcpyAsync(hstats, d_stats, njobs * sizeof *hstats, cudaMemcpyDeviceToHost, stream)) != 0)
        goto out;
    // Also reports any error raised while the kernel ran.
    if (CUDA_CHECK(cudaStreamSynchronize(stream)) != 0)
        goto out;

    for (size_t j = 0; j < njobs; j++) {
        const DevJob &D = hjobs[slot_of[j]];
        const double *g = hout + D.out_off;
        const size_t ra = D.ra, rb = D.rb;
        // A self Gram is made exactly symmetric from its upper triangle, as the twin's is.
        const bool self = job_self(jobs[j]);
        for (size_t i = 0; i < ra; i++)
            for (size_t k = 0; k < rb; k++)
                jobs[j].out[i * rb + k] = (self && k < i) ? g[k * rb + i] : g[i * rb + k];
        if (jobs[j].stats) {
            jobs[j].stats->nonfinite = (uint64_t)hstats[j].nonfinite;
            jobs[j].stats->sum_abs = hstats[j].sum_abs;
            jobs[j].stats->sum_sq = hstats[j].sum_sq;
        }
    }
    rc = 0;

out:
    free(slot_of);
    free(hjobs);
    free(runs);
    free(up);
    return rc;
}
