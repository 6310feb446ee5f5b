/* bench_image_kernels.c - speed of the image kernels: CPU twin vs GPU.
 *
 *   tests/bench_image_kernels
 *
 * 64 synthetic 512x512 RGB images.  Moments: ms per image for the CPU twin,
 * the GPU one image per call, and the GPU batch API (all 64 in one call).
 * SSIM: all 28 pairs of the first 8 images' luma planes, ms for the whole
 * set and per pair.  Best of several runs after a warm-up; a GPU time is the
 * whole call as the program sees it (copies, kernels, allocation and
 * freeing).  Exits 1 if the devices disagree (moments not identical, SSIM
 * off by more than 1e-6). */
#include "config.h"

#include "device.h"
#include "image_kernels_cuda.h"
#include "image_moments.h"
#include "kernels.h"
#include "ssim.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REPS 5
#define N_IMAGES 64
#define SIDE 512
#define N_SSIM 8
#define N_PAIRS (N_SSIM * (N_SSIM - 1) / 2)

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint8_t clamp_u8(double v)
{
    return v <= 0.0 ? 0 : v >= 255.0 ? 255 : (uint8_t)(v + 0.5);
}

/* Smooth colour fields with noise, different for every image. */
static uint8_t *make_image(int k)
{
    uint8_t *p = xmalloc((size_t)SIDE * SIDE * 3);
    sr_rng rng;
    sr_rng_seed(&rng, 777 + (uint64_t)k);
    const double fx = 0.01 + 0.002 * k, fy = 0.013 + 0.001 * k;
    for (int y = 0; y < SIDE; y++)
        for (int x = 0; x < SIDE; x++) {
            uint8_t *q = p + 3 * ((size_t)y * SIDE + (size_t)x);
            q[0] = clamp_u8(128 + 100 * sin(fx * x + k) + 10 * sr_rng_normal(&rng));
            q[1] = clamp_u8(128 + 100 * cos(fy * y - k) + 10 * sr_rng_normal(&rng));
            q[2] = clamp_u8(128 + 80 * sin(fx * x + fy * y) + 10 * sr_rng_normal(&rng));
        }
    return p;
}

static void row(const char *what, const char *device, double best_s, double per)
{
    printf("%-10s %-44s %10.3f %12.4f\n", what, device, best_s * 1e3, best_s * 1e3 / per);
}

int main(void)
{
    uint8_t *imgs[N_IMAGES];
    for (int k = 0; k < N_IMAGES; k++)
        imgs[k] = make_image(k);
    double *lumas[N_SSIM];
    for (int k = 0; k < N_SSIM; k++) {
        lumas[k] = xmalloc((size_t)SIDE * SIDE * sizeof *lumas[k]);
        sr_luma_cpu(imgs[k], (size_t)SIDE * SIDE, lumas[k]);
    }
    sr_image_moments *cpu_m = xcalloc(N_IMAGES, sizeof *cpu_m);
    double cpu_ssim[N_PAIRS];

    printf("image kernels: %d images %dx%d; SSIM of all %d pairs of %d; best of %d\n", N_IMAGES,
           SIDE, SIDE, N_PAIRS, N_SSIM, REPS);
    printf("%-10s %-44s %10s %12s\n", "kernel", "device", "ms", "ms/item");

    /* CPU twins (warm-up, then timed). */
    for (int k = 0; k < N_IMAGES; k++)
        sr_image_moments_cpu(imgs[k], SIDE, SIDE, &cpu_m[k]);
    double best = 1e30;
    for (int r = 0; r < REPS; r++) {
        sr_image_moments m;
        double t = now_s();
        for (int k = 0; k < N_IMAGES; k++)
            sr_image_moments_cpu(imgs[k], SIDE, SIDE, &m);
        t = now_s() - t;
        if (t < best)
            best = t;
    }
    row("moments", "cpu", best, N_IMAGES);

    sr_ssim_pairs_cpu((const double *const *)lumas, N_SSIM, SIDE, SIDE, cpu_ssim);
    best = 1e30;
    for (int r = 0; r < REPS; r++) {
        double out[N_PAIRS];
        double t = now_s();
        sr_ssim_pairs_cpu((const double *const *)lumas, N_SSIM, SIDE, SIDE, out);
        t = now_s() - t;
        if (t < best)
            best = t;
    }
    row("ssim", "cpu", best, N_PAIRS);

    int status = 0;
    sr_device d;
    char err[256] = "";
    if (sr_device_select("cuda", &d, err, sizeof err) != 0) {
        printf("%-10s %-44s (skipped: %s)\n", "gpu", "cuda", err);
    } else {
#ifdef HAVE_CUDA
        const char *dev = sr_device_describe(&d);
        int ws[N_IMAGES], hs[N_IMAGES];
        for (int k = 0; k < N_IMAGES; k++)
            ws[k] = hs[k] = SIDE;
        sr_image_moments *gpu_m = xcalloc(N_IMAGES, sizeof *gpu_m);
        double gpu_ssim[N_PAIRS];

        /* One image per call; the first call also creates the context. */
        best = 1e30;
        for (int r = 0; r <= REPS && status == 0; r++) {
            double t = now_s();
            for (int k = 0; k < N_IMAGES && status == 0; k++)
                if (sr_cuda_image_moments(d.index, imgs[k], SIDE, SIDE, &gpu_m[k], err,
                                          sizeof err) != 0)
                    status = 1;
            t = now_s() - t;
            if (r > 0 && t < best)
                best = t;
        }
        if (status == 0)
            row("moments", dev, best, N_IMAGES);
        for (int k = 0; k < N_IMAGES && status == 0; k++)
            if (memcmp(&gpu_m[k], &cpu_m[k], sizeof gpu_m[k]) != 0) {
                fprintf(stderr, "MISMATCH: moments of image %d (single)\n", k);
                status = 1;
            }

        /* All images in one batch call. */
        best = 1e30;
        for (int r = 0; r <= REPS && status == 0; r++) {
            memset(gpu_m, 0, N_IMAGES * sizeof *gpu_m);
            double t = now_s();
            if (sr_cuda_image_moments_batch(d.index, (const uint8_t *const *)imgs, ws, hs,
                                            N_IMAGES, gpu_m, err, sizeof err) != 0)
                status = 1;
            t = now_s() - t;
            if (r > 0 && t < best)
                best = t;
        }
        if (status == 0)
            row("batch", dev, best, N_IMAGES);
        for (int k = 0; k < N_IMAGES && status == 0; k++)
            if (memcmp(&gpu_m[k], &cpu_m[k], sizeof gpu_m[k]) != 0) {
                fprintf(stderr, "MISMATCH: moments of image %d (batch)\n", k);
                status = 1;
            }

        best = 1e30;
        for (int r = 0; r <= REPS && status == 0; r++) {
            double t = now_s();
            if (sr_cuda_ssim_pairs(d.index, (const double *const *)lumas, N_SSIM, SIDE, SIDE,
                                   gpu_ssim, err, sizeof err) != 0)
                status = 1;
            t = now_s() - t;
            if (r > 0 && t < best)
                best = t;
        }
        if (status == 0) {
            row("ssim", dev, best, N_PAIRS);
            double worst = 0.0;
            int off = 0;
            for (int k = 0; k < N_PAIRS; k++) {
                const double dk = fabs(gpu_ssim[k] - cpu_ssim[k]);
                if (dk > worst)
                    worst = dk;
                if (!(dk <= 1e-6)) /* NaN too */
                    off++;
            }
            printf("ssim: largest |gpu - cpu| %.3g\n", worst);
            if (off) {
                fprintf(stderr, "MISMATCH: %d SSIM pairs differ by more than 1e-6\n", off);
                status = 1;
            }
        }
        if (status != 0 && err[0])
            printf("%-10s %-44s (failed: %s)\n", "gpu", dev, err);
        free(gpu_m);
#endif
    }

    for (int k = 0; k < N_IMAGES; k++)
        free(imgs[k]);
    for (int k = 0; k < N_SSIM; k++)
        free(lumas[k]);
    free(cpu_m);
    return status;
}
