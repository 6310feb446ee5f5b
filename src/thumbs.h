/* thumbs.h - sample thumbnails, cached inside the sweep.
 *
 * A thumbnail is made from the RGB8 image that evaluation has already
 * decoded (no second decode) and kept as
 *   SWEEP/.sweepreport/thumbs/<fingerprint>.png
 * where the fingerprint covers the sample's path relative to the sweep, its
 * size, its modification time and the thumbnail size.  A changed sample
 * therefore never finds an old thumbnail; an unchanged one is never decoded
 * again.
 *
 * Usage: take the sample's identity (sr_thumb_id_of) before decoding it,
 * look the thumbnail up with that identity, and on a miss decode, scale and
 * store under the same identity.  A sample rewritten meanwhile is then
 * stored under its old identity and simply made again on the next run. */
#ifndef SR_THUMBS_H
#define SR_THUMBS_H

#include <stddef.h>
#include <stdint.h>

/* Box-filter (area-average) downscale of w*h RGB8 pixels so that neither
 * side exceeds max_side, keeping the aspect ratio (each side at least 1
 * pixel) and never upscaling: an image that already fits is copied.
 * Returns a malloc'd tw*th*3 buffer, or NULL for invalid arguments. */
/* The side of the thumbnails eval keeps for the report. */
#define SR_THUMB_SIDE 160

uint8_t *sr_thumb_scale(const uint8_t *rgb, int w, int h, int max_side, int *tw, int *th);

/* What identifies one version of a sample file. */
typedef struct {
    uint64_t size;
    int64_t mtime_ns;
} sr_thumb_id;

/* stat() of the sample.  Returns 0, or -1 with errno set. */
int sr_thumb_id_of(const char *sample_abs, sr_thumb_id *id);

/* Path of the cached thumbnail; sample_rel is relative to the sweep
 * (trial_0001/evaluation/sample_00.png).  The caller frees. */
char *sr_thumb_cache_path(const char *sweep_path, const char *sample_rel, const sr_thumb_id *id, int max_side);

/* Loads the cached thumbnail of that version of the sample.
 * Returns 1 (found: *thumb malloc'd, tw x th RGB8), 0 (none: the sample is
 * new or changed), or -1 (the cached file is unreadable or not a thumbnail
 * of that size; reason in err; treat as none, a put replaces it). */
int sr_thumb_cache_get(const char *sweep_path, const char *sample_rel, const sr_thumb_id *id, int max_side,
                       uint8_t **thumb, int *tw, int *th, char *err, size_t errlen);

/* Stores a thumbnail (PNG, atomic, creating the folders).  0, or less
 * when it cannot (sr_png_write_rgb8). */
int sr_thumb_cache_put(const char *sweep_path, const char *sample_rel, const sr_thumb_id *id, int max_side,
                       const uint8_t *thumb, int tw, int th, char *err, size_t errlen);

/* The thumbnail of one sample of a trial, for a report: the cached one, else
 * the sample decoded and scaled (and, with store, cached for the next run).
 * Returns 0 (*thumb malloc'd, tw x th RGB8) or -1 (the sample cannot be read;
 * a one-line reason naming it in err). */
int sr_thumb_load(const char *sweep_path, const char *trial_path, const char *trial_name, const char *sample, int store,
                  uint8_t **thumb, int *tw, int *th, char *err, size_t errlen);

#endif
