/* pdf_archive.c - a trial's archive PDF (PDF/A-3b) beside its checkpoints:
 * the sweep context, the trial's section and its problems. */
#include "config.h"

#include "pdf_archive.h"

#include "pdf_doc.h"
#include "pdf_pdfa.h"
#include "pdf_sections.h"
#include "util.h"

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MARGIN SR_PDF_MARGIN
#define CONTENT_W SR_PDF_CONTENT_W

/* How much of the file's start holds the metadata (it is written right
 * after the catalog), and of its end the trailer. */
#define HEAD_BYTES (64 * 1024)
#define TAIL_BYTES 1024

/* The marker the writer leaves in the XMP metadata. */
#define WRITER_TAG "<" SR_PDFA_PREFIX ":Writer>sweepreport"
#define NS_DECL "xmlns:" SR_PDFA_PREFIX "=\"" SR_PDFA_NS "\""
#define PRODUCER_TAG "<pdf:Producer>sweepreport"

char *sr_pdf_archive_path(const sr_trial *t)
{
    char *name = xasprintf("%s" SR_PDF_ARCHIVE_SUFFIX, t->name);
    char *p = sr_path_join(t->path, name);
    free(name);
    return p;
}

static ssize_t read_at(int fd, char *buf, size_t len, off_t off)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread(fd, buf + got, len - got, off + (off_t)got);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

/* Whether the end of a file is the one trailer the writer made: the last
 * "trailer" has no /Prev, and one startxref and one %%EOF follow it, then
 * nothing but line ends.  An editor's incremental update (a classic trailer
 * with /Prev, or a cross-reference stream after ours) fails this. */
static int single_trailer(const char *tail, size_t tl)
{
    const char *tr = NULL;
    for (const char *p = tail; (p = memmem(p, tl - (size_t)(p - tail), "trailer", 7)) != NULL; p++)
        tr = p;
    if (!tr)
        return 0;
    size_t rest = tl - (size_t)(tr - tail);
    const char *sx = memmem(tr, rest, "startxref", 9);
    const char *eof = memmem(tr, rest, "%%EOF", 5);
    if (memmem(tr, rest, "/Prev", 5) || !sx || !eof || eof < sx)
        return 0;
    if (memmem(sx + 9, tl - (size_t)(sx + 9 - tail), "startxref", 9))
        return 0;
    for (const char *p = eof + 5; p < tail + tl; p++)
        if (*p != '\r' && *p != '\n')
            return 0;
    return 1;
}

int sr_pdf_archive_is_ours(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    char *head = xmalloc(HEAD_BYTES + 1), *tail = xmalloc(TAIL_BYTES + 1);
    ssize_t nh = read_at(fd, head, HEAD_BYTES, 0);
    off_t toff = st.st_size > TAIL_BYTES ? st.st_size - TAIL_BYTES : 0;
    ssize_t nt = nh >= 0 ? read_at(fd, tail, TAIL_BYTES, toff) : -1;
    int e = errno;
    close(fd);
    int ours = -1;
    if (nh >= 0 && nt >= 0) {
        head[nh] = '\0';
        tail[nt] = '\0';
        size_t hl = (size_t)nh, tl = (size_t)nt;
        const char *xmp = memmem(head, hl, "<?xpacket begin=", 16);
        const char *end = xmp ? memmem(xmp, hl - (size_t)(xmp - head), "<?xpacket end=", 14) : NULL;
        ours = hl >= 5 && memcmp(head, "%PDF-", 5) == 0 && end;
        if (ours) {
            size_t xl = (size_t)(end - xmp);
            ours = memmem(xmp, xl, NS_DECL, strlen(NS_DECL)) && memmem(xmp, xl, WRITER_TAG, strlen(WRITER_TAG)) &&
                   memmem(xmp, xl, PRODUCER_TAG, strlen(PRODUCER_TAG));
        }
        if (ours)
            ours = single_trailer(tail, tl);
    }
    free(head);
    free(tail);
    if (ours < 0)
        errno = e;
    return ours;
}

/* ---- the context page ---------------------------------------------------- */

static void context_page(sr_pdfw *w, size_t ti, time_t when)
{
    const sr_sweep *s = w->s;
    const sr_analysis *a = w->a;
    const sr_trial *t = &s->trials[ti];
    const sr_trial_analysis *ta = ti < a->n_trials ? &a->trials[ti] : NULL;
    char b[1024], n1[64], n2[64];
    sr_pdfw_page(w, t->name);
    sr_pdfw_outline(w, NULL, "Overview");
    char when_s[40];
    struct tm tm;
    gmtime_r(&when, &tm);
    strftime(when_s, sizeof when_s, "%Y-%m-%d %H:%M UTC", &tm);
    char *title = sr_pdf_trial_title(t->name);
    snprintf(b, sizeof b, "archive of the sweep report  \xc2\xb7  sweep %s  \xc2\xb7  written %s",
             sr_path_base(s->path), when_s);
    double y = sr_pdfw_heading(w, title, b);
    free(title);

    y = sr_pdfw_key_value(w, y, "Sweep", sr_path_base(s->path));
    y = sr_pdfw_key_value(w, y, "Sweep folder", s->path);
    y = sr_pdfw_key_value(w, y, "Trial folder", t->path);
    y = sr_pdfw_study_line(w, y);
    y = sr_pdfw_score_line(w, y);

    /* where the trial ranks */
    size_t *order = xcalloc(s->n_trials ? s->n_trials : 1, sizeof *order);
    sr_analysis_trial_order(s, a, order);
    size_t ranked = 0, rank = 0;
    for (size_t i = 0; i < s->n_trials; i++) {
        size_t k = order[i];
        if (k < a->n_trials && isfinite(a->trials[k].best_score)) {
            ranked++;
            if (k == ti)
                rank = ranked;
        }
    }
    if (rank)
        snprintf(b, sizeof b, "%zu of %zu scored trials by best score", rank, ranked);
    else
        snprintf(b, sizeof b, "not ranked: no checkpoint of this trial has a score (%zu trials are scored)", ranked);
    y = sr_pdfw_key_value(w, y, "Rank", b);
    if (ta && ta->best >= 0) {
        const sr_checkpoint *c = &t->ckpts[ta->best];
        sr_pdf_fmt_num(ta->best_score, n1, sizeof n1);
        if (c->epoch >= 0)
            snprintf(b, sizeof b, "%s (epoch %ld, score %s)", c->file, c->epoch, n1);
        else
            snprintf(b, sizeof b, "%s (score %s)", c->file, n1);
    } else {
        snprintf(b, sizeof b, "none: no checkpoint has a score");
    }
    y = sr_pdfw_key_value(w, y, "Best checkpoint", b);
    sr_pdf_fmt_num(ta ? ta->final_score : NAN, n2, sizeof n2);
    snprintf(b, sizeof b, "%s%s", n2, ta && ta->overfit ? " (the trial overfits: the final score is worse)" : "");
    y = sr_pdfw_key_value(w, y, "Final score", b);
    /* on the page too: metadata is lost with a printout */
    char written[48];
    strftime(written, sizeof written, "%Y-%m-%d %H:%M:%S UTC", &tm);
    snprintf(b, sizeof b, "by sweepreport " PACKAGE_VERSION " on %s", written);
    y = sr_pdfw_key_value(w, y, "Written", b);
    y -= 8;

    /* the sweep's recommendation */
    y = sr_pdf_recommendation_card(w, y, 130, "The sweep's recommended checkpoint", ti, 3, 2) - 22;

    /* the first trials by best score, and this one */
    sr_pdfw_text(w, MARGIN, y, "Trials by best score", 1, 10.5, CONTENT_W, 0);
    y -= 18;
    static const char *const names[] = {"Rank", "Trial", "Best epoch", "Best score", "Final score"};
    static const int right[] = {1, 0, 1, 1, 1};
    const double xs[5] = {MARGIN, MARGIN + 50, MARGIN + 230, MARGIN + 320, MARGIN + 410};
    sr_pdfw_table_header(w, y, names, xs, right, 5, 8.5);
    y -= 17;
    size_t shown = 0;
    for (size_t i = 0; i < s->n_trials; i++) {
        size_t k = order[i];
        int here = k == ti;
        if (shown >= 10 && !here)
            continue;
        if (shown >= 11)
            break;
        const sr_trial *ot = &s->trials[k];
        const sr_trial_analysis *oa = k < a->n_trials ? &a->trials[k] : NULL;
        char c[5][96];
        int scored = oa && isfinite(oa->best_score);
        if (scored)
            snprintf(c[0], sizeof c[0], "%zu", i + 1);
        else
            snprintf(c[0], sizeof c[0], "\xe2\x80\x94");
        snprintf(c[1], sizeof c[1], "%s%s", ot->name, here ? "  \xe2\x97\x80 this trial" : "");
        if (oa && oa->best >= 0 && ot->ckpts[oa->best].epoch >= 0)
            snprintf(c[2], sizeof c[2], "%ld", ot->ckpts[oa->best].epoch);
        else
            snprintf(c[2], sizeof c[2], "\xe2\x80\x94");
        sr_pdf_fmt_num(oa ? oa->best_score : NAN, c[3], sizeof c[3]);
        sr_pdf_fmt_num(oa ? oa->final_score : NAN, c[4], sizeof c[4]);
        if (here)
            sr_pdfw_fill_rect(w, MARGIN, y - 4, CONTENT_W, 15, 0.93, 0.96, 1.0);
        for (size_t j = 0; j < 5; j++) {
            double cw = (j + 1 < 5 ? xs[j + 1] : MARGIN + CONTENT_W) - xs[j] - 4;
            sr_pdfw_text(w, right[j] ? xs[j] + cw : xs[j] + 2, y, c[j], here, 8.5, cw - 2, right[j] ? 1 : 0);
        }
        y -= 15;
        shown++;
    }
    free(order);
}

/* ---- the record: parameters and checkpoint files -------------------------- */

/* Pages that a list flows over: a heading on each, "(continued)" after the
 * first, one bookmark. */
typedef struct {
    sr_pdfw *w;
    const char *section, *title, *sub, *bookmark;
    size_t pages;
    double y;
} flow;

static void flow_page(flow *f)
{
    sr_pdfw_page(f->w, f->section);
    if (!f->pages)
        sr_pdfw_outline(f->w, NULL, f->bookmark);
    char *t = f->pages ? xasprintf("%s (continued)", f->title) : xstrdup(f->title);
    f->y = sr_pdfw_heading(f->w, t, f->pages ? NULL : f->sub);
    free(t);
    f->pages++;
}

/* A new page unless h points fit above the footer. */
static void flow_room(flow *f, double h)
{
    if (!f->pages || f->y - h < SR_PDF_BOTTOM)
        flow_page(f);
}

/* A parameter's value as recorded: a number exactly, text as it is, lists
 * and objects as JSON (malloc'd). */
static char *param_value(const cJSON *it)
{
    if (cJSON_IsString(it))
        return xstrdup(it->valuestring);
    if (cJSON_IsNumber(it)) {
        char nb[64];
        sr_pdf_fmt_exact(it->valuedouble, nb, sizeof nb);
        return xstrdup(nb);
    }
    char *v = cJSON_PrintUnformatted(it);
    return v ? v : xstrdup("?");
}

#define KEY_W 165.0
#define PARAM_SIZE 9.0

/* The lines of clean text s wrapped to max_w: their starts, and lens. */
static size_t wrap_lines(sr_pdfw *w, const char *clean, int bold, double max_w, const char ***starts, size_t **lens)
{
    size_t n = 0, cap = 0;
    *starts = NULL;
    *lens = NULL;
    for (const char *p = clean; *p;) {
        size_t take = sr_pdfw_wrap_take(w, p, bold, PARAM_SIZE, max_w);
        if (n == cap) {
            cap = cap ? 2 * cap : 8;
            *starts = xrealloc(*starts, cap * sizeof **starts);
            *lens = xrealloc(*lens, cap * sizeof **lens);
        }
        (*starts)[n] = p;
        (*lens)[n++] = take;
        p += take;
        while (*p == ' ')
            p++;
    }
    return n;
}

/* Every parameter, one under the other: the name on the left, the value
 * beside it, both wrapped over as many lines (and pages) as they take. */
static void params_pages(sr_pdfw *w, size_t ti, const char *section)
{
    const sr_trial *t = &w->s->trials[ti];
    const cJSON *params = sr_pdf_trial_params(t);
    char *title = xasprintf("%s \xe2\x80\x94 parameters", t->name);
    flow f = {w, section, title,
              t->params ? "from params.json, exactly as recorded: each number the shortest that reads back the same, "
                          "no value cut"
                        : "from the Optuna trial, exactly as recorded: each number the shortest that reads back the "
                          "same, no value cut",
              "Parameters", 0, 0};
    flow_page(&f);
    if (!cJSON_GetArraySize(params))
        sr_pdfw_text(w, MARGIN, f.y, "None recorded.", 0, 10, CONTENT_W, 0);
    const double lh = PARAM_SIZE * 1.3, vx = MARGIN + KEY_W + 10, vw = CONTENT_W - KEY_W - 10;
    sr_buf key, value;
    sr_buf_init(&key);
    sr_buf_init(&value);
    const cJSON *it;
    cJSON_ArrayForEach(it, params)
    {
        if (sr_pdfw_failed(w))
            break;
        char *v = param_value(it);
        sr_pdf_text_clean(&w->fonts, it->string ? it->string : "?", 0, &key);
        sr_pdf_text_clean(&w->fonts, v, 0, &value);
        free(v);
        const char **ks, **vs;
        size_t *kl, *vl;
        size_t nk = wrap_lines(w, key.s, 0, KEY_W, &ks, &kl), nv = wrap_lines(w, value.s, 0, vw, &vs, &vl);
        for (size_t i = 0; i < nk || i < nv || i == 0; i++) {
            flow_room(&f, lh);
            if (i < nk) {
                char *line = xstrndup(ks[i], kl[i]);
                sr_pdfw_grey(w, 0.35);
                sr_pdfw_text(w, MARGIN, f.y, line, 0, PARAM_SIZE, KEY_W, 0);
                sr_pdfw_grey(w, 0);
                free(line);
            }
            if (i < nv) {
                char *line = xstrndup(vs[i], vl[i]);
                sr_pdfw_text(w, vx, f.y, line, 0, PARAM_SIZE, vw, 0);
                free(line);
            }
            f.y -= lh;
        }
        f.y -= 3;
        free(ks);
        free(kl);
        free(vs);
        free(vl);
    }
    sr_buf_free(&key);
    sr_buf_free(&value);
    free(title);
}

/* One line of what the checkpoints' metadata records: a text field of
 * sr_ckpt_meta (at field), or one that get formats (malloc'd, NULL when
 * the checkpoint does not record it). */
typedef struct {
    const char *key;
    char *(*get)(const sr_checkpoint *c);
    size_t field;
} meta_line;

static char *meta_text(const sr_checkpoint *c, const meta_line *m)
{
    if (m->get)
        return m->get(c);
    const char *v = *(char *const *)(const void *)((const char *)&c->meta + m->field);
    return v ? xstrdup(v) : NULL;
}

/* A time of the metadata (Unix seconds) in UTC, to the second. */
static char *utc_text(double t)
{
    if (!isfinite(t) || t < 0 || t > 253402300799.0) /* up to 9999 */
        return NULL;
    time_t s = (time_t)t;
    struct tm tm;
    gmtime_r(&s, &tm);
    char b[32];
    strftime(b, sizeof b, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return xstrdup(b);
}

static char *meta_started(const sr_checkpoint *c)
{
    return utc_text(c->meta.training_started_at);
}

/* When the training finished: kohya writes the time of each save into
 * its checkpoint, so the trial's is the latest of them (the final
 * model's). */
static char *latest_finished(const sr_trial *t)
{
    double latest = NAN;
    for (size_t k = 0; k < t->n_ckpts; k++) {
        double v = t->ckpts[k].meta.training_finished_at;
        if (isfinite(v) && !(v <= latest))
            latest = v;
    }
    char *s = utc_text(latest);
    return s ? s : xstrdup("not in the checkpoints' metadata");
}

static char *meta_network(const sr_checkpoint *c)
{
    if (c->meta.network_dim < 0 && isnan(c->meta.network_alpha))
        return NULL;
    char dim[32], alpha[64];
    if (c->meta.network_dim >= 0)
        snprintf(dim, sizeof dim, "%ld", c->meta.network_dim);
    else
        snprintf(dim, sizeof dim, "not recorded");
    if (isnan(c->meta.network_alpha))
        snprintf(alpha, sizeof alpha, "not recorded or dynamic");
    else
        sr_pdf_fmt_exact(c->meta.network_alpha, alpha, sizeof alpha);
    return xasprintf("dim %s, alpha %s", dim, alpha);
}

/* What the trial's checkpoints record of one thing: the one value, or each
 * value with how many checkpoints have it (malloc'd). */
static char *meta_values(const sr_trial *t, const meta_line *m)
{
    char **vals = xcalloc(t->n_ckpts + 1, sizeof *vals);
    size_t *count = xcalloc(t->n_ckpts + 1, sizeof *count);
    size_t n = 0, with = 0;
    for (size_t k = 0; k < t->n_ckpts; k++) {
        char *v = meta_text(&t->ckpts[k], m);
        if (!v)
            continue;
        with++;
        size_t i = 0;
        while (i < n && strcmp(vals[i], v) != 0)
            i++;
        if (i < n)
            free(v);
        else
            vals[n++] = v;
        count[i]++;
    }
    sr_buf b;
    sr_buf_init(&b);
    sr_buf_puts(&b, "");
    if (!n)
        sr_buf_puts(&b, "not in the checkpoints' metadata");
    for (size_t i = 0; i < n; i++) {
        if (n == 1)
            sr_buf_puts(&b, vals[i]);
        else
            sr_buf_printf(&b, "%s%s (%zu checkpoint%s)", i ? "; " : "", vals[i], count[i], count[i] == 1 ? "" : "s");
        free(vals[i]);
    }
    if (n && with < t->n_ckpts)
        sr_buf_printf(&b, "; %zu checkpoint%s without it", t->n_ckpts - with, t->n_ckpts - with == 1 ? "" : "s");
    free(vals);
    free(count);
    return sr_buf_steal(&b);
}

/* Each checkpoint file as the scan found it: status, step, size in bytes,
 * modification time, adapter format and tensor count; above the table,
 * what the checkpoints' metadata says of the trial's model. */
static void files_pages(sr_pdfw *w, size_t ti, const char *section)
{
    const sr_trial *t = &w->s->trials[ti];
    char *title = xasprintf("%s \xe2\x80\x94 checkpoint files", t->name);
    flow f = {w, section, title,
              "each file as the scan found it, and what the checkpoints' metadata records of the model",
              "Checkpoint files", 0, 0};
    flow_page(&f);
    static const meta_line metas[] = {
        {"Base model", NULL, offsetof(sr_ckpt_meta, sd_model_name)},
        {"Base model version", NULL, offsetof(sr_ckpt_meta, base_model)},
        {"Architecture", NULL, offsetof(sr_ckpt_meta, architecture)},
        {"Network", meta_network, 0},
        {"Output name", NULL, offsetof(sr_ckpt_meta, output_name)},
        {"Training seed", NULL, offsetof(sr_ckpt_meta, seed)},
        {"Training started", meta_started, 0},
    };
    /* one line each, so that the table below starts where it always does */
    for (size_t i = 0; i < sizeof metas / sizeof metas[0]; i++) {
        char *v = meta_values(t, &metas[i]);
        f.y = sr_pdfw_key_value_lines(w, f.y, metas[i].key, v, 1);
        free(v);
    }
    char *fin = latest_finished(t);
    f.y = sr_pdfw_key_value_lines(w, f.y, "Training finished", fin, 1);
    free(fin);
    f.y -= 6;
    static const char *const names[] = {"Epoch", "Checkpoint", "Status", "Step", "Bytes", "Modified (UTC)",
                                        "Format", "Tensors"};
    static const int right[] = {1, 0, 0, 1, 1, 0, 0, 1};
    enum { NC = sizeof names / sizeof names[0] };
    const double xs[NC] = {MARGIN,       MARGIN + 34,  MARGIN + 196, MARGIN + 250,
                           MARGIN + 286, MARGIN + 346, MARGIN + 434, MARGIN + 472};
    for (size_t row = 0; row < t->n_ckpts && !sr_pdfw_failed(w); row++) {
        /* SR_PDF_ARCHIVE_FILES_PER_PAGE rows a page (the header again on
         * each), sooner only should a row ever reach the footer */
        if (row % SR_PDF_ARCHIVE_FILES_PER_PAGE == 0 || f.y - 12 < SR_PDF_BOTTOM) {
            if (row)
                flow_page(&f);
            sr_pdfw_table_header(w, f.y, names, xs, right, NC, 7.5);
            f.y -= 14;
        }
        const sr_checkpoint *c = &t->ckpts[row];
        if (row % 2)
            sr_pdfw_fill_rect(w, MARGIN, f.y - 3, CONTENT_W, 12, 0.97, 0.97, 0.97);
        char cell[NC][96];
        if (c->epoch >= 0)
            snprintf(cell[0], sizeof cell[0], "%ld", c->epoch);
        else
            snprintf(cell[0], sizeof cell[0], "%s", c->final ? "final" : "\xe2\x80\x94");
        snprintf(cell[1], sizeof cell[1], "%s", c->file);
        snprintf(cell[2], sizeof cell[2], "%s", sr_ckpt_status_name(c->status));
        if (c->step >= 0)
            snprintf(cell[3], sizeof cell[3], "%ld", c->step);
        else
            snprintf(cell[3], sizeof cell[3], "\xe2\x80\x94");
        snprintf(cell[4], sizeof cell[4], "%llu", (unsigned long long)c->size);
        time_t mt = (time_t)(c->mtime_ns / 1000000000);
        struct tm tm;
        gmtime_r(&mt, &tm);
        strftime(cell[5], sizeof cell[5], "%Y-%m-%d %H:%M:%S", &tm);
        snprintf(cell[6], sizeof cell[6], "%s", c->format ? c->format : "\xe2\x80\x94");
        if (c->status == SR_CKPT_OK)
            snprintf(cell[7], sizeof cell[7], "%zu", c->n_tensors);
        else
            snprintf(cell[7], sizeof cell[7], "\xe2\x80\x94");
        for (size_t j = 0; j < NC; j++) {
            double cw = (j + 1 < NC ? xs[j + 1] : MARGIN + CONTENT_W) - xs[j] - 4;
            /* a long file name gets smaller before it is cut */
            sr_pdfw_text_shrink(w, right[j] ? xs[j] + cw : xs[j] + 2, f.y, cell[j], 0, 7.5, j == 1 ? 5.5 : 7.5,
                                cw - 2, right[j] ? 1 : 0);
        }
        f.y -= 12;
    }
    if (!t->n_ckpts)
        sr_pdfw_text(w, MARGIN, f.y, "No checkpoints.", 0, 9, CONTENT_W, 0);
    free(title);
}

/* ---- writing ------------------------------------------------------------- */

int sr_pdf_archive_write(const sr_sweep *s, const sr_analysis *a, size_t ti, sr_problems *problems, char *err,
                         size_t errlen)
{
    const sr_trial *t = &s->trials[ti];
    if (!t->n_ckpts || !t->path)
        return 2;
    char *path = sr_pdf_archive_path(t);
    sr_atomic_mode mode = SR_ATOMIC_NO_REPLACE;
    struct stat st;
    if (lstat(path, &st) == 0) {
        const char *why = NULL;
        char ebuf[256];
        if (!S_ISREG(st.st_mode)) {
            why = "it is not a regular file";
        } else {
            int ours = sr_pdf_archive_is_ours(path);
            if (ours < 0) {
                snprintf(ebuf, sizeof ebuf, "it cannot be read (%s)", strerror(errno));
                why = ebuf;
            } else if (!ours) {
                why = "sweepreport did not write it (or it was changed since)";
            }
        }
        if (why) {
            sr_problems_add(problems, path, "archive PDF not replaced: %s", why);
            free(path);
            return 1;
        }
        mode = SR_ATOMIC_REPLACE;
    } else if (errno != ENOENT) {
        snprintf(err, errlen, "%s: cannot look at it: %s", path, strerror(errno));
        free(path);
        return -1;
    }

    sr_pdfw w;
    char why[SR_MSG_MAX];
    if (sr_pdfw_open(&w, s, a, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: %s", path, why);
        free(path);
        return -1;
    }
    time_t now = time(NULL);
    char *title = xasprintf("Trial %s of sweep %s", t->name, sr_path_base(s->path));
    char *keywords = xasprintf("sweepreport archive; sweep %s; trial %s", sr_path_base(s->path), t->name);
    sr_pdfw_info(&w, title, "One trial of a LoRA hyperparameter sweep: its checkpoints, scores and samples, and "
                            "where it ranks in the sweep",
                 keywords, now);
    free(title);
    free(keywords);
    const sr_pdfa_property props[] = {
        {"Writer", "sweepreport " PACKAGE_VERSION, "the program that wrote this file"},
        {"Sweep", s->path, "the sweep folder"},
        {"Trial", t->name, "the trial this file archives"},
    };
    int rc = -1;
    if (sr_pdfa_prepare(w.doc, props, sizeof props / sizeof props[0], why, sizeof why) != 0 ||
        sr_pdfw_load_fonts(&w, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: %s", path, why);
        goto done;
    }
    w.archive = 1;
    context_page(&w, ti, now);
    sr_pdf_trial_section(&w, ti, NULL, NULL);
    char *section = sr_pdf_trial_title(t->name);
    params_pages(&w, ti, section);
    files_pages(&w, ti, section);
    free(section);
    sr_pdfw_font_note(&w, path, problems);
    sr_pdf_trial_problems_section(&w, ti);
    sr_pdfw_footers(&w);
    if (sr_pdfw_failed(&w)) {
        sr_pdfw_error_text(&w, why, sizeof why);
        snprintf(err, errlen, "%s: %s while drawing", path, why);
        goto done;
    }
    if (sr_pdfw_save(&w, path, mode, err, errlen) != 0) {
        if (errno == EEXIST && mode == SR_ATOMIC_NO_REPLACE) {
            sr_problems_add(problems, path, "archive PDF not written: a file of that name appeared meanwhile");
            rc = 1;
        }
        goto done;
    }
    rc = 0;
done:
    sr_pdfw_close(&w);
    free(path);
    return rc;
}

static int has_problem(const sr_problems *p, const char *text)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->items[i].problem && strcmp(p->items[i].problem, text) == 0)
            return 1;
    return 0;
}

size_t sr_pdf_archive_sweep(const sr_sweep *s, const sr_analysis *a, sr_problems *problems)
{
    char why[SR_MSG_MAX];
    if (sr_pdfa_check_icc(why, sizeof why) != 0) {
        sr_problems_add(problems, s->path, "archive PDFs not written: %s", why);
        return 0;
    }
    size_t written = 0;
    for (size_t i = 0; i < s->n_trials; i++) {
        sr_problems found;
        sr_problems_init(&found);
        char err[SR_MSG_MAX];
        int rc = sr_pdf_archive_write(s, a, i, &found, err, sizeof err);
        if (rc == 0)
            written++;
        /* each file left alone is named; the note on the fonts is the same
         * for every trial and said once */
        for (size_t k = 0; k < found.n; k++) {
            const char *text = found.items[k].problem ? found.items[k].problem : "";
            if (strncmp(text, "archive PDF", 11) == 0 || !has_problem(problems, text))
                sr_problems_add(problems, found.items[k].path, "%s", text);
        }
        if (rc < 0) {
            char *path = sr_pdf_archive_path(&s->trials[i]);
            sr_problems_add(problems, path, "archive PDF not written: %s", sr_reason_after_path(err, path));
            free(path);
        }
        sr_problems_free(&found);
    }
    return written;
}
