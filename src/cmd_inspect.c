/* cmd_inspect.c - sweepreport inspect: one checkpoint file in detail. */
#include "config.h"

#include "cli.h"
#include "device.h"
#include "json.h"
#include "safetensors.h"
#include "scan_output.h"
#include "util.h"
#include "weight_metrics.h"

#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static void inspect_help(void)
{
    printf("Usage: sweepreport inspect [--json] [--device DEV] FILE...\n"
           "\n"
           "Shows checkpoint files in detail: whether the file is valid, its metadata\n"
           "(ss_* and modelspec.* keys; JSON inside strings expanded, Unix times as\n"
           "dates), its modules by block with dtype, rank and alpha, and the weight\n"
           "metrics (delta norm, effective rank, non-finite values) per block.\n"
           "\n"
           "  --json          print one JSON document (an array, one object per file)\n"
           "  --device DEV    auto, cpu, cuda or cuda:N (default cpu)\n"
           "  -h, --help      show this help\n"
           "\n"
           "Exit status: 0 every file is valid, 1 some file is not, 2 usage error.\n");
}

/* Keys whose string value is JSON (kohya writes them with json.dumps). */
static int is_json_key(const char *k)
{
    static const char *const keys[] = {"ss_datasets",     "ss_tag_frequency", "ss_dataset_dirs",
                                       "ss_bucket_info",  "ss_network_args",  "ss_reg_dataset_dirs",
                                       "ss_bucket_info"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strcmp(k, keys[i]) == 0)
            return 1;
    return 0;
}

static int is_time_key(const char *k)
{
    return strcmp(k, "ss_training_started_at") == 0 || strcmp(k, "ss_training_finished_at") == 0;
}

/* "1763193600.25" -> "2025-11-15T08:00:00Z"; NULL when not a time. */
static char *unix_to_iso(const char *v)
{
    char *end;
    double t = strtod(v, &end);
    if (end == v || *end || !isfinite(t) || t < 0 || t > 1e11)
        return NULL;
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm))
        return NULL;
    char buf[32];
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return xstrdup(buf);
}

static cJSON *metadata_json(const sr_safetensors *st)
{
    cJSON *o = cJSON_CreateObject();
    for (size_t i = 0; i < st->n_meta; i++) {
        const char *k = st->meta[i].key, *v = st->meta[i].value;
        cJSON *item = NULL;
        if (is_json_key(k)) {
            char err[128];
            item = sr_json_parse(v, strlen(v), err, sizeof err);
        } else if (is_time_key(k)) {
            char *iso = unix_to_iso(v);
            if (iso) {
                item = cJSON_CreateString(iso);
                free(iso);
            }
        }
        cJSON_AddItemToObject(o, k, item ? item : cJSON_CreateString(v));
    }
    return o;
}

static cJSON *number_or_null(double v)
{
    return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

static cJSON *weights_json(const sr_wm_ckpt *w)
{
    const sr_wm_summary *s = sr_wm_summary_of(w);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "tensors", (double)s->n_tensors);
    cJSON_AddNumberToObject(o, "modules", (double)s->n_modules);
    cJSON_AddNumberToObject(o, "modules_measured", (double)s->n_measured);
    cJSON_AddNumberToObject(o, "nonfinite", (double)s->nonfinite);
    cJSON_AddItemToObject(o, "delta_norm", number_or_null(s->delta_norm));
    cJSON_AddItemToObject(o, "effective_rank", number_or_null(s->effective_rank));
    if (s->note[0])
        cJSON_AddStringToObject(o, "note", s->note);
    cJSON *blocks = cJSON_AddObjectToObject(o, "blocks");
    for (int b = 0; b < SR_WM_NBLOCKS; b++) {
        if (!s->block_modules[b])
            continue;
        cJSON *bo = cJSON_AddObjectToObject(blocks, sr_wm_block_name((sr_wm_block)b));
        cJSON_AddNumberToObject(bo, "modules", (double)s->block_modules[b]);
        cJSON_AddItemToObject(bo, "delta_norm", number_or_null(s->block_norm[b]));
    }
    sr_metrics m = {0};
    sr_wm_metrics(w, &m);
    cJSON *mo = cJSON_AddObjectToObject(o, "metrics");
    for (size_t i = 0; i < m.n; i++)
        cJSON_AddItemToObject(mo, m.items[i].name, number_or_null(m.items[i].value));
    sr_metrics_free(&m);
    const sr_wm_module *mods;
    size_t n = sr_wm_modules(w, &mods);
    cJSON *ma = cJSON_AddArrayToObject(o, "module_list");
    for (size_t i = 0; i < n; i++) {
        const sr_wm_module *md = &mods[i];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "name", md->name);
        cJSON_AddStringToObject(e, "family", sr_wm_family_name(md->family));
        cJSON_AddStringToObject(e, "block", sr_wm_block_name(md->block));
        if (md->dtype != SR_DT_COUNT)
            cJSON_AddStringToObject(e, "dtype", sr_dtype_name(md->dtype));
        cJSON_AddNumberToObject(e, "rank", md->rank);
        cJSON_AddItemToObject(e, "alpha", number_or_null(md->alpha));
        cJSON_AddNumberToObject(e, "out_features", (double)md->out_features);
        cJSON_AddNumberToObject(e, "in_features", (double)md->in_features);
        cJSON_AddItemToObject(e, "delta_norm", number_or_null(md->delta_norm));
        cJSON_AddItemToObject(e, "effective_rank", number_or_null(md->effective_rank));
        if (!md->measured && md->why_not)
            cJSON_AddStringToObject(e, "not_measured", md->why_not);
        cJSON_AddItemToArray(ma, e);
    }
    return o;
}

/* Everything about one file; *ok says whether it is valid. */
static cJSON *inspect_file(const char *path, const sr_device *dev, int *ok)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "path", path);
    sr_safetensors st;
    sr_st_read(path, &st);
    static const char *const status[] = {"ok", "incomplete", "invalid", "unreadable"};
    cJSON_AddStringToObject(o, "status", status[st.status]);
    cJSON_AddNumberToObject(o, "size", (double)st.file_size);
    *ok = st.status == SR_ST_OK;
    if (!*ok) {
        cJSON_AddStringToObject(o, "problem", st.problem);
        sr_st_free(&st);
        return o;
    }
    cJSON_AddNumberToObject(o, "header_bytes", (double)st.header_len);
    cJSON_AddItemToObject(o, "metadata", metadata_json(&st));
    sr_st_free(&st);
    sr_wm_ckpt *w = NULL;
    char err[SR_MSG_MAX];
    sr_st_status ws = sr_wm_load(path, dev, &w, err, sizeof err);
    if (ws == SR_ST_OK) {
        cJSON_AddItemToObject(o, "weights", weights_json(w));
        sr_wm_free(w);
    } else {
        cJSON_AddStringToObject(o, "weights_problem", err);
        *ok = 0;
    }
    return o;
}

/* The width of the module names' column. */
enum { MODULE_COLUMN = 72 };

/* A module's name for the table: terminal-safe, and when longer than the
 * column cut in the middle, so that its end (to_q, to_k, lora_B...), which
 * tells modules apart, stays. */
static char *module_name_text(const char *name)
{
    char *t = sr_terminal_text(name ? name : "", SIZE_MAX);
    size_t len = strlen(t);
    if (len <= MODULE_COLUMN)
        return t;
    /* head + "..." + tail, each cut between UTF-8 characters */
    size_t head = (MODULE_COLUMN - 3) / 2, tail = MODULE_COLUMN - 3 - head;
    while (head > 0 && ((unsigned char)t[head] & 0xC0) == 0x80)
        head--;
    size_t from = len - tail;
    while (from < len && ((unsigned char)t[from] & 0xC0) == 0x80)
        from++;
    char *out = xasprintf("%.*s...%s", (int)head, t, t + from);
    free(t);
    return out;
}

/* A line: before, then sr_terminal_text(s, max). */
static void put_line(const char *before, const char *s, size_t max)
{
    char *t = sr_terminal_text(s, max);
    printf("%s%s\n", before, t);
    free(t);
}

static void print_text(const cJSON *f)
{
    const char *path = sr_json_string(f, "path");
    const char *status = sr_json_string(f, "status");
    put_line("", path, SIZE_MAX);
    if (strcmp(status, "unreadable") == 0) {
        printf("  status: %s\n", status); /* its size is not known */
    } else {
        char size[32];
        sr_format_size((uint64_t)sr_json_number(f, "size"), size, sizeof size);
        printf("  status: %s, %s\n", status, size);
    }
    if (sr_json_string(f, "problem"))
        put_line("  problem: ", sr_json_string(f, "problem"), SIZE_MAX);
    const cJSON *meta = cJSON_GetObjectItem(f, "metadata");
    if (meta && cJSON_GetArraySize(meta)) {
        printf("  metadata:\n");
        const cJSON *it;
        int keys = 0; /* the width of the longest key, up to 40 */
        cJSON_ArrayForEach(it, meta)
        {
            char *key = sr_terminal_text(it->string, 200);
            int len = (int)strlen(key);
            keys = len > keys ? (len > 40 ? 40 : len) : keys;
            free(key);
        }
        cJSON_ArrayForEach(it, meta)
        {
            char *key = sr_terminal_text(it->string, 200);
            char *before = xasprintf("    %-*s ", keys, key);
            if (cJSON_IsString(it)) {
                put_line(before, it->valuestring, 100);
            } else {
                char *s = cJSON_PrintUnformatted(it);
                put_line(before, s, 100);
                cJSON_free(s);
            }
            free(before);
            free(key);
        }
    }
    const cJSON *w = cJSON_GetObjectItem(f, "weights");
    if (!w) {
        if (sr_json_string(f, "weights_problem"))
            put_line("  weights: ", sr_json_string(f, "weights_problem"), SIZE_MAX);
        return;
    }
    printf("  modules: %.0f (%.0f measured), tensors %.0f, non-finite values %.0f\n", sr_json_number(w, "modules"),
           sr_json_number(w, "modules_measured"), sr_json_number(w, "tensors"), sr_json_number(w, "nonfinite"));
    if (sr_json_number(w, "modules_measured") > 0)
        printf("  delta norm %.6g, mean effective rank %.4g\n", sr_json_number(w, "delta_norm"),
               sr_json_number(w, "effective_rank"));
    if (sr_json_string(w, "note"))
        put_line("  note: ", sr_json_string(w, "note"), SIZE_MAX);
    printf("  %-14s %8s %12s\n", "BLOCK", "MODULES", "DELTA NORM");
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(w, "blocks"))
    printf("  %-14s %8.0f %12.6g\n", it->string, sr_json_number(it, "modules"), sr_json_number(it, "delta_norm"));
    printf("  %-*s %-5s %5s %7s %11s %8s\n", MODULE_COLUMN, "MODULE", "DTYPE", "RANK", "ALPHA", "DELTA NORM",
           "EFF RANK");
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(w, "module_list"))
    {
        const char *dt = sr_json_string(it, "dtype");
        char *name = module_name_text(sr_json_string(it, "name"));
        char rank[16], alpha[24];
        const double r = sr_json_number(it, "rank"), a = sr_json_number(it, "alpha");
        if (r > 0)
            snprintf(rank, sizeof rank, "%.0f", r);
        else
            snprintf(rank, sizeof rank, "-");
        /* a missing alpha (every PEFT module) is "-"; alpha 0 means rank */
        if (isnan(a))
            snprintf(alpha, sizeof alpha, "-");
        else if (a == 0)
            snprintf(alpha, sizeof alpha, "0=rank");
        else
            snprintf(alpha, sizeof alpha, "%.4g", a);
        printf("  %-*s %-5s %5s %7s ", MODULE_COLUMN, name, dt ? dt : "-", rank, alpha);
        const char *why = sr_json_string(it, "not_measured");
        if (why)
            put_line("not measured: ", why, 80);
        else
            printf("%11.5g %8.4g\n", sr_json_number(it, "delta_norm"), sr_json_number(it, "effective_rank"));
        free(name);
    }
}

int cmd_inspect(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"device", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int json = 0, c;
    const char *device = "cpu";
    static const char shortopts[] = "h";
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            json = 1;
            break;
        case 'd': {
            /* a malformed device or a list is a usage error; one that is not
             * there is found below */
            sr_device_request req;
            char why[SR_MSG_MAX];
            if (sr_device_parse(optarg, &req, why, sizeof why) != 0)
                return cli_usage_error("inspect", "--device: %s", why);
            if (req.kind == SR_DEVREQ_CUDA_ALL || (req.kind == SR_DEVREQ_CUDA && req.n > 1))
                return cli_usage_error("inspect", "--device: one device only, not '%s'", optarg);
            device = optarg;
            break;
        }
        case 'h':
            inspect_help();
            return SR_EXIT_OK;
        default:
            return cli_bad_option("inspect", shortopts, opts, argv);
        }
    }
    if (argc - optind < 1)
        return cli_usage_error("inspect", "missing the FILE to inspect");
    sr_device dev;
    char err[SR_MSG_MAX];
    if (sr_device_select(device, &dev, err, sizeof err) != 0) {
        cli_error("inspect", "%s", err);
        return SR_EXIT_FATAL;
    }
    cJSON *all = cJSON_CreateArray();
    int all_ok = 1;
    for (int i = optind; i < argc; i++) {
        int ok;
        cJSON *f = inspect_file(argv[i], &dev, &ok);
        all_ok &= ok;
        if (!json) {
            print_text(f);
            if (i + 1 < argc)
                printf("\n");
        }
        if (!ok)
            sr_problem_print(stderr, argv[i],
                             sr_json_string(f, "problem") ? sr_json_string(f, "problem")
                                                          : sr_json_string(f, "weights_problem"));
        cJSON_AddItemToArray(all, f);
    }
    if (json) {
        sr_json_repair_utf8(all);
        char *text = sr_json_print(all);
        fputs(text, stdout);
        free(text);
    }
    cJSON_Delete(all);
    return all_ok ? SR_EXIT_OK : SR_EXIT_FATAL;
}
