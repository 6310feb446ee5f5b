/* kernels.h - numeric kernels: a CPU twin for every CUDA kernel.
 *
 * Plain C, shared by the C11 code and the .cu files.  Include config.h
 * first: the CUDA entry points exist only when HAVE_CUDA is defined (the
 * kernels were built).  Nothing here needs the CUDA headers.
 *
 * The CPU twin is the reference: each GPU function must return exactly
 * what its twin returns for the same input (tests/test_kernels.c checks). */
#ifndef SR_KERNELS_H
#define SR_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Number of IEEE 754 binary16 values in x[0..n) that are NaN or +-Inf
 * (all five exponent bits set).  x may be NULL when n is 0. */
uint64_t sr_count_nonfinite_f16_cpu(const uint16_t *x, size_t n);

#ifdef HAVE_CUDA
/* Number of usable CUDA devices.  0, not an error, when there is no driver,
 * no device, or the driver is too old for this build. */
int sr_cuda_device_count(void);

/* Device name ("NVIDIA H100 80GB HBM3") into buf, always NUL-terminated.
 * 0 on success, -1 when dev is not a usable device. */
int sr_cuda_device_name(int dev, char *buf, size_t len);

/* GPU version of sr_count_nonfinite_f16_cpu on device dev: copies host[0..n)
 * to the device, counts there and stores the count in *out.  Returns 0, or
 * -1 with a one-line reason in err (nothing is left allocated either way). */
int sr_cuda_count_nonfinite_f16(int dev, const uint16_t *host, size_t n, uint64_t *out,
                                char *err, size_t errlen);

/* Page-locked host memory, which the GPU copies from at full speed, from a
 * pool shared by all threads: at least bytes, the real size in *cap (give
 * it back to sr_cuda_pinned_free).  NULL when none can be had (no driver,
 * no device, out of memory): the caller uses malloc instead. */
void *sr_cuda_pinned_alloc(size_t bytes, size_t *cap);
void sr_cuda_pinned_free(void *p, size_t cap);
#endif

#ifdef __cplusplus
}
#endif

#endif
