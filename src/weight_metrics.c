/* weight_metrics.c - norms, spectra and drift of LoRA updates from their factors.
 *
 * A checkpoint is read once: the header through sr_st_parse on the bytes of
 * the open file, then the whole data section with pread.  Tensors are
 * grouped into modules by name, every measurable module gets two Gram jobs
 * (Gd = D·Dᵀ, Gu = UᵀU) that run together on the selected device, and the
 * r×r algebra (norm, Cholesky, Jacobi) runs per module in parallel.  The
 * data stays in memory with the checkpoint so that the next checkpoint's
 * drift can form the cross Grams U1ᵀU0 and D0·D1ᵀ. */
#include "config.h"

#include "weight_metrics.h"
#include "lora_gram.h"
#include "kernels.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---------------------------------------------------------------------------
 * Names
 * ------------------------------------------------------------------------- */

const char *sr_wm_block_name(sr_wm_block b)
{
    switch (b) {
    case SR_WM_UNET_DOWN: return "unet_down";
    case SR_WM_UNET_MID: return "unet_mid";
    case SR_WM_UNET_UP: return "unet_up";
    case SR_WM_TEXT_ENCODER: return "text_encoder";
    case SR_WM_OTHER: break;
    }
    return "other";
}

const char *sr_wm_family_name(sr_wm_family f)
{
    switch (f) {
    case SR_WM_LORA: return "LoRA";
    case SR_WM_PEFT: return "PEFT LoRA";
    case SR_WM_LOHA: return "LoHa";
    case SR_WM_LOKR: return "LoKr";
    case SR_WM_OTHER_FAMILY: break;
    }
    return "other";
}

/* s starts with word, where '_' in word also matches '.', and the word ends
 * there (end of s, '_' or '.').  Returns what follows the separator, or
 * NULL. */
static const char *eat_word(const char *s, const char *word)
{
    for (; *word; word++, s++) {
        if (*word == '_' ? (*s != '_' && *s != '.') : *s != *word)
            return NULL;
    }
    if (*s == '\0')
        return s;
    if (*s == '_' || *s == '.')
        return s + 1;
    return NULL;
}

sr_wm_block sr_wm_block_of(const char *module)
{
    const char *rest;
    if (!module)
        return SR_WM_OTHER;
    if (eat_word(module, "lora_te") || eat_word(module, "lora_te1") || eat_word(module, "lora_te2"))
        return SR_WM_TEXT_ENCODER;
    if ((rest = eat_word(module, "lora_unet")) == NULL) {
        /* PEFT / diffusers: [base_model.model.][unet.]down_blocks..., text_encoder[_2]... */
        rest = module;
        const char *p;
        if ((p = eat_word(rest, "base_model_model")) != NULL)
            rest = p;
        if (eat_word(rest, "text_encoder") || eat_word(rest, "text_encoder_2") || eat_word(rest, "te") ||
            eat_word(rest, "te1") || eat_word(rest, "te2"))
            return SR_WM_TEXT_ENCODER;
        if ((p = eat_word(rest, "unet")) != NULL)
            rest = p;
    }
    if (eat_word(rest, "down_blocks") || eat_word(rest, "input_blocks"))
        return SR_WM_UNET_DOWN;
    if (eat_word(rest, "mid_block") || eat_word(rest, "middle_block"))
        return SR_WM_UNET_MID;
    if (eat_word(rest, "up_blocks") || eat_word(rest, "output_blocks"))
        return SR_WM_UNET_UP;
    return SR_WM_OTHER;
}

/* ---------------------------------------------------------------------------
 * Tensor kinds
 * ------------------------------------------------------------------------- */

typedef enum {
    T_DOWN, T_UP, T_ALPHA, T_MID, T_DORA,
    T_PEFT_A, T_PEFT_B, T_PEFT_MAG,
    T_LOHA, T_LOKR, T_LYCO_OTHER, T_UNKNOWN
} tensor_kind;

static const struct {
    const char *suffix;
    tensor_kind kind;
} kinds[] = {
    {".lora_down.weight", T_DOWN},   {".lora_up.weight", T_UP},     {".alpha", T_ALPHA},
    {".lora_mid.weight", T_MID},     {".dora_scale", T_DORA},
    {".lora_A.weight", T_PEFT_A},    {".lora_B.weight", T_PEFT_B},  {".lora_magnitude_vector", T_PEFT_MAG},
    {".lora_magnitude_vector.weight", T_PEFT_MAG},
    {".hada_w1_a", T_LOHA},          {".hada_w1_b", T_LOHA},        {".hada_w2_a", T_LOHA},
    {".hada_w2_b", T_LOHA},          {".hada_t1", T_LOHA},          {".hada_t2", T_LOHA},
    {".lokr_w1", T_LOKR},            {".lokr_w1_a", T_LOKR},        {".lokr_w1_b", T_LOKR},
    {".lokr_w2", T_LOKR},            {".lokr_w2_a", T_LOKR},        {".lokr_w2_b", T_LOKR},
    {".lokr_t2", T_LOKR},
    {".diff", T_LYCO_OTHER},         {".diff_b", T_LYCO_OTHER},     {".oft_blocks", T_LYCO_OTHER},
    {".oft_diag", T_LYCO_OTHER},     {".w_norm", T_LYCO_OTHER},     {".b_norm", T_LYCO_OTHER},
};

/* The kind of a tensor and the length of its module prefix. */
static tensor_kind classify(const char *name, size_t *prefix_len)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        size_t m = strlen(kinds[i].suffix);
        if (n > m && memcmp(name + n - m, kinds[i].suffix, m) == 0) {
            *prefix_len = n - m;
            return kinds[i].kind;
        }
    }
    *prefix_len = n;
    return T_UNKNOWN;
}

static int lg_dtype(sr_dtype d, sr_lg_dtype *out)
{
    switch (d) {
    case SR_DT_F16: *out = SR_LG_F16; return 0;
    case SR_DT_BF16: *out = SR_LG_BF16; return 0;
    case SR_DT_F32: *out = SR_LG_F32; return 0;
    default: return -1;
    }
}

static uint64_t numel(const sr_st_tensor *t)
{
    uint64_t n = 1;
    for (size_t i = 0; i < t->ndim; i++)
        n *= t->shape[i]; /* cannot overflow: validated against the file size */
    return n;
}

/* ---------------------------------------------------------------------------
 * The checkpoint
 * ------------------------------------------------------------------------- */

typedef struct {
    long down, up, alpha; /* tensor indexes, -1 when absent */
    size_t t0, nt;        /* all its tensors: tensor_of[t0 .. t0+nt) */
    int has_mid, has_dora, has_unknown, has_kohya, has_peft;
    int gram_ok;          /* structurally measurable: has Gram jobs */
    sr_lg_matrix D, U;    /* views into the data section (D [r, n], U [m, r]) */
    double norm2;         /* ‖ΔW‖², when measured */
} module_data;

struct sr_wm_ckpt {
    sr_safetensors st;
    unsigned char *data; /* the data section */
    uint64_t data_len;
    size_t pinned_cap;   /* > 0: data is page-locked memory of this size */
    size_t n_modules;
    sr_wm_module *mods;
    module_data *md;
    size_t *tensor_of;   /* tensor indexes grouped by module */
    sr_lg_stats *tstats; /* per tensor */
    unsigned char *has_tstats;
    sr_wm_summary sum;
};

static void set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* pread until count bytes or end of file; *got tells how many came. */
static int read_at(int fd, uint64_t offset, unsigned char *buf, size_t count, size_t *got)
{
    size_t done = 0;
    while (done < count) {
        size_t want = count - done;
        if (want > ((size_t)1 << 30))
            want = (size_t)1 << 30;
        ssize_t r = pread(fd, buf + done, want, (off_t)(offset + done));
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

/* The buffer for a data section: page-locked when the Grams run on a GPU
 * (the copy to the device then runs at full bus speed, with no staging),
 * plain memory otherwise or when none can be had.  *pinned_cap is the
 * page-locked size, 0 for plain memory. */
static unsigned char *data_alloc(size_t len, int want_pinned, size_t *pinned_cap)
{
    *pinned_cap = 0;
#ifdef HAVE_CUDA
    if (want_pinned) {
        size_t cap = 0;
        unsigned char *p = sr_cuda_pinned_alloc(len ? len : 1, &cap);
        if (p) {
            *pinned_cap = cap;
            return p;
        }
    }
#else
    (void)want_pinned;
#endif
    return malloc(len ? len : 1);
}

static void data_free(unsigned char *p, size_t pinned_cap)
{
#ifdef HAVE_CUDA
    if (pinned_cap > 0) {
        sr_cuda_pinned_free(p, pinned_cap);
        return;
    }
#else
    (void)pinned_cap;
#endif
    free(p);
}

/* read_at for a large count, in 8 MiB pieces read by all threads (a
 * single reader copies from the page cache at a fraction of the memory
 * bandwidth).  *got is the bytes read up to the first short piece. */
static int read_at_parallel(int fd, uint64_t offset, unsigned char *buf, size_t count, size_t *got)
{
    const size_t piece = (size_t)8 << 20;
    const size_t npieces = count / piece + (count % piece != 0);
    if (npieces < 4)
        return read_at(fd, offset, buf, count, got);
    size_t first_short = npieces; /* the lowest piece that came short */
    int failed = 0, saved_errno = 0;
#pragma omp parallel for schedule(dynamic, 1)
    for (size_t i = 0; i < npieces; i++) {
        size_t want = i + 1 < npieces ? piece : count - i * piece, n = 0;
        int rc = read_at(fd, offset + i * piece, buf + i * piece, want, &n);
#pragma omp critical(sr_wm_read)
        {
            if (rc != 0 && !failed) {
                failed = 1;
                saved_errno = errno;
            }
            if (rc == 0 && n < want && i < first_short)
                first_short = i;
        }
    }
    if (failed) {
        errno = saved_errno;
        return -1;
    }
    *got = first_short == npieces ? count : first_short * piece;
    return 0;
}

static uint64_t le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* Header (validated by sr_st_parse) and data section of the open file fd. */
static sr_st_status read_checkpoint(int fd, int want_pinned, sr_safetensors *st, unsigned char **data,
                                    size_t *pinned_cap, char *err, size_t errlen)
{
    struct stat sb;
    *data = NULL;
    memset(st, 0, sizeof *st);
    if (fstat(fd, &sb) != 0) {
        set_err(err, errlen, "cannot stat: %s", strerror(errno));
        return SR_ST_IO_ERROR;
    }
    if (!S_ISREG(sb.st_mode)) {
        set_err(err, errlen, "not a regular file");
        return SR_ST_IO_ERROR;
    }
    uint64_t size = (uint64_t)sb.st_size;
    unsigned char prefix[8];
    size_t got;
    if (read_at(fd, 0, prefix, size < 8 ? (size_t)size : 8, &got) != 0) {
        set_err(err, errlen, "cannot read: %s", strerror(errno));
        return SR_ST_IO_ERROR;
    }
    int rc;
    if (got < 8 || le64(prefix) > SR_ST_MAX_HEADER || 8 + le64(prefix) > size) {
        rc = sr_st_parse(prefix, got, got < 8 ? got : size, st);
    } else {
        size_t n = (size_t)le64(prefix);
        unsigned char *hdr = xmalloc(8 + n);
        memcpy(hdr, prefix, 8);
        if (read_at(fd, 8, hdr + 8, n, &got) != 0) {
            int e = errno;
            free(hdr);
            set_err(err, errlen, "cannot read: %s", strerror(e));
            return SR_ST_IO_ERROR;
        }
        rc = sr_st_parse(hdr, 8 + got, got < n ? 8 + got : size, st);
        free(hdr);
    }
    if (rc != 0) {
        sr_st_status s = st->status == SR_ST_OK ? SR_ST_INVALID : st->status;
        set_err(err, errlen, "%s", st->problem[0] ? st->problem : "invalid safetensors header");
        sr_st_free(st);
        memset(st, 0, sizeof *st);
        return s;
    }

    /* The data section: exactly up to the end of the last tensor (the
     * validation refuses trailing bytes). */
    uint64_t len = st->file_size - st->data_start;
    if (len > (uint64_t)SIZE_MAX - 64) {
        set_err(err, errlen, "data section of %llu bytes is too large", (unsigned long long)len);
        sr_st_free(st);
        return SR_ST_INVALID;
    }
    unsigned char *buf = data_alloc((size_t)len, want_pinned, pinned_cap);
    if (!buf) {
        set_err(err, errlen, "cannot hold %llu bytes of tensor data", (unsigned long long)len);
        sr_st_free(st);
        return SR_ST_IO_ERROR;
    }
    if (read_at_parallel(fd, st->data_start, buf, (size_t)len, &got) != 0) {
        int e = errno;
        data_free(buf, *pinned_cap);
        sr_st_free(st);
        set_err(err, errlen, "cannot read: %s", strerror(e));
        return SR_ST_IO_ERROR;
    }
    struct stat sb2;
    if (got < len || fstat(fd, &sb2) != 0 || sb2.st_size != sb.st_size || sb2.st_mtim.tv_sec != sb.st_mtim.tv_sec ||
        sb2.st_mtim.tv_nsec != sb.st_mtim.tv_nsec) {
        data_free(buf, *pinned_cap);
        sr_st_free(st);
        set_err(err, errlen, "changed while being read (still being written?)");
        return SR_ST_INCOMPLETE;
    }
    *data = buf;
    return SR_ST_OK;
}

/* ---------------------------------------------------------------------------
 * Small dense algebra (r×r, row-major, double)
 * ------------------------------------------------------------------------- */

/* y += a·x and x·y over n doubles, two lanes at a time (SSE2 / NEON
 * registers; the build's -O2 does not vectorise loops of unknown length). */
typedef double v2d __attribute__((vector_size(16)));

static inline v2d ld2(const double *p)
{
    v2d v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void st2(double *p, v2d v)
{
    memcpy(p, &v, sizeof v);
}

static void axpy(double *restrict y, double a, const double *restrict x, size_t n)
{
    const v2d va = {a, a};
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        st2(y + i, ld2(y + i) + va * ld2(x + i));
        st2(y + i + 2, ld2(y + i + 2) + va * ld2(x + i + 2));
    }
    for (; i < n; i++)
        y[i] += a * x[i];
}

static double dot(const double *x, const double *y, size_t n)
{
    v2d s0 = {0.0, 0.0}, s1 = {0.0, 0.0};
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += ld2(x + i) * ld2(y + i);
        s1 += ld2(x + i + 2) * ld2(y + i + 2);
    }
    double s = (s0[0] + s0[1]) + (s1[0] + s1[1]);
    for (; i < n; i++)
        s += x[i] * y[i];
    return s;
}

static void sort_eigen(double *vals, double *vecs, size_t n)
{
    /* Selection sort: n is small, and vecs columns move with their values. */
    for (size_t i = 0; i + 1 < n; i++) {
        size_t m = i;
        for (size_t j = i + 1; j < n; j++)
            if (vals[j] < vals[m])
                m = j;
        if (m == i)
            continue;
        double t = vals[i];
        vals[i] = vals[m];
        vals[m] = t;
        if (vecs)
            for (size_t k = 0; k < n; k++) {
                t = vecs[k * n + i];
                vecs[k * n + i] = vecs[k * n + m];
                vecs[k * n + m] = t;
            }
    }
}

int sr_wm_sym_eigen(const double *a_in, size_t n, double *vals, double *vecs)
{
    if (n == 0 || n > 4096 || !a_in || !vals)
        return -1;
    for (size_t i = 0; i < n * n; i++)
        if (!isfinite(a_in[i]))
            return -1;
    double *a = xmalloc(n * n * sizeof *a);
    /* Symmetrise: the upper triangle is taken as the matrix. */
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            a[i * n + j] = j >= i ? a_in[i * n + j] : a_in[j * n + i];
    if (vecs)
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++)
                vecs[i * n + j] = i == j ? 1.0 : 0.0;

    for (int sweep = 0; sweep < 100; sweep++) {
        double off = 0.0, diag = 0.0;
        for (size_t p = 0; p < n; p++) {
            diag += a[p * n + p] * a[p * n + p];
            for (size_t q = p + 1; q < n; q++)
                off += a[p * n + q] * a[p * n + q];
        }
        /* Converged: the off-diagonal part is below 1e-15 of the diagonal
         * in norm (the eigenvalues are then the diagonal to that accuracy). */
        if (off == 0.0 || off <= 1e-30 * diag)
            break;
        for (size_t p = 0; p + 1 < n; p++) {
            for (size_t q = p + 1; q < n; q++) {
                double *rp = a + p * n, *rq = a + q * n;
                double apq = rp[q];
                if (apq == 0.0)
                    continue;
                double app = rp[p], aqq = rq[q];
                double g = 100.0 * fabs(apq);
                if (sweep > 3 && fabs(app) + g == fabs(app) && fabs(aqq) + g == fabs(aqq)) {
                    rp[q] = rq[p] = 0.0;
                    continue;
                }
                double t;
                double h = aqq - app;
                if (fabs(h) + g == fabs(h)) {
                    t = apq / h;
                } else {
                    double theta = 0.5 * h / apq;
                    t = 1.0 / (fabs(theta) + sqrt(1.0 + theta * theta));
                    if (theta < 0.0)
                        t = -t;
                }
                double c = 1.0 / sqrt(1.0 + t * t), s = t * c, tau = s / (1.0 + c);
                /* Rows p and q (contiguous), then the four entries that the
                 * row formula does not cover, then the columns by symmetry. */
                for (size_t k = 0; k < n; k++) {
                    double akp = rp[k], akq = rq[k];
                    rp[k] = akp - s * (akq + akp * tau);
                    rq[k] = akq + s * (akp - akq * tau);
                }
                rp[p] = app - t * apq;
                rq[q] = aqq + t * apq;
                rp[q] = rq[p] = 0.0;
                for (size_t k = 0; k < n; k++) {
                    a[k * n + p] = rp[k];
                    a[k * n + q] = rq[k];
                }
                if (vecs)
                    for (size_t k = 0; k < n; k++) {
                        double vkp = vecs[k * n + p], vkq = vecs[k * n + q];
                        vecs[k * n + p] = vkp - s * (vkq + vkp * tau);
                        vecs[k * n + q] = vkq + s * (vkp - vkq * tau);
                    }
            }
        }
    }
    for (size_t i = 0; i < n; i++)
        vals[i] = a[i * n + i];
    free(a);
    sort_eigen(vals, vecs, n);
    return 0;
}

/* Householder reduction of the symmetric n×n matrix a (destroyed; only its
 * lower triangle is used) to a tridiagonal T = Qᵀ·a·Q: diagonal d[0..n),
 * subdiagonal e[i] = T[i+1][i] for i < n-1, e[n-1] = 0.  work holds 2n
 * doubles.  Entries of a should be at most about 1 (no overflow guards). */
static void tridiagonalize(double *a, size_t n, double *d, double *e, double *work)
{
    double *v = work, *q = work + n;
    for (size_t k = 0; k + 2 < n; k++) {
        const size_t m = n - k - 1; /* the column below the diagonal: a[k+1..n)[k] */
        double *a22 = a + (k + 1) * n + (k + 1);
        double sigma = 0.0;
        for (size_t i = 0; i < m; i++) {
            v[i] = a[(k + 1 + i) * n + k];
            sigma += v[i] * v[i];
        }
        d[k] = a[k * n + k];
        if (sigma == 0.0) {
            e[k] = 0.0;
            continue;
        }
        sigma = sqrt(sigma);
        const double x0 = v[0];
        const double alpha = x0 >= 0.0 ? -sigma : sigma; /* H·x = alpha·e1, no cancellation */
        v[0] = x0 - alpha;
        const double beta = 1.0 / (sigma * (sigma + fabs(x0))); /* 2 / vᵀv */
        e[k] = alpha;
        /* a22 <- H·a22·H with H = I − beta·v·vᵀ: q = beta·a22·v (from the
         * lower triangle, row by row), q −= (beta·vᵀq/2)·v,
         * a22 −= v·qᵀ + q·vᵀ (lower triangle). */
        for (size_t i = 0; i < m; i++)
            q[i] = 0.0;
        for (size_t i = 0; i < m; i++) {
            const double *row = a22 + i * n;
            q[i] += dot(row, v, i) + row[i] * v[i];
            axpy(q, v[i], row, i);
        }
        double vq = 0.0;
        for (size_t i = 0; i < m; i++) {
            q[i] *= beta;
            vq += v[i] * q[i];
        }
        const double kk = 0.5 * beta * vq;
        for (size_t i = 0; i < m; i++)
            q[i] -= kk * v[i];
        for (size_t i = 0; i < m; i++) {
            double *row = a22 + i * n;
            axpy(row, -v[i], q, i + 1);
            axpy(row, -q[i], v, i + 1);
        }
    }
    if (n >= 2) {
        d[n - 2] = a[(n - 2) * n + (n - 2)];
        e[n - 2] = a[(n - 1) * n + (n - 2)];
    }
    d[n - 1] = a[(n - 1) * n + (n - 1)];
    e[n - 1] = 0.0;
}

/* Eigenvalues of the symmetric tridiagonal (d, e) into d: implicit QR
 * steps with the Wilkinson shift, chasing the bulge with Givens rotations
 * (Golub & Van Loan, Algorithm 8.3.2), deflating from the bottom.  -1 when
 * it does not converge (it always does for finite input). */
static int tridiagonal_eigenvalues(double *d, double *e, size_t n)
{
    const double eps = DBL_EPSILON;
    size_t hi = n - 1;
    int iter = 0;
    while (hi > 0) {
        /* Negligible subdiagonal entries split the matrix. */
        for (size_t i = 0; i < hi; i++)
            if (fabs(e[i]) <= eps * (fabs(d[i]) + fabs(d[i + 1])) || fabs(e[i]) < DBL_MIN)
                e[i] = 0.0;
        if (e[hi - 1] == 0.0) {
            hi--;
            iter = 0;
            continue;
        }
        size_t lo = hi - 1;
        while (lo > 0 && e[lo - 1] != 0.0)
            lo--;
        if (++iter > 60)
            return -1;
        /* Wilkinson shift: the eigenvalue of the trailing 2×2 nearer d[hi]. */
        const double delta = 0.5 * (d[hi - 1] - d[hi]);
        const double b = e[hi - 1];
        const double root = sqrt(delta * delta + b * b);
        const double den = delta + (delta >= 0.0 ? root : -root);
        const double mu = d[hi] - b * (b / den);
        double x = d[lo] - mu, z = e[lo];
        for (size_t k = lo; k < hi; k++) {
            /* G = [c s; −s c] with Gᵀ·(x, z) = (r, 0).  (The caller scales
             * the matrix to entries of at most 1: no overflow here.) */
            const double r = sqrt(x * x + z * z);
            const double rinv = r == 0.0 ? 0.0 : 1.0 / r;
            const double c = r == 0.0 ? 1.0 : x * rinv, s = -z * rinv;
            if (k > lo)
                e[k - 1] = r;
            const double dk = d[k], dk1 = d[k + 1], ek = e[k];
            d[k] = c * c * dk - 2.0 * c * s * ek + s * s * dk1;
            d[k + 1] = s * s * dk + 2.0 * c * s * ek + c * c * dk1;
            e[k] = c * s * (dk - dk1) + (c * c - s * s) * ek;
            if (k + 1 < hi) {
                x = e[k];
                z = -s * e[k + 1]; /* the bulge at (k+2, k) */
                e[k + 1] *= c;
            }
        }
    }
    return 0;
}

int sr_wm_sym_eigenvalues(const double *a_in, size_t n, double *vals)
{
    if (n == 0 || n > 4096 || !a_in || !vals)
        return -1;
    for (size_t i = 0; i < n * n; i++)
        if (!isfinite(a_in[i]))
            return -1;
    double *a = xmalloc((n * n + 3 * n) * sizeof *a);
    double *e = a + n * n, *work = e + n;
    /* The upper triangle is taken as the matrix, scaled to entries of at
     * most 1 (a power of two: exact) so that no square overflows. */
    double amax = 0.0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i; j < n; j++)
            if (fabs(a_in[i * n + j]) > amax)
                amax = fabs(a_in[i * n + j]);
    int ex = 0;
    if (amax > 0.0)
        (void)frexp(amax, &ex);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j <= i; j++)
            a[i * n + j] = ldexp(a_in[j * n + i], -ex);
    tridiagonalize(a, n, vals, e, work);
    int rc = tridiagonal_eigenvalues(vals, e, n);
    free(a);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < n; i++)
        vals[i] = ldexp(vals[i], ex);
    sort_eigen(vals, NULL, n);
    return 0;
}

/* Lower-triangular L with L·Lᵀ = a; -1 when a pivot is not clearly positive
 * (a singular or indefinite Gd). */
static int cholesky(const double *a, size_t n, double *L)
{
    double maxd = 0.0;
    for (size_t i = 0; i < n; i++)
        if (a[i * n + i] > maxd)
            maxd = a[i * n + i];
    if (!(maxd > 0.0))
        return -1;
    const double tol = maxd * 1e-13;
    memset(L, 0, n * n * sizeof *L);
    for (size_t j = 0; j < n; j++) {
        double s = a[j * n + j] - dot(L + j * n, L + j * n, j);
        if (!(s > tol))
            return -1;
        double d = sqrt(s);
        L[j * n + j] = d;
        for (size_t i = j + 1; i < n; i++)
            L[i * n + j] = (a[i * n + j] - dot(L + i * n, L + j * n, j)) / d;
    }
    return 0;
}

/* Eigenvalues of Gu·Gd (r×r, both symmetric PSD) into vals: those of the
 * symmetric Lᵀ·Gu·L with Gd = L·Lᵀ.  -1 when they cannot be formed. */
static int product_eigenvalues(const double *gu, const double *gd, size_t r, double *vals)
{
    double *L = xmalloc(3 * r * r * sizeof *L);
    double *X = L + r * r, *M = X + r * r;
    int rc = -1;
    int lower = 1; /* L lower triangular (Cholesky) or full (fallback) */
    if (cholesky(gd, r, L) != 0) {
        lower = 0;
        /* Gd = V·Λ·Vᵀ: L = V·Λ^½ (negative rounding noise clipped). */
        if (sr_wm_sym_eigen(gd, r, vals, L) != 0)
            goto out;
        for (size_t j = 0; j < r; j++) {
            double f = vals[j] > 0.0 ? sqrt(vals[j]) : 0.0;
            for (size_t i = 0; i < r; i++)
                L[i * r + j] *= f;
        }
    }
    /* X = Gu·L, then the upper triangle of M = Lᵀ·X, row by row (row k of
     * a lower-triangular L ends at its diagonal). */
    memset(X, 0, r * r * sizeof *X);
    for (size_t i = 0; i < r; i++)
        for (size_t k = 0; k < r; k++)
            axpy(X + i * r, gu[i * r + k], L + k * r, lower ? k + 1 : r);
    memset(M, 0, r * r * sizeof *M);
    for (size_t k = 0; k < r; k++)
        for (size_t i = 0; i < (lower ? k + 1 : r); i++)
            axpy(M + i * r + i, L[k * r + i], X + k * r + i, r - i);
    for (size_t i = 0; i < r; i++)
        for (size_t j = i + 1; j < r; j++)
            M[j * r + i] = M[i * r + j];
    rc = sr_wm_sym_eigenvalues(M, r, vals);
out:
    free(L);
    return rc;
}

/* exp(H(p)), p_i = σ_i / Σσ with σ_i = sqrt(λ_i); NAN when Σσ is 0.
 * Eigenvalues below 1e-13 of the largest are rounding noise of a rank
 * deficient product (σ below 3e-7 of the largest) and count as 0. */
static double effective_rank(const double *lambda, size_t r)
{
    double lmax = 0.0;
    for (size_t i = 0; i < r; i++)
        if (lambda[i] > lmax)
            lmax = lambda[i];
    if (!(lmax > 0.0) || !isfinite(lmax))
        return NAN;
    const double noise = lmax * 1e-13;
    double total = 0.0;
    for (size_t i = 0; i < r; i++)
        total += lambda[i] > noise ? sqrt(lambda[i]) : 0.0;
    double h = 0.0;
    for (size_t i = 0; i < r; i++) {
        if (!(lambda[i] > noise))
            continue;
        double p = sqrt(lambda[i]) / total;
        h -= p * log(p);
    }
    return exp(h);
}

/* tr(X·Y) for X (a×b) and Y (b×a). */
static double trace_product(const double *X, const double *Y, size_t a, size_t b)
{
    double s = 0.0;
    for (size_t i = 0; i < a; i++)
        for (size_t j = 0; j < b; j++)
            s += X[i * b + j] * Y[j * a + i];
    return s;
}

/* ---------------------------------------------------------------------------
 * Grams on the selected device
 * ------------------------------------------------------------------------- */

static int run_grams(const sr_device *dev, const sr_lg_job *jobs, size_t n)
{
    if (n == 0)
        return 0;
    if (dev && dev->kind == SR_DEV_CUDA) {
#ifdef HAVE_CUDA
        char err[SR_MSG_MAX] = "";
        if (sr_cuda_lora_gram(dev->index, jobs, n, err, sizeof err) == 0)
            return 0;
        fprintf(stderr, "sweepreport: warning: cuda:%d: %s; computing on the CPU\n", dev->index, err);
#else
        fprintf(stderr, "sweepreport: warning: this build has no CUDA support; computing on the CPU\n");
#endif
    }
    return sr_lora_gram_cpu(jobs, n);
}

/* ---------------------------------------------------------------------------
 * Modules
 * ------------------------------------------------------------------------- */

typedef struct {
    const char *name; /* the tensor name; the prefix is its first plen bytes */
    size_t plen;
    tensor_kind kind;
    size_t tensor;
} tensor_ref;

static int ref_cmp(const void *pa, const void *pb)
{
    const tensor_ref *a = pa, *b = pb;
    size_t n = a->plen < b->plen ? a->plen : b->plen;
    int c = memcmp(a->name, b->name, n);
    if (c != 0)
        return c;
    if (a->plen != b->plen)
        return a->plen < b->plen ? -1 : 1;
    return a->tensor < b->tensor ? -1 : a->tensor > b->tensor;
}

static void copy_shape(const sr_st_tensor *t, int *ndim, uint64_t shape[4])
{
    *ndim = (int)t->ndim;
    for (size_t i = 0; i < 4; i++)
        shape[i] = i < t->ndim ? t->shape[i] : 0;
}

/* sr_lg_values_stats_cpu for F64 values, which no factor has (so no kernel
 * reads them) but an alpha or another tensor may: a NaN there counts too. */
static void f64_stats(const unsigned char *p, uint64_t n, sr_lg_stats *out)
{
    memset(out, 0, sizeof *out);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t bits = le64(p + 8 * i);
        double v;
        memcpy(&v, &bits, sizeof v);
        out->nonfinite += !isfinite(v);
        out->sum_abs += fabs(v);
        out->sum_sq += v * v;
    }
}

/* The scalar value of an alpha tensor; -1 when it is not a float scalar. */
static int read_scalar(const sr_wm_ckpt *c, const sr_st_tensor *t, double *v)
{
    if (numel(t) != 1)
        return -1;
    const unsigned char *p = c->data + t->begin;
    sr_lg_dtype d;
    if (lg_dtype(t->dtype, &d) == 0) {
        *v = (double)sr_lg_value(p, d, 0);
        return 0;
    }
    if (t->dtype == SR_DT_F64) {
        uint64_t bits = le64(p);
        memcpy(v, &bits, sizeof *v);
        return 0;
    }
    return -1;
}

/* Fills c->mods / c->md from the tensor names and shapes. */
static void build_modules(sr_wm_ckpt *c)
{
    const sr_safetensors *st = &c->st;
    size_t n = st->n_tensors;
    tensor_ref *refs = xmalloc((n ? n : 1) * sizeof *refs);
    for (size_t i = 0; i < n; i++) {
        refs[i].name = st->tensors[i].name;
        refs[i].kind = classify(st->tensors[i].name, &refs[i].plen);
        refs[i].tensor = i;
    }
    qsort(refs, n, sizeof *refs, ref_cmp);

    size_t nmod = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || refs[i].plen != refs[i - 1].plen || memcmp(refs[i].name, refs[i - 1].name, refs[i].plen) != 0)
            nmod++;
    c->n_modules = nmod;
    c->mods = xcalloc(nmod ? nmod : 1, sizeof *c->mods);
    c->md = xcalloc(nmod ? nmod : 1, sizeof *c->md);
    c->tensor_of = xmalloc((n ? n : 1) * sizeof *c->tensor_of);
    for (size_t i = 0; i < n; i++)
        c->tensor_of[i] = refs[i].tensor;

    size_t m = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && refs[j].plen == refs[i].plen && memcmp(refs[j].name, refs[i].name, refs[i].plen) == 0)
            j++;
        sr_wm_module *mod = &c->mods[m];
        module_data *md = &c->md[m];
        m++;
        mod->name = xstrndup(refs[i].name, refs[i].plen);
        mod->block = sr_wm_block_of(mod->name);
        mod->dtype = SR_DT_COUNT;
        mod->alpha = NAN;
        mod->scale = NAN;
        mod->delta_norm = NAN;
        mod->effective_rank = NAN;
        md->down = md->up = md->alpha = -1;
        md->t0 = i;
        md->nt = j - i;
        int loha = 0, lokr = 0, lyco = 0;
        for (size_t k = i; k < j; k++) {
            long t = (long)refs[k].tensor;
            switch (refs[k].kind) {
            case T_DOWN: md->down = t; md->has_kohya = 1; break;
            case T_UP: md->up = t; md->has_kohya = 1; break;
            case T_PEFT_A: md->down = t; md->has_peft = 1; break;
            case T_PEFT_B: md->up = t; md->has_peft = 1; break;
            case T_ALPHA: md->alpha = t; break;
            case T_MID: md->has_mid = 1; md->has_kohya = 1; break;
            case T_DORA: md->has_dora = 1; md->has_kohya = 1; break;
            case T_PEFT_MAG: md->has_dora = 1; md->has_peft = 1; break;
            case T_LOHA: loha = 1; break;
            case T_LOKR: lokr = 1; break;
            case T_LYCO_OTHER: lyco = 1; break;
            case T_UNKNOWN: md->has_unknown = 1; break;
            }
        }
        i = j;

        if (loha)
            mod->family = SR_WM_LOHA;
        else if (lokr)
            mod->family = SR_WM_LOKR;
        else if (md->has_peft)
            mod->family = SR_WM_PEFT;
        else if (md->has_kohya)
            mod->family = SR_WM_LORA;
        else
            mod->family = SR_WM_OTHER_FAMILY;

        int alpha_bad = 0; /* an alpha tensor that is not a float scalar */
        if (md->alpha >= 0) {
            double a;
            if (read_scalar(c, &st->tensors[md->alpha], &a) == 0)
                mod->alpha = a;
            else
                alpha_bad = 1;
        }
        const sr_st_tensor *D = md->down >= 0 ? &st->tensors[md->down] : NULL;
        const sr_st_tensor *U = md->up >= 0 ? &st->tensors[md->up] : NULL;
        if (D) {
            mod->dtype = D->dtype;
            copy_shape(D, &mod->down_ndim, mod->down_shape);
            if (D->ndim >= 1)
                mod->rank = D->shape[0] <= (uint64_t)SR_LG_MAX_RANK ? (int)D->shape[0] : 0;
        }
        if (U)
            copy_shape(U, &mod->up_ndim, mod->up_shape);

        /* Can ΔW = s·U·D be measured? */
        const char *why = NULL;
        sr_lg_dtype dd = SR_LG_F32, du = SR_LG_F32;
        if (mod->family == SR_WM_LOHA || mod->family == SR_WM_LOKR)
            why = "LyCORIS";
        else if (mod->family == SR_WM_OTHER_FAMILY)
            why = lyco ? "LyCORIS" : (md->alpha >= 0 && !md->has_unknown ? "alpha without factors" : "unknown tensors");
        else if (lyco || md->has_unknown)
            why = "unknown tensors";
        else if (md->has_kohya && md->has_peft)
            why = "mixed kohya and PEFT names";
        else if (md->has_mid)
            why = "Tucker mid factor";
        else if (md->has_dora)
            why = "DoRA magnitude";
        else if (!D || !U)
            why = D ? "no up factor" : "no down factor";
        else if (lg_dtype(D->dtype, &dd) != 0 || lg_dtype(U->dtype, &du) != 0)
            why = "unsupported dtype";
        else if (D->ndim < 2 || U->ndim < 2)
            why = "unexpected shape";
        else if (D->shape[0] == 0 || D->shape[0] > SR_LG_MAX_RANK)
            why = "unsupported rank";
        else if (U->shape[1] != D->shape[0])
            why = "up and down ranks differ";
        else if (alpha_bad)
            why = "alpha is not a float scalar";
        else {
            for (size_t k = 2; k < U->ndim && !why; k++)
                if (U->shape[k] != 1)
                    why = "up factor is not 1x1";
        }
        if (!why) {
            uint64_t r = D->shape[0];
            uint64_t in = numel(D) / r;
            md->D = (sr_lg_matrix){c->data + D->begin, dd, r, in};
            md->U = (sr_lg_matrix){c->data + U->begin, du, U->shape[0], r};
            mod->out_features = U->shape[0];
            mod->in_features = in;
            /* alpha missing or 0: alpha = r.  (A NaN alpha is a non-finite
             * value: the module is left out below.) */
            double a = mod->alpha;
            mod->scale = (isnan(a) || a == 0.0) ? 1.0 : a / (double)r;
            md->gram_ok = 1;
        }
        mod->why_not = why;
    }
    free(refs);
}

/* ---------------------------------------------------------------------------
 * Measuring one checkpoint
 * ------------------------------------------------------------------------- */

static void add_note(sr_wm_ckpt *c)
{
    /* One phrase per (family, reason), in order of first appearance. */
    sr_wm_summary *s = &c->sum;
    size_t len = 0;
    s->note[0] = '\0';
    unsigned char *done = xcalloc(c->n_modules ? c->n_modules : 1, 1);
    for (size_t i = 0; i < c->n_modules; i++) {
        const sr_wm_module *m = &c->mods[i];
        if (m->measured || done[i])
            continue;
        size_t count = 0;
        for (size_t j = i; j < c->n_modules; j++) {
            const sr_wm_module *o = &c->mods[j];
            if (!o->measured && !done[j] && o->family == m->family && strcmp(o->why_not, m->why_not) == 0) {
                done[j] = 1;
                count++;
            }
        }
        const int lyco = m->family == SR_WM_LOHA || m->family == SR_WM_LOKR;
        int w = snprintf(s->note + len, sizeof s->note - len, "%s%zu %s module%s not measured%s%s%s",
                         len ? "; " : "", count, sr_wm_family_name(m->family), count == 1 ? "" : "s",
                         lyco ? "" : " (", lyco ? "" : m->why_not, lyco ? "" : ")");
        if (w < 0 || (size_t)w >= sizeof s->note - len) {
            s->note[sizeof s->note - 1] = '\0';
            break;
        }
        len += (size_t)w;
    }
    free(done);
}

static const char *const insp_te1_prefixes[] = {"lora_te_text_model_encoder_layers_",
                                                "lora_te1_text_model_encoder_layers"};

/* lora-inspector's group of a tensor name, or -1. */
static int inspector_group(const char *name)
{
    if (!sr_str_has_suffix(name, ".weight"))
        return -1;
    if (sr_str_has_prefix(name, "lora_unet"))
        return strstr(name, "conv") ? SR_WM_INSP_UNET_CONV : SR_WM_INSP_UNET;
    for (size_t i = 0; i < sizeof insp_te1_prefixes / sizeof insp_te1_prefixes[0]; i++)
        if (sr_str_has_prefix(name, insp_te1_prefixes[i]))
            return SR_WM_INSP_TE;
    if (sr_str_has_prefix(name, "lora_te2_text_model_encoder_layers_"))
        return SR_WM_INSP_TE2;
    return -1;
}

static void summarise(sr_wm_ckpt *c)
{
    sr_wm_summary *s = &c->sum;
    const sr_safetensors *st = &c->st;
    double total2 = 0.0, block2[SR_WM_NBLOCKS] = {0}, erank = 0.0;
    s->n_tensors = st->n_tensors;
    s->n_modules = c->n_modules;
    for (size_t t = 0; t < st->n_tensors; t++)
        if (c->has_tstats[t])
            s->nonfinite += c->tstats[t].nonfinite;
    for (size_t i = 0; i < c->n_modules; i++) {
        const sr_wm_module *m = &c->mods[i];
        if (!m->measured) {
            s->unmeasured[m->family]++;
            s->block_unmeasured[m->block]++;
            continue;
        }
        s->n_measured++;
        total2 += c->md[i].norm2;
        block2[m->block] += c->md[i].norm2;
        s->block_modules[m->block]++;
        if (!isnan(m->effective_rank)) {
            erank += m->effective_rank;
            s->n_effective_rank++;
        }
    }
    s->delta_norm = sqrt(total2);
    for (int b = 0; b < SR_WM_NBLOCKS; b++)
        s->block_norm[b] = sqrt(block2[b]);
    s->effective_rank = s->n_effective_rank ? erank / (double)s->n_effective_rank : NAN;

    double mag[SR_WM_NINSP] = {0}, str[SR_WM_NINSP] = {0};
    for (size_t t = 0; t < st->n_tensors; t++) {
        int g = inspector_group(st->tensors[t].name);
        uint64_t ne = numel(&st->tensors[t]);
        if (g < 0 || !c->has_tstats[t] || ne == 0)
            continue;
        mag[g] += sqrt(c->tstats[t].sum_sq);
        str[g] += c->tstats[t].sum_abs / (double)ne;
        s->insp_tensors[g]++;
    }
    for (int g = 0; g < SR_WM_NINSP; g++) {
        s->insp_avg_magnitude[g] = s->insp_tensors[g] ? mag[g] / (double)s->insp_tensors[g] : NAN;
        s->insp_avg_strength[g] = s->insp_tensors[g] ? str[g] / (double)s->insp_tensors[g] : NAN;
    }
    add_note(c);
}

void sr_wm_free(sr_wm_ckpt *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_modules; i++)
        free(c->mods[i].name);
    free(c->mods);
    free(c->md);
    free(c->tensor_of);
    free(c->tstats);
    free(c->has_tstats);
    data_free(c->data, c->pinned_cap);
    sr_st_free(&c->st);
    free(c);
}

sr_st_status sr_wm_load(const char *path, const sr_device *dev, sr_wm_ckpt **out, char *err, size_t errlen)
{
    *out = NULL;
    /* O_NONBLOCK: a FIFO in a regular file's place opens at once (and is
     * refused below) instead of waiting for a writer */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        set_err(err, errlen, "cannot open: %s", strerror(errno));
        return SR_ST_IO_ERROR;
    }
    sr_wm_ckpt *c = xcalloc(1, sizeof *c);
    const int on_gpu = dev && dev->kind == SR_DEV_CUDA;
    sr_st_status status = read_checkpoint(fd, on_gpu, &c->st, &c->data, &c->pinned_cap, err, errlen);
    close(fd);
    if (status != SR_ST_OK) {
        free(c);
        return status;
    }
    c->data_len = c->st.file_size - c->st.data_start;
    const sr_safetensors *st = &c->st;
    build_modules(c);

    /* Gram jobs: Gd and Gu of every measurable module, with the statistics
     * of D and U taken in the same pass. */
    size_t ntens = st->n_tensors;
    c->tstats = xcalloc(ntens ? ntens : 1, sizeof *c->tstats);
    c->has_tstats = xcalloc(ntens ? ntens : 1, 1);
    size_t njobs = 0, gram_doubles = 0;
    for (size_t i = 0; i < c->n_modules; i++)
        if (c->md[i].gram_ok) {
            njobs += 2;
            gram_doubles += 2 * (size_t)c->md[i].D.rows * (size_t)c->md[i].D.rows;
        }
    sr_lg_job *jobs = xcalloc(njobs ? njobs : 1, sizeof *jobs);
    double *grams = xmalloc((gram_doubles ? gram_doubles : 1) * sizeof *grams);
    double **gd_of = xcalloc(c->n_modules ? c->n_modules : 1, sizeof *gd_of);
    size_t j = 0, off = 0;
    for (size_t i = 0; i < c->n_modules; i++) {
        module_data *md = &c->md[i];
        if (!md->gram_ok)
            continue;
        size_t r = (size_t)md->D.rows;
        gd_of[i] = grams + off;
        jobs[j++] = (sr_lg_job){.a = md->D, .rank_in_cols = 0, .out = grams + off, .stats = &c->tstats[md->down]};
        off += r * r;
        jobs[j++] = (sr_lg_job){.a = md->U, .rank_in_cols = 1, .out = grams + off, .stats = &c->tstats[md->up]};
        off += r * r;
        c->has_tstats[md->down] = c->has_tstats[md->up] = 1;
    }
    if (run_grams(dev, jobs, njobs) != 0) {
        set_err(err, errlen, "out of memory forming the Gram matrices");
        free(gd_of);
        free(grams);
        free(jobs);
        sr_wm_free(c);
        return SR_ST_IO_ERROR;
    }
    free(jobs);

    /* The statistics of every other float tensor. */
#pragma omp parallel for schedule(dynamic, 8)
    for (size_t t = 0; t < ntens; t++) {
        sr_lg_dtype d;
        if (c->has_tstats[t])
            continue;
        if (lg_dtype(st->tensors[t].dtype, &d) == 0)
            sr_lg_values_stats_cpu(c->data + st->tensors[t].begin, d, numel(&st->tensors[t]), &c->tstats[t]);
        else if (st->tensors[t].dtype == SR_DT_F64)
            f64_stats(c->data + st->tensors[t].begin, numel(&st->tensors[t]), &c->tstats[t]);
        else
            continue;
        c->has_tstats[t] = 1;
    }

    /* Per module: non-finite values, norm, spectrum. */
#pragma omp parallel for schedule(dynamic, 1)
    for (size_t i = 0; i < c->n_modules; i++) {
        sr_wm_module *mod = &c->mods[i];
        module_data *md = &c->md[i];
        for (size_t k = md->t0; k < md->t0 + md->nt; k++)
            if (c->has_tstats[c->tensor_of[k]])
                mod->nonfinite += c->tstats[c->tensor_of[k]].nonfinite;
        if (!md->gram_ok)
            continue;
        if (mod->nonfinite > 0) {
            mod->why_not = "non-finite values";
            continue;
        }
        const size_t r = (size_t)md->D.rows;
        const double *gd = gd_of[i], *gu = gd_of[i] + r * r;
        /* ‖ΔW‖² = s²·tr(Gu·Gd) = s²·Σ Gu_ij·Gd_ij (both symmetric). */
        double t = 0.0;
        for (size_t e = 0; e < r * r; e++)
            t += gu[e] * gd[e];
        md->norm2 = t > 0.0 ? mod->scale * mod->scale * t : 0.0;
        mod->delta_norm = sqrt(md->norm2);
        mod->measured = 1;
        mod->why_not = NULL;
        if (r <= SR_WM_SPECTRUM_MAX_RANK) {
            double *lambda = xmalloc(r * sizeof *lambda);
            if (product_eigenvalues(gu, gd, r, lambda) == 0)
                mod->effective_rank = effective_rank(lambda, r);
            free(lambda);
        }
    }
    free(gd_of);
    free(grams);
    for (size_t i = 0; i < c->n_modules; i++)
        if (!c->mods[i].measured)
            c->md[i].gram_ok = 0;

    summarise(c);
    *out = c;
    return SR_ST_OK;
}

const sr_wm_summary *sr_wm_summary_of(const sr_wm_ckpt *c)
{
    return &c->sum;
}

size_t sr_wm_modules(const sr_wm_ckpt *c, const sr_wm_module **mods)
{
    if (mods)
        *mods = c->mods;
    return c->n_modules;
}

static const char *const insp_names[SR_WM_NINSP] = {"unet", "unet_conv", "te", "te2"};

/* A metric that is not a finite number (an overflowing norm, an inspector
 * average over a tensor with a NaN) is left out: weight_nonfinite says why. */
static void set_finite(sr_metrics *m, const char *name, double v)
{
    if (isfinite(v))
        sr_metrics_set(m, name, v);
}

int sr_wm_unmeasurable(const sr_wm_summary *s)
{
    return s->n_measured == 0 && s->n_tensors > 0;
}

static void summary_metrics(const sr_wm_summary *s, sr_metrics *m)
{
    sr_metrics_set(m, "weight_nonfinite", (double)s->nonfinite);
    sr_metrics_set(m, "weight_modules", (double)s->n_measured);
    sr_metrics_set(m, "weight_modules_unmeasured", (double)(s->n_modules - s->n_measured));
    /* tensors of which no module could be measured give no norm at all,
     * rather than zeros (a file with no tensors is a LoRA that changes
     * nothing: 0 is its norm) */
    const int measurable = !sr_wm_unmeasurable(s);
    if (measurable)
        set_finite(m, "weight_delta_norm", s->delta_norm);
    if (s->n_effective_rank)
        set_finite(m, "weight_effective_rank", s->effective_rank);
    for (int b = 0; b < SR_WM_NBLOCKS && measurable; b++) {
        /* a block with no module is unchanged (0); one whose modules could
         * not be measured changes by an unknown amount (no norm) */
        if (s->block_modules[b] == 0 && (b == SR_WM_OTHER || s->block_unmeasured[b] > 0))
            continue;
        char name[64];
        snprintf(name, sizeof name, "weight_norm_%s", sr_wm_block_name((sr_wm_block)b));
        set_finite(m, name, s->block_norm[b]);
    }
    for (int g = 0; g < SR_WM_NINSP; g++) {
        if (!s->insp_tensors[g])
            continue;
        char name[64];
        snprintf(name, sizeof name, "inspector_avg_magnitude_%s", insp_names[g]);
        set_finite(m, name, s->insp_avg_magnitude[g]);
        snprintf(name, sizeof name, "inspector_avg_strength_%s", insp_names[g]);
        set_finite(m, name, s->insp_avg_strength[g]);
    }
}

void sr_wm_metrics(const sr_wm_ckpt *c, sr_metrics *m)
{
    summary_metrics(&c->sum, m);
}

void sr_wm_metric_names(sr_metrics *names)
{
    sr_wm_summary s;
    memset(&s, 0, sizeof s);
    s.n_effective_rank = 1;
    for (int b = 0; b < SR_WM_NBLOCKS; b++)
        s.block_modules[b] = 1;
    for (int g = 0; g < SR_WM_NINSP; g++)
        s.insp_tensors[g] = 1;
    summary_metrics(&s, names);
    sr_metrics_set(names, "weight_drift", 0.0);
}

/* ---------------------------------------------------------------------------
 * Drift
 * ------------------------------------------------------------------------- */

int sr_wm_drift(const sr_wm_ckpt *cur, const sr_wm_ckpt *prev, const sr_device *dev, double *drift)
{
    /* no drift of or from a checkpoint of which nothing could be measured */
    if (sr_wm_unmeasurable(&cur->sum) || sr_wm_unmeasurable(&prev->sum))
        return -1;
    /* Pairs of modules measured in both, with the same ΔW shape. */
    size_t cap = cur->n_modules < prev->n_modules ? cur->n_modules : prev->n_modules;
    size_t *pc = xmalloc((cap ? cap : 1) * sizeof *pc), *pp = xmalloc((cap ? cap : 1) * sizeof *pp);
    size_t npairs = 0;
    double num = 0.0, den = 0.0;
    size_t i = 0, k = 0;
    while (i < cur->n_modules || k < prev->n_modules) {
        int cmp = i == cur->n_modules    ? 1
                  : k == prev->n_modules ? -1
                                         : strcmp(cur->mods[i].name, prev->mods[k].name);
        const sr_wm_module *mc = cmp <= 0 ? &cur->mods[i] : NULL;
        const sr_wm_module *mp = cmp >= 0 ? &prev->mods[k] : NULL;
        if (mp && mp->measured)
            den += prev->md[k].norm2;
        if (mc && mp && mc->measured && mp->measured && mc->out_features == mp->out_features &&
            mc->in_features == mp->in_features) {
            pc[npairs] = i;
            pp[npairs] = k;
            npairs++;
        } else {
            if (mc && mc->measured)
                num += cur->md[i].norm2;
            if (mp && mp->measured)
                num += prev->md[k].norm2;
        }
        if (cmp <= 0)
            i++;
        if (cmp >= 0)
            k++;
    }

    /* Cross Grams: X = U1ᵀ·U0 (r1×r0), Y = D0·D1ᵀ (r0×r1). */
    size_t ndoubles = 0;
    for (size_t p = 0; p < npairs; p++)
        ndoubles += 2 * (size_t)cur->md[pc[p]].D.rows * (size_t)prev->md[pp[p]].D.rows;
    double *buf = xmalloc((ndoubles ? ndoubles : 1) * sizeof *buf);
    sr_lg_job *jobs = xcalloc(npairs ? 2 * npairs : 1, sizeof *jobs);
    size_t off = 0;
    for (size_t p = 0; p < npairs; p++) {
        const module_data *m1 = &cur->md[pc[p]], *m0 = &prev->md[pp[p]];
        size_t rr = (size_t)m1->D.rows * (size_t)m0->D.rows;
        jobs[2 * p] = (sr_lg_job){.a = m1->U, .b = m0->U, .rank_in_cols = 1, .out = buf + off};
        jobs[2 * p + 1] = (sr_lg_job){.a = m0->D, .b = m1->D, .rank_in_cols = 0, .out = buf + off + rr};
        off += 2 * rr;
    }
    int rc = run_grams(dev, jobs, 2 * npairs);
    if (rc == 0) {
        off = 0;
        for (size_t p = 0; p < npairs; p++) {
            const module_data *m1 = &cur->md[pc[p]], *m0 = &prev->md[pp[p]];
            size_t r1 = (size_t)m1->D.rows, r0 = (size_t)m0->D.rows;
            double ip = cur->mods[pc[p]].scale * prev->mods[pp[p]].scale *
                        trace_product(buf + off, buf + off + r1 * r0, r1, r0);
            double d2 = m1->norm2 + m0->norm2 - 2.0 * ip;
            num += d2 > 0.0 ? d2 : 0.0; /* cancellation can leave -tiny */
            off += 2 * r1 * r0;
        }
    }
    free(jobs);
    free(buf);
    free(pc);
    free(pp);
    if (rc != 0 || !(den > 0.0))
        return -1;
    *drift = sqrt(num) / sqrt(den);
    return 0;
}

/* ---------------------------------------------------------------------------
 * A trial
 * ------------------------------------------------------------------------- */

void sr_wm_trial_init(sr_wm_trial *t, const sr_device *dev)
{
    memset(t, 0, sizeof *t);
    if (dev) {
        t->dev = *dev;
        t->has_dev = 1;
    }
}

sr_st_status sr_wm_trial_next(sr_wm_trial *t, const char *path, sr_metrics *out, char *err, size_t errlen)
{
    sr_wm_ckpt *c;
    const sr_device *dev = t->has_dev ? &t->dev : NULL;
    sr_st_status s = sr_wm_load(path, dev, &c, err, errlen);
    if (s != SR_ST_OK)
        return s;
    sr_wm_metrics(c, out);
    double d;
    if (t->prev && sr_wm_drift(c, t->prev, dev, &d) == 0)
        set_finite(out, "weight_drift", d);
    if (sr_wm_unmeasurable(&c->sum)) { /* never a predecessor, as in eval */
        sr_wm_free(c);
        return SR_ST_OK;
    }
    sr_wm_free(t->prev);
    t->prev = c;
    return SR_ST_OK;
}

void sr_wm_trial_free(sr_wm_trial *t)
{
    sr_wm_free(t->prev);
    t->prev = NULL;
}
