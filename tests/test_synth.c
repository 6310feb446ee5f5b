/* test_synth.c - the synthetic sweep writer, its LoRA files, images and PNG I/O. */
#include "config.h"

#include "atomic_file.h"
#include "check_main.h"
#include "json.h"
#include "png_io.h"
#include "synth.h"
#include "synth_lora.h"
#include "synth_scene.h"
#include "util.h"

#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------------- */

static void small_opts(sr_synth_opts *o)
{
    sr_synth_defaults(o);
    o->trials = 5;
    o->epochs = 8;
    o->save_every = 2;
    o->samples = 2;
    o->size = 48;
    o->rank = 1;
    o->seed = 7;
}

static int exists(const char *dir, const char *rel)
{
    char *p = sr_path_join(dir, rel);
    struct stat st;
    int ok = stat(p, &st) == 0;
    free(p);
    return ok;
}

static char *slurp(const char *path, size_t *len)
{
    char *buf, err[256];
    size_t n;
    ck_assert_msg(sr_read_file(path, 256u << 20, &buf, &n, err, sizeof err) == 0, "%s: %s", path, err);
    if (len)
        *len = n;
    return buf;
}

static cJSON *load_json(const char *dir, const char *rel)
{
    char *p = sr_path_join(dir, rel);
    char err[256];
    cJSON *j = sr_json_load(p, err, sizeof err);
    ck_assert_msg(j != NULL, "%s: %s", p, err);
    free(p);
    return j;
}

/* Every regular file under a folder, as sorted relative paths. */
static char **walk_list;
static size_t walk_n, walk_cap, walk_skip;

static int walk_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_F) {
        if (walk_n == walk_cap) {
            walk_cap = walk_cap ? walk_cap * 2 : 64;
            walk_list = xrealloc(walk_list, walk_cap * sizeof *walk_list);
        }
        walk_list[walk_n++] = xstrdup(path + walk_skip);
    }
    return 0;
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char **list_files(const char *dir, size_t *n)
{
    walk_list = NULL;
    walk_n = walk_cap = 0;
    walk_skip = strlen(dir) + 1;
    nftw(dir, walk_cb, 16, FTW_PHYS);
    qsort(walk_list, walk_n, sizeof *walk_list, str_cmp);
    *n = walk_n;
    return walk_list;
}

static void free_list(char **l, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(l[i]);
    free(l);
}

/* numpy: np.mean(a)/255 and np.std(a)/255 over the HxWx3 uint8 array. */
static void stats(const uint8_t *rgb, size_t n, double *b, double *c)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += rgb[i];
    double mean = sum / (double)n, q = 0;
    for (size_t i = 0; i < n; i++)
        q += (rgb[i] - mean) * (rgb[i] - mean);
    *b = mean / 255.0;
    *c = sqrt(q / (double)n) / 255.0;
}

static uint8_t *read_png(const char *path, int *w, int *h)
{
    uint8_t *rgb;
    char err[512];
    ck_assert_msg(sr_png_read_rgb8(path, &rgb, w, h, err, sizeof err) == 0, "%s", err);
    return rgb;
}

/* The shared sweep: written once in the parent, read by the forked tests. */
static char *g_tmp, *g_sweep;

static void sweep_setup(void)
{
    g_tmp = test_tmpdir("synth");
    g_sweep = sr_path_join(g_tmp, "sweep");
    sr_synth_opts o;
    small_opts(&o);
    char err[512];
    if (sr_synth(g_sweep, &o, err, sizeof err) != 0) {
        fprintf(stderr, "sr_synth: %s\n", err);
        abort();
    }
}

static void sweep_teardown(void)
{
    test_rmtree(g_tmp);
    free(g_sweep);
    free(g_tmp);
}

/* ---- png_io -------------------------------------------------------------- */

START_TEST(test_png_roundtrip)
{
    char *d = test_tmpdir("png");
    char *p = sr_path_join(d, "a.png");
    int w = 37, h = 23;
    uint8_t *rgb = xmalloc((size_t)w * h * 3);
    for (int i = 0; i < w * h * 3; i++)
        rgb[i] = (uint8_t)(i * 7 + (i / 3) % 5);
    char err[512];
    ck_assert_msg(sr_png_write_rgb8(p, rgb, w, h, err, sizeof err) == 0, "%s", err);
    int w2, h2;
    uint8_t *back = read_png(p, &w2, &h2);
    ck_assert_int_eq(w2, w);
    ck_assert_int_eq(h2, h);
    ck_assert_int_eq(memcmp(rgb, back, (size_t)w * h * 3), 0);
    free(back);
    /* deterministic bytes */
    size_t l1, l2;
    char *b1 = slurp(p, &l1);
    ck_assert_int_eq(sr_png_write_rgb8(p, rgb, w, h, err, sizeof err), 0);
    char *b2 = slurp(p, &l2);
    ck_assert_uint_eq(l1, l2);
    ck_assert_int_eq(memcmp(b1, b2, l1), 0);
    free(b1);
    free(b2);
    /* bad sizes, missing files, a cut file, not a PNG */
    ck_assert_int_eq(sr_png_write_rgb8(p, rgb, 0, h, err, sizeof err), -1);
    ck_assert_int_eq(sr_png_write_rgb8(p, rgb, SR_PNG_MAX_SIDE + 1, 1, err, sizeof err), -1);
    char *q = sr_path_join(d, "missing.png");
    uint8_t *out = (uint8_t *)1;
    ck_assert_int_eq(sr_png_read_rgb8(q, &out, &w2, &h2, err, sizeof err), -1);
    ck_assert_ptr_null(out);
    char *full = slurp(p, &l1);
    ck_assert_int_eq(sr_write_file_atomic(q, full, l1 / 2, SR_ATOMIC_REPLACE), 0);
    ck_assert_int_eq(sr_png_read_rgb8(q, &out, &w2, &h2, err, sizeof err), -1);
    ck_assert_ptr_null(out);
    ck_assert_ptr_nonnull(strstr(err, "missing.png"));
    ck_assert_int_eq(sr_write_file_atomic(q, "hello world, not a png", 22, SR_ATOMIC_REPLACE), 0);
    ck_assert_int_eq(sr_png_read_rgb8(q, &out, &w2, &h2, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "not a PNG"));
    free(full);
    free(q);
    free(rgb);
    free(p);
    test_rmtree(d);
    free(d);
}
END_TEST

static uint32_t crc32_png(const unsigned char *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return c ^ 0xffffffffu;
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* A PNG whose IHDR claims w x h, followed by a small IDAT and IEND. */
static size_t forged_png(unsigned char *out, uint32_t w, uint32_t h)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    size_t n = 0;
    memcpy(out, sig, 8);
    n = 8;
    unsigned char ihdr[17] = {'I', 'H', 'D', 'R'};
    put32(ihdr + 4, w);
    put32(ihdr + 8, h);
    ihdr[12] = 8; /* bit depth */
    ihdr[13] = 2; /* RGB */
    put32(out + n, 13);
    memcpy(out + n + 4, ihdr, 17);
    put32(out + n + 21, crc32_png(ihdr, 17));
    n += 25;
    static const unsigned char idat[] = {'I', 'D', 'A', 'T', 0x78, 0x9c, 0x03, 0x00};
    put32(out + n, 4);
    memcpy(out + n + 4, idat, sizeof idat);
    put32(out + n + 4 + sizeof idat, crc32_png(idat, sizeof idat));
    n += 4 + sizeof idat + 4;
    static const unsigned char iend[] = {'I', 'E', 'N', 'D'};
    put32(out + n, 0);
    memcpy(out + n + 4, iend, 4);
    put32(out + n + 8, crc32_png(iend, 4));
    return n + 12;
}

START_TEST(test_png_absurd_sizes)
{
    char *d = test_tmpdir("png-big");
    char *p = sr_path_join(d, "big.png");
    static const uint32_t dims[][2] = {{20000, 1}, {1, 20000}, {10000, 10000}, {16384, 16384}};
    for (size_t i = 0; i < sizeof dims / sizeof dims[0]; i++) {
        unsigned char buf[128];
        size_t n = forged_png(buf, dims[i][0], dims[i][1]);
        ck_assert_int_eq(sr_write_file_atomic(p, buf, n, SR_ATOMIC_REPLACE), 0);
        uint8_t *rgb = (uint8_t *)1;
        int w = -1, h = -1;
        char err[512] = "";
        ck_assert_int_eq(sr_png_read_rgb8(p, &rgb, &w, &h, err, sizeof err), -1);
        ck_assert_ptr_null(rgb);
        ck_assert_msg(strstr(err, "big.png") != NULL, "%s", err);
    }
    /* the same forgery at a small size is a readable (if truncated) file:
     * the reader gets as far as the pixel data and fails there */
    unsigned char buf[128];
    size_t n = forged_png(buf, 4, 4);
    ck_assert_int_eq(sr_write_file_atomic(p, buf, n, SR_ATOMIC_REPLACE), 0);
    uint8_t *rgb = NULL;
    int w, h;
    char err[512] = "";
    ck_assert_int_eq(sr_png_read_rgb8(p, &rgb, &w, &h, err, sizeof err), -1);
    ck_assert_ptr_null(rgb);
    free(p);
    test_rmtree(d);
    free(d);
}
END_TEST

/* Runs a corpus MANIFEST.tsv (file, bytes, width, height, ..., expect). */
static void check_png_corpus(const char *rel)
{
    char *dir = test_srcpath(rel);
    char *man = sr_path_join(dir, "MANIFEST.tsv");
    struct stat st;
    if (stat(man, &st) != 0) { /* corpus not there: nothing to check */
        free(man);
        free(dir);
        return;
    }
    char *text = slurp(man, NULL);
    int ok = 0, bad = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *f[9] = {0};
        int nf = 0;
        char *s2 = NULL;
        for (char *tok = strtok_r(line, "\t", &s2); tok && nf < 9; tok = strtok_r(NULL, "\t", &s2))
            f[nf++] = tok;
        if (nf < 8 || strcmp(f[0], "file") == 0)
            continue;
        char *path = sr_path_join(dir, f[0]);
        uint8_t *rgb = (uint8_t *)1;
        int w = -1, h = -1;
        char err[512] = "";
        int rc = sr_png_read_rgb8(path, &rgb, &w, &h, err, sizeof err);
        if (strcmp(f[7], "ok") == 0) {
            ck_assert_msg(rc == 0, "%s should decode: %s", f[0], err);
            ck_assert_int_eq(w, atoi(f[2]));
            ck_assert_int_eq(h, atoi(f[3]));
            ok++;
        } else {
            ck_assert_msg(rc == -1, "%s should fail", f[0]);
            ck_assert_ptr_null(rgb);
            ck_assert_msg(err[0] && !strchr(err, '\n'), "%s: no one-line reason", f[0]);
            bad++;
        }
        free(rgb);
        free(path);
    }
    ck_assert_int_gt(ok + bad, 0);
    free(text);
    free(man);
    free(dir);
}

START_TEST(test_png_corpora)
{
    check_png_corpus("../shared/testdata/pngsuite");
    check_png_corpus("../shared/testdata/png-bad");
}
END_TEST

START_TEST(test_png_conversions)
{
    char *dir = test_srcpath("../shared/testdata/pngsuite");
    struct stat st;
    if (stat(dir, &st) != 0) {
        free(dir);
        return;
    }
    /* The same picture in several encodings decodes to the same RGB8. */
    static const char *const same[][2] = {
        {"basn2c08.png", "basi2c08.png"}, /* interlaced */
        {"basn0g08.png", "basi0g08.png"},
        {"basn2c16.png", "basi2c16.png"},
    };
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        char *a = sr_path_join(dir, same[i][0]), *b = sr_path_join(dir, same[i][1]);
        int w1, h1, w2, h2;
        uint8_t *p1 = read_png(a, &w1, &h1), *p2 = read_png(b, &w2, &h2);
        ck_assert_int_eq(w1, w2);
        ck_assert_int_eq(h1, h2);
        ck_assert_msg(memcmp(p1, p2, (size_t)w1 * h1 * 3) == 0, "%s != %s", same[i][0], same[i][1]);
        free(p1);
        free(p2);
        free(a);
        free(b);
    }
    /* gray becomes R = G = B */
    char *g = sr_path_join(dir, "basn0g16.png");
    int w, h;
    uint8_t *p = read_png(g, &w, &h);
    int colored = 0;
    for (int i = 0; i < w * h; i++)
        colored += p[3 * i] != p[3 * i + 1] || p[3 * i + 1] != p[3 * i + 2];
    ck_assert_int_eq(colored, 0);
    free(p);
    free(g);
    free(dir);
}
END_TEST

/* ---- binary16 ------------------------------------------------------------ */

START_TEST(test_f16)
{
    static const struct {
        float f;
        uint16_t h;
    } known[] = {
        {0.0f, 0x0000}, {-0.0f, 0x8000}, {1.0f, 0x3c00}, {-2.0f, 0xc000}, {0.5f, 0x3800},
        {65504.0f, 0x7bff}, {65519.0f, 0x7bff}, {65520.0f, 0x7c00}, {1e9f, 0x7c00}, {-1e9f, 0xfc00},
        {0.1f, 0x2e66}, {0.333333343f, 0x3555}, {5.9604645e-8f, 0x0001}, /* 2^-24 */
        {2.9802322e-8f, 0x0000},                                         /* 2^-25: tie to even 0 */
        {4.4703484e-8f, 0x0001},                                         /* 1.5 * 2^-25 */
        {8.9406967e-8f, 0x0002},                                         /* 1.5 * 2^-24: tie to even 2 */
        {6.1035156e-5f, 0x0400},                                         /* 2^-14 */
        {1.00048828125f, 0x3c00},                                        /* 1 + 2^-11: tie to even */
        {1.00146484375f, 0x3c02},                                        /* 1 + 3*2^-11: tie up */
        {INFINITY, 0x7c00}, {-INFINITY, 0xfc00},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        ck_assert_msg(sr_f32_to_f16(known[i].f) == known[i].h, "%.10g -> %04x, not %04x", (double)known[i].f,
                      sr_f32_to_f16(known[i].f), known[i].h);
    ck_assert((sr_f32_to_f16(NAN) & 0x7c00) == 0x7c00 && (sr_f32_to_f16(NAN) & 0x3ff) != 0);
    /* every half survives the round trip (count, then assert once: a
     * ck_assert per value would be slow) */
    unsigned bad = 0, first = 0;
    for (uint32_t h = 0; h < 0x10000; h++) {
        if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff))
            continue;
        if (sr_f32_to_f16(sr_f16_to_f32((uint16_t)h)) != h && bad++ == 0)
            first = h;
    }
    ck_assert_msg(bad == 0, "%u halves do not round-trip, first %04x", bad, first);
#ifdef __FLT16_MAX__
    /* against the compiler's conversion on a sweep of float bit patterns */
    for (uint64_t x = 0; x <= 0xffffffffULL; x += 997) {
        uint32_t u = (uint32_t)x;
        float f;
        memcpy(&f, &u, sizeof f);
        if (isnan(f))
            continue;
        _Float16 r = (_Float16)f;
        uint16_t want;
        memcpy(&want, &r, sizeof want);
        if (sr_f32_to_f16(f) != want && bad++ == 0)
            first = u;
    }
    ck_assert_msg(bad == 0, "%u floats convert unlike the compiler, first %08x", bad, first);
#endif
}
END_TEST

/* ---- LoRA files ---------------------------------------------------------- */

START_TEST(test_module_table)
{
    sr_lora_module m[SR_LORA_SD15_MODULES];
    sr_lora_sd15_modules(m);
    /* 16 transformer blocks x 12 modules + 12 text encoder layers x 6 */
    ck_assert_int_eq(SR_LORA_SD15_MODULES, 16 * 12 + 12 * 6);
    long long per_rank = 0;
    int convs = 0, dups = 0;
    for (int i = 0; i < SR_LORA_SD15_MODULES; i++) {
        per_rank += m[i].in + m[i].out;
        convs += m[i].conv;
        for (int j = 0; j < i; j++)
            dups += strcmp(m[i].name, m[j].name) == 0;
    }
    ck_assert_int_eq(dups, 0);
    ck_assert_int_eq(convs, 32);
    /* parameters per unit of rank: 32*sum(C) + 16*1536 + 12*(4*1536 + 2*3840) */
    ck_assert_int_eq(per_rank, 32LL * (5 * 320 + 5 * 640 + 6 * 1280) + 16 * 1536 + 12 * (4 * 1536 + 2 * 3840));
    sr_lora_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.rank = 16;
    spec.keep_fraction = 1;
    uint64_t size = sr_lora_file_size(&spec);
    ck_assert(size > 18000000 && size < 19500000); /* a rank-16 file is ~19 MB */
}
END_TEST

static uint64_t le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static int shape_is(const cJSON *shape, int n, const long long *want)
{
    if (cJSON_GetArraySize(shape) != n)
        return 0;
    for (int i = 0; i < n; i++)
        if ((long long)cJSON_GetArrayItem(shape, i)->valuedouble != want[i])
            return 0;
    return 1;
}

typedef struct {
    double up_sq;      /* sum of squares of one lora_up tensor */
    double alpha;
    int epoch;
    int steps;
} lora_facts;

/* Parses and validates one checkpoint. */
static void check_lora_file(const char *path, int rank, int partial, lora_facts *facts)
{
    size_t len;
    unsigned char *buf = (unsigned char *)slurp(path, &len);
    ck_assert_uint_ge(len, 8);
    uint64_t n = le64(buf);
    ck_assert_msg(n % 8 == 0, "%s: header length %llu", path, (unsigned long long)n);
    ck_assert_uint_le(8 + n, len);
    ck_assert_int_eq(buf[8], '{');
    uint64_t hend = 8 + n;
    while (hend > 8 && buf[hend - 1] == ' ') /* padded with spaces */
        hend--;
    ck_assert_int_eq(buf[hend - 1], '}');
    ck_assert_uint_lt(8 + n - hend, 8);
    cJSON *h = cJSON_ParseWithLength((const char *)buf + 8, (size_t)n);
    ck_assert_msg(h != NULL, "%s: header is not JSON", path);
    ck_assert_str_eq(h->child->string, "__metadata__");
    const cJSON *meta = h->child;
    for (const cJSON *m = meta->child; m; m = m->next)
        ck_assert(cJSON_IsString(m));
    ck_assert_str_eq(cJSON_GetObjectItem(meta, "ss_network_module")->valuestring, "networks.lora");
    ck_assert_int_eq(atoi(cJSON_GetObjectItem(meta, "ss_network_dim")->valuestring), rank);
    ck_assert_str_eq(cJSON_GetObjectItem(meta, "ss_base_model_version")->valuestring, "sd_v1");
    ck_assert_str_eq(cJSON_GetObjectItem(meta, "modelspec.architecture")->valuestring, "stable-diffusion-v1/lora");
    facts->epoch = atoi(cJSON_GetObjectItem(meta, "ss_epoch")->valuestring);
    facts->steps = atoi(cJSON_GetObjectItem(meta, "ss_steps")->valuestring);
    facts->alpha = strtod(cJSON_GetObjectItem(meta, "ss_network_alpha")->valuestring, NULL);

    int count = 0, downs = 0, ups = 0, alphas = 0;
    uint64_t end = 0;
    const char *prev = NULL;
    const uint64_t data = 8 + n;
    facts->up_sq = -1;
    for (const cJSON *t = meta->next; t; t = t->next) {
        count++;
        if (prev)
            ck_assert_msg(strcmp(prev, t->string) < 0, "not sorted: %s, %s", prev, t->string);
        prev = t->string;
        ck_assert_str_eq(cJSON_GetObjectItem(t, "dtype")->valuestring, "F16");
        const cJSON *shape = cJSON_GetObjectItem(t, "shape");
        const cJSON *off = cJSON_GetObjectItem(t, "data_offsets");
        uint64_t b = (uint64_t)cJSON_GetArrayItem(off, 0)->valuedouble;
        uint64_t e = (uint64_t)cJSON_GetArrayItem(off, 1)->valuedouble;
        ck_assert_uint_eq(b, end);
        uint64_t elems = 1;
        for (const cJSON *d = shape->child; d; d = d->next)
            elems *= (uint64_t)d->valuedouble;
        ck_assert_uint_eq(e - b, 2 * elems);
        end = e;
        int nd = cJSON_GetArraySize(shape);
        if (sr_str_has_suffix(t->string, ".alpha")) {
            alphas++;
            ck_assert_int_eq(nd, 0);
            if (!partial) {
                uint16_t v = (uint16_t)(buf[data + b] | (buf[data + b + 1] << 8));
                ck_assert_double_eq(sr_f16_to_f32(v), facts->alpha);
            }
        } else if (sr_str_has_suffix(t->string, ".lora_down.weight")) {
            downs++;
            ck_assert(nd == 2 || nd == 4);
            ck_assert_int_eq((int)cJSON_GetArrayItem(shape, 0)->valuedouble, rank);
            if (nd == 4) {
                ck_assert(strstr(t->string, "_proj_in.") || strstr(t->string, "_proj_out."));
                ck_assert_int_eq((int)cJSON_GetArrayItem(shape, 2)->valuedouble, 1);
                ck_assert_int_eq((int)cJSON_GetArrayItem(shape, 3)->valuedouble, 1);
            }
        } else if (sr_str_has_suffix(t->string, ".lora_up.weight")) {
            ups++;
            ck_assert(nd == 2 || nd == 4);
            ck_assert_int_eq((int)cJSON_GetArrayItem(shape, 1)->valuedouble, rank);
            if (!partial && strcmp(t->string, "lora_te_text_model_encoder_layers_0_mlp_fc1.lora_up.weight") == 0) {
                double sq = 0;
                for (uint64_t k = 0; k < elems; k++) {
                    uint16_t v = (uint16_t)(buf[data + b + 2 * k] | (buf[data + b + 2 * k + 1] << 8));
                    double f = sr_f16_to_f32(v);
                    sq += f * f;
                }
                facts->up_sq = sq;
            }
        } else {
            ck_abort_msg("unexpected tensor %s", t->string);
        }
    }
    ck_assert_int_eq(count, 3 * SR_LORA_SD15_MODULES);
    ck_assert_int_eq(downs, SR_LORA_SD15_MODULES);
    ck_assert_int_eq(ups, SR_LORA_SD15_MODULES);
    ck_assert_int_eq(alphas, SR_LORA_SD15_MODULES);

    /* a few shapes spelled out */
    long long r = rank;
    const long long s1[] = {r, 768}, s2[] = {r, 1280, 1, 1}, s3[] = {2560, r}, s4[] = {r, 3072}, s5[] = {1280, r, 1, 1},
                    s6[] = {r, 2560}, s7[] = {768, r};
    ck_assert(shape_is(cJSON_GetObjectItem(
                           cJSON_GetObjectItem(h, "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k."
                                                  "lora_down.weight"),
                           "shape"),
                       2, s1));
    ck_assert(shape_is(
        cJSON_GetObjectItem(cJSON_GetObjectItem(h, "lora_unet_mid_block_attentions_0_proj_in.lora_down.weight"), "shape"),
        4, s2));
    ck_assert(shape_is(cJSON_GetObjectItem(
                           cJSON_GetObjectItem(h, "lora_unet_up_blocks_3_attentions_2_transformer_blocks_0_ff_net_0_proj."
                                                  "lora_up.weight"),
                           "shape"),
                       2, s3));
    ck_assert(shape_is(cJSON_GetObjectItem(
                           cJSON_GetObjectItem(h, "lora_te_text_model_encoder_layers_11_mlp_fc2.lora_down.weight"), "shape"),
                       2, s4));
    ck_assert(shape_is(
        cJSON_GetObjectItem(cJSON_GetObjectItem(h, "lora_unet_up_blocks_1_attentions_2_proj_out.lora_up.weight"), "shape"),
        4, s5));
    ck_assert(shape_is(cJSON_GetObjectItem(
                           cJSON_GetObjectItem(h, "lora_unet_down_blocks_1_attentions_1_transformer_blocks_0_ff_net_2."
                                                  "lora_down.weight"),
                           "shape"),
                       2, s6));
    ck_assert(shape_is(cJSON_GetObjectItem(
                           cJSON_GetObjectItem(h, "lora_te_text_model_encoder_layers_5_self_attn_out_proj.lora_up.weight"),
                           "shape"),
                       2, s7));
    ck_assert_ptr_nonnull(cJSON_GetObjectItem(h, "lora_unet_down_blocks_2_attentions_1_transformer_blocks_0_attn1_to_out_0.alpha"));

    if (partial) {
        ck_assert_msg(len < data + end, "%s should be cut", path);
        ck_assert(len >= (data + end) / 2 - 8 && len <= (data + end) / 2 + 8);
    } else {
        ck_assert_uint_eq(len, data + end);
    }
    cJSON_Delete(h);
    free(buf);
}

START_TEST(test_lora_files)
{
    sr_synth_opts o;
    small_opts(&o);
    /* trial: epochs with a checkpoint (0 ends), 1 = with the final */
    static const int want[5][5] = {{2, 4, 6, 8, 0}, {2, 4, 6, 8, 0}, {2, 4, 0}, {2, 4, 6, 8, 0}, {2, 4, 0}};
    int files = 0;
    for (int t = 1; t <= 5; t++) {
        double prev_sq = 0;
        int prev_steps = 0;
        for (int k = 0; want[t - 1][k]; k++) {
            int e = want[t - 1][k];
            char *rel = e == 8 ? xasprintf("trial_%04d/lora_trial_%d.safetensors", t, t)
                               : xasprintf("trial_%04d/lora_trial_%d-%06d.safetensors", t, t, e);
            char *p = sr_path_join(g_sweep, rel);
            int partial = t == 5 && e == 4;
            lora_facts f;
            check_lora_file(p, o.rank, partial, &f);
            files++;
            ck_assert_int_eq(f.epoch, e);
            ck_assert_int_gt(f.steps, prev_steps);
            prev_steps = f.steps;
            if (!partial) {
                ck_assert_msg(f.up_sq > prev_sq, "%s: update norm does not grow", rel);
                prev_sq = f.up_sq;
            }
            free(p);
            free(rel);
        }
    }
    ck_assert_int_eq(files, 16);
    /* the failed (trial 3) and running (trial 5) trials have no final, nothing past their last */
    ck_assert(!exists(g_sweep, "trial_0003/lora_trial_3.safetensors"));
    ck_assert(!exists(g_sweep, "trial_0003/lora_trial_3-000006.safetensors"));
    ck_assert(!exists(g_sweep, "trial_0005/lora_trial_5.safetensors"));
    ck_assert(!exists(g_sweep, "trial_0005/lora_trial_5-000006.safetensors"));
    /* no temporary files left behind */
    size_t n;
    char **l = list_files(g_sweep, &n);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(!strstr(l[i], ".sweepreport-tmp-"), "%s", l[i]);
    free_list(l, n);
}
END_TEST

/* ---- the sweep ----------------------------------------------------------- */

START_TEST(test_refuses_nonempty)
{
    char *d = test_tmpdir("synth-refuse");
    sr_synth_opts o;
    small_opts(&o);
    o.trials = 1;
    o.epochs = 2;
    o.samples = 1;
    o.size = 16;
    char err[512];
    char *f = sr_path_join(d, "keep.txt");
    ck_assert_int_eq(sr_write_file_atomic(f, "x", 1, SR_ATOMIC_REPLACE), 0);
    ck_assert_int_eq(sr_synth(d, &o, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "not empty") != NULL, "%s", err);
    ck_assert(exists(d, "keep.txt"));
    ck_assert(!exists(d, "trial_0001"));
    /* a file in the way */
    ck_assert_int_eq(sr_synth(f, &o, err, sizeof err), -1);
    /* bad options */
    char *e = sr_path_join(d, "empty");
    ck_assert_int_eq(sr_mkdir_p(e, 0755), 0);
    o.rank = 0;
    ck_assert_int_eq(sr_synth(e, &o, err, sizeof err), -1);
    o.rank = 1;
    /* an existing empty folder is fine */
    ck_assert_msg(sr_synth(e, &o, err, sizeof err) == 0, "%s", err);
    ck_assert(exists(e, "trial_0001/lora_trial_1.safetensors"));
    free(e);
    free(f);
    test_rmtree(d);
    free(d);
}
END_TEST

START_TEST(test_determinism)
{
    char *d = test_tmpdir("synth-det");
    sr_synth_opts o;
    small_opts(&o);
    o.trials = 4;
    o.epochs = 4;
    o.size = 32;
    char *a = sr_path_join(d, "a"), *b = sr_path_join(d, "other/b"), *c = sr_path_join(d, "c");
    char err[512];
    ck_assert_msg(sr_synth(a, &o, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(sr_synth(b, &o, err, sizeof err) == 0, "%s", err);
    o.seed = 8;
    ck_assert_msg(sr_synth(c, &o, err, sizeof err) == 0, "%s", err);
    size_t na, nb, nc;
    char **la = list_files(a, &na);
    char **lb = list_files(b, &nb);
    char **lc = list_files(c, &nc);
    ck_assert_uint_eq(na, nb);
    ck_assert_uint_gt(na, 20);
    size_t differ = 0;
    for (size_t i = 0; i < na; i++) {
        ck_assert_str_eq(la[i], lb[i]);
        char *pa = sr_path_join(a, la[i]), *pb = sr_path_join(b, lb[i]), *pc = sr_path_join(c, la[i]);
        size_t l1, l2;
        char *x = slurp(pa, &l1), *y = slurp(pb, &l2);
        ck_assert_msg(l1 == l2 && memcmp(x, y, l1) == 0, "%s differs between two runs", la[i]);
        struct stat st;
        if (stat(pc, &st) == 0) {
            size_t l3;
            char *z = slurp(pc, &l3);
            differ += l3 != l1 || memcmp(x, z, l1) != 0;
            free(z);
        }
        free(x);
        free(y);
        free(pa);
        free(pb);
        free(pc);
    }
    ck_assert_uint_gt(differ, na / 2);
    char *pp = sr_path_join(a, "trial_0001/params.json"), *pq = sr_path_join(c, "trial_0001/params.json");
    size_t l1, l2;
    char *x = slurp(pp, &l1), *y = slurp(pq, &l2);
    ck_assert(l1 != l2 || memcmp(x, y, l1) != 0);
    free(x);
    free(y);
    free(pp);
    free(pq);
    free_list(la, na);
    free_list(lb, nb);
    free_list(lc, nc);
    free(a);
    free(b);
    free(c);
    test_rmtree(d);
    free(d);
}
END_TEST

/* The metrics object of a metrics.json: nested, or the old flat layout. */
static const cJSON *metrics_of(const cJSON *doc, int *flat)
{
    const cJSON *m = cJSON_GetObjectItem(doc, "metrics");
    *flat = m == NULL;
    return m ? m : doc;
}

START_TEST(test_metrics_match_images)
{
    size_t n;
    char **l = list_files(g_sweep, &n);
    int checked = 0, finals = 0, realtime = 0, flat_seen = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(sr_path_base(l[i]), "metrics.json") != 0)
            continue;
        cJSON *doc = load_json(g_sweep, l[i]);
        int flat;
        const cJSON *m = metrics_of(doc, &flat);
        int is_trial2 = sr_str_has_prefix(l[i], "trial_0002/");
        ck_assert_msg(flat == is_trial2, "%s: layout", l[i]);
        flat_seen += flat;
        int final = strstr(l[i], "/evaluation/") != NULL;
        const cJSON *et = cJSON_GetObjectItem(doc, "evaluation_time");
        if (final) {
            finals++;
            ck_assert(cJSON_IsString(et));
            ck_assert_int_eq(strlen(et->valuestring), 26); /* 2025-11-15T10:45:12.123456 */
        } else {
            realtime++;
            ck_assert(cJSON_IsNumber(et));
            ck_assert(cJSON_IsString(cJSON_GetObjectItem(doc, "timestamp")));
            ck_assert(cJSON_IsString(cJSON_GetObjectItem(doc, "checkpoint_name")));
        }
        const char *ck = sr_json_string(doc, "checkpoint");
        ck_assert_ptr_nonnull(ck);
        ck_assert(sr_str_has_suffix(ck, ".safetensors"));
        int total = (int)sr_json_number(m, "total_samples");
        ck_assert_int_eq(total, 2);
        const cJSON *ab = cJSON_GetObjectItem(m, "avg_brightness"), *ac = cJSON_GetObjectItem(m, "avg_contrast");
        ck_assert_int_eq(cJSON_GetArraySize(ab), total);
        char *dir = xstrndup(l[i], strlen(l[i]) - strlen("metrics.json"));
        double bs[8], cs[8];
        for (int s = 0; s < total; s++) {
            char *rel = xasprintf("%ssample_%02d.png", dir, s);
            char *p = sr_path_join(g_sweep, rel);
            int w, h;
            uint8_t *rgb = read_png(p, &w, &h);
            ck_assert_int_eq(w, 48);
            ck_assert_int_eq(h, 48);
            stats(rgb, (size_t)w * h * 3, &bs[s], &cs[s]);
            ck_assert_msg(fabs(bs[s] - cJSON_GetArrayItem(ab, s)->valuedouble) < 1e-12, "%s brightness", rel);
            ck_assert_msg(fabs(cs[s] - cJSON_GetArrayItem(ac, s)->valuedouble) < 1e-12, "%s contrast", rel);
            free(rgb);
            free(p);
            free(rel);
        }
        double mb = 0, mc = 0, vb = 0, vc = 0;
        for (int s = 0; s < total; s++) {
            mb += bs[s] / total;
            mc += cs[s] / total;
        }
        for (int s = 0; s < total; s++) {
            vb += (bs[s] - mb) * (bs[s] - mb) / total;
            vc += (cs[s] - mc) * (cs[s] - mc) / total;
        }
        ck_assert(fabs(mb - sr_json_number(m, "mean_brightness")) < 1e-12);
        ck_assert(fabs(mc - sr_json_number(m, "mean_contrast")) < 1e-12);
        ck_assert(fabs(sqrt(vb) - sr_json_number(m, "std_brightness")) < 1e-12);
        ck_assert(fabs(sqrt(vc) - sr_json_number(m, "std_contrast")) < 1e-12);
        checked++;
        free(dir);
        cJSON_Delete(doc);
    }
    /* finals: trials 1, 2, 4; realtime, by the rules in synth.c: trial 1 epochs 2, 4;
     * trial 2: 4, 6; trial 3: 4; trial 4: 2, 6; trial 5: 2 */
    ck_assert_int_eq(finals, 3);
    ck_assert_int_eq(realtime, 8);
    ck_assert_int_eq(flat_seen, 3);
    ck_assert_int_eq(checked, 11);
    free_list(l, n);

    /* checkpoints without samples, or with samples and no metrics */
    ck_assert(!exists(g_sweep, "trial_0002/realtime_evaluations/lora_trial_2-000002"));
    ck_assert(!exists(g_sweep, "trial_0005/realtime_evaluations/lora_trial_5-000004"));
    ck_assert(exists(g_sweep, "trial_0001/realtime_evaluations/lora_trial_1-000006/sample_01.png"));
    ck_assert(!exists(g_sweep, "trial_0001/realtime_evaluations/lora_trial_1-000006/metrics.json"));
    ck_assert(exists(g_sweep, "trial_0003/realtime_evaluations/lora_trial_3-000002/sample_00.png"));
    ck_assert(!exists(g_sweep, "trial_0003/realtime_evaluations/lora_trial_3-000002/metrics.json"));
    ck_assert(exists(g_sweep, "trial_0001/evaluation/generation_results.json"));
    ck_assert(!exists(g_sweep, "trial_0003/evaluation"));
    ck_assert(!exists(g_sweep, "trial_0005/evaluation"));
}
END_TEST

START_TEST(test_images_are_scenes)
{
    size_t n;
    char **l = list_files(g_sweep, &n);
    int images = 0;
    for (size_t i = 0; i < n; i++) {
        if (!sr_str_has_suffix(l[i], ".png"))
            continue;
        char *p = sr_path_join(g_sweep, l[i]);
        int w, h;
        uint8_t *rgb = read_png(p, &w, &h);
        /* drawn, not noise: neighbouring pixels are close on average */
        double diff = 0;
        for (int y = 0; y < h; y++)
            for (int x = 1; x < w; x++)
                for (int c = 0; c < 3; c++)
                    diff += abs(rgb[((size_t)y * w + x) * 3 + c] - rgb[((size_t)y * w + x - 1) * 3 + c]);
        diff /= (double)h * (w - 1) * 3;
        ck_assert_msg(diff < 24, "%s: mean neighbour difference %.1f", l[i], diff);
        /* and not flat */
        double b, c;
        stats(rgb, (size_t)w * h * 3, &b, &c);
        ck_assert_msg(c > 0.03, "%s: flat image", l[i]);
        free(rgb);
        free(p);
        images++;
    }
    ck_assert_int_gt(images, 20);
    free_list(l, n);

    /* each prompt index has its own composition */
    char *p0 = sr_path_join(g_sweep, "trial_0001/evaluation/sample_00.png");
    char *p1 = sr_path_join(g_sweep, "trial_0001/evaluation/sample_01.png");
    int w, h;
    uint8_t *a = read_png(p0, &w, &h), *b = read_png(p1, &w, &h);
    double d = 0;
    for (size_t i = 0; i < (size_t)w * h * 3; i++)
        d += abs(a[i] - b[i]);
    ck_assert(d / ((double)w * h * 3) > 20);
    free(a);
    free(b);
    free(p0);
    free(p1);

    /* brightness moves between the first and the last epoch of a trial */
    static const char *const pairs[][2] = {
        {"trial_0001/realtime_evaluations/lora_trial_1-000002/metrics.json", "trial_0001/evaluation/metrics.json"},
        {"trial_0002/realtime_evaluations/lora_trial_2-000004/metrics.json", "trial_0002/evaluation/metrics.json"},
        {"trial_0004/realtime_evaluations/lora_trial_4-000002/metrics.json", "trial_0004/evaluation/metrics.json"},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        cJSON *x = load_json(g_sweep, pairs[i][0]), *y = load_json(g_sweep, pairs[i][1]);
        int flat;
        double bx = sr_json_number(metrics_of(x, &flat), "mean_brightness");
        double by = sr_json_number(metrics_of(y, &flat), "mean_brightness");
        ck_assert_msg(fabs(bx - by) > 0.005, "%s: %.4f vs %.4f", pairs[i][0], bx, by);
        cJSON_Delete(x);
        cJSON_Delete(y);
    }
}
END_TEST

START_TEST(test_scene_render)
{
    /* every composition draws; an overtrained style differs a lot */
    int size = 40;
    uint8_t *a = xmalloc((size_t)size * size * 3), *b = xmalloc((size_t)size * size * 3);
    for (int k = 0; k < 2 * sr_scene_prompt_count(); k++) {
        sr_scene_style s = {k, 1.0, 0, 1, 1, 0, 0};
        ck_assert_int_eq(sr_scene_render(a, size, &s), 0);
        s.artifacts = 1;
        s.saturation = 2.3;
        s.contrast = 1.8;
        ck_assert_int_eq(sr_scene_render(b, size, &s), 0);
        double d = 0;
        for (size_t i = 0; i < (size_t)size * size * 3; i++)
            d += abs(a[i] - b[i]);
        ck_assert_msg(d / (size * size * 3) > 10, "prompt %d", k);
        ck_assert_ptr_nonnull(sr_scene_prompt(k));
    }
    sr_scene_style s = {0, 1, 0, 1, 1, 0, 0};
    ck_assert_int_eq(sr_scene_render(a, 2, &s), -1);
    free(a);
    free(b);
}
END_TEST

START_TEST(test_results_and_logs)
{
    cJSON *all = load_json(g_sweep, "results/all_trials.json");
    ck_assert_int_eq(cJSON_GetArraySize(all), 5);
    static const char *const states[] = {"COMPLETE", "COMPLETE", "PRUNED", "COMPLETE", "RUNNING"};
    double best = INFINITY;
    int best_n = -1;
    for (int i = 0; i < 5; i++) {
        const cJSON *t = cJSON_GetArrayItem(all, i);
        ck_assert_int_eq((int)sr_json_number(t, "number"), i);
        ck_assert_str_eq(sr_json_string(t, "state"), states[i]);
        ck_assert(cJSON_IsObject(cJSON_GetObjectItem(t, "user_attrs")));
        /* params equal the folder's params.json */
        char *rel = xasprintf("trial_%04d/params.json", i + 1);
        cJSON *params = load_json(g_sweep, rel);
        ck_assert(cJSON_Compare(params, cJSON_GetObjectItem(t, "params"), 1));
        double lr = sr_json_number(params, "learning_rate");
        ck_assert(lr >= 1e-5 && lr <= 1e-3);
        ck_assert_int_eq((int)sr_json_number(params, "network_dim"), 1);
        ck_assert_int_eq((int)sr_json_number(params, "max_train_epochs"), 8);
        const char *opt = sr_json_string(params, "optimizer_type");
        ck_assert(!strcmp(opt, "AdamW8bit") || !strcmp(opt, "Lion") || !strcmp(opt, "Prodigy"));
        free(rel);
        cJSON_Delete(params);
        const cJSON *v = cJSON_GetObjectItem(t, "value");
        if (strcmp(states[i], "COMPLETE") != 0) {
            ck_assert(cJSON_IsNull(v));
            continue;
        }
        /* value = combined_score of the final metrics */
        rel = xasprintf("trial_%04d/evaluation/metrics.json", i + 1);
        cJSON *doc = load_json(g_sweep, rel);
        int flat;
        const cJSON *m = metrics_of(doc, &flat);
        double pixar = fabs(sr_json_number(m, "mean_brightness") - 0.5) + 0.5 * sr_json_number(m, "std_brightness") +
                       fabs(sr_json_number(m, "mean_contrast") - 0.2) + 0.5 * sr_json_number(m, "std_contrast");
        double lp = fabs(sr_json_number(m, "lpips_diversity") - 0.4);
        double clip = sr_json_number(m, "clip_consistency");
        double cs = 0.4 * pixar + 0.3 * lp + 0.3 * (clip < 0.35 ? 0.35 - clip : 0);
        ck_assert(cJSON_IsNumber(v));
        ck_assert_msg(fabs(v->valuedouble - cs) < 1e-12, "trial %d: %g vs %g", i + 1, v->valuedouble, cs);
        if (cs < best) {
            best = cs;
            best_n = i;
        }
        cJSON_Delete(doc);
        free(rel);
    }
    cJSON *bp = load_json(g_sweep, "results/best_parameters.json");
    ck_assert_int_eq((int)sr_json_number(bp, "trial_number"), best_n);
    ck_assert(fabs(sr_json_number(bp, "combined_score") - best) < 1e-12);
    cJSON_Delete(bp);
    cJSON_Delete(all);

    /* summaries: odd trials the code shape, even trials the note shape */
    cJSON *s1 = load_json(g_sweep, "trial_0001/realtime_evaluations/evaluation_summary.json");
    ck_assert(cJSON_IsArray(cJSON_GetObjectItem(s1, "checkpoints")));
    ck_assert_int_eq((int)sr_json_number(s1, "total_checkpoints_evaluated"), 2);
    cJSON_Delete(s1);
    cJSON *s2 = load_json(g_sweep, "trial_0002/realtime_evaluations/evaluation_summary.json");
    const cJSON *c2 = cJSON_GetObjectItem(s2, "checkpoints");
    ck_assert(cJSON_IsObject(c2));
    ck_assert_int_eq((int)sr_json_number(cJSON_GetObjectItem(c2, "lora_trial_2-000004"), "epoch"), 4);
    ck_assert_str_eq(sr_json_string(s2, "trial_name"), "trial_0002");
    cJSON_Delete(s2);
    cJSON *st = load_json(g_sweep, "trial_0004/realtime_evaluations/evaluation_state.json");
    const cJSON *ev = cJSON_GetObjectItem(st, "evaluated_checkpoints");
    ck_assert_int_eq(cJSON_GetArraySize(ev), 2); /* epochs 2 and 6: 4 timed out */
    ck_assert_str_eq(cJSON_GetArrayItem(ev, 0)->valuestring, "lora_trial_4-000002.safetensors");
    ck_assert_ptr_nonnull(cJSON_GetObjectItem(cJSON_GetObjectItem(st, "evaluation_results"),
                                              "lora_trial_4-000006.safetensors"));
    cJSON_Delete(st);
    cJSON *s3 = load_json(g_sweep, "trial_0003/realtime_evaluations/evaluation_summary.json");
    ck_assert_int_eq((int)sr_json_number(s3, "total_checkpoints_evaluated"), 1);
    ck_assert_str_eq(sr_json_string(cJSON_GetArrayItem(cJSON_GetObjectItem(s3, "checkpoints"), 0), "name"),
                     "lora_trial_3-000004.safetensors");
    cJSON_Delete(s3);

    /* training logs */
    size_t len;
    char *p = sr_path_join(g_sweep, "trial_0003/training.log");
    char *log = slurp(p, &len);
    ck_assert_ptr_nonnull(strstr(log, "Traceback (most recent call last):"));
    ck_assert_ptr_nonnull(strstr(log, "\nepoch 5/8\n"));
    ck_assert_ptr_null(strstr(log, "\nepoch 6/8\n"));
    ck_assert_int_eq(log[len - 1], '\n');
    log[len - 1] = '\0';
    ck_assert(sr_str_has_prefix(strrchr(log, '\n') + 1, "torch.cuda.OutOfMemoryError: CUDA out of memory."));
    free(log);
    free(p);
    p = sr_path_join(g_sweep, "trial_0005/training.log");
    log = slurp(p, &len);
    ck_assert(sr_str_has_suffix(log, "/trial_0005/lora_trial_5-000004.safetensors\n"));
    ck_assert_ptr_null(strstr(log, "model saved."));
    free(log);
    free(p);
    p = sr_path_join(g_sweep, "trial_0001/training.log");
    log = slurp(p, &len);
    ck_assert_ptr_nonnull(strstr(log, "\nepoch 8/8\n"));
    ck_assert_ptr_nonnull(strstr(log, "avr_loss="));
    ck_assert_ptr_nonnull(strstr(log, "steps: 100%|██████████|"));
    ck_assert(sr_str_has_suffix(log, "model saved.\n"));
    free(log);
    free(p);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("synth");
    TCase *tc = tcase_create("units");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_png_roundtrip);
    tcase_add_test(tc, test_png_corpora);
    tcase_add_test(tc, test_png_absurd_sizes);
    tcase_add_test(tc, test_png_conversions);
    tcase_add_test(tc, test_f16);
    tcase_add_test(tc, test_module_table);
    tcase_add_test(tc, test_scene_render);
    tcase_add_test(tc, test_refuses_nonempty);
    tcase_add_test(tc, test_determinism);
    suite_add_tcase(s, tc);

    TCase *sw = tcase_create("sweep");
    tcase_set_timeout(sw, 120);
    tcase_add_unchecked_fixture(sw, sweep_setup, sweep_teardown);
    tcase_add_test(sw, test_lora_files);
    tcase_add_test(sw, test_metrics_match_images);
    tcase_add_test(sw, test_images_are_scenes);
    tcase_add_test(sw, test_results_and_logs);
    suite_add_tcase(s, sw);
    return s;
}
