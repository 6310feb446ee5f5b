/* image_measure.h - the image metrics of one checkpoint's samples, on the
 * device eval chose: the GPU kernels when it is a CUDA device, their C twins
 * otherwise (and whenever a GPU call fails). */
#ifndef SR_IMAGE_MEASURE_H
#define SR_IMAGE_MEASURE_H

#include "device.h"
#include "image_metrics.h"

#include <stddef.h>
#include <stdint.h>

/* Fills set from n decoded RGB8 images; free it with sr_image_set_free. */
void sr_measure_image_set(const sr_device *dev, const uint8_t *const *rgb, const int *w, const int *h, size_t n,
                          sr_image_set *set);

/* Decodes sample i into *rgb (malloc'd RGB8), *w and *h and returns 0, or
 * returns -1 with a reason in *why (malloc'd).  Called from several
 * threads at once. */
typedef int (*sr_sample_decode_fn)(void *ctx, size_t i, uint8_t **rgb, int *w, int *h, char **why);

/* The same set as sr_measure_image_set over the samples that decode, bit
 * for bit, without holding them all: they are decoded `chunk` at a time
 * (in parallel within a chunk), each one's moments taken on the CPU at
 * once, and only the images the diversity compares (the first
 * SR_DIVERSITY_MAX_SAMPLES of each size) are kept until the end.  why[i]
 * (n entries, NULL on entry) gets the reason for each sample that does not
 * decode; set->n counts those that do. */
void sr_measure_image_stream(const sr_device *dev, size_t n, size_t chunk, sr_sample_decode_fn decode, void *ctx,
                             sr_image_set *set, char **why);

#endif
