/* weight_metrics.h - what a LoRA checkpoint's weights say, without the base model.
 *
 * A kohya module stores ΔW = s·U·D: D = <prefix>.lora_down.weight [r, in]
 * (a convolution [r, in, kh, kw], read as [r, in·kh·kw]), U =
 * <prefix>.lora_up.weight [out, r] (or [out, r, 1, 1]) and the scalar
 * <prefix>.alpha; s = alpha / r, and alpha = r (s = 1) when the alpha
 * tensor is missing or 0.  PEFT / diffusers modules (lora_A = D, lora_B = U)
 * have no alpha: s = 1.  ΔW is never formed; everything comes from the r×r
 * Gram matrices Gu = UᵀU and Gd = D·Dᵀ (kernels/lora_gram.h):
 *   ‖ΔW‖²_F = s²·tr(Gu·Gd)
 *   σ_i(ΔW) = |s|·sqrt(λ_i), λ_i the eigenvalues of Lᵀ·Gu·L where Gd = L·Lᵀ
 *            (Cholesky; Gd's eigen-decomposition by Jacobi rotations when it
 *            is singular), for r <= SR_WM_SPECTRUM_MAX_RANK.  The eigenvalues
 *            come from Householder tridiagonalisation and implicit QL
 *            (sr_wm_sym_eigenvalues): cyclic Jacobi gives the same numbers
 *            but costs 10-60 times more (r = 16: 53 µs, r = 64: 2 ms,
 *            r = 256: 270 ms per module on one core), which at rank 64 is
 *            more than reading and multiplying the whole checkpoint
 *   effective rank = exp(H(p)), p_i = σ_i / Σσ   (Roy & Vetterli; λ below
 *            1e-13 of the largest is rounding noise and counts as 0)
 *   ⟨ΔW1, ΔW0⟩ = s1·s0·tr((U1ᵀU0)·(D0·D1ᵀ))      (ranks may differ)
 *
 * Metrics (sr_metrics names):
 *   weight_nonfinite        NaN / ±Inf values in all F16, BF16, F32 and F64 tensors
 *   weight_delta_norm       sqrt(Σ_m ‖ΔW_m‖²) over the measured modules
 *   weight_effective_rank   mean effective rank of the measured modules
 *                           (absent when no module has one)
 *   weight_norm_unet_down, weight_norm_unet_mid, weight_norm_unet_up,
 *   weight_norm_text_encoder
 *                           the delta norm of each block (0 when it has no
 *                           module, absent when none of its modules could be
 *                           measured); weight_norm_other only when modules fall
 *                           outside these blocks
 *   weight_drift            ‖ΔW_now − ΔW_prev‖ / ‖ΔW_prev‖ against the
 *                           previous measurable checkpoint of the trial (eval
 *                           skips one of which nothing could be measured), over all
 *                           modules (one present in only one checkpoint
 *                           counts fully); absent for the first checkpoint
 *   weight_modules          modules measured
 *   weight_modules_unmeasured   modules that are not (LyCORIS, non-finite
 *                           values, unusual shapes); the reason is in
 *                           sr_wm_summary.note
 *   inspector_avg_magnitude_<g>, inspector_avg_strength_<g>
 *                           lora-inspector's "--weights" numbers
 *                           (github.com/rockerBOO/lora-inspector,
 *                           lora-inspector.py, find_vectors_weights): over
 *                           the tensors whose name ends in ".weight" in
 *                           group g, the mean of the tensor's L2 norm
 *                           sqrt(Σx²) (magnitude) and the mean of its mean
 *                           absolute value Σ|x|/n (strength).  Groups, by
 *                           name: unet = "lora_unet*" without "conv" in the
 *                           name, unet_conv = "lora_unet*" with "conv",
 *                           te = "lora_te_text_model_encoder_layers_*" or
 *                           "lora_te1_text_model_encoder_layers*",
 *                           te2 = "lora_te2_text_model_encoder_layers_*".
 *                           lora_down and lora_up count as separate tensors;
 *                           .alpha does not.  Only groups with tensors are
 *                           set (the tool prints only those), and a group
 *                           whose average is NaN (a NaN in one of its
 *                           tensors) is left out.
 *
 * Modules that the formula does not cover -- LoHa (hada_*), LoKr (lokr_*),
 * other LyCORIS tensors, DoRA scales, Tucker mid factors -- are recognised,
 * counted and named in the summary's note ("12 LoHa modules not measured");
 * their values still count for weight_nonfinite.  A module with a NaN or
 * Inf in its factors or alpha is not measured either.  Nothing here fails
 * on an unusual checkpoint: only unreadable files are errors. */
#ifndef SR_WEIGHT_METRICS_H
#define SR_WEIGHT_METRICS_H

#include "device.h"
#include "safetensors.h"
#include "sweep.h"

#include <stddef.h>
#include <stdint.h>

/* Largest rank whose singular values are computed (Jacobi); larger modules
 * still get their norm and drift, but no effective rank. */
#define SR_WM_SPECTRUM_MAX_RANK 256

typedef enum {
    SR_WM_UNET_DOWN,    /* lora_unet_down_blocks_*, SDXL lora_unet_input_blocks_* */
    SR_WM_UNET_MID,     /* lora_unet_mid_block_*, SDXL lora_unet_middle_block_* */
    SR_WM_UNET_UP,      /* lora_unet_up_blocks_*, SDXL lora_unet_output_blocks_* */
    SR_WM_TEXT_ENCODER, /* lora_te_*, lora_te1_*, lora_te2_* */
    SR_WM_OTHER         /* everything else */
} sr_wm_block;
#define SR_WM_NBLOCKS 5

typedef enum {
    SR_WM_LORA,  /* kohya lora_down / lora_up / alpha */
    SR_WM_PEFT,  /* lora_A / lora_B */
    SR_WM_LOHA,  /* LyCORIS hada_* */
    SR_WM_LOKR,  /* LyCORIS lokr_* */
    SR_WM_OTHER_FAMILY /* anything else */
} sr_wm_family;
#define SR_WM_NFAMILIES 5

/* "unet_down", "unet_mid", "unet_up", "text_encoder", "other". */
const char *sr_wm_block_name(sr_wm_block b);
/* "LoRA", "PEFT LoRA", "LoHa", "LoKr", "other". */
const char *sr_wm_family_name(sr_wm_family f);
/* The block of a module prefix (kohya names, and PEFT / diffusers names
 * such as "unet.down_blocks.0...." or "text_encoder....": dots and
 * underscores are treated alike). */
sr_wm_block sr_wm_block_of(const char *module);

typedef struct {
    char *name;              /* module prefix, e.g. lora_unet_mid_block_attentions_0_proj_in */
    sr_wm_family family;
    sr_wm_block block;
    int measured;            /* delta_norm is set */
    const char *why_not;     /* when not measured: a short reason (static string) */
    sr_dtype dtype;          /* of D (lora_down / lora_A); SR_DT_COUNT when absent */
    int rank;                /* r (D's first dimension), 0 when unknown */
    double alpha;            /* the stored alpha, NAN when there is no alpha tensor */
    double scale;            /* s used for ΔW */
    int down_ndim, up_ndim;  /* shapes as stored (the first 4 dimensions) */
    uint64_t down_shape[4];
    uint64_t up_shape[4];
    uint64_t out_features;   /* ΔW is out_features × in_features (in·kh·kw) */
    uint64_t in_features;
    double delta_norm;       /* ‖ΔW‖_F, NAN when not measured */
    double effective_rank;   /* NAN when not computed */
    uint64_t nonfinite;      /* NaN / Inf values among the module's tensors */
} sr_wm_module;

/* lora-inspector's groups. */
typedef enum { SR_WM_INSP_UNET, SR_WM_INSP_UNET_CONV, SR_WM_INSP_TE, SR_WM_INSP_TE2 } sr_wm_insp_group;
#define SR_WM_NINSP 4

typedef struct {
    uint64_t nonfinite;
    size_t n_tensors;
    size_t n_modules;
    size_t n_measured;
    size_t unmeasured[SR_WM_NFAMILIES];  /* modules not measured, by family */
    double delta_norm;
    double effective_rank;               /* NAN when no module has one */
    size_t n_effective_rank;             /* modules averaged */
    double block_norm[SR_WM_NBLOCKS];
    size_t block_modules[SR_WM_NBLOCKS]; /* measured modules per block */
    size_t block_unmeasured[SR_WM_NBLOCKS]; /* and the others */
    size_t insp_tensors[SR_WM_NINSP];
    double insp_avg_magnitude[SR_WM_NINSP];
    double insp_avg_strength[SR_WM_NINSP];
    char note[512];  /* "12 LoHa modules not measured; 1 LoRA module not measured (non-finite values)", or "" */
} sr_wm_summary;

/* One checkpoint, measured and kept in memory (the factors are needed
 * again for the drift of the next checkpoint). */
typedef struct sr_wm_ckpt sr_wm_ckpt;

/* Reads and measures a checkpoint.  The header is validated by
 * sr_st_parse on the bytes read from the same open file; the data section
 * is read once (pread) and nothing outside the validated offsets is used.
 * dev selects where the Gram matrices are formed (NULL: CPU; a failing GPU
 * falls back to the CPU with a warning on stderr).  Returns SR_ST_OK and
 * *out, or: SR_ST_INCOMPLETE (shorter than the header promises, or changed
 * while being read: being written), SR_ST_INVALID, SR_ST_IO_ERROR, each
 * with a one-line reason (without the path) in err. */
sr_st_status sr_wm_load(const char *path, const sr_device *dev, sr_wm_ckpt **out, char *err, size_t errlen);

void sr_wm_free(sr_wm_ckpt *c);

const sr_wm_summary *sr_wm_summary_of(const sr_wm_ckpt *c);

/* The modules, sorted by name (for `inspect`); returns their number. */
size_t sr_wm_modules(const sr_wm_ckpt *c, const sr_wm_module **mods);

/* 1 when the file has tensors but no module of them could be measured (not
 * a LoRA, or every module refused): its weights say nothing.  A file with
 * no tensors at all is a LoRA that changes nothing. */
int sr_wm_unmeasurable(const sr_wm_summary *s);

/* Sets every metric above except weight_drift (a value that is not finite
 * is never set, nor any norm of an unmeasurable file: none rather than
 * 0). */
void sr_wm_metrics(const sr_wm_ckpt *c, sr_metrics *m);
/* Every name sr_wm_metrics can set, and weight_drift (values 0). */
void sr_wm_metric_names(sr_metrics *names);

/* ‖ΔW_cur − ΔW_prev‖_F / ‖ΔW_prev‖_F (modules matched by name; a module
 * measured in only one of them, or whose shapes changed, counts fully).
 * Returns 0 and *drift, or -1 when ‖ΔW_prev‖ is 0 (no drift defined). */
int sr_wm_drift(const sr_wm_ckpt *cur, const sr_wm_ckpt *prev, const sr_device *dev, double *drift);

/* A trial's checkpoints, measured in order: each call measures one
 * checkpoint, fills its metrics (weight_drift against the last checkpoint
 * that was measured before it) and keeps it for the next call. */
typedef struct {
    sr_device dev;
    int has_dev;
    sr_wm_ckpt *prev;
} sr_wm_trial;

/* dev NULL: the CPU. */
void sr_wm_trial_init(sr_wm_trial *t, const sr_device *dev);
/* Returns what sr_wm_load returned; on failure the previous checkpoint is
 * kept and out is untouched, and so it is after a file of which nothing
 * could be measured (the next drift is against the one before it). */
sr_st_status sr_wm_trial_next(sr_wm_trial *t, const char *path, sr_metrics *out, char *err, size_t errlen);
void sr_wm_trial_free(sr_wm_trial *t);

/* Eigenvalues (ascending) of the symmetric n×n matrix a (row-major; only
 * its upper triangle is read), by cyclic Jacobi rotations; with vecs
 * non-NULL also the orthonormal eigenvectors, as the columns of vecs (n×n,
 * row-major).  Returns 0, or -1 when n is 0, above 4096 or a is not finite. */
int sr_wm_sym_eigen(const double *a, size_t n, double *vals, double *vecs);

/* The eigenvalues alone (ascending), by Householder tridiagonalisation and
 * implicit QL with Wilkinson shifts: O(n³) once instead of per sweep.
 * Same contract as sr_wm_sym_eigen. */
int sr_wm_sym_eigenvalues(const double *a, size_t n, double *vals);

#endif
