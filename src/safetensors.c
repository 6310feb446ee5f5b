/* safetensors.c - reading and validating safetensors headers.
 *
 * The checks follow SafeTensors::read_metadata of the reference
 * implementation, in its order: framing (H1-H3), UTF-8 (H4), the JSON header
 * as serde_json and serde's derived code read it (H5-H13), then the layout of
 * the data section (L1-L6).  Rule numbers refer to
 * tests/data/safetensors/README.md.
 *
 * The header is read by a strict JSON parser of our own that keeps an
 * explicit stack instead of recursing, so no input can exhaust the C stack,
 * and that stores only what a tensor entry needs (no document tree). */
#include "config.h"

#include "safetensors.h"

#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------------
 * Data types (enum Dtype and Dtype::bitsize in the reference)
 * ------------------------------------------------------------------------ */

static const struct {
    const char *name;
    unsigned bits;
} dtype_info[SR_DT_COUNT] = {
    [SR_DT_BOOL] = {"BOOL", 8},
    [SR_DT_F4] = {"F4", 4},
    [SR_DT_F6_E2M3] = {"F6_E2M3", 6},
    [SR_DT_F6_E3M2] = {"F6_E3M2", 6},
    [SR_DT_U8] = {"U8", 8},
    [SR_DT_I8] = {"I8", 8},
    [SR_DT_F8_E5M2] = {"F8_E5M2", 8},
    [SR_DT_F8_E4M3] = {"F8_E4M3", 8},
    [SR_DT_F8_E8M0] = {"F8_E8M0", 8},
    [SR_DT_F8_E4M3FNUZ] = {"F8_E4M3FNUZ", 8},
    [SR_DT_F8_E5M2FNUZ] = {"F8_E5M2FNUZ", 8},
    [SR_DT_I16] = {"I16", 16},
    [SR_DT_U16] = {"U16", 16},
    [SR_DT_F16] = {"F16", 16},
    [SR_DT_BF16] = {"BF16", 16},
    [SR_DT_I32] = {"I32", 32},
    [SR_DT_U32] = {"U32", 32},
    [SR_DT_F32] = {"F32", 32},
    [SR_DT_C64] = {"C64", 64},
    [SR_DT_F64] = {"F64", 64},
    [SR_DT_I64] = {"I64", 64},
    [SR_DT_U64] = {"U64", 64},
};

const char *sr_dtype_name(sr_dtype d)
{
    return (unsigned)d < SR_DT_COUNT ? dtype_info[d].name : "?";
}

unsigned sr_dtype_bits(sr_dtype d)
{
    return (unsigned)d < SR_DT_COUNT ? dtype_info[d].bits : 0;
}

/* Exact, case-sensitive match: the reference's enum has no aliases. */
int sr_dtype_from_name(const char *name, size_t len, sr_dtype *out)
{
    for (int d = 0; d < SR_DT_COUNT; d++) {
        const char *known = dtype_info[d].name;
        if (strlen(known) == len && memcmp(known, name, len) == 0) {
            *out = (sr_dtype)d;
            return 0;
        }
    }
    return -1;
}

/* ------------------------------------------------------------------------
 * Outcome and messages
 * ------------------------------------------------------------------------ */

static int set_outcome(sr_safetensors *st, sr_st_status status, const char *error,
                       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Records a failure; returns -1 so that callers can `return set_outcome(...)`. */
static int set_outcome(sr_safetensors *st, sr_st_status status, const char *error,
                       const char *fmt, ...)
{
    va_list ap;
    st->status = status;
    st->error = error;
    va_start(ap, fmt);
    vsnprintf(st->problem, sizeof st->problem, fmt, ap);
    va_end(ap);
    return -1;
}

/* Length of the UTF-8 sequence that starts with byte b (1 for stray bytes). */
static size_t utf8_seq_len(unsigned char b)
{
    if (b >= 0xF0)
        return 4;
    if (b >= 0xE0)
        return 3;
    if (b >= 0xC0)
        return 2;
    return 1;
}

/* A name as it can appear inside a one-line message: control characters
 * become '?' and a long name is cut at a character boundary.  Names come from
 * the file, so they may hold newlines or be megabytes long. */
static const char *printable(const char *s, size_t len, char *out, size_t outlen)
{
    size_t i = 0, j = 0;
    while (i < len) {
        size_t n = utf8_seq_len((unsigned char)s[i]);
        if (n > len - i)
            n = len - i;
        if (j + n + 4 >= outlen) { /* room for "..." and the NUL */
            memcpy(out + j, "...", 3);
            j += 3;
            break;
        }
        for (size_t k = 0; k < n; k++) {
            unsigned char c = (unsigned char)s[i + k];
            out[j++] = (c < 0x20 || c == 0x7F) ? '?' : (char)c;
        }
        i += n;
    }
    out[j] = '\0';
    return out;
}

#define NAME_SHOWN 64

static void release_contents(sr_safetensors *st)
{
    for (size_t i = 0; i < st->n_tensors; i++) {
        free(st->tensors[i].name);
        free(st->tensors[i].shape);
    }
    free(st->tensors);
    for (size_t i = 0; i < st->n_meta; i++) {
        free(st->meta[i].key);
        free(st->meta[i].value);
    }
    free(st->meta);
    st->tensors = NULL;
    st->n_tensors = 0;
    st->meta = NULL;
    st->n_meta = 0;
}

void sr_st_free(sr_safetensors *st)
{
    if (st)
        release_contents(st);
}

const char *sr_st_meta(const sr_safetensors *st, const char *key)
{
    for (size_t i = 0; i < st->n_meta; i++)
        if (strcmp(st->meta[i].key, key) == 0)
            return st->meta[i].value;
    return NULL;
}

const sr_st_tensor *sr_st_find(const sr_safetensors *st, const char *name)
{
    for (size_t i = 0; i < st->n_tensors; i++)
        if (strcmp(st->tensors[i].name, name) == 0)
            return &st->tensors[i];
    return NULL;
}

/* ------------------------------------------------------------------------
 * Name table: duplicate tensor names and metadata keys resolve to the last
 * entry (the reference collects them into HashMaps), and a header may hold
 * a million names, so lookups are hashed.  Keys are compared with their
 * length because a \u0000 escape can put a NUL inside a name.
 * ------------------------------------------------------------------------ */

typedef struct {
    const char *s;
    size_t len;
} key_view;

typedef struct {
    size_t *slots;  /* entry index + 1; 0 marks an empty slot */
    size_t mask;    /* slot count - 1; the slot count is a power of two */
    key_view *keys; /* by entry index; the strings belong to the caller */
    size_t count;
    size_t cap;
} name_table;

static uint64_t hash_bytes(const char *s, size_t len)
{
    uint64_t h = 14695981039346656037ULL; /* FNV-1a */
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* The slot that holds key, or the empty slot where it would go. */
static size_t *table_probe(const name_table *t, const char *s, size_t len)
{
    size_t i = (size_t)hash_bytes(s, len) & t->mask;
    for (;;) {
        size_t *slot = &t->slots[i];
        if (*slot == 0)
            return slot;
        const key_view *k = &t->keys[*slot - 1];
        if (k->len == len && memcmp(k->s, s, len) == 0)
            return slot;
        i = (i + 1) & t->mask;
    }
}

/* Keeps the load at or below one half so that probes stay short. */
static void table_grow(name_table *t)
{
    size_t nslots = t->slots ? (t->mask + 1) * 2 : 64;
    free(t->slots);
    t->slots = xcalloc(nslots, sizeof *t->slots);
    t->mask = nslots - 1;
    for (size_t e = 0; e < t->count; e++)
        *table_probe(t, t->keys[e].s, t->keys[e].len) = e + 1;
}

/* Index of key; a new key gets the next index and *is_new is set.  s must
 * stay valid while the table lives. */
static size_t table_intern(name_table *t, const char *s, size_t len, int *is_new)
{
    if (!t->slots || (t->count + 1) * 2 > t->mask + 1)
        table_grow(t);
    size_t *slot = table_probe(t, s, len);
    if (*slot) {
        *is_new = 0;
        return *slot - 1;
    }
    if (t->count == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->keys = xrealloc(t->keys, t->cap * sizeof *t->keys);
    }
    t->keys[t->count] = (key_view){s, len};
    *slot = ++t->count;
    *is_new = 1;
    return t->count - 1;
}

static void table_free(name_table *t)
{
    free(t->slots);
    free(t->keys);
    memset(t, 0, sizeof *t);
}

/* ------------------------------------------------------------------------
 * JSON header parser (H5-H13)
 *
 * It accepts exactly what serde_json 1.0 + serde derive accept for
 *   struct HashMetadata { __metadata__: Option<HashMap<String, String>>,
 *                         #[serde(flatten)] tensors: HashMap<String, TensorInfo> }
 *   struct TensorInfo { dtype: Dtype, shape: Vec<usize>, data_offsets: (usize, usize) }
 * Because of the flatten, every tensor entry is first buffered as a generic
 * value and then converted, which brings some leniency that is reproduced
 * here: a TensorInfo may also be written as the array [dtype, shape,
 * data_offsets], and a dtype as {"F32": null}.  Every failure is
 * InvalidHeaderDeserialization, so the parser may stop at the first problem
 * it sees whatever order serde would use.
 * ------------------------------------------------------------------------ */

/* serde_json starts its depth budget at 128 and fails when it reaches 0, so
 * at most 127 containers may be open at once. */
#define JSON_DEPTH_BUDGET 128
#define JSON_MAX_OPEN (JSON_DEPTH_BUDGET - 1)

/* What the value about to be read means. */
enum expect {
    EX_ROOT,    /* the header itself: an object */
    EX_ANY,     /* anything, kept nowhere (unknown fields) */
    EX_META,    /* __metadata__: null or an object of strings */
    EX_STRING,  /* one __metadata__ value */
    EX_TENSOR,  /* a tensor entry: an object, or a 3-element array */
    EX_DTYPE,   /* a dtype name, or {"NAME": null} */
    EX_SHAPE,   /* an array of unsigned integers */
    EX_OFFSETS, /* an array of exactly two unsigned integers */
    EX_UINT,    /* one element of shape or data_offsets */
    EX_NULL     /* the value in {"NAME": null} */
};

/* What an open container is. */
enum role {
    RO_ROOT,
    RO_META,
    RO_TENSOR_MAP,
    RO_TENSOR_SEQ,
    RO_DTYPE_MAP,
    RO_SHAPE,
    RO_OFFSETS,
    RO_ANY_MAP,
    RO_ANY_SEQ
};

typedef struct {
    enum role role;
    int is_object;
    size_t count; /* entries or elements begun so far */
} json_frame;

/* The tensor entry being read. */
typedef struct {
    char *name;
    size_t name_len;
    int has_dtype, has_shape, has_offsets; /* object form: fields seen */
    sr_dtype dtype;
    uint64_t *shape;
    size_t ndim, shape_cap;
    uint64_t offsets[2];
} pending_tensor;

typedef struct {
    const uint8_t *start, *p, *end;
    json_frame stack[JSON_MAX_OPEN];
    size_t depth;
    sr_buf str; /* the string just read, unescaped */
    char err[240];

    sr_st_tensor *tensors; /* indexed like tensor_names */
    size_t tensors_cap;
    name_table tensor_names;
    sr_st_meta_entry *meta; /* indexed like meta_keys */
    size_t meta_cap;
    name_table meta_keys;
    int seen_metadata;

    pending_tensor cur;
    char *meta_key;
    size_t meta_key_len;
} json_parser;

static int json_error(json_parser *jp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Records the first problem with the header offset it was found at, and the
 * tensor entry it is in (cur.name is set from its key until it is stored). */
static int json_error(json_parser *jp, const char *fmt, ...)
{
    char what[160], name[NAME_SHOWN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (jp->cur.name)
        snprintf(jp->err, sizeof jp->err, "tensor '%s': %s at byte %zu",
                 printable(jp->cur.name, jp->cur.name_len, name, sizeof name), what,
                 (size_t)(jp->p - jp->start));
    else
        snprintf(jp->err, sizeof jp->err, "%s at byte %zu", what, (size_t)(jp->p - jp->start));
    return -1;
}

/* Only the four JSON whitespace bytes: no BOM, no form feed, no NUL padding. */
static void skip_ws(json_parser *jp)
{
    while (jp->p < jp->end && (*jp->p == ' ' || *jp->p == '\t' || *jp->p == '\n' || *jp->p == '\r'))
        jp->p++;
}

static int is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

static int hex_value(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int read_hex4(json_parser *jp, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        if (jp->p == jp->end)
            return json_error(jp, "EOF inside a \\u escape");
        int h = hex_value(*jp->p);
        if (h < 0)
            return json_error(jp, "invalid \\u escape");
        v = v * 16 + (unsigned)h;
        jp->p++;
    }
    *out = v;
    return 0;
}

/* \uXXXX (the 'u' already read).  A UTF-16 surrogate must come as a high
 * one immediately followed by an escaped low one; a lone one is refused. */
static int parse_unicode_escape(json_parser *jp)
{
    unsigned cp, lo;
    if (read_hex4(jp, &cp) != 0)
        return -1;
    if (cp >= 0xDC00 && cp <= 0xDFFF)
        return json_error(jp, "lone low surrogate in a \\u escape");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (jp->end - jp->p < 2 || jp->p[0] != '\\' || jp->p[1] != 'u')
            return json_error(jp, "high surrogate not followed by a \\u escape");
        jp->p += 2;
        if (read_hex4(jp, &lo) != 0)
            return -1;
        if (lo < 0xDC00 || lo > 0xDFFF)
            return json_error(jp, "high surrogate not followed by a low surrogate");
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    }
    sr_buf_put_utf8(&jp->str, cp);
    return 0;
}

static int parse_escape(json_parser *jp)
{
    jp->p++; /* the backslash */
    if (jp->p == jp->end)
        return json_error(jp, "EOF inside an escape");
    uint8_t c = *jp->p++;
    char out;
    switch (c) {
    case '"':
    case '\\':
    case '/':
        out = (char)c;
        break;
    case 'b':
        out = '\b';
        break;
    case 'f':
        out = '\f';
        break;
    case 'n':
        out = '\n';
        break;
    case 'r':
        out = '\r';
        break;
    case 't':
        out = '\t';
        break;
    case 'u':
        return parse_unicode_escape(jp);
    default:
        jp->p--;
        return json_error(jp, "invalid escape");
    }
    sr_buf_append(&jp->str, &out, 1);
    return 0;
}

/* Reads the string whose opening quote is at p into jp->str, unescaped.  The
 * header was checked as UTF-8 already, so other bytes are copied as they are;
 * raw control characters are refused as serde_json does. */
static int parse_string(json_parser *jp)
{
    jp->str.len = 0;
    sr_buf_append(&jp->str, "", 0); /* a NUL-terminated empty string */
    jp->p++;
    for (;;) {
        const uint8_t *run = jp->p;
        while (jp->p < jp->end && *jp->p != '"' && *jp->p != '\\' && *jp->p >= 0x20)
            jp->p++;
        sr_buf_append(&jp->str, run, (size_t)(jp->p - run));
        if (jp->p == jp->end)
            return json_error(jp, "EOF while parsing a string");
        if (*jp->p == '"') {
            jp->p++;
            return 0;
        }
        if (*jp->p < 0x20)
            return json_error(jp, "control character (U+0000-U+001F) inside a string");
        if (parse_escape(jp) != 0)
            return -1;
    }
}

static int parse_literal(json_parser *jp, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(jp->end - jp->p) < n || memcmp(jp->p, word, n) != 0)
        return json_error(jp, "expected a value");
    jp->p += n;
    return 0;
}

typedef struct {
    int negative;
    int is_integer;   /* neither fraction nor exponent */
    int fits_u64;     /* the integer digits fit 64 bits */
    uint64_t value;   /* valid when is_integer && fits_u64 */
    int out_of_range; /* serde_json refuses it: it rounds to an infinite double */
} json_number;

/* 2^1024 - 2^970, halfway between DBL_MAX and 2^1024: the smallest decimal
 * that rounds (ties to even) to an infinite double.  309 integer digits. */
static const char double_overflow_digits[] =
    "17976931348623158079372897140530341507993413271003782693617377898044496829276475094664901797758720"
    "70963302864166928879109465555478519404026306574886715058206819089020007083836762738548458177115317"
    "64475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880"
    "177904174497792";

/* Whether digits int_d.frac_d x 10^exp10 rounds to an infinite double, the
 * only number serde_json refuses ("number out of range").  Decided from the
 * position of the first significant digit, without floating point, so that
 * neither the locale nor the length of the literal matters. */
static int decimal_overflows_double(const uint8_t *int_d, size_t int_len, const uint8_t *frac_d,
                                    size_t frac_len, int64_t exp10)
{
    const uint8_t *a, *a_end, *b = NULL, *b_end = NULL;
    int64_t lead_exp;
    if (int_d[0] != '0') {
        a = int_d;
        a_end = int_d + int_len;
        b = frac_d;
        b_end = frac_d + frac_len;
        lead_exp = (int64_t)int_len - 1;
    } else {
        size_t k = 0;
        while (k < frac_len && frac_d[k] == '0')
            k++;
        if (k == frac_len)
            return 0; /* zero, whatever the exponent */
        a = frac_d + k;
        a_end = frac_d + frac_len;
        lead_exp = -(int64_t)k - 1;
    }
    int64_t e = lead_exp + exp10;
    if (e != 308)
        return e > 308;
    /* Same magnitude as the threshold: compare digit by digit. */
    for (size_t i = 0; double_overflow_digits[i]; i++) {
        if (a == a_end) {
            a = b;
            a_end = b_end;
            b = b_end = NULL;
        }
        if (!a || a == a_end)
            return 0; /* ran out of digits first: smaller */
        if (*a != (uint8_t)double_overflow_digits[i])
            return *a > (uint8_t)double_overflow_digits[i];
        a++;
    }
    return 1; /* equal to or above the threshold */
}

/* Caps a huge exponent; anything this large decides the outcome alone. */
#define EXPONENT_CAP 1000000000000LL

/* JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int parse_number(json_parser *jp, json_number *num)
{
    const uint8_t *p = jp->p, *end = jp->end;
    memset(num, 0, sizeof *num);
    num->is_integer = 1;
    num->fits_u64 = 1;
    if (*p == '-') {
        num->negative = 1;
        p++;
    }
    if (p == end || !is_digit(*p)) {
        jp->p = p;
        return json_error(jp, "invalid number");
    }
    const uint8_t *int_d = p;
    if (*p == '0') {
        p++;
        if (p < end && is_digit(*p)) {
            jp->p = p;
            return json_error(jp, "invalid number (leading zero)");
        }
    } else {
        for (; p < end && is_digit(*p); p++) {
            unsigned d = *p - '0';
            if (num->value > (UINT64_MAX - d) / 10)
                num->fits_u64 = 0;
            else
                num->value = num->value * 10 + d;
        }
    }
    size_t int_len = (size_t)(p - int_d);
    const uint8_t *frac_d = p;
    size_t frac_len = 0;
    if (p < end && *p == '.') {
        num->is_integer = 0;
        frac_d = ++p;
        while (p < end && is_digit(*p))
            p++;
        frac_len = (size_t)(p - frac_d);
        if (frac_len == 0) {
            jp->p = p;
            return json_error(jp, "invalid number (no digit after '.')");
        }
    }
    int64_t exp10 = 0;
    if (p < end && (*p == 'e' || *p == 'E')) {
        int exp_negative = 0;
        num->is_integer = 0;
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            exp_negative = *p++ == '-';
        if (p == end || !is_digit(*p)) {
            jp->p = p;
            return json_error(jp, "invalid number (no digit in the exponent)");
        }
        for (; p < end && is_digit(*p); p++)
            if (exp10 < EXPONENT_CAP)
                exp10 = exp10 * 10 + (*p - '0');
        if (exp_negative)
            exp10 = -exp10;
    }
    num->out_of_range = decimal_overflows_double(int_d, int_len, frac_d, frac_len, exp10);
    jp->p = p;
    return 0;
}

static const char *expect_text(enum expect ex)
{
    switch (ex) {
    case EX_ROOT:
        return "the header to be a JSON object";
    case EX_ANY:
        return "a value";
    case EX_META:
        return "__metadata__ to be an object of strings or null";
    case EX_STRING:
        return "a string as __metadata__ value";
    case EX_TENSOR:
        return "a tensor entry object {\"dtype\", \"shape\", \"data_offsets\"}";
    case EX_DTYPE:
        return "a dtype name string";
    case EX_SHAPE:
        return "shape to be an array";
    case EX_OFFSETS:
        return "data_offsets to be an array [BEGIN, END]";
    case EX_UINT:
        return "a non-negative integer below 2^64";
    case EX_NULL:
        return "null";
    }
    return "a value";
}

static int wrong_type(json_parser *jp, enum expect ex)
{
    return json_error(jp, "expected %s", expect_text(ex));
}


static json_frame *top_frame(json_parser *jp)
{
    return &jp->stack[jp->depth - 1];
}

static void show_string(const json_parser *jp, char *out, size_t outlen)
{
    printable(jp->str.s, jp->str.len, out, outlen);
}

/* A tensor entry is complete: store it, replacing an earlier entry of the
 * same name (the reference's HashMap keeps the last one, H9). */
static void commit_tensor(json_parser *jp)
{
    pending_tensor *c = &jp->cur;
    int is_new;
    size_t idx = table_intern(&jp->tensor_names, c->name, c->name_len, &is_new);
    sr_st_tensor *t;
    if (is_new) {
        if (idx == jp->tensors_cap) {
            jp->tensors_cap = jp->tensors_cap ? jp->tensors_cap * 2 : 16;
            jp->tensors = xrealloc(jp->tensors, jp->tensors_cap * sizeof *jp->tensors);
        }
        t = &jp->tensors[idx];
        t->name = c->name; /* the table's key points at it too */
    } else {
        t = &jp->tensors[idx];
        free(t->shape);
        free(c->name);
    }
    c->name = NULL;
    t->dtype = c->dtype;
    t->ndim = c->ndim;
    t->shape = NULL;
    if (c->ndim) {
        /* Hand the buffer over rather than copy it: a shape can hold tens of
         * millions of dimensions. */
        t->shape = xrealloc(c->shape, c->ndim * sizeof *t->shape);
        c->shape = NULL;
        c->shape_cap = 0;
    }
    t->begin = c->offsets[0];
    t->end = c->offsets[1];
}

/* A __metadata__ value is complete: a repeated key keeps its first place and
 * takes the last value (H7). */
static void commit_meta(json_parser *jp)
{
    int is_new;
    size_t idx = table_intern(&jp->meta_keys, jp->meta_key, jp->meta_key_len, &is_new);
    char *value = xstrndup(jp->str.s, jp->str.len);
    if (is_new) {
        if (idx == jp->meta_cap) {
            jp->meta_cap = jp->meta_cap ? jp->meta_cap * 2 : 16;
            jp->meta = xrealloc(jp->meta, jp->meta_cap * sizeof *jp->meta);
        }
        jp->meta[idx].key = jp->meta_key;
        jp->meta[idx].value = value;
    } else {
        free(jp->meta[idx].value);
        jp->meta[idx].value = value;
        free(jp->meta_key);
    }
    jp->meta_key = NULL;
}

static int take_string(json_parser *jp, enum expect ex)
{
    char shown[NAME_SHOWN];
    switch (ex) {
    case EX_ANY:
        return 0;
    case EX_STRING:
        commit_meta(jp);
        return 0;
    case EX_DTYPE:
        if (sr_dtype_from_name(jp->str.s, jp->str.len, &jp->cur.dtype) != 0) {
            show_string(jp, shown, sizeof shown);
            return json_error(jp, "unknown dtype \"%s\"", shown);
        }
        return 0;
    default:
        return wrong_type(jp, ex);
    }
}

static int take_literal(json_parser *jp, enum expect ex)
{
    uint8_t c = *jp->p;
    int is_null = c == 'n';
    if (parse_literal(jp, c == 't' ? "true" : c == 'f' ? "false" : "null") != 0)
        return -1;
    if (ex == EX_ANY)
        return 0;
    if (is_null && (ex == EX_META || ex == EX_NULL))
        return 0; /* null __metadata__ is the same as none */
    return wrong_type(jp, ex);
}

/* shape and data_offsets elements are usize: serde_json hands over
 * non-negative integers as u64; fractions, exponents, integers of 2^64 or
 * more and "-0" (since serde_json 1.0.68) arrive as floats and are refused
 * (H11, H12). */
static int take_uint(json_parser *jp, const json_number *num)
{
    if (!num->is_integer || !num->fits_u64 || num->negative)
        return wrong_type(jp, EX_UINT);
    json_frame *f = top_frame(jp);
    pending_tensor *c = &jp->cur;
    if (f->role == RO_OFFSETS) {
        c->offsets[f->count - 1] = num->value;
        return 0;
    }
    if (c->ndim == c->shape_cap) {
        c->shape_cap = c->shape_cap ? c->shape_cap * 2 : 8;
        c->shape = xrealloc(c->shape, c->shape_cap * sizeof *c->shape);
    }
    c->shape[c->ndim++] = num->value;
    return 0;
}

static int take_number(json_parser *jp, enum expect ex)
{
    json_number num;
    if (parse_number(jp, &num) != 0)
        return -1;
    if (ex == EX_UINT)
        return take_uint(jp, &num);
    if (ex != EX_ANY)
        return wrong_type(jp, ex);
    /* Unknown fields are buffered as values by serde, which parses every
     * number, so an infinite one fails even where it is never used. */
    if (num.out_of_range)
        return json_error(jp, "number out of range");
    return 0;
}

static void reset_pending_tensor(pending_tensor *c)
{
    c->has_dtype = c->has_shape = c->has_offsets = 0;
    c->ndim = 0;
    c->offsets[0] = c->offsets[1] = 0;
}

/* Which container a '{' or '[' opens where ex is expected, or -1. */
static int container_role(enum expect ex, int is_object)
{
    switch (ex) {
    case EX_ROOT:
        return is_object ? RO_ROOT : -1;
    case EX_ANY:
        return is_object ? RO_ANY_MAP : RO_ANY_SEQ;
    case EX_META:
        return is_object ? RO_META : -1;
    case EX_TENSOR:
        return is_object ? RO_TENSOR_MAP : RO_TENSOR_SEQ;
    case EX_DTYPE:
        return is_object ? RO_DTYPE_MAP : -1;
    case EX_SHAPE:
        return is_object ? -1 : RO_SHAPE;
    case EX_OFFSETS:
        return is_object ? -1 : RO_OFFSETS;
    default:
        return -1;
    }
}

static int open_container(json_parser *jp, enum expect ex, int is_object)
{
    int role = container_role(ex, is_object);
    if (role < 0)
        return wrong_type(jp, ex);
    if (jp->depth == JSON_MAX_OPEN)
        return json_error(jp, "recursion limit exceeded (more than %d nested containers)",
                          JSON_MAX_OPEN);
    if (role == RO_TENSOR_MAP || role == RO_TENSOR_SEQ)
        reset_pending_tensor(&jp->cur);
    if (role == RO_SHAPE)
        jp->cur.ndim = 0;
    jp->stack[jp->depth++] = (json_frame){(enum role)role, is_object, 0};
    jp->p++;
    return 0;
}

/* Reads one value where ex is expected.  A scalar is consumed whole; for a
 * container only the opening bracket is, and next_slot does the rest. */
static int begin_value(json_parser *jp, enum expect ex)
{
    skip_ws(jp);
    if (jp->p == jp->end)
        return json_error(jp, "EOF while parsing a value");
    switch (*jp->p) {
    case '{':
        return open_container(jp, ex, 1);
    case '[':
        return open_container(jp, ex, 0);
    case '"':
        if (parse_string(jp) != 0)
            return -1;
        return take_string(jp, ex);
    case 't':
    case 'f':
    case 'n':
        return take_literal(jp, ex);
    default:
        if (*jp->p == '-' || is_digit(*jp->p))
            return take_number(jp, ex);
        return json_error(jp, "expected a value");
    }
}

static int key_is(const json_parser *jp, const char *word)
{
    return jp->str.len == strlen(word) && memcmp(jp->str.s, word, jp->str.len) == 0;
}

/* Marks a TensorInfo field as seen; serde derive refuses a second one (H10). */
static int see_field(json_parser *jp, int *seen, const char *field)
{
    if (*seen)
        return json_error(jp, "duplicate field `%s`", field);
    *seen = 1;
    return 0;
}

static int take_root_key(json_parser *jp, enum expect *ex)
{
    /* Compared after unescaping, like serde's field matching (H8). */
    if (key_is(jp, "__metadata__")) {
        if (jp->seen_metadata)
            return json_error(jp, "duplicate field `__metadata__`");
        jp->seen_metadata = 1;
        *ex = EX_META;
        return 0;
    }
    free(jp->cur.name);
    jp->cur.name = xstrndup(jp->str.s, jp->str.len);
    jp->cur.name_len = jp->str.len;
    *ex = EX_TENSOR;
    return 0;
}

static int take_tensor_key(json_parser *jp, enum expect *ex)
{
    pending_tensor *c = &jp->cur;
    if (key_is(jp, "dtype")) {
        *ex = EX_DTYPE;
        return see_field(jp, &c->has_dtype, "dtype");
    }
    if (key_is(jp, "shape")) {
        *ex = EX_SHAPE;
        return see_field(jp, &c->has_shape, "shape");
    }
    if (key_is(jp, "data_offsets")) {
        *ex = EX_OFFSETS;
        return see_field(jp, &c->has_offsets, "data_offsets");
    }
    *ex = EX_ANY; /* unknown fields are ignored (no deny_unknown_fields) */
    return 0;
}

/* {"F32": null}: serde reads an enum from a map with a single key. */
static int take_dtype_key(json_parser *jp, const json_frame *f, enum expect *ex)
{
    char shown[NAME_SHOWN];
    if (f->count > 1)
        return json_error(jp, "a dtype object must have a single key");
    if (sr_dtype_from_name(jp->str.s, jp->str.len, &jp->cur.dtype) != 0) {
        show_string(jp, shown, sizeof shown);
        return json_error(jp, "unknown dtype \"%s\"", shown);
    }
    *ex = EX_NULL;
    return 0;
}

static int take_key(json_parser *jp, json_frame *f, enum expect *ex)
{
    switch (f->role) {
    case RO_ROOT:
        return take_root_key(jp, ex);
    case RO_META:
        free(jp->meta_key);
        jp->meta_key = xstrndup(jp->str.s, jp->str.len);
        jp->meta_key_len = jp->str.len;
        *ex = EX_STRING;
        return 0;
    case RO_TENSOR_MAP:
        return take_tensor_key(jp, ex);
    case RO_DTYPE_MAP:
        return take_dtype_key(jp, f, ex);
    default:
        *ex = EX_ANY;
        return 0;
    }
}

/* "key": of the next object entry; sets what its value means. */
static int begin_entry(json_parser *jp, json_frame *f, enum expect *ex)
{
    if (*jp->p != '"')
        return json_error(jp, "key must be a string");
    if (parse_string(jp) != 0)
        return -1;
    f->count++;
    if (take_key(jp, f, ex) != 0)
        return -1;
    skip_ws(jp);
    if (jp->p == jp->end)
        return json_error(jp, "EOF while parsing an object");
    if (*jp->p != ':')
        return json_error(jp, "expected ':'");
    jp->p++;
    return 0;
}

/* Sets what the next array element means. */
static int begin_element(json_parser *jp, json_frame *f, enum expect *ex)
{
    size_t index = f->count++;
    switch (f->role) {
    case RO_TENSOR_SEQ:
        /* serde derive reads a struct from a sequence of its fields in order */
        if (index >= 3)
            return json_error(jp, "a tensor entry array must have 3 elements");
        *ex = index == 0 ? EX_DTYPE : index == 1 ? EX_SHAPE : EX_OFFSETS;
        return 0;
    case RO_SHAPE:
        *ex = EX_UINT;
        return 0;
    case RO_OFFSETS:
        if (index >= 2)
            return json_error(jp, "data_offsets must have exactly 2 elements");
        *ex = EX_UINT;
        return 0;
    default:
        *ex = EX_ANY;
        return 0;
    }
}

static int finish_tensor_map(json_parser *jp)
{
    const pending_tensor *c = &jp->cur;
    if (!c->has_dtype)
        return json_error(jp, "missing field `dtype`");
    if (!c->has_shape)
        return json_error(jp, "missing field `shape`");
    if (!c->has_offsets)
        return json_error(jp, "missing field `data_offsets`");
    commit_tensor(jp);
    return 0;
}

/* The closing bracket of the top container was read: check it is complete. */
static int close_container(json_parser *jp)
{
    const json_frame *f = top_frame(jp);
    int rc = 0;
    switch (f->role) {
    case RO_TENSOR_MAP:
        rc = finish_tensor_map(jp);
        break;
    case RO_TENSOR_SEQ:
        if (f->count != 3)
            rc = json_error(jp, "a tensor entry array must have 3 elements");
        else
            commit_tensor(jp);
        break;
    case RO_DTYPE_MAP:
        if (f->count != 1)
            rc = json_error(jp, "a dtype object must have a single key");
        break;
    case RO_OFFSETS:
        if (f->count != 2)
            rc = json_error(jp, "data_offsets must have exactly 2 elements");
        break;
    default:
        break;
    }
    jp->depth--;
    return rc;
}

/* After a value or an opening bracket: reads separators and closing brackets
 * (finishing each container that closes) up to the next value, whose meaning
 * goes to *ex.  Sets *done once the header object has closed. */
static int next_slot(json_parser *jp, enum expect *ex, int *done)
{
    for (;;) {
        skip_ws(jp);
        if (jp->depth == 0) {
            if (jp->p != jp->end)
                return json_error(jp, "trailing characters");
            *done = 1;
            return 0;
        }
        json_frame *f = top_frame(jp);
        uint8_t closer = f->is_object ? '}' : ']';
        if (jp->p == jp->end)
            return json_error(jp, f->is_object ? "EOF while parsing an object"
                                               : "EOF while parsing a list");
        if (*jp->p == closer) {
            jp->p++;
            if (close_container(jp) != 0)
                return -1;
            continue;
        }
        if (f->count > 0) {
            if (*jp->p != ',')
                return json_error(jp, f->is_object ? "expected ',' or '}'" : "expected ',' or ']'");
            jp->p++;
            skip_ws(jp);
            if (jp->p < jp->end && *jp->p == closer)
                return json_error(jp, "trailing comma");
            if (jp->p == jp->end)
                return json_error(jp, "EOF after ','");
        }
        return f->is_object ? begin_entry(jp, f, ex) : begin_element(jp, f, ex);
    }
}

static void json_parser_init(json_parser *jp, const uint8_t *header, size_t len)
{
    memset(jp, 0, sizeof *jp);
    jp->start = jp->p = header;
    jp->end = header + len;
    sr_buf_init(&jp->str);
}

/* Frees the parser; whatever was handed to the result is no longer its. */
static void json_parser_free(json_parser *jp)
{
    for (size_t i = 0; i < jp->tensor_names.count; i++) {
        free(jp->tensors[i].name);
        free(jp->tensors[i].shape);
    }
    free(jp->tensors);
    for (size_t i = 0; i < jp->meta_keys.count; i++) {
        free(jp->meta[i].key);
        free(jp->meta[i].value);
    }
    free(jp->meta);
    table_free(&jp->tensor_names);
    table_free(&jp->meta_keys);
    free(jp->cur.name);
    free(jp->cur.shape);
    free(jp->meta_key);
    sr_buf_free(&jp->str);
}

/* Moves the tensors and metadata read into st. */
static void json_parser_hand_over(json_parser *jp, sr_safetensors *st)
{
    st->tensors = jp->tensors;
    st->n_tensors = jp->tensor_names.count;
    st->meta = jp->meta;
    st->n_meta = jp->meta_keys.count;
    jp->tensors = NULL;
    jp->meta = NULL;
    jp->tensor_names.count = 0;
    jp->meta_keys.count = 0;
}

/* H5-H13: one loop over the values of the document, no recursion. */
static int parse_header_json(json_parser *jp)
{
    enum expect ex = EX_ROOT;
    int done = 0;
    while (!done) {
        if (begin_value(jp, ex) != 0 || next_slot(jp, &ex, &done) != 0)
            return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------
 * UTF-8 (H4): the rules of Rust's str::from_utf8 (no overlong forms, no
 * surrogates, nothing above U+10FFFF).
 * ------------------------------------------------------------------------ */

/* Offset of the first byte that is not valid UTF-8, or len when all are. */
static size_t utf8_invalid_at(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint8_t c = s[i];
        size_t n;
        uint8_t lo = 0x80, hi = 0xBF; /* range of the second byte */
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            n = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 3;
            if (c == 0xE0)
                lo = 0xA0;
            else if (c == 0xED)
                hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 4;
            if (c == 0xF0)
                lo = 0x90;
            else if (c == 0xF4)
                hi = 0x8F;
        } else {
            return i;
        }
        if (len - i < n || s[i + 1] < lo || s[i + 1] > hi)
            return i;
        for (size_t k = 2; k < n; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xBF)
                return i;
        i += n;
    }
    return len;
}

/* ------------------------------------------------------------------------
 * Layout of the data section (L1-L6)
 * ------------------------------------------------------------------------ */

/* L1 sorts by (BEGIN, END); the name breaks ties so that the outcome does not
 * depend on qsort (the reference leaves ties in HashMap order). */
static int compare_tensors(const void *a, const void *b)
{
    const sr_st_tensor *x = a, *y = b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return strcmp(x->name, y->name);
}

static const char *tensor_label(const sr_st_tensor *t, char *out, size_t outlen)
{
    return printable(t->name, strlen(t->name), out, outlen);
}

/* "[2, 3]", cut short for very high ranks. */
static const char *format_shape(const sr_st_tensor *t, char *out, size_t outlen)
{
    size_t j = (size_t)snprintf(out, outlen, "[");
    for (size_t i = 0; i < t->ndim && j < outlen; i++) {
        if (i == 4 && t->ndim > 5) {
            j += (size_t)snprintf(out + j, outlen - j, ", ...");
            break;
        }
        j += (size_t)snprintf(out + j, outlen - j, "%s%" PRIu64, i ? ", " : "", t->shape[i]);
    }
    if (j < outlen)
        snprintf(out + j, outlen - j, "]");
    return out;
}

/* L2: each tensor starts where the previous one ended and does not end
 * before it begins.  This one rule catches leading holes, gaps, overlaps,
 * reversed offsets and repeated ranges. */
static int check_offsets(sr_safetensors *st, const sr_st_tensor *t, uint64_t start)
{
    char name[NAME_SHOWN];
    if (t->begin == start && t->end >= t->begin)
        return 0;
    tensor_label(t, name, sizeof name);
    if (t->end < t->begin)
        return set_outcome(st, SR_ST_INVALID, "InvalidOffset",
                           "tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64 "] end before they begin",
                           name, t->begin, t->end);
    if (t->begin > start && start == 0)
        return set_outcome(st, SR_ST_INVALID, "InvalidOffset",
                           "tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64 "] do not start at byte 0",
                           name, t->begin, t->end);
    if (t->begin > start)
        return set_outcome(st, SR_ST_INVALID, "InvalidOffset",
                           "tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64 "] leave a gap after byte %" PRIu64,
                           name, t->begin, t->end, start);
    return set_outcome(st, SR_ST_INVALID, "InvalidOffset",
                       "tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64 "] overlap the previous tensor, which ends at byte %" PRIu64,
                       name, t->begin, t->end, start);
}

/* L3: the product of the shape, left to right with checked multiplication
 * (like try_fold with checked_mul: an overflow before a 0 still fails). */
static int element_count(const sr_st_tensor *t, uint64_t *out)
{
    uint64_t n = 1;
    for (size_t i = 0; i < t->ndim; i++) {
        if (t->shape[i] != 0 && n > UINT64_MAX / t->shape[i])
            return -1;
        n *= t->shape[i];
    }
    *out = n;
    return 0;
}

/* L3-L5: the byte range holds exactly the elements of the shape. */
static int check_size(sr_safetensors *st, const sr_st_tensor *t)
{
    char name[NAME_SHOWN], shape[96];
    const char *dt = sr_dtype_name(t->dtype);
    unsigned bits = sr_dtype_bits(t->dtype);
    uint64_t n;
    if (element_count(t, &n) != 0)
        return set_outcome(st, SR_ST_INVALID, "ValidationOverflow",
                           "tensor '%s': the element count of shape %s overflows 64 bits",
                           tensor_label(t, name, sizeof name), format_shape(t, shape, sizeof shape));
    if (n > UINT64_MAX / bits)
        return set_outcome(st, SR_ST_INVALID, "ValidationOverflow",
                           "tensor '%s': %" PRIu64 " %s elements overflow 64 bits of size",
                           tensor_label(t, name, sizeof name), n, dt);
    uint64_t nbits = n * bits;
    if (nbits % 8 != 0)
        return set_outcome(st, SR_ST_INVALID, "MisalignedSlice",
                           "tensor '%s': %" PRIu64 " %s elements take %" PRIu64 " bits, not whole bytes",
                           tensor_label(t, name, sizeof name), n, dt, nbits);
    if (t->end - t->begin != nbits / 8)
        return set_outcome(st, SR_ST_INVALID, "TensorInvalidInfo",
                           "tensor '%s': %s %s needs %" PRIu64 " bytes but data_offsets [%" PRIu64
                           ", %" PRIu64 "] hold %" PRIu64,
                           tensor_label(t, name, sizeof name), dt, format_shape(t, shape, sizeof shape),
                           nbits / 8, t->begin, t->end, t->end - t->begin);
    return 0;
}

/* L6: the tensors cover the data section exactly.  A file that stops short
 * is still being written or was cut; one with bytes to spare is not. */
static int check_coverage(sr_safetensors *st, uint64_t data_end)
{
    uint64_t room = st->file_size - st->data_start;
    if (data_end == room)
        return 0;
    if (data_end > room)
        return set_outcome(st, SR_ST_INCOMPLETE, "MetadataIncompleteBuffer",
                           "tensor data ends %" PRIu64 " bytes after the header but only %" PRIu64
                           " follow it",
                           data_end, room);
    return set_outcome(st, SR_ST_INVALID, "MetadataIncompleteBuffer",
                       "%" PRIu64 " bytes follow the end of the last tensor", room - data_end);
}

static int check_layout(sr_safetensors *st)
{
    uint64_t start = 0;
    if (st->n_tensors > 1)
        qsort(st->tensors, st->n_tensors, sizeof *st->tensors, compare_tensors);
    for (size_t i = 0; i < st->n_tensors; i++) {
        const sr_st_tensor *t = &st->tensors[i];
        if (check_offsets(st, t, start) != 0 || check_size(st, t) != 0)
            return -1;
        start = t->end;
    }
    return check_coverage(st, start);
}

/* ------------------------------------------------------------------------
 * Entry points
 * ------------------------------------------------------------------------ */

static uint64_t read_le64(const uint8_t *b)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | b[i];
    return v;
}

/* H1-H3: returns 0 when the header bytes are all there. */
static int check_framing(const uint8_t *buf, size_t len, sr_safetensors *st)
{
    /* A file of fewer than 8 bytes is taken as one being written. */
    if (st->file_size < 8)
        return set_outcome(st, SR_ST_INCOMPLETE, "HeaderTooSmall",
                           "the file has %" PRIu64 " bytes, fewer than the 8 of the header length",
                           st->file_size);
    if (len < 8)
        return set_outcome(st, SR_ST_IO_ERROR, "IoError",
                           "only %zu of the first 8 bytes were given", len);
    uint64_t n = read_le64(buf);
    st->header_len = n;
    /* HeaderTooLarge comes before the comparison with the file size (H2). */
    if (n > SR_ST_MAX_HEADER)
        return set_outcome(st, SR_ST_INVALID, "HeaderTooLarge",
                           "header length %" PRIu64 " exceeds the limit of %llu bytes", n,
                           SR_ST_MAX_HEADER);
    st->data_start = 8 + n;
    if (st->data_start > st->file_size)
        return set_outcome(st, SR_ST_INCOMPLETE, "InvalidHeaderLength",
                           "header declares %" PRIu64 " bytes but the file has %" PRIu64
                           " after the length",
                           n, st->file_size - 8);
    if (len < st->data_start)
        return set_outcome(st, SR_ST_IO_ERROR, "IoError",
                           "only %zu of the %" PRIu64 " header bytes were given", len, st->data_start);
    return 0;
}

/* H4-H13: the header text; fills the tensors and metadata of st. */
static int read_header(const uint8_t *header, size_t n, sr_safetensors *st)
{
    size_t bad = utf8_invalid_at(header, n);
    if (bad != n)
        return set_outcome(st, SR_ST_INVALID, "InvalidHeader",
                           "header is not valid UTF-8 (byte %zu)", bad);
    json_parser *jp = xmalloc(sizeof *jp); /* the frame stack is a few kB */
    json_parser_init(jp, header, n);
    int rc = parse_header_json(jp);
    if (rc == 0)
        json_parser_hand_over(jp, st);
    else
        set_outcome(st, SR_ST_INVALID, "InvalidHeaderDeserialization", "invalid header JSON: %s",
                    jp->err);
    json_parser_free(jp);
    free(jp);
    return rc;
}

int sr_st_parse(const uint8_t *buf, size_t len, uint64_t file_size, sr_safetensors *st)
{
    memset(st, 0, sizeof *st);
    st->file_size = file_size;
    if (len > file_size)
        len = (size_t)file_size; /* bytes past the end are not part of the file */
    if (check_framing(buf, len, st) != 0 || read_header(buf + 8, (size_t)st->header_len, st) != 0 ||
        check_layout(st) != 0) {
        release_contents(st);
        return -1;
    }
    st->status = SR_ST_OK;
    return 0;
}

/* pread until count bytes or end of file; *got tells how many came. */
static int read_at(int fd, uint64_t offset, uint8_t *buf, size_t count, size_t *got)
{
    size_t done = 0;
    while (done < count) {
        ssize_t r = pread(fd, buf + done, count - done, (off_t)(offset + done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        done += (size_t)r;
    }
    *got = done;
    return 0;
}

static int io_failure(sr_safetensors *st, const char *what, int err)
{
    return set_outcome(st, SR_ST_IO_ERROR, "IoError", "%s: %s", what, strerror(err));
}

/* Reads the length, then the header when its length is plausible; never the
 * tensor data.  A file that shrinks while being read is judged by the bytes
 * that were there. */
static int read_header_bytes(int fd, uint64_t size, sr_safetensors *st)
{
    uint8_t prefix[8];
    size_t got;
    if (read_at(fd, 0, prefix, size < 8 ? (size_t)size : 8, &got) != 0)
        return io_failure(st, "cannot read", errno);
    if (got < 8 || read_le64(prefix) > SR_ST_MAX_HEADER || 8 + read_le64(prefix) > size)
        return sr_st_parse(prefix, got, got < 8 ? got : size, st);
    size_t n = (size_t)read_le64(prefix);
    uint8_t *buf = xmalloc(8 + n);
    memcpy(buf, prefix, 8);
    if (read_at(fd, 8, buf + 8, n, &got) != 0) {
        int err = errno;
        free(buf);
        return io_failure(st, "cannot read", err);
    }
    int rc = sr_st_parse(buf, 8 + got, got < n ? 8 + got : size, st);
    st->header_hash = sr_hash64(buf, 8 + got);
    free(buf);
    return rc;
}

int sr_st_read(const char *path, sr_safetensors *st)
{
    struct stat sb;
    memset(st, 0, sizeof *st);
    /* O_NONBLOCK: a FIFO in a regular file's place opens at once (and is
     * refused below) instead of waiting for a writer */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return io_failure(st, "cannot open", errno);
    if (fstat(fd, &sb) != 0) {
        int err = errno;
        close(fd);
        return io_failure(st, "cannot stat", err);
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return set_outcome(st, SR_ST_IO_ERROR, "IoError", "not a regular file");
    }
    int rc = read_header_bytes(fd, (uint64_t)sb.st_size, st);
    close(fd);
    return rc;
}
