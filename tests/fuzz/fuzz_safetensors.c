/* fuzz_safetensors.c - libFuzzer target for the safetensors header parser.
 *
 * The input is a whole file.  It is parsed twice: as a complete file
 * (file_size = the input's length) and the way sr_st_read sees a file, with
 * only the length prefix and the header in memory.  Whatever parses is then
 * walked through the accessors. */
#include "config.h"

#include "safetensors.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk(const sr_safetensors *st)
{
    if (st->status != SR_ST_OK) {
        /* On failure nothing is kept, and there is always a reason. */
        if (st->n_tensors || st->tensors || st->n_meta || st->meta || !st->error || !st->problem[0])
            __builtin_trap();
        return;
    }
    uint64_t prev_end = 0;
    for (size_t i = 0; i < st->n_tensors; i++) {
        const sr_st_tensor *t = &st->tensors[i];
        if (t->begin < prev_end || t->end < t->begin || (unsigned)t->dtype >= SR_DT_COUNT)
            __builtin_trap();
        prev_end = t->end;
        /* A name may hold a NUL (from \u0000): look up only a few, by their C string. */
        const sr_st_tensor *f = i < 64 ? sr_st_find(st, t->name) : t;
        if (!f || strcmp(f->name, t->name) != 0)
            __builtin_trap();
        (void)sr_dtype_name(t->dtype);
        (void)sr_dtype_bits(t->dtype);
    }
    for (size_t i = 0; i < st->n_meta && i < 64; i++)
        if (!sr_st_meta(st, st->meta[i].key))
            __builtin_trap();
    (void)sr_st_meta(st, "ss_epoch");
    (void)sr_st_find(st, "");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sr_safetensors st;

    sr_st_parse(data, size, size, &st);
    walk(&st);
    sr_st_free(&st);

    /* As sr_st_read reads it: the prefix and the header, never the data. */
    if (size >= 8) {
        uint64_t n = 0;
        for (int i = 7; i >= 0; i--)
            n = n << 8 | data[i];
        if (n <= SR_ST_MAX_HEADER && 8 + n <= size) {
            sr_st_parse(data, (size_t)(8 + n), size, &st);
            walk(&st);
            sr_st_free(&st);
        }
    }
    return 0;
}
