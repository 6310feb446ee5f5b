/* tfevents_write.c - TFRecord-framed Event protobufs, encoded by hand. */
#include "config.h"

#include "tfevents_write.h"
#include "atomic_file.h"
#include "crc32c.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TAG (1u << 20)

struct sr_tfevents_writer {
    sr_atomic_file af;
    sr_buf ev;   /* the Event being encoded */
    sr_buf val;  /* its Summary.Value */
    sr_buf sum;  /* its Summary */
    int err;     /* first write error (errno), 0 when none */
};

static void put_byte(sr_buf *b, unsigned v)
{
    char c = (char)(unsigned char)v;
    sr_buf_append(b, &c, 1);
}

static void put_varint(sr_buf *b, uint64_t v)
{
    while (v >= 0x80) {
        put_byte(b, (unsigned)(v & 0x7f) | 0x80);
        v >>= 7;
    }
    put_byte(b, (unsigned)v);
}

static void put_le(sr_buf *b, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        put_byte(b, (unsigned)(v >> (8 * i)) & 0xff);
}

static void put_key(sr_buf *b, unsigned field, unsigned wire_type)
{
    put_varint(b, (uint64_t)field << 3 | wire_type);
}

static void put_bytes(sr_buf *b, unsigned field, const void *data, size_t n)
{
    put_key(b, field, 2);
    put_varint(b, n);
    sr_buf_append(b, data, n);
}

static void put_double(sr_buf *b, unsigned field, double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    put_key(b, field, 1);
    put_le(b, u, 8);
}

static void put_float(sr_buf *b, unsigned field, float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    put_key(b, field, 5);
    put_le(b, u, 4);
}

/* Frames w->ev as one TFRecord and writes it. */
static int write_record(sr_tfevents_writer *w)
{
    if (w->err)
        return -1;
    unsigned char head[12], foot[4];
    uint64_t n = w->ev.len;
    for (int i = 0; i < 8; i++)
        head[i] = (unsigned char)(n >> (8 * i));
    uint32_t c = sr_crc32c_mask(sr_crc32c(head, 8));
    uint32_t d = sr_crc32c_mask(sr_crc32c(w->ev.s, w->ev.len));
    for (int i = 0; i < 4; i++) {
        head[8 + i] = (unsigned char)(c >> (8 * i));
        foot[i] = (unsigned char)(d >> (8 * i));
    }
    errno = 0;
    if (fwrite(head, 1, sizeof head, w->af.fp) != sizeof head ||
        fwrite(w->ev.s, 1, w->ev.len, w->af.fp) != w->ev.len ||
        fwrite(foot, 1, sizeof foot, w->af.fp) != sizeof foot) {
        w->err = errno ? errno : EIO;
        return -1;
    }
    return 0;
}

sr_tfevents_writer *sr_tfevents_open(const char *path, double wall_time, char *err, size_t len)
{
    sr_tfevents_writer *w = xcalloc(1, sizeof *w);
    if (sr_atomic_open(&w->af, path, SR_ATOMIC_REPLACE) != 0) {
        snprintf(err, len, "cannot create a temporary file beside %s: %s", path, strerror(errno));
        free(w);
        return NULL;
    }
    sr_buf_init(&w->ev);
    sr_buf_init(&w->val);
    sr_buf_init(&w->sum);
    static const char version[] = "brain.Event:2";
    put_double(&w->ev, 1, wall_time);
    put_bytes(&w->ev, 3, version, sizeof version - 1);
    write_record(w);
    return w;
}

int sr_tfevents_add_scalar(sr_tfevents_writer *w, const char *tag, int64_t step, float value,
                           double wall_time)
{
    if (!tag)
        return -1;
    size_t tag_len = strlen(tag);
    if (tag_len > MAX_TAG)
        return -1;
    /* Value {1 tag, 2 simple_value} */
    w->val.len = 0;
    put_bytes(&w->val, 1, tag, tag_len);
    put_float(&w->val, 2, value);
    /* Summary {1 value} */
    w->sum.len = 0;
    put_bytes(&w->sum, 1, w->val.s, w->val.len);
    /* Event {1 wall_time, 2 step (left out when 0, as proto3 does), 5 summary} */
    w->ev.len = 0;
    put_double(&w->ev, 1, wall_time);
    if (step != 0) {
        put_key(&w->ev, 2, 0);
        put_varint(&w->ev, (uint64_t)step);
    }
    put_bytes(&w->ev, 5, w->sum.s, w->sum.len);
    return write_record(w);
}

static void writer_free(sr_tfevents_writer *w)
{
    sr_buf_free(&w->ev);
    sr_buf_free(&w->val);
    sr_buf_free(&w->sum);
    free(w);
}

void sr_tfevents_abort(sr_tfevents_writer *w)
{
    if (!w)
        return;
    sr_atomic_abort(&w->af);
    writer_free(w);
}

int sr_tfevents_close(sr_tfevents_writer *w, char *err, size_t len)
{
    if (!w) {
        snprintf(err, len, "no writer");
        return -1;
    }
    if (w->err) {
        snprintf(err, len, "write error in %s: %s", w->af.path, strerror(w->err));
        sr_tfevents_abort(w);
        return -1;
    }
    char *path = xstrdup(w->af.path);
    int rc = sr_atomic_commit(&w->af);
    if (rc != 0)
        snprintf(err, len, "cannot write %s: %s", path, strerror(errno));
    free(path);
    writer_free(w);
    return rc;
}
