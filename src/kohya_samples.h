/* kohya_samples.h - kohya's training-time sample images (the sample/ folder).
 *
 * sd-scripts names them (library/train_util.py, sample_images_common):
 *   [{output_name}_]{num}_{idx:02d}_{YYYYmmddHHMMSS}[_{seed}].png     (since mid-2024)
 *   [{output_name}_]{YYYYmmddHHMMSS}_{num}_{idx:02d}[_{seed}].png     (before)
 * where num is e{epoch:06d} for epoch samples (e000000: before training) or
 * {steps:06d} for step samples, and idx is the prompt's line. */
#ifndef SR_KOHYA_SAMPLES_H
#define SR_KOHYA_SAMPLES_H

typedef struct {
    char *output_name;  /* "" when the name has none */
    long epoch;         /* e{epoch}, or -1 for a step sample */
    long step;          /* {steps}, or -1 for an epoch sample */
    int prompt;         /* idx */
    char *timestamp;    /* YYYYmmddHHMMSS */
} sr_kohya_sample;

/* 0 when name is a kohya sample image name, -1 otherwise. */
int sr_kohya_sample_parse(const char *name, sr_kohya_sample *out);
void sr_kohya_sample_free(sr_kohya_sample *s);

#endif
