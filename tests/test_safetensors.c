/* test_safetensors.c - safetensors header validation against the reference's
 * outcomes (tests/data/safetensors/MANIFEST.json) and the reading contract:
 * incomplete vs invalid files, metadata, deep nesting, header-only reads. */
#include "config.h"

#include "check_main.h"
#include "safetensors.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------ */

/* A safetensors file image: 8-byte little-endian length, header, data. */
static void build_file(sr_buf *out, const char *header, size_t header_len, size_t data_len)
{
    uint8_t len8[8];
    uint64_t n = header_len;
    for (int i = 0; i < 8; i++)
        len8[i] = (uint8_t)(n >> (8 * i));
    sr_buf_init(out);
    sr_buf_append(out, len8, 8);
    sr_buf_append(out, header, header_len);
    for (size_t i = 0; i < data_len; i++) {
        char b = (char)(i * 7 + 1);
        sr_buf_append(out, &b, 1);
    }
}

static void write_bytes(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot create %s", path);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

/* Parses header + data_len data bytes in memory. */
static int parse_header(const char *header, size_t data_len, sr_safetensors *st)
{
    sr_buf file;
    build_file(&file, header, strlen(header), data_len);
    int rc = sr_st_parse((const uint8_t *)file.s, file.len, file.len, st);
    sr_buf_free(&file);
    return rc;
}

static const char *status_name(sr_st_status s)
{
    switch (s) {
    case SR_ST_OK:
        return "OK";
    case SR_ST_INCOMPLETE:
        return "INCOMPLETE";
    case SR_ST_INVALID:
        return "INVALID";
    case SR_ST_IO_ERROR:
        return "IO_ERROR";
    }
    return "?";
}

/* ------------------------------------------------------------------------
 * 1. Every corpus vector gets the reference's outcome.
 * ------------------------------------------------------------------------ */

static cJSON *manifest;

static int load_manifest(void)
{
    char *path = test_srcpath("tests/data/safetensors/MANIFEST.json");
    char *text;
    size_t len;
    char err[256];
    if (sr_read_file(path, 1 << 24, &text, &len, err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s\n", path, err);
        free(path);
        return 0;
    }
    free(path);
    manifest = cJSON_Parse(text);
    free(text);
    return cJSON_IsArray(manifest) ? cJSON_GetArraySize(manifest) : 0;
}

/* Expected names vs st's tensors as sets: same count, every name found. */
static void check_tensor_names(const char *file, const cJSON *names, const sr_safetensors *st)
{
    ck_assert_msg((size_t)cJSON_GetArraySize(names) == st->n_tensors,
                  "%s: expected %d tensors, got %zu", file, cJSON_GetArraySize(names), st->n_tensors);
    const cJSON *name;
    cJSON_ArrayForEach(name, names)
    {
        ck_assert_msg(cJSON_IsString(name), "%s: bad manifest entry", file);
        ck_assert_msg(sr_st_find(st, name->valuestring) != NULL, "%s: expected tensor '%s', not found",
                      file, name->valuestring);
    }
}

/* A missing or unreadable manifest must not pass as zero vectors. */
START_TEST(test_manifest_loaded)
{
    ck_assert_msg(cJSON_IsArray(manifest), "MANIFEST.json could not be read");
    ck_assert_int_eq(cJSON_GetArraySize(manifest), 88);
}
END_TEST

START_TEST(test_manifest_vector)
{
    const cJSON *entry = cJSON_GetArrayItem(manifest, _i);
    const char *file = cJSON_GetStringValue(cJSON_GetObjectItem(entry, "file"));
    const char *expect = cJSON_GetStringValue(cJSON_GetObjectItem(entry, "expect"));
    ck_assert_msg(file && expect, "manifest entry %d is incomplete", _i);
    char *rel = xasprintf("tests/data/safetensors/%s", file);
    char *path = test_srcpath(rel);
    sr_safetensors st;
    int rc = sr_st_read(path, &st);

    if (strcmp(expect, "ok") == 0) {
        ck_assert_msg(rc == 0 && st.status == SR_ST_OK, "%s: expected ok, got %s %s (%s)", file,
                      status_name(st.status), st.error ? st.error : "-", st.problem);
        ck_assert_ptr_null(st.error);
        ck_assert_str_eq(st.problem, "");
        check_tensor_names(file, cJSON_GetObjectItem(entry, "tensors"), &st);
    } else {
        const char *want = cJSON_GetStringValue(cJSON_GetObjectItem(entry, "error"));
        ck_assert_msg(want != NULL, "%s: manifest lacks the error", file);
        ck_assert_msg(rc != 0 && st.error && strcmp(st.error, want) == 0,
                      "%s: expected error %s, got %s %s (%s)", file, want, status_name(st.status),
                      st.error ? st.error : "no error", st.problem);
        ck_assert_msg(st.status == SR_ST_INVALID || st.status == SR_ST_INCOMPLETE,
                      "%s: status %s", file, status_name(st.status));
        ck_assert_msg(st.problem[0] != '\0', "%s: no problem text", file);
        ck_assert_msg(strchr(st.problem, '\n') == NULL, "%s: problem spans lines", file);
        ck_assert_uint_eq(st.n_tensors, 0);
    }
    sr_st_free(&st);
    free(path);
    free(rel);
}
END_TEST

/* ------------------------------------------------------------------------
 * 2. A file cut short is INCOMPLETE; one with bytes to spare is INVALID.
 * ------------------------------------------------------------------------ */

static const char small_header[] =
    "{\"__metadata__\":{\"format\":\"pt\"},"
    "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
    "\"b\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[8,11]}}";
#define SMALL_DATA 11

static void expect_read(const char *path, sr_st_status status, const char *error, size_t size)
{
    sr_safetensors st;
    int rc = sr_st_read(path, &st);
    ck_assert_msg(st.status == status && (error ? st.error && strcmp(st.error, error) == 0 : !st.error),
                  "size %zu: expected %s %s, got %s %s (%s)", size, status_name(status),
                  error ? error : "-", status_name(st.status), st.error ? st.error : "-", st.problem);
    ck_assert_int_eq(rc, status == SR_ST_OK ? 0 : -1);
    sr_st_free(&st);
}

START_TEST(test_truncated_and_padded)
{
    char *dir = test_tmpdir("st_trunc");
    char *path = sr_path_join(dir, "model.safetensors");
    sr_buf file;
    size_t n = strlen(small_header);
    build_file(&file, small_header, n, SMALL_DATA);
    size_t total = file.len;

    write_bytes(path, file.s, total);
    expect_read(path, SR_ST_OK, NULL, total);

    /* Cut inside the 8 length bytes: being written, so INCOMPLETE. */
    const size_t in_length[] = {0, 1, 7};
    for (size_t i = 0; i < sizeof in_length / sizeof *in_length; i++) {
        write_bytes(path, file.s, in_length[i]);
        expect_read(path, SR_ST_INCOMPLETE, "HeaderTooSmall", in_length[i]);
    }
    /* Cut inside the header. */
    const size_t in_header[] = {8, 9, 8 + n / 2, 8 + n - 1};
    for (size_t i = 0; i < sizeof in_header / sizeof *in_header; i++) {
        write_bytes(path, file.s, in_header[i]);
        expect_read(path, SR_ST_INCOMPLETE, "InvalidHeaderLength", in_header[i]);
    }
    /* Cut inside the data. */
    const size_t in_data[] = {8 + n, 8 + n + 1, 8 + n + 8, total - 1};
    for (size_t i = 0; i < sizeof in_data / sizeof *in_data; i++) {
        write_bytes(path, file.s, in_data[i]);
        expect_read(path, SR_ST_INCOMPLETE, "MetadataIncompleteBuffer", in_data[i]);
    }
    /* One byte too many is not a file in progress. */
    sr_buf_append(&file, "x", 1);
    write_bytes(path, file.s, file.len);
    expect_read(path, SR_ST_INVALID, "MetadataIncompleteBuffer", file.len);

    sr_buf_free(&file);
    test_rmtree(dir);
    free(path);
    free(dir);
}
END_TEST

/* HeaderTooLarge is decided before the file size: not INCOMPLETE. */
START_TEST(test_header_length_limit)
{
    uint8_t buf[10] = {0};
    sr_safetensors st;
    uint64_t n = SR_ST_MAX_HEADER + 1;
    for (int i = 0; i < 8; i++)
        buf[i] = (uint8_t)(n >> (8 * i));
    ck_assert_int_eq(sr_st_parse(buf, sizeof buf, sizeof buf, &st), -1);
    ck_assert_int_eq(st.status, SR_ST_INVALID);
    ck_assert_str_eq(st.error, "HeaderTooLarge");
    sr_st_free(&st);

    n = SR_ST_MAX_HEADER;
    for (int i = 0; i < 8; i++)
        buf[i] = (uint8_t)(n >> (8 * i));
    ck_assert_int_eq(sr_st_parse(buf, sizeof buf, sizeof buf, &st), -1);
    ck_assert_int_eq(st.status, SR_ST_INCOMPLETE);
    ck_assert_str_eq(st.error, "InvalidHeaderLength");
    sr_st_free(&st);
}
END_TEST

START_TEST(test_io_errors)
{
    sr_safetensors st;
    char *dir = test_tmpdir("st_io");
    char *missing = sr_path_join(dir, "missing.safetensors");
    ck_assert_int_eq(sr_st_read(missing, &st), -1);
    ck_assert_int_eq(st.status, SR_ST_IO_ERROR);
    ck_assert_str_eq(st.error, "IoError");
    ck_assert_ptr_null(strstr(st.problem, missing));
    ck_assert(st.problem[0] != '\0');
    sr_st_free(&st);

    ck_assert_int_eq(sr_st_read(dir, &st), -1);
    ck_assert_int_eq(st.status, SR_ST_IO_ERROR);
    sr_st_free(&st);
    test_rmtree(dir);
    free(missing);
    free(dir);
}
END_TEST

/* ------------------------------------------------------------------------
 * 3. Metadata, lookup and the dtype table.
 * ------------------------------------------------------------------------ */

START_TEST(test_metadata_and_lookup)
{
    static const char header[] =
        "{\"t2\":{\"dtype\":\"BF16\",\"shape\":[],\"data_offsets\":[12,14]},"
        "\"__metadata__\":{\"name\":\"caf\\u00e9\",\"q\":\"a\\\"b\\\\c\\n\\/\","
        "\"dup\":\"1\",\"emoji\":\"\\ud83d\\ude00\",\"dup\":\"2\"},"
        "\"t1\":{\"dtype\":\"I32\",\"shape\":[1,3],\"data_offsets\":[0,12]}}";
    sr_safetensors st;
    ck_assert_msg(parse_header(header, 14, &st) == 0, "%s", st.problem);
    ck_assert_uint_eq(st.n_meta, 4);
    ck_assert_str_eq(sr_st_meta(&st, "name"), "caf\xc3\xa9");
    ck_assert_str_eq(sr_st_meta(&st, "q"), "a\"b\\c\n/");
    ck_assert_str_eq(sr_st_meta(&st, "dup"), "2");
    ck_assert_str_eq(sr_st_meta(&st, "emoji"), "\xf0\x9f\x98\x80");
    ck_assert_ptr_null(sr_st_meta(&st, "missing"));
    /* File order, with the repeated key in its first place. */
    ck_assert_str_eq(st.meta[0].key, "name");
    ck_assert_str_eq(st.meta[2].key, "dup");
    ck_assert_str_eq(st.meta[3].key, "emoji");

    ck_assert_uint_eq(st.n_tensors, 2);
    ck_assert_str_eq(st.tensors[0].name, "t1"); /* sorted by offsets */
    const sr_st_tensor *t = sr_st_find(&st, "t1");
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->dtype, SR_DT_I32);
    ck_assert_uint_eq(t->ndim, 2);
    ck_assert_uint_eq(t->shape[0], 1);
    ck_assert_uint_eq(t->shape[1], 3);
    ck_assert_uint_eq(t->begin, 0);
    ck_assert_uint_eq(t->end, 12);
    t = sr_st_find(&st, "t2");
    ck_assert_ptr_nonnull(t);
    ck_assert_uint_eq(t->ndim, 0);
    ck_assert_ptr_null(t->shape);
    ck_assert_ptr_null(sr_st_find(&st, "t3"));
    ck_assert_uint_eq(st.header_len, strlen(header));
    ck_assert_uint_eq(st.data_start, 8 + strlen(header));
    sr_st_free(&st);

    /* No __metadata__ and a null one are both empty. */
    ck_assert_int_eq(parse_header("{\"__metadata__\":null}", 0, &st), 0);
    ck_assert_uint_eq(st.n_meta, 0);
    ck_assert_ptr_null(sr_st_meta(&st, "x"));
    sr_st_free(&st);
}
END_TEST

START_TEST(test_dtype_table)
{
    static const struct {
        const char *name;
        unsigned bits;
    } want[] = {
        {"BOOL", 8},    {"F4", 4},       {"F6_E2M3", 6},     {"F6_E3M2", 6},     {"U8", 8},
        {"I8", 8},      {"F8_E5M2", 8},  {"F8_E4M3", 8},     {"F8_E8M0", 8},     {"F8_E4M3FNUZ", 8},
        {"F8_E5M2FNUZ", 8}, {"I16", 16}, {"U16", 16},        {"F16", 16},        {"BF16", 16},
        {"I32", 32},    {"U32", 32},     {"F32", 32},        {"C64", 64},        {"F64", 64},
        {"I64", 64},    {"U64", 64},
    };
    ck_assert_int_eq(SR_DT_COUNT, 22);
    ck_assert_uint_eq(sizeof want / sizeof *want, 22);
    for (int d = 0; d < SR_DT_COUNT; d++) {
        sr_dtype got;
        ck_assert_str_eq(sr_dtype_name((sr_dtype)d), want[d].name);
        ck_assert_uint_eq(sr_dtype_bits((sr_dtype)d), want[d].bits);
        ck_assert_int_eq(sr_dtype_from_name(want[d].name, strlen(want[d].name), &got), 0);
        ck_assert_int_eq(got, d);
    }
    sr_dtype got;
    ck_assert_int_eq(sr_dtype_from_name("f32", 3, &got), -1);
    ck_assert_int_eq(sr_dtype_from_name("F32", 2, &got), -1); /* "F3" */
    ck_assert_int_eq(sr_dtype_from_name("F128", 4, &got), -1);
    ck_assert_int_eq(sr_dtype_from_name("", 0, &got), -1);
}
END_TEST

/* ------------------------------------------------------------------------
 * Header JSON details the reference (serde_json + serde derive) decides.
 * ------------------------------------------------------------------------ */

#define T_U8(off) "{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[" off "]}"

static const struct {
    const char *header;
    size_t data_len;
    const char *error; /* NULL: valid */
} json_cases[] = {
    {"{\"a\":" T_U8("0,1") "}", 1, NULL},
    {" \t\r\n{\"a\":" T_U8("0,1") "} \t\r\n", 1, NULL},
    {"\f{}", 0, "InvalidHeaderDeserialization"},
    {"{}\f", 0, "InvalidHeaderDeserialization"},
    {"{} {}", 0, "InvalidHeaderDeserialization"},
    {"{,}", 0, "InvalidHeaderDeserialization"},
    {"{\"a\":" T_U8("0,1") ",}", 1, "InvalidHeaderDeserialization"},
    {"{\"a\":{\"dtype\":\"U8\",\"shape\":[1,],\"data_offsets\":[0,1]}}", 1, "InvalidHeaderDeserialization"},
    {"{\"a\" " T_U8("0,1") "}", 1, "InvalidHeaderDeserialization"},
    /* serde derive reads a struct from an array of its fields too */
    {"{\"a\":[\"U8\",[1],[0,1]]}", 1, NULL},
    {"{\"a\":[\"U8\",[1]]}", 1, "InvalidHeaderDeserialization"},
    {"{\"a\":[\"U8\",[1],[0,1],1]}", 1, "InvalidHeaderDeserialization"},
    /* and an enum from a single-key map whose value is null */
    {"{\"a\":{\"dtype\":{\"U8\":null},\"shape\":[1],\"data_offsets\":[0,1]}}", 1, NULL},
    {"{\"a\":{\"dtype\":{\"U8\":{}},\"shape\":[1],\"data_offsets\":[0,1]}}", 1, "InvalidHeaderDeserialization"},
    {"{\"a\":{\"dtype\":{},\"shape\":[1],\"data_offsets\":[0,1]}}", 1, "InvalidHeaderDeserialization"},
    {"{\"a\":{\"dtype\":{\"U8\":null,\"I8\":null},\"shape\":[1],\"data_offsets\":[0,1]}}", 1,
     "InvalidHeaderDeserialization"},
    {"{\"a\":{\"dtype\":null,\"shape\":[1],\"data_offsets\":[0,1]}}", 1, "InvalidHeaderDeserialization"},
    /* keys and values are compared after unescaping */
    {"{\"a\":{\"d\\u0074ype\":\"U\\u0038\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, NULL},
    {"{\"\\u005f_metadata__\":{\"k\":1}}", 0, "InvalidHeaderDeserialization"},
    {"{\"__metadata__\":{\"k\":\"v\"},\"__metadata__\":null}", 0, "InvalidHeaderDeserialization"},
    {"{\"__metadata__\":[]}", 0, "InvalidHeaderDeserialization"},
    {"{\"__metadata__\":{\"k\":null}}", 0, "InvalidHeaderDeserialization"},
    /* serde_json reads -0 as the float -0.0, which usize refuses */
    {"{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[-0,1]}}", 1, "InvalidHeaderDeserialization"},
    {"{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1],\"x\":[-0,-1,-9223372036854775809]}}", 1, NULL},
    {"{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[-0.0,1]}}", 1, "InvalidHeaderDeserialization"},
    {"{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,01]}}", 1, "InvalidHeaderDeserialization"},
    {"{\"a\":{\"dtype\":\"U8\",\"shape\":[18446744073709551615, 0],\"data_offsets\":[0,0]}}", 0, NULL},
    {"{\"a\":{\"dtype\":\"U8\",\"shape\":[18446744073709551616, 0],\"data_offsets\":[0,0]}}", 0,
     "InvalidHeaderDeserialization"},
    /* unknown fields must still be valid JSON with finite numbers */
    {"{\"a\":{\"x\":[1e308,-1e-400,0e999999999999,1.7976931348623157e308],"
     "\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, NULL},
    {"{\"a\":{\"x\":1e309,\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1,
     "InvalidHeaderDeserialization"},
    {"{\"a\":{\"x\":-1.7976931348623159e308,\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1,
     "InvalidHeaderDeserialization"},
    {"{\"a\":{\"x\":1.,\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, "InvalidHeaderDeserialization"},
    {"{\"a\":{\"x\":tru,\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, "InvalidHeaderDeserialization"},
    {"{\"a\":{\"x\":{\"y\":[true,false,null,\"s\"]},\"x\":2,\"dtype\":\"U8\",\"shape\":[1],"
     "\"data_offsets\":[0,1]}}", 1, NULL},
    /* strings */
    {"{\"\\ude00\":" T_U8("0,1") "}", 1, "InvalidHeaderDeserialization"},
    {"{\"\\ud83d\\u0041\":" T_U8("0,1") "}", 1, "InvalidHeaderDeserialization"},
    {"{\"\\x\":" T_U8("0,1") "}", 1, "InvalidHeaderDeserialization"},
    {"{\"\\u12g4\":" T_U8("0,1") "}", 1, "InvalidHeaderDeserialization"},
    {"{\"a\\u0000b\":" T_U8("0,1") "}", 1, NULL},
    {"{\"\xed\xa0\x80\":" T_U8("0,1") "}", 1, "InvalidHeader"},
    /* every entry is converted, even one that a later duplicate replaces */
    {"{\"a\":{\"dtype\":\"U8\"},\"a\":" T_U8("0,1") "}", 1, "InvalidHeaderDeserialization"},
    {"{\"a\":" T_U8("0,1") ",\"a\":" T_U8("1,2") "}", 2, "InvalidOffset"},
    /* layout */
    {"{\"a\":{\"dtype\":\"U8\",\"shape\":[18446744073709551615,2,0],\"data_offsets\":[0,0]}}", 0,
     "ValidationOverflow"},
    {"{\"a\":{\"dtype\":\"F6_E2M3\",\"shape\":[4],\"data_offsets\":[0,3]}}", 3, NULL},
    {"{\"a\":{\"dtype\":\"F4\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, "MisalignedSlice"},
};

START_TEST(test_json_details)
{
    sr_safetensors st;
    const char *header = json_cases[_i].header;
    const char *want = json_cases[_i].error;
    int rc = parse_header(header, json_cases[_i].data_len, &st);
    if (!want)
        ck_assert_msg(rc == 0, "%s: expected ok, got %s (%s)", header, st.error, st.problem);
    else
        ck_assert_msg(rc != 0 && st.error && strcmp(st.error, want) == 0, "%s: expected %s, got %s (%s)",
                      header, want, st.error ? st.error : "ok", st.problem);
    sr_st_free(&st);
}
END_TEST

/* ------------------------------------------------------------------------
 * 4. Deep nesting fails cleanly, at serde_json's depth.
 * ------------------------------------------------------------------------ */

/* {"a":{"x":[[...]],"dtype":...}} with `arrays` nested arrays in x. */
static char *nested_header(size_t arrays, int closed)
{
    sr_buf b;
    sr_buf_init(&b);
    sr_buf_puts(&b, "{\"a\":{\"x\":");
    for (size_t i = 0; i < arrays; i++)
        sr_buf_append(&b, "[", 1);
    if (closed) {
        for (size_t i = 0; i < arrays; i++)
            sr_buf_append(&b, "]", 1);
        sr_buf_puts(&b, ",\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]");
    }
    sr_buf_puts(&b, "}}");
    return sr_buf_steal(&b);
}

START_TEST(test_nesting_bomb)
{
    sr_safetensors st;
    char *header = nested_header(100000, 0);
    ck_assert_int_eq(parse_header(header, 1, &st), -1);
    ck_assert_int_eq(st.status, SR_ST_INVALID);
    ck_assert_str_eq(st.error, "InvalidHeaderDeserialization");
    sr_st_free(&st);
    free(header);

    /* Balanced, too deep: still refused. */
    header = nested_header(100000, 1);
    ck_assert_int_eq(parse_header(header, 1, &st), -1);
    ck_assert_str_eq(st.error, "InvalidHeaderDeserialization");
    sr_st_free(&st);
    free(header);

    /* serde_json allows 127 open containers: root + entry + 125 arrays. */
    header = nested_header(125, 1);
    ck_assert_msg(parse_header(header, 1, &st) == 0, "%s", st.problem);
    sr_st_free(&st);
    free(header);
    header = nested_header(126, 1);
    ck_assert_int_eq(parse_header(header, 1, &st), -1);
    ck_assert_str_eq(st.error, "InvalidHeaderDeserialization");
    sr_st_free(&st);
    free(header);
}
END_TEST

/* ------------------------------------------------------------------------
 * 5. Only the header is read: a 2 GiB sparse data section costs nothing.
 * ------------------------------------------------------------------------ */

START_TEST(test_header_only_read)
{
    static const char header[] =
        "{\"big\":{\"dtype\":\"U8\",\"shape\":[2147483648],\"data_offsets\":[0,2147483648]}}";
    char *dir = test_tmpdir("st_sparse");
    char *path = sr_path_join(dir, "big.safetensors");
    sr_buf file;
    build_file(&file, header, strlen(header), 0);
    write_bytes(path, file.s, file.len);
    off_t size = (off_t)file.len + 2147483648LL;
    if (truncate(path, size) != 0) {
        fprintf(stderr, "# skipped: cannot make a 2 GiB sparse file here\n");
    } else {
        struct timespec t0, t1;
        sr_safetensors st;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int rc = sr_st_read(path, &st);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        ck_assert_msg(rc == 0, "%s %s", st.error, st.problem);
        ck_assert_uint_eq(st.file_size, (uint64_t)size);
        ck_assert_uint_eq(st.n_tensors, 1);
        ck_assert_uint_eq(st.tensors[0].end, 2147483648ULL);
        double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        ck_assert_msg(secs < 1.0, "reading the header took %.3f s", secs);
        sr_st_free(&st);
    }
    sr_buf_free(&file);
    test_rmtree(dir);
    free(path);
    free(dir);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("safetensors");
    TCase *tc = tcase_create("corpus");
    tcase_add_loop_test(tc, test_manifest_vector, 0, load_manifest());
    tcase_add_test(tc, test_manifest_loaded);
    suite_add_tcase(s, tc);

    tc = tcase_create("reading");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_truncated_and_padded);
    tcase_add_test(tc, test_header_length_limit);
    tcase_add_test(tc, test_io_errors);
    tcase_add_test(tc, test_header_only_read);
    suite_add_tcase(s, tc);

    tc = tcase_create("header");
    tcase_add_test(tc, test_metadata_and_lookup);
    tcase_add_test(tc, test_dtype_table);
    tcase_add_loop_test(tc, test_json_details, 0, (int)(sizeof json_cases / sizeof *json_cases));
    tcase_add_test(tc, test_nesting_bomb);
    suite_add_tcase(s, tc);
    return s;
}
