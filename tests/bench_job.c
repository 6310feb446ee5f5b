/* bench_job.c - the whole job, timed: `sweepreport run` on a synthetic sweep
 * of 12 trials x 6 checkpoints x 8 samples of 512 px, against the floor of
 * the same work on this machine.
 *
 * The floor is what no implementation can beat here: a bare libpng decode
 * of every sample on all cores, plus reading every checkpoint once (also on
 * all cores).  Against it: the cold run (nothing measured yet, default
 * profile) and its two stages apart (eval on a fresh copy, render --force
 * on the measured one), a rerun with nothing changed, the peak RSS of the cold run
 * (wait4 on the child), and the cold run on a sweep of 4x the trials, whose
 * time should be 4x.
 *
 * The sweeps are written once by the program itself (`sweepreport synth`)
 * and kept under tests/tmp/bench_job/ (or $SR_BENCH_DIR) for later runs;
 * every timed run works on a fresh hard-linked copy, which sweepreport
 * cannot tell from the original because it never modifies a file it did
 * not write.  The page cache is not dropped (that needs root): every file
 * is read once before timing, so all runs read from memory.
 *
 * The program is $SR_BIN, else ./sweepreport, else ../sweepreport beside
 * this program's folder.  Each run is repeated BENCH_REPEAT times
 * (default 2) and the best time is kept. */
#include "config.h"

#include "atomic_file.h"
#include "png_io.h"
#include "scan.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define SMALL_TRIALS 12
#define LARGE_TRIALS 48

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bench_job: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

static char *bin;     /* the sweepreport program */
static char *workdir; /* sweeps and copies */

static char *find_bin(const char *argv0)
{
    const char *env = getenv("SR_BIN");
    char *cand = NULL;
    if (env && *env) {
        cand = xstrdup(env);
    } else if (access("./sweepreport", X_OK) == 0) {
        cand = xstrdup("./sweepreport");
    } else {
        const char *slash = strrchr(argv0, '/');
        cand = slash ? xasprintf("%.*s/../sweepreport", (int)(slash - argv0), argv0) : xstrdup("../sweepreport");
    }
    char *abs = realpath(cand, NULL);
    if (!abs || access(abs, X_OK) != 0)
        die("no sweepreport program at %s (set SR_BIN)", cand);
    free(cand);
    return abs;
}

/* ---- child processes --------------------------------------------------------- */

typedef struct {
    double wall;    /* seconds */
    long maxrss_kb; /* peak resident set of the child */
} run_result;

/* Runs argv (argv[0] = the program) with stdout and stderr to log, stdin
 * from /dev/null; exits the benchmark when it fails. */
static run_result spawn(char *const argv[], const char *log)
{
    fflush(NULL);
    double t0 = now();
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd < 0 || in < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0 || dup2(in, 0) < 0)
            _exit(126);
        execv(argv[0], argv);
        _exit(127);
    }
    int st;
    struct rusage ru;
    if (wait4(pid, &st, 0, &ru) != pid)
        die("wait4: %s", strerror(errno));
    run_result r = {now() - t0, ru.ru_maxrss};
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "bench_job: %s %s %s failed (status %d); its output is in %s\n", argv[0], argv[1],
                argv[2] ? argv[2] : "", WIFEXITED(st) ? WEXITSTATUS(st) : -1, log);
        exit(1);
    }
    return r;
}

/* ---- the sweeps -------------------------------------------------------------- */

/* The sweep of `trials` trials, written by synth unless a complete one is
 * there from an earlier run. */
static char *sweep_of(int trials)
{
    char *dir = xasprintf("%s/sweep-%d", workdir, trials);
    char *mark = xasprintf("%s.complete", dir);
    char n[16];
    snprintf(n, sizeof n, "%d", trials);
    char *const argv[] = {bin,  "synth",   "--trials", n,     "--epochs", "12", "--save-every", "2", "--samples",
                          "8",  "--size",  "512",      "--rank", "16",    dir,  NULL};
    if (access(mark, F_OK) != 0) {
        sr_remove_tree(dir);
        char *log = xasprintf("%s/synth-%d.log", workdir, trials);
        printf("writing the %d-trial sweep: sweepreport synth --trials %d --epochs 12 --save-every 2 --samples 8 "
               "--size 512 --rank 16\n",
               trials, trials);
        run_result r = spawn(argv, log);
        printf("  (%.0f s)\n", r.wall);
        if (sr_write_file_atomic(mark, "", 0, SR_ATOMIC_REPLACE) != 0)
            die("cannot write %s", mark);
        free(log);
    }
    free(mark);
    return dir;
}

/* A hard-linked copy of a sweep: new folders, the same files. */
static const char *copy_from, *copy_to;

static int link_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    char *to = xasprintf("%s%s", copy_to, path + strlen(copy_from));
    int rc = 0;
    if (flag == FTW_D)
        rc = mkdir(to, 0755);
    else if (flag == FTW_F)
        rc = link(path, to);
    if (rc != 0)
        die("cannot copy into %s", to);
    free(to);
    return 0;
}

static char *fresh_copy(const char *sweep, const char *name)
{
    char *to = xasprintf("%s/%s", workdir, name);
    sr_remove_tree(to);
    copy_from = sweep;
    copy_to = to;
    if (nftw(sweep, link_entry, 32, FTW_PHYS) != 0)
        die("cannot copy %s", sweep);
    return to;
}

/* Reads every file under a folder once, so that the timed runs find them
 * in the page cache. */
static uint64_t warm_bytes;

static int warm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag != FTW_F)
        return 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    static char buf[1 << 20];
    ssize_t k;
    while ((k = read(fd, buf, sizeof buf)) > 0)
        warm_bytes += (uint64_t)k;
    close(fd);
    return 0;
}

/* ---- the floor ------------------------------------------------------------------ */

typedef struct {
    char **samples; /* absolute paths of every checkpoint's samples */
    size_t n_samples;
    char **ckpts;   /* every checkpoint file */
    size_t n_ckpts;
    uint64_t ckpt_bytes;
    int side;       /* of the first sample */
} work_list;

static void list_work(const char *sweep, work_list *w)
{
    memset(w, 0, sizeof *w);
    sr_sweep s;
    char err[512];
    if (sr_scan(sweep, &s, err, sizeof err) != 0)
        die("scan: %s", err);
    for (size_t i = 0; i < s.n_trials; i++)
        for (size_t j = 0; j < s.trials[i].n_ckpts; j++) {
            const sr_checkpoint *c = &s.trials[i].ckpts[j];
            w->ckpts = xrealloc(w->ckpts, (w->n_ckpts + 1) * sizeof *w->ckpts);
            w->ckpts[w->n_ckpts++] = xstrdup(c->path);
            w->ckpt_bytes += c->size;
            if (c->status != SR_CKPT_OK)
                continue;
            for (size_t k = 0; k < c->n_samples; k++) {
                w->samples = xrealloc(w->samples, (w->n_samples + 1) * sizeof *w->samples);
                w->samples[w->n_samples++] = sr_path_join(s.trials[i].path, c->samples[k]);
            }
        }
    sr_sweep_free(&s);
}

static void free_work(work_list *w)
{
    for (size_t i = 0; i < w->n_samples; i++)
        free(w->samples[i]);
    for (size_t i = 0; i < w->n_ckpts; i++)
        free(w->ckpts[i]);
    free(w->samples);
    free(w->ckpts);
}

static double floor_decode(work_list *w)
{
    int failed = 0, side = 0;
    double t0 = now();
#pragma omp parallel for schedule(dynamic, 1) reduction(+ : failed) reduction(max : side)
    for (long i = 0; i < (long)w->n_samples; i++) {
        uint8_t *rgb;
        int width, height;
        char err[256];
        if (sr_png_read_rgb8(w->samples[i], &rgb, &width, &height, err, sizeof err) != 0) {
            failed++;
            continue;
        }
        side = width > side ? width : side;
        free(rgb);
    }
    double t = now() - t0;
    if (failed)
        die("some samples could not be decoded");
    w->side = side;
    return t;
}

static double floor_read(const work_list *w)
{
    uint64_t total = 0;
    double t0 = now();
#pragma omp parallel reduction(+ : total)
    {
        char *buf = xmalloc(1 << 20);
#pragma omp for schedule(dynamic, 1)
        for (long i = 0; i < (long)w->n_ckpts; i++) {
            int fd = open(w->ckpts[i], O_RDONLY | O_CLOEXEC);
            if (fd < 0)
                continue;
            ssize_t k;
            while ((k = read(fd, buf, 1 << 20)) > 0)
                total += (uint64_t)k;
            close(fd);
        }
        free(buf);
    }
    double t = now() - t0;
    if (total != w->ckpt_bytes)
        die("the checkpoints could not all be read");
    return t;
}

/* ---- the runs ------------------------------------------------------------------- */

static double min_d(double a, double b)
{
    return a < b ? a : b;
}

static run_result cold(const char *sweep, const char *cmd, int repeat, char **kept)
{
    run_result best = {1e300, 0};
    for (int r = 0; r < repeat; r++) {
        char *copy = fresh_copy(sweep, kept && r == repeat - 1 ? "kept" : "cold");
        char *log = xasprintf("%s/%s-%d.log", workdir, cmd, r);
        char *const argv[] = {bin, (char *)cmd, copy, NULL};
        run_result x = spawn(argv, log);
        best.wall = min_d(best.wall, x.wall);
        best.maxrss_kb = x.maxrss_kb > best.maxrss_kb ? x.maxrss_kb : best.maxrss_kb;
        free(log);
        if (kept && r == repeat - 1) {
            *kept = copy;
        } else {
            sr_remove_tree(copy);
            free(copy);
        }
    }
    return best;
}

static const char *verdict(int ok)
{
    return ok ? "ok" : "MISSED";
}

int main(int argc, char **argv)
{
    (void)argc;
    bin = find_bin(argv[0]);
    const char *wd = getenv("SR_BENCH_DIR");
    struct stat st;
    if (wd && *wd)
        workdir = xstrdup(wd);
    else if (stat("tests", &st) == 0 && S_ISDIR(st.st_mode))
        workdir = xstrdup("tests/tmp/bench_job");
    else
        workdir = xstrdup("/tmp/sweepreport-bench_job");
    if (sr_mkdir_p(workdir, 0755) != 0)
        die("cannot create %s", workdir);
    char *abs = realpath(workdir, NULL);
    free(workdir);
    workdir = abs;
    int repeat = 2;
    const char *rep = getenv("BENCH_REPEAT");
    if (rep && atoi(rep) > 0)
        repeat = atoi(rep);
    int cores = 1;
#ifdef _OPENMP
    cores = omp_get_max_threads();
#endif

    printf("bench_job: the whole job (sweepreport run), program %s\n", bin);
    char *small = sweep_of(SMALL_TRIALS);
    char *large = sweep_of(LARGE_TRIALS);

    /* everything once, so that every run below reads from the page cache */
    nftw(small, warm_entry, 32, FTW_PHYS);
    nftw(large, warm_entry, 32, FTW_PHYS);

    work_list ws, wl;
    list_work(small, &ws);
    list_work(large, &wl);

    double t_decode = 1e300, t_read = 1e300;
    for (int r = 0; r < repeat + 1; r++) {
        t_decode = min_d(t_decode, floor_decode(&ws));
        t_read = min_d(t_read, floor_read(&ws));
    }
    double t_floor = t_decode + t_read;

    printf("timing: floor %.2f s; now the cold runs, reruns and the 48-trial runs\n", t_floor);
    char *kept = NULL;
    run_result c12 = cold(small, "run", repeat, &kept);
    run_result e12 = cold(small, "eval", repeat, NULL);
    run_result rerun = {1e300, 0};
    for (int r = 0; r < repeat; r++) {
        char *log = xasprintf("%s/rerun-%d.log", workdir, r);
        char *const args[] = {bin, "run", kept, NULL};
        run_result x = spawn(args, log);
        rerun.wall = min_d(rerun.wall, x.wall);
        free(log);
    }
    run_result render = {1e300, 0};
    for (int r = 0; r < repeat; r++) {
        char *log = xasprintf("%s/render-%d.log", workdir, r);
        char *const args[] = {bin, "render", "--force", kept, NULL};
        run_result x = spawn(args, log);
        render.wall = min_d(render.wall, x.wall);
        free(log);
    }
    sr_remove_tree(kept);
    free(kept);
    run_result c48 = cold(large, "run", repeat, NULL);

    double mb = 1024.0 * 1024.0;
    double ratio = c12.wall / t_floor, pct = 100.0 * rerun.wall / c12.wall, rss = (double)c12.maxrss_kb / 1024.0;
    double scale = c48.wall / c12.wall;
    printf("\n");
    printf("sweep: %d trials, %zu checkpoints (%.0f MB), %zu samples of %d px; the %d-trial sweep: %zu checkpoints "
           "(%.0f MB), %zu samples\n",
           SMALL_TRIALS, ws.n_ckpts, (double)ws.ckpt_bytes / mb, ws.n_samples, ws.side, LARGE_TRIALS, wl.n_ckpts,
           (double)wl.ckpt_bytes / mb, wl.n_samples);
    printf("page cache: not dropped; every file (%.0f MB) was read once before timing, so all runs read from "
           "memory\n",
           (double)warm_bytes / mb);
    double load[3] = {0, 0, 0};
    if (getloadavg(load, 3) < 1)
        load[0] = -1;
    printf("%d cores (OpenMP threads); best of %d runs each; load average at the end %.2f (other work on the "
           "machine slows every number)\n\n",
           cores, repeat, load[0]);
    char rel[64];
    printf("%-36s %12s  %-20s %-14s %s\n", "", "measured", "", "target", "");
    printf("%-36s %10.2f s\n", "floor: libpng decode of every sample", t_decode);
    printf("%-36s %10.2f s\n", "floor: read every checkpoint once", t_read);
    printf("%-36s %10.2f s\n", "floor", t_floor);
    snprintf(rel, sizeof rel, "%.2fx floor", ratio);
    printf("%-36s %10.2f s  %-20s %-14s %s\n", "cold run (default profile)", c12.wall, rel, "<= 1.5x floor",
           verdict(ratio <= 1.5));
    snprintf(rel, sizeof rel, "%.2fx floor", e12.wall / t_floor);
    printf("%-36s %10.2f s  %-20s\n", "  the same, eval alone", e12.wall, rel);
    snprintf(rel, sizeof rel, "%.2fx floor", render.wall / t_floor);
    printf("%-36s %10.2f s  %-20s\n", "  render alone (--force, measured)", render.wall, rel);
    snprintf(rel, sizeof rel, "%.1f %% of cold", pct);
    printf("%-36s %10.2f s  %-20s %-14s %s\n", "no-change rerun", rerun.wall, rel, "<= 5 %", verdict(pct <= 5.0));
    printf("%-36s %9.0f MB  %-20s %-14s %s\n", "peak RSS of the cold run", rss, "", "< 512 MB", verdict(rss < 512));
    snprintf(rel, sizeof rel, "%.2fx 12 trials", scale);
    printf("%-36s %10.2f s  %-20s %-14s %s\n", "cold run, 48 trials", c48.wall, rel, "4.0 +- 0.4",
           verdict(scale >= 3.6 && scale <= 4.4));
    snprintf(rel, sizeof rel, "%.2fx checkpoints", (double)wl.n_ckpts / (double)ws.n_ckpts);
    printf("%-36s %12s  %-20s (%.2fx samples)\n", "  the work of 48 trials", "", rel,
           (double)wl.n_samples / (double)ws.n_samples);
    free_work(&ws);
    free_work(&wl);
    free(small);
    free(large);
    free(workdir);
    free(bin);
    return 0;
}
