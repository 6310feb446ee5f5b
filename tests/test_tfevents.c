/* test_tfevents.c - TensorBoard event files: CRC-32C, the real PyTorch files
 * of tests/data/tfevents against their expected_scalars.tsv, damage of every
 * kind (cut at every byte, flipped bytes, foreign files), scalars stored as
 * tensors, the writer (byte for byte against the real files), and reading a
 * trial's logs/ folder. */
#include "config.h"

#include "atomic_file.h"
#include "check_main.h"
#include "crc32c.h"
#include "problems.h"
#include "tfevents.h"
#include "tfevents_write.h"
#include "util.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------ */

static void write_bytes(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot create %s", path);
    if (len)
        ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

static char *slurp(const char *path, size_t *len)
{
    char *data, err[256];
    int rc = sr_read_file(path, (size_t)1 << 30, &data, len, err, sizeof err);
    ck_assert_msg(rc == 0, "%s: %s", path, err);
    return data;
}

static uint32_t float_bits(double v)
{
    float f = (float)v;
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static void mkdirs(const char *path)
{
    ck_assert_msg(sr_mkdir_p(path, 0755) == 0, "mkdir %s: %s", path, strerror(errno));
}

/* Protobuf encoding for hand-made events. */
static void pb_varint(sr_buf *b, uint64_t v)
{
    do {
        unsigned char c = (unsigned char)(v & 0x7f);
        v >>= 7;
        if (v)
            c |= 0x80;
        sr_buf_append(b, &c, 1);
    } while (v);
}

static void pb_key(sr_buf *b, unsigned field, unsigned wt)
{
    pb_varint(b, (uint64_t)field << 3 | wt);
}

static void pb_le(sr_buf *b, uint64_t v, int n)
{
    for (int i = 0; i < n; i++) {
        unsigned char c = (unsigned char)(v >> (8 * i));
        sr_buf_append(b, &c, 1);
    }
}

static void pb_bytes(sr_buf *b, unsigned field, const void *d, size_t n)
{
    pb_key(b, field, 2);
    pb_varint(b, n);
    sr_buf_append(b, d, n);
}

static void pb_sub(sr_buf *b, unsigned field, sr_buf *msg)
{
    pb_bytes(b, field, msg->s, msg->len);
    sr_buf_free(msg);
}

static void pb_float(sr_buf *b, unsigned field, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    pb_key(b, field, 5);
    pb_le(b, u, 4);
}

static void pb_double(sr_buf *b, unsigned field, double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    pb_key(b, field, 1);
    pb_le(b, u, 8);
}

/* Appends one TFRecord holding data to file. */
static void frame(sr_buf *file, const void *data, size_t n)
{
    unsigned char len8[8];
    for (int i = 0; i < 8; i++)
        len8[i] = (unsigned char)((uint64_t)n >> (8 * i));
    sr_buf_append(file, len8, 8);
    pb_le(file, sr_crc32c_mask(sr_crc32c(len8, 8)), 4);
    sr_buf_append(file, data, n);
    pb_le(file, sr_crc32c_mask(sr_crc32c(data, n)), 4);
}

static void frame_buf(sr_buf *file, sr_buf *event)
{
    frame(file, event->s, event->len);
    sr_buf_free(event);
}

/* The file_version event every real file starts with. */
static void version_record(sr_buf *file, double wall)
{
    sr_buf ev;
    sr_buf_init(&ev);
    pb_double(&ev, 1, wall);
    pb_bytes(&ev, 3, "brain.Event:2", 13);
    frame_buf(file, &ev);
}

/* An Event holding one Summary.Value whose body is value (tag included). */
static void value_record(sr_buf *file, double wall, int64_t step, sr_buf *value)
{
    sr_buf sum, ev;
    sr_buf_init(&sum);
    sr_buf_init(&ev);
    pb_sub(&sum, 1, value);
    pb_double(&ev, 1, wall);
    if (step)
        pb_key(&ev, 2, 0), pb_varint(&ev, (uint64_t)step);
    pb_sub(&ev, 5, &sum);
    frame_buf(file, &ev);
}

/* Offsets at which the records of a well-formed file start; the last entry
 * is the file size.  Returns the record count. */
static size_t record_starts(const unsigned char *d, size_t n, size_t *starts, size_t max)
{
    size_t k = 0, at = 0;
    while (at < n) {
        ck_assert_uint_lt(k, max);
        starts[k++] = at;
        uint64_t len = 0;
        for (int i = 0; i < 8; i++)
            len |= (uint64_t)d[at + i] << (8 * i);
        at += 12 + (size_t)len + 4;
    }
    ck_assert_uint_eq(at, n);
    starts[k] = n;
    return k;
}

static const char *corpus_files[] = {
    "tests/data/tfevents/strict/run_1/events.out.tfevents.1622543341.janoshs-mbp.lan.86862.0",
    "tests/data/tfevents/lax/run_1/events.out.tfevents.1622543341.janoshs-mbp.lan.86862.3",
    ("tests/data/tfevents/duplicate_steps/run_1/"
     "events.out.tfevents.1622966509.janoshs-mbp.lan.86059.0"),
};
#define N_CORPUS (int)(sizeof corpus_files / sizeof *corpus_files)

/* One row of expected_scalars.tsv. */
typedef struct {
    size_t record;
    int64_t step;
    double wall;
    char tag[64];
    double value;
} tsv_row;

static tsv_row *load_tsv(const char *event_rel, size_t *n_rows)
{
    char *rel = xstrdup(event_rel);
    *strrchr(rel, '/') = '\0';
    char *tsv_rel = xasprintf("%s/expected_scalars.tsv", rel);
    char *path = test_srcpath(tsv_rel);
    size_t len;
    char *text = slurp(path, &len);
    tsv_row *rows = NULL;
    size_t n = 0, cap = 0;
    char *save = NULL;
    char *line = strtok_r(text, "\n", &save);
    ck_assert_ptr_nonnull(line);
    ck_assert_str_eq(line, "record\tstep\twall_time\ttag\tsimple_value");
    while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            rows = xrealloc(rows, cap * sizeof *rows);
        }
        tsv_row *r = &rows[n];
        unsigned long rec;
        long long step;
        ck_assert_msg(sscanf(line, "%lu\t%lld\t%lf\t%63[^\t]\t%lf", &rec, &step, &r->wall, r->tag,
                             &r->value) == 5,
                      "bad row: %s", line);
        r->record = rec;
        r->step = step;
        n++;
    }
    free(text);
    free(path);
    free(tsv_rel);
    free(rel);
    *n_rows = n;
    return rows;
}

/* ------------------------------------------------------------------------
 * CRC-32C
 * ------------------------------------------------------------------------ */

START_TEST(test_crc32c_vectors)
{
    unsigned char buf[48];
    ck_assert_uint_eq(sr_crc32c("", 0), 0);
    ck_assert_uint_eq(sr_crc32c("123456789", 9), 0xE3069283u);
    ck_assert_uint_eq(sr_crc32c_update_sw(0, "123456789", 9), 0xE3069283u);
    ck_assert_uint_eq(sr_crc32c("a", 1), 0xC1D04330u);
    /* RFC 3720 B.4 */
    memset(buf, 0, 32);
    ck_assert_uint_eq(sr_crc32c(buf, 32), 0x8A9136AAu);
    memset(buf, 0xff, 32);
    ck_assert_uint_eq(sr_crc32c(buf, 32), 0x62A8AB43u);
    for (int i = 0; i < 32; i++)
        buf[i] = (unsigned char)i;
    ck_assert_uint_eq(sr_crc32c(buf, 32), 0x46DD794Eu);
    for (int i = 0; i < 32; i++)
        buf[i] = (unsigned char)(31 - i);
    ck_assert_uint_eq(sr_crc32c(buf, 32), 0x113FDB5Cu);
    static const unsigned char iscsi[48] = {
        0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18,
        0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    ck_assert_uint_eq(sr_crc32c(iscsi, 48), 0xD9963A56u);
    ck_assert_uint_eq(sr_crc32c_update_sw(0, iscsi, 48), 0xD9963A56u);
    /* The masked length CRC of the first record of the strict corpus file
     * (length 0x18): bytes a3 7f 4b 22. */
    unsigned char len8[8] = {0x18, 0, 0, 0, 0, 0, 0, 0};
    ck_assert_uint_eq(sr_crc32c_mask(sr_crc32c(len8, 8)), 0x224b7fa3u);
}
END_TEST

/* Table and instruction agree at every length and alignment, and a CRC can
 * be continued in pieces. */
START_TEST(test_crc32c_paths_agree)
{
    enum { N = 1100 };
    unsigned char *buf = xmalloc(N + 8);
    sr_rng rng;
    sr_rng_seed(&rng, 42);
    for (size_t i = 0; i < N + 8; i++)
        buf[i] = (unsigned char)sr_rng_next(&rng);
    for (size_t off = 0; off < 8; off++)
        for (size_t n = 0; n <= N; n += (n < 80 ? 1 : 37)) {
            uint32_t want = sr_crc32c_update_sw(0, buf + off, n);
            /* bitwise reference */
            uint32_t c = 0xffffffffu;
            for (size_t i = 0; i < n; i++) {
                c ^= buf[off + i];
                for (int k = 0; k < 8; k++)
                    c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1)));
            }
            ck_assert_uint_eq(want, ~c);
            ck_assert_uint_eq(sr_crc32c(buf + off, n), want);
            size_t cut = n / 3;
            uint32_t part = sr_crc32c_update(sr_crc32c(buf + off, cut), buf + off + cut, n - cut);
            ck_assert_uint_eq(part, want);
        }
    free(buf);
    /* Not an assertion: which path ran. */
    fprintf(stderr, "# crc32c: %s\n", sr_crc32c_hw_available() ? "sse4.2" : "table");
}
END_TEST

/* ------------------------------------------------------------------------
 * The real files
 * ------------------------------------------------------------------------ */

START_TEST(test_corpus_file)
{
    char *path = test_srcpath(corpus_files[_i]);
    size_t n_rows;
    tsv_row *rows = load_tsv(corpus_files[_i], &n_rows);
    ck_assert_uint_gt(n_rows, 0);

    sr_scalars sc = {0};
    char problem[256] = "unset";
    int rc = sr_tfevents_read_file(path, &sc, problem, sizeof problem);
    ck_assert_msg(rc == 0, "%s: rc %d: %s", path, rc, problem);
    ck_assert_str_eq(problem, "");

    /* Every tag of the file is in the table, and each series holds the
     * table's rows of that tag in record order, exactly. */
    size_t total = 0;
    for (size_t t = 0; t < sc.n; t++) {
        const sr_scalar_series *s = &sc.items[t];
        size_t k = 0;
        for (size_t i = 0; i < n_rows; i++) {
            if (strcmp(rows[i].tag, s->tag) != 0)
                continue;
            ck_assert_msg(k < s->n, "%s: more rows than points", s->tag);
            ck_assert_msg(s->steps[k] == rows[i].step, "%s[%zu]: step %lld, want %lld", s->tag, k,
                          (long long)s->steps[k], (long long)rows[i].step);
            ck_assert_msg(float_bits(s->values[k]) == float_bits(rows[i].value),
                          "%s[%zu]: value %.9g, want %.9g", s->tag, k, s->values[k], rows[i].value);
            ck_assert_msg((double)(float)s->values[k] == s->values[k], "not a float32");
            ck_assert_msg(fabs(s->wall_times[k] - rows[i].wall) <= 6e-7,
                          "%s[%zu]: wall time %.6f, want %.6f", s->tag, k, s->wall_times[k],
                          rows[i].wall);
            k++;
        }
        ck_assert_msg(k == s->n, "%s: %zu points, table has %zu", s->tag, s->n, k);
        total += s->n;
    }
    ck_assert_uint_eq(total, n_rows); /* so no row's tag is missing either */
    ck_assert_ptr_eq(sr_scalars_find(&sc, rows[0].tag), &sc.items[0]);
    ck_assert_ptr_null(sr_scalars_find(&sc, "no/such/tag"));

    /* Reading again into the same set appends. */
    size_t first = sc.items[0].n;
    ck_assert_int_eq(sr_tfevents_read_file(path, &sc, NULL, 0), 0);
    ck_assert_uint_eq(sc.items[0].n, 2 * first);

    sr_scalars_free(&sc);
    ck_assert_uint_eq(sc.n, 0);
    free(rows);
    free(path);
}
END_TEST

/* The writer reproduces each real file byte for byte from the values read. */
START_TEST(test_writer_matches_corpus)
{
    char *path = test_srcpath(corpus_files[_i]);
    size_t n_rows, real_len;
    tsv_row *rows = load_tsv(corpus_files[_i], &n_rows);
    unsigned char *real = (unsigned char *)slurp(path, &real_len);
    sr_scalars sc = {0};
    ck_assert_int_eq(sr_tfevents_read_file(path, &sc, NULL, 0), 0);

    /* record 0: 0x09 + the double wall time */
    ck_assert_uint_eq(real[12], 0x09);
    double wall0;
    memcpy(&wall0, real + 13, 8);

    char *dir = test_tmpdir("tfevents-rewrite");
    char *out = sr_path_join(dir, "events.out.tfevents.rewritten");
    char err[256];
    sr_tfevents_writer *w = sr_tfevents_open(out, wall0, err, sizeof err);
    ck_assert_msg(w != NULL, "%s", err);
    size_t *next = xcalloc(sc.n, sizeof *next);
    for (size_t i = 0; i < n_rows; i++) {
        ck_assert_uint_eq(rows[i].record, i + 1); /* one scalar per record */
        const sr_scalar_series *s = sr_scalars_find(&sc, rows[i].tag);
        ck_assert_ptr_nonnull(s);
        size_t t = (size_t)(s - sc.items), k = next[t]++;
        ck_assert_int_eq(sr_tfevents_add_scalar(w, s->tag, s->steps[k], (float)s->values[k],
                                                s->wall_times[k]),
                         0);
    }
    ck_assert_msg(sr_tfevents_close(w, err, sizeof err) == 0, "%s", err);

    size_t mine_len;
    unsigned char *mine = (unsigned char *)slurp(out, &mine_len);
    ck_assert_uint_eq(mine_len, real_len);
    for (size_t i = 0; i < real_len; i++)
        ck_assert_msg(mine[i] == real[i], "byte %zu differs: %02x, want %02x", i, mine[i], real[i]);

    free(mine);
    free(next);
    test_rmtree(dir);
    free(out);
    free(dir);
    sr_scalars_free(&sc);
    free(real);
    free(rows);
    free(path);
}
END_TEST

/* Corpus facts the reader relies on: steps are not monotonic in
 * duplicate_steps, and step 0 is stored by leaving the field out. */
START_TEST(test_corpus_duplicate_steps_in_file_order)
{
    char *path = test_srcpath(corpus_files[2]);
    sr_scalars sc = {0};
    ck_assert_int_eq(sr_tfevents_read_file(path, &sc, NULL, 0), 0);
    const sr_scalar_series *foo = sr_scalars_find(&sc, "dup_steps/foo");
    ck_assert_ptr_nonnull(foo);
    ck_assert_uint_eq(foo->n, 210);
    ck_assert_int_eq(foo->steps[0], 0);
    ck_assert_int_eq(foo->steps[99], 99);
    ck_assert_int_eq(foo->steps[100], 90);
    ck_assert_int_eq(foo->steps[209], 199);
    sr_scalars_free(&sc);
    free(path);
}
END_TEST

/* ------------------------------------------------------------------------
 * Damage
 * ------------------------------------------------------------------------ */

/* A small file of the writer: version + 7 scalars over two tags. */
static void small_file(sr_buf *out, const char *dir)
{
    char *p = sr_path_join(dir, "small");
    char err[256];
    sr_tfevents_writer *w = sr_tfevents_open(p, 1700000000.25, err, sizeof err);
    ck_assert_msg(w != NULL, "%s", err);
    for (int i = 0; i < 7; i++)
        ck_assert_int_eq(sr_tfevents_add_scalar(w, i % 2 ? "lr/unet" : "loss/current", i / 2,
                                                (float)i * 0.5f - 1.0f, 1700000001.0 + i),
                         0);
    ck_assert_int_eq(sr_tfevents_close(w, err, sizeof err), 0);
    size_t len;
    char *d = slurp(p, &len);
    sr_buf_init(out);
    sr_buf_append(out, d, len);
    free(d);
    free(p);
}

static size_t count_points(const sr_scalars *sc)
{
    size_t n = 0;
    for (size_t i = 0; i < sc->n; i++)
        n += sc->items[i].n;
    return n;
}

/* Cuts file at every byte: the records wholly before the cut are read (the
 * same points as from the whole file), a partial one is reported. */
static void check_every_cut(const sr_buf *file, const char *dir)
{
    size_t *starts = xmalloc((file->len / 12 + 2) * sizeof *starts);
    size_t nrec = record_starts((unsigned char *)file->s, file->len, starts, file->len / 12 + 1);
    char *p = sr_path_join(dir, "cut");
    write_bytes(p, file->s, file->len);
    sr_scalars full = {0};
    ck_assert_int_eq(sr_tfevents_read_file(p, &full, NULL, 0), 0);
    ck_assert_uint_eq(count_points(&full), nrec - 1); /* record 0: file_version */
    for (size_t cut = 0; cut <= file->len; cut++) {
        write_bytes(p, file->s, cut);
        sr_scalars sc = {0};
        char problem[256];
        int rc = sr_tfevents_read_file(p, &sc, problem, sizeof problem);
        size_t complete = 0;
        while (complete < nrec && starts[complete + 1] <= cut)
            complete++;
        int boundary = cut == starts[complete];
        ck_assert_msg(rc == (boundary ? 0 : 1), "cut %zu: rc %d (%s)", cut, rc, problem);
        if (boundary) {
            ck_assert_str_eq(problem, "");
        } else {
            char want[64];
            snprintf(want, sizeof want, "truncated record at byte %zu ", starts[complete]);
            ck_assert_msg(strncmp(problem, want, strlen(want)) == 0, "cut %zu: %s", cut, problem);
        }
        size_t want_points = complete > 0 ? complete - 1 : 0;
        ck_assert_msg(count_points(&sc) == want_points, "cut %zu: %zu points, want %zu", cut,
                      count_points(&sc), want_points);
        for (size_t t = 0; t < sc.n; t++) {
            const sr_scalar_series *a = &sc.items[t], *b = sr_scalars_find(&full, a->tag);
            ck_assert_ptr_nonnull(b);
            ck_assert_uint_le(a->n, b->n);
            for (size_t i = 0; i < a->n; i++) {
                ck_assert_int_eq(a->steps[i], b->steps[i]);
                ck_assert_double_eq(a->values[i], b->values[i]);
                ck_assert_double_eq(a->wall_times[i], b->wall_times[i]);
            }
        }
        sr_scalars_free(&sc);
    }
    sr_scalars_free(&full);
    free(p);
    free(starts);
}

START_TEST(test_truncated_everywhere)
{
    char *dir = test_tmpdir("tfevents-cut");
    sr_buf file;
    small_file(&file, dir);
    check_every_cut(&file, dir);
    sr_buf_free(&file);

    /* and the real strict file (4,912 bytes, 101 records) */
    char *path = test_srcpath(corpus_files[0]);
    size_t len;
    char *d = slurp(path, &len);
    sr_buf_init(&file);
    sr_buf_append(&file, d, len);
    check_every_cut(&file, dir);
    sr_buf_free(&file);
    free(d);
    free(path);
    test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_flipped_bytes)
{
    char *dir = test_tmpdir("tfevents-flip");
    sr_buf file;
    small_file(&file, dir);
    size_t starts[16];
    size_t nrec = record_starts((unsigned char *)file.s, file.len, starts, 15);
    char *p = sr_path_join(dir, "flipped");
    /* Every byte of record 4: header bytes -> length CRC (or the length
     * itself, which then fails its CRC), data and footer -> data CRC. */
    for (size_t at = starts[4]; at < starts[5]; at++) {
        for (int bit = 0; bit < 8; bit += 3) {
            file.s[at] ^= (char)(1 << bit);
            write_bytes(p, file.s, file.len);
            file.s[at] ^= (char)(1 << bit);
            sr_scalars sc = {0};
            char problem[256], want[96];
            int rc = sr_tfevents_read_file(p, &sc, problem, sizeof problem);
            ck_assert_msg(rc == 1, "byte %zu: rc %d (%s)", at, rc, problem);
            int in_header = at < starts[4] + 12;
            snprintf(want, sizeof want, "record 4 at byte %zu: %s CRC mismatch", starts[4],
                     in_header ? "length" : "data");
            ck_assert_msg(strcmp(problem, want) == 0, "byte %zu: %s", at, problem);
            ck_assert_uint_eq(count_points(&sc), 3); /* records 1..3 */
            sr_scalars_free(&sc);
        }
    }
    /* The first record's length: not a TFRecord file at all. */
    file.s[1] ^= 0x10;
    write_bytes(p, file.s, file.len);
    file.s[1] ^= 0x10;
    sr_scalars sc = {0};
    char problem[256];
    ck_assert_int_eq(sr_tfevents_read_file(p, &sc, problem, sizeof problem), -1);
    ck_assert_msg(strstr(problem, "not a TFRecord") != NULL, "%s", problem);
    ck_assert_uint_eq(sc.n, 0);
    /* The first record's data: damage in a TFRecord file. */
    file.s[14] ^= 0x01;
    write_bytes(p, file.s, file.len);
    file.s[14] ^= 0x01;
    ck_assert_int_eq(sr_tfevents_read_file(p, &sc, problem, sizeof problem), 1);
    ck_assert_str_eq(problem, "record 0 at byte 0: data CRC mismatch");
    ck_assert_uint_eq(sc.n, 0);
    /* Trailing garbage after the last record. */
    sr_buf_append(&file, "garbage-garbage", 15);
    write_bytes(p, file.s, file.len);
    ck_assert_int_eq(sr_tfevents_read_file(p, &sc, problem, sizeof problem), 1);
    char want[96];
    snprintf(want, sizeof want, "record %zu at byte %zu: length CRC mismatch", nrec, starts[nrec]);
    ck_assert_str_eq(problem, want);
    ck_assert_uint_eq(count_points(&sc), 7);
    sr_scalars_free(&sc);
    free(p);
    sr_buf_free(&file);
    test_rmtree(dir);
    free(dir);
}
END_TEST

/* Length fields with good CRCs that are too long: refused without
 * allocating for them. */
START_TEST(test_absurd_lengths)
{
    char *dir = test_tmpdir("tfevents-len");
    char *p = sr_path_join(dir, "f");
    char problem[256];
    sr_scalars sc = {0};
    const uint64_t lens[] = {SR_TFEVENTS_MAX_RECORD + 1ull, 1ull << 40, UINT64_MAX,
                             SR_TFEVENTS_MAX_RECORD - 1ull};
    for (size_t i = 0; i < sizeof lens / sizeof *lens; i++) {
        sr_buf f;
        sr_buf_init(&f);
        version_record(&f, 1.0);
        size_t at = f.len;
        unsigned char len8[8];
        for (int k = 0; k < 8; k++)
            len8[k] = (unsigned char)(lens[i] >> (8 * k));
        sr_buf_append(&f, len8, 8);
        pb_le(&f, sr_crc32c_mask(sr_crc32c(len8, 8)), 4);
        sr_buf_append(&f, "short data", 10);
        write_bytes(p, f.s, f.len);
        ck_assert_int_eq(sr_tfevents_read_file(p, &sc, problem, sizeof problem), 1);
        char want[64];
        if (lens[i] > SR_TFEVENTS_MAX_RECORD)
            snprintf(want, sizeof want, "record 1 at byte %zu: length ", at);
        else
            snprintf(want, sizeof want, "truncated record at byte %zu ", at);
        ck_assert_msg(strncmp(problem, want, strlen(want)) == 0, "%s", problem);
        sr_buf_free(&f);
    }
    ck_assert_uint_eq(sc.n, 0);
    free(p);
    test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_not_event_files)
{
    char *dir = test_tmpdir("tfevents-foreign");
    char *p = sr_path_join(dir, "f");
    char problem[256];
    sr_scalars sc = {0};

    static const unsigned char png[] = {0x89, 'P',  'N',  'G',  '\r', '\n', 0x1a, '\n', 0,   0,
                                        0,    13,   'I',  'H',  'D',  'R',  0,    0,    0,   1,
                                        0,    0,    0,    1,    8,    6,    0,    0,    0,   0x1f,
                                        0x15, 0xc4, 0x89, 0,    0,    0,    0,    'I',  'E', 'N',
                                        'D',  0xae, 0x42, 0x60, 0x82};
    write_bytes(p, png, sizeof png);
    ck_assert_int_eq(sr_tfevents_read_file(p, &sc, problem, sizeof problem), -1);
    ck_assert_msg(strstr(problem, "not a TFRecord") != NULL, "%s", problem);

    const char *text = "step,loss\n0,0.25\n1,0.125\n";
    write_bytes(p, text, strlen(text));
    ck_assert_int_eq(sr_tfevents_read_file(p, &sc, problem, sizeof problem), -1);

    /* Too short to check a CRC, and no record can start like this. */
    write_bytes(p, "{}\n\n", 4);
    ck_assert_int_eq(sr_tfevents_read_file(p, &sc, problem, sizeof problem), -1);
    /* ... whereas these could be the start of a record header. */
    write_bytes(p, "\x10\x00\x00", 3);
    ck_assert_int_eq(sr_tfevents_read_file(p, &sc, problem, sizeof problem), 1);
    ck_assert_str_eq(problem, "truncated record at byte 0 (record 0: 3 of the 12 header bytes)");
    write_bytes(p, "hello", 5);
    ck_assert_int_eq(sr_tfevents_read_file(p, &sc, problem, sizeof problem), -1);

    /* Empty: a stream of no records (a writer that has not flushed yet). */
    write_bytes(p, "", 0);
    strcpy(problem, "unset");
    ck_assert_int_eq(sr_tfevents_read_file(p, &sc, problem, sizeof problem), 0);
    ck_assert_str_eq(problem, "");

    /* TFRecord framing around something that is not an Event. */
    sr_buf f;
    sr_buf_init(&f);
    frame(&f, "\x0a\x03" "abc", 5); /* field 1 as bytes: wall_time must be a double */
    write_bytes(p, f.s, f.len);
    sr_buf_free(&f);
    ck_assert_int_eq(sr_tfevents_read_file(p, &sc, problem, sizeof problem), -1);
    ck_assert_msg(strstr(problem, "not an event file") != NULL, "%s", problem);

    /* A FIFO (opening it must not wait for a writer), a folder, a missing file. */
    char *fifo = sr_path_join(dir, "fifo");
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    ck_assert_int_eq(sr_tfevents_read_file(fifo, &sc, problem, sizeof problem), -1);
    ck_assert_str_eq(problem, "not a regular file");
    free(fifo);
    ck_assert_int_eq(sr_tfevents_read_file(dir, &sc, problem, sizeof problem), -1);
    ck_assert_str_eq(problem, "not a regular file");
    char *missing = sr_path_join(dir, "missing");
    ck_assert_int_eq(sr_tfevents_read_file(missing, &sc, problem, sizeof problem), -1);
    ck_assert_msg(strstr(problem, "cannot open") != NULL, "%s", problem);
    free(missing);

    ck_assert_uint_eq(sc.n, 0);
    free(p);
    test_rmtree(dir);
    free(dir);
}
END_TEST

/* A record with good CRCs and broken protobuf is skipped; reading goes on. */
START_TEST(test_undecodable_record_skipped)
{
    char *dir = test_tmpdir("tfevents-bad-pb");
    char *p = sr_path_join(dir, "f");
    sr_buf f, v;
    sr_buf_init(&f);
    version_record(&f, 1.0);
    sr_buf_init(&v);
    pb_bytes(&v, 1, "loss/a", 6);
    pb_float(&v, 2, 1.5f);
    value_record(&f, 2.0, 1, &v);
    size_t bad1 = f.len;
    frame(&f, "\x09\x01\x02", 3); /* a double cut short */
    frame(&f, "\x2a\x04\x0a\x09" "ab", 6); /* a value longer than its summary */
    const unsigned char long_varint[] = {0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                         0xff, 0xff, 0xff, 0xff, 0x01};
    frame(&f, long_varint, sizeof long_varint);
    sr_buf_init(&v);
    pb_bytes(&v, 1, "loss/a", 6);
    pb_float(&v, 2, 2.5f);
    value_record(&f, 3.0, 2, &v);
    write_bytes(p, f.s, f.len);

    sr_scalars sc = {0};
    char problem[256], want[128];
    ck_assert_int_eq(sr_tfevents_read_file(p, &sc, problem, sizeof problem), 1);
    snprintf(want, sizeof want, "record 2 at byte %zu: undecodable event (", bad1);
    ck_assert_msg(strncmp(problem, want, strlen(want)) == 0, "%s", problem);
    ck_assert_msg(strstr(problem, "(and 2 more damaged records)") != NULL, "%s", problem);
    const sr_scalar_series *s = sr_scalars_find(&sc, "loss/a");
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(s->n, 2);
    ck_assert_double_eq(s->values[1], 2.5);
    ck_assert_int_eq(s->steps[1], 2);
    sr_scalars_free(&sc);
    sr_buf_free(&f);
    free(p);
    test_rmtree(dir);
    free(dir);
}
END_TEST

/* ------------------------------------------------------------------------
 * Scalars stored as tensors
 * ------------------------------------------------------------------------ */

enum { DT_FLOAT = 1, DT_DOUBLE = 2, DT_STRING = 7, DT_BFLOAT16 = 14, DT_HALF = 19 };

/* Value{tag, metadata, tensor{dtype, shape, ...body}} */
static void tensor_value(sr_buf *value, const char *tag, unsigned dtype, int dims, sr_buf *body)
{
    sr_buf t, shape, meta, plugin;
    sr_buf_init(value);
    sr_buf_init(&t);
    sr_buf_init(&shape);
    sr_buf_init(&meta);
    sr_buf_init(&plugin);
    pb_key(&t, 1, 0);
    pb_varint(&t, dtype);
    for (int i = 0; i < dims; i++) {
        sr_buf dim;
        sr_buf_init(&dim);
        pb_key(&dim, 1, 0);
        pb_varint(&dim, 2);
        pb_sub(&shape, 2, &dim);
    }
    pb_sub(&t, 2, &shape); /* an empty shape message: rank 0 */
    sr_buf_append(&t, body->s, body->len);
    sr_buf_free(body);
    pb_bytes(&plugin, 1, "scalars", 7);
    pb_sub(&meta, 1, &plugin);
    pb_bytes(value, 1, tag, strlen(tag));
    pb_sub(value, 9, &meta);
    pb_bytes(value, 7, "node", 4); /* node_name: ignored */
    pb_sub(value, 8, &t);
}

START_TEST(test_tensor_scalars)
{
    char *dir = test_tmpdir("tfevents-tensor");
    char *p = sr_path_join(dir, "f");
    sr_buf f, v, b;
    sr_buf_init(&f);
    version_record(&f, 10.0);
    int step = 1;
    const float fv[] = {0.75f, -3.5f, 1e-40f};

    /* float_val packed, float_val unpacked, tensor_content */
    for (int i = 0; i < 3; i++) {
        sr_buf_init(&b);
        if (i == 0) {
            sr_buf packed;
            sr_buf_init(&packed);
            uint32_t u;
            memcpy(&u, &fv[i], 4);
            pb_le(&packed, u, 4);
            pb_sub(&b, 5, &packed);
        } else if (i == 1) {
            pb_float(&b, 5, fv[i]);
        } else {
            uint32_t u;
            memcpy(&u, &fv[i], 4);
            sr_buf c;
            sr_buf_init(&c);
            pb_le(&c, u, 4);
            pb_sub(&b, 4, &c);
        }
        tensor_value(&v, "t/float", DT_FLOAT, 0, &b);
        value_record(&f, 10.0 + step, step, &v);
        step++;
    }
    /* a scalar 0 written with no values at all */
    sr_buf_init(&b);
    tensor_value(&v, "t/float", DT_FLOAT, 0, &b);
    value_record(&f, 10.0 + step, step, &v);
    step++;

    /* double: unpacked, packed, content */
    const double dv[] = {0.1, -2.0e300, 3.0};
    for (int i = 0; i < 3; i++) {
        sr_buf_init(&b);
        uint64_t u;
        memcpy(&u, &dv[i], 8);
        if (i == 0) {
            pb_double(&b, 6, dv[i]);
        } else {
            sr_buf c;
            sr_buf_init(&c);
            pb_le(&c, u, 8);
            pb_sub(&b, i == 1 ? 6 : 4, &c);
        }
        tensor_value(&v, "t/double", DT_DOUBLE, 0, &b);
        value_record(&f, 10.0 + step, step, &v);
        step++;
    }

    /* half: 1.0, -2.0, smallest subnormal, +inf (content), NaN (packed) */
    const unsigned half[] = {0x3c00, 0xc000, 0x0001, 0x7c00, 0x7e00};
    for (int i = 0; i < 5; i++) {
        sr_buf_init(&b);
        if (i < 3) {
            pb_key(&b, 13, 0);
            pb_varint(&b, half[i]);
        } else if (i == 3) {
            sr_buf c;
            sr_buf_init(&c);
            pb_le(&c, half[i], 2);
            pb_sub(&b, 4, &c);
        } else {
            sr_buf c;
            sr_buf_init(&c);
            pb_varint(&c, half[i]);
            pb_sub(&b, 13, &c);
        }
        tensor_value(&v, "t/half", DT_HALF, 0, &b);
        value_record(&f, 10.0 + step, step, &v);
        step++;
    }
    /* bfloat16: 1.0 in half_val, -0.5 as content */
    sr_buf_init(&b);
    pb_key(&b, 13, 0);
    pb_varint(&b, 0x3f80);
    tensor_value(&v, "t/bf16", DT_BFLOAT16, 0, &b);
    value_record(&f, 10.0 + step, step, &v);
    step++;
    sr_buf_init(&b);
    {
        sr_buf c;
        sr_buf_init(&c);
        pb_le(&c, 0xbf00, 2);
        pb_sub(&b, 4, &c);
    }
    tensor_value(&v, "t/bf16", DT_BFLOAT16, 0, &b);
    value_record(&f, 10.0 + step, step, &v);
    step++;

    /* Not scalars: a vector, two values, a string, content of the wrong size */
    sr_buf_init(&b);
    pb_float(&b, 5, 1.0f);
    pb_float(&b, 5, 2.0f);
    tensor_value(&v, "t/vector", DT_FLOAT, 1, &b);
    value_record(&f, 99.0, step, &v);
    sr_buf_init(&b);
    pb_float(&b, 5, 1.0f);
    pb_float(&b, 5, 2.0f);
    tensor_value(&v, "t/two", DT_FLOAT, 0, &b);
    value_record(&f, 99.0, step, &v);
    sr_buf_init(&b);
    pb_bytes(&b, 8, "text", 4);
    tensor_value(&v, "t/text", DT_STRING, 0, &b);
    value_record(&f, 99.0, step, &v);
    sr_buf_init(&b);
    pb_bytes(&b, 4, "abc", 3);
    tensor_value(&v, "t/odd", DT_FLOAT, 0, &b);
    value_record(&f, 99.0, step, &v);

    /* Several values in one event, the step after the summary, and fields
     * this reader does not know (log_message, a high field number). */
    {
        sr_buf sum, ev, v1, v2;
        sr_buf_init(&sum);
        sr_buf_init(&ev);
        sr_buf_init(&v1);
        sr_buf_init(&v2);
        pb_bytes(&v1, 1, "m/a", 3);
        pb_float(&v1, 2, 4.0f);
        pb_sub(&sum, 1, &v1);
        sr_buf_init(&b);
        pb_float(&b, 5, 5.0f);
        tensor_value(&v2, "m/b", DT_FLOAT, 0, &b);
        pb_sub(&sum, 1, &v2);
        pb_double(&ev, 1, 50.0);
        pb_bytes(&ev, 6, "\x08\x01", 2);
        pb_sub(&ev, 5, &sum);
        pb_key(&ev, 2, 0);
        pb_varint(&ev, (uint64_t)(int64_t)-7);
        pb_key(&ev, 1000, 0);
        pb_varint(&ev, 12345);
        frame_buf(&f, &ev);
    }
    write_bytes(p, f.s, f.len);
    sr_buf_free(&f);

    sr_scalars sc = {0};
    char problem[256];
    int rc = sr_tfevents_read_file(p, &sc, problem, sizeof problem);
    ck_assert_msg(rc == 0, "rc %d: %s", rc, problem);
    ck_assert_uint_eq(sc.n, 6); /* t/float t/double t/half t/bf16 m/a m/b */

    const sr_scalar_series *s = sr_scalars_find(&sc, "t/float");
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(s->n, 4);
    for (int i = 0; i < 3; i++) {
        ck_assert_double_eq(s->values[i], fv[i]);
        ck_assert_int_eq(s->steps[i], i + 1);
        ck_assert_double_eq(s->wall_times[i], 11.0 + i);
    }
    ck_assert_double_eq(s->values[3], 0.0);

    s = sr_scalars_find(&sc, "t/double");
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(s->n, 3);
    for (int i = 0; i < 3; i++)
        ck_assert_double_eq(s->values[i], dv[i]);

    s = sr_scalars_find(&sc, "t/half");
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(s->n, 5);
    ck_assert_double_eq(s->values[0], 1.0);
    ck_assert_double_eq(s->values[1], -2.0);
    ck_assert_double_eq(s->values[2], ldexp(1.0, -24));
    ck_assert(isinf(s->values[3]) && s->values[3] > 0);
    ck_assert(isnan(s->values[4]));

    s = sr_scalars_find(&sc, "t/bf16");
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(s->n, 2);
    ck_assert_double_eq(s->values[0], 1.0);
    ck_assert_double_eq(s->values[1], -0.5);

    const sr_scalar_series *a = sr_scalars_find(&sc, "m/a"), *mb = sr_scalars_find(&sc, "m/b");
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(mb);
    ck_assert_uint_eq(a->n, 1);
    ck_assert_uint_eq(mb->n, 1);
    ck_assert_double_eq(a->values[0], 4.0);
    ck_assert_double_eq(mb->values[0], 5.0);
    ck_assert_int_eq(a->steps[0], -7);
    ck_assert_int_eq(mb->steps[0], -7);
    ck_assert_double_eq(mb->wall_times[0], 50.0);
    sr_scalars_free(&sc);
    free(p);
    test_rmtree(dir);
    free(dir);
}
END_TEST

/* The same points as simple_value (the writer) and as DT_FLOAT tensors give
 * identical series. */
START_TEST(test_tensor_equals_simple_value)
{
    char *dir = test_tmpdir("tfevents-tensor-eq");
    char *pa = sr_path_join(dir, "simple"), *pb = sr_path_join(dir, "tensor");
    char err[256];
    sr_tfevents_writer *w = sr_tfevents_open(pa, 5.0, err, sizeof err);
    ck_assert_ptr_nonnull(w);
    sr_buf f;
    sr_buf_init(&f);
    version_record(&f, 5.0);
    sr_rng rng;
    sr_rng_seed(&rng, 7);
    for (int i = 0; i < 50; i++) {
        const char *tag = i % 3 ? "loss/current" : "lr/unet";
        float val = (float)sr_rng_normal(&rng);
        double wall = 6.0 + i * 0.001;
        ck_assert_int_eq(sr_tfevents_add_scalar(w, tag, i, val, wall), 0);
        sr_buf b, v;
        sr_buf_init(&b);
        pb_float(&b, 5, val);
        tensor_value(&v, tag, DT_FLOAT, 0, &b);
        value_record(&f, wall, i, &v);
    }
    ck_assert_int_eq(sr_tfevents_close(w, err, sizeof err), 0);
    write_bytes(pb, f.s, f.len);
    sr_buf_free(&f);

    sr_scalars x = {0}, y = {0};
    ck_assert_int_eq(sr_tfevents_read_file(pa, &x, NULL, 0), 0);
    ck_assert_int_eq(sr_tfevents_read_file(pb, &y, NULL, 0), 0);
    ck_assert_uint_eq(x.n, 2);
    ck_assert_uint_eq(y.n, 2);
    for (size_t t = 0; t < 2; t++) {
        ck_assert_str_eq(x.items[t].tag, y.items[t].tag);
        ck_assert_uint_eq(x.items[t].n, y.items[t].n);
        for (size_t i = 0; i < x.items[t].n; i++) {
            ck_assert_int_eq(x.items[t].steps[i], y.items[t].steps[i]);
            ck_assert_double_eq(x.items[t].values[i], y.items[t].values[i]);
            ck_assert_double_eq(x.items[t].wall_times[i], y.items[t].wall_times[i]);
        }
    }
    sr_scalars_free(&x);
    sr_scalars_free(&y);
    free(pa);
    free(pb);
    test_rmtree(dir);
    free(dir);
}
END_TEST

/* ------------------------------------------------------------------------
 * Writer
 * ------------------------------------------------------------------------ */

static const struct {
    const char *tag;
    int64_t step;
    float value;
} wpoints[] = {
    {"loss/current", 0, 0.5f},
    {"loss/average", 0, -0.25f},
    {"lr/unet", 0, 1e-4f},
    {"loss/current", 1, -1e30f},
    {"loss/current", -5, -0.0f},
    {"lr/unet", 1, FLT_MIN / 4},       /* subnormal */
    {"loss/current", 1ll << 40, 3.0f},
    {"loss/average", INT64_MIN, INFINITY},
    {"loss/average", INT64_MAX, -INFINITY},
    {"loss/epoch_average", 2, NAN},
    {"a tag with spaces/and/ünïcode", 7, 42.0f},
    {"", 8, 1.0f},
};
#define N_WPOINTS (sizeof wpoints / sizeof *wpoints)

static void write_points(const char *path)
{
    char err[256];
    sr_tfevents_writer *w = sr_tfevents_open(path, 1600000000.5, err, sizeof err);
    ck_assert_msg(w != NULL, "%s", err);
    for (size_t i = 0; i < N_WPOINTS; i++)
        ck_assert_int_eq(sr_tfevents_add_scalar(w, wpoints[i].tag, wpoints[i].step,
                                                wpoints[i].value, 1600000001.0 + (double)i / 7),
                         0);
    ck_assert_int_eq(sr_tfevents_add_scalar(w, NULL, 0, 0.0f, 0.0), -1);
    /* Nothing at the path until close. */
    struct stat st;
    ck_assert_int_ne(stat(path, &st), 0);
    ck_assert_msg(sr_tfevents_close(w, err, sizeof err) == 0, "%s", err);
}

START_TEST(test_writer_round_trip)
{
    char *dir = test_tmpdir("tfevents-writer");
    char *p1 = sr_path_join(dir, "events.out.tfevents.1"), *p2 = sr_path_join(dir, "events.2");
    write_points(p1);
    write_points(p2);

    size_t l1, l2;
    char *d1 = slurp(p1, &l1), *d2 = slurp(p2, &l2);
    ck_assert_uint_eq(l1, l2);
    ck_assert(memcmp(d1, d2, l1) == 0);
    free(d1);
    free(d2);

    sr_scalars sc = {0};
    char problem[256];
    ck_assert_int_eq(sr_tfevents_read_file(p1, &sc, problem, sizeof problem), 0);
    ck_assert_uint_eq(count_points(&sc), N_WPOINTS);
    size_t *seen = xcalloc(sc.n, sizeof *seen);
    for (size_t i = 0; i < N_WPOINTS; i++) {
        const sr_scalar_series *s = sr_scalars_find(&sc, wpoints[i].tag);
        ck_assert_ptr_nonnull(s);
        size_t k = seen[s - sc.items]++;
        ck_assert_int_eq(s->steps[k], wpoints[i].step);
        ck_assert_uint_eq(float_bits(s->values[k]), float_bits(wpoints[i].value));
        ck_assert_double_eq(s->wall_times[k], 1600000001.0 + (double)i / 7);
    }
    free(seen);
    sr_scalars_free(&sc);

    /* abort leaves nothing behind; a writer into a missing folder fails */
    char err[256];
    char *p3 = sr_path_join(dir, "aborted");
    sr_tfevents_writer *w = sr_tfevents_open(p3, 1.0, err, sizeof err);
    ck_assert_ptr_nonnull(w);
    sr_tfevents_add_scalar(w, "loss/x", 1, 1.0f, 2.0);
    sr_tfevents_abort(w);
    struct stat st;
    ck_assert_int_ne(stat(p3, &st), 0);
    char *p4 = sr_path_join(dir, "no/such/folder/events");
    ck_assert_ptr_null(sr_tfevents_open(p4, 1.0, err, sizeof err));
    ck_assert_msg(strstr(err, "no/such/folder") != NULL, "%s", err);
    /* only the two written files remain (no temporary files) */
    ck_assert_int_eq(remove(p1), 0);
    ck_assert_int_eq(remove(p2), 0);
    ck_assert_int_eq(rmdir(dir), 0);

    free(p1);
    free(p2);
    free(p3);
    free(p4);
    free(dir);
}
END_TEST

/* ------------------------------------------------------------------------
 * A trial's logs/
 * ------------------------------------------------------------------------ */

static void write_series(const char *path, const char *tag, int64_t from, int64_t to, float base,
                         double wall)
{
    char err[256];
    sr_tfevents_writer *w = sr_tfevents_open(path, wall, err, sizeof err);
    ck_assert_msg(w != NULL, "%s", err);
    for (int64_t s = from; s <= to; s++) {
        ck_assert_int_eq(sr_tfevents_add_scalar(w, tag, s, base + (float)s, wall + (double)s), 0);
        ck_assert_int_eq(sr_tfevents_add_scalar(w, "lr/unet", s, 1e-4f, wall + (double)s), 0);
        ck_assert_int_eq(sr_tfevents_add_scalar(w, "other/thing", s, 9.0f, wall + (double)s), 0);
        ck_assert_int_eq(sr_tfevents_add_scalar(w, "lossy/not", s, 9.0f, wall + (double)s), 0);
    }
    ck_assert_msg(sr_tfevents_close(w, err, sizeof err) == 0, "%s", err);
}

START_TEST(test_read_trial)
{
    char *trial = test_tmpdir("tfevents-trial");
    char *run1 = sr_path_join(trial, "logs/20250101000000/network_train");
    char *run2 = sr_path_join(trial, "logs/20250102000000/network_train");
    mkdirs(run1);
    mkdirs(run2);

    /* run 1: steps 0..9; a ".2" file then a ".10" file (natural order) that
     * rewrites steps 8..12; run 2 (resumed, later folder) rewrites 11..14. */
    char *f1 = sr_path_join(run1, "events.out.tfevents.1735689600.host.100.2");
    char *f2 = sr_path_join(run1, "events.out.tfevents.1735689600.host.100.10");
    char *f3 = sr_path_join(run2, "events.out.tfevents.1735776000.host.200.0");
    write_series(f1, "loss/current", 0, 9, 0.0f, 1000.0);
    write_series(f2, "loss/current", 8, 12, 100.0f, 2000.0);
    write_series(f3, "loss/current", 11, 14, 200.0f, 3000.0);
    /* within one file the step goes back: the later write wins */
    char *f4 = sr_path_join(run2, "events.out.tfevents.1735776001.host.201.0");
    {
        char err[256];
        sr_tfevents_writer *w = sr_tfevents_open(f4, 1.0, err, sizeof err);
        ck_assert_ptr_nonnull(w);
        sr_tfevents_add_scalar(w, "loss/epoch_average", 1, 1.0f, 1.0);
        sr_tfevents_add_scalar(w, "loss/epoch_average", 2, 2.0f, 2.0);
        sr_tfevents_add_scalar(w, "loss/epoch_average", 1, 3.0f, 3.0);
        ck_assert_int_eq(sr_tfevents_close(w, err, sizeof err), 0);
    }
    /* junk named like an event file, an unrelated file, a loop, a truncated file */
    char *junk = sr_path_join(run1, "events.out.tfevents.junk");
    write_bytes(junk, "this is not a tfrecord file\n", 28);
    char *other = sr_path_join(run1, "notes.txt");
    write_bytes(other, "hello", 5);
    char *loop = sr_path_join(run2, "loop");
    ck_assert_int_eq(symlink("../..", loop), 0);
    char *cut = sr_path_join(run1, "events.out.tfevents.0000.cut"); /* read first */
    {
        size_t len;
        char *d = slurp(f1, &len);
        write_bytes(cut, d, len - 3);
        free(d);
    }

    sr_scalars sc = {0};
    sr_problems pr;
    sr_problems_init(&pr);
    sr_tfevents_read_trial(trial, &sc, &pr);

    ck_assert_uint_eq(pr.n, 2);
    ck_assert_str_eq(pr.items[0].path, cut);
    ck_assert_msg(strstr(pr.items[0].problem, "truncated record") != NULL, "%s",
                  pr.items[0].problem);
    ck_assert_str_eq(pr.items[1].path, junk);
    ck_assert_msg(strstr(pr.items[1].problem, "not a TFRecord") != NULL, "%s",
                  pr.items[1].problem);

    ck_assert_uint_eq(sc.n, 3);
    ck_assert_ptr_null(sr_scalars_find(&sc, "other/thing"));
    ck_assert_ptr_null(sr_scalars_find(&sc, "lossy/not"));
    const sr_scalar_series *loss = sr_scalars_find(&sc, "loss/current");
    ck_assert_ptr_nonnull(loss);
    ck_assert_uint_eq(loss->n, 15);
    for (size_t i = 0; i < 15; i++) {
        int64_t s = (int64_t)i;
        ck_assert_int_eq(loss->steps[i], s);
        float want = s <= 7 ? (float)s : s <= 10 ? 100.0f + (float)s : 200.0f + (float)s;
        ck_assert_msg(loss->values[i] == want, "step %zu: %g, want %g", i, loss->values[i],
                      (double)want);
    }
    const sr_scalar_series *lr = sr_scalars_find(&sc, "lr/unet");
    ck_assert_ptr_nonnull(lr);
    ck_assert_uint_eq(lr->n, 15);
    const sr_scalar_series *ep = sr_scalars_find(&sc, "loss/epoch_average");
    ck_assert_ptr_nonnull(ep);
    ck_assert_uint_eq(ep->n, 2);
    ck_assert_int_eq(ep->steps[0], 1);
    ck_assert_double_eq(ep->values[0], 3.0);
    ck_assert_int_eq(ep->steps[1], 2);
    ck_assert_double_eq(ep->values[1], 2.0);
    sr_scalars_free(&sc);
    sr_problems_free(&pr);

    /* a trial without logs/: nothing, and no problem */
    char *bare = sr_path_join(trial, "logs/20250101000000");
    sr_tfevents_read_trial(bare, &sc, &pr);
    ck_assert_uint_eq(sc.n, 0);
    ck_assert_uint_eq(pr.n, 0);

    free(bare);
    free(cut);
    free(loop);
    free(other);
    free(junk);
    free(f4);
    free(f3);
    free(f2);
    free(f1);
    free(run2);
    free(run1);
    test_rmtree(trial);
    free(trial);
}
END_TEST

START_TEST(test_read_trial_depth_limit)
{
    char *trial = test_tmpdir("tfevents-deep");
    sr_buf path;
    sr_buf_init(&path);
    sr_buf_puts(&path, trial);
    sr_buf_puts(&path, "/logs");
    for (int i = 0; i < 20; i++)
        sr_buf_puts(&path, "/d");
    mkdirs(path.s);
    sr_buf_puts(&path, "/events.out.tfevents.deep");
    write_series(path.s, "loss/current", 0, 1, 0.0f, 1.0);
    sr_scalars sc = {0};
    sr_problems pr;
    sr_problems_init(&pr);
    sr_tfevents_read_trial(trial, &sc, &pr);
    ck_assert_uint_eq(sc.n, 0);
    ck_assert_uint_eq(pr.n, 1);
    ck_assert_msg(strstr(pr.items[0].problem, "levels deep") != NULL, "%s", pr.items[0].problem);
    sr_problems_free(&pr);
    sr_buf_free(&path);
    test_rmtree(trial);
    free(trial);
}
END_TEST

/* A link to a folder is followed only when it stays inside the logs
 * folder: one leading out (to /usr, /proc, another trial) is named and not
 * read. */
START_TEST(test_read_trial_links)
{
    char *trial = test_tmpdir("tfevents-links");
    char *outside = test_tmpdir("tfevents-outside");
    char *run = sr_path_join(trial, "logs/run1");
    mkdirs(run);
    char *ev = sr_path_join(run, "events.out.tfevents.1");
    write_series(ev, "loss/current", 0, 3, 0.0f, 1.0);
    char *far = sr_path_join(outside, "events.out.tfevents.2");
    write_series(far, "loss/average", 0, 3, 0.0f, 1.0);
    char *in_link = sr_path_join(trial, "logs/again");
    char *out_link = sr_path_join(trial, "logs/elsewhere");
    ck_assert_int_eq(symlink(run, in_link), 0);
    ck_assert_int_eq(symlink(outside, out_link), 0);
    sr_scalars sc = {0};
    sr_problems pr;
    sr_problems_init(&pr);
    sr_tfevents_read_trial(trial, &sc, &pr);
    int current = 0;
    for (size_t i = 0; i < sc.n; i++) {
        ck_assert_msg(strcmp(sc.items[i].tag, "loss/average") != 0, "the folder outside was read");
        current |= strcmp(sc.items[i].tag, "loss/current") == 0;
    }
    ck_assert_msg(current, "the run inside was not read");
    ck_assert_uint_eq(pr.n, 1);
    ck_assert_str_eq(pr.items[0].path, out_link);
    ck_assert_msg(strstr(pr.items[0].problem, "outside the logs folder") != NULL, "%s", pr.items[0].problem);
    sr_scalars_free(&sc);
    sr_problems_free(&pr);
    free(in_link);
    free(out_link);
    free(far);
    free(ev);
    free(run);
    test_rmtree(trial);
    test_rmtree(outside);
    free(trial);
    free(outside);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("tfevents");
    TCase *tc = tcase_create("crc32c");
    tcase_add_test(tc, test_crc32c_vectors);
    tcase_add_test(tc, test_crc32c_paths_agree);
    suite_add_tcase(s, tc);

    tc = tcase_create("corpus");
    tcase_add_loop_test(tc, test_corpus_file, 0, N_CORPUS);
    tcase_add_loop_test(tc, test_writer_matches_corpus, 0, N_CORPUS);
    tcase_add_test(tc, test_corpus_duplicate_steps_in_file_order);
    suite_add_tcase(s, tc);

    tc = tcase_create("damage");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_truncated_everywhere);
    tcase_add_test(tc, test_flipped_bytes);
    tcase_add_test(tc, test_absurd_lengths);
    tcase_add_test(tc, test_not_event_files);
    tcase_add_test(tc, test_undecodable_record_skipped);
    suite_add_tcase(s, tc);

    tc = tcase_create("tensors");
    tcase_add_test(tc, test_tensor_scalars);
    tcase_add_test(tc, test_tensor_equals_simple_value);
    suite_add_tcase(s, tc);

    tc = tcase_create("writer");
    tcase_add_test(tc, test_writer_round_trip);
    suite_add_tcase(s, tc);

    tc = tcase_create("trial");
    tcase_add_test(tc, test_read_trial);
    tcase_add_test(tc, test_read_trial_depth_limit);
    tcase_add_test(tc, test_read_trial_links);
    suite_add_tcase(s, tc);
    return s;
}
