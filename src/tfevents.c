/* tfevents.c - TFRecord framing, a bounds-checked protobuf subset, and the
 * scalar series of TensorBoard event files. */
#include "config.h"

#include "tfevents.h"
#include "crc32c.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HEADER_BYTES 12u /* u64 length + u32 masked CRC of it */
#define FOOTER_BYTES 4u  /* u32 masked CRC of the data */
#define READ_CHUNK (256u << 10)
#define MAX_DEPTH 16
#define EVENT_PREFIX "events.out.tfevents."

/* TensorFlow's DataType values for the scalar kinds read here. */
enum { DT_FLOAT = 1, DT_DOUBLE = 2, DT_BFLOAT16 = 14, DT_HALF = 19 };

/* Protobuf wire types. */
enum { WT_VARINT = 0, WT_FIXED64 = 1, WT_BYTES = 2, WT_FIXED32 = 5 };

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* ------------------------------------------------------------------------
 * Protobuf: a cursor over one message's bytes.  Every read checks bounds;
 * a failure leaves why set and returns -1.
 * ------------------------------------------------------------------------ */

typedef struct {
    const uint8_t *p, *end;
    const char *why;
} pb;

static void pb_init(pb *c, const uint8_t *p, size_t n)
{
    c->p = p;
    c->end = p + n;
    c->why = NULL;
}

static int pb_fail(pb *c, const char *why)
{
    if (!c->why)
        c->why = why;
    return -1;
}

static int pb_varint(pb *c, uint64_t *v)
{
    uint64_t x = 0;
    for (unsigned shift = 0; shift < 70; shift += 7) {
        if (c->p >= c->end)
            return pb_fail(c, "varint runs past the end");
        uint8_t b = *c->p++;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = x;
            return 0;
        }
    }
    return pb_fail(c, "varint longer than 10 bytes");
}

static int pb_fixed32(pb *c, uint32_t *v)
{
    if (c->end - c->p < 4)
        return pb_fail(c, "fixed32 runs past the end");
    *v = le32(c->p);
    c->p += 4;
    return 0;
}

static int pb_fixed64(pb *c, uint64_t *v)
{
    if (c->end - c->p < 8)
        return pb_fail(c, "fixed64 runs past the end");
    *v = le64(c->p);
    c->p += 8;
    return 0;
}

static int pb_bytes(pb *c, const uint8_t **data, size_t *n)
{
    uint64_t len;
    if (pb_varint(c, &len) != 0)
        return -1;
    if (len > (uint64_t)(c->end - c->p))
        return pb_fail(c, "length-delimited field runs past the end");
    *data = c->p;
    *n = (size_t)len;
    c->p += len;
    return 0;
}

/* Next key; 0 at the end of the message, 1 with field and wire type, -1. */
static int pb_key(pb *c, uint32_t *field, int *wt)
{
    if (c->p >= c->end)
        return 0;
    uint64_t key;
    if (pb_varint(c, &key) != 0)
        return -1;
    uint64_t f = key >> 3;
    *wt = (int)(key & 7);
    if (f == 0 || f > 0x1fffffff)
        return pb_fail(c, "bad field number");
    if (*wt != WT_VARINT && *wt != WT_FIXED64 && *wt != WT_BYTES && *wt != WT_FIXED32)
        return pb_fail(c, "unsupported wire type");
    *field = (uint32_t)f;
    return 1;
}

static int pb_skip(pb *c, int wt)
{
    uint64_t v;
    uint32_t v32;
    const uint8_t *d;
    size_t n;
    switch (wt) {
    case WT_VARINT:
        return pb_varint(c, &v);
    case WT_FIXED64:
        return pb_fixed64(c, &v);
    case WT_FIXED32:
        return pb_fixed32(c, &v32);
    default:
        return pb_bytes(c, &d, &n);
    }
}

static float f32_from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static double f64_from_bits(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

/* IEEE half precision to float, subnormals, infinities and NaN included. */
static float f16_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t man = h & 0x3ff;
    uint32_t u;
    if (exp == 0x1f) {
        u = sign | 0x7f800000u | (man << 13);
    } else if (exp != 0) {
        u = sign | ((exp + 112) << 23) | (man << 13);
    } else if (man == 0) {
        u = sign;
    } else {
        /* Subnormal: normalise the mantissa. */
        int e = -1;
        do {
            man <<= 1;
            e++;
        } while (!(man & 0x400));
        u = sign | ((uint32_t)(112 - e) << 23) | ((man & 0x3ff) << 13);
    }
    return f32_from_bits(u);
}

static float bf16_to_float(uint16_t b)
{
    return f32_from_bits((uint32_t)b << 16);
}

/* ------------------------------------------------------------------------
 * TensorProto > TensorShapeProto > Dim
 * ------------------------------------------------------------------------ */

/* 1 when the shape holds exactly one element (rank 0, or all dims 1), 0 when
 * not (or the rank is unknown), -1 malformed. */
static int parse_shape(const uint8_t *d, size_t n, const char **why)
{
    pb c;
    pb_init(&c, d, n);
    int one = 1, k;
    uint32_t f;
    int wt;
    while ((k = pb_key(&c, &f, &wt)) > 0) {
        if (f == 2 && wt == WT_BYTES) {
            const uint8_t *dd;
            size_t dn;
            if (pb_bytes(&c, &dd, &dn) != 0)
                break;
            pb dim;
            pb_init(&dim, dd, dn);
            uint32_t df;
            int dwt, dk;
            uint64_t size = 0; /* proto3: an absent size is 0 */
            while ((dk = pb_key(&dim, &df, &dwt)) > 0) {
                if (df == 1 && dwt == WT_VARINT) {
                    if (pb_varint(&dim, &size) != 0)
                        break;
                } else if (df == 1 || pb_skip(&dim, dwt) != 0) {
                    pb_fail(&dim, "bad tensor dimension");
                    break;
                }
            }
            if (dim.why) {
                *why = dim.why;
                return -1;
            }
            if (size != 1)
                one = 0;
        } else if (f == 3 && wt == WT_VARINT) {
            uint64_t unknown;
            if (pb_varint(&c, &unknown) != 0)
                break;
            if (unknown)
                one = 0;
        } else if (f == 2 || f == 3) {
            pb_fail(&c, "bad tensor shape field");
            break;
        } else if (pb_skip(&c, wt) != 0) {
            break;
        }
    }
    if (k < 0 || c.why) {
        *why = c.why;
        return -1;
    }
    return one;
}

/* The single value of a scalar tensor: 1 with *out set, 0 when the tensor is
 * not a one-element float tensor, -1 malformed. */
static int parse_tensor(const uint8_t *d, size_t n, double *out, const char **why)
{
    pb c;
    pb_init(&c, d, n);
    uint64_t dtype = 0;
    int one = 1; /* no shape field: rank 0 */
    const uint8_t *content = NULL;
    size_t content_len = 0;
    size_t nf = 0, nd = 0, nh = 0; /* values seen in float_val, double_val, half_val */
    float f0 = 0;
    double d0 = 0;
    uint16_t h0 = 0;
    uint32_t f;
    int wt, k;
    while ((k = pb_key(&c, &f, &wt)) > 0) {
        const uint8_t *b;
        size_t bn;
        uint64_t v;
        uint32_t v32;
        if (f == 1 && wt == WT_VARINT) {
            if (pb_varint(&c, &dtype) != 0)
                break;
        } else if (f == 2 && wt == WT_BYTES) {
            if (pb_bytes(&c, &b, &bn) != 0)
                break;
            one = parse_shape(b, bn, &c.why);
            if (one < 0)
                break;
        } else if (f == 4 && wt == WT_BYTES) {
            if (pb_bytes(&c, &content, &content_len) != 0)
                break;
        } else if (f == 5 && wt == WT_FIXED32) {
            if (pb_fixed32(&c, &v32) != 0)
                break;
            if (nf++ == 0)
                f0 = f32_from_bits(v32);
        } else if (f == 5 && wt == WT_BYTES) {
            if (pb_bytes(&c, &b, &bn) != 0)
                break;
            if (bn % 4 != 0) {
                pb_fail(&c, "packed float_val is not a multiple of 4 bytes");
                break;
            }
            if (bn && nf == 0)
                f0 = f32_from_bits(le32(b));
            nf += bn / 4;
        } else if (f == 6 && wt == WT_FIXED64) {
            if (pb_fixed64(&c, &v) != 0)
                break;
            if (nd++ == 0)
                d0 = f64_from_bits(v);
        } else if (f == 6 && wt == WT_BYTES) {
            if (pb_bytes(&c, &b, &bn) != 0)
                break;
            if (bn % 8 != 0) {
                pb_fail(&c, "packed double_val is not a multiple of 8 bytes");
                break;
            }
            if (bn && nd == 0)
                d0 = f64_from_bits(le64(b));
            nd += bn / 8;
        } else if (f == 13 && wt == WT_VARINT) {
            if (pb_varint(&c, &v) != 0)
                break;
            if (nh++ == 0)
                h0 = (uint16_t)v;
        } else if (f == 13 && wt == WT_BYTES) {
            if (pb_bytes(&c, &b, &bn) != 0)
                break;
            pb packed;
            pb_init(&packed, b, bn);
            while (packed.p < packed.end) {
                if (pb_varint(&packed, &v) != 0)
                    break;
                if (nh++ == 0)
                    h0 = (uint16_t)v;
            }
            if (packed.why) {
                c.why = packed.why;
                break;
            }
        } else if (f == 1 || f == 2 || f == 4 || f == 5 || f == 6 || f == 13) {
            pb_fail(&c, "tensor field with the wrong wire type");
            break;
        } else if (pb_skip(&c, wt) != 0) {
            break;
        }
    }
    if (k < 0 || c.why) {
        *why = c.why;
        return -1;
    }
    if (one != 1)
        return 0;
    size_t elem;
    switch (dtype) {
    case DT_FLOAT:
        elem = 4;
        break;
    case DT_DOUBLE:
        elem = 8;
        break;
    case DT_HALF:
    case DT_BFLOAT16:
        elem = 2;
        break;
    default:
        return 0;
    }
    if (content_len > 0) {
        /* tensor_content, when present, is the tensor (little-endian). */
        if (content_len != elem)
            return 0;
        if (dtype == DT_FLOAT)
            *out = f32_from_bits(le32(content));
        else if (dtype == DT_DOUBLE)
            *out = f64_from_bits(le64(content));
        else {
            uint16_t h = (uint16_t)(content[0] | content[1] << 8);
            *out = dtype == DT_HALF ? f16_to_float(h) : bf16_to_float(h);
        }
        return 1;
    }
    /* No values at all means a zero-filled tensor, as TensorFlow reads it. */
    size_t count = dtype == DT_FLOAT ? nf : dtype == DT_DOUBLE ? nd : nh;
    if (count > 1)
        return 0;
    if (dtype == DT_FLOAT)
        *out = count ? f0 : 0.0;
    else if (dtype == DT_DOUBLE)
        *out = count ? d0 : 0.0;
    else if (dtype == DT_HALF)
        *out = count ? f16_to_float(h0) : 0.0;
    else
        *out = count ? bf16_to_float(h0) : 0.0;
    return 1;
}

/* ------------------------------------------------------------------------
 * Event > Summary > Value
 * ------------------------------------------------------------------------ */

typedef struct {
    const uint8_t *tag;
    size_t tag_len;
    double value;
} pending_scalar;

typedef struct {
    pending_scalar *items;
    size_t n, cap;
} pending_list;

static void pending_add(pending_list *l, const uint8_t *tag, size_t tag_len, double v)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->items = xrealloc(l->items, l->cap * sizeof *l->items);
    }
    l->items[l->n].tag = tag;
    l->items[l->n].tag_len = tag_len;
    l->items[l->n].value = v;
    l->n++;
}

/* One Summary.Value: adds it to l when it is a scalar; -1 malformed. */
static int parse_value(const uint8_t *d, size_t n, pending_list *l, const char **why)
{
    enum { KIND_NONE, KIND_SIMPLE, KIND_TENSOR, KIND_OTHER } kind = KIND_NONE;
    pb c;
    pb_init(&c, d, n);
    const uint8_t *tag = (const uint8_t *)"", *tensor = NULL;
    size_t tag_len = 0, tensor_len = 0;
    float simple = 0;
    uint32_t f;
    int wt, k;
    while ((k = pb_key(&c, &f, &wt)) > 0) {
        uint32_t v32;
        const uint8_t *b;
        size_t bn;
        if (f == 1 && wt == WT_BYTES) {
            if (pb_bytes(&c, &tag, &tag_len) != 0)
                break;
        } else if (f == 2 && wt == WT_FIXED32) {
            if (pb_fixed32(&c, &v32) != 0)
                break;
            simple = f32_from_bits(v32);
            kind = KIND_SIMPLE;
        } else if (f == 8 && wt == WT_BYTES) {
            if (pb_bytes(&c, &tensor, &tensor_len) != 0)
                break;
            kind = KIND_TENSOR;
        } else if ((f >= 3 && f <= 6) && wt == WT_BYTES) {
            /* old-style histogram, image, histo, audio: one of the same oneof */
            if (pb_bytes(&c, &b, &bn) != 0)
                break;
            kind = KIND_OTHER;
        } else if (f == 1 || f == 2 || f == 8 || (f >= 3 && f <= 6)) {
            pb_fail(&c, "summary value field with the wrong wire type");
            break;
        } else if (pb_skip(&c, wt) != 0) { /* 7 node_name, 9 metadata, ... */
            break;
        }
    }
    if (k < 0 || c.why) {
        *why = c.why;
        return -1;
    }
    if (memchr(tag, '\0', tag_len))
        return 0; /* not representable as a C string; not ours to guess */
    if (kind == KIND_SIMPLE) {
        pending_add(l, tag, tag_len, simple);
    } else if (kind == KIND_TENSOR) {
        double v;
        int r = parse_tensor(tensor, tensor_len, &v, why);
        if (r < 0)
            return -1;
        if (r == 1)
            pending_add(l, tag, tag_len, v);
    }
    return 0;
}

static int parse_summary(const uint8_t *d, size_t n, pending_list *l, const char **why)
{
    pb c;
    pb_init(&c, d, n);
    uint32_t f;
    int wt, k;
    while ((k = pb_key(&c, &f, &wt)) > 0) {
        if (f == 1 && wt == WT_BYTES) {
            const uint8_t *b;
            size_t bn;
            if (pb_bytes(&c, &b, &bn) != 0)
                break;
            if (parse_value(b, bn, l, &c.why) != 0)
                break;
        } else if (f == 1) {
            pb_fail(&c, "summary value with the wrong wire type");
            break;
        } else if (pb_skip(&c, wt) != 0) {
            break;
        }
    }
    if (k < 0 || c.why) {
        *why = c.why ? c.why : "malformed summary";
        return -1;
    }
    return 0;
}

/* One Event: its step, wall time and scalars (into l, cleared first).
 * Returns 0, or -1 with why set when the bytes are not an Event. */
static int parse_event(const uint8_t *d, size_t n, int64_t *step, double *wall, pending_list *l,
                       const char **why)
{
    pb c;
    pb_init(&c, d, n);
    uint64_t st = 0, wbits = 0;
    uint32_t f;
    int wt, k, summaries = 0;
    l->n = 0;
    /* First the step and time (which may come after the summary), then the
     * summaries. */
    while ((k = pb_key(&c, &f, &wt)) > 0) {
        if (f == 1 && wt == WT_FIXED64) {
            if (pb_fixed64(&c, &wbits) != 0)
                break;
        } else if (f == 2 && wt == WT_VARINT) {
            if (pb_varint(&c, &st) != 0)
                break;
        } else if ((f == 3 || f == 5) && wt == WT_BYTES) {
            const uint8_t *b;
            size_t bn;
            if (pb_bytes(&c, &b, &bn) != 0)
                break;
            summaries += f == 5;
        } else if (f == 1 || f == 2 || f == 3 || f == 5) {
            pb_fail(&c, "event field with the wrong wire type");
            break;
        } else if (pb_skip(&c, wt) != 0) {
            break;
        }
    }
    if (k < 0 || c.why) {
        *why = c.why;
        return -1;
    }
    *step = (int64_t)st;
    *wall = f64_from_bits(wbits);
    if (summaries == 0)
        return 0;
    pb_init(&c, d, n);
    while (pb_key(&c, &f, &wt) > 0) {
        const uint8_t *b = NULL;
        size_t bn = 0;
        if (f == 5) {
            /* The first pass checked every field's bounds. */
            if (pb_bytes(&c, &b, &bn) != 0 || parse_summary(b, bn, l, why) != 0)
                return -1;
        } else {
            (void)pb_skip(&c, wt);
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------
 * Series
 * ------------------------------------------------------------------------ */

/* Which tags to keep (tag is not NUL-terminated); NULL keeps all. */
typedef int (*tag_filter)(const uint8_t *tag, size_t len);

static void series_push(sr_scalar_series *s, int64_t step, double value, double wall)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        s->steps = xrealloc(s->steps, cap * sizeof *s->steps);
        s->values = xrealloc(s->values, cap * sizeof *s->values);
        s->wall_times = xrealloc(s->wall_times, cap * sizeof *s->wall_times);
        s->cap = cap;
    }
    s->steps[s->n] = step;
    s->values[s->n] = value;
    s->wall_times[s->n] = wall;
    s->n++;
}

static int tag_eq(const sr_scalar_series *s, const uint8_t *tag, size_t len)
{
    return strncmp(s->tag, (const char *)tag, len) == 0 && s->tag[len] == '\0';
}

static sr_scalar_series *scalars_add(sr_scalars *s, const char *tag, size_t len)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 8;
        s->items = xrealloc(s->items, s->cap * sizeof *s->items);
    }
    sr_scalar_series *x = &s->items[s->n++];
    memset(x, 0, sizeof *x);
    x->tag = xstrndup(tag, len);
    return x;
}

/* The series of a tag, created when new.  *hint is the last index found:
 * tags usually cycle in a fixed order, so the next one is tried first. */
static sr_scalar_series *series_for(sr_scalars *s, const uint8_t *tag, size_t len, size_t *hint)
{
    if (s->n) {
        size_t h = *hint < s->n ? *hint : 0;
        size_t next = h + 1 < s->n ? h + 1 : 0;
        if (tag_eq(&s->items[next], tag, len))
            return &s->items[*hint = next];
        if (tag_eq(&s->items[h], tag, len))
            return &s->items[*hint = h];
        for (size_t i = 0; i < s->n; i++)
            if (tag_eq(&s->items[i], tag, len))
                return &s->items[*hint = i];
    }
    *hint = s->n;
    return scalars_add(s, (const char *)tag, len);
}

const sr_scalar_series *sr_scalars_find(const sr_scalars *s, const char *tag)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->items[i].tag, tag) == 0)
            return &s->items[i];
    return NULL;
}

static void series_free(sr_scalar_series *x)
{
    free(x->tag);
    free(x->steps);
    free(x->values);
    free(x->wall_times);
}

void sr_scalars_free(sr_scalars *s)
{
    for (size_t i = 0; i < s->n; i++)
        series_free(&s->items[i]);
    free(s->items);
    s->items = NULL;
    s->n = s->cap = 0;
}

/* ------------------------------------------------------------------------
 * TFRecord stream
 * ------------------------------------------------------------------------ */

typedef struct {
    int fd;
    uint8_t *buf;
    size_t cap, pos, end; /* buf[pos, end) is unread data */
    uint64_t off;         /* file offset of buf[pos] */
    uint64_t size;        /* file size, refreshed when a record seems to pass it */
    int eof, err;
} stream;

/* Makes at least need bytes available at buf + pos when the file has them;
 * returns how many are available (fewer at the end of the file). */
static size_t stream_fill(stream *r, size_t need)
{
    if (r->end - r->pos >= need)
        return need;
    if (r->pos > 0) {
        memmove(r->buf, r->buf + r->pos, r->end - r->pos);
        r->end -= r->pos;
        r->pos = 0;
    }
    if (r->cap < need) {
        /* Start at the file's size (a small file gets a small buffer), at
         * most one chunk; grow only for a record longer than that. */
        size_t cap = r->cap ? r->cap : r->size < READ_CHUNK ? 4096 : READ_CHUNK;
        while (cap < READ_CHUNK && cap < r->size + 1)
            cap *= 2;
        while (cap < need)
            cap *= 2;
        r->buf = xrealloc(r->buf, cap);
        r->cap = cap;
    }
    while (r->end < need && !r->eof) {
        ssize_t got = read(r->fd, r->buf + r->end, r->cap - r->end);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            r->err = errno;
            r->eof = 1;
        } else if (got == 0) {
            r->eof = 1;
        } else {
            r->end += (size_t)got;
        }
    }
    return r->end - r->pos < need ? r->end - r->pos : need;
}

static void stream_consume(stream *r, size_t n)
{
    r->pos += n;
    r->off += n;
}

/* Could these first bytes of a file start a record header?  Used when the
 * file is too short to check the length's CRC. */
static int plausible_header_start(const uint8_t *p, size_t n)
{
    uint64_t len = 0;
    for (size_t i = 0; i < n && i < 8; i++)
        len |= (uint64_t)p[i] << (8 * i);
    return len <= SR_TFEVENTS_MAX_RECORD;
}

/* Adds the first problem into problem; later ones are counted. */
typedef struct {
    char *buf;
    size_t len;
    int set;
    size_t more;
} problem_note;

static void note(problem_note *pn, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(problem_note *pn, const char *fmt, ...)
{
    if (pn->set) {
        pn->more++;
        return;
    }
    pn->set = 1;
    if (pn->buf && pn->len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(pn->buf, pn->len, fmt, ap);
        va_end(ap);
    }
}

static void note_finish(problem_note *pn)
{
    if (pn->more && pn->buf && pn->len) {
        size_t used = strlen(pn->buf);
        snprintf(pn->buf + used, pn->len - used, " (and %zu more damaged record%s)", pn->more,
                 pn->more == 1 ? "" : "s");
    }
}

static int read_file_filtered(const char *path, sr_scalars *out, tag_filter keep, char *problem,
                              size_t len)
{
    problem_note pn = {problem, len, 0, 0};
    if (problem && len)
        problem[0] = '\0';
    stream r;
    memset(&r, 0, sizeof r);
    /* O_NONBLOCK: a FIFO must not block here; it is refused just below. */
    r.fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (r.fd < 0) {
        note(&pn, "cannot open: %s", strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(r.fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        note(&pn, "not a regular file");
        close(r.fd);
        return -1;
    }
    r.size = (uint64_t)st.st_size;

    pending_list pend = {NULL, 0, 0};
    size_t rec = 0, hint = 0;
    int rc = 0;
    for (;;) {
        uint64_t at = r.off;
        size_t got = stream_fill(&r, HEADER_BYTES);
        if (r.err) {
            note(&pn, "read error at byte %llu: %s", (unsigned long long)at, strerror(r.err));
            rc = rec == 0 ? -1 : 1;
            break;
        }
        if (got == 0)
            break; /* a clean end between records */
        const uint8_t *h = r.buf + r.pos;
        if (got < HEADER_BYTES) {
            if (rec == 0 && !plausible_header_start(h, got)) {
                note(&pn, "not a TFRecord file (%zu bytes that cannot start a record)", got);
                rc = -1;
            } else {
                note(&pn, "truncated record at byte %llu (record %zu: %zu of the %u header bytes)",
                     (unsigned long long)at, rec, got, HEADER_BYTES);
                rc = 1;
            }
            break;
        }
        uint64_t dlen = le64(h);
        if (sr_crc32c_mask(sr_crc32c(h, 8)) != le32(h + 8)) {
            if (rec == 0) {
                note(&pn, "not a TFRecord file (length CRC of the first record does not match)");
                rc = -1;
            } else {
                note(&pn, "record %zu at byte %llu: length CRC mismatch", rec,
                     (unsigned long long)at);
                rc = 1;
            }
            break;
        }
        if (dlen > SR_TFEVENTS_MAX_RECORD) {
            note(&pn, "record %zu at byte %llu: length %llu over the %u MiB limit", rec,
                 (unsigned long long)at, (unsigned long long)dlen, SR_TFEVENTS_MAX_RECORD >> 20);
            rc = 1;
            break;
        }
        size_t whole = HEADER_BYTES + (size_t)dlen + FOOTER_BYTES;
        if (at + whole > r.size) {
            /* The file may be growing while it is written; look again before
             * calling the record cut off (and before allocating for it). */
            if (fstat(r.fd, &st) == 0)
                r.size = (uint64_t)st.st_size;
            if (at + whole > r.size) {
                note(&pn, "truncated record at byte %llu (record %zu: %llu of %zu bytes)",
                     (unsigned long long)at, rec,
                     (unsigned long long)(r.size > at + got ? r.size - at : got), whole);
                rc = 1;
                break;
            }
        }
        got = stream_fill(&r, whole);
        if (got < whole) { /* shrank meanwhile, or an I/O error */
            if (r.err)
                note(&pn, "read error at byte %llu: %s", (unsigned long long)at, strerror(r.err));
            else
                note(&pn, "truncated record at byte %llu (record %zu: %zu of %zu bytes)",
                     (unsigned long long)at, rec, got, whole);
            rc = 1;
            break;
        }
        const uint8_t *data = r.buf + r.pos + HEADER_BYTES;
        if (sr_crc32c_mask(sr_crc32c(data, (size_t)dlen)) != le32(data + dlen)) {
            note(&pn, "record %zu at byte %llu: data CRC mismatch", rec, (unsigned long long)at);
            rc = 1;
            break;
        }
        int64_t step;
        double wall;
        const char *why = NULL;
        if (parse_event(data, (size_t)dlen, &step, &wall, &pend, &why) != 0) {
            if (rec == 0) {
                note(&pn, "not an event file (the first record is not an Event: %s)",
                     why ? why : "malformed");
                rc = -1;
                break;
            }
            note(&pn, "record %zu at byte %llu: undecodable event (%s), skipped", rec,
                 (unsigned long long)at, why ? why : "malformed");
            rc = 1;
        } else {
            for (size_t i = 0; i < pend.n; i++) {
                const pending_scalar *ps = &pend.items[i];
                if (keep && !keep(ps->tag, ps->tag_len))
                    continue;
                series_push(series_for(out, ps->tag, ps->tag_len, &hint), step, ps->value, wall);
            }
        }
        stream_consume(&r, whole);
        rec++;
    }
    note_finish(&pn);
    free(pend.items);
    free(r.buf);
    close(r.fd);
    return rc;
}

int sr_tfevents_read_file(const char *path, sr_scalars *out, char *problem, size_t len)
{
    return read_file_filtered(path, out, NULL, problem, len);
}

/* ------------------------------------------------------------------------
 * A trial's logs
 * ------------------------------------------------------------------------ */

static int keep_trial_tag(const uint8_t *tag, size_t len)
{
    return (len >= 5 && memcmp(tag, "loss/", 5) == 0) || (len >= 3 && memcmp(tag, "lr/", 3) == 0);
}

typedef struct {
    dev_t dev;
    ino_t ino;
} dir_id;

typedef struct {
    dir_id *items;
    size_t n, cap;
} dir_set;

/* 1 when the folder was new (and is now recorded). */
static int dir_set_add(dir_set *s, const struct stat *st)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->items[i].dev == st->st_dev && s->items[i].ino == st->st_ino)
            return 0;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->items = xrealloc(s->items, s->cap * sizeof *s->items);
    }
    s->items[s->n].dev = st->st_dev;
    s->items[s->n].ino = st->st_ino;
    s->n++;
    return 1;
}

static int name_cmp(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    int c = sr_strnatcmp(x, y);
    return c ? c : strcmp(x, y);
}

/* Whether path, a link to a folder, leads to root (the logs folder,
 * resolved) or a folder inside it. */
static int link_stays_in(const char *path, const char *root)
{
    char *real = realpath(path, NULL);
    size_t n = strlen(root);
    int in = real && root[0] && strncmp(real, root, n) == 0 && (real[n] == '/' || real[n] == '\0');
    free(real);
    return in;
}

static void walk_logs(const char *dir, const char *root, int depth, dir_set *seen, sr_scalars *out,
                      sr_problems *problems)
{
    size_t n = 0;
    char **names = sr_dir_names(dir, name_cmp, &n);
    if (!names) {
        sr_problems_add(problems, dir, "cannot read folder: %s", strerror(errno));
        return;
    }
    for (size_t i = 0; i < n; i++) {
        char *path = sr_path_join(dir, names[i]);
        int is_event = sr_str_has_prefix(names[i], EVENT_PREFIX);
        struct stat st;
        if (stat(path, &st) != 0) {
            if (is_event)
                sr_problems_add(problems, path, "cannot read: %s", strerror(errno));
        } else if (S_ISDIR(st.st_mode)) {
            struct stat lst;
            /* a link may lead anywhere (/usr, /proc): only within the logs */
            if (lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode) && !link_stays_in(path, root))
                sr_problems_add(problems, path, "a link to a folder outside the logs folder; not followed");
            else if (depth >= MAX_DEPTH)
                sr_problems_add(problems, path, "folder nested more than %d levels deep; not read",
                                MAX_DEPTH);
            else if (dir_set_add(seen, &st))
                walk_logs(path, root, depth + 1, seen, out, problems);
        } else if (is_event && S_ISREG(st.st_mode)) {
            char why[SR_MSG_MAX];
            if (read_file_filtered(path, out, keep_trial_tag, why, sizeof why) != 0)
                sr_problems_add(problems, path, "%s", why);
        }
        free(path);
    }
    sr_names_free(names, n);
}

typedef struct {
    int64_t step;
    size_t idx;
} step_ref;

static int step_ref_cmp(const void *a, const void *b)
{
    const step_ref *x = a, *y = b;
    if (x->step != y->step)
        return x->step < y->step ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Sorts by step, keeping the last point read for each step. */
static void series_sort_unique(sr_scalar_series *s)
{
    if (s->n == 0)
        return;
    step_ref *ref = xmalloc(s->n * sizeof *ref);
    for (size_t i = 0; i < s->n; i++) {
        ref[i].step = s->steps[i];
        ref[i].idx = i;
    }
    qsort(ref, s->n, sizeof *ref, step_ref_cmp);
    int64_t *steps = xmalloc(s->n * sizeof *steps);
    double *values = xmalloc(s->n * sizeof *values);
    double *walls = xmalloc(s->n * sizeof *walls);
    size_t m = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (i + 1 < s->n && ref[i + 1].step == ref[i].step)
            continue; /* a later point has the same step */
        steps[m] = s->steps[ref[i].idx];
        values[m] = s->values[ref[i].idx];
        walls[m] = s->wall_times[ref[i].idx];
        m++;
    }
    free(ref);
    free(s->steps);
    free(s->values);
    free(s->wall_times);
    s->steps = steps;
    s->values = values;
    s->wall_times = walls;
    s->n = m;
    s->cap = s->n;
}

void sr_tfevents_read_trial(const char *trial_dir, sr_scalars *out, sr_problems *problems)
{
    char *logs = sr_path_join(trial_dir, "logs");
    struct stat st;
    if (stat(logs, &st) != 0) {
        /* No logs/ at all is an ordinary trial without TensorBoard logs. */
        if (errno != ENOENT && errno != ENOTDIR)
            sr_problems_add(problems, logs, "cannot read folder: %s", strerror(errno));
        free(logs);
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        sr_problems_add(problems, logs, "not a folder");
        free(logs);
        return;
    }
    sr_scalars got = {NULL, 0, 0};
    dir_set seen = {NULL, 0, 0};
    dir_set_add(&seen, &st);
    char *root = realpath(logs, NULL);
    walk_logs(logs, root ? root : "", 1, &seen, &got, problems);
    free(root);
    free(seen.items);
    free(logs);

    for (size_t i = 0; i < got.n; i++) {
        sr_scalar_series *g = &got.items[i];
        sr_scalar_series *o = NULL;
        for (size_t j = 0; j < out->n && !o; j++)
            if (strcmp(out->items[j].tag, g->tag) == 0)
                o = &out->items[j];
        if (!o) {
            series_sort_unique(g);
            if (out->n == out->cap) {
                out->cap = out->cap ? out->cap * 2 : 8;
                out->items = xrealloc(out->items, out->cap * sizeof *out->items);
            }
            out->items[out->n++] = *g;
            memset(g, 0, sizeof *g);
        } else {
            for (size_t k = 0; k < g->n; k++)
                series_push(o, g->steps[k], g->values[k], g->wall_times[k]);
            series_sort_unique(o);
            series_free(g);
        }
    }
    free(got.items);
}
