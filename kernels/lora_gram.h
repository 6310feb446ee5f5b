/* lora_gram.h - Gram matrices of LoRA factors along the rank dimension.
 *
 * Plain C, shared by the C11 code and the .cu files.  Include config.h
 * first: the CUDA entry point exists only when HAVE_CUDA is defined.
 *
 * A LoRA module stores ΔW = s·U·D with D [r, n] (lora_down, a convolution
 * reshaped to [r, in·kh·kw]) and U [m, r] (lora_up).  Everything the weight
 * metrics need comes from r×r products of these factors:
 *   D·Dᵀ and UᵀU              (norm and singular values of ΔW)
 *   D0·D1ᵀ and U1ᵀU0          (the inner product of two checkpoints' ΔW)
 * so the operation is: given one or two matrices stored as raw little-endian
 * F32, F16 or BF16 bytes, row-major, form
 *   rank in rows    (D):  out = A·Bᵀ   out[i][j] = Σ_k A[i][k]·B[j][k]
 *   rank in columns (U):  out = Aᵀ·B   out[i][j] = Σ_k A[k][i]·B[k][j]
 * with B = A for a self Gram.  In the same pass the values of A are
 * checked: how many are NaN or ±Inf, Σ|x| and Σx².
 *
 * Arithmetic: every value is converted exactly to double (binary16 and
 * bfloat16 subnormals, ±Inf and NaN included), products are formed in
 * double, where the product of two converted values is always exact, and
 * summed in double.  The CPU twin sums each entry in a fixed order
 * (4 partial lanes per block of 256 k, the blocks in order), whatever the
 * number of threads or the instruction set, so its results are
 * reproducible bit for bit ($SR_LG_ISA=generic or avx2 selects a lower
 * variant than the CPU offers, for tests and benchmarks); the GPU sums in
 * another order and agrees to
 * rounding (relative differences of order 1e-15).  A NaN or Inf in a row
 * or column of A or B makes the entries that use it non-finite, as plain
 * arithmetic would. */
#ifndef SR_LORA_GRAM_H
#define SR_LORA_GRAM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Largest rank (r) a job may have: out holds r_a·r_b doubles. */
#define SR_LG_MAX_RANK 4096

typedef enum { SR_LG_F32 = 0, SR_LG_F16 = 1, SR_LG_BF16 = 2 } sr_lg_dtype;

/* A rows×cols matrix as stored in a safetensors file: row-major,
 * little-endian values of dtype.  data may have any alignment; it may be
 * NULL when rows·cols is 0. */
typedef struct {
    const void *data;
    sr_lg_dtype dtype;
    uint64_t rows;
    uint64_t cols;
} sr_lg_matrix;

/* What one pass over a matrix's values found.  sum_abs and sum_sq include
 * every value, so one NaN makes them NaN (one Inf makes them Inf). */
typedef struct {
    uint64_t nonfinite; /* NaN or ±Inf */
    double sum_abs;     /* Σ|x| */
    double sum_sq;      /* Σx² */
} sr_lg_stats;

typedef struct {
    sr_lg_matrix a;
    sr_lg_matrix b;       /* b.data == NULL and b.rows == b.cols == 0: B = A */
    int rank_in_cols;     /* 0: rank = rows (A·Bᵀ); 1: rank = columns (Aᵀ·B) */
    double *out;          /* r_a × r_b, row-major (r_a = rank of A, r_b of B) */
    sr_lg_stats *stats;   /* of A's values, or NULL */
} sr_lg_job;

/* The rank and the shared (summed-over) length of a matrix in a job. */
static inline uint64_t sr_lg_rank(const sr_lg_matrix *m, int rank_in_cols)
{
    return rank_in_cols ? m->cols : m->rows;
}
static inline uint64_t sr_lg_length(const sr_lg_matrix *m, int rank_in_cols)
{
    return rank_in_cols ? m->rows : m->cols;
}

/* 0 when the job can run: out set, known dtypes, data set when the matrix
 * has values, ranks within SR_LG_MAX_RANK, the byte size representable,
 * and for two matrices the same shared length.  Otherwise -1 and a
 * one-line reason in why (when why is not NULL). */
int sr_lg_job_check(const sr_lg_job *job, char *why, size_t whylen);

/* CPU twin: runs the jobs (in parallel with OpenMP, across jobs and along
 * the shared length of large ones) and fills every out and stats.  A self
 * Gram is exactly symmetric.  Returns 0, or -1 when a job fails
 * sr_lg_job_check (then nothing is computed). */
int sr_lora_gram_cpu(const sr_lg_job *jobs, size_t njobs);

/* The statistics alone, for tensors that are not LoRA factors: n values
 * of dtype at data (any alignment). */
void sr_lg_values_stats_cpu(const void *data, sr_lg_dtype dtype, uint64_t n, sr_lg_stats *out);

/* Value i of a raw matrix, converted exactly to float. */
float sr_lg_value(const void *data, sr_lg_dtype dtype, uint64_t i);

/* Exact conversions (every bit pattern; NaN stays NaN with its payload). */
float sr_lg_f16_to_f32(uint16_t h);
float sr_lg_bf16_to_f32(uint16_t h);

/* Bytes per value (4 or 2). */
static inline size_t sr_lg_dtype_size(sr_lg_dtype d)
{
    return d == SR_LG_F32 ? 4 : 2;
}

#ifdef HAVE_CUDA
/* GPU version of sr_lora_gram_cpu on device dev: copies every distinct
 * matrix once to the device, converts and multiplies there (double
 * accumulation), copies the results back into the jobs' out and stats.
 * Returns 0, or -1 with a one-line reason in err; nothing is left
 * allocated either way, and on failure out and stats may hold partial
 * results (the caller falls back to the twin). */
int sr_cuda_lora_gram(int dev, const sr_lg_job *jobs, size_t njobs, char *err, size_t errlen);
#endif

#ifdef __cplusplus
}
#endif

#endif
