/* synth_lora.c - kohya SD1.5 LoRA .safetensors writer (F16, streamed). */
#include "config.h"

#include "synth_lora.h"
#include "atomic_file.h"
#include "util.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------
 * binary16 conversion
 * ------------------------------------------------------------------------- */

uint16_t sr_f32_to_f16(float f)
{
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    uint32_t a = x & 0x7fffffffu;
    if (a > 0x7f800000u) /* NaN: keep it quiet and keep the top payload bits */
        return (uint16_t)(sign | 0x7e00u | ((a >> 13) & 0x03ffu));
    if (a >= 0x47800000u) /* >= 65536 (or inf): overflow */
        return (uint16_t)(sign | 0x7c00u);
    if (a < 0x38800000u) {
        /* Below 2^-14: a half subnormal (or zero).  The value in units of
         * 2^-24 is mant * 2^(e-150) with the implicit bit restored. */
        if (a < 0x33000000u) /* < 2^-25: rounds to zero (2^-25 itself is a tie to 0) */
            return sign;
        uint32_t e = a >> 23;
        uint32_t mant = (a & 0x007fffffu) | 0x00800000u;
        uint32_t shift = 126u - e; /* 14..24 */
        uint32_t q = mant >> shift;
        uint32_t rem = mant & ((1u << shift) - 1u);
        uint32_t half = 1u << (shift - 1u);
        if (rem > half || (rem == half && (q & 1u)))
            q++;
        return (uint16_t)(sign | q); /* q == 0x400 becomes the smallest normal */
    }
    /* Normal: rebias the exponent and round the 13 dropped bits. */
    uint32_t r = a - ((uint32_t)(127 - 15) << 23);
    uint32_t q = r >> 13;
    uint32_t rem = r & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (q & 1u)))
        q++; /* a carry into the exponent is correct, up to inf */
    return (uint16_t)(sign | q);
}

float sr_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t e = (h >> 10) & 0x1fu;
    uint32_t m = h & 0x03ffu;
    uint32_t x;
    if (e == 0) {
        if (m == 0) {
            x = sign;
        } else {
            float v = (float)m * (1.0f / 16777216.0f); /* m * 2^-24, exact */
            memcpy(&x, &v, sizeof x);
            x |= sign;
        }
    } else if (e == 31) {
        x = sign | 0x7f800000u | (m << 13);
    } else {
        x = sign | ((e + 127u - 15u) << 23) | (m << 13);
    }
    float f;
    memcpy(&f, &x, sizeof f);
    return f;
}

/* ---------------------------------------------------------------------------
 * The SD1.5 module table
 * ------------------------------------------------------------------------- */

static const struct {
    const char *path;
    int ch;
} sd15_transformers[] = {
    {"down_blocks_0_attentions_0", 320}, {"down_blocks_0_attentions_1", 320},
    {"down_blocks_1_attentions_0", 640}, {"down_blocks_1_attentions_1", 640},
    {"down_blocks_2_attentions_0", 1280}, {"down_blocks_2_attentions_1", 1280},
    {"mid_block_attentions_0", 1280},
    {"up_blocks_1_attentions_0", 1280}, {"up_blocks_1_attentions_1", 1280}, {"up_blocks_1_attentions_2", 1280},
    {"up_blocks_2_attentions_0", 640}, {"up_blocks_2_attentions_1", 640}, {"up_blocks_2_attentions_2", 640},
    {"up_blocks_3_attentions_0", 320}, {"up_blocks_3_attentions_1", 320}, {"up_blocks_3_attentions_2", 320},
};

#define SD15_CONTEXT_DIM 768
#define SD15_TE_LAYERS 12
#define SD15_TE_DIM 768
#define SD15_TE_MLP 3072

static void set_module(sr_lora_module *m, const char *prefix, const char *path, const char *leaf, int in, int out,
                       int conv)
{
    snprintf(m->name, sizeof m->name, "%s%s%s", prefix, path, leaf);
    m->in = in;
    m->out = out;
    m->conv = conv;
}

void sr_lora_sd15_modules(sr_lora_module *m)
{
    size_t k = 0;
    for (size_t b = 0; b < sizeof sd15_transformers / sizeof sd15_transformers[0]; b++) {
        const char *p = sd15_transformers[b].path;
        int c = sd15_transformers[b].ch;
        set_module(&m[k++], "lora_unet_", p, "_proj_in", c, c, 1);
        set_module(&m[k++], "lora_unet_", p, "_transformer_blocks_0_attn1_to_q", c, c, 0);
        set_module(&m[k++], "lora_unet_", p, "_transformer_blocks_0_attn1_to_k", c, c, 0);
        set_module(&m[k++], "lora_unet_", p, "_transformer_blocks_0_attn1_to_v", c, c, 0);
        set_module(&m[k++], "lora_unet_", p, "_transformer_blocks_0_attn1_to_out_0", c, c, 0);
        set_module(&m[k++], "lora_unet_", p, "_transformer_blocks_0_ff_net_0_proj", c, 8 * c, 0);
        set_module(&m[k++], "lora_unet_", p, "_transformer_blocks_0_ff_net_2", 4 * c, c, 0);
        set_module(&m[k++], "lora_unet_", p, "_transformer_blocks_0_attn2_to_q", c, c, 0);
        set_module(&m[k++], "lora_unet_", p, "_transformer_blocks_0_attn2_to_k", SD15_CONTEXT_DIM, c, 0);
        set_module(&m[k++], "lora_unet_", p, "_transformer_blocks_0_attn2_to_v", SD15_CONTEXT_DIM, c, 0);
        set_module(&m[k++], "lora_unet_", p, "_transformer_blocks_0_attn2_to_out_0", c, c, 0);
        set_module(&m[k++], "lora_unet_", p, "_proj_out", c, c, 1);
    }
    for (int l = 0; l < SD15_TE_LAYERS; l++) {
        char path[48];
        snprintf(path, sizeof path, "text_model_encoder_layers_%d", l);
        set_module(&m[k++], "lora_te_", path, "_self_attn_k_proj", SD15_TE_DIM, SD15_TE_DIM, 0);
        set_module(&m[k++], "lora_te_", path, "_self_attn_v_proj", SD15_TE_DIM, SD15_TE_DIM, 0);
        set_module(&m[k++], "lora_te_", path, "_self_attn_q_proj", SD15_TE_DIM, SD15_TE_DIM, 0);
        set_module(&m[k++], "lora_te_", path, "_self_attn_out_proj", SD15_TE_DIM, SD15_TE_DIM, 0);
        set_module(&m[k++], "lora_te_", path, "_mlp_fc1", SD15_TE_DIM, SD15_TE_MLP, 0);
        set_module(&m[k++], "lora_te_", path, "_mlp_fc2", SD15_TE_MLP, SD15_TE_DIM, 0);
    }
}

/* ---------------------------------------------------------------------------
 * Header
 * ------------------------------------------------------------------------- */

enum { T_ALPHA = 0, T_DOWN = 1, T_UP = 2 };

typedef struct {
    char name[128];
    int module;
    int kind;
    int ndim;
    uint64_t shape[4];
    uint64_t count;
    uint64_t begin, end;
} tensor_entry;

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const tensor_entry *)a)->name, ((const tensor_entry *)b)->name);
}

static int meta_cmp(const void *a, const void *b)
{
    return strcmp(((const sr_lora_meta *)a)->key, ((const sr_lora_meta *)b)->key);
}

static void json_escape(sr_buf *b, const char *s)
{
    sr_buf_puts(b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': sr_buf_puts(b, "\\\""); break;
        case '\\': sr_buf_puts(b, "\\\\"); break;
        case '\n': sr_buf_puts(b, "\\n"); break;
        case '\r': sr_buf_puts(b, "\\r"); break;
        case '\t': sr_buf_puts(b, "\\t"); break;
        case '\b': sr_buf_puts(b, "\\b"); break;
        case '\f': sr_buf_puts(b, "\\f"); break;
        default:
            if (*p < 0x20)
                sr_buf_printf(b, "\\u%04x", *p);
            else
                sr_buf_append(b, p, 1);
        }
    }
    sr_buf_puts(b, "\"");
}

/* Builds the sorted tensor table and the padded header text. */
static tensor_entry *build_layout(const sr_lora_spec *spec, sr_buf *hdr, size_t *n_out, uint64_t *data_bytes)
{
    sr_lora_module *mods = xmalloc(sizeof *mods * SR_LORA_SD15_MODULES);
    sr_lora_sd15_modules(mods);
    size_t n = (size_t)SR_LORA_SD15_MODULES * 3;
    tensor_entry *t = xcalloc(n, sizeof *t);
    uint64_t r = (uint64_t)spec->rank;
    for (size_t m = 0; m < SR_LORA_SD15_MODULES; m++) {
        const sr_lora_module *md = &mods[m];
        tensor_entry *a = &t[m * 3], *d = &t[m * 3 + 1], *u = &t[m * 3 + 2];
        snprintf(a->name, sizeof a->name, "%s.alpha", md->name);
        a->kind = T_ALPHA;
        a->ndim = 0;
        a->count = 1;
        snprintf(d->name, sizeof d->name, "%s.lora_down.weight", md->name);
        d->kind = T_DOWN;
        snprintf(u->name, sizeof u->name, "%s.lora_up.weight", md->name);
        u->kind = T_UP;
        d->shape[0] = r;
        d->shape[1] = (uint64_t)md->in;
        u->shape[0] = (uint64_t)md->out;
        u->shape[1] = r;
        if (md->conv) {
            d->ndim = u->ndim = 4;
            d->shape[2] = d->shape[3] = u->shape[2] = u->shape[3] = 1;
        } else {
            d->ndim = u->ndim = 2;
        }
        d->count = r * (uint64_t)md->in;
        u->count = r * (uint64_t)md->out;
        a->module = d->module = u->module = (int)m;
    }
    free(mods);
    qsort(t, n, sizeof *t, entry_cmp);

    sr_lora_meta *meta = NULL;
    if (spec->n_meta) {
        meta = xmalloc(sizeof *meta * spec->n_meta);
        memcpy(meta, spec->meta, sizeof *meta * spec->n_meta);
        qsort(meta, spec->n_meta, sizeof *meta, meta_cmp);
    }
    sr_buf_init(hdr);
    sr_buf_puts(hdr, "{");
    if (spec->n_meta) {
        sr_buf_puts(hdr, "\"__metadata__\":{");
        for (size_t i = 0; i < spec->n_meta; i++) {
            if (i)
                sr_buf_puts(hdr, ",");
            json_escape(hdr, meta[i].key);
            sr_buf_puts(hdr, ":");
            json_escape(hdr, meta[i].value);
        }
        sr_buf_puts(hdr, "}");
    }
    free(meta);
    uint64_t off = 0;
    for (size_t i = 0; i < n; i++) {
        t[i].begin = off;
        off += t[i].count * 2;
        t[i].end = off;
        if (i || spec->n_meta)
            sr_buf_puts(hdr, ",");
        json_escape(hdr, t[i].name);
        sr_buf_puts(hdr, ":{\"dtype\":\"F16\",\"shape\":[");
        for (int k = 0; k < t[i].ndim; k++)
            sr_buf_printf(hdr, "%s%llu", k ? "," : "", (unsigned long long)t[i].shape[k]);
        sr_buf_printf(hdr, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)t[i].begin,
                      (unsigned long long)t[i].end);
    }
    sr_buf_puts(hdr, "}");
    while (hdr->len % 8)
        sr_buf_puts(hdr, " ");
    *n_out = n;
    *data_bytes = off;
    return t;
}

uint64_t sr_lora_file_size(const sr_lora_spec *spec)
{
    sr_buf hdr;
    size_t n;
    uint64_t data;
    tensor_entry *t = build_layout(spec, &hdr, &n, &data);
    uint64_t size = 8 + hdr.len + data;
    free(t);
    sr_buf_free(&hdr);
    return size;
}

/* ---------------------------------------------------------------------------
 * Values
 * ------------------------------------------------------------------------- */

static uint64_t mix_seed(uint64_t a, uint64_t b)
{
    sr_rng r;
    sr_rng_seed(&r, a);
    r.state ^= b * 0xd1342543de82ef95ULL;
    (void)sr_rng_next(&r);
    return sr_rng_next(&r);
}

/* Approximately N(0, 1): the sum of four 16-bit uniforms (Irwin-Hall),
 * one generator step per value, so that large files stay fast. */
static inline float fast_normal(sr_rng *r)
{
    uint64_t u = sr_rng_next(r);
    uint32_t s = (uint32_t)(u & 0xffffu) + (uint32_t)((u >> 16) & 0xffffu) + (uint32_t)((u >> 32) & 0xffffu) +
                 (uint32_t)(u >> 48);
    return ((float)s - 131070.0f) * (1.0f / 37837.23f);
}

static void fill_tensor(const tensor_entry *t, const sr_lora_spec *spec, const sr_lora_module *mods, uint16_t *out)
{
    uint64_t id = (uint64_t)t->module * 4u + (uint64_t)t->kind;
    if (t->kind == T_ALPHA) {
        out[0] = sr_f32_to_f16((float)spec->alpha);
        return;
    }
    sr_rng base;
    sr_rng_seed(&base, mix_seed(spec->base_seed, id));
    if (t->kind == T_DOWN) {
        float sd = 1.0f / sqrtf((float)mods[t->module].in);
        for (uint64_t i = 0; i < t->count; i++)
            out[i] = sr_f32_to_f16(sd * fast_normal(&base));
        return;
    }
    sr_rng noise;
    sr_rng_seed(&noise, mix_seed(spec->noise_seed, id));
    float scale = (float)spec->up_scale, ns = (float)spec->up_noise;
    for (uint64_t i = 0; i < t->count; i++)
        out[i] = sr_f32_to_f16(scale * fast_normal(&base) + ns * fast_normal(&noise));
}

/* Writes at most `limit` bytes in total; the rest is silently dropped. */
typedef struct {
    FILE *fp;
    uint64_t written;
    uint64_t limit;
    int failed;
} capped_writer;

static void cw_write(capped_writer *w, const void *data, uint64_t n)
{
    if (w->failed || w->written >= w->limit)
        return;
    uint64_t k = n;
    if (k > w->limit - w->written)
        k = w->limit - w->written;
    if (k && fwrite(data, 1, (size_t)k, w->fp) != (size_t)k)
        w->failed = errno ? errno : EIO;
    w->written += k;
}

int sr_lora_write(const char *path, const sr_lora_spec *spec, char *err, size_t errlen)
{
    if (spec->rank < 1 || spec->rank > 4096) {
        snprintf(err, errlen, "%s: invalid LoRA rank %d", path, spec->rank);
        return -1;
    }
    sr_buf hdr;
    size_t n;
    uint64_t data_bytes;
    tensor_entry *t = build_layout(spec, &hdr, &n, &data_bytes);
    sr_lora_module *mods = xmalloc(sizeof *mods * SR_LORA_SD15_MODULES);
    sr_lora_sd15_modules(mods);

    uint64_t total = 8 + hdr.len + data_bytes;
    capped_writer w = {NULL, 0, total, 0};
    if (spec->keep_fraction < 1.0) {
        double k = spec->keep_fraction < 0 ? 0 : spec->keep_fraction;
        w.limit = (uint64_t)((double)total * k);
    }
    uint64_t max_count = 1;
    for (size_t i = 0; i < n; i++)
        if (t[i].count > max_count)
            max_count = t[i].count;
    uint16_t *buf = xmalloc(sizeof *buf * max_count);
    uint8_t *bytes = xmalloc(2 * max_count);

    sr_atomic_file af;
    int rc = -1;
    if (sr_atomic_open(&af, path, SR_ATOMIC_REPLACE) != 0) {
        snprintf(err, errlen, "%s: cannot create: %s", path, strerror(errno));
        goto out;
    }
    w.fp = af.fp;
    uint8_t len8[8];
    for (int i = 0; i < 8; i++)
        len8[i] = (uint8_t)((uint64_t)hdr.len >> (8 * i));
    cw_write(&w, len8, 8);
    cw_write(&w, hdr.s, hdr.len);
    for (size_t i = 0; i < n && w.written < w.limit && !w.failed; i++) {
        fill_tensor(&t[i], spec, mods, buf);
        for (uint64_t k = 0; k < t[i].count; k++) { /* little-endian on any host */
            bytes[2 * k] = (uint8_t)(buf[k] & 0xffu);
            bytes[2 * k + 1] = (uint8_t)(buf[k] >> 8);
        }
        cw_write(&w, bytes, t[i].count * 2);
    }
    if (w.failed) {
        snprintf(err, errlen, "%s: cannot write: %s", path, strerror(w.failed));
        sr_atomic_abort(&af);
        goto out;
    }
    if (sr_atomic_commit(&af) != 0) {
        snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    free(bytes);
    free(buf);
    free(mods);
    free(t);
    sr_buf_free(&hdr);
    return rc;
}
