/* device.h - which processor runs the numeric kernels.
 *
 * The rest of the program picks a device once (from --device or similar)
 * and then calls the dispatchers below, which use the GPU when one was
 * selected and the CPU twin otherwise.  Without CUDA support in the build
 * everything still works, on the CPU. */
#ifndef SR_DEVICE_H
#define SR_DEVICE_H

#include <stddef.h>
#include <stdint.h>

typedef enum { SR_DEV_CPU, SR_DEV_CUDA } sr_device_kind;

typedef struct {
    sr_device_kind kind;
    int index;      /* CUDA device ordinal; 0 for the CPU */
    char name[128]; /* "NVIDIA H100 80GB HBM3"; "cpu" for the CPU */
} sr_device;

/* Parses spec and checks that the device exists:
 *   "auto"    the first CUDA device when there is one, else the CPU
 *             (NULL means "auto")
 *   "cpu"     the CPU
 *   "cuda"    CUDA device 0, which must exist
 *   "cuda:N"  CUDA device N (decimal), which must exist
 * Returns 0 and fills *out, or -1 with a one-line reason in err (such as
 * "cuda:1 requested but 1 CUDA device found") and *out unchanged. */
int sr_device_select(const char *spec, sr_device *out, char *err, size_t errlen);

/* "cpu" or "cuda:0 (NVIDIA H100 80GB HBM3)".  The string lives in a
 * per-thread buffer, valid until the next call in the same thread. */
const char *sr_device_describe(const sr_device *d);

/* Number of binary16 NaN / +-Inf values in x[0..n), counted on d (NULL
 * means the CPU).  If the GPU fails, prints a one-line warning on stderr
 * and counts on the CPU instead: the result is always exact. */
uint64_t sr_count_nonfinite_f16(const sr_device *d, const uint16_t *x, size_t n);

#endif
