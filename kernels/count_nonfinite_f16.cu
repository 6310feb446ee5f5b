// count_nonfinite_f16.cu - number of NaN / +-Inf values in a binary16 array.
// CPU twin: count_nonfinite_f16.c (sr_count_nonfinite_f16_cpu).
//
// Grid-stride loop over 16-byte loads (eight halves each), a per-block sum
// through warp shuffles and shared memory, then one atomicAdd per block
// (skipped when the block found nothing) into a 64-bit counter.
#include "config.h"

#include "cuda_check.h"
#include "kernels.h"

#include <stdint.h>

namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr int kBlocksPerSM = 8; // 2048 threads per SM: full occupancy on sm_80/90

// 1 when the half in the low 16 bits of h has all exponent bits set.
__device__ __forceinline__ unsigned nonfinite1(unsigned h)
{
    return (h & 0x7c00u) == 0x7c00u;
}

// Non-finite halves among the two packed in w: adding 0x0400 to a masked
// lane carries into its bit 15 only when the exponent was all ones.
__device__ __forceinline__ unsigned nonfinite2(unsigned w)
{
    return __popc(((w & 0x7c007c00u) + 0x04000400u) & 0x80008000u);
}

// x must be 16-byte aligned (cudaMalloc memory is).
__global__ void count_nonfinite_f16_kernel(const uint16_t *__restrict__ x, size_t n,
                                           unsigned long long *__restrict__ count)
{
    const size_t tid = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    const size_t stride = (size_t)gridDim.x * blockDim.x;
    const size_t nvec = n / 8;
    const uint4 *v = reinterpret_cast<const uint4 *>(x);

    unsigned long long local = 0;
    for (size_t i = tid; i < nvec; i += stride) {
        uint4 q = __ldg(&v[i]);
        local += nonfinite2(q.x) + nonfinite2(q.y) + nonfinite2(q.z) + nonfinite2(q.w);
    }
    // The last n % 8 halves (fewer than the threads of one block).
    const size_t tail = nvec * 8 + tid;
    if (tail < n)
        local += nonfinite1(x[tail]);

    // Block reduction: within each warp, then across the warps.
    __shared__ unsigned long long warp_sum[kWarps];
    const unsigned lane = threadIdx.x % 32;
    const unsigned warp = threadIdx.x / 32;
    for (int off = 16; off > 0; off /= 2)
        local += __shfl_down_sync(0xffffffffu, local, off);
    if (lane == 0)
        warp_sum[warp] = local;
    __syncthreads();
    if (warp == 0) {
        local = lane < kWarps ? warp_sum[lane] : 0;
        for (int off = 16; off > 0; off /= 2)
            local += __shfl_down_sync(0xffffffffu, local, off);
        if (lane == 0 && local != 0)
            atomicAdd(count, local);
    }
}

} // namespace

extern "C" int sr_cuda_count_nonfinite_f16(int dev, const uint16_t *host, size_t n, uint64_t *out,
                                           char *err, size_t errlen)
{
    uint16_t *d_x = nullptr;
    unsigned long long *d_count = nullptr;
    unsigned long long count = 0;
    int rc = -1;

    if (err && errlen > 0)
        err[0] = '\0';
    if (!out || (n > 0 && !host)) {
        if (err && errlen > 0)
            snprintf(err, errlen, "sr_cuda_count_nonfinite_f16: NULL argument");
        return -1;
    }
    if (n > SIZE_MAX / sizeof *host) {
        if (err && errlen > 0)
            snprintf(err, errlen, "sr_cuda_count_nonfinite_f16: %zu halves is too many", n);
        return -1;
    }
    (void)cudaGetLastError(); // do not report an earlier, unrelated error as ours
    if (CUDA_CHECK(cudaSetDevice(dev)) != 0)
        return -1;
    if (n == 0) {
        *out = 0;
        return 0;
    }

    const size_t bytes = n * sizeof *host;
    int sms = 0;
    if (CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev)) != 0)
        goto out;
    if (CUDA_CHECK(cudaMalloc(&d_x, bytes)) != 0)
        goto out;
    if (CUDA_CHECK(cudaMalloc(&d_count, sizeof *d_count)) != 0)
        goto out;
    if (CUDA_CHECK(cudaMemcpy(d_x, host, bytes, cudaMemcpyHostToDevice)) != 0)
        goto out;
    if (CUDA_CHECK(cudaMemset(d_count, 0, sizeof *d_count)) != 0)
        goto out;
    {
        // Enough blocks to fill the GPU, no more than there is work for.
        const size_t nvec = n / 8;
        size_t blocks = (nvec + kThreads - 1) / kThreads;
        const size_t cap = (size_t)(sms > 0 ? sms : 1) * kBlocksPerSM;
        if (blocks > cap)
            blocks = cap;
        if (blocks == 0)
            blocks = 1; // n < 8: only the tail
        count_nonfinite_f16_kernel<<<(unsigned)blocks, kThreads>>>(d_x, n, d_count);
        if (CUDA_CHECK_LAUNCH() != 0)
            goto out;
    }
    // Synchronous copy: also reports any error raised while the kernel ran.
    if (CUDA_CHECK(cudaMemcpy(&count, d_count, sizeof count, cudaMemcpyDeviceToHost)) != 0)
        goto out;
    *out = (uint64_t)count;
    rc = 0;

out:
    // Free on every path; a failing free is reported only when all else worked.
    {
        const cudaError_t e_count = d_count ? cudaFree(d_count) : cudaSuccess;
        const cudaError_t e_x = d_x ? cudaFree(d_x) : cudaSuccess;
        if (rc == 0 && (sr_cuda_check(e_count, "cudaFree(d_count)", __FILE__, __LINE__, err, errlen) != 0 ||
                        sr_cuda_check(e_x, "cudaFree(d_x)", __FILE__, __LINE__, err, errlen) != 0))
            rc = -1;
    }
    return rc;
}
