/* png_io.c - PNG read/write with libpng (setjmp error handling). */
#include "config.h"

#include "png_io.h"
#include "atomic_file.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* libpng reports errors through this callback, which must not return. */
typedef struct {
    char msg[200];
} png_err_ctx;

static void png_on_error(png_structp png, png_const_charp msg)
{
    png_err_ctx *ctx = png_get_error_ptr(png);
    if (ctx)
        snprintf(ctx->msg, sizeof ctx->msg, "%s", msg ? msg : "unknown libpng error");
    png_longjmp(png, 1);
}

static void png_on_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

int sr_png_write_rgb8(const char *path, const uint8_t *rgb, int w, int h, char *err, size_t errlen)
{
    return sr_png_write_rgb8_filtered(path, rgb, w, h, SR_PNG_FILTER_ADAPTIVE, err, errlen);
}

int sr_png_write_rgb8_filtered(const char *path, const uint8_t *rgb, int w, int h, sr_png_filter filter, char *err,
                               size_t errlen)
{
    if (w <= 0 || h <= 0 || w > SR_PNG_MAX_SIDE || h > SR_PNG_MAX_SIDE ||
        (unsigned long long)w * (unsigned long long)h > SR_PNG_MAX_PIXELS) {
        snprintf(err, errlen, "%s: invalid image size %dx%d", path, w, h);
        return -1;
    }
    sr_atomic_file af;
    if (sr_atomic_open(&af, path, SR_ATOMIC_REPLACE) != 0) {
        snprintf(err, errlen, "%s: cannot create: %s", path, strerror(errno));
        return -2;
    }
    png_err_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &ctx, png_on_error, png_on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        sr_atomic_abort(&af);
        snprintf(err, errlen, "%s: out of memory in libpng", path);
        return -1;
    }
    if (setjmp(png_jmpbuf(png))) {
        /* libpng says "Write Error" where the file could not take the
         * bytes (a full disk): the system's reason says more */
        const int e = errno, io = ferror(af.fp) != 0;
        png_destroy_write_struct(&png, &info);
        sr_atomic_abort(&af);
        if (io)
            snprintf(err, errlen, "%s: cannot write: %s", path, strerror(e));
        else
            snprintf(err, errlen, "%s: cannot write PNG: %s", path, ctx.msg);
        return io ? -2 : -1;
    }
    png_init_io(png, af.fp);
    /* fast: our PNGs are charts and drawn scenes, written often, read by
     * browsers; a stronger level costs several times the time for a few
     * per cent of size */
    png_set_compression_level(png, 2);
    if (filter != SR_PNG_FILTER_ADAPTIVE)
        png_set_filter(png, PNG_FILTER_TYPE_BASE, filter == SR_PNG_FILTER_SUB ? PNG_FILTER_SUB : PNG_FILTER_NONE);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    size_t stride = (size_t)w * 3;
    for (int y = 0; y < h; y++)
        png_write_row(png, (png_const_bytep)(rgb + (size_t)y * stride));
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    if (sr_atomic_commit(&af) != 0) {
        snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
        return -2;
    }
    return 0;
}

int sr_png_read_rgb8(const char *path, uint8_t **rgb, int *w, int *h, char *err, size_t errlen)
{
    *rgb = NULL;
    *w = 0;
    *h = 0;
    /* O_NONBLOCK: a FIFO opens at once and is refused, not waited on */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        snprintf(err, errlen, "%s: not a regular file", path);
        return -1;
    }
    FILE *fp = fdopen(fd, "rb");
    if (!fp) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    unsigned char sig[8];
    if (fread(sig, 1, sizeof sig, fp) != sizeof sig || png_sig_cmp(sig, 0, sizeof sig) != 0) {
        fclose(fp);
        snprintf(err, errlen, "%s: not a PNG file", path);
        return -1;
    }
    png_err_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx, png_on_error, png_on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        fclose(fp);
        snprintf(err, errlen, "%s: out of memory in libpng", path);
        return -1;
    }
    /* Set after setjmp, released on the error path: must be volatile. */
    uint8_t *volatile buf = NULL;
    png_bytep *volatile rows = NULL;
    if (setjmp(png_jmpbuf(png))) {
        free(buf);
        free(rows);
        png_destroy_read_struct(&png, &info, NULL);
        fclose(fp);
        snprintf(err, errlen, "%s: corrupt PNG: %s", path, ctx.msg);
        return -1;
    }
    png_init_io(png, fp);
    png_set_sig_bytes(png, (int)sizeof sig);
    png_set_user_limits(png, SR_PNG_MAX_SIDE, SR_PNG_MAX_SIDE);
    png_set_chunk_malloc_max(png, 8u << 20);
    png_set_chunk_cache_max(png, 1000);
    /* Ancillary chunks that do not change the decoded pixels (no gamma or
     * background handling here) are skipped unread: libpng would otherwise
     * allocate whatever length a forged text chunk claims. */
    static const png_byte skipped[] = "tEXt\0zTXt\0iTXt\0eXIf\0pCAL\0sCAL\0sPLT\0iCCP\0tIME\0hIST\0"
                                      "oFFs\0pHYs\0bKGD\0gAMA\0cHRM\0sRGB\0sBIT\0";
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, skipped, (int)(sizeof skipped / 5));
    png_read_info(png, info);
    png_uint_32 pw = png_get_image_width(png, info), ph = png_get_image_height(png, info);
    if (pw == 0 || ph == 0 || pw > SR_PNG_MAX_SIDE || ph > SR_PNG_MAX_SIDE ||
        (unsigned long long)pw * ph > SR_PNG_MAX_PIXELS)
        png_error(png, "image dimensions too large");
    png_set_expand(png);      /* palette -> RGB, gray < 8 bits -> 8, tRNS -> alpha */
    png_set_strip_16(png);    /* 16-bit: keep the high byte */
    png_set_strip_alpha(png); /* drop alpha, no compositing */
    png_set_gray_to_rgb(png);
    (void)png_set_interlace_handling(png);
    png_read_update_info(png, info);
    size_t stride = (size_t)pw * 3;
    if (png_get_rowbytes(png, info) != stride)
        png_error(png, "unexpected row layout after conversion");
    buf = xmalloc(stride * ph);
    rows = xmalloc(sizeof(png_bytep) * ph);
    for (png_uint_32 y = 0; y < ph; y++)
        rows[y] = buf + (size_t)y * stride;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    fclose(fp);
    free(rows);
    *rgb = buf;
    *w = (int)pw;
    *h = (int)ph;
    return 0;
}
