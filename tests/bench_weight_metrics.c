/* bench_weight_metrics.c - speed of the LoRA weight metrics: CPU twin vs GPU.
 *
 *   tests/bench_weight_metrics [REPS]     (best of REPS runs, default 5)
 *
 * Writes two synthetic SD1.5 checkpoints (src/synth_lora.h, F16) of rank 16
 * and of rank 64 into a scratch folder, reads each once so that the
 * measured runs read from the page cache, and reports per device, in GB/s
 * of checkpoint bytes:
 *   grams     the Gram kernel alone (sr_lora_gram_cpu / sr_cuda_lora_gram)
 *             on the checkpoint's D·Dᵀ and UᵀU jobs, data already in memory
 *   measure   sr_wm_load: read, Grams, norms, spectra, inspector numbers
 *   drift     sr_wm_drift against the previous checkpoint (cross Grams)
 *   trial     both, as a sweep pays them for each checkpoint after the first
 * The GPU rows are the whole calls as the program sees them (staging,
 * transfers, allocation).  Exits 1 if a device disagrees with the CPU. */
#include "config.h"

#include "device.h"
#include "kernels.h"
#include "lora_gram.h"
#include "safetensors.h"
#include "synth_lora.h"
#include "util.h"
#include "weight_metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifdef _OPENMP
#include <omp.h>
#endif

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Reads a file once, into the page cache. */
static int warm(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return -1;
    static char buf[1 << 16];
    while (fread(buf, 1, sizeof buf, fp) == sizeof buf)
        ;
    fclose(fp);
    return 0;
}

static uint64_t file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
}

typedef struct {
    double gram_s, measure_s, drift_s;
    double norm, erank, drift;
} result;

/* The Gd and Gu jobs of every module of a checkpoint (its bytes in *file). */
typedef struct {
    char *file;
    sr_lg_job *jobs;
    size_t n;
    double *out;
} gram_set;

static int gram_set_load(const char *path, gram_set *g)
{
    sr_safetensors st;
    char err[256];
    size_t len;
    memset(g, 0, sizeof *g);
    if (sr_st_read(path, &st) != 0)
        return -1;
    if (sr_read_file(path, (size_t)1 << 32, &g->file, &len, err, sizeof err) != 0) {
        sr_st_free(&st);
        return -1;
    }
    g->jobs = xcalloc(st.n_tensors + 1, sizeof *g->jobs);
    size_t nout = 0;
    for (size_t i = 0; i < st.n_tensors; i++) {
        const sr_st_tensor *t = &st.tensors[i];
        int down = sr_str_has_suffix(t->name, ".lora_down.weight");
        if (t->ndim < 2 || t->dtype != SR_DT_F16 || (!down && !sr_str_has_suffix(t->name, ".lora_up.weight")))
            continue;
        uint64_t n = 1;
        for (size_t k = 0; k < t->ndim; k++)
            n *= t->shape[k];
        sr_lg_job *j = &g->jobs[g->n++];
        j->a.data = g->file + st.data_start + t->begin;
        j->a.dtype = SR_LG_F16;
        j->a.rows = t->shape[0];
        j->a.cols = n / t->shape[0];
        j->rank_in_cols = !down;
        size_t r = (size_t)(down ? j->a.rows : j->a.cols);
        nout += r * r;
    }
    g->out = xmalloc((nout + 1) * sizeof *g->out);
    nout = 0;
    for (size_t i = 0; i < g->n; i++) {
        size_t r = (size_t)sr_lg_rank(&g->jobs[i].a, g->jobs[i].rank_in_cols);
        g->jobs[i].out = g->out + nout;
        nout += r * r;
    }
    sr_st_free(&st);
    return 0;
}

static void gram_set_free(gram_set *g)
{
    free(g->file);
    free(g->jobs);
    free(g->out);
}

/* Best time of the Gram jobs on dev (NULL: CPU twin); < 0 on failure. */
static double time_grams(const sr_device *dev, gram_set *g, int reps)
{
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double t = now_s();
        int rc;
#ifdef HAVE_CUDA
        char err[256] = "";
        rc = dev ? sr_cuda_lora_gram(dev->index, g->jobs, g->n, err, sizeof err) : sr_lora_gram_cpu(g->jobs, g->n);
        if (rc != 0)
            fprintf(stderr, "grams: %s\n", err[0] ? err : "failed");
#else
        (void)dev;
        rc = sr_lora_gram_cpu(g->jobs, g->n);
#endif
        t = now_s() - t;
        if (rc != 0)
            return -1;
        if (t < best)
            best = t;
    }
    return best;
}

/* Best times of REPS runs on dev (NULL: CPU); -1 when a run fails. */
static int run(const sr_device *dev, const char *p0, const char *p1, int reps, result *out)
{
    char err[256] = "";
    sr_wm_ckpt *c0 = NULL, *c1 = NULL;
    if (sr_wm_load(p0, dev, &c0, err, sizeof err) != SR_ST_OK) {
        fprintf(stderr, "%s: %s\n", p0, err);
        return -1;
    }
    out->measure_s = out->drift_s = 1e30;
    for (int r = 0; r < reps; r++) {
        double t = now_s();
        if (sr_wm_load(p1, dev, &c1, err, sizeof err) != SR_ST_OK) {
            fprintf(stderr, "%s: %s\n", p1, err);
            sr_wm_free(c0);
            return -1;
        }
        t = now_s() - t;
        if (t < out->measure_s)
            out->measure_s = t;
        t = now_s();
        if (sr_wm_drift(c1, c0, dev, &out->drift) != 0)
            out->drift = NAN;
        t = now_s() - t;
        if (t < out->drift_s)
            out->drift_s = t;
        out->norm = sr_wm_summary_of(c1)->delta_norm;
        out->erank = sr_wm_summary_of(c1)->effective_rank;
        if (r + 1 < reps)
            sr_wm_free(c1);
    }
    sr_wm_free(c0);
    sr_wm_free(c1);
    return 0;
}

static void row(const char *device, int rank, uint64_t bytes, const result *r)
{
    printf("%-40s %4d %8.1f %9.2f %9.2f %9.2f %9.2f %12.6g %8.4f %10.6g\n", device, rank, (double)bytes / 1e6,
           (double)bytes / r->gram_s / 1e9, (double)bytes / r->measure_s / 1e9, (double)bytes / r->drift_s / 1e9,
           (double)bytes / (r->measure_s + r->drift_s) / 1e9, r->norm, r->erank, r->drift);
}

static int agree(double a, double b, double tol)
{
    if (isnan(a) || isnan(b))
        return isnan(a) && isnan(b);
    return fabs(a - b) <= tol * fmax(fabs(a), fabs(b));
}

int main(int argc, char **argv)
{
    int reps = 5;
    if (argc > 1) {
        char *end;
        long v = strtol(argv[1], &end, 10);
        if (*end != '\0' || v < 1 || v > 1000) {
            fprintf(stderr, "usage: %s [REPS]   (runs per measurement, 1..1000)\n", argv[0]);
            return 2;
        }
        reps = (int)v;
    }
    char tmpl[] = "/tmp/sweepreport-bench-wm-XXXXXX";
    char *dir = mkdtemp(tmpl);
    if (!dir) {
        perror("mkdtemp");
        return 1;
    }
    int threads = 1;
#ifdef _OPENMP
    threads = omp_get_max_threads();
#endif
    printf("weight metrics: synthetic SD1.5 LoRA (F16, %d modules), best of %d, %d CPU thread%s\n",
           SR_LORA_SD15_MODULES, reps, threads, threads == 1 ? "" : "s");
    printf("%-40s %4s %8s %9s %9s %9s %9s %12s %8s %10s\n", "device", "rank", "MB", "grams", "measure", "drift",
           "trial", "delta norm", "erank", "drift");
    printf("%-40s %4s %8s %9s %9s %9s %9s\n", "", "", "", "GB/s", "GB/s", "GB/s", "GB/s");

    static const int ranks[] = {16, 64};
    int status = 0;
    for (size_t k = 0; k < sizeof ranks / sizeof ranks[0] && status == 0; k++) {
        char *p[2];
        for (int e = 0; e < 2; e++) {
            p[e] = xasprintf("%s/bench_r%d-%06d.safetensors", dir, ranks[k], e + 1);
            sr_lora_spec spec = {.rank = ranks[k], .alpha = ranks[k] / 2.0, .base_seed = 11,
                                 .noise_seed = (uint64_t)(e + 1), .up_scale = 0.5 + 0.25 * e, .up_noise = 0.05,
                                 .keep_fraction = 1.0};
            char err[256];
            if (sr_lora_write(p[e], &spec, err, sizeof err) != 0 || warm(p[e]) != 0) {
                fprintf(stderr, "%s\n", err);
                status = 1;
            }
        }
        uint64_t bytes = file_size(p[1]);
        result cpu = {0};
        gram_set gs;
        memset(&gs, 0, sizeof gs);
        if (status == 0 && gram_set_load(p[1], &gs) != 0)
            status = 1;
        if (status == 0 && ((cpu.gram_s = time_grams(NULL, &gs, reps)) < 0 || run(NULL, p[0], p[1], reps, &cpu) != 0))
            status = 1;
        if (status == 0)
            row("cpu", ranks[k], bytes, &cpu);

        sr_device d;
        char err[256] = "";
        if (status == 0 && sr_device_select("cuda", &d, err, sizeof err) != 0) {
            if (k == 0)
                printf("%-40s (skipped: %s)\n", "cuda", err);
        } else if (status == 0) {
            result gpu = {0};
            sr_wm_ckpt *warmup = NULL; /* creates the CUDA context */
            if (sr_wm_load(p[0], &d, &warmup, err, sizeof err) == SR_ST_OK)
                sr_wm_free(warmup);
            if ((gpu.gram_s = time_grams(&d, &gs, reps)) < 0 || run(&d, p[0], p[1], reps, &gpu) != 0) {
                status = 1;
            } else {
                row(sr_device_describe(&d), ranks[k], bytes, &gpu);
                if (!agree(gpu.norm, cpu.norm, 1e-9) || !agree(gpu.erank, cpu.erank, 1e-7) ||
                    !agree(gpu.drift, cpu.drift, 1e-7)) {
                    fprintf(stderr, "MISMATCH rank %d: gpu %.17g %.17g %.17g, cpu %.17g %.17g %.17g\n", ranks[k],
                            gpu.norm, gpu.erank, gpu.drift, cpu.norm, cpu.erank, cpu.drift);
                    status = 1;
                }
            }
        }
        gram_set_free(&gs);
        for (int e = 0; e < 2; e++) {
            unlink(p[e]);
            free(p[e]);
        }
    }
    rmdir(dir);
    return status;
}
