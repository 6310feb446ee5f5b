/* fixture.c - hand-made sweep folders for tests. */
#include "config.h"

#include "fixture.h"
#include "atomic_file.h"
#include "eval.h"
#include "scan.h"
#include "synth.h"
#include "util.h"

#include <cjson/cJSON.h>

#include <check.h>
#include <png.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void make_parent(const char *path)
{
    char *p = xstrdup(path);
    char *slash = strrchr(p, '/');
    if (slash) {
        *slash = '\0';
        ck_assert_msg(sr_mkdir_p(p, 0755) == 0, "mkdir -p %s", p);
    }
    free(p);
}

static void write_bytes(const char *path, const void *data, size_t len)
{
    make_parent(path);
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot create %s", path);
    ck_assert(fwrite(data, 1, len, f) == len);
    ck_assert(fclose(f) == 0);
}

void fx_write(const char *dir, const char *rel, const char *text)
{
    char *path = sr_path_join(dir, rel);
    write_bytes(path, text, strlen(text));
    free(path);
}

/* Two modules of rank 2: down [2,4] and up [4,2] each, plus alpha. */
static char *lora_bytes(const char *const *meta, size_t *len)
{
    static const char *const modules[] = {"lora_unet_mid_block_attentions_0_proj_in",
                                          "lora_te_text_model_encoder_layers_0_mlp_fc1"};
    sr_buf h;
    sr_buf_init(&h);
    sr_buf_puts(&h, "{");
    if (meta) {
        sr_buf_puts(&h, "\"__metadata__\":{");
        for (size_t i = 0; meta[i]; i += 2)
            sr_buf_printf(&h, "%s\"%s\":\"%s\"", i ? "," : "", meta[i], meta[i + 1]);
        sr_buf_puts(&h, "},");
    }
    uint64_t off = 0;
    for (size_t m = 0; m < 2; m++) {
        sr_buf_printf(&h, "%s\"%s.alpha\":{\"dtype\":\"F16\",\"shape\":[],\"data_offsets\":[%llu,%llu]}",
                      m ? "," : "", modules[m], (unsigned long long)off, (unsigned long long)off + 2);
        off += 2;
        sr_buf_printf(&h, ",\"%s.lora_down.weight\":{\"dtype\":\"F16\",\"shape\":[2,4],\"data_offsets\":[%llu,%llu]}",
                      modules[m], (unsigned long long)off, (unsigned long long)off + 16);
        off += 16;
        sr_buf_printf(&h, ",\"%s.lora_up.weight\":{\"dtype\":\"F16\",\"shape\":[4,2],\"data_offsets\":[%llu,%llu]}",
                      modules[m], (unsigned long long)off, (unsigned long long)off + 16);
        off += 16;
    }
    sr_buf_puts(&h, "}");
    while (h.len % 8)
        sr_buf_puts(&h, " ");
    size_t total = 8 + h.len + off;
    char *out = xcalloc(1, total);
    uint64_t n = h.len;
    for (int i = 0; i < 8; i++)
        out[i] = (char)((n >> (8 * i)) & 0xff);
    memcpy(out + 8, h.s, h.len);
    /* fp16 values: alpha = 1.0 (0x3c00), weights 0.5 (0x3800) */
    for (size_t i = 8 + h.len; i + 1 < total; i += 2) {
        out[i] = 0x00;
        out[i + 1] = 0x38;
    }
    sr_buf_free(&h);
    *len = total;
    return out;
}

size_t fx_write_lora(const char *dir, const char *rel, const char *const *meta)
{
    size_t len;
    char *bytes = lora_bytes(meta, &len);
    char *path = sr_path_join(dir, rel);
    write_bytes(path, bytes, len);
    free(path);
    free(bytes);
    return len;
}

void fx_write_lora_truncated(const char *dir, const char *rel, size_t keep)
{
    size_t len;
    char *bytes = lora_bytes(NULL, &len);
    ck_assert(keep < len);
    char *path = sr_path_join(dir, rel);
    write_bytes(path, bytes, keep);
    free(path);
    free(bytes);
}

void fx_write_png(const char *dir, const char *rel, int w, int h, unsigned char r, unsigned char g, unsigned char b)
{
    char *path = sr_path_join(dir, rel);
    make_parent(path);
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = (png_uint_32)w;
    img.height = (png_uint_32)h;
    img.format = PNG_FORMAT_RGB;
    unsigned char *px = xmalloc((size_t)w * (size_t)h * 3);
    for (size_t i = 0; i < (size_t)w * (size_t)h; i++) {
        px[3 * i] = r;
        px[3 * i + 1] = g;
        px[3 * i + 2] = b;
    }
    ck_assert_msg(png_image_write_to_file(&img, path, 0, px, 0, NULL), "png write %s", path);
    free(px);
    free(path);
}

void fx_measured_sweep(const char *dir, int trials, int size, unsigned long long seed, sr_sweep *sweep,
                       sr_analysis *analysis)
{
    char err[512];
    sr_synth_opts so;
    sr_synth_defaults(&so);
    so.trials = trials;
    so.epochs = 6;
    so.save_every = 2;
    so.samples = 2;
    so.size = size;
    so.rank = 1;
    so.seed = seed;
    if (sr_synth(dir, &so, err, sizeof err) != 0) {
        fprintf(stderr, "synth: %s\n", err);
        abort();
    }
    sr_eval_opts eo;
    sr_eval_defaults(&eo);
    eo.device = "cpu";
    eo.jobs = 2;
    eo.quiet = 1;
    sr_eval_stats st;
    sr_problems pr;
    sr_problems_init(&pr);
    if (sr_eval(dir, &eo, &st, &pr, err, sizeof err) != 0) {
        fprintf(stderr, "eval: %s\n", err);
        abort();
    }
    sr_problems_free(&pr);
    fx_scan_analyze(dir, sweep, analysis);
}

void fx_scan_analyze(const char *dir, sr_sweep *sweep, sr_analysis *analysis)
{
    char err[512];
    ck_assert_msg(sr_scan(dir, sweep, err, sizeof err) == 0, "scan: %s", err);
    sr_analysis_opts ao = {0};
    ck_assert_msg(sr_analyze(sweep, &ao, analysis, err, sizeof err) == 0, "analyze: %s", err);
}

void fx_plant_note(const char *dir, const char *trial, const char *note)
{
    char *rel = xasprintf("%s/params.json", trial);
    char *p = sr_path_join(dir, rel);
    char *text = NULL;
    size_t len = 0;
    char err[256];
    ck_assert_msg(sr_read_file(p, 1 << 20, &text, &len, err, sizeof err) == 0, "%s", err);
    cJSON *j = cJSON_Parse(text);
    ck_assert_ptr_nonnull(j);
    cJSON_AddStringToObject(j, "note", note);
    char *out = cJSON_Print(j);
    fx_write(dir, rel, out);
    free(out);
    cJSON_Delete(j);
    free(text);
    free(p);
    free(rel);
}

int fx_have_tool(const char *tool)
{
    char *cmd = xasprintf("command -v %s >/dev/null 2>&1", tool);
    int ok = system(cmd) == 0;
    free(cmd);
    if (!ok)
        printf("# SKIP %s is not installed\n", tool);
    return ok;
}

char *fx_run(const char *cmd, int *status)
{
    FILE *p = popen(cmd, "r");
    ck_assert_msg(p != NULL, "cannot run %s", cmd);
    sr_buf b;
    sr_buf_init(&b);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, p)) > 0)
        sr_buf_append(&b, chunk, n);
    int st = pclose(p);
    if (status)
        *status = st;
    sr_buf_puts(&b, "");
    return sr_buf_steal(&b);
}

double fx_pdfimages_bytes(const char *size)
{
    char *end;
    double v = strtod(size, &end);
    return *end == 'K' ? v * 1024 : *end == 'M' ? v * 1024 * 1024 : v;
}
