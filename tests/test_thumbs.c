/* test_thumbs.c - thumbnail scaling, the thumbnail cache and contact sheets. */
#include "config.h"

#include "atomic_file.h"
#include "check_main.h"
#include "contact_sheet.h"
#include "png_io.h"
#include "synth.h"
#include "thumbs.h"
#include "util.h"

#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <turbojpeg.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* helpers                                                                   */
/* ------------------------------------------------------------------------ */

static uint8_t *solid(int w, int h, uint8_t r, uint8_t g, uint8_t b)
{
    uint8_t *p = xmalloc((size_t)w * (size_t)h * 3);
    for (size_t i = 0; i < (size_t)w * (size_t)h; i++) {
        p[3 * i] = r;
        p[3 * i + 1] = g;
        p[3 * i + 2] = b;
    }
    return p;
}

/* Decodes a JPEG file to RGB8. */
static uint8_t *decode_jpeg(const char *path, int *w, int *h)
{
    char *data;
    size_t len;
    char err[256];
    ck_assert_msg(sr_read_file(path, 64 << 20, &data, &len, err, sizeof err) == 0, "%s: %s", path, err);
    tjhandle tj = tjInitDecompress();
    ck_assert_ptr_nonnull(tj);
    int sub, cs;
    ck_assert_int_eq(tjDecompressHeader3(tj, (unsigned char *)data, len, w, h, &sub, &cs), 0);
    ck_assert_int_eq(sub, TJSAMP_420);
    uint8_t *rgb = xmalloc((size_t)*w * (size_t)*h * 3);
    ck_assert_msg(tjDecompress2(tj, (unsigned char *)data, len, rgb, *w, 0, *h, TJPF_RGB, 0) == 0, "%s",
                  tjGetErrorStr2(tj));
    tjDestroy(tj);
    free(data);
    return rgb;
}

static void assert_near(const uint8_t *px, int r, int g, int b, int tol, const char *what)
{
    ck_assert_msg(abs(px[0] - r) <= tol && abs(px[1] - g) <= tol && abs(px[2] - b) <= tol,
                  "%s: got %d,%d,%d, want %d,%d,%d (+-%d)", what, px[0], px[1], px[2], r, g, b, tol);
}

/* ------------------------------------------------------------------------ */
/* scaling                                                                   */
/* ------------------------------------------------------------------------ */

START_TEST(test_scale_block_average)
{
    const uint8_t px[12] = {10, 20, 30, 50, 60, 70, 90, 100, 110, 130, 140, 152};
    int tw, th;
    uint8_t *t = sr_thumb_scale(px, 2, 2, 1, &tw, &th);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(tw, 1);
    ck_assert_int_eq(th, 1);
    ck_assert_int_eq(t[0], 70);
    ck_assert_int_eq(t[1], 80);
    ck_assert_int_eq(t[2], 91); /* 362 / 4 = 90.5 rounds up */
    free(t);
}
END_TEST

/* 4x2 -> 2x1: each output pixel is the mean of one 2x2 block. */
START_TEST(test_scale_blocks)
{
    uint8_t px[4 * 2 * 3];
    const int v[8] = {0, 4, 100, 104, 8, 12, 200, 204};
    for (int i = 0; i < 8; i++)
        px[3 * i] = px[3 * i + 1] = px[3 * i + 2] = (uint8_t)v[i];
    int tw, th;
    uint8_t *t = sr_thumb_scale(px, 4, 2, 2, &tw, &th);
    ck_assert_int_eq(tw, 2);
    ck_assert_int_eq(th, 1);
    ck_assert_int_eq(t[0], 6);   /* (0 + 4 + 8 + 12) / 4 */
    ck_assert_int_eq(t[3], 152); /* (100 + 104 + 200 + 204) / 4 */
    free(t);
}
END_TEST

START_TEST(test_scale_aspect)
{
    uint8_t *img = solid(300, 100, 40, 80, 120);
    int tw, th;
    uint8_t *t = sr_thumb_scale(img, 300, 100, 64, &tw, &th);
    ck_assert_int_eq(tw, 64);
    ck_assert_int_eq(th, 21); /* 21.33 */
    /* a uniform image stays exactly uniform with a non-integer ratio */
    for (int i = 0; i < tw * th; i++)
        ck_assert_msg(t[3 * i] == 40 && t[3 * i + 1] == 80 && t[3 * i + 2] == 120, "pixel %d", i);
    free(t);
    t = sr_thumb_scale(img, 100, 300, 64, &tw, &th);
    ck_assert_int_eq(tw, 21);
    ck_assert_int_eq(th, 64);
    free(t);
    free(img);
}
END_TEST

START_TEST(test_scale_never_up)
{
    uint8_t *img = solid(10, 5, 1, 2, 3);
    img[7] = 99;
    int tw, th;
    uint8_t *t = sr_thumb_scale(img, 10, 5, 64, &tw, &th);
    ck_assert_int_eq(tw, 10);
    ck_assert_int_eq(th, 5);
    ck_assert_mem_eq(t, img, 10 * 5 * 3);
    free(t);
    t = sr_thumb_scale(img, 10, 5, 10, &tw, &th);
    ck_assert_int_eq(tw, 10);
    ck_assert_mem_eq(t, img, 10 * 5 * 3);
    free(t);
    free(img);
    ck_assert_ptr_null(sr_thumb_scale(NULL, 10, 5, 4, &tw, &th));
    uint8_t one[3] = {0};
    ck_assert_ptr_null(sr_thumb_scale(one, 0, 1, 4, &tw, &th));
    ck_assert_ptr_null(sr_thumb_scale(one, 1, 1, 0, &tw, &th));
}
END_TEST

/* 1 x N and N x 1: the thin side stays 1 pixel, the long side averages. */
START_TEST(test_scale_thin)
{
    uint8_t px[200 * 3];
    for (int i = 0; i < 200; i++)
        px[3 * i] = px[3 * i + 1] = px[3 * i + 2] = (uint8_t)(i % 4 * 10); /* 0 10 20 30 ... */
    int tw, th;
    uint8_t *t = sr_thumb_scale(px, 1, 200, 50, &tw, &th);
    ck_assert_int_eq(tw, 1);
    ck_assert_int_eq(th, 50);
    for (int i = 0; i < 50; i++)
        ck_assert_int_eq(t[3 * i], 15); /* (0 + 10 + 20 + 30) / 4 */
    free(t);
    t = sr_thumb_scale(px, 200, 1, 50, &tw, &th);
    ck_assert_int_eq(tw, 50);
    ck_assert_int_eq(th, 1);
    for (int i = 0; i < 50; i++)
        ck_assert_int_eq(t[3 * i + 2], 15);
    free(t);
    t = sr_thumb_scale(px, 200, 1, 1, &tw, &th);
    ck_assert_int_eq(tw, 1);
    ck_assert_int_eq(th, 1);
    ck_assert_int_eq(t[0], 15);
    free(t);
}
END_TEST

/* Against a direct area average, computed here pixel by pixel from the
 * rectangle each output pixel covers in the source (in units of 1/(ow*oh)
 * of a source pixel), on random images of odd sizes and ratios. */
/* Length of the overlap of [a, b) and [c, d). */
static long long overlap_len(long long a, long long b, long long c, long long d)
{
    long long lo = a > c ? a : c, hi = b < d ? b : d;
    return hi > lo ? hi - lo : 0;
}

static int ref_area_pixel(const uint8_t *rgb, int w, int h, int ow, int oh, int x, int y, int ch)
{
    /* output pixel (x, y) covers [x*w/ow, (x+1)*w/ow) x [y*h/oh, (y+1)*h/oh) */
    unsigned long long num = 0, den = 0;
    for (int j = 0; j < h; j++) {
        long long dy =
            overlap_len((long long)y * h, (long long)(y + 1) * h, (long long)j * oh, (long long)(j + 1) * oh);
        for (int i = 0; i < w && dy > 0; i++) {
            long long dx =
                overlap_len((long long)x * w, (long long)(x + 1) * w, (long long)i * ow, (long long)(i + 1) * ow);
            unsigned long long a = (unsigned long long)dx * (unsigned long long)dy;
            num += a * rgb[((size_t)j * (size_t)w + (size_t)i) * 3 + (size_t)ch];
            den += a;
        }
    }
    return (int)((num + den / 2) / den); /* round half up */
}

START_TEST(test_scale_matches_area_average)
{
    unsigned seed = 12345;
    for (int round = 0; round < 40; round++) {
        seed = seed * 1103515245u + 12345u;
        int w = 1 + (int)(seed >> 16) % 97;
        seed = seed * 1103515245u + 12345u;
        int h = 1 + (int)(seed >> 16) % 89;
        seed = seed * 1103515245u + 12345u;
        int side = 1 + (int)(seed >> 16) % 40;
        uint8_t *img = xmalloc((size_t)w * (size_t)h * 3);
        for (size_t i = 0; i < (size_t)w * (size_t)h * 3; i++) {
            seed = seed * 1103515245u + 12345u;
            img[i] = (uint8_t)(seed >> 16);
        }
        int tw, th;
        uint8_t *t = sr_thumb_scale(img, w, h, side, &tw, &th);
        ck_assert_ptr_nonnull(t);
        for (int y = 0; y < th; y++)
            for (int x = 0; x < tw; x++)
                for (int ch = 0; ch < 3; ch++) {
                    int want = (w > side || h > side) ? ref_area_pixel(img, w, h, tw, th, x, y, ch)
                                                      : img[((size_t)y * (size_t)w + (size_t)x) * 3 + (size_t)ch];
                    int got = t[((size_t)y * (size_t)tw + (size_t)x) * 3 + (size_t)ch];
                    ck_assert_msg(got == want, "%dx%d -> %dx%d: pixel (%d,%d) channel %d is %d, want %d", w, h, tw,
                                  th, x, y, ch, got, want);
                }
        free(t);
        free(img);
    }
}
END_TEST

/* ------------------------------------------------------------------------ */
/* cache                                                                     */
/* ------------------------------------------------------------------------ */

START_TEST(test_cache_round_trip)
{
    char *sweep = test_tmpdir("thumbs-cache");
    char err[512];
    char *dir = sr_path_join(sweep, "trial_0001/evaluation");
    ck_assert_int_eq(sr_mkdir_p(dir, 0755), 0);
    char *abs = sr_path_join(dir, "sample_00.png");
    const char *rel = "trial_0001/evaluation/sample_00.png";
    uint8_t *img = solid(40, 20, 200, 30, 60);
    img[0] = 0;
    ck_assert_msg(sr_png_write_rgb8(abs, img, 40, 20, err, sizeof err) == 0, "%s", err);

    sr_thumb_id id;
    ck_assert_int_eq(sr_thumb_id_of(abs, &id), 0);
    uint8_t *t;
    int tw, th;
    ck_assert_int_eq(sr_thumb_cache_get(sweep, rel, &id, 16, &t, &tw, &th, err, sizeof err), 0);
    ck_assert_ptr_null(t);

    uint8_t *thumb = sr_thumb_scale(img, 40, 20, 16, &tw, &th);
    ck_assert_int_eq(tw, 16);
    ck_assert_int_eq(th, 8);
    ck_assert_msg(sr_thumb_cache_put(sweep, rel, &id, 16, thumb, tw, th, err, sizeof err) == 0, "%s", err);
    char *cp = sr_thumb_cache_path(sweep, rel, &id, 16);
    ck_assert(sr_str_has_prefix(cp, sweep));
    ck_assert_msg(strstr(cp, "/.sweepreport/thumbs/") != NULL, "%s", cp);
    ck_assert(access(cp, R_OK) == 0);

    int gw, gh;
    ck_assert_int_eq(sr_thumb_cache_get(sweep, rel, &id, 16, &t, &gw, &gh, err, sizeof err), 1);
    ck_assert_int_eq(gw, tw);
    ck_assert_int_eq(gh, th);
    ck_assert_mem_eq(t, thumb, (size_t)tw * th * 3);
    free(t);

    /* another size or another sample is another entry */
    ck_assert_int_eq(sr_thumb_cache_get(sweep, rel, &id, 32, &t, &gw, &gh, err, sizeof err), 0);
    ck_assert_int_eq(sr_thumb_cache_get(sweep, "trial_0002/evaluation/sample_00.png", &id, 16, &t, &gw, &gh, err,
                                        sizeof err),
                     0);

    /* a thumbnail larger than its size is refused */
    ck_assert_int_eq(sr_thumb_cache_put(sweep, rel, &id, 8, thumb, tw, th, err, sizeof err), -1);

    /* a damaged cache file is an error, and a put replaces it */
    ck_assert_int_eq(sr_write_file_atomic(cp, "not a png", 9, SR_ATOMIC_REPLACE), 0);
    ck_assert_int_eq(sr_thumb_cache_get(sweep, rel, &id, 16, &t, &gw, &gh, err, sizeof err), -1);
    ck_assert_ptr_null(t);
    ck_assert_msg(sr_thumb_cache_put(sweep, rel, &id, 16, thumb, tw, th, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(sr_thumb_cache_get(sweep, rel, &id, 16, &t, &gw, &gh, err, sizeof err), 1);
    free(t);
    free(cp);
    free(thumb);
    free(img);
    free(abs);
    free(dir);
    test_rmtree(sweep);
    free(sweep);
}
END_TEST

/* A rewritten sample (new mtime) does not find the old thumbnail. */
START_TEST(test_cache_stale)
{
    char *sweep = test_tmpdir("thumbs-stale");
    char err[512];
    char *abs = sr_path_join(sweep, "s.png");
    uint8_t *img = solid(8, 8, 10, 20, 30);
    ck_assert_msg(sr_png_write_rgb8(abs, img, 8, 8, err, sizeof err) == 0, "%s", err);
    struct timespec ts[2] = {{1700000000, 0}, {1700000000, 0}};
    ck_assert_int_eq(utimensat(AT_FDCWD, abs, ts, 0), 0);
    sr_thumb_id id;
    ck_assert_int_eq(sr_thumb_id_of(abs, &id), 0);
    ck_assert_int_eq(id.mtime_ns, 1700000000LL * 1000000000LL);
    ck_assert_msg(sr_thumb_cache_put(sweep, "s.png", &id, 64, img, 8, 8, err, sizeof err) == 0, "%s", err);

    uint8_t *t;
    int tw, th;
    ck_assert_int_eq(sr_thumb_cache_get(sweep, "s.png", &id, 64, &t, &tw, &th, err, sizeof err), 1);
    free(t);

    ts[0].tv_nsec = ts[1].tv_nsec = 5; /* same size, 5 ns later */
    ck_assert_int_eq(utimensat(AT_FDCWD, abs, ts, 0), 0);
    sr_thumb_id id2;
    ck_assert_int_eq(sr_thumb_id_of(abs, &id2), 0);
    ck_assert_int_eq(id2.size, id.size);
    ck_assert_int_eq(sr_thumb_cache_get(sweep, "s.png", &id2, 64, &t, &tw, &th, err, sizeof err), 0);
    ck_assert_ptr_null(t);

    ck_assert_int_eq(sr_thumb_id_of(sweep, &id2), -1); /* a folder */
    char *gone = sr_path_join(sweep, "missing.png");
    ck_assert_int_eq(sr_thumb_id_of(gone, &id2), -1);
    free(gone);
    free(img);
    free(abs);
    test_rmtree(sweep);
    free(sweep);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* contact sheets                                                            */
/* ------------------------------------------------------------------------ */

static void assert_rect_colour(const uint8_t *rgb, int W, int H, sr_rect r, const uint8_t *c, const char *what)
{
    ck_assert_msg(r.w > 0 && r.h > 0, "%s: empty", what);
    ck_assert_msg(r.x >= 0 && r.y >= 0 && r.x + r.w <= W && r.y + r.h <= H, "%s: %d,%d %dx%d outside %dx%d", what,
                  r.x, r.y, r.w, r.h, W, H);
    /* the centre and points 3 pixels inside each corner */
    const int pts[5][2] = {{r.x + r.w / 2, r.y + r.h / 2},
                           {r.x + 3, r.y + 3},
                           {r.x + r.w - 4, r.y + 3},
                           {r.x + 3, r.y + r.h - 4},
                           {r.x + r.w - 4, r.y + r.h - 4}};
    for (int i = 0; i < 5; i++)
        assert_near(rgb + ((size_t)pts[i][1] * W + pts[i][0]) * 3, c[0], c[1], c[2], 24, what);
}

START_TEST(test_sheet_layout)
{
    char *dir = test_tmpdir("thumbs-sheet");
    char err[512];
    char *path = sr_path_join(dir, "trial_0001.jpg");
    const uint8_t colours[4][3] = {{220, 40, 40}, {40, 180, 60}, {40, 70, 220}, {230, 200, 40}};
    uint8_t *a = solid(48, 48, 220, 40, 40), *b = solid(48, 48, 40, 180, 60), *c = solid(48, 48, 40, 70, 220);
    uint8_t *d = solid(48, 24, 230, 200, 40);
    const uint8_t *r0[3] = {a, b, c}, *r1[2] = {d, NULL};
    const int w0[3] = {48, 48, 48}, h0[3] = {48, 48, 48}, w1[2] = {48, 0}, h1[2] = {24, 0};
    sr_sheet_row rows[3] = {
        {"epoch 2", 3, r0, w0, h0},
        {"final", 2, r1, w1, h1},
        {"epoch 10", 0, NULL, NULL, NULL},
    };
    sr_rect *cells;
    int W, H;
    ck_assert_msg(sr_contact_sheet_jpeg(rows, 3, 48, path, &cells, &W, &H, err, sizeof err) == 0, "%s", err);
    ck_assert_ptr_nonnull(cells);

    int jw, jh;
    uint8_t *rgb = decode_jpeg(path, &jw, &jh);
    ck_assert_int_eq(jw, W);
    ck_assert_int_eq(jh, H);
    /* wider than three cells plus a label column, three rows high */
    ck_assert_int_gt(W, 3 * 48 + 20);
    ck_assert_int_gt(H, 3 * 48);

    for (int i = 0; i < 3; i++) {
        sr_rect r = cells[i];
        ck_assert_int_eq(r.w, 48);
        ck_assert_int_eq(r.h, 48);
        assert_rect_colour(rgb, W, H, r, colours[i], "row 1");
        if (i > 0) {
            ck_assert_int_eq(r.y, cells[0].y);
            ck_assert_int_gt(r.x, cells[i - 1].x + cells[i - 1].w); /* a gap between */
        }
    }
    sr_rect y = cells[3];
    ck_assert_int_eq(y.w, 48);
    ck_assert_int_eq(y.h, 24);
    ck_assert_int_eq(y.x, cells[0].x);
    ck_assert_int_gt(y.y, cells[0].y + cells[0].h);
    assert_rect_colour(rgb, W, H, y, colours[3], "row 2");
    /* the rest of the wide cell is background, a missing thumbnail or a
     * short row is an empty cell */
    const uint8_t *above = rgb + ((size_t)(y.y - 6) * W + y.x + 24) * 3;
    ck_assert_msg(above[0] > 230 && above[1] > 230 && above[2] > 230, "background %d,%d,%d", above[0], above[1],
                  above[2]);
    ck_assert_int_eq(cells[4].w, 0);
    ck_assert_int_eq(cells[5].w, 0);
    for (int i = 6; i < 9; i++)
        ck_assert_int_eq(cells[i].w, 0);

    /* the label column has dark text left of the first cell in row 1 */
    int dark = 0;
    for (int yy = cells[0].y; yy < cells[0].y + 48; yy++)
        for (int xx = 0; xx < cells[0].x; xx++)
            dark += rgb[((size_t)yy * W + xx) * 3] < 128;
    ck_assert_int_gt(dark, 10);

    free(rgb);
    free(cells);

    /* without cells wanted */
    ck_assert_msg(sr_contact_sheet_jpeg(rows, 1, 32, path, NULL, &W, &H, err, sizeof err) == 0, "%s", err);
    rgb = decode_jpeg(path, &jw, &jh);
    ck_assert_int_eq(jw, W);
    ck_assert_int_eq(jh, H);
    free(rgb);

    free(a);
    free(b);
    free(c);
    free(d);
    free(path);
    test_rmtree(dir);
    free(dir);
}
END_TEST

/* A thumbnail larger than the cell is scaled down into it. */
START_TEST(test_sheet_large_thumb)
{
    char *dir = test_tmpdir("thumbs-large");
    char err[512];
    char *path = sr_path_join(dir, "s.jpg");
    uint8_t *a = solid(100, 50, 30, 160, 200);
    const uint8_t *r0[1] = {a};
    const int w0[1] = {100}, h0[1] = {50};
    sr_sheet_row row = {NULL, 1, r0, w0, h0};
    sr_rect *cells;
    int W, H;
    ck_assert_msg(sr_contact_sheet_jpeg(&row, 1, 40, path, &cells, &W, &H, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(cells[0].w, 40);
    ck_assert_int_eq(cells[0].h, 20);
    int jw, jh;
    uint8_t *rgb = decode_jpeg(path, &jw, &jh);
    ck_assert_int_eq(jw, W);
    ck_assert_int_eq(jh, H);
    const uint8_t want[3] = {30, 160, 200};
    assert_rect_colour(rgb, W, H, cells[0], want, "scaled");
    free(rgb);
    free(cells);
    free(a);
    free(path);
    test_rmtree(dir);
    free(dir);
}
END_TEST

/* No rows is an error; rows without samples make a small sheet. */
START_TEST(test_sheet_empty)
{
    char *dir = test_tmpdir("thumbs-empty");
    char err[512];
    char *path = sr_path_join(dir, "s.jpg");
    sr_rect *cells = (sr_rect *)1;
    int W = 1, H = 1;
    ck_assert_int_eq(sr_contact_sheet_jpeg(NULL, 0, 64, path, &cells, &W, &H, err, sizeof err), -1);
    ck_assert_ptr_null(cells);
    ck_assert_int_eq(W, 0);
    ck_assert(strstr(err, "row") != NULL);
    ck_assert(access(path, F_OK) != 0);

    sr_sheet_row rows[2] = {{"epoch 1", 0, NULL, NULL, NULL}, {"epoch 2", 0, NULL, NULL, NULL}};
    ck_assert_int_eq(sr_contact_sheet_jpeg(rows, 2, 0, path, &cells, &W, &H, err, sizeof err), -1);
    ck_assert_msg(sr_contact_sheet_jpeg(rows, 2, 64, path, &cells, &W, &H, err, sizeof err) == 0, "%s", err);
    ck_assert_ptr_null(cells);
    ck_assert_int_gt(W, 64);
    ck_assert_int_gt(H, 2 * 64);
    int jw, jh;
    uint8_t *rgb = decode_jpeg(path, &jw, &jh);
    ck_assert_int_eq(jw, W);
    ck_assert_int_eq(jh, H);
    free(rgb);

    /* a bad thumbnail size is refused and leaves the file alone */
    struct stat before;
    ck_assert_int_eq(stat(path, &before), 0);
    uint8_t px[3] = {0};
    const uint8_t *r0[1] = {px};
    const int w0[1] = {0}, h0[1] = {1};
    sr_sheet_row bad = {"x", 1, r0, w0, h0};
    ck_assert_int_eq(sr_contact_sheet_jpeg(&bad, 1, 64, path, &cells, &W, &H, err, sizeof err), -1);
    struct stat after;
    ck_assert_int_eq(stat(path, &after), 0);
    ck_assert_int_eq(before.st_ino, after.st_ino);
    free(path);
    test_rmtree(dir);
    free(dir);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* a real synthetic sweep: samples -> cached thumbnails -> one sheet         */
/* ------------------------------------------------------------------------ */

static int name_cmp(const void *a, const void *b)
{
    return sr_strnatcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names in dir that start with prefix; NULL-free list of *n. */
static char **list_dir(const char *dir, const char *prefix, size_t *n)
{
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    char **v = NULL;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!sr_str_has_prefix(e->d_name, prefix))
            continue;
        v = xrealloc(v, (*n + 1) * sizeof *v);
        v[(*n)++] = xstrdup(e->d_name);
    }
    closedir(d);
    if (*n)
        qsort(v, *n, sizeof *v, name_cmp);
    return v;
}

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

typedef struct {
    char *label;
    size_t n;
    uint8_t **thumbs;
    int *tw, *th;
} test_row;

/* Thumbnails of the samples in sweep/rel_dir, from the cache or made (and
 * cached); *made counts the decodes. */
static void row_thumbs(const char *sweep, const char *rel_dir, int max_side, test_row *row, int *made)
{
    char *abs_dir = sr_path_join(sweep, rel_dir);
    size_t n;
    char **names = list_dir(abs_dir, "sample_", &n);
    row->n = n;
    row->thumbs = xcalloc(n ? n : 1, sizeof *row->thumbs);
    row->tw = xcalloc(n ? n : 1, sizeof *row->tw);
    row->th = xcalloc(n ? n : 1, sizeof *row->th);
    for (size_t i = 0; i < n; i++) {
        char err[512];
        char *abs = sr_path_join(abs_dir, names[i]);
        char *rel = sr_path_join(rel_dir, names[i]);
        sr_thumb_id id;
        ck_assert_int_eq(sr_thumb_id_of(abs, &id), 0);
        int rc = sr_thumb_cache_get(sweep, rel, &id, max_side, &row->thumbs[i], &row->tw[i], &row->th[i], err,
                                    sizeof err);
        ck_assert_msg(rc >= 0, "%s", err);
        if (rc == 0) {
            uint8_t *rgb;
            int w, h;
            ck_assert_msg(sr_png_read_rgb8(abs, &rgb, &w, &h, err, sizeof err) == 0, "%s", err);
            row->thumbs[i] = sr_thumb_scale(rgb, w, h, max_side, &row->tw[i], &row->th[i]);
            free(rgb);
            ck_assert_msg(sr_thumb_cache_put(sweep, rel, &id, max_side, row->thumbs[i], row->tw[i], row->th[i], err,
                                             sizeof err) == 0,
                          "%s", err);
            (*made)++;
        }
        free(rel);
        free(abs);
    }
    free_list(names, n);
    free(abs_dir);
}

/* Builds the rows of trial_0001: one per checkpoint with a samples folder. */
static size_t trial_rows(const char *sweep, int max_side, test_row *rows, size_t cap, int *made)
{
    size_t nr = 0;
    char *rt = sr_path_join(sweep, "trial_0001/realtime_evaluations");
    size_t n;
    char **stems = list_dir(rt, "lora_", &n);
    for (size_t i = 0; i < n && nr < cap; i++) {
        const char *dash = strrchr(stems[i], '-');
        rows[nr].label = xasprintf("epoch %ld", dash ? strtol(dash + 1, NULL, 10) : -1L);
        char *rel = xasprintf("trial_0001/realtime_evaluations/%s", stems[i]);
        row_thumbs(sweep, rel, max_side, &rows[nr], made);
        free(rel);
        nr++;
    }
    free_list(stems, n);
    free(rt);
    if (nr < cap) {
        rows[nr].label = xstrdup("final");
        row_thumbs(sweep, "trial_0001/evaluation", max_side, &rows[nr], made);
        nr++;
    }
    return nr;
}

static void free_rows(test_row *rows, size_t n)
{
    for (size_t r = 0; r < n; r++) {
        for (size_t c = 0; c < rows[r].n; c++)
            free(rows[r].thumbs[c]);
        free(rows[r].thumbs);
        free(rows[r].tw);
        free(rows[r].th);
        free(rows[r].label);
    }
}

START_TEST(test_sheet_from_synth)
{
    char *sweep = test_tmpdir("thumbs-synth");
    char err[512];
    sr_synth_opts o;
    sr_synth_defaults(&o);
    o.trials = 2;
    o.epochs = 6;
    o.save_every = 2;
    o.samples = 4;
    o.size = 96;
    ck_assert_msg(sr_synth(sweep, &o, err, sizeof err) == 0, "%s", err);

    const int side = 80;
    test_row rows[16];
    int made = 0;
    size_t nr = trial_rows(sweep, side, rows, 16, &made);
    ck_assert_uint_ge(nr, 3);
    ck_assert_int_gt(made, 0);

    sr_sheet_row sr[16];
    for (size_t r = 0; r < nr; r++) {
        sr[r].label = rows[r].label;
        sr[r].n = rows[r].n;
        sr[r].thumbs = (const uint8_t *const *)rows[r].thumbs;
        sr[r].tw = rows[r].tw;
        sr[r].th = rows[r].th;
    }
    const char *keep = getenv("SR_CONTACT_SHEET_OUT");
    char *path = keep && *keep ? xstrdup(keep) : sr_path_join(sweep, "trial_0001.jpg");
    sr_rect *cells;
    int W, H;
    ck_assert_msg(sr_contact_sheet_jpeg(sr, nr, side, path, &cells, &W, &H, err, sizeof err) == 0, "%s", err);
    int jw, jh;
    uint8_t *rgb = decode_jpeg(path, &jw, &jh);
    ck_assert_int_eq(jw, W);
    ck_assert_int_eq(jh, H);
    size_t cols = 0;
    for (size_t r = 0; r < nr; r++)
        cols = rows[r].n > cols ? rows[r].n : cols;
    /* each cell shows its thumbnail: the same mean colour (JPEG keeps
     * averages well, less so near saturation where it clips) and, pixel by pixel, close on average (saturated thin
     * lines lose some chroma at 4:2:0) */
    for (size_t r = 0; r < nr; r++)
        for (size_t c = 0; c < rows[r].n; c++) {
            sr_rect q = cells[r * cols + c];
            ck_assert_int_eq(q.w, rows[r].tw[c]);
            ck_assert_int_eq(q.h, rows[r].th[c]);
            double diff = 0, mean_sheet[3] = {0}, mean_thumb[3] = {0};
            for (int yy = 2; yy < q.h - 2; yy++)
                for (int xx = 2; xx < q.w - 2; xx++)
                    for (int k = 0; k < 3; k++) {
                        int a = rgb[((size_t)(q.y + yy) * W + q.x + xx) * 3 + k];
                        int b = rows[r].thumbs[c][((size_t)yy * q.w + xx) * 3 + k];
                        diff += abs(a - b);
                        mean_sheet[k] += a;
                        mean_thumb[k] += b;
                    }
            double np = (double)(q.w - 4) * (q.h - 4);
            for (int k = 0; k < 3; k++)
                ck_assert_msg(fabs(mean_sheet[k] - mean_thumb[k]) / np < 8, "row %zu column %zu channel %d: %.1f vs %.1f",
                              r, c, k, mean_sheet[k] / np, mean_thumb[k] / np);
            ck_assert_msg(diff / (np * 3) < 25, "row %zu column %zu differs by %.1f on average", r, c, diff / (np * 3));
        }
    free(rgb);
    free(cells);
    free_rows(rows, nr);

    /* a rerun finds every thumbnail in the cache and decodes nothing */
    int again = 0;
    size_t nr2 = trial_rows(sweep, side, rows, 16, &again);
    ck_assert_uint_eq(nr2, nr);
    ck_assert_int_eq(again, 0);
    free_rows(rows, nr2);

    free(path);
    test_rmtree(sweep);
    free(sweep);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("thumbs");
    TCase *tc = tcase_create("scale");
    tcase_add_test(tc, test_scale_block_average);
    tcase_add_test(tc, test_scale_blocks);
    tcase_add_test(tc, test_scale_aspect);
    tcase_add_test(tc, test_scale_never_up);
    tcase_add_test(tc, test_scale_thin);
    tcase_add_test(tc, test_scale_matches_area_average);
    suite_add_tcase(s, tc);
    tc = tcase_create("cache");
    tcase_add_test(tc, test_cache_round_trip);
    tcase_add_test(tc, test_cache_stale);
    suite_add_tcase(s, tc);
    tc = tcase_create("sheet");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_sheet_layout);
    tcase_add_test(tc, test_sheet_large_thumb);
    tcase_add_test(tc, test_sheet_empty);
    tcase_add_test(tc, test_sheet_from_synth);
    suite_add_tcase(s, tc);
    return s;
}
