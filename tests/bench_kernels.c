/* bench_kernels.c - speed of the numeric kernels: CPU twin vs GPU.
 *
 *   tests/bench_kernels [MI]     (MI = array size in Mi halves, default 64)
 *
 * Prints one row per device, best of several runs after a warm-up.  The
 * GPU time is the whole call as the program sees it: host-to-device copy,
 * kernel, result copy, allocation and freeing.  Exits 1 if the devices
 * disagree on a result. */
#include "config.h"

#include "device.h"
#include "kernels.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REPS 5

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void row(const char *device, double best_s, size_t bytes, uint64_t count)
{
    printf("%-44s %10.3f %9.2f %12llu\n", device, best_s * 1e3, (double)bytes / best_s / 1e9,
           (unsigned long long)count);
}

int main(int argc, char **argv)
{
    size_t mi = 64;
    if (argc > 1) {
        char *end;
        unsigned long v = strtoul(argv[1], &end, 10);
        if (*end != '\0' || v == 0 || v > 4096) {
            fprintf(stderr, "usage: %s [MI]   (array size in Mi halves, 1..4096)\n", argv[0]);
            return 2;
        }
        mi = v;
    }
    const size_t n = mi << 20;
    const size_t bytes = n * sizeof(uint16_t);

    /* Random bit patterns: about 1 in 32 is NaN or Inf. */
    uint16_t *x = xmalloc(bytes);
    sr_rng rng;
    sr_rng_seed(&rng, 12345);
    for (size_t i = 0; i < n; i += 4) {
        uint64_t r = sr_rng_next(&rng);
        for (size_t k = 0; k < 4 && i + k < n; k++)
            x[i + k] = (uint16_t)(r >> (16 * k));
    }

    printf("count_nonfinite_f16: %zu halves (%zu MiB), best of %d\n", n, bytes >> 20, REPS);
    printf("%-44s %10s %9s %12s\n", "device", "ms", "GB/s", "non-finite");

    uint64_t cpu_count = sr_count_nonfinite_f16_cpu(x, n); /* warm-up: page in */
    double best = 1e30;
    for (int r = 0; r < REPS; r++) {
        double t = now_s();
        uint64_t c = sr_count_nonfinite_f16_cpu(x, n);
        t = now_s() - t;
        if (t < best)
            best = t;
        if (c != cpu_count) {
            fprintf(stderr, "cpu: result changed between runs\n");
            return 1;
        }
    }
    row("cpu", best, bytes, cpu_count);

    int status = 0;
    sr_device d;
    char err[256] = "";
    if (sr_device_select("cuda", &d, err, sizeof err) != 0) {
        printf("%-44s (skipped: %s)\n", "cuda", err);
    } else {
#ifdef HAVE_CUDA
        uint64_t gpu_count = 0;
        /* Warm-up: creates the CUDA context and loads the kernel. */
        if (sr_cuda_count_nonfinite_f16(d.index, x, n, &gpu_count, err, sizeof err) != 0) {
            printf("%-44s (failed: %s)\n", sr_device_describe(&d), err);
            status = 1;
        } else {
            best = 1e30;
            for (int r = 0; r < REPS && status == 0; r++) {
                double t = now_s();
                int rc = sr_cuda_count_nonfinite_f16(d.index, x, n, &gpu_count, err, sizeof err);
                t = now_s() - t;
                if (rc != 0) {
                    printf("%-44s (failed: %s)\n", sr_device_describe(&d), err);
                    status = 1;
                } else if (t < best) {
                    best = t;
                }
            }
            if (status == 0) {
                row(sr_device_describe(&d), best, bytes, gpu_count);
                if (gpu_count != cpu_count) {
                    fprintf(stderr, "MISMATCH: gpu %llu, cpu %llu\n",
                            (unsigned long long)gpu_count, (unsigned long long)cpu_count);
                    status = 1;
                }
            }
        }
#endif
    }
    free(x);
    return status;
}
