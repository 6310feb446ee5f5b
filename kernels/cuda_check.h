/* cuda_check.h - error checking for the CUDA host wrappers (.cu files only).
 *
 * A failing CUDA runtime call never ends the program here: it becomes a
 * return value of -1 plus one line of text in the caller's error buffer,
 *
 *     count_nonfinite_f16.cu:87: cudaMalloc(&d_x, bytes): out of memory
 *
 * so the host wrapper can free what it allocated and the C side can fall
 * back to the CPU twin.
 *
 * Usage, in a function that has `char *err, size_t errlen` in scope:
 *
 *     if (CUDA_CHECK(cudaMalloc(&p, bytes)) != 0)
 *         goto out;
 *     kernel<<<grid, block>>>(...);
 *     if (CUDA_CHECK_LAUNCH() != 0)
 *         goto out;
 *
 * CUDA_CHECK_LAUNCH() reads cudaGetLastError() and must follow every kernel
 * launch: a bad launch configuration is only reported that way.  Errors
 * raised while the kernel runs surface at the next synchronising call
 * (cudaMemcpy of the result), which goes through CUDA_CHECK as well. */
#ifndef SR_CUDA_CHECK_H
#define SR_CUDA_CHECK_H

#include <cuda_runtime.h>

#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* Returns 0 when e is cudaSuccess; otherwise writes "file:line: expr: reason"
 * into err (when err is non-NULL and errlen > 0) and returns -1. */
static inline int sr_cuda_check(cudaError_t e, const char *expr, const char *file, int line,
                                char *err, size_t errlen)
{
    if (e == cudaSuccess)
        return 0;
    if (err && errlen > 0) {
        const char *base = strrchr(file, '/');
        snprintf(err, errlen, "%s:%d: %s: %s (%s)", base ? base + 1 : file, line, expr,
                 cudaGetErrorString(e), cudaGetErrorName(e));
    }
    return -1;
}

#define CUDA_CHECK(call) sr_cuda_check((call), #call, __FILE__, __LINE__, err, errlen)

#define CUDA_CHECK_LAUNCH() \
    sr_cuda_check(cudaGetLastError(), "kernel launch", __FILE__, __LINE__, err, errlen)

#endif
