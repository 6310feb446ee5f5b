/* safetensors.h - reading and validating safetensors headers.
 *
 * Validation follows the reference implementation (huggingface/safetensors,
 * SafeTensors::read_metadata) rule for rule; `error` holds the name of the
 * reference's error variant so that tests can compare outcomes.  Only the
 * 8-byte length and the header are read, never the tensor data.
 *
 * Outcomes:
 *   SR_ST_INCOMPLETE  the file is shorter than it promises, so it is still
 *                     being written or was cut: fewer than 8 bytes
 *                     (HeaderTooSmall), fewer than 8 + N bytes
 *                     (InvalidHeaderLength), or fewer than 8 + N + the end
 *                     of the last tensor (MetadataIncompleteBuffer).
 *   SR_ST_INVALID     everything else the reference refuses, including
 *                     bytes after the last tensor (MetadataIncompleteBuffer)
 *                     and HeaderTooLarge, which the reference checks before
 *                     comparing N with the file size.
 *   SR_ST_IO_ERROR    open/stat/read failed; error is "IoError".
 * problem is a one-line reason without the file path.  On failure no tensors
 * or metadata are kept.  sr_st_read and sr_st_parse overwrite *st without
 * freeing it: call sr_st_free before reusing a filled struct. */
#ifndef SR_SAFETENSORS_H
#define SR_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#define SR_ST_MAX_HEADER 100000000ULL

typedef enum {
    SR_ST_OK = 0,
    SR_ST_INCOMPLETE, /* shorter than the header promises: being written or cut */
    SR_ST_INVALID,    /* anything else wrong */
    SR_ST_IO_ERROR    /* could not be opened or read */
} sr_st_status;

typedef enum {
    SR_DT_BOOL, SR_DT_F4, SR_DT_F6_E2M3, SR_DT_F6_E3M2, SR_DT_U8, SR_DT_I8,
    SR_DT_F8_E5M2, SR_DT_F8_E4M3, SR_DT_F8_E8M0, SR_DT_F8_E4M3FNUZ, SR_DT_F8_E5M2FNUZ,
    SR_DT_I16, SR_DT_U16, SR_DT_F16, SR_DT_BF16, SR_DT_I32, SR_DT_U32, SR_DT_F32,
    SR_DT_C64, SR_DT_F64, SR_DT_I64, SR_DT_U64,
    SR_DT_COUNT
} sr_dtype;

typedef struct {
    char *name;         /* UTF-8, unescaped */
    sr_dtype dtype;
    size_t ndim;
    uint64_t *shape;    /* ndim entries (NULL when ndim == 0) */
    uint64_t begin;     /* offsets relative to the data section */
    uint64_t end;
} sr_st_tensor;

typedef struct {
    char *key;
    char *value;
} sr_st_meta_entry;

typedef struct {
    sr_st_status status;
    const char *error;   /* reference variant name ("InvalidOffset", ...), NULL when ok */
    char problem[256];   /* one-line human reason, empty when ok */
    uint64_t file_size;
    uint64_t header_len; /* N */
    uint64_t data_start; /* 8 + N */
    uint64_t header_hash; /* sr_hash64 of the bytes read (length + header); set by sr_st_read */
    size_t n_tensors;
    sr_st_tensor *tensors;      /* sorted by (begin, end) */
    size_t n_meta;
    sr_st_meta_entry *meta;     /* __metadata__, in file order, duplicates resolved (last wins) */
} sr_safetensors;

/* Reads the header of a file.  Always fills *st (status tells the outcome);
 * returns 0 when the file is ok, -1 otherwise. */
int sr_st_read(const char *path, sr_safetensors *st);

/* Validates an in-memory prefix of a file: buf holds the first len bytes of a
 * file whose full size is file_size (len may be less than file_size; it must
 * cover 8 + N bytes for the header to be checked).  Returns 0 when ok. */
int sr_st_parse(const uint8_t *buf, size_t len, uint64_t file_size, sr_safetensors *st);

void sr_st_free(sr_safetensors *st);

/* Value of a __metadata__ key, or NULL. */
const char *sr_st_meta(const sr_safetensors *st, const char *key);
/* Tensor by name, or NULL. */
const sr_st_tensor *sr_st_find(const sr_safetensors *st, const char *name);

const char *sr_dtype_name(sr_dtype d);
int sr_dtype_from_name(const char *name, size_t len, sr_dtype *out); /* 0 when known */
unsigned sr_dtype_bits(sr_dtype d);

#endif
