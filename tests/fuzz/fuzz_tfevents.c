/* fuzz_tfevents.c - libFuzzer target for the TensorBoard event file reader.
 *
 * Input: one flag byte, then the bytes of an event file.  With the flag's
 * low bit set the CRCs of every record are recomputed first (so that the
 * fuzzer reaches the Event decoder instead of stopping at the framing);
 * with it clear the bytes are used as they are (damaged framing).  The file
 * is read on its own (sr_tfevents_read_file) and as the only event file of
 * a trial's logs/ folder (sr_tfevents_read_trial: tag filter, sorting,
 * duplicate steps). */
#include "config.h"

#include "crc32c.h"
#include "problems.h"
#include "tfevents.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char trial_dir[4096];
static char event_path[4096];
static char tmp_root[4096];

static void remove_tmp(void)
{
    char p[4096];
    unlink(event_path);
    snprintf(p, sizeof p, "%s/logs/run/network_train", trial_dir);
    rmdir(p);
    snprintf(p, sizeof p, "%s/logs/run", trial_dir);
    rmdir(p);
    snprintf(p, sizeof p, "%s/logs", trial_dir);
    rmdir(p);
    rmdir(trial_dir);
    rmdir(tmp_root);
}

static void make_dir(const char *path)
{
    if (mkdir(path, 0700) != 0) {
        perror(path);
        abort();
    }
}

/* TMP/trial/logs/run/network_train/events.out.tfevents.1, made once per process. */
static void setup(void)
{
    const char *dir = getenv("TMPDIR");
    snprintf(tmp_root, sizeof tmp_root, "%s/sr-fuzz-tfevents-XXXXXX", dir && *dir ? dir : "/tmp");
    if (!mkdtemp(tmp_root)) {
        perror("mkdtemp");
        abort();
    }
    char p[4096];
    snprintf(trial_dir, sizeof trial_dir, "%s/trial_0001", tmp_root);
    make_dir(trial_dir);
    snprintf(p, sizeof p, "%s/logs", trial_dir);
    make_dir(p);
    snprintf(p, sizeof p, "%s/logs/run", trial_dir);
    make_dir(p);
    snprintf(p, sizeof p, "%s/logs/run/network_train", trial_dir);
    make_dir(p);
    snprintf(event_path, sizeof event_path, "%s/events.out.tfevents.1.host", p);
    atexit(remove_tmp);
}

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Rewrites the CRCs of each whole record in place. */
static void fix_crcs(uint8_t *b, size_t n)
{
    size_t pos = 0;
    while (n - pos >= 12) {
        uint64_t len = 0;
        for (int i = 7; i >= 0; i--)
            len = len << 8 | b[pos + i];
        put_le32(b + pos + 8, sr_crc32c_mask(sr_crc32c(b + pos, 8)));
        if (len > n - pos - 12 || n - pos - 12 - len < 4)
            break;
        put_le32(b + pos + 12 + len, sr_crc32c_mask(sr_crc32c(b + pos + 12, (size_t)len)));
        pos += 16 + (size_t)len;
    }
}

static void write_file(const uint8_t *data, size_t size)
{
    FILE *f = fopen(event_path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
        perror(event_path);
        abort();
    }
}

static void check_series(const sr_scalars *s, int sorted)
{
    for (size_t i = 0; i < s->n; i++) {
        const sr_scalar_series *x = &s->items[i];
        if (!x->tag || x->n > x->cap || sr_scalars_find(s, x->tag) == NULL)
            __builtin_trap();
        for (size_t k = 1; sorted && k < x->n; k++)
            if (x->steps[k - 1] >= x->steps[k])
                __builtin_trap(); /* sorted by step, one point per step */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (!trial_dir[0])
        setup();
    uint8_t *file = malloc(size);
    if (!file)
        abort();
    memcpy(file, data + 1, size - 1);
    if (data[0] & 1)
        fix_crcs(file, size - 1);
    write_file(file, size - 1);
    free(file);

    char problem[512];
    sr_scalars s = {NULL, 0, 0};
    int rc = sr_tfevents_read_file(event_path, &s, problem, sizeof problem);
    if (rc < -1 || rc > 1 || (rc == 0) != (problem[0] == '\0') || (rc == -1 && s.n))
        __builtin_trap();
    check_series(&s, 0);
    sr_scalars_free(&s);

    sr_problems pr;
    sr_problems_init(&pr);
    sr_tfevents_read_trial(trial_dir, &s, &pr);
    check_series(&s, 1);
    if ((rc != 0) != (pr.n != 0))
        __builtin_trap(); /* a damaged file is a problem of the trial, and only then */
    sr_scalars_free(&s);
    sr_problems_free(&pr);
    return 0;
}
