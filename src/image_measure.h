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

#endif
