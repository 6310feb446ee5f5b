/* image_stats.h - the seed evaluator's per-image brightness and contrast. */
#ifndef SR_IMAGE_STATS_H
#define SR_IMAGE_STATS_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    double brightness; /* mean of all R, G, B bytes / 255 */
    double contrast;   /* population std (ddof 0) of all R, G, B bytes / 255 */
} sr_seed_stats;

/* Statistics of n_pixels tightly packed RGB8 pixels, equal to numpy's
 * np.mean(a) / 255 and np.std(a) / 255 over the HxWx3 uint8 array.  Sums are
 * exact integers, so the result is correctly rounded apart from the final
 * square root and division (no cancellation, whatever the image).
 * n_pixels == 0 gives NaN for both (as numpy does). */
void sr_seed_stats_rgb8(const uint8_t *rgb, size_t n_pixels, sr_seed_stats *out);

#endif
