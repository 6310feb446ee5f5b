/* device.h - which processors run the numeric kernels.
 *
 * The rest of the program picks its devices once (from --device or
 * similar) and then calls the dispatchers below, which use the GPU when one
 * was selected and the CPU twin otherwise.  Without CUDA support in the
 * build everything still works, on the CPU.
 *
 * A device spec names one device or a list of CUDA devices:
 *   "auto"        the first CUDA device when there is one, else the CPU
 *                 (NULL means "auto")
 *   "cpu"         the CPU
 *   "cuda"        CUDA device 0, which must exist
 *   "cuda:N"      CUDA device N (decimal), which must exist
 *   "cuda:N,M,…"  these CUDA devices (each listed once), which must exist
 *   "cuda:all"    every CUDA device; there must be at least one
 * Selection is two steps: sr_device_parse reads the spec without looking at
 * any hardware, sr_device_resolve checks it against the devices there are
 * (both pure, so that they can be tested anywhere); sr_device_select_list
 * and sr_device_select do both against the real hardware. */
#ifndef SR_DEVICE_H
#define SR_DEVICE_H

#include <stddef.h>
#include <stdint.h>

/* The most devices one spec may name. */
#define SR_DEVICE_MAX 64

typedef enum { SR_DEV_CPU, SR_DEV_CUDA } sr_device_kind;

typedef struct {
    sr_device_kind kind;
    int index;      /* CUDA device ordinal; 0 for the CPU */
    char name[128]; /* "NVIDIA H100 80GB HBM3"; "cpu" for the CPU */
} sr_device;

typedef enum {
    SR_DEVREQ_AUTO,     /* "auto" */
    SR_DEVREQ_CPU,      /* "cpu" */
    SR_DEVREQ_CUDA,     /* "cuda", "cuda:N", "cuda:N,M,…" */
    SR_DEVREQ_CUDA_ALL  /* "cuda:all" */
} sr_device_request_kind;

/* What a spec asks for, before any hardware is looked at. */
typedef struct {
    sr_device_request_kind kind;
    int n;                        /* SR_DEVREQ_CUDA: ordinals listed, in order */
    int ordinal[SR_DEVICE_MAX];
} sr_device_request;

/* Reads spec (NULL: "auto").  Returns 0 and fills *req, or -1 with a
 * one-line reason in err ("unknown device 'gpu' (expected ...)", "device
 * list 'cuda:1,1' names cuda:1 twice") and *req unchanged. */
int sr_device_parse(const char *spec, sr_device_request *req, char *err, size_t errlen);

/* Checks a request against the hardware: cuda_built says whether this build
 * has CUDA support, n_cuda how many CUDA devices there are.  On success
 * returns the number of CUDA ordinals written to ordinals[] (at most
 * SR_DEVICE_MAX), or 0 when the request resolves to the CPU.  On failure
 * returns -1 with a one-line reason in err naming spec and what exists
 * ("cuda:0,1 requested but 1 CUDA device found"). */
int sr_device_resolve(const char *spec, const sr_device_request *req, int cuda_built, int n_cuda, int *ordinals,
                      char *err, size_t errlen);

/* A selected set of devices: one CPU, or one or more CUDA devices. */
typedef struct {
    int n;
    sr_device dev[SR_DEVICE_MAX];
} sr_device_list;

/* Parses and resolves spec against the real hardware and names every
 * device.  Returns 0 and fills *out, or -1 with a one-line reason in err
 * and *out unchanged. */
int sr_device_select_list(const char *spec, sr_device_list *out, char *err, size_t errlen);

/* The single-device form: as sr_device_select_list, and a spec that
 * selects more than one device is an error ("cuda:0,1 selects 2 devices;
 * one is needed here").  Returns 0 and fills *out, or -1 with a one-line
 * reason in err (such as "cuda:1 requested but 1 CUDA device found") and
 * *out unchanged. */
int sr_device_select(const char *spec, sr_device *out, char *err, size_t errlen);

/* "cpu" or "cuda:0 (NVIDIA H100 80GB HBM3)".  The string lives in a
 * per-thread buffer, valid until the next call in the same thread. */
const char *sr_device_describe(const sr_device *d);

/* The whole list in buf (always NUL-terminated, cut to len): "cpu",
 * "cuda:0 (NVIDIA H100 80GB HBM3)", "cuda:0,1 (2 x NVIDIA H100 80GB HBM3)"
 * when the names agree, else "cuda:0 (A), cuda:1 (B)".  Returns buf. */
const char *sr_device_list_describe(const sr_device_list *l, char *buf, size_t len);

/* Number of binary16 NaN / +-Inf values in x[0..n), counted on d (NULL
 * means the CPU).  If the GPU fails, prints a one-line warning on stderr
 * and counts on the CPU instead: the result is always exact. */
uint64_t sr_count_nonfinite_f16(const sr_device *d, const uint16_t *x, size_t n);

#endif
