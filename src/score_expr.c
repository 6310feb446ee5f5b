/* score_expr.c - compiles a score expression into postfix code and runs it. */
#include "config.h"

#include "score_expr.h"
#include "util.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum {
    OP_NUM,
    OP_VAR,
    OP_NEG,
    OP_ADD,
    OP_SUB,
    OP_MUL,
    OP_DIV,
    OP_ABS,
    OP_SQRT,
    OP_LOG,
    OP_MIN,
    OP_MAX
} op_kind;

typedef struct {
    op_kind op;
    double num;   /* OP_NUM */
    size_t arg;   /* OP_VAR: metric index; OP_MIN/OP_MAX: argument count */
} instr;

struct sr_score_expr {
    instr *code;
    size_t n_code, cap_code;
    char **metrics;
    size_t n_metrics;
    size_t max_stack;
};

typedef struct {
    const char *text;
    size_t pos;
    const char *const *names;
    size_t n_names;
    sr_score_expr *e;
    size_t stack, depth;
    int failed;
    char *err;
    size_t errlen;
} parser;

/* "<message> at column N", then "(the end of the expression)" when it is
 * there, then tail. */
static void vfail(parser *P, size_t at, const char *tail, const char *fmt, va_list ap)
{
    if (P->failed)
        return;
    P->failed = 1;
    if (!P->err || !P->errlen)
        return;
    sr_buf b;
    sr_buf_init(&b);
    sr_buf_vprintf(&b, fmt, ap);
    sr_buf_printf(&b, " at column %zu", at + 1);
    if (!P->text[at])
        sr_buf_puts(&b, " (the end of the expression)");
    if (tail)
        sr_buf_puts(&b, tail);
    snprintf(P->err, P->errlen, "%s", b.s);
    sr_buf_free(&b);
}

static void fail(parser *P, size_t at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void fail(parser *P, size_t at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(P, at, NULL, fmt, ap);
    va_end(ap);
}

static void fail_with(parser *P, size_t at, const char *tail, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void fail_with(parser *P, size_t at, const char *tail, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(P, at, tail, fmt, ap);
    va_end(ap);
}

static void describe_at(const parser *P, size_t pos, char *buf, size_t len);

/* "expected X at column N, found 'y'" (note appended). */
static void fail_expected(parser *P, size_t at, const char *note, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void fail_expected(parser *P, size_t at, const char *note, const char *fmt, ...)
{
    char what[48], tail[160] = "";
    if (P->text[at]) {
        describe_at(P, at, what, sizeof what);
        snprintf(tail, sizeof tail, ", found %s", what);
    }
    if (note)
        snprintf(tail + strlen(tail), sizeof tail - strlen(tail), "%s", note);
    va_list ap;
    va_start(ap, fmt);
    vfail(P, at, tail, fmt, ap);
    va_end(ap);
}

/* Adds the unknown-metric message, listing the metrics there are. */
static void fail_unknown_metric(parser *P, size_t at, const char *name)
{
    if (P->failed)
        return;
    P->failed = 1;
    if (!P->err || !P->errlen)
        return;
    sr_buf b;
    sr_buf_init(&b);
    sr_buf_printf(&b, "unknown metric '%s' at column %zu; ", name, at + 1);
    if (P->n_names == 0) {
        sr_buf_puts(&b, "no checkpoint has metrics yet");
    } else {
        sr_buf_puts(&b, "available metrics: ");
        for (size_t i = 0; i < P->n_names; i++)
            sr_buf_printf(&b, "%s%s", i ? ", " : "", P->names[i]);
    }
    snprintf(P->err, P->errlen, "%s", b.s);
    sr_buf_free(&b);
}

static void emit(parser *P, op_kind op, double num, size_t arg)
{
    sr_score_expr *e = P->e;
    if (e->n_code == e->cap_code) {
        e->cap_code = e->cap_code ? e->cap_code * 2 : 16;
        e->code = xrealloc(e->code, e->cap_code * sizeof *e->code);
    }
    e->code[e->n_code++] = (instr){op, num, arg};
    /* stack effect */
    switch (op) {
    case OP_NUM:
    case OP_VAR:
        P->stack++;
        break;
    case OP_ADD:
    case OP_SUB:
    case OP_MUL:
    case OP_DIV:
        P->stack--;
        break;
    case OP_MIN:
    case OP_MAX:
        P->stack -= arg - 1;
        break;
    default:
        break;
    }
    if (P->stack > e->max_stack)
        e->max_stack = P->stack;
}

static void skip_space(parser *P)
{
    while (P->text[P->pos] && isspace((unsigned char)P->text[P->pos]))
        P->pos++;
}

static int is_name_start(char c)
{
    return isalpha((unsigned char)c) || c == '_';
}

static int is_name_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '.';
}

/* A short description of what stands at pos, for messages. */
static void describe_at(const parser *P, size_t pos, char *buf, size_t len)
{
    const char *s = P->text + pos;
    if (!*s) {
        snprintf(buf, len, "the end");
        return;
    }
    size_t n = 0;
    if (is_name_start(*s) || isdigit((unsigned char)*s) || *s == '.') {
        while (s[n] && (is_name_char(s[n])) && n < 32)
            n++;
    } else {
        n = 1;
    }
    snprintf(buf, len, "'%.*s'", (int)n, s);
}

static void parse_expr(parser *P);

static size_t metric_slot(parser *P, const char *name)
{
    sr_score_expr *e = P->e;
    for (size_t i = 0; i < e->n_metrics; i++)
        if (strcmp(e->metrics[i], name) == 0)
            return i;
    e->metrics = xrealloc(e->metrics, (e->n_metrics + 1) * sizeof *e->metrics);
    e->metrics[e->n_metrics] = xstrdup(name);
    return e->n_metrics++;
}

static int known_name(const parser *P, const char *name)
{
    if (!P->names)
        return 1;
    for (size_t i = 0; i < P->n_names; i++)
        if (P->names[i] && strcmp(P->names[i], name) == 0)
            return 1;
    return 0;
}

static void use_metric(parser *P, size_t at, const char *name)
{
    if (!known_name(P, name)) {
        fail_unknown_metric(P, at, name);
        return;
    }
    emit(P, OP_VAR, 0, metric_slot(P, name));
}

static void parse_number(parser *P)
{
    size_t start = P->pos, i = start;
    const char *t = P->text;
    size_t digits = 0;
    while (isdigit((unsigned char)t[i])) {
        i++;
        digits++;
    }
    if (t[i] == '.') {
        i++;
        while (isdigit((unsigned char)t[i])) {
            i++;
            digits++;
        }
    }
    int bad = digits == 0;
    if (!bad && (t[i] == 'e' || t[i] == 'E')) {
        size_t j = i + 1;
        if (t[j] == '+' || t[j] == '-')
            j++;
        if (isdigit((unsigned char)t[j])) {
            while (isdigit((unsigned char)t[j]))
                j++;
            i = j;
        } else {
            bad = 1;
        }
    }
    if (bad || is_name_char(t[i])) {
        size_t end = i;
        while (is_name_char(t[end]) || ((t[end] == '+' || t[end] == '-') && (t[end - 1] == 'e' || t[end - 1] == 'E')))
            end++;
        fail(P, start, "malformed number '%.*s'", (int)(end - start), t + start);
        return;
    }
    char *s = xstrndup(t + start, i - start);
    double v = strtod(s, NULL);
    free(s);
    if (!isfinite(v)) {
        fail(P, start, "number '%.*s' out of range", (int)(i - start), t + start);
        return;
    }
    P->pos = i;
    emit(P, OP_NUM, v, 0);
}

typedef struct {
    const char *name;
    op_kind op;
    int min_args, max_args; /* max -1: unbounded */
} func_def;

static const func_def funcs[] = {
    {"abs", OP_ABS, 1, 1}, {"sqrt", OP_SQRT, 1, 1}, {"log", OP_LOG, 1, 1},
    {"min", OP_MIN, 2, -1}, {"max", OP_MAX, 2, -1},
};

static void parse_call(parser *P, size_t at, const char *name)
{
    const func_def *f = NULL;
    for (size_t i = 0; i < sizeof funcs / sizeof funcs[0]; i++)
        if (strcmp(funcs[i].name, name) == 0)
            f = &funcs[i];
    if (!f) {
        fail_with(P, at, " (known: abs, sqrt, log, min, max)", "unknown function '%s'", name);
        return;
    }
    P->pos++; /* '(' */
    size_t nargs = 0;
    skip_space(P);
    if (P->text[P->pos] == ')') {
        char tail[64];
        snprintf(tail, sizeof tail, " needs %s %d argument%s", f->max_args < 0 ? "at least" : "exactly",
                 f->min_args, f->min_args == 1 ? "" : "s");
        fail_with(P, at, tail, "%s", f->name);
        return;
    }
    for (;;) {
        parse_expr(P);
        if (P->failed)
            return;
        nargs++;
        skip_space(P);
        if (P->text[P->pos] == ',') {
            P->pos++;
            continue;
        }
        if (P->text[P->pos] != ')') {
            fail_expected(P, P->pos, NULL, "expected ',' or ')' in the call of %s", f->name);
            return;
        }
        P->pos++;
        break;
    }
    if ((int)nargs < f->min_args || (f->max_args >= 0 && (int)nargs > f->max_args)) {
        char tail[80];
        snprintf(tail, sizeof tail, " needs %s %d argument%s, got %zu", f->max_args < 0 ? "at least" : "exactly",
                 f->min_args, f->min_args == 1 ? "" : "s", nargs);
        fail_with(P, at, tail, "%s", f->name);
        return;
    }
    emit(P, f->op, 0, nargs);
}

static void parse_primary(parser *P)
{
    skip_space(P);
    const char *t = P->text;
    size_t at = P->pos;
    char c = t[at];
    if (isdigit((unsigned char)c) || (c == '.' && isdigit((unsigned char)t[at + 1]))) {
        parse_number(P);
    } else if (c == '.') {
        parse_number(P); /* reports the malformed number */
    } else if (is_name_start(c)) {
        size_t end = at;
        while (is_name_char(t[end]))
            end++;
        char *name = xstrndup(t + at, end - at);
        P->pos = end;
        skip_space(P);
        if (t[P->pos] == '(')
            parse_call(P, at, name);
        else
            use_metric(P, at, name);
        free(name);
    } else if (c == '"') {
        const char *close = strchr(t + at + 1, '"');
        if (!close) {
            fail(P, at, "unterminated quoted name");
            return;
        }
        if (close == t + at + 1) {
            fail(P, at, "empty quoted name");
            return;
        }
        char *name = xstrndup(t + at + 1, (size_t)(close - (t + at + 1)));
        P->pos = (size_t)(close - t) + 1;
        use_metric(P, at, name);
        free(name);
    } else if (c == '(') {
        P->pos++;
        parse_expr(P);
        if (P->failed)
            return;
        skip_space(P);
        if (t[P->pos] != ')') {
            char note[64];
            snprintf(note, sizeof note, "; the '(' at column %zu is not closed", at + 1);
            fail_expected(P, P->pos, note, "expected ')'");
            return;
        }
        P->pos++;
    } else {
        fail_expected(P, at, NULL, "expected a number, a metric name or '('");
    }
}

static void parse_unary(parser *P)
{
    skip_space(P);
    if (++P->depth > SR_SCORE_MAX_DEPTH) {
        fail(P, P->pos, "nesting deeper than %d levels", SR_SCORE_MAX_DEPTH);
        return;
    }
    char c = P->text[P->pos];
    if (c == '-' || c == '+') {
        P->pos++;
        parse_unary(P);
        if (!P->failed && c == '-')
            emit(P, OP_NEG, 0, 0);
    } else {
        parse_primary(P);
    }
    P->depth--;
}

static void parse_term(parser *P)
{
    parse_unary(P);
    for (;;) {
        if (P->failed)
            return;
        skip_space(P);
        char c = P->text[P->pos];
        if (c != '*' && c != '/')
            return;
        P->pos++;
        parse_unary(P);
        if (!P->failed)
            emit(P, c == '*' ? OP_MUL : OP_DIV, 0, 0);
    }
}

static void parse_expr(parser *P)
{
    parse_term(P);
    for (;;) {
        if (P->failed)
            return;
        skip_space(P);
        char c = P->text[P->pos];
        if (c != '+' && c != '-')
            return;
        P->pos++;
        parse_term(P);
        if (!P->failed)
            emit(P, c == '+' ? OP_ADD : OP_SUB, 0, 0);
    }
}

sr_score_expr *sr_score_compile(const char *text, const char *const *names, size_t n_names, char *err,
                                size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    parser P = {0};
    P.text = text ? text : "";
    P.names = names;
    P.n_names = n_names;
    P.err = err;
    P.errlen = errlen;
    P.e = xcalloc(1, sizeof *P.e);
    skip_space(&P);
    if (!P.text[P.pos]) {
        P.failed = 1;
        if (err && errlen)
            snprintf(err, errlen, "empty expression");
    } else {
        parse_expr(&P);
    }
    if (!P.failed) {
        skip_space(&P);
        if (P.text[P.pos]) {
            if (P.text[P.pos] == ')')
                fail(&P, P.pos, "unmatched ')'");
            else
                fail_expected(&P, P.pos, NULL, "expected an operator (+ - * /)");
        }
    }
    if (P.failed) {
        sr_score_free(P.e);
        return NULL;
    }
    return P.e;
}

/* min/max that let a NaN through (fmin/fmax would drop it). */
static double nan_min(double a, double b)
{
    return isnan(a) || isnan(b) ? NAN : a < b ? a : b;
}

static double nan_max(double a, double b)
{
    return isnan(a) || isnan(b) ? NAN : a > b ? a : b;
}

double sr_score_eval(const sr_score_expr *e, const sr_metrics *m)
{
    if (!e || e->n_code == 0)
        return NAN;
    double small[32];
    double *st = e->max_stack <= 32 ? small : xmalloc(e->max_stack * sizeof *st);
    size_t sp = 0;
    double result = NAN;
    for (size_t i = 0; i < e->n_code; i++) {
        const instr *in = &e->code[i];
        switch (in->op) {
        case OP_NUM:
            st[sp++] = in->num;
            break;
        case OP_VAR: {
            double v;
            if (!m || !sr_metrics_get(m, e->metrics[in->arg], &v))
                goto done;
            st[sp++] = v;
            break;
        }
        case OP_NEG:
            st[sp - 1] = -st[sp - 1];
            break;
        case OP_ADD:
            sp--;
            st[sp - 1] += st[sp];
            break;
        case OP_SUB:
            sp--;
            st[sp - 1] -= st[sp];
            break;
        case OP_MUL:
            sp--;
            st[sp - 1] *= st[sp];
            break;
        case OP_DIV:
            sp--;
            st[sp - 1] = st[sp] == 0.0 ? NAN : st[sp - 1] / st[sp];
            break;
        case OP_ABS:
            st[sp - 1] = fabs(st[sp - 1]);
            break;
        case OP_SQRT:
            st[sp - 1] = st[sp - 1] < 0 ? NAN : sqrt(st[sp - 1]);
            break;
        case OP_LOG:
            st[sp - 1] = st[sp - 1] <= 0 ? NAN : log(st[sp - 1]);
            break;
        case OP_MIN:
        case OP_MAX: {
            size_t n = in->arg;
            double v = st[sp - n];
            for (size_t k = 1; k < n; k++)
                v = in->op == OP_MIN ? nan_min(v, st[sp - n + k]) : nan_max(v, st[sp - n + k]);
            sp -= n;
            st[sp++] = v;
            break;
        }
        }
    }
    if (sp == 1 && isfinite(st[0]))
        result = st[0];
done:
    if (st != small)
        free(st);
    return result;
}

size_t sr_score_n_metrics(const sr_score_expr *e)
{
    return e ? e->n_metrics : 0;
}

const char *sr_score_metric(const sr_score_expr *e, size_t i)
{
    return e && i < e->n_metrics ? e->metrics[i] : NULL;
}

void sr_score_free(sr_score_expr *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->n_metrics; i++)
        free(e->metrics[i]);
    free(e->metrics);
    free(e->code);
    free(e);
}
