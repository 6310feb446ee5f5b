/* bench_image_metrics.c - speed of the image metrics on the CPU.
 *
 *   tests/bench_image_metrics [SIZE]     (image side, default 512)
 *
 * Renders 8 synthetic sample images (src/synth_scene), writes them as PNG
 * files to a scratch folder, then times, best of several runs: decoding the
 * 8 files, the fused moments pass, the luma planes, and the SSIM of all 28
 * pairs (one thread, then every OpenMP thread).  Prints milliseconds per
 * image (per pair for SSIM) and the moments pass's throughput. */
#include "config.h"

#include "image_metrics.h"
#include "image_moments.h"
#include "png_io.h"
#include "ssim.h"
#include "synth_scene.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define N_IMAGES 8
#define N_PAIRS (N_IMAGES * (N_IMAGES - 1) / 2)
#define REPS 5

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void row(const char *what, double best_s, double per, const char *unit, double mb)
{
    printf("%-34s %10.3f ms %9.3f ms/%s", what, best_s * 1e3, best_s * 1e3 / per, unit);
    if (mb > 0)
        printf(" %8.0f MB/s", mb / best_s);
    putchar('\n');
}

int main(int argc, char **argv)
{
    int size = 512;
    if (argc > 1) {
        char *end;
        long v = strtol(argv[1], &end, 10);
        if (*end != '\0' || v < 16 || v > 4096) {
            fprintf(stderr, "usage: %s [SIZE]   (image side, 16..4096)\n", argv[0]);
            return 2;
        }
        size = (int)v;
    }
    const size_t np = (size_t)size * (size_t)size;
    char dir[] = "/tmp/bench_image_metrics.XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }

    char *paths[N_IMAGES];
    uint8_t *rgb[N_IMAGES];
    double *luma[N_IMAGES];
    int w[N_IMAGES], h[N_IMAGES];
    char err[256];
    for (int i = 0; i < N_IMAGES; i++) {
        sr_scene_style st = {.prompt_index = i, .detail = 0.3 + 0.08 * i, .brightness = 0.02 * (i - 4),
                             .saturation = 1.0, .contrast = 1.0, .warmth = 0.1 * (i - 4),
                             .artifacts = i == 7 ? 0.6 : 0.0};
        uint8_t *img = xmalloc(np * 3);
        if (sr_scene_render(img, size, &st) != 0) {
            fprintf(stderr, "rendering failed\n");
            return 1;
        }
        paths[i] = xasprintf("%s/sample_%d.png", dir, i);
        if (sr_png_write_rgb8(paths[i], img, size, size, err, sizeof err) != 0) {
            fprintf(stderr, "%s: %s\n", paths[i], err);
            return 1;
        }
        free(img);
        rgb[i] = NULL;
        luma[i] = xmalloc(np * sizeof **luma);
    }
    printf("%d images of %dx%d\n", N_IMAGES, size, size);

    double best = 1e30;
    for (int r = 0; r < REPS; r++) {
        double t0 = now_s();
        for (int i = 0; i < N_IMAGES; i++) {
            free(rgb[i]);
            if (sr_png_read_rgb8(paths[i], &rgb[i], &w[i], &h[i], err, sizeof err) != 0) {
                fprintf(stderr, "%s: %s\n", paths[i], err);
                return 1;
            }
        }
        double t = now_s() - t0;
        best = t < best ? t : best;
    }
    row("decode PNG", best, N_IMAGES, "image", 0);

    sr_image_moments m[N_IMAGES];
    best = 1e30;
    for (int r = 0; r < REPS; r++) {
        double t0 = now_s();
        for (int i = 0; i < N_IMAGES; i++)
            sr_image_moments_cpu(rgb[i], w[i], h[i], &m[i]);
        double t = now_s() - t0;
        best = t < best ? t : best;
    }
    row("moments (1 thread)", best, N_IMAGES, "image", (double)(N_IMAGES * np * 3) / 1e6);

    best = 1e30;
    for (int r = 0; r < REPS; r++) {
        double t0 = now_s();
        for (int i = 0; i < N_IMAGES; i++)
            sr_luma_cpu(rgb[i], np, luma[i]);
        double t = now_s() - t0;
        best = t < best ? t : best;
    }
    row("luma planes (1 thread)", best, N_IMAGES, "image", (double)(N_IMAGES * np * 3) / 1e6);

    double ssim[N_PAIRS];
    int threads = 1;
#ifdef _OPENMP
    threads = omp_get_max_threads();
#endif
    for (int pass = 0; pass < 2; pass++) {
        int nt = pass == 0 ? 1 : threads;
        if (pass == 1 && threads == 1)
            break;
#ifdef _OPENMP
        omp_set_num_threads(nt);
#endif
        best = 1e30;
        for (int r = 0; r < REPS; r++) {
            double t0 = now_s();
            sr_ssim_pairs_cpu((const double *const *)luma, N_IMAGES, size, size, ssim);
            double t = now_s() - t0;
            best = t < best ? t : best;
        }
        char label[64];
        snprintf(label, sizeof label, "SSIM, %d pairs (%d thread%s)", N_PAIRS, nt, nt == 1 ? "" : "s");
        row(label, best, N_PAIRS, "pair", 0);
        row("  the same per image", best, N_IMAGES, "image", 0);
    }

    sr_sample_metrics s;
    double sum_b = 0;
    for (int i = 0; i < N_IMAGES; i++) {
        sr_sample_metrics_from_moments(&m[i], &s);
        sum_b += s.brightness;
    }
    double div = 0;
    sr_diversity_from_ssim(ssim, N_PAIRS, &div);
    printf("mean brightness %.4f, sample diversity %.4f\n", sum_b / N_IMAGES, div);

    for (int i = 0; i < N_IMAGES; i++) {
        unlink(paths[i]);
        free(paths[i]);
        free(rgb[i]);
        free(luma[i]);
    }
    rmdir(dir);
    return 0;
}
