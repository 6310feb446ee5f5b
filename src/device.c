/* device.c - device selection and the CPU/GPU dispatchers. */
#include "config.h"

#include "device.h"
#include "kernels.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static void set_cpu(sr_device *d)
{
    memset(d, 0, sizeof *d);
    d->kind = SR_DEV_CPU;
    d->index = 0;
    snprintf(d->name, sizeof d->name, "cpu");
}

/* "cuda" -> 0, "cuda:N" -> N; -1 for anything else that starts "cuda". */
static int parse_cuda_index(const char *spec)
{
    if (strcmp(spec, "cuda") == 0)
        return 0;
    const char *p = spec + strlen("cuda");
    if (*p != ':' || p[1] < '0' || p[1] > '9')
        return -1;
    errno = 0;
    char *end;
    long v = strtol(p + 1, &end, 10);
    if (*end != '\0' || errno == ERANGE || v > 1000000)
        return -1;
    return (int)v;
}

int sr_device_select(const char *spec, sr_device *out, char *err, size_t errlen)
{
    if (!spec)
        spec = "auto";

    if (strcmp(spec, "cpu") == 0) {
        set_cpu(out);
        return 0;
    }

    int want = -1; /* CUDA ordinal asked for; -1 for auto */
    if (strcmp(spec, "auto") != 0) {
        if (strncmp(spec, "cuda", 4) != 0 || (want = parse_cuda_index(spec)) < 0) {
            set_err(err, errlen, "unknown device '%s' (expected auto, cpu, cuda or cuda:N)", spec);
            return -1;
        }
    }

#ifdef HAVE_CUDA
    int count = sr_cuda_device_count();
    if (want < 0) {
        sr_device d = {.kind = SR_DEV_CUDA, .index = 0};
        if (count > 0 && sr_cuda_device_name(0, d.name, sizeof d.name) == 0)
            *out = d;
        else
            set_cpu(out);
        return 0;
    }
    if (want >= count) {
        if (count == 0)
            set_err(err, errlen, "%s requested but no CUDA device found (no GPU or no driver)", spec);
        else
            set_err(err, errlen, "%s requested but %d CUDA device%s found", spec, count,
                    count == 1 ? "" : "s");
        return -1;
    }
    sr_device d = {.kind = SR_DEV_CUDA, .index = want};
    if (sr_cuda_device_name(want, d.name, sizeof d.name) != 0) {
        set_err(err, errlen, "%s: cannot query the CUDA device", spec);
        return -1;
    }
    *out = d;
    return 0;
#else
    if (want < 0) {
        set_cpu(out);
        return 0;
    }
    set_err(err, errlen, "%s requested but this build has no CUDA support", spec);
    return -1;
#endif
}

const char *sr_device_describe(const sr_device *d)
{
    static _Thread_local char buf[sizeof d->name + 32];
    if (!d || d->kind == SR_DEV_CPU)
        return "cpu";
    snprintf(buf, sizeof buf, "cuda:%d (%s)", d->index, d->name);
    return buf;
}

uint64_t sr_count_nonfinite_f16(const sr_device *d, const uint16_t *x, size_t n)
{
    if (d && d->kind == SR_DEV_CUDA) {
#ifdef HAVE_CUDA
        char err[256];
        uint64_t count;
        if (sr_cuda_count_nonfinite_f16(d->index, x, n, &count, err, sizeof err) == 0)
            return count;
        fprintf(stderr, "sweepreport: warning: cuda:%d: %s; counting on the CPU\n", d->index, err);
#else
        fprintf(stderr, "sweepreport: warning: this build has no CUDA support; counting on the CPU\n");
#endif
    }
    return sr_count_nonfinite_f16_cpu(x, n);
}
