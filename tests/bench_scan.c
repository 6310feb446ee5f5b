/* bench_scan.c - how fast the scan is on a 1000-checkpoint sweep.
 *
 * Builds a sweep of 100 trials x 10 checkpoints whose headers are real
 * rank-16 SD1.5 LoRA headers (from the synthetic sweep writer) and whose
 * tensor data is sparse, then times sr_scan.  The scan reads headers only,
 * so the data does not matter; the header parse and the directory walk do. */
#include "config.h"

#include "atomic_file.h"
#include "scan.h"
#include "synth.h"
#include "util.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TRIALS 100
#define PER_TRIAL 10
#define RUNS 5

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what)
{
    perror(what);
    exit(1);
}

/* Reads the 8 + N header bytes of a checkpoint and its full size. */
static char *read_header(const char *path, size_t *hlen, off_t *size)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        die(path);
    struct stat st;
    uint8_t lenbuf[8];
    if (fstat(fd, &st) != 0 || read(fd, lenbuf, 8) != 8)
        die(path);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = (n << 8) | lenbuf[i];
    char *buf = xmalloc(8 + n);
    memcpy(buf, lenbuf, 8);
    if (read(fd, buf + 8, n) != (ssize_t)n)
        die(path);
    close(fd);
    *hlen = 8 + n;
    *size = st.st_size;
    return buf;
}

int main(int argc, char **argv)
{
    const char *base = argc > 1 ? argv[1] : "tests/tmp/bench-scan";
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
    if (system(cmd) != 0)
        return 1;
    char *src = sr_path_join(base, "source");
    sr_synth_opts o;
    sr_synth_defaults(&o);
    o.trials = 1;
    o.epochs = 2;
    o.save_every = 1;
    o.samples = 0;
    o.rank = 16;
    char err[512];
    if (sr_synth(src, &o, err, sizeof err) != 0) {
        fprintf(stderr, "bench_scan: %s\n", err);
        return 1;
    }
    char *ckpt = sr_path_join(src, "trial_0001/lora_trial_1.safetensors");
    size_t hlen;
    off_t size;
    char *header = read_header(ckpt, &hlen, &size);

    char *sweep = sr_path_join(base, "sweep");
    for (int t = 1; t <= TRIALS; t++) {
        char *dir = xasprintf("%s/trial_%04d", sweep, t);
        if (sr_mkdir_p(dir, 0755) != 0)
            die(dir);
        char *params = xasprintf("%s/params.json", dir);
        char *json = xasprintf("{\"learning_rate\": %g, \"network_dim\": 16, \"max_train_epochs\": %d}\n",
                               1e-4 * t, 2 * PER_TRIAL);
        if (sr_write_file_atomic(params, json, strlen(json), SR_ATOMIC_REPLACE) != 0)
            die(params);
        for (int k = 1; k <= PER_TRIAL; k++) {
            char *f = k == PER_TRIAL ? xasprintf("%s/lora_trial_%d.safetensors", dir, t)
                                     : xasprintf("%s/lora_trial_%d-%06d.safetensors", dir, t, 2 * k);
            int fd = open(f, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd < 0 || write(fd, header, hlen) != (ssize_t)hlen || ftruncate(fd, size) != 0)
                die(f);
            close(fd);
            if (k % 2 == 0) {
                char *m = k == PER_TRIAL ? xasprintf("%s/evaluation/metrics.json", dir)
                                         : xasprintf("%s/realtime_evaluations/lora_trial_%d-%06d/metrics.json",
                                                     dir, t, 2 * k);
                char *mdir = xstrndup(m, strlen(m) - strlen("/metrics.json"));
                sr_mkdir_p(mdir, 0755);
                const char *mj = "{\"metrics\": {\"mean_brightness\": 0.5, \"mean_contrast\": 0.2}}\n";
                if (sr_write_file_atomic(m, mj, strlen(mj), SR_ATOMIC_REPLACE) != 0)
                    die(m);
                free(mdir);
                free(m);
            }
            free(f);
        }
        free(json);
        free(params);
        free(dir);
    }

    double best = 1e9, total = 0;
    size_t n_ckpts = 0;
    for (int r = 0; r < RUNS; r++) {
        sr_sweep s;
        double t0 = now();
        if (sr_scan(sweep, &s, err, sizeof err) != 0) {
            fprintf(stderr, "bench_scan: %s\n", err);
            return 1;
        }
        double dt = now() - t0;
        n_ckpts = sr_sweep_count_checkpoints(&s);
        if (s.problems.n) {
            fprintf(stderr, "bench_scan: unexpected problem: %s: %s\n", s.problems.items[0].path,
                    s.problems.items[0].problem);
            return 1;
        }
        sr_sweep_free(&s);
        best = dt < best ? dt : best;
        total += dt;
    }
    printf("scan benchmark: %d trials, %zu checkpoints, header %zu bytes each (rank 16 SD1.5)\n", TRIALS, n_ckpts,
           hlen);
    printf("  %-28s %10s\n", "measure", "value");
    printf("  %-28s %8.1f ms\n", "best of 5 scans", best * 1e3);
    printf("  %-28s %8.1f ms\n", "mean of 5 scans", total / RUNS * 1e3);
    printf("  %-28s %8.1f us\n", "per checkpoint (best)", best * 1e6 / (double)n_ckpts);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
    if (system(cmd) != 0)
        return 1;
    free(header);
    free(ckpt);
    free(src);
    free(sweep);
    return 0;
}
