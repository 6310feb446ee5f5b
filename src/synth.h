/* synth.h - writes a realistic synthetic sweep (seed pipeline layout).
 *
 * Deterministic for a seed: the same options give byte-identical files.
 * Used by the demo, the tests and the benchmarks. */
#ifndef SR_SYNTH_H
#define SR_SYNTH_H

#include <stddef.h>

typedef struct {
    int trials;      /* number of trial folders (default 6) */
    int epochs;      /* max_train_epochs of a complete trial (default 10) */
    int save_every;  /* save_every_n_epochs (default 2) */
    int samples;     /* sample images per evaluated checkpoint (default 4) */
    int size;        /* sample width and height in pixels (default 128) */
    int rank;        /* LoRA network_dim (default 4) */
    unsigned long long seed; /* default 1 */
} sr_synth_opts;

void sr_synth_defaults(sr_synth_opts *o);

/* Creates dir (and parents) and writes the sweep into it.  Returns 0, or -1
 * with a one-line reason (naming the file) in err. */
int sr_synth(const char *dir, const sr_synth_opts *o, char *err, size_t errlen);

#endif
