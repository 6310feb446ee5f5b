/* bench_tfevents.c - how fast event files are read.
 *
 * Writes one event file of 200,000 scalar events (four kohya-style tags in
 * turn), then times sr_tfevents_read_file on it (best of RUNS, file in the
 * page cache) and, for scale, CRC-32C alone over the same bytes with the
 * table and with the dispatching function. */
#include "config.h"

#include "atomic_file.h"
#include "crc32c.h"
#include "tfevents.h"
#include "tfevents_write.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define EVENTS 200000
#define RUNS 5

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(void)
{
    static const char *tags[] = {"loss/current", "loss/average", "lr/unet", "lr/textencoder"};
    char dir[] = "/tmp/bench_tfevents-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char *path = sr_path_join(dir, "events.out.tfevents.1735689600.bench.1.0");
    char err[256];

    double t0 = now();
    sr_tfevents_writer *w = sr_tfevents_open(path, 1735689600.0, err, sizeof err);
    if (!w) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    sr_rng rng;
    sr_rng_seed(&rng, 1);
    for (int i = 0; i < EVENTS; i++) {
        int64_t step = i / 4;
        float v = (float)(0.1 + 0.01 * sr_rng_normal(&rng));
        if (sr_tfevents_add_scalar(w, tags[i % 4], step, v, 1735689600.0 + i * 0.05) != 0) {
            fprintf(stderr, "write failed\n");
            return 1;
        }
    }
    if (sr_tfevents_close(w, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    double t_write = now() - t0;
    struct stat st;
    if (stat(path, &st) != 0) {
        perror(path);
        return 1;
    }
    double mb = (double)st.st_size / 1e6;

    double best = 1e30;
    size_t points = 0;
    for (int r = 0; r < RUNS; r++) {
        sr_scalars sc = {0};
        char problem[256];
        t0 = now();
        int rc = sr_tfevents_read_file(path, &sc, problem, sizeof problem);
        double t = now() - t0;
        if (rc != 0) {
            fprintf(stderr, "read: rc %d: %s\n", rc, problem);
            return 1;
        }
        points = 0;
        for (size_t i = 0; i < sc.n; i++)
            points += sc.items[i].n;
        sr_scalars_free(&sc);
        if (t < best)
            best = t;
    }
    if (points != EVENTS) {
        fprintf(stderr, "read %zu points, wrote %d\n", points, EVENTS);
        return 1;
    }

    char *data;
    size_t len;
    if (sr_read_file(path, (size_t)1 << 30, &data, &len, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    double best_sw = 1e30, best_any = 1e30;
    uint32_t sink = 0; /* keeps the CRCs from being optimised away */
    for (int r = 0; r < RUNS; r++) {
        t0 = now();
        sink += sr_crc32c_update_sw(0, data, len);
        double t = now() - t0;
        if (t < best_sw)
            best_sw = t;
        t0 = now();
        sink += sr_crc32c(data, len);
        t = now() - t0;
        if (t < best_any)
            best_any = t;
    }
    free(data);

    printf("tfevents: %d events, %.2f MB written in %.3f s\n", EVENTS, mb, t_write);
    printf("tfevents: read %.3f s = %.0f MB/s, %.1f M events/s (best of %d)\n", best, mb / best,
           EVENTS / best / 1e6, RUNS);
    printf("crc32c: table %.0f MB/s, %s %.0f MB/s (check %08x)\n", mb / best_sw,
           sr_crc32c_hw_available() ? "sse4.2" : "table", mb / best_any, (unsigned)sink);

    unlink(path);
    rmdir(dir);
    free(path);
    return 0;
}
