/* synth_scene.h - draws the synthetic sample images of a LoRA evaluation.
 *
 * Each prompt index has its own composition (sky, sun or moon, terrain,
 * characters and objects, texture strokes); the style fields stand for what
 * training does to the images: tone, colour, contrast and detail drift with
 * the epoch, and an over-trained checkpoint gets harsh artifacts. */
#ifndef SR_SYNTH_SCENE_H
#define SR_SYNTH_SCENE_H

#include <stdint.h>

typedef struct {
    int prompt_index; /* composition; any index >= 0 */
    double detail;     /* 0..1: sharpness and the amount of small strokes */
    double brightness; /* added tone, about -0.2..0.2 */
    double saturation; /* 1 = as drawn */
    double contrast;   /* 1 = as drawn */
    double warmth;     /* -1..1: cool (blue) to warm (orange) tint */
    double artifacts;  /* 0..1: over-training artifacts (halos, posterization, ghosts) */
} sr_scene_style;

/* The evaluation prompt of an index (the list repeats after its end). */
const char *sr_scene_prompt(int index);
/* Number of distinct prompts. */
int sr_scene_prompt_count(void);

/* Renders a size x size image into rgb (size*size*3 bytes, packed RGB8).
 * Returns 0, or -1 when cairo fails (out of memory, bad size). */
int sr_scene_render(uint8_t *rgb, int size, const sr_scene_style *style);

#endif
