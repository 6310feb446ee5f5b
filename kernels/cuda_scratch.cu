// cuda_scratch.cu - per-thread GPU and pinned buffers that only grow, and
// the shared pool of page-locked host buffers (see cuda_scratch.h).
#include "config.h"

#include "cuda_check.h"
#include "cuda_scratch.h"
#include "kernels.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

namespace {

constexpr int kMaxDevices = 64;

struct Buffer {
    void *p;
    size_t cap;
};

struct PerDevice {
    Buffer dev[SR_SCRATCH_SLOTS];
    Buffer host[SR_SCRATCH_SLOTS];
    cudaStream_t stream[SR_SCRATCH_STREAMS];
    bool stream_ok[SR_SCRATCH_STREAMS];
};

// Never freed: the buffers serve the thread until it ends, and the driver
// releases everything when the process does.
thread_local PerDevice *t_state[kMaxDevices];

PerDevice *state(int dev, char *err, size_t errlen)
{
    if (dev < 0 || dev >= kMaxDevices) {
        if (err && errlen > 0)
            snprintf(err, errlen, "CUDA device %d is out of range", dev);
        return nullptr;
    }
    if (!t_state[dev]) {
        t_state[dev] = static_cast<PerDevice *>(calloc(1, sizeof(PerDevice)));
        if (!t_state[dev] && err && errlen > 0)
            snprintf(err, errlen, "out of host memory");
    }
    return t_state[dev];
}

// Grows by half again at least, so that a slowly growing series of requests
// does not allocate every time.
size_t grown(size_t cap, size_t want)
{
    size_t more = cap + cap / 2;
    return want > more ? want : more;
}

struct PinnedBlock {
    void *p;
    size_t cap;
};

constexpr int kPoolMax = 32;
pthread_mutex_t g_pool_lock = PTHREAD_MUTEX_INITIALIZER;
PinnedBlock g_pool[kPoolMax]; // free blocks
int g_pool_n;

} // namespace

void *sr_scratch_device(int dev, int slot, size_t bytes, char *err, size_t errlen)
{
    PerDevice *s = state(dev, err, errlen);
    if (!s || slot < 0 || slot >= SR_SCRATCH_SLOTS)
        return nullptr;
    Buffer &b = s->dev[slot];
    if (bytes == 0)
        bytes = 1;
    if (b.cap < bytes) {
        if (b.p && CUDA_CHECK(cudaFree(b.p)) != 0)
            return nullptr;
        b.p = nullptr;
        b.cap = 0;
        const size_t cap = grown(b.cap, bytes);
        if (CUDA_CHECK(cudaMalloc(&b.p, cap)) != 0) {
            b.p = nullptr;
            return nullptr;
        }
        b.cap = cap;
    }
    return b.p;
}

void *sr_scratch_host(int dev, int slot, size_t bytes, char *err, size_t errlen)
{
    PerDevice *s = state(dev, err, errlen);
    if (!s || slot < 0 || slot >= SR_SCRATCH_SLOTS)
        return nullptr;
    Buffer &b = s->host[slot];
    if (bytes == 0)
        bytes = 1;
    if (b.cap < bytes) {
        if (b.p && CUDA_CHECK(cudaFreeHost(b.p)) != 0)
            return nullptr;
        const size_t cap = grown(b.cap, bytes);
        b.p = nullptr;
        b.cap = 0;
        if (CUDA_CHECK(cudaMallocHost(&b.p, cap)) != 0) {
            b.p = nullptr;
            return nullptr;
        }
        b.cap = cap;
    }
    return b.p;
}

int sr_scratch_stream(int dev, int idx, cudaStream_t *out, char *err, size_t errlen)
{
    PerDevice *s = state(dev, err, errlen);
    if (!s || idx < 0 || idx >= SR_SCRATCH_STREAMS)
        return -1;
    if (!s->stream_ok[idx]) {
        if (CUDA_CHECK(cudaStreamCreateWithFlags(&s->stream[idx], cudaStreamNonBlocking)) != 0)
            return -1;
        s->stream_ok[idx] = true;
    }
    *out = s->stream[idx];
    return 0;
}

extern "C" void *sr_cuda_pinned_alloc(size_t bytes, size_t *cap)
{
    if (bytes == 0)
        bytes = 1;
    pthread_mutex_lock(&g_pool_lock);
    int best = -1;
    for (int i = 0; i < g_pool_n; i++)
        if (g_pool[i].cap >= bytes && (best < 0 || g_pool[i].cap < g_pool[best].cap))
            best = i;
    if (best >= 0) {
        PinnedBlock b = g_pool[best];
        g_pool[best] = g_pool[--g_pool_n];
        pthread_mutex_unlock(&g_pool_lock);
        *cap = b.cap;
        return b.p;
    }
    pthread_mutex_unlock(&g_pool_lock);
    void *p = nullptr;
    // Portable: any device may copy from it.
    if (cudaHostAlloc(&p, bytes, cudaHostAllocPortable) != cudaSuccess) {
        (void)cudaGetLastError();
        return nullptr;
    }
    *cap = bytes;
    return p;
}

extern "C" void sr_cuda_pinned_free(void *p, size_t cap)
{
    if (!p)
        return;
    pthread_mutex_lock(&g_pool_lock);
    if (g_pool_n < kPoolMax) {
        g_pool[g_pool_n++] = PinnedBlock{p, cap};
        p = nullptr;
    }
    pthread_mutex_unlock(&g_pool_lock);
    if (p && cudaFreeHost(p) != cudaSuccess)
        (void)cudaGetLastError();
}
