/* png_io.h - 8-bit RGB PNG files through libpng.
 *
 * The writer is deterministic (no time chunk, fixed settings) and atomic.
 * The reader accepts any valid PNG and always returns tightly packed RGB8:
 * palette and low bit depths are expanded, 16-bit samples keep their high
 * byte, gray becomes RGB and an alpha channel (or tRNS) is dropped without
 * compositing. */
#ifndef SR_PNG_IO_H
#define SR_PNG_IO_H

#include <stddef.h>
#include <stdint.h>

/* Largest image accepted by the reader (and the writer). */
#define SR_PNG_MAX_SIDE (1 << 14)
#define SR_PNG_MAX_PIXELS (64ULL << 20)

/* How rows are filtered before compression, which sets both the speed and
 * the size: libpng's per-row choice among all filters (smallest for
 * photographs, slowest to write and read), "sub" only (close in size for
 * photographs, several times faster) or none (flat-colour drawings such as
 * charts: fastest and smallest there). */
typedef enum { SR_PNG_FILTER_ADAPTIVE, SR_PNG_FILTER_SUB, SR_PNG_FILTER_NONE } sr_png_filter;

/* Writes w*h RGB pixels (3 bytes each, rows packed, top row first),
 * atomically, with light compression and adaptive filtering.
 * Returns 0, or with a one-line reason in err -2 when the file could not be
 * written (created, filled or renamed: a full disk, a read-only folder) and
 * -1 for any other failure. */
int sr_png_write_rgb8(const char *path, const uint8_t *rgb, int w, int h, char *err, size_t errlen);
/* The same with the given row filter. */
int sr_png_write_rgb8_filtered(const char *path, const uint8_t *rgb, int w, int h, sr_png_filter filter, char *err,
                               size_t errlen);

/* Decodes a PNG to a new buffer of w*h*3 bytes (the caller frees *rgb).
 * Returns 0, or -1 with a one-line reason in err (*rgb is then NULL). */
int sr_png_read_rgb8(const char *path, uint8_t **rgb, int *w, int *h, char *err, size_t errlen);

#endif
