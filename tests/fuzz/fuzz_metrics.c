/* fuzz_metrics.c - libFuzzer target for the readers of evaluator files.
 *
 * The input is one JSON file.  It goes through every reader the scan uses,
 * from a temporary file (the readers take paths, as in a sweep): metrics.json
 * (nested or flat), evaluation_summary.json (list or object of checkpoints)
 * and evaluation_state.json; and once from memory through sr_json_parse and
 * sr_metrics_from_record. */
#include "config.h"

#include "json.h"
#include "metrics_read.h"
#include "sweep.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char tmp_path[4096];
static int tmp_fd = -1;

static void remove_tmp(void)
{
    if (tmp_fd >= 0) {
        close(tmp_fd);
        unlink(tmp_path);
    }
}

/* One temporary file per process, rewritten for every input. */
static const char *write_tmp(const uint8_t *data, size_t size)
{
    if (tmp_fd < 0) {
        const char *dir = getenv("TMPDIR");
        snprintf(tmp_path, sizeof tmp_path, "%s/sr-fuzz-metrics-XXXXXX", dir && *dir ? dir : "/tmp");
        tmp_fd = mkstemp(tmp_path);
        if (tmp_fd < 0) {
            perror("mkstemp");
            abort();
        }
        atexit(remove_tmp);
    }
    if (ftruncate(tmp_fd, 0) != 0) {
        perror("ftruncate");
        abort();
    }
    size_t done = 0;
    while (done < size) {
        ssize_t w = pwrite(tmp_fd, data + done, size - done, (off_t)done);
        if (w <= 0) {
            perror("pwrite");
            abort();
        }
        done += (size_t)w;
    }
    return tmp_path;
}

/* Every metric read is a named number; names are unique and sorted. */
static void check_metrics(const sr_metrics *m)
{
    for (size_t i = 0; i < m->n; i++) {
        if (!m->items[i].name)
            __builtin_trap();
        if (i && strcmp(m->items[i - 1].name, m->items[i].name) >= 0)
            __builtin_trap();
        double v;
        if (!sr_metrics_get(m, m->items[i].name, &v))
            __builtin_trap();
    }
}

static void check_index(const sr_metrics_index *idx)
{
    for (size_t i = 0; i < idx->n; i++) {
        check_metrics(&idx->items[i].metrics);
        if (sr_metrics_index_find(idx, idx->items[i].stem) != &idx->items[i].metrics)
            __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    const char *path = write_tmp(data, size);

    sr_metrics m = {0};
    err[0] = '\0';
    if (sr_read_metrics_file(path, &m, err, sizeof err) != 0 && !err[0])
        __builtin_trap(); /* a failure always says why */
    check_metrics(&m);
    sr_metrics_free(&m);

    sr_metrics_index idx = {0};
    err[0] = '\0';
    if (sr_read_evaluation_summary(path, &idx, err, sizeof err) != 0 && !err[0])
        __builtin_trap();
    check_index(&idx);
    /* The state file adds to the same index, as the scan does. */
    err[0] = '\0';
    if (sr_read_evaluation_state(path, &idx, err, sizeof err) != 0 && !err[0])
        __builtin_trap();
    check_index(&idx);
    sr_metrics_index_free(&idx);

    cJSON *root = sr_json_parse((const char *)data, size, err, sizeof err);
    if (root) {
        sr_metrics_from_record(root, &m);
        check_metrics(&m);
        sr_metrics_free(&m);
        char *s = sr_json_print(root);
        free(s);
        cJSON_Delete(root);
    }
    return 0;
}
