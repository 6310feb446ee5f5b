/* test_weight_metrics.c - LoRA weight metrics against ΔW formed explicitly,
 * the Gram kernel against a naive triple loop, and GPU == CPU parity.
 *
 * The hand-made checkpoints are small enough for ΔW = s·U·D to be
 * materialised with plain loops: its Frobenius norm directly, its singular
 * values as the square roots of the eigenvalues of ΔW·ΔWᵀ (Jacobi), the
 * drift as ‖ΔW1 − ΔW0‖ / ‖ΔW0‖ over the materialised differences.
 *
 * GPU tests follow tests/test_kernels.c: make_suite() never touches CUDA;
 * each GPU test looks for a device itself and prints "# SKIP no CUDA
 * device" when there is none. */
#include "config.h"

#include "check_main.h"
#include "device.h"
#include "kernels.h"
#include "lora_gram.h"
#include "safetensors.h"
#include "sweep.h"
#include "synth_lora.h"
#include "util.h"
#include "weight_metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* ---------------------------------------------------------------------
 * Value encodings (independent of kernels/lora_gram.c)
 * ------------------------------------------------------------------- */

static uint16_t f32_to_bf16(float f)
{
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    if ((x & 0x7fffffffu) > 0x7f800000u)
        return (uint16_t)((x >> 16) | 0x0040u);
    x += 0x7fffu + ((x >> 16) & 1u);
    return (uint16_t)(x >> 16);
}

static float bf16_to_f32(uint16_t h)
{
    uint32_t x = (uint32_t)h << 16;
    float f;
    memcpy(&f, &x, sizeof f);
    return f;
}

static size_t dtype_size(const char *dt)
{
    return strcmp(dt, "F64") == 0 ? 8 : strcmp(dt, "F32") == 0 ? 4 : 2;
}

/* The value a double becomes once stored as dt. */
static double stored(const char *dt, double v)
{
    if (strcmp(dt, "F16") == 0)
        return sr_f16_to_f32(sr_f32_to_f16((float)v));
    if (strcmp(dt, "BF16") == 0)
        return bf16_to_f32(f32_to_bf16((float)v));
    if (strcmp(dt, "F64") == 0)
        return v;
    return (double)(float)v;
}

static void encode(const char *dt, double v, unsigned char *p)
{
    if (strcmp(dt, "F64") == 0) {
        uint64_t x;
        memcpy(&x, &v, sizeof x);
        for (int i = 0; i < 8; i++)
            p[i] = (unsigned char)(x >> (8 * i));
        return;
    }
    if (strcmp(dt, "F32") == 0) {
        float f = (float)v;
        uint32_t x;
        memcpy(&x, &f, sizeof x);
        for (int i = 0; i < 4; i++)
            p[i] = (unsigned char)(x >> (8 * i));
        return;
    }
    uint16_t h = strcmp(dt, "F16") == 0 ? sr_f32_to_f16((float)v) : f32_to_bf16((float)v);
    p[0] = (unsigned char)(h & 0xff);
    p[1] = (unsigned char)(h >> 8);
}

/* ---------------------------------------------------------------------
 * Hand-made safetensors files
 * ------------------------------------------------------------------- */

typedef struct {
    char name[160];
    const char *dtype;
    int ndim;
    uint64_t shape[4];
    double *vals; /* as stored */
    size_t n;
} ttensor;

typedef struct {
    ttensor t[64];
    size_t n;
} tfile;

static void tf_add(tfile *f, const char *name, const char *dtype, int ndim, const uint64_t *shape,
                   const double *vals)
{
    ck_assert(f->n < 64);
    ttensor *t = &f->t[f->n++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->dtype = dtype;
    t->ndim = ndim;
    t->n = 1;
    for (int i = 0; i < ndim; i++) {
        t->shape[i] = shape[i];
        t->n *= (size_t)shape[i];
    }
    t->vals = xmalloc((t->n ? t->n : 1) * sizeof *t->vals);
    for (size_t i = 0; i < t->n; i++)
        t->vals[i] = stored(dtype, vals[i]);
}

static const ttensor *tf_find(const tfile *f, const char *name)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->t[i].name, name) == 0)
            return &f->t[i];
    return NULL;
}

static void tf_write(const tfile *f, const char *path)
{
    sr_buf h;
    sr_buf_init(&h);
    sr_buf_puts(&h, "{\"__metadata__\":{\"ss_network_dim\":\"4\"}");
    uint64_t off = 0;
    for (size_t i = 0; i < f->n; i++) {
        const ttensor *t = &f->t[i];
        sr_buf_printf(&h, ",\"%s\":{\"dtype\":\"%s\",\"shape\":[", t->name, t->dtype);
        for (int k = 0; k < t->ndim; k++)
            sr_buf_printf(&h, "%s%llu", k ? "," : "", (unsigned long long)t->shape[k]);
        uint64_t bytes = t->n * dtype_size(t->dtype);
        sr_buf_printf(&h, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)off,
                      (unsigned long long)(off + bytes));
        off += bytes;
    }
    sr_buf_puts(&h, "}");
    while (h.len % 8)
        sr_buf_puts(&h, " ");
    FILE *fp = fopen(path, "wb");
    ck_assert_msg(fp != NULL, "cannot create %s", path);
    unsigned char len8[8];
    for (int i = 0; i < 8; i++)
        len8[i] = (unsigned char)((uint64_t)h.len >> (8 * i));
    fwrite(len8, 1, 8, fp);
    fwrite(h.s, 1, h.len, fp);
    for (size_t i = 0; i < f->n; i++) {
        const ttensor *t = &f->t[i];
        size_t es = dtype_size(t->dtype);
        unsigned char *b = xmalloc(t->n * es + 1);
        for (size_t k = 0; k < t->n; k++)
            encode(t->dtype, t->vals[k], b + k * es);
        fwrite(b, 1, t->n * es, fp);
        free(b);
    }
    ck_assert_int_eq(fclose(fp), 0);
    sr_buf_free(&h);
}

static void tf_free(tfile *f)
{
    for (size_t i = 0; i < f->n; i++)
        free(f->t[i].vals);
    f->n = 0;
}

/* A LoRA module written into f, with its stored factors kept for the
 * explicit ΔW. */
typedef struct {
    char prefix[128];
    int r, out, n; /* ΔW is out × n */
    double s;
    double *D, *U; /* stored values: D r×n, U out×r */
} tmod;

enum { ALPHA_NONE, ALPHA_VALUE, ALPHA_ZERO };

typedef struct {
    const char *prefix;
    int peft;
    const char *dt_down, *dt_up;
    int r, out, in, kh, kw; /* kh = 0: linear */
    int alpha_mode;
    double alpha;
    uint64_t seed;      /* D from seed */
    uint64_t up_seed;   /* U from up_seed */
    double up_scale;
} tmod_spec;

static void add_module(tfile *f, tmod *m, const tmod_spec *sp)
{
    int conv = sp->kh > 0;
    int n = sp->in * (conv ? sp->kh * sp->kw : 1);
    snprintf(m->prefix, sizeof m->prefix, "%s", sp->prefix);
    m->r = sp->r;
    m->out = sp->out;
    m->n = n;
    m->s = (sp->alpha_mode == ALPHA_VALUE && sp->alpha != 0.0) ? sp->alpha / sp->r : 1.0;
    double *d = xmalloc(sizeof *d * (size_t)(sp->r * n) + 8);
    double *u = xmalloc(sizeof *u * (size_t)(sp->out * sp->r) + 8);
    sr_rng rng;
    sr_rng_seed(&rng, sp->seed);
    for (int i = 0; i < sp->r * n; i++)
        d[i] = sr_rng_normal(&rng) / sqrt((double)n);
    sr_rng_seed(&rng, sp->up_seed);
    for (int i = 0; i < sp->out * sp->r; i++)
        u[i] = sp->up_scale * sr_rng_normal(&rng);
    char name[200];
    uint64_t ds[4] = {(uint64_t)sp->r, (uint64_t)sp->in, (uint64_t)sp->kh, (uint64_t)sp->kw};
    uint64_t us[4] = {(uint64_t)sp->out, (uint64_t)sp->r, 1, 1};
    snprintf(name, sizeof name, "%s.%s", sp->prefix, sp->peft ? "lora_A.weight" : "lora_down.weight");
    tf_add(f, name, sp->dt_down, conv ? 4 : 2, ds, d);
    snprintf(name, sizeof name, "%s.%s", sp->prefix, sp->peft ? "lora_B.weight" : "lora_up.weight");
    tf_add(f, name, sp->dt_up, conv ? 4 : 2, us, u);
    if (sp->alpha_mode != ALPHA_NONE) {
        double a = sp->alpha_mode == ALPHA_ZERO ? 0.0 : sp->alpha;
        snprintf(name, sizeof name, "%s.alpha", sp->prefix);
        tf_add(f, name, "F32", 0, NULL, &a);
    }
    /* Keep the stored values. */
    snprintf(name, sizeof name, "%s.%s", sp->prefix, sp->peft ? "lora_A.weight" : "lora_down.weight");
    memcpy(d, tf_find(f, name)->vals, sizeof *d * (size_t)(sp->r * n));
    snprintf(name, sizeof name, "%s.%s", sp->prefix, sp->peft ? "lora_B.weight" : "lora_up.weight");
    memcpy(u, tf_find(f, name)->vals, sizeof *u * (size_t)(sp->out * sp->r));
    m->D = d;
    m->U = u;
}

static void tmod_free(tmod *m)
{
    free(m->D);
    free(m->U);
}

/* ΔW (out × n), formed explicitly. */
static double *delta_w(const tmod *m)
{
    double *w = xcalloc((size_t)(m->out * m->n), sizeof *w);
    for (int i = 0; i < m->out; i++)
        for (int j = 0; j < m->n; j++) {
            double s = 0.0;
            for (int k = 0; k < m->r; k++)
                s += m->U[i * m->r + k] * m->D[k * m->n + j];
            w[i * m->n + j] = m->s * s;
        }
    return w;
}

static double frob2(const double *w, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += w[i] * w[i];
    return s;
}

/* Effective rank from the singular values of the materialised ΔW: the top
 * min(r, out, n) eigenvalues of ΔW·ΔWᵀ (its other eigenvalues are 0). */
static double explicit_effective_rank(const tmod *m)
{
    double *w = delta_w(m);
    size_t o = (size_t)m->out;
    double *g = xmalloc(o * o * sizeof *g), *lam = xmalloc(o * sizeof *lam);
    for (size_t i = 0; i < o; i++)
        for (size_t j = 0; j < o; j++) {
            double s = 0.0;
            for (int k = 0; k < m->n; k++)
                s += w[i * (size_t)m->n + (size_t)k] * w[j * (size_t)m->n + (size_t)k];
            g[i * o + j] = s;
        }
    ck_assert_int_eq(sr_wm_sym_eigen(g, o, lam, NULL), 0);
    size_t keep = (size_t)m->r;
    if (keep > o)
        keep = o;
    if (keep > (size_t)m->n)
        keep = (size_t)m->n;
    double total = 0.0, h = 0.0;
    for (size_t i = o - keep; i < o; i++)
        total += sqrt(lam[i] > 0 ? lam[i] : 0);
    for (size_t i = o - keep; i < o; i++) {
        double p = sqrt(lam[i] > 0 ? lam[i] : 0) / total;
        if (p > 0)
            h -= p * log(p);
    }
    free(w);
    free(g);
    free(lam);
    return exp(h);
}

static const sr_wm_module *find_module(const sr_wm_ckpt *c, const char *name)
{
    const sr_wm_module *mods;
    size_t n = sr_wm_modules(c, &mods);
    for (size_t i = 0; i < n; i++)
        if (strcmp(mods[i].name, name) == 0)
            return &mods[i];
    return NULL;
}

static int close_rel(double a, double b, double tol)
{
    double scale = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
    return fabs(a - b) <= tol * (scale > 1e-300 ? scale : 1e-300);
}

#define ASSERT_CLOSE(a, b, tol, what)                                                                    \
    ck_assert_msg(close_rel((a), (b), (tol)), "%s: %.17g vs %.17g (tolerance %g)", (what), (double)(a), \
                  (double)(b), (double)(tol))

static double metric(const sr_metrics *m, const char *name)
{
    double v = NAN;
    ck_assert_msg(sr_metrics_get(m, name, &v), "metric %s missing", name);
    return v;
}

/* The mixed checkpoint of several tests.  The last module has r > in: its
 * Gd is singular (the eigen-decomposition fallback). */
enum { NMIX = 9 };
static const tmod_spec mix_specs[NMIX] = {
    {"lora_unet_down_blocks_0_attentions_0_proj_in", 0, "F32", "F32", 4, 6, 5, 0, 0, ALPHA_VALUE, 2.0, 11, 12, 1.0},
    {"lora_unet_mid_block_attentions_0_proj_out", 0, "F16", "F16", 3, 7, 8, 1, 1, ALPHA_NONE, 0, 21, 22, 0.5},
    {"lora_unet_up_blocks_1_resnets_0_conv1", 0, "BF16", "BF16", 2, 5, 4, 3, 3, ALPHA_ZERO, 0, 31, 32, 2.0},
    {"lora_te_text_model_encoder_layers_0_mlp_fc1", 0, "F32", "F32", 5, 3, 6, 0, 0, ALPHA_VALUE, 8.0, 41, 42, 1.0},
    {"unet.down_blocks.1.attentions.0.to_q", 1, "F32", "F32", 4, 9, 6, 0, 0, ALPHA_NONE, 0, 51, 52, 0.3},
    {"lora_unet_conv_in", 0, "F32", "F32", 2, 4, 3, 3, 3, ALPHA_VALUE, 1.0, 61, 62, 1.0},
    {"lora_te2_text_model_encoder_layers_1_self_attn_q_proj", 0, "F16", "BF16", 3, 4, 7, 0, 0, ALPHA_VALUE, 1.5,
     71, 72, 1.0},
    {"lora_te1_text_model_encoder_layers_2_self_attn_k_proj", 0, "BF16", "F32", 6, 8, 8, 0, 0, ALPHA_VALUE, 3.0,
     81, 82, 0.7},
    {"lora_unet_down_blocks_2_attentions_1_proj_out", 0, "F32", "F16", 6, 5, 4, 0, 0, ALPHA_VALUE, 3.0, 91, 92, 1.0},
};

/* LoHa tensors of one module (not measured); x goes into w1_a and w2_a. */
static void add_loha(tfile *f, const char *prefix, double x)
{
    char name[200];
    uint64_t sa[2] = {5, 2}, sb[2] = {2, 4};
    double va[10], vb[8];
    for (int i = 0; i < 10; i++)
        va[i] = 0.1 * (i + 1);
    for (int i = 0; i < 8; i++)
        vb[i] = -0.05 * (i + 1);
    va[3] = x;
    static const char *parts[] = {"hada_w1_a", "hada_w1_b", "hada_w2_a", "hada_w2_b"};
    for (int p = 0; p < 4; p++) {
        snprintf(name, sizeof name, "%s.%s", prefix, parts[p]);
        tf_add(f, name, "F16", 2, p % 2 ? sb : sa, p % 2 ? vb : va);
    }
    double a = 2.0;
    snprintf(name, sizeof name, "%s.alpha", prefix);
    tf_add(f, name, "F16", 0, NULL, &a);
}

static sr_wm_ckpt *load_ok(const char *path)
{
    sr_wm_ckpt *c = NULL;
    char err[256] = "";
    sr_st_status s = sr_wm_load(path, NULL, &c, err, sizeof err);
    ck_assert_msg(s == SR_ST_OK, "%s: status %d: %s", path, (int)s, err);
    return c;
}

/* ---------------------------------------------------------------------
 * Per-module norms, effective ranks, blocks, inspector numbers
 * ------------------------------------------------------------------- */

START_TEST(test_modules_explicit)
{
    char *dir = test_tmpdir("wm_modules");
    char *path = sr_path_join(dir, "mix.safetensors");
    tfile f = {.n = 0};
    tmod m[NMIX];
    for (int i = 0; i < NMIX; i++)
        add_module(&f, &m[i], &mix_specs[i]);
    add_loha(&f, "lora_unet_up_blocks_0_attentions_0_proj_in", 0.25);
    tf_write(&f, path);

    sr_wm_ckpt *c = load_ok(path);
    const sr_wm_summary *s = sr_wm_summary_of(c);
    double total2 = 0, block2[SR_WM_NBLOCKS] = {0}, erank = 0;
    static const sr_wm_block blocks[NMIX] = {SR_WM_UNET_DOWN,    SR_WM_UNET_MID,     SR_WM_UNET_UP,
                                             SR_WM_TEXT_ENCODER, SR_WM_UNET_DOWN,    SR_WM_OTHER,
                                             SR_WM_TEXT_ENCODER, SR_WM_TEXT_ENCODER, SR_WM_UNET_DOWN};
    for (int i = 0; i < NMIX; i++) {
        const sr_wm_module *mod = find_module(c, m[i].prefix);
        ck_assert_msg(mod != NULL, "module %s missing", m[i].prefix);
        ck_assert_msg(mod->measured, "%s not measured: %s", m[i].prefix, mod->why_not);
        ck_assert_int_eq(mod->block, blocks[i]);
        ck_assert_int_eq(mod->family, mix_specs[i].peft ? SR_WM_PEFT : SR_WM_LORA);
        ck_assert_int_eq(mod->rank, m[i].r);
        ck_assert_uint_eq(mod->out_features, (uint64_t)m[i].out);
        ck_assert_uint_eq(mod->in_features, (uint64_t)m[i].n);
        ASSERT_CLOSE(mod->scale, m[i].s, 1e-15, m[i].prefix);
        ck_assert_int_eq(mod->down_ndim, mix_specs[i].kh ? 4 : 2);
        double *w = delta_w(&m[i]);
        double n2 = frob2(w, (size_t)(m[i].out * m[i].n));
        free(w);
        ASSERT_CLOSE(mod->delta_norm, sqrt(n2), 1e-11, m[i].prefix);
        double er = explicit_effective_rank(&m[i]);
        ASSERT_CLOSE(mod->effective_rank, er, 1e-6, m[i].prefix);
        ck_assert(mod->effective_rank >= 1.0 - 1e-12);
        ck_assert(mod->effective_rank <= m[i].r + 1e-9);
        total2 += n2;
        block2[blocks[i]] += n2;
        erank += er;
    }
    /* Stored alpha: NAN when missing, 0 kept as 0. */
    ck_assert(isnan(find_module(c, mix_specs[1].prefix)->alpha));
    ck_assert(find_module(c, mix_specs[2].prefix)->alpha == 0.0);
    ck_assert(find_module(c, mix_specs[0].prefix)->alpha == 2.0);
    ck_assert_int_eq(find_module(c, mix_specs[0].prefix)->dtype, SR_DT_F32);
    ck_assert_int_eq(find_module(c, mix_specs[2].prefix)->dtype, SR_DT_BF16);

    const sr_wm_module *loha = find_module(c, "lora_unet_up_blocks_0_attentions_0_proj_in");
    ck_assert(loha != NULL && !loha->measured && loha->family == SR_WM_LOHA);
    ck_assert(isnan(loha->delta_norm));

    ck_assert_uint_eq(s->n_modules, NMIX + 1);
    ck_assert_uint_eq(s->n_measured, NMIX);
    ck_assert_uint_eq(s->unmeasured[SR_WM_LOHA], 1);
    ck_assert_str_eq(s->note, "1 LoHa module not measured");
    ck_assert_uint_eq(s->nonfinite, 0);
    ASSERT_CLOSE(s->delta_norm, sqrt(total2), 1e-11, "total");
    for (int b = 0; b < SR_WM_NBLOCKS; b++)
        ASSERT_CLOSE(s->block_norm[b], sqrt(block2[b]), 1e-11, sr_wm_block_name((sr_wm_block)b));
    ASSERT_CLOSE(s->effective_rank, erank / NMIX, 1e-6, "mean effective rank");

    sr_metrics mt = {0};
    sr_wm_metrics(c, &mt);
    ASSERT_CLOSE(metric(&mt, "weight_delta_norm"), sqrt(total2), 1e-11, "metric");
    ASSERT_CLOSE(metric(&mt, "weight_norm_unet_down"), sqrt(block2[SR_WM_UNET_DOWN]), 1e-11, "unet_down");
    ASSERT_CLOSE(metric(&mt, "weight_norm_unet_mid"), sqrt(block2[SR_WM_UNET_MID]), 1e-11, "unet_mid");
    ASSERT_CLOSE(metric(&mt, "weight_norm_unet_up"), sqrt(block2[SR_WM_UNET_UP]), 1e-11, "unet_up");
    ASSERT_CLOSE(metric(&mt, "weight_norm_text_encoder"), sqrt(block2[SR_WM_TEXT_ENCODER]), 1e-11, "te");
    ASSERT_CLOSE(metric(&mt, "weight_norm_other"), sqrt(block2[SR_WM_OTHER]), 1e-11, "other");
    ASSERT_CLOSE(metric(&mt, "weight_effective_rank"), erank / NMIX, 1e-6, "erank");
    ck_assert(metric(&mt, "weight_nonfinite") == 0.0);
    ck_assert(metric(&mt, "weight_modules") == NMIX);
    ck_assert(metric(&mt, "weight_modules_unmeasured") == 1);
    double v;
    ck_assert(!sr_metrics_get(&mt, "weight_drift", &v));

    /* lora-inspector: every ".weight" tensor of a group, separately. */
    static const char *gname[SR_WM_NINSP] = {"unet", "unet_conv", "te", "te2"};
    double mag[SR_WM_NINSP] = {0}, str[SR_WM_NINSP] = {0};
    int cnt[SR_WM_NINSP] = {0};
    for (size_t t = 0; t < f.n; t++) {
        const char *nm = f.t[t].name;
        if (!sr_str_has_suffix(nm, ".weight"))
            continue;
        int g = -1;
        if (sr_str_has_prefix(nm, "lora_unet"))
            g = strstr(nm, "conv") ? 1 : 0;
        else if (sr_str_has_prefix(nm, "lora_te_text_model_encoder_layers_") ||
                 sr_str_has_prefix(nm, "lora_te1_text_model_encoder_layers"))
            g = 2;
        else if (sr_str_has_prefix(nm, "lora_te2_text_model_encoder_layers_"))
            g = 3;
        if (g < 0)
            continue;
        double sq = 0, ab = 0;
        for (size_t k = 0; k < f.t[t].n; k++) {
            sq += f.t[t].vals[k] * f.t[t].vals[k];
            ab += fabs(f.t[t].vals[k]);
        }
        mag[g] += sqrt(sq);
        str[g] += ab / (double)f.t[t].n;
        cnt[g]++;
    }
    /* unet: down_0, mid and down_2 (2 tensors each); unet_conv: up_1 conv1
     * and conv_in; te: te_ and te1_; te2.  PEFT and LoHa names are in no group. */
    ck_assert_int_eq(cnt[0], 6);
    ck_assert_int_eq(cnt[1], 4);
    ck_assert_int_eq(cnt[2], 4);
    ck_assert_int_eq(cnt[3], 2);
    for (int g = 0; g < SR_WM_NINSP; g++) {
        char name[64];
        ck_assert_uint_eq(s->insp_tensors[g], (size_t)cnt[g]);
        snprintf(name, sizeof name, "inspector_avg_magnitude_%s", gname[g]);
        ASSERT_CLOSE(metric(&mt, name), mag[g] / cnt[g], 1e-12, name);
        snprintf(name, sizeof name, "inspector_avg_strength_%s", gname[g]);
        ASSERT_CLOSE(metric(&mt, name), str[g] / cnt[g], 1e-12, name);
    }

    sr_metrics_free(&mt);
    sr_wm_free(c);
    for (int i = 0; i < NMIX; i++)
        tmod_free(&m[i]);
    tf_free(&f);
    test_rmtree(dir);
    free(path);
    free(dir);
}
END_TEST

/* ---------------------------------------------------------------------
 * Non-finite values, odd modules
 * ------------------------------------------------------------------- */

START_TEST(test_nonfinite_and_odd_modules)
{
    char *dir = test_tmpdir("wm_nonfinite");
    char *path = sr_path_join(dir, "bad.safetensors");
    tfile f = {.n = 0};
    tmod good, nan_down, inf_up;
    tmod_spec sg = {"lora_unet_down_blocks_0_attentions_0_proj_in", 0, "F16", "F16", 4, 6, 5, 0, 0,
                    ALPHA_VALUE, 4.0, 1, 2, 1.0};
    tmod_spec sn = {"lora_unet_down_blocks_1_attentions_0_proj_in", 0, "F16", "F16", 2, 3, 4, 0, 0,
                    ALPHA_VALUE, 1.0, 3, 4, 1.0};
    tmod_spec si = {"lora_unet_up_blocks_1_attentions_0_proj_in", 0, "BF16", "BF16", 2, 3, 4, 0, 0,
                    ALPHA_VALUE, 1.0, 5, 6, 1.0};
    add_module(&f, &good, &sg);
    add_module(&f, &nan_down, &sn);
    add_module(&f, &inf_up, &si);
    f.t[3].vals[5] = NAN;      /* nan_down's lora_down */
    f.t[7].vals[0] = INFINITY; /* inf_up's lora_up */
    f.t[7].vals[1] = -INFINITY;
    add_loha(&f, "lora_unet_mid_block_attentions_0_proj_in", NAN);
    /* An alpha that is Inf, a lora_down without lora_up, a Tucker module,
     * an unknown tensor, a PEFT module with an F64 factor. */
    {
        tmod t;
        tmod_spec sa = {"lora_te_text_model_encoder_layers_0_mlp_fc2", 0, "F32", "F32", 2, 3, 3, 0, 0,
                        ALPHA_VALUE, INFINITY, 7, 8, 1.0};
        add_module(&f, &t, &sa);
        tmod_free(&t);
    }
    uint64_t sh[2] = {2, 3};
    double v6[6] = {1, 2, 3, 4, 5, 6};
    tf_add(&f, "lora_te_text_model_encoder_layers_1_mlp_fc2.lora_down.weight", "F32", 2, sh, v6);
    tf_add(&f, "lora_unet_up_blocks_2_x.lora_down.weight", "F32", 2, sh, v6);
    tf_add(&f, "lora_unet_up_blocks_2_x.lora_up.weight", "F32", 2, (uint64_t[2]){3, 2}, v6);
    tf_add(&f, "lora_unet_up_blocks_2_x.lora_mid.weight", "F32", 2, (uint64_t[2]){2, 2}, v6);
    tf_add(&f, "emb_params", "F16", 2, sh, v6);
    /* an alpha stored as F64 that is NaN */
    tf_add(&f, "lora_te_text_model_encoder_layers_2_mlp_fc2.lora_down.weight", "F32", 2, sh, v6);
    tf_add(&f, "lora_te_text_model_encoder_layers_2_mlp_fc2.lora_up.weight", "F32", 2, (uint64_t[2]){3, 2}, v6);
    tf_add(&f, "lora_te_text_model_encoder_layers_2_mlp_fc2.alpha", "F64", 0, NULL, (double[1]){NAN});
    tf_write(&f, path);

    sr_wm_ckpt *c = load_ok(path);
    const sr_wm_summary *s = sr_wm_summary_of(c);
    /* NaN in lora_down, +Inf and -Inf in lora_up, NaN in hada_w1_a and
     * hada_w2_a, Inf alpha, NaN F64 alpha. */
    ck_assert_uint_eq(s->nonfinite, 7);
    const sr_wm_module *mg = find_module(c, sg.prefix);
    ck_assert(mg->measured);
    double *w = delta_w(&good);
    ASSERT_CLOSE(mg->delta_norm, sqrt(frob2(w, 30)), 1e-11, "good module");
    free(w);
    ASSERT_CLOSE(s->delta_norm, mg->delta_norm, 1e-15, "only the good module counts");
    const struct {
        const char *name;
        const char *why;
        uint64_t nonfinite;
    } bad[] = {
        {sn.prefix, "non-finite values", 1},
        {si.prefix, "non-finite values", 2},
        {"lora_te_text_model_encoder_layers_0_mlp_fc2", "non-finite values", 1},
        {"lora_te_text_model_encoder_layers_1_mlp_fc2", "no up factor", 0},
        {"lora_te_text_model_encoder_layers_2_mlp_fc2", "non-finite values", 1},
        {"lora_unet_up_blocks_2_x", "Tucker mid factor", 0},
        {"emb_params", "unknown tensors", 0},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const sr_wm_module *b = find_module(c, bad[i].name);
        ck_assert_msg(b != NULL, "%s missing", bad[i].name);
        ck_assert_msg(!b->measured, "%s measured", bad[i].name);
        ck_assert_str_eq(b->why_not, bad[i].why);
        ck_assert_uint_eq(b->nonfinite, bad[i].nonfinite);
    }
    ck_assert_uint_eq(find_module(c, "lora_unet_mid_block_attentions_0_proj_in")->nonfinite, 2);
    ck_assert_uint_eq(s->n_measured, 1);
    ck_assert_uint_eq(s->n_modules, 9);
    ck_assert_msg(strstr(s->note, "4 LoRA modules not measured (non-finite values)") != NULL, "%s", s->note);
    ck_assert_msg(strstr(s->note, "1 LoHa module not measured") != NULL, "%s", s->note);
    ck_assert_msg(strstr(s->note, "1 other module not measured (unknown tensors)") != NULL, "%s", s->note);

    sr_metrics mt = {0};
    sr_wm_metrics(c, &mt);
    ck_assert(metric(&mt, "weight_nonfinite") == 7.0);
    ck_assert(metric(&mt, "weight_modules_unmeasured") == 8.0);
    /* a block with a measured module has its norm; one whose modules could
     * none be measured has none (not 0) */
    ASSERT_CLOSE(metric(&mt, "weight_norm_unet_down"), mg->delta_norm, 1e-15, "the down blocks' norm");
    {
        double nv;
        ck_assert(!sr_metrics_get(&mt, "weight_norm_unet_mid", &nv));
        ck_assert(!sr_metrics_get(&mt, "weight_norm_unet_up", &nv));
        ck_assert(!sr_metrics_get(&mt, "weight_norm_text_encoder", &nv));
    }
    /* A NaN in a lora_unet tensor makes lora-inspector's UNet average NaN:
     * left out; the text encoder's tensors are finite. */
    double v;
    ck_assert(!sr_metrics_get(&mt, "inspector_avg_magnitude_unet", &v));
    ck_assert(metric(&mt, "inspector_avg_magnitude_te") > 0.0);
    sr_metrics_free(&mt);
    sr_wm_free(c);
    tmod_free(&good);
    tmod_free(&nan_down);
    tmod_free(&inf_up);
    tf_free(&f);
    test_rmtree(dir);
    free(path);
    free(dir);
}
END_TEST

START_TEST(test_zero_update_and_empty)
{
    /* A freshly initialised LoRA (lora_up = 0): measured, norm 0, no
     * effective rank; drift against it is undefined. */
    char *dir = test_tmpdir("wm_zero");
    char *p0 = sr_path_join(dir, "zero.safetensors"), *p1 = sr_path_join(dir, "one.safetensors");
    char *pe = sr_path_join(dir, "empty.safetensors");
    tfile f = {.n = 0};
    tmod m0, m1;
    tmod_spec sp = {"lora_unet_down_blocks_0_x", 0, "F16", "F16", 4, 5, 6, 0, 0, ALPHA_VALUE, 4, 1, 2, 0.0};
    add_module(&f, &m0, &sp);
    tf_write(&f, p0);
    tf_free(&f);
    sp.up_scale = 1.0;
    add_module(&f, &m1, &sp);
    tf_write(&f, p1);
    tf_free(&f);
    tf_write(&f, pe); /* no tensors at all */

    sr_wm_ckpt *c0 = load_ok(p0), *c1 = load_ok(p1), *ce = load_ok(pe);
    const sr_wm_module *z = find_module(c0, sp.prefix);
    ck_assert(z->measured && z->delta_norm == 0.0 && isnan(z->effective_rank));
    sr_metrics mt = {0};
    sr_wm_metrics(c0, &mt);
    double v;
    ck_assert(!sr_metrics_get(&mt, "weight_effective_rank", &v));
    ck_assert(metric(&mt, "weight_delta_norm") == 0.0);
    sr_metrics_free(&mt);
    double d = -1;
    ck_assert_int_eq(sr_wm_drift(c1, c0, NULL, &d), -1);
    ck_assert_int_eq(sr_wm_drift(c0, c1, NULL, &d), 0);
    ASSERT_CLOSE(d, 1.0, 1e-12, "drift to zero");
    ck_assert_int_eq(sr_wm_drift(ce, c1, NULL, &d), 0); /* every module gone */
    ASSERT_CLOSE(d, 1.0, 1e-12, "drift to nothing");
    ck_assert_uint_eq(sr_wm_summary_of(ce)->n_modules, 0);
    sr_wm_metrics(ce, &mt);
    ck_assert(metric(&mt, "weight_delta_norm") == 0.0);
    ck_assert(metric(&mt, "weight_norm_unet_down") == 0.0);
    ck_assert(!sr_metrics_get(&mt, "weight_norm_other", &v));
    ck_assert(!sr_metrics_get(&mt, "inspector_avg_magnitude_unet", &v));
    sr_metrics_free(&mt);
    ck_assert(!sr_wm_unmeasurable(sr_wm_summary_of(ce)));

    /* tensors, but none of a LoRA (a base model's weights): nothing is
     * measured, so there is no norm and no drift, rather than zeros */
    char *pn = sr_path_join(dir, "notlora.safetensors");
    tfile fn = {.n = 0};
    const uint64_t shape[2] = {4, 4};
    double vals[16];
    for (int i = 0; i < 16; i++)
        vals[i] = 0.25 * (i - 8);
    tf_add(&fn, "model.diffusion_model.input_blocks.0.0.weight", "F16", 2, shape, vals);
    tf_write(&fn, pn);
    tf_free(&fn);
    sr_wm_ckpt *cn = load_ok(pn);
    ck_assert(sr_wm_unmeasurable(sr_wm_summary_of(cn)));
    sr_wm_metrics(cn, &mt);
    ck_assert(!sr_metrics_get(&mt, "weight_delta_norm", &v));
    ck_assert(!sr_metrics_get(&mt, "weight_norm_unet_down", &v));
    ck_assert(metric(&mt, "weight_modules") == 0.0);
    ck_assert(metric(&mt, "weight_nonfinite") == 0.0);
    sr_metrics_free(&mt);
    ck_assert_int_eq(sr_wm_drift(cn, c1, NULL, &d), -1);
    ck_assert_int_eq(sr_wm_drift(c1, cn, NULL, &d), -1);
    sr_wm_free(cn);
    free(pn);

    sr_wm_free(c0);
    sr_wm_free(c1);
    sr_wm_free(ce);
    tmod_free(&m0);
    tmod_free(&m1);
    test_rmtree(dir);
    free(p0);
    free(p1);
    free(pe);
    free(dir);
}
END_TEST

/* ---------------------------------------------------------------------
 * Drift
 * ------------------------------------------------------------------- */

/* ‖ΔW1 − ΔW0‖² over explicit matrices. */
static double diff2(const tmod *a, const tmod *b)
{
    ck_assert(a->out == b->out && a->n == b->n);
    double *wa = delta_w(a), *wb = delta_w(b);
    double s = 0;
    for (int i = 0; i < a->out * a->n; i++)
        s += (wa[i] - wb[i]) * (wa[i] - wb[i]);
    free(wa);
    free(wb);
    return s;
}

static double norm2_of(const tmod *a)
{
    double *w = delta_w(a);
    double s = frob2(w, (size_t)(a->out * a->n));
    free(w);
    return s;
}

START_TEST(test_drift_explicit)
{
    char *dir = test_tmpdir("wm_drift");
    char *p0 = sr_path_join(dir, "t-000001.safetensors"), *p1 = sr_path_join(dir, "t-000002.safetensors");
    /* Checkpoint 0: A (r 4), B (conv 3x3, r 2), C (only here).
     * Checkpoint 1: A (r 6, other dtype and alpha), B (U changed), D (only here). */
    tmod_spec a0 = {"lora_unet_down_blocks_0_a", 0, "F16", "F16", 4, 7, 9, 0, 0, ALPHA_VALUE, 2.0, 1, 2, 1.0};
    tmod_spec b0 = {"lora_unet_up_blocks_1_b", 0, "F32", "F32", 2, 5, 3, 3, 3, ALPHA_NONE, 0, 3, 4, 1.0};
    tmod_spec c0s = {"lora_te_c", 0, "BF16", "BF16", 3, 4, 4, 0, 0, ALPHA_VALUE, 3.0, 5, 6, 1.0};
    tmod_spec a1 = {"lora_unet_down_blocks_0_a", 0, "BF16", "F32", 6, 7, 9, 0, 0, ALPHA_VALUE, 3.0, 7, 8, 1.0};
    tmod_spec b1 = {"lora_unet_up_blocks_1_b", 0, "F32", "F32", 2, 5, 3, 3, 3, ALPHA_NONE, 0, 3, 9, 1.0};
    tmod_spec d1 = {"unet.mid_block.d", 1, "F32", "F16", 2, 3, 3, 0, 0, ALPHA_NONE, 0, 10, 11, 1.0};
    tfile f = {.n = 0};
    tmod A0, B0, C0, A1, B1, D1;
    add_module(&f, &A0, &a0);
    add_module(&f, &B0, &b0);
    add_module(&f, &C0, &c0s);
    tf_write(&f, p0);
    tf_free(&f);
    add_module(&f, &A1, &a1);
    add_module(&f, &B1, &b1);
    add_module(&f, &D1, &d1);
    tf_write(&f, p1);
    tf_free(&f);

    double num = diff2(&A1, &A0) + diff2(&B1, &B0) + norm2_of(&C0) + norm2_of(&D1);
    double den = norm2_of(&A0) + norm2_of(&B0) + norm2_of(&C0);
    double expect = sqrt(num / den);

    sr_wm_ckpt *c0 = load_ok(p0), *c1 = load_ok(p1);
    double d = NAN;
    ck_assert_int_eq(sr_wm_drift(c1, c0, NULL, &d), 0);
    ASSERT_CLOSE(d, expect, 1e-10, "drift");
    ck_assert_int_eq(sr_wm_drift(c0, c0, NULL, &d), 0);
    ck_assert_msg(d >= 0.0 && d < 1e-7, "self drift %g", d);
    sr_wm_free(c0);
    sr_wm_free(c1);

    /* The trial API: no drift for the first checkpoint, then the same number;
     * a checkpoint that cannot be read is skipped and the previous one kept. */
    char *bad = sr_path_join(dir, "t-000003.safetensors");
    FILE *fp = fopen(bad, "wb");
    fputs("not a checkpoint", fp);
    fclose(fp);
    sr_wm_trial t;
    sr_wm_trial_init(&t, NULL);
    sr_metrics m0 = {0}, m1 = {0}, mbad = {0};
    char err[256];
    ck_assert_int_eq(sr_wm_trial_next(&t, p0, &m0, err, sizeof err), SR_ST_OK);
    double v;
    ck_assert(!sr_metrics_get(&m0, "weight_drift", &v));
    ck_assert_int_eq(sr_wm_trial_next(&t, bad, &mbad, err, sizeof err), SR_ST_INVALID);
    ck_assert_uint_eq(mbad.n, 0);
    ck_assert_int_eq(sr_wm_trial_next(&t, p1, &m1, err, sizeof err), SR_ST_OK);
    ASSERT_CLOSE(metric(&m1, "weight_drift"), expect, 1e-10, "trial drift");
    sr_wm_trial_free(&t);
    sr_metrics_free(&m0);
    sr_metrics_free(&m1);
    sr_metrics_free(&mbad);

    tmod *all[] = {&A0, &B0, &C0, &A1, &B1, &D1};
    for (size_t i = 0; i < 6; i++)
        tmod_free(all[i]);
    test_rmtree(dir);
    free(bad);
    free(p0);
    free(p1);
    free(dir);
}
END_TEST

START_TEST(test_drift_small_change)
{
    /* Two checkpoints that differ by a relative 1e-5 in one factor: the
     * cancellation in ‖A‖² + ‖B‖² − 2⟨A,B⟩ must still give the drift to a
     * few digits (double accumulation of exact products). */
    char *dir = test_tmpdir("wm_drift_small");
    char *p0 = sr_path_join(dir, "a.safetensors"), *p1 = sr_path_join(dir, "b.safetensors");
    tmod_spec sp = {"lora_unet_down_blocks_0_a", 0, "F32", "F32", 8, 40, 300, 0, 0, ALPHA_VALUE, 4.0, 1, 2, 1.0};
    tfile f = {.n = 0};
    tmod A0, A1;
    add_module(&f, &A0, &sp);
    tf_write(&f, p0);
    tf_free(&f);
    /* Same D, U with 1e-5 relative noise. */
    add_module(&f, &A1, &sp);
    sr_rng rng;
    sr_rng_seed(&rng, 99);
    ttensor *up = &f.t[1];
    ck_assert(strstr(up->name, "lora_up") != NULL);
    for (size_t i = 0; i < up->n; i++)
        up->vals[i] = stored("F32", up->vals[i] * (1.0 + 1e-5 * sr_rng_normal(&rng)));
    memcpy(A1.U, up->vals, up->n * sizeof *A1.U);
    tf_write(&f, p1);
    tf_free(&f);
    double expect = sqrt(diff2(&A1, &A0) / norm2_of(&A0));
    ck_assert_msg(expect > 1e-6 && expect < 1e-4, "expected drift %g", expect);
    sr_wm_ckpt *c0 = load_ok(p0), *c1 = load_ok(p1);
    double d;
    ck_assert_int_eq(sr_wm_drift(c1, c0, NULL, &d), 0);
    ASSERT_CLOSE(d, expect, 1e-3, "small drift");
    sr_wm_free(c0);
    sr_wm_free(c1);
    tmod_free(&A0);
    tmod_free(&A1);
    test_rmtree(dir);
    free(p0);
    free(p1);
    free(dir);
}
END_TEST

/* ---------------------------------------------------------------------
 * Real SD1.5 files from the synthetic writer
 * ------------------------------------------------------------------- */

START_TEST(test_synth_checkpoints)
{
    char *dir = test_tmpdir("wm_synth");
    const double scales[3] = {0.2, 0.5, 1.0};
    char *paths[3];
    for (int e = 0; e < 3; e++) {
        paths[e] = xasprintf("%s/lora-%06d.safetensors", dir, e + 1);
        sr_lora_spec spec = {.rank = 4, .alpha = 2.0, .base_seed = 7, .noise_seed = (uint64_t)(100 + e),
                             .up_scale = scales[e], .up_noise = 0.01, .keep_fraction = 1.0};
        char err[256];
        ck_assert_msg(sr_lora_write(paths[e], &spec, err, sizeof err) == 0, "%s", err);
    }
    sr_wm_trial t;
    sr_wm_trial_init(&t, NULL);
    double prev_norm = 0;
    for (int e = 0; e < 3; e++) {
        sr_metrics m = {0};
        char err[256];
        ck_assert_int_eq(sr_wm_trial_next(&t, paths[e], &m, err, sizeof err), SR_ST_OK);
        const sr_wm_summary *s = sr_wm_summary_of(t.prev);
        ck_assert_uint_eq(s->n_modules, SR_LORA_SD15_MODULES);
        ck_assert_uint_eq(s->n_measured, SR_LORA_SD15_MODULES);
        ck_assert_str_eq(s->note, "");
        double norm = metric(&m, "weight_delta_norm");
        ck_assert_msg(norm > prev_norm * 1.5, "epoch %d: norm %g after %g", e + 1, norm, prev_norm);
        prev_norm = norm;
        double er = metric(&m, "weight_effective_rank");
        ck_assert_msg(er > 1.0 && er <= 4.0, "effective rank %g", er);
        ck_assert(metric(&m, "weight_nonfinite") == 0.0);
        ck_assert(metric(&m, "weight_norm_unet_down") > 0 && metric(&m, "weight_norm_unet_mid") > 0 &&
                  metric(&m, "weight_norm_unet_up") > 0 && metric(&m, "weight_norm_text_encoder") > 0);
        double sum2 = 0;
        static const char *bn[] = {"weight_norm_unet_down", "weight_norm_unet_mid", "weight_norm_unet_up",
                                   "weight_norm_text_encoder"};
        for (int b = 0; b < 4; b++)
            sum2 += metric(&m, bn[b]) * metric(&m, bn[b]);
        ASSERT_CLOSE(sqrt(sum2), norm, 1e-12, "blocks add up");
        ck_assert(metric(&m, "inspector_avg_magnitude_unet") > 0);
        ck_assert(metric(&m, "inspector_avg_strength_te") > 0);
        double v;
        ck_assert(!sr_metrics_get(&m, "inspector_avg_magnitude_unet_conv", &v));
        if (e == 0) {
            ck_assert(!sr_metrics_get(&m, "weight_drift", &v));
        } else {
            /* Same base, larger scale: the update grows along itself. */
            double d = metric(&m, "weight_drift");
            double expect = scales[e] / scales[e - 1] - 1.0;
            ck_assert_msg(fabs(d - expect) < 0.05 * expect, "drift %g, about %g expected", d, expect);
        }
        const sr_wm_module *mods;
        size_t n = sr_wm_modules(t.prev, &mods);
        for (size_t i = 0; i < n; i++) {
            ck_assert_int_eq(mods[i].rank, 4);
            ck_assert_int_eq(mods[i].dtype, SR_DT_F16);
            ck_assert(mods[i].alpha == 2.0 && mods[i].scale == 0.5);
        }
        sr_metrics_free(&m);
    }
    sr_wm_trial_free(&t);

    /* A file cut short: being written, not an error of the program. */
    char *cut = xasprintf("%s/lora-000004.safetensors", dir);
    sr_lora_spec spec = {.rank = 4, .alpha = 2.0, .base_seed = 7, .noise_seed = 1, .up_scale = 1,
                         .keep_fraction = 0.5};
    char err[256];
    ck_assert(sr_lora_write(cut, &spec, err, sizeof err) == 0);
    sr_wm_ckpt *c = NULL;
    ck_assert_int_eq(sr_wm_load(cut, NULL, &c, err, sizeof err), SR_ST_INCOMPLETE);
    ck_assert(c == NULL);
    char *missing = xasprintf("%s/missing.safetensors", dir);
    ck_assert_int_eq(sr_wm_load(missing, NULL, &c, err, sizeof err), SR_ST_IO_ERROR);
    ck_assert_int_eq(sr_wm_load(dir, NULL, &c, err, sizeof err), SR_ST_IO_ERROR);
    free(missing);
    free(cut);
    for (int e = 0; e < 3; e++)
        free(paths[e]);
    test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_device_fallback)
{
    /* A CUDA device that does not exist: the Grams fall back to the CPU and
     * the numbers are the CPU's. */
    char *dir = test_tmpdir("wm_fallback");
    char *path = sr_path_join(dir, "mix.safetensors");
    tfile f = {.n = 0};
    tmod m[NMIX];
    for (int i = 0; i < NMIX; i++)
        add_module(&f, &m[i], &mix_specs[i]);
    tf_write(&f, path);
    sr_device bogus;
    memset(&bogus, 0, sizeof bogus);
    bogus.kind = SR_DEV_CUDA;
    bogus.index = 4096;
    snprintf(bogus.name, sizeof bogus.name, "missing");
    sr_wm_ckpt *a = load_ok(path), *b = NULL;
    char err[256];
    ck_assert_int_eq(sr_wm_load(path, &bogus, &b, err, sizeof err), SR_ST_OK);
    ck_assert(sr_wm_summary_of(a)->delta_norm == sr_wm_summary_of(b)->delta_norm);
    ck_assert(sr_wm_summary_of(a)->effective_rank == sr_wm_summary_of(b)->effective_rank);
    double d1, d2;
    ck_assert_int_eq(sr_wm_drift(a, b, NULL, &d1), 0);
    ck_assert_int_eq(sr_wm_drift(a, b, &bogus, &d2), 0);
    ck_assert(d1 == d2);
    sr_wm_free(a);
    sr_wm_free(b);
    for (int i = 0; i < NMIX; i++)
        tmod_free(&m[i]);
    tf_free(&f);
    test_rmtree(dir);
    free(path);
    free(dir);
}
END_TEST

/* ---------------------------------------------------------------------
 * Blocks, Jacobi
 * ------------------------------------------------------------------- */

START_TEST(test_block_names)
{
    static const struct {
        const char *name;
        sr_wm_block block;
    } cases[] = {
        {"lora_unet_down_blocks_0_attentions_0_proj_in", SR_WM_UNET_DOWN},
        {"lora_unet_mid_block_attentions_0_proj_out", SR_WM_UNET_MID},
        {"lora_unet_up_blocks_3_attentions_2_transformer_blocks_0_ff_net_2", SR_WM_UNET_UP},
        {"lora_unet_input_blocks_4_1_proj_in", SR_WM_UNET_DOWN},
        {"lora_unet_middle_block_1_proj_in", SR_WM_UNET_MID},
        {"lora_unet_output_blocks_0_1_proj_in", SR_WM_UNET_UP},
        {"lora_te_text_model_encoder_layers_0_mlp_fc1", SR_WM_TEXT_ENCODER},
        {"lora_te1_text_model_encoder_layers_0_mlp_fc1", SR_WM_TEXT_ENCODER},
        {"lora_te2_text_model_encoder_layers_31_mlp_fc1", SR_WM_TEXT_ENCODER},
        {"lora_unet_conv_in", SR_WM_OTHER},
        {"lora_unet_time_embedding_linear_1", SR_WM_OTHER},
        {"lora_unet_downsample", SR_WM_OTHER},
        {"lora_unet_up_blocksx", SR_WM_OTHER},
        {"lora_tex_something", SR_WM_OTHER},
        {"unet.down_blocks.1.attentions.0.to_q", SR_WM_UNET_DOWN},
        {"unet.mid_block.attentions.0.to_q", SR_WM_UNET_MID},
        {"base_model.model.up_blocks.1.attentions.0.to_q", SR_WM_UNET_UP},
        {"down_blocks.0.attentions.0.to_k", SR_WM_UNET_DOWN},
        {"text_encoder.text_model.encoder.layers.0.self_attn.q_proj", SR_WM_TEXT_ENCODER},
        {"text_encoder_2.text_model.encoder.layers.0.self_attn.q_proj", SR_WM_TEXT_ENCODER},
        {"transformer.single_transformer_blocks.0.attn.to_q", SR_WM_OTHER},
        {"", SR_WM_OTHER},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        ck_assert_msg(sr_wm_block_of(cases[i].name) == cases[i].block, "%s: %s, expected %s", cases[i].name,
                      sr_wm_block_name(sr_wm_block_of(cases[i].name)), sr_wm_block_name(cases[i].block));
    ck_assert(sr_wm_block_of(NULL) == SR_WM_OTHER);
}
END_TEST

START_TEST(test_jacobi)
{
    /* A = Q·diag(λ)·Qᵀ with Q a product of Householder reflections. */
    static const size_t sizes[] = {1, 2, 3, 7, 16, 33, 64};
    sr_rng rng;
    sr_rng_seed(&rng, 5);
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        size_t n = sizes[si];
        double *q = xmalloc(n * n * sizeof *q), *a = xmalloc(n * n * sizeof *a);
        double *lam = xmalloc(n * sizeof *lam), *vals = xmalloc(n * sizeof *vals);
        double *vecs = xmalloc(n * n * sizeof *vecs), *v = xmalloc(n * sizeof *v);
        for (size_t i = 0; i < n * n; i++)
            q[i] = (i / n == i % n) ? 1.0 : 0.0;
        for (int h = 0; h < 3; h++) {
            double nv = 0;
            for (size_t i = 0; i < n; i++) {
                v[i] = sr_rng_normal(&rng);
                nv += v[i] * v[i];
            }
            for (size_t r = 0; r < n; r++) { /* q = q·(I − 2vvᵀ/vᵀv) */
                double dot = 0;
                for (size_t k = 0; k < n; k++)
                    dot += q[r * n + k] * v[k];
                for (size_t k = 0; k < n; k++)
                    q[r * n + k] -= 2.0 * dot * v[k] / nv;
            }
        }
        for (size_t i = 0; i < n; i++) /* repeated and zero eigenvalues too */
            lam[i] = (i % 3 == 0) ? 0.0 : (double)(i / 2) - 3.0;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++) {
                double s = 0;
                for (size_t k = 0; k < n; k++)
                    s += q[i * n + k] * lam[k] * q[j * n + k];
                a[i * n + j] = s;
            }
        ck_assert_int_eq(sr_wm_sym_eigen(a, n, vals, vecs), 0);
        /* Sorted expected values. */
        for (size_t i = 0; i < n; i++)
            for (size_t j = i + 1; j < n; j++)
                if (lam[j] < lam[i]) {
                    double t = lam[i];
                    lam[i] = lam[j];
                    lam[j] = t;
                }
        for (size_t i = 0; i < n; i++)
            ck_assert_msg(fabs(vals[i] - lam[i]) < 1e-12 * (double)n, "n=%zu: λ%zu = %.17g, expected %g", n, i,
                          vals[i], lam[i]);
        /* A·v = λ·v and VᵀV = I. */
        for (size_t c = 0; c < n; c++)
            for (size_t i = 0; i < n; i++) {
                double av = 0;
                for (size_t k = 0; k < n; k++)
                    av += a[i * n + k] * vecs[k * n + c];
                ck_assert(fabs(av - vals[c] * vecs[i * n + c]) < 1e-11 * (double)n);
                double dot = 0;
                for (size_t k = 0; k < n; k++)
                    dot += vecs[k * n + c] * vecs[k * n + i];
                ck_assert(fabs(dot - (c == i ? 1.0 : 0.0)) < 1e-12 * (double)n);
            }
        free(q);
        free(a);
        free(lam);
        free(vals);
        free(vecs);
        free(v);
    }
    double x = NAN, val;
    ck_assert_int_eq(sr_wm_sym_eigen(&x, 1, &val, NULL), -1);
    ck_assert_int_eq(sr_wm_sym_eigen(&x, 0, &val, NULL), -1);
}
END_TEST

/* ---------------------------------------------------------------------
 * The Gram kernel: twin against a naive triple loop
 * ------------------------------------------------------------------- */

/* Element e of a raw matrix, converted independently of the kernel. */
static double raw_value(const unsigned char *p, sr_lg_dtype dt, uint64_t e)
{
    if (dt == SR_LG_F32) {
        uint32_t x = (uint32_t)p[4 * e] | ((uint32_t)p[4 * e + 1] << 8) | ((uint32_t)p[4 * e + 2] << 16) |
                     ((uint32_t)p[4 * e + 3] << 24);
        float f;
        memcpy(&f, &x, sizeof f);
        return f;
    }
    uint16_t h = (uint16_t)(p[2 * e] | (p[2 * e + 1] << 8));
    return dt == SR_LG_F16 ? sr_f16_to_f32(h) : bf16_to_f32(h);
}

static double mat_at(const sr_lg_matrix *m, int cols, uint64_t i, uint64_t k)
{
    /* (rank index i, shared index k) */
    uint64_t e = cols ? k * m->cols + i : i * m->cols + k;
    return raw_value(m->data, m->dtype, e);
}

/* Random raw matrix (+1 byte of misalignment when odd is set); special
 * values: fp16/bf16/f32 subnormals always, Inf and NaN when nonfinite. */
static unsigned char *random_raw(sr_lg_dtype dt, uint64_t n, uint64_t seed, int nonfinite, int odd,
                                 unsigned char **base)
{
    size_t es = sr_lg_dtype_size(dt);
    unsigned char *b = xmalloc(n * es + 8);
    unsigned char *p = b + (odd ? 1 : 0);
    sr_rng rng;
    sr_rng_seed(&rng, seed);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t u = sr_rng_next(&rng);
        double v = sr_rng_normal(&rng) * 0.05;
        unsigned char *q = p + i * es;
        int kind = (int)(u % 97);
        if (dt == SR_LG_F32) {
            float f = (float)v;
            uint32_t x;
            memcpy(&x, &f, sizeof x);
            if (kind == 1)
                x = (uint32_t)(u >> 40) & 0x807fffffu; /* subnormal */
            if (nonfinite && kind == 2)
                x = 0x7f800000u | ((uint32_t)(u >> 8) & 0x80000000u);
            if (nonfinite && kind == 3)
                x = 0x7fc00001u;
            for (int k = 0; k < 4; k++)
                q[k] = (unsigned char)(x >> (8 * k));
        } else {
            uint16_t h = dt == SR_LG_F16 ? sr_f32_to_f16((float)v) : f32_to_bf16((float)v);
            uint16_t mant = dt == SR_LG_F16 ? 0x03ffu : 0x007fu;
            uint16_t expo = dt == SR_LG_F16 ? 0x7c00u : 0x7f80u;
            if (kind == 1 || kind == 4)
                h = (uint16_t)((u >> 20) & (0x8000u | mant)); /* subnormal or zero */
            if (nonfinite && kind == 2)
                h = (uint16_t)(expo | ((u >> 30) & 0x8000u)); /* ±Inf */
            if (nonfinite && kind == 3)
                h = (uint16_t)(expo | 1u | ((u >> 31) & 0x8000u)); /* signalling NaN */
            q[0] = (unsigned char)(h & 0xff);
            q[1] = (unsigned char)(h >> 8);
        }
    }
    *base = b;
    return p;
}

typedef struct {
    int ra, rb;  /* rb = 0: self Gram */
    uint64_t len;
    int cols;
    sr_lg_dtype da, db;
    int nonfinite;
} gram_case;

static const gram_case gram_cases[] = {
    {1, 0, 1, 0, SR_LG_F32, SR_LG_F32, 0},       {3, 0, 5, 1, SR_LG_F16, SR_LG_F16, 0},
    {4, 0, 256, 0, SR_LG_F16, SR_LG_F16, 0},     {5, 7, 257, 0, SR_LG_BF16, SR_LG_F16, 0},
    {16, 0, 1000, 1, SR_LG_F16, SR_LG_F16, 1},   {16, 16, 1000, 1, SR_LG_F16, SR_LG_BF16, 0},
    {17, 0, 4097, 0, SR_LG_F16, SR_LG_F16, 1},   {17, 9, 4097, 1, SR_LG_F32, SR_LG_F16, 1},
    {2, 3, 9000, 0, SR_LG_BF16, SR_LG_BF16, 1},  {6, 0, 9000, 1, SR_LG_BF16, SR_LG_BF16, 0},
    {64, 0, 300, 0, SR_LG_F32, SR_LG_F32, 0},    {64, 32, 300, 1, SR_LG_F16, SR_LG_F32, 0},
    {3, 3, 0, 0, SR_LG_F16, SR_LG_F16, 0},       {0, 3, 10, 1, SR_LG_F16, SR_LG_F16, 0},
    {8, 0, 12000, 1, SR_LG_F16, SR_LG_F16, 0},   {1, 1, 70000, 0, SR_LG_F16, SR_LG_F16, 1},
    /* ranks above 32 take the GPU's wide tiles: edges, chunks, mixed dtypes */
    {100, 0, 5000, 0, SR_LG_F16, SR_LG_F16, 1},  {33, 70, 4100, 1, SR_LG_BF16, SR_LG_F16, 1},
    {128, 0, 2000, 1, SR_LG_F16, SR_LG_F16, 0},  {65, 0, 9001, 0, SR_LG_BF16, SR_LG_BF16, 0},
};
#define NGRAM (sizeof gram_cases / sizeof gram_cases[0])

typedef struct {
    unsigned char *base_a, *base_b;
    sr_lg_job job;
    double *out;
    sr_lg_stats stats;
    size_t ra, rb;
} gram_run;

static void gram_setup(gram_run *g, const gram_case *gc, uint64_t seed, int odd)
{
    memset(g, 0, sizeof *g);
    int self = gc->rb == 0;
    g->ra = (size_t)gc->ra;
    g->rb = self ? g->ra : (size_t)gc->rb;
    sr_lg_matrix a = {NULL, gc->da, gc->cols ? gc->len : (uint64_t)gc->ra, gc->cols ? (uint64_t)gc->ra : gc->len};
    a.data = random_raw(gc->da, a.rows * a.cols, seed, gc->nonfinite, odd, &g->base_a);
    g->job.a = a;
    if (!self) {
        sr_lg_matrix b = {NULL, gc->db, gc->cols ? gc->len : (uint64_t)gc->rb,
                          gc->cols ? (uint64_t)gc->rb : gc->len};
        b.data = random_raw(gc->db, b.rows * b.cols, seed + 1, gc->nonfinite, !odd, &g->base_b);
        g->job.b = b;
    }
    g->job.rank_in_cols = gc->cols;
    g->out = xmalloc((g->ra * g->rb + 1) * sizeof *g->out);
    for (size_t i = 0; i < g->ra * g->rb; i++)
        g->out[i] = -12345.0;
    g->job.out = g->out;
    g->job.stats = &g->stats;
}

static void gram_free(gram_run *g)
{
    free(g->base_a);
    free(g->base_b);
    free(g->out);
}

/* sqrt(Σ a_i² · Σ b_j²) over the finite values of rank rows i of A and j
 * of B: the Cauchy-Schwarz bound of |G_ij|, the scale of its rounding. */
static double *row_norms2(const sr_lg_matrix *m, int cols, size_t r, uint64_t len)
{
    double *n = xcalloc(r + 1, sizeof *n);
    for (size_t i = 0; i < r; i++)
        for (uint64_t k = 0; k < len; k++) {
            double x = mat_at(m, cols, i, k);
            if (isfinite(x))
                n[i] += x * x;
        }
    return n;
}

/* 0 when two entries agree: the same NaN / Inf class, or finite values
 * within tol of scale. */
static int entry_agrees(double got, double want, double scale, double tol)
{
    if (isnan(want) || isnan(got))
        return isnan(want) && isnan(got);
    if (isinf(want) || isinf(got))
        return got == want;
    return fabs(got - want) <= tol * (scale > 0 ? scale : 1e-300);
}

START_TEST(test_gram_twin_naive)
{
    for (size_t c = 0; c < NGRAM; c++) {
        for (int odd = 0; odd < 2; odd++) {
            const gram_case *gc = &gram_cases[c];
            gram_run g;
            gram_setup(&g, gc, 1000 + c, odd);
            ck_assert_int_eq(sr_lora_gram_cpu(&g.job, 1), 0);
            const sr_lg_matrix *A = &g.job.a;
            const sr_lg_matrix *B = gc->rb == 0 ? &g.job.a : &g.job.b;
            double *na = row_norms2(A, gc->cols, g.ra, gc->len), *nb = row_norms2(B, gc->cols, g.rb, gc->len);
            for (size_t i = 0; i < g.ra; i++)
                for (size_t j = 0; j < g.rb; j++) {
                    double s = 0;
                    for (uint64_t k = 0; k < gc->len; k++)
                        s += mat_at(A, gc->cols, i, k) * mat_at(B, gc->cols, j, k);
                    double got = g.out[i * g.rb + j];
                    ck_assert_msg(entry_agrees(got, s, sqrt(na[i] * nb[j]), 1e-12),
                                  "case %zu%s (%d,%d,len %llu): [%zu][%zu] = %.17g, naive %.17g", c,
                                  odd ? " odd" : "", gc->ra, gc->rb, (unsigned long long)gc->len, i, j, got, s);
                    if (gc->rb == 0) /* exactly symmetric */
                        ck_assert(memcmp(&g.out[i * g.rb + j], &g.out[j * g.rb + i], sizeof(double)) == 0);
                }
            /* Statistics of A. */
            uint64_t nf = 0;
            double sa = 0, sq = 0;
            for (size_t i = 0; i < g.ra; i++)
                for (uint64_t k = 0; k < gc->len; k++) {
                    double x = mat_at(A, gc->cols, i, k);
                    nf += !isfinite(x);
                    sa += fabs(x);
                    sq += x * x;
                }
            ck_assert_uint_eq(g.stats.nonfinite, nf);
            ck_assert(entry_agrees(g.stats.sum_abs, sa, sa, 1e-12));
            ck_assert(entry_agrees(g.stats.sum_sq, sq, sq, 1e-12));
            /* The values-only statistics agree. */
            sr_lg_stats vs;
            sr_lg_values_stats_cpu(A->data, A->dtype, A->rows * A->cols, &vs);
            ck_assert_uint_eq(vs.nonfinite, nf);
            ck_assert(entry_agrees(vs.sum_abs, sa, sa, 1e-12));
            free(na);
            free(nb);
            gram_free(&g);
        }
    }
}
END_TEST

START_TEST(test_gram_batch_deterministic)
{
    /* All cases in one batch (parallel across jobs and chunks) give the same
     * bits as one job at a time. */
    gram_run g[NGRAM], h[NGRAM];
    sr_lg_job jobs[NGRAM];
    for (size_t c = 0; c < NGRAM; c++) {
        gram_setup(&g[c], &gram_cases[c], 77 + c, (int)(c & 1));
        gram_setup(&h[c], &gram_cases[c], 77 + c, (int)(c & 1));
        jobs[c] = h[c].job;
        ck_assert_int_eq(sr_lora_gram_cpu(&g[c].job, 1), 0);
    }
    ck_assert_int_eq(sr_lora_gram_cpu(jobs, NGRAM), 0);
    for (size_t c = 0; c < NGRAM; c++) {
        ck_assert(memcmp(g[c].out, h[c].out, g[c].ra * g[c].rb * sizeof(double)) == 0);
        ck_assert(memcmp(&g[c].stats, &h[c].stats, sizeof g[c].stats) == 0);
        gram_free(&g[c]);
        gram_free(&h[c]);
    }
    /* Invalid jobs: nothing runs. */
    double out[4];
    uint16_t x[4] = {0};
    sr_lg_job bad = {.a = {x, SR_LG_F16, 2, 2}, .b = {x, SR_LG_F16, 2, 1}, .rank_in_cols = 0, .out = out};
    char why[128];
    ck_assert_int_eq(sr_lg_job_check(&bad, why, sizeof why), -1);
    ck_assert_msg(strstr(why, "shared length") != NULL, "%s", why);
    ck_assert_int_eq(sr_lora_gram_cpu(&bad, 1), -1);
    bad.b = (sr_lg_matrix){NULL, SR_LG_F16, 0, 0};
    bad.out = NULL;
    ck_assert_int_eq(sr_lora_gram_cpu(&bad, 1), -1);
    bad.out = out;
    bad.a.rows = SR_LG_MAX_RANK + 1;
    ck_assert_int_eq(sr_lg_job_check(&bad, why, sizeof why), -1);
    ck_assert_int_eq(sr_lora_gram_cpu(NULL, 0), 0);
}
END_TEST

START_TEST(test_gram_isa_variants)
{
    /* The plain-C, AVX2 and AVX-512 variants give the same bits (those the
     * CPU lacks fall back to the best it has: still a valid comparison). */
    static const char *isas[] = {"generic", "avx2"};
    gram_run ref[NGRAM];
    sr_lg_job jobs[NGRAM];
    for (size_t c = 0; c < NGRAM; c++) {
        gram_setup(&ref[c], &gram_cases[c], 900 + c, (int)(c & 1));
        jobs[c] = ref[c].job;
    }
    unsetenv("SR_LG_ISA");
    ck_assert_int_eq(sr_lora_gram_cpu(jobs, NGRAM), 0);
    for (size_t v = 0; v < sizeof isas / sizeof isas[0]; v++) {
        setenv("SR_LG_ISA", isas[v], 1);
        for (size_t c = 0; c < NGRAM; c++) {
            gram_run g;
            gram_setup(&g, &gram_cases[c], 900 + c, (int)(c & 1));
            ck_assert_int_eq(sr_lora_gram_cpu(&g.job, 1), 0);
            for (size_t e = 0; e < g.ra * g.rb; e++) {
                double a = g.out[e], b = ref[c].out[e];
                ck_assert_msg(memcmp(&a, &b, sizeof a) == 0 || (isnan(a) && isnan(b)),
                              "%s, case %zu, entry %zu: %a vs %a", isas[v], c, e, a, b);
            }
            ck_assert_uint_eq(g.stats.nonfinite, ref[c].stats.nonfinite);
            ck_assert(entry_agrees(g.stats.sum_abs, ref[c].stats.sum_abs, 0, 0));
            ck_assert(entry_agrees(g.stats.sum_sq, ref[c].stats.sum_sq, 0, 0));
            gram_free(&g);
        }
    }
    unsetenv("SR_LG_ISA");
    for (size_t c = 0; c < NGRAM; c++)
        gram_free(&ref[c]);
}
END_TEST

START_TEST(test_conversions_exhaustive)
{
    /* Every binary16 and bfloat16 pattern through the scalar converters
     * and through the Gram path (A·1 with a one-value B picks each value
     * out exactly), in both layouts. */
    enum { N = 65536, R = 4096 };
    uint16_t *h = xmalloc(N * sizeof *h);
    for (size_t i = 0; i < N; i++)
        h[i] = (uint16_t)i;
    for (int dt = 0; dt < 2; dt++) {
        sr_lg_dtype d = dt ? SR_LG_BF16 : SR_LG_F16;
        for (size_t i = 0; i < N; i++) {
            float want = dt ? bf16_to_f32(h[i]) : sr_f16_to_f32(h[i]);
            float got = dt ? sr_lg_bf16_to_f32(h[i]) : sr_lg_f16_to_f32(h[i]);
            if (isnan(want))
                ck_assert_msg(isnan(got), "0x%04zx", i);
            else
                ck_assert_msg(memcmp(&got, &want, sizeof got) == 0, "%s 0x%04zx: %a vs %a", dt ? "bf16" : "f16",
                              i, (double)got, (double)want);
            ck_assert(memcmp(&got, &(float){sr_lg_value(h, d, i)}, sizeof got) == 0 || isnan(got));
        }
        uint16_t one = dt ? 0x3f80 : 0x3c00;
        double *out = xmalloc(R * sizeof *out);
        for (int pass = 0; pass < 4; pass++) { /* both layouts, best and plain-C variants */
            int cols = pass & 1;
            if (pass >= 2)
                setenv("SR_LG_ISA", "generic", 1);
            for (size_t start = 0; start < N; start += R) {
                sr_lg_job j = {.a = {h + start, d, cols ? 1 : R, cols ? R : 1},
                               .b = {&one, d, 1, 1},
                               .rank_in_cols = cols,
                               .out = out};
                ck_assert_int_eq(sr_lora_gram_cpu(&j, 1), 0);
                for (size_t i = 0; i < R; i++) {
                    double want = dt ? bf16_to_f32(h[start + i]) : sr_f16_to_f32(h[start + i]);
                    ck_assert_msg(isnan(want) ? isnan(out[i]) : out[i] == want,
                                  "%s 0x%04zx (pass %d): %a vs %a", dt ? "bf16" : "f16", start + i, pass, out[i],
                                  want);
                }
            }
            unsetenv("SR_LG_ISA");
        }
        free(out);
    }
    free(h);
}
END_TEST

/* ---------------------------------------------------------------------
 * GPU parity (each test finds the GPU itself)
 * ------------------------------------------------------------------- */

#ifdef HAVE_CUDA
#endif

START_TEST(test_gpu_gram_parity)
{
#ifdef HAVE_CUDA
    if (!test_have_gpu())
        return;
    char name[128];
    ck_assert_int_eq(sr_cuda_device_name(0, name, sizeof name), 0);
    printf("# GPU Gram parity on cuda:0 (%s)\n", name);
    gram_run g[NGRAM], h[NGRAM];
    sr_lg_job jobs[NGRAM];
    for (size_t c = 0; c < NGRAM; c++) {
        gram_setup(&g[c], &gram_cases[c], 500 + c, (int)(c & 1));
        gram_setup(&h[c], &gram_cases[c], 500 + c, (int)(c & 1));
        jobs[c] = h[c].job;
    }
    for (size_t c = 0; c < NGRAM; c++)
        ck_assert_int_eq(sr_lora_gram_cpu(&g[c].job, 1), 0);
    char err[256] = "";
    int rc = sr_cuda_lora_gram(0, jobs, NGRAM, err, sizeof err);
    ck_assert_msg(rc == 0, "GPU Gram failed: %s", err);
    int mismatches = 0;
    for (size_t c = 0; c < NGRAM; c++) {
        /* 1e-5 relative to the entry's scale sqrt(Σa_i²·Σb_j²). */
        size_t ra = g[c].ra, rb = g[c].rb;
        const gram_case *gc = &gram_cases[c];
        const sr_lg_matrix *B = gc->rb == 0 ? &g[c].job.a : &g[c].job.b;
        double *na = row_norms2(&g[c].job.a, gc->cols, ra, gc->len), *nb = row_norms2(B, gc->cols, rb, gc->len);
        for (size_t i = 0; i < ra; i++)
            for (size_t j = 0; j < rb; j++) {
                double cpu = g[c].out[i * rb + j], gpu = h[c].out[i * rb + j];
                if (!entry_agrees(gpu, cpu, sqrt(na[i] * nb[j]), 1e-5) && mismatches++ < 8)
                    printf("# mismatch case %zu [%zu][%zu]: gpu %.17g, cpu %.17g\n", c, i, j, gpu, cpu);
            }
        free(na);
        free(nb);
        if (h[c].stats.nonfinite != g[c].stats.nonfinite ||
            !entry_agrees(h[c].stats.sum_abs, g[c].stats.sum_abs, fabs(g[c].stats.sum_abs), 1e-12) ||
            !entry_agrees(h[c].stats.sum_sq, g[c].stats.sum_sq, fabs(g[c].stats.sum_sq), 1e-12)) {
            if (mismatches++ < 8)
                printf("# stats mismatch case %zu: gpu %llu %.17g %.17g, cpu %llu %.17g %.17g\n", c,
                       (unsigned long long)h[c].stats.nonfinite, h[c].stats.sum_abs, h[c].stats.sum_sq,
                       (unsigned long long)g[c].stats.nonfinite, g[c].stats.sum_abs, g[c].stats.sum_sq);
        }
    }
    fflush(stdout);
    for (size_t c = 0; c < NGRAM; c++) {
        gram_free(&g[c]);
        gram_free(&h[c]);
    }
    ck_assert_msg(mismatches == 0, "%d GPU/CPU mismatches (first ones above)", mismatches);

    /* A device that is not there: -1 and a reason. */
    double out[1];
    uint16_t x = 0x3c00;
    sr_lg_job j = {.a = {&x, SR_LG_F16, 1, 1}, .out = out};
    ck_assert_int_eq(sr_cuda_lora_gram(sr_cuda_device_count(), &j, 1, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "lora_gram.cu:") != NULL, "%s", err);
#else
    printf("# SKIP no CUDA device (this build has no CUDA support)\n");
    fflush(stdout);
#endif
}
END_TEST

START_TEST(test_gpu_checkpoint_parity)
{
#ifdef HAVE_CUDA
    if (!test_have_gpu())
        return;
    /* A real checkpoint pair on the GPU and the CPU. */
    char *dir = test_tmpdir("wm_gpu");
    char *p0 = xasprintf("%s/a.safetensors", dir), *p1 = xasprintf("%s/b.safetensors", dir);
    char err[256];
    sr_lora_spec spec = {.rank = 8, .alpha = 4.0, .base_seed = 3, .noise_seed = 1, .up_scale = 0.5,
                         .up_noise = 0.1, .keep_fraction = 1.0};
    ck_assert(sr_lora_write(p0, &spec, err, sizeof err) == 0);
    spec.noise_seed = 2;
    spec.up_scale = 0.8;
    ck_assert(sr_lora_write(p1, &spec, err, sizeof err) == 0);
    sr_device gpu;
    ck_assert_int_eq(sr_device_select("cuda:0", &gpu, err, sizeof err), 0);
    sr_wm_ckpt *c0 = load_ok(p0), *c1 = load_ok(p1), *g0 = NULL, *g1 = NULL;
    ck_assert_int_eq(sr_wm_load(p0, &gpu, &g0, err, sizeof err), SR_ST_OK);
    ck_assert_int_eq(sr_wm_load(p1, &gpu, &g1, err, sizeof err), SR_ST_OK);
    ASSERT_CLOSE(sr_wm_summary_of(g1)->delta_norm, sr_wm_summary_of(c1)->delta_norm, 1e-9, "norm");
    ASSERT_CLOSE(sr_wm_summary_of(g1)->effective_rank, sr_wm_summary_of(c1)->effective_rank, 1e-7, "rank");
    double dc, dg;
    ck_assert_int_eq(sr_wm_drift(c1, c0, NULL, &dc), 0);
    ck_assert_int_eq(sr_wm_drift(g1, g0, &gpu, &dg), 0);
    ASSERT_CLOSE(dg, dc, 1e-7, "drift");
    sr_wm_free(c0);
    sr_wm_free(c1);
    sr_wm_free(g0);
    sr_wm_free(g1);
    test_rmtree(dir);
    free(p0);
    free(p1);
    free(dir);
#else
    printf("# SKIP no CUDA device (this build has no CUDA support)\n");
    fflush(stdout);
#endif
}
END_TEST

Suite *make_suite(void)
{
    /* No CUDA calls here: this runs in the parent before Check forks. */
    Suite *s = suite_create("weight_metrics");

    TCase *tc = tcase_create("metrics");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_modules_explicit);
    tcase_add_test(tc, test_nonfinite_and_odd_modules);
    tcase_add_test(tc, test_zero_update_and_empty);
    tcase_add_test(tc, test_drift_explicit);
    tcase_add_test(tc, test_drift_small_change);
    tcase_add_test(tc, test_synth_checkpoints);
    tcase_add_test(tc, test_device_fallback);
    tcase_add_test(tc, test_block_names);
    tcase_add_test(tc, test_jacobi);
    suite_add_tcase(s, tc);

    tc = tcase_create("gram");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_gram_twin_naive);
    tcase_add_test(tc, test_gram_batch_deterministic);
    tcase_add_test(tc, test_gram_isa_variants);
    tcase_add_test(tc, test_conversions_exhaustive);
    suite_add_tcase(s, tc);

    tc = tcase_create("gpu");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_gpu_gram_parity);
    tcase_add_test(tc, test_gpu_checkpoint_parity);
    suite_add_tcase(s, tc);
    return s;
}
