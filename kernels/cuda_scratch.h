/* cuda_scratch.h - reusable GPU and pinned host buffers (.cu files only).
 *
 * Allocating device memory (cudaMalloc, cudaFree) or page-locked host
 * memory (cudaMallocHost) costs far more than the kernels of one checkpoint
 * or one image batch, and cudaFree waits for the whole device.  So the
 * host wrappers take their buffers from here instead: every thread keeps,
 * per device, a few numbered slots that only grow and live as long as the
 * thread (the OpenMP workers of a run, or the main thread).  A slot's
 * contents are undefined on return; one call of a wrapper may use each
 * slot for one buffer.
 *
 * The pinned pool at the end is shared between threads: whole page-locked
 * buffers that a caller keeps for a while (a checkpoint's bytes, read
 * straight into memory the GPU copies from at full speed). */
#ifndef SR_CUDA_SCRATCH_H
#define SR_CUDA_SCRATCH_H

#include <cuda_runtime.h>

#include <stddef.h>

enum { SR_SCRATCH_SLOTS = 8, SR_SCRATCH_STREAMS = 2 };

/* A device buffer of at least bytes on dev (the current device must be dev),
 * or NULL with the reason in err. */
void *sr_scratch_device(int dev, int slot, size_t bytes, char *err, size_t errlen);

/* A page-locked host buffer of at least bytes, or NULL with the reason. */
void *sr_scratch_host(int dev, int slot, size_t bytes, char *err, size_t errlen);

/* Stream number idx of this thread on dev (created once, non-blocking):
 * 0 and *out set, or -1 with the reason in err. */
int sr_scratch_stream(int dev, int idx, cudaStream_t *out, char *err, size_t errlen);

#endif
