/* test_device.c - device specs: parsing, resolving against a given number
 * of CUDA devices, selecting on this machine's hardware, and describing a
 * list.  Parsing and resolving never look at hardware, so the multi-GPU
 * answers are tested here with made-up device counts. */
#include "config.h"

#include "check_main.h"
#include "device.h"
#include "kernels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cuda_devices(void)
{
#ifdef HAVE_CUDA
    return sr_cuda_device_count();
#else
    return 0;
#endif
}

#ifdef HAVE_CUDA
#define CUDA_BUILT 1
#else
#define CUDA_BUILT 0
#endif

START_TEST(test_parse_single)
{
    sr_device_request r;
    char err[256] = "";
    ck_assert_int_eq(sr_device_parse("auto", &r, err, sizeof err), 0);
    ck_assert_int_eq(r.kind, SR_DEVREQ_AUTO);
    ck_assert_int_eq(sr_device_parse(NULL, &r, err, sizeof err), 0);
    ck_assert_int_eq(r.kind, SR_DEVREQ_AUTO);
    ck_assert_int_eq(sr_device_parse("cpu", &r, err, sizeof err), 0);
    ck_assert_int_eq(r.kind, SR_DEVREQ_CPU);
    ck_assert_int_eq(sr_device_parse("cuda", &r, err, sizeof err), 0);
    ck_assert_int_eq(r.kind, SR_DEVREQ_CUDA);
    ck_assert_int_eq(r.n, 1);
    ck_assert_int_eq(r.ordinal[0], 0);
    ck_assert_int_eq(sr_device_parse("cuda:7", &r, err, sizeof err), 0);
    ck_assert_int_eq(r.kind, SR_DEVREQ_CUDA);
    ck_assert_int_eq(r.n, 1);
    ck_assert_int_eq(r.ordinal[0], 7);
    ck_assert_int_eq(sr_device_parse("cuda:all", &r, err, sizeof err), 0);
    ck_assert_int_eq(r.kind, SR_DEVREQ_CUDA_ALL);
    ck_assert_str_eq(err, "");
}
END_TEST

START_TEST(test_parse_list)
{
    sr_device_request r;
    char err[256] = "";
    ck_assert_int_eq(sr_device_parse("cuda:0,1", &r, err, sizeof err), 0);
    ck_assert_int_eq(r.kind, SR_DEVREQ_CUDA);
    ck_assert_int_eq(r.n, 2);
    ck_assert_int_eq(r.ordinal[0], 0);
    ck_assert_int_eq(r.ordinal[1], 1);
    /* the order given is kept */
    ck_assert_int_eq(sr_device_parse("cuda:3,0,12", &r, err, sizeof err), 0);
    ck_assert_int_eq(r.n, 3);
    ck_assert_int_eq(r.ordinal[0], 3);
    ck_assert_int_eq(r.ordinal[1], 0);
    ck_assert_int_eq(r.ordinal[2], 12);

    /* exactly SR_DEVICE_MAX devices, and one more */
    char spec[1024] = "cuda:";
    for (int i = 0; i < SR_DEVICE_MAX; i++)
        snprintf(spec + strlen(spec), sizeof spec - strlen(spec), "%s%d", i ? "," : "", i);
    ck_assert_int_eq(sr_device_parse(spec, &r, err, sizeof err), 0);
    ck_assert_int_eq(r.n, SR_DEVICE_MAX);
    ck_assert_int_eq(r.ordinal[SR_DEVICE_MAX - 1], SR_DEVICE_MAX - 1);
    snprintf(spec + strlen(spec), sizeof spec - strlen(spec), ",%d", SR_DEVICE_MAX);
    memset(&r, 0x5a, sizeof r);
    ck_assert_int_eq(sr_device_parse(spec, &r, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "names more than 64 devices") != NULL, "%s", err);
    ck_assert_int_eq(((unsigned char *)&r)[0], 0x5a);
}
END_TEST

START_TEST(test_parse_garbage)
{
    static const char *bad[] = {
        "",         "gpu",       "CPU",        "Auto",        " cpu",       "cpu ",       "cuda:",
        "cuda:-1",  "cuda:+1",   "cuda: 1",    "cuda:x",      "cuda:1x",    "cuda:0:1",   "cudax",
        "cuda0",    "cuda:0,",   "cuda:,0",    "cuda:0,,1",   "cuda:0, 1",  "cuda:0,x",   "cuda:all,0",
        "cuda:0,all", "cuda:ALL", "cuda:all ", "cpu,cuda:0",  "cuda:0;1",   "cuda:0,-1",  "cuda:1000001",
        "cuda:99999999999999999999", "cuda:0,1 ",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sr_device_request r;
        char err[256] = "";
        memset(&r, 0x5a, sizeof r);
        ck_assert_msg(sr_device_parse(bad[i], &r, err, sizeof err) == -1, "'%s' accepted", bad[i]);
        char want[128];
        snprintf(want, sizeof want, "unknown device '%s' (expected ", bad[i]);
        ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "'%s': %s", bad[i], err);
        ck_assert_int_eq(((unsigned char *)&r)[0], 0x5a);
    }
    sr_device_request r;
    ck_assert_int_eq(sr_device_parse("bogus", &r, NULL, 0), -1);
}
END_TEST

START_TEST(test_parse_twice)
{
    sr_device_request r;
    char err[256] = "";
    ck_assert_int_eq(sr_device_parse("cuda:1,0,1", &r, err, sizeof err), -1);
    ck_assert_str_eq(err, "device list 'cuda:1,0,1' names cuda:1 twice");
    ck_assert_int_eq(sr_device_parse("cuda:2,02", &r, err, sizeof err), -1);
    ck_assert_str_eq(err, "device list 'cuda:2,02' names cuda:2 twice");
}
END_TEST

/* resolve(spec) against a made-up machine: the ordinals, or -1 and err. */
static int resolve(const char *spec, int built, int count, int *ord, char *err, size_t errlen)
{
    sr_device_request r;
    ck_assert_msg(sr_device_parse(spec, &r, err, errlen) == 0, "%s: %s", spec, err);
    err[0] = '\0';
    return sr_device_resolve(spec, &r, built, count, ord, err, errlen);
}

START_TEST(test_resolve)
{
    int ord[SR_DEVICE_MAX];
    char err[256];
    /* the CPU, and auto: the first GPU or else the CPU */
    ck_assert_int_eq(resolve("cpu", 1, 4, ord, err, sizeof err), 0);
    ck_assert_int_eq(resolve("auto", 0, 0, ord, err, sizeof err), 0);
    ck_assert_int_eq(resolve("auto", 1, 0, ord, err, sizeof err), 0);
    ck_assert_int_eq(resolve("auto", 1, 3, ord, err, sizeof err), 1);
    ck_assert_int_eq(ord[0], 0);

    /* lists */
    ck_assert_int_eq(resolve("cuda:0,1", 1, 2, ord, err, sizeof err), 2);
    ck_assert_int_eq(ord[0], 0);
    ck_assert_int_eq(ord[1], 1);
    ck_assert_int_eq(resolve("cuda:3,1", 1, 4, ord, err, sizeof err), 2);
    ck_assert_int_eq(ord[0], 3);
    ck_assert_int_eq(ord[1], 1);
    ck_assert_int_eq(resolve("cuda:2", 1, 3, ord, err, sizeof err), 1);
    ck_assert_int_eq(ord[0], 2);

    /* all: every device, at most SR_DEVICE_MAX */
    ck_assert_int_eq(resolve("cuda:all", 1, 1, ord, err, sizeof err), 1);
    ck_assert_int_eq(ord[0], 0);
    ck_assert_int_eq(resolve("cuda:all", 1, 8, ord, err, sizeof err), 8);
    for (int i = 0; i < 8; i++)
        ck_assert_int_eq(ord[i], i);
    ck_assert_int_eq(resolve("cuda:all", 1, 100, ord, err, sizeof err), SR_DEVICE_MAX);
    ck_assert_int_eq(ord[SR_DEVICE_MAX - 1], SR_DEVICE_MAX - 1);
}
END_TEST

START_TEST(test_resolve_errors)
{
    int ord[SR_DEVICE_MAX];
    char err[256];
    ck_assert_int_eq(resolve("cuda:0,1", 1, 1, ord, err, sizeof err), -1);
    ck_assert_str_eq(err, "cuda:0,1 requested but 1 CUDA device found");
    ck_assert_int_eq(resolve("cuda:0,5,1", 1, 4, ord, err, sizeof err), -1);
    ck_assert_str_eq(err, "cuda:0,5,1 requested but 4 CUDA devices found");
    ck_assert_int_eq(resolve("cuda:1", 1, 1, ord, err, sizeof err), -1);
    ck_assert_str_eq(err, "cuda:1 requested but 1 CUDA device found");
    ck_assert_int_eq(resolve("cuda:0,1", 1, 0, ord, err, sizeof err), -1);
    ck_assert_str_eq(err, "cuda:0,1 requested but no CUDA device found (no GPU or no driver)");
    ck_assert_int_eq(resolve("cuda:all", 1, 0, ord, err, sizeof err), -1);
    ck_assert_str_eq(err, "cuda:all requested but no CUDA device found (no GPU or no driver)");
    ck_assert_int_eq(resolve("cuda:all", 0, 0, ord, err, sizeof err), -1);
    ck_assert_str_eq(err, "cuda:all requested but this build has no CUDA support");
    ck_assert_int_eq(resolve("cuda:0,1", 0, 0, ord, err, sizeof err), -1);
    ck_assert_str_eq(err, "cuda:0,1 requested but this build has no CUDA support");
    ck_assert_int_eq(resolve("cuda", 0, 0, ord, err, sizeof err), -1);
    ck_assert_str_eq(err, "cuda requested but this build has no CUDA support");
}
END_TEST

/* On this machine's real hardware. */
START_TEST(test_select_list_here)
{
    int ndev = cuda_devices();
    sr_device_list l;
    char err[256] = "";
    ck_assert_int_eq(sr_device_select_list("cpu", &l, err, sizeof err), 0);
    ck_assert_int_eq(l.n, 1);
    ck_assert_int_eq(l.dev[0].kind, SR_DEV_CPU);
    ck_assert_int_eq(sr_device_select_list("auto", &l, err, sizeof err), 0);
    ck_assert_int_eq(l.n, 1);
    ck_assert_int_eq(l.dev[0].kind, ndev > 0 ? SR_DEV_CUDA : SR_DEV_CPU);

    /* a list one longer than what is here never resolves; *out stays as it was */
    char spec[64];
    snprintf(spec, sizeof spec, "cuda:0,%d", ndev > 0 ? ndev : 1);
    memset(&l, 0x5a, sizeof l);
    ck_assert_int_eq(sr_device_select_list(spec, &l, err, sizeof err), -1);
    ck_assert_int_eq(((unsigned char *)&l)[0], 0x5a);
    char want[160];
    if (!CUDA_BUILT)
        snprintf(want, sizeof want, "%s requested but this build has no CUDA support", spec);
    else if (ndev == 0)
        snprintf(want, sizeof want, "%s requested but no CUDA device found (no GPU or no driver)", spec);
    else
        snprintf(want, sizeof want, "%s requested but %d CUDA device%s found", spec, ndev, ndev == 1 ? "" : "s");
    ck_assert_str_eq(err, want);

    /* all: every device there is, named */
    int rc = sr_device_select_list("cuda:all", &l, err, sizeof err);
    if (ndev == 0) {
        ck_assert_int_eq(rc, -1);
        ck_assert_msg(strncmp(err, "cuda:all requested but ", 23) == 0, "%s", err);
    } else {
        ck_assert_int_eq(rc, 0);
        ck_assert_int_eq(l.n, ndev < SR_DEVICE_MAX ? ndev : SR_DEVICE_MAX);
        for (int i = 0; i < l.n; i++) {
            ck_assert_int_eq(l.dev[i].kind, SR_DEV_CUDA);
            ck_assert_int_eq(l.dev[i].index, i);
            ck_assert(l.dev[i].name[0] != '\0');
        }
    }
    printf("# %d CUDA device%s here (%s build)\n", ndev, ndev == 1 ? "" : "s", CUDA_BUILT ? "CUDA" : "CPU-only");
    fflush(stdout);
}
END_TEST

/* The single-device form keeps its old answers and refuses a list of two. */
START_TEST(test_select_single)
{
    int ndev = cuda_devices();
    sr_device d;
    char err[256] = "";
    ck_assert_int_eq(sr_device_select("cpu", &d, err, sizeof err), 0);
    ck_assert_int_eq(d.kind, SR_DEV_CPU);
    ck_assert_str_eq(d.name, "cpu");
    memset(&d, 0x5a, sizeof d);
    int rc = sr_device_select("cuda:0,1", &d, err, sizeof err);
    ck_assert_int_eq(rc, -1);
    ck_assert_int_eq(((unsigned char *)&d)[0], 0x5a);
    if (ndev >= 2)
        ck_assert_str_eq(err, "cuda:0,1 selects 2 devices; one is needed here");
    else
        ck_assert_msg(strncmp(err, "cuda:0,1 requested but ", 23) == 0, "%s", err);
    rc = sr_device_select("cuda:all", &d, err, sizeof err);
    if (ndev == 1) {
        ck_assert_int_eq(rc, 0);
        ck_assert_int_eq(d.index, 0);
    } else {
        ck_assert_int_eq(rc, -1);
        ck_assert_msg(strstr(err, ndev == 0 ? "cuda:all requested but " : "one is needed here") != NULL, "%s", err);
    }
}
END_TEST

static sr_device cuda_dev(int index, const char *name)
{
    sr_device d;
    memset(&d, 0, sizeof d);
    d.kind = SR_DEV_CUDA;
    d.index = index;
    snprintf(d.name, sizeof d.name, "%s", name);
    return d;
}

START_TEST(test_list_describe)
{
    static sr_device_list l;
    char buf[256];
    memset(&l, 0, sizeof l);
    ck_assert_str_eq(sr_device_list_describe(NULL, buf, sizeof buf), "cpu");
    l.n = 1;
    ck_assert_int_eq(sr_device_select("cpu", &l.dev[0], NULL, 0), 0);
    ck_assert_str_eq(sr_device_list_describe(&l, buf, sizeof buf), "cpu");
    l.dev[0] = cuda_dev(2, "NVIDIA H100 80GB HBM3");
    ck_assert_str_eq(sr_device_list_describe(&l, buf, sizeof buf), "cuda:2 (NVIDIA H100 80GB HBM3)");
    l.n = 3;
    l.dev[1] = cuda_dev(0, "NVIDIA H100 80GB HBM3");
    l.dev[2] = cuda_dev(5, "NVIDIA H100 80GB HBM3");
    ck_assert_str_eq(sr_device_list_describe(&l, buf, sizeof buf), "cuda:2,0,5 (3 x NVIDIA H100 80GB HBM3)");
    l.n = 2;
    l.dev[1] = cuda_dev(1, "NVIDIA A100-SXM4-40GB");
    ck_assert_str_eq(sr_device_list_describe(&l, buf, sizeof buf),
                     "cuda:2 (NVIDIA H100 80GB HBM3), cuda:1 (NVIDIA A100-SXM4-40GB)");
    /* cut to the buffer, always terminated */
    char small[12];
    memset(small, 'x', sizeof small);
    ck_assert_str_eq(sr_device_list_describe(&l, small, sizeof small), "cuda:2 (NVI");
    /* a long list fits a long buffer */
    l.n = SR_DEVICE_MAX;
    for (int i = 0; i < SR_DEVICE_MAX; i++)
        l.dev[i] = cuda_dev(i, "NVIDIA H100 80GB HBM3");
    char big[512];
    sr_device_list_describe(&l, big, sizeof big);
    ck_assert_msg(strstr(big, ",63 (64 x NVIDIA H100 80GB HBM3)") != NULL, "%s", big);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("device");
    TCase *tc = tcase_create("specs");
    tcase_add_test(tc, test_parse_single);
    tcase_add_test(tc, test_parse_list);
    tcase_add_test(tc, test_parse_garbage);
    tcase_add_test(tc, test_parse_twice);
    tcase_add_test(tc, test_resolve);
    tcase_add_test(tc, test_resolve_errors);
    tcase_add_test(tc, test_list_describe);
    suite_add_tcase(s, tc);
    tc = tcase_create("hardware");
    tcase_add_test(tc, test_select_list_here);
    tcase_add_test(tc, test_select_single);
    suite_add_tcase(s, tc);
    return s;
}
