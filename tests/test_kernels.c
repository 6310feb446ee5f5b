/* test_kernels.c - the numeric kernels: CPU twins, device selection, and
 * GPU == CPU parity.
 *
 * GPU tests and Check's fork mode: the CUDA runtime must not be initialised
 * in a process that later forks, so make_suite() never calls into CUDA.
 * Each test that needs a GPU looks for one itself, inside the test body
 * (the forked child, or the only process under CK_FORK=no), and when there
 * is none -- no CUDA in this build, no driver, no device -- it prints
 * "# SKIP ..." (a TAP comment, kept in the log) and returns, which Check
 * counts as a pass.  So the suite is the same with or without a GPU and
 * passes in both fork modes; only the log says whether the GPU ran. */
#include "config.h"

#include "check_main.h"
#include "device.h"
#include "kernels.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* The obvious definition, for comparison. */
static uint64_t naive_count(const uint16_t *x, size_t n)
{
    uint64_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += (x[i] & 0x7c00u) == 0x7c00u;
    return c;
}

static uint16_t *random_halves(size_t n, uint64_t seed)
{
    uint16_t *x = xmalloc(n ? n * sizeof *x : 1);
    sr_rng rng;
    sr_rng_seed(&rng, seed);
    for (size_t i = 0; i < n; i++)
        x[i] = (uint16_t)(sr_rng_next(&rng) >> 48);
    return x;
}

/* ---------------------------------------------------------------------
 * CPU twin
 * ------------------------------------------------------------------- */

START_TEST(test_cpu_special_values)
{
    static const struct {
        uint16_t bits;
        int nonfinite;
        const char *what;
    } cases[] = {
        {0x0000, 0, "+0"},
        {0x8000, 0, "-0"},
        {0x0001, 0, "smallest subnormal"},
        {0x03ff, 0, "largest subnormal"},
        {0x8001, 0, "-smallest subnormal"},
        {0x83ff, 0, "-largest subnormal"},
        {0x0400, 0, "smallest normal"},
        {0x3c00, 0, "1.0"},
        {0xbc00, 0, "-1.0"},
        {0x7bff, 0, "max finite"},
        {0xfbff, 0, "-max finite"},
        {0x7c00, 1, "+Inf"},
        {0xfc00, 1, "-Inf"},
        {0x7e00, 1, "quiet NaN"},
        {0xfe00, 1, "-quiet NaN"},
        {0x7c01, 1, "signalling NaN (lowest payload)"},
        {0x7d00, 1, "signalling NaN"},
        {0xfc01, 1, "-signalling NaN"},
        {0x7fff, 1, "NaN, all payload bits"},
        {0xffff, 1, "-NaN, all payload bits"},
    };
    const size_t ncases = sizeof cases / sizeof cases[0];
    uint16_t all[sizeof cases / sizeof cases[0]];
    uint64_t expect = 0;

    for (size_t i = 0; i < ncases; i++) {
        uint16_t one = cases[i].bits;
        ck_assert_msg(sr_count_nonfinite_f16_cpu(&one, 1) == (uint64_t)cases[i].nonfinite,
                      "0x%04x (%s): expected %d", (unsigned)cases[i].bits, cases[i].what,
                      cases[i].nonfinite);
        all[i] = one;
        expect += (uint64_t)cases[i].nonfinite;
    }
    /* Together, long enough to take the multi-lane path. */
    ck_assert_uint_eq(sr_count_nonfinite_f16_cpu(all, ncases), expect);
    ck_assert_uint_eq(sr_count_nonfinite_f16_cpu(NULL, 0), 0);
}
END_TEST

START_TEST(test_cpu_exhaustive)
{
    /* Every bit pattern once: 2 signs x 1024 mantissas with exponent 31. */
    enum { N = 65536 };
    uint16_t *x = xmalloc((N + 16) * sizeof *x);
    for (size_t i = 0; i < N; i++)
        x[i] = (uint16_t)i;
    ck_assert_uint_eq(sr_count_nonfinite_f16_cpu(x, N), 2048);
    ck_assert_uint_eq(naive_count(x, N), 2048);

    /* The same values at every misalignment of the start. */
    for (size_t off = 1; off < 16; off++) {
        memmove(x + off, x + off - 1, N * sizeof *x);
        ck_assert_msg(sr_count_nonfinite_f16_cpu(x + off, N) == 2048, "offset %zu", off);
    }
    free(x);
}
END_TEST

START_TEST(test_cpu_lengths_and_offsets)
{
    /* Every short length at every start offset: lane blocks and the tail. */
    uint16_t *x = random_halves(1024, 42);
    for (size_t i = 0; i < 1024; i += 3)
        x[i] = (uint16_t)(0x7c00u | (x[i] & 0x83ffu)); /* plenty of non-finite values */
    for (size_t off = 0; off < 16; off++)
        for (size_t n = 0; off + n <= 1024 && n <= 300; n++)
            ck_assert_msg(sr_count_nonfinite_f16_cpu(x + off, n) == naive_count(x + off, n),
                          "offset %zu, n %zu", off, n);
    free(x);
}
END_TEST

START_TEST(test_cpu_no_counter_wrap)
{
    /* All +-Inf, longer than one batch of 16-bit lane counters. */
    const size_t n = (size_t)8 * 65535 * 2 + 13;
    uint16_t *x = xmalloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++)
        x[i] = (i & 1) ? 0xfc00 : 0x7c00;
    ck_assert_uint_eq(sr_count_nonfinite_f16_cpu(x, n), n);
    ck_assert_uint_eq(sr_count_nonfinite_f16_cpu(x + 1, n - 1), n - 1);
    x[n - 1] = 0x3c00;
    x[0] = 0x0000;
    ck_assert_uint_eq(sr_count_nonfinite_f16_cpu(x, n), n - 2);
    free(x);
}
END_TEST

START_TEST(test_cpu_random_large)
{
    const size_t n = ((size_t)1 << 20) + 5;
    uint16_t *x = random_halves(n, 7);
    ck_assert_uint_eq(sr_count_nonfinite_f16_cpu(x, n), naive_count(x, n));
    free(x);
}
END_TEST

/* ---------------------------------------------------------------------
 * Device selection
 * ------------------------------------------------------------------- */

static int cuda_devices(void)
{
#ifdef HAVE_CUDA
    return sr_cuda_device_count();
#else
    return 0;
#endif
}

START_TEST(test_select_cpu)
{
    sr_device d;
    char err[256] = "";
    ck_assert_int_eq(sr_device_select("cpu", &d, err, sizeof err), 0);
    ck_assert_int_eq(d.kind, SR_DEV_CPU);
    ck_assert_str_eq(sr_device_describe(&d), "cpu");
    ck_assert_str_eq(sr_device_describe(NULL), "cpu");
}
END_TEST

START_TEST(test_select_auto)
{
    /* The first CUDA device when there is one, else the CPU; never an error. */
    const char *specs[] = {"auto", NULL};
    int ndev = cuda_devices();
    for (size_t i = 0; i < 2; i++) {
        sr_device d;
        char err[256] = "";
        ck_assert_int_eq(sr_device_select(specs[i], &d, err, sizeof err), 0);
        if (ndev > 0) {
            ck_assert_int_eq(d.kind, SR_DEV_CUDA);
            ck_assert_int_eq(d.index, 0);
            ck_assert(d.name[0] != '\0');
            ck_assert(strncmp(sr_device_describe(&d), "cuda:0 (", 8) == 0);
        } else {
            ck_assert_int_eq(d.kind, SR_DEV_CPU);
            ck_assert_str_eq(sr_device_describe(&d), "cpu");
        }
    }
    printf("# auto selects %s\n", ndev > 0 ? "cuda:0" : "cpu (no CUDA device)");
    fflush(stdout);
}
END_TEST

START_TEST(test_select_cuda)
{
    int ndev = cuda_devices();
    char spec[32], err[256];
    sr_device d;

    /* One past the last device is never there; *out stays untouched. */
    snprintf(spec, sizeof spec, "cuda:%d", ndev);
    memset(&d, 0x5a, sizeof d);
    err[0] = '\0';
    ck_assert_int_eq(sr_device_select(spec, &d, err, sizeof err), -1);
    ck_assert_int_eq(((unsigned char *)&d)[0], 0x5a);
    ck_assert_msg(strstr(err, spec) != NULL, "error does not name '%s': %s", spec, err);
#ifdef HAVE_CUDA
    if (ndev == 0) {
        ck_assert_msg(strstr(err, "no CUDA device found") != NULL, "%s", err);
        ck_assert_int_eq(sr_device_select("cuda", &d, err, sizeof err), -1);
        ck_assert_str_eq(err, "cuda requested but no CUDA device found (no GPU or no driver)");
    } else {
        char expect[128];
        snprintf(expect, sizeof expect, "%s requested but %d CUDA device%s found", spec, ndev,
                 ndev == 1 ? "" : "s");
        ck_assert_str_eq(err, expect);
        ck_assert_int_eq(sr_device_select("cuda", &d, err, sizeof err), 0);
        ck_assert_int_eq(d.kind, SR_DEV_CUDA);
        ck_assert_int_eq(d.index, 0);
        snprintf(spec, sizeof spec, "cuda:%d", ndev - 1);
        ck_assert_int_eq(sr_device_select(spec, &d, err, sizeof err), 0);
        ck_assert_int_eq(d.index, ndev - 1);
        ck_assert(d.name[0] != '\0');
        char prefix[48];
        snprintf(prefix, sizeof prefix, "%s (", spec);
        ck_assert(strncmp(sr_device_describe(&d), prefix, strlen(prefix)) == 0);
    }
#else
    ck_assert_str_eq(err, "cuda:0 requested but this build has no CUDA support");
    ck_assert_int_eq(sr_device_select("cuda", &d, err, sizeof err), -1);
    ck_assert_str_eq(err, "cuda requested but this build has no CUDA support");
#endif
}
END_TEST

START_TEST(test_select_garbage)
{
    static const char *bad[] = {
        "", "gpu", "CPU", "Auto", " cpu", "cpu ", "cuda:", "cuda:-1", "cuda:+1", "cuda: 1",
        "cuda:x", "cuda:1x", "cuda:0:1", "cudax", "cuda0", "cuda:99999999999999999999",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sr_device d;
        char err[256] = "";
        memset(&d, 0x5a, sizeof d);
        ck_assert_msg(sr_device_select(bad[i], &d, err, sizeof err) == -1, "'%s' accepted", bad[i]);
        ck_assert_msg(strstr(err, "unknown device") != NULL, "'%s': %s", bad[i], err);
        ck_assert_int_eq(((unsigned char *)&d)[0], 0x5a);
    }
    /* A NULL error buffer is allowed. */
    sr_device d;
    ck_assert_int_eq(sr_device_select("bogus", &d, NULL, 0), -1);
}
END_TEST

START_TEST(test_dispatch_fallback)
{
    /* The CPU device, and a CUDA device that does not exist: the GPU call
     * fails (one warning on stderr) and the CPU twin answers. */
    const size_t n = 10007;
    uint16_t *x = random_halves(n, 99);
    uint64_t expect = naive_count(x, n);
    sr_device cpu, bogus;
    ck_assert_int_eq(sr_device_select("cpu", &cpu, NULL, 0), 0);
    ck_assert_uint_eq(sr_count_nonfinite_f16(&cpu, x, n), expect);
    ck_assert_uint_eq(sr_count_nonfinite_f16(NULL, x, n), expect);

    memset(&bogus, 0, sizeof bogus);
    bogus.kind = SR_DEV_CUDA;
    bogus.index = 4096;
    snprintf(bogus.name, sizeof bogus.name, "missing");
    ck_assert_uint_eq(sr_count_nonfinite_f16(&bogus, x, n), expect);
    free(x);
}
END_TEST

/* ---------------------------------------------------------------------
 * GPU (each test finds the GPU itself; see the top of the file)
 * ------------------------------------------------------------------- */

#ifdef HAVE_CUDA
#endif

START_TEST(test_gpu_error_reported)
{
#ifdef HAVE_CUDA
    /* Needs no GPU: a device that is not there must give -1 and a reason. */
    uint16_t x[3] = {0x7c00, 0, 0};
    uint64_t out = 12345;
    char err[256] = "";
    int dev = sr_cuda_device_count();
    ck_assert_int_eq(sr_cuda_count_nonfinite_f16(dev, x, 3, &out, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "count_nonfinite_f16.cu:") != NULL && strstr(err, "cudaSetDevice"),
                  "unexpected reason: %s", err);
    ck_assert_uint_eq(out, 12345);
    ck_assert_int_eq(sr_cuda_count_nonfinite_f16(0, NULL, 3, &out, err, sizeof err), -1);
    char name[64];
    ck_assert_int_eq(sr_cuda_device_name(dev, name, sizeof name), -1);
    ck_assert_int_eq(sr_cuda_device_name(-1, name, sizeof name), -1);
#else
    printf("# SKIP no CUDA device (this build has no CUDA support)\n");
    fflush(stdout);
#endif
}
END_TEST

START_TEST(test_gpu_parity)
{
#ifdef HAVE_CUDA
    if (!test_have_gpu())
        return;
    char name[128];
    ck_assert_int_eq(sr_cuda_device_name(0, name, sizeof name), 0);
    printf("# GPU parity on cuda:0 (%s)\n", name);

    /* 0, 1, odd, tails of every length, one block, many blocks, and enough
     * for every thread to go round the grid-stride loop several times. */
    static const size_t sizes[] = {
        0,    1,    2,     3,     7,           8,           9,           15,
        17,   255,  2048,  2049,  2055,        4093,        65536,       65537,
        99999, (size_t)1 << 20, ((size_t)1 << 20) + 3, 1000003, ((size_t)1 << 24) + 5,
    };
    const size_t nsizes = sizeof sizes / sizeof sizes[0];
    const size_t maxn = ((size_t)1 << 24) + 5;
    uint16_t *x = random_halves(maxn + 1, 2024);
    int mismatches = 0;

    for (int pass = 0; pass < 3; pass++) {
        if (pass == 2) /* all non-finite: every thread adds, every block commits */
            for (size_t i = 0; i <= maxn; i++)
                x[i] = (uint16_t)(0x7c00u | (x[i] & 0x83ffu));
        for (size_t s = 0; s < nsizes; s++) {
            const uint16_t *p = x + (pass == 1); /* pass 1: host data not 4-byte aligned */
            size_t n = sizes[s];
            uint64_t gpu = 0, cpu = sr_count_nonfinite_f16_cpu(p, n);
            char err[256] = "";
            int rc = sr_cuda_count_nonfinite_f16(0, p, n, &gpu, err, sizeof err);
            ck_assert_msg(rc == 0, "n=%zu: GPU count failed: %s", n, err);
            if (gpu != cpu && mismatches++ < 5)
                printf("# mismatch (pass %d) n=%zu: gpu %llu, cpu %llu\n", pass, n,
                       (unsigned long long)gpu, (unsigned long long)cpu);
        }
    }
    fflush(stdout);
    free(x);
    ck_assert_msg(mismatches == 0, "%d GPU/CPU mismatches (first ones above)", mismatches);

    /* The dispatcher on the selected GPU gives the same answer. */
    sr_device d;
    char err[256] = "";
    ck_assert_int_eq(sr_device_select("cuda:0", &d, err, sizeof err), 0);
    uint16_t small[5] = {0x7c00, 0x3c00, 0xfe00, 0x7bff, 0xfc01};
    ck_assert_uint_eq(sr_count_nonfinite_f16(&d, small, 5), 3);
#else
    printf("# SKIP no CUDA device (this build has no CUDA support)\n");
    fflush(stdout);
#endif
}
END_TEST

Suite *make_suite(void)
{
    /* No CUDA calls here: this runs in the parent before Check forks. */
    Suite *s = suite_create("kernels");

    TCase *tc = tcase_create("cpu");
    tcase_add_test(tc, test_cpu_special_values);
    tcase_add_test(tc, test_cpu_exhaustive);
    tcase_add_test(tc, test_cpu_lengths_and_offsets);
    tcase_add_test(tc, test_cpu_no_counter_wrap);
    tcase_add_test(tc, test_cpu_random_large);
    suite_add_tcase(s, tc);

    tc = tcase_create("device");
    tcase_set_timeout(tc, 60); /* CUDA runtime start-up can take seconds */
    tcase_add_test(tc, test_select_cpu);
    tcase_add_test(tc, test_select_auto);
    tcase_add_test(tc, test_select_cuda);
    tcase_add_test(tc, test_select_garbage);
    tcase_add_test(tc, test_dispatch_fallback);
    suite_add_tcase(s, tc);

    tc = tcase_create("gpu");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_gpu_error_reported);
    tcase_add_test(tc, test_gpu_parity);
    suite_add_tcase(s, tc);
    return s;
}
