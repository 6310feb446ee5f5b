/* device.c - device selection and the CPU/GPU dispatchers. */
#include "config.h"

#include "device.h"
#include "kernels.h"
#include "util.h"

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

/* ---- parsing -------------------------------------------------------------- */

#define SR_DEVICE_ORDINAL_MAX 1000000

int sr_device_parse(const char *spec, sr_device_request *req, char *err, size_t errlen)
{
    if (!spec)
        spec = "auto";
    sr_device_request r;
    memset(&r, 0, sizeof r);
    if (strcmp(spec, "auto") == 0) {
        r.kind = SR_DEVREQ_AUTO;
    } else if (strcmp(spec, "cpu") == 0) {
        r.kind = SR_DEVREQ_CPU;
    } else if (strcmp(spec, "cuda") == 0) {
        r.kind = SR_DEVREQ_CUDA;
        r.n = 1;
        r.ordinal[0] = 0;
    } else if (strcmp(spec, "cuda:all") == 0) {
        r.kind = SR_DEVREQ_CUDA_ALL;
    } else if (strncmp(spec, "cuda:", 5) == 0) {
        r.kind = SR_DEVREQ_CUDA;
        const char *p = spec + 5;
        for (;;) {
            /* a plain decimal number: no sign, no blank, nothing after it */
            if (*p < '0' || *p > '9')
                goto unknown;
            errno = 0;
            char *end;
            long v = strtol(p, &end, 10);
            if (errno == ERANGE || v > SR_DEVICE_ORDINAL_MAX || (*end != ',' && *end != '\0'))
                goto unknown;
            for (int i = 0; i < r.n; i++)
                if (r.ordinal[i] == (int)v) {
                    set_err(err, errlen, "device list '%s' names cuda:%ld twice", spec, v);
                    return -1;
                }
            if (r.n == SR_DEVICE_MAX) {
                set_err(err, errlen, "device list '%s' names more than %d devices", spec, SR_DEVICE_MAX);
                return -1;
            }
            r.ordinal[r.n++] = (int)v;
            if (*end == '\0')
                break;
            p = end + 1;
        }
    } else {
        goto unknown;
    }
    *req = r;
    return 0;
unknown:
    set_err(err, errlen, "unknown device '%s' (expected auto, cpu, cuda, cuda:N, cuda:N,M,... or cuda:all)", spec);
    return -1;
}

/* ---- resolving ------------------------------------------------------------ */

int sr_device_resolve(const char *spec, const sr_device_request *req, int cuda_built, int n_cuda, int *ordinals,
                      char *err, size_t errlen)
{
    if (!spec)
        spec = "auto";
    if (req->kind == SR_DEVREQ_CPU)
        return 0;
    if (req->kind == SR_DEVREQ_AUTO) {
        if (cuda_built && n_cuda > 0) {
            ordinals[0] = 0;
            return 1;
        }
        return 0;
    }
    if (!cuda_built) {
        set_err(err, errlen, "%s requested but this build has no CUDA support", spec);
        return -1;
    }
    if (n_cuda <= 0) {
        set_err(err, errlen, "%s requested but no CUDA device found (no GPU or no driver)", spec);
        return -1;
    }
    if (req->kind == SR_DEVREQ_CUDA_ALL) {
        int n = n_cuda < SR_DEVICE_MAX ? n_cuda : SR_DEVICE_MAX;
        for (int i = 0; i < n; i++)
            ordinals[i] = i;
        return n;
    }
    for (int i = 0; i < req->n; i++)
        if (req->ordinal[i] >= n_cuda) {
            set_err(err, errlen, "%s requested but %d CUDA device%s found", spec, n_cuda, n_cuda == 1 ? "" : "s");
            return -1;
        }
    memcpy(ordinals, req->ordinal, (size_t)req->n * sizeof *ordinals);
    return req->n;
}

/* ---- selecting ------------------------------------------------------------ */

int sr_device_select_list(const char *spec, sr_device_list *out, char *err, size_t errlen)
{
    if (!spec)
        spec = "auto";
    sr_device_request req;
    if (sr_device_parse(spec, &req, err, errlen) != 0)
        return -1;
    int cuda_built = 0, n_cuda = 0;
#ifdef HAVE_CUDA
    cuda_built = 1;
    if (req.kind != SR_DEVREQ_CPU)
        n_cuda = sr_cuda_device_count();
#endif
    int ordinals[SR_DEVICE_MAX];
    int n = sr_device_resolve(spec, &req, cuda_built, n_cuda, ordinals, err, errlen);
    if (n < 0)
        return -1;
    /* the list is large: filled in place only once it is complete */
    sr_device_list *l = calloc(1, sizeof *l);
    if (!l) {
        set_err(err, errlen, "%s: out of memory", spec);
        return -1;
    }
    l->n = n;
    for (int i = 0; i < n; i++) {
        sr_device *d = &l->dev[i];
        d->kind = SR_DEV_CUDA;
        d->index = ordinals[i];
#ifdef HAVE_CUDA
        if (sr_cuda_device_name(d->index, d->name, sizeof d->name) == 0)
            continue;
#endif
        if (req.kind == SR_DEVREQ_AUTO) {
            n = 0; /* auto falls back to the CPU */
            break;
        }
        set_err(err, errlen, "%s: cannot query CUDA device %d", spec, d->index);
        free(l);
        return -1;
    }
    if (n == 0) {
        l->n = 1;
        set_cpu(&l->dev[0]);
    }
    memcpy(out, l, sizeof *l);
    free(l);
    return 0;
}

int sr_device_select(const char *spec, sr_device *out, char *err, size_t errlen)
{
    sr_device_list *l = calloc(1, sizeof *l);
    if (!l) {
        set_err(err, errlen, "%s: out of memory", spec ? spec : "auto");
        return -1;
    }
    int rc = sr_device_select_list(spec, l, err, errlen);
    if (rc == 0 && l->n != 1) {
        set_err(err, errlen, "%s selects %d devices; one is needed here", spec, l->n);
        rc = -1;
    }
    if (rc == 0)
        *out = l->dev[0];
    free(l);
    return rc;
}

const char *sr_device_describe(const sr_device *d)
{
    static _Thread_local char buf[sizeof d->name + 32];
    if (!d || d->kind == SR_DEV_CPU)
        return "cpu";
    snprintf(buf, sizeof buf, "cuda:%d (%s)", d->index, d->name);
    return buf;
}

const char *sr_device_list_describe(const sr_device_list *l, char *buf, size_t len)
{
    if (!buf || len == 0)
        return buf;
    buf[0] = '\0';
    if (!l || l->n <= 1) {
        snprintf(buf, len, "%s", sr_device_describe(l && l->n == 1 ? &l->dev[0] : NULL));
        return buf;
    }
    int same = 1;
    for (int i = 1; i < l->n; i++)
        same &= l->dev[i].kind == l->dev[0].kind && strcmp(l->dev[i].name, l->dev[0].name) == 0;
    size_t used = 0;
#define APPEND(...)                                                                                                    \
    do {                                                                                                               \
        if (used < len) {                                                                                              \
            int k_ = snprintf(buf + used, len - used, __VA_ARGS__);                                                    \
            used += k_ > 0 ? (size_t)k_ : 0;                                                                           \
        }                                                                                                              \
    } while (0)
    if (same && l->dev[0].kind == SR_DEV_CUDA) {
        APPEND("cuda:");
        for (int i = 0; i < l->n; i++)
            APPEND("%s%d", i ? "," : "", l->dev[i].index);
        APPEND(" (%d x %s)", l->n, l->dev[0].name);
    } else {
        for (int i = 0; i < l->n; i++)
            APPEND("%s%s", i ? ", " : "", sr_device_describe(&l->dev[i]));
    }
#undef APPEND
    return buf;
}

uint64_t sr_count_nonfinite_f16(const sr_device *d, const uint16_t *x, size_t n)
{
    if (d && d->kind == SR_DEV_CUDA) {
#ifdef HAVE_CUDA
        char err[SR_MSG_MAX];
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
