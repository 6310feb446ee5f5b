/* mustache.c - Mustache templates: a compiler to a node tree and a renderer
 * over a cJSON context stack. */
#include "config.h"

#include "mustache.h"
#include "util.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Render nesting (sections plus partials) beyond this is an error. */
#define RENDER_MAX_DEPTH (2 * SR_MUSTACHE_MAX_NESTING)
/* Longest accepted delimiter. */
#define DELIM_MAX 32

enum node_kind {
    N_TEXT,     /* literal text */
    N_VAR,      /* {{name}}: escaped */
    N_RAW,      /* {{{name}}} / {{& name}} */
    N_SECTION,  /* {{#name}}...{{/name}} */
    N_INVERTED, /* {{^name}}...{{/name}} */
    N_PARTIAL   /* {{>name}} / {{>*name}} */
};

typedef struct node node;
struct node {
    enum node_kind kind;
    char *str;    /* text, or the name */
    size_t len;   /* length of str */
    char *indent; /* partial: standalone indentation, or NULL */
    int dynamic;  /* partial: the name is looked up in the context */
    size_t where; /* byte offset of the tag in the source */
    node *kids;
    size_t nkids, capkids;
};

struct sr_mustache {
    node root;
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

static void line_col(const char *text, size_t off, int *line, int *col)
{
    int l = 1, c = 1;
    for (size_t i = 0; i < off && text[i]; i++) {
        if (text[i] == '\n') {
            l++;
            c = 1;
        } else {
            c++;
        }
    }
    *line = l;
    *col = c;
}

static void free_kids(node *n)
{
    for (size_t i = 0; i < n->nkids; i++) {
        free_kids(&n->kids[i]);
        free(n->kids[i].str);
        free(n->kids[i].indent);
    }
    free(n->kids);
    n->kids = NULL;
    n->nkids = n->capkids = 0;
}

static node *add_kid(node *parent, enum node_kind kind, const char *s, size_t len, size_t where)
{
    if (parent->nkids == parent->capkids) {
        parent->capkids = parent->capkids ? 2 * parent->capkids : 8;
        parent->kids = xrealloc(parent->kids, parent->capkids * sizeof *parent->kids);
    }
    node *n = &parent->kids[parent->nkids++];
    memset(n, 0, sizeof *n);
    n->kind = kind;
    n->str = xstrndup(s, len);
    n->len = len;
    n->where = where;
    return n;
}

static void add_text(node *parent, const char *s, size_t len, size_t where)
{
    if (len == 0)
        return;
    node *last = parent->nkids ? &parent->kids[parent->nkids - 1] : NULL;
    if (last && last->kind == N_TEXT) {
        last->str = xrealloc(last->str, last->len + len + 1);
        memcpy(last->str + last->len, s, len);
        last->len += len;
        last->str[last->len] = '\0';
        return;
    }
    add_kid(parent, N_TEXT, s, len, where);
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Trims [*s, *s + *len) in place. */
static void trim(const char **s, size_t *len)
{
    while (*len && is_space(**s)) {
        (*s)++;
        (*len)--;
    }
    while (*len && is_space((*s)[*len - 1]))
        (*len)--;
}

/* Parses the inside of {{= ... =}}: two delimiters separated by whitespace. */
static int parse_delims(const char *s, size_t len, char *open, char *close)
{
    trim(&s, &len);
    size_t a = 0;
    while (a < len && !is_space(s[a]))
        a++;
    size_t b = a;
    while (b < len && is_space(s[b]))
        b++;
    const char *s2 = s + b;
    size_t len2 = len - b;
    if (a == 0 || len2 == 0 || a >= DELIM_MAX || len2 >= DELIM_MAX)
        return -1;
    for (size_t i = 0; i < len2; i++)
        if (is_space(s2[i]))
            return -1;
    if (memchr(s, '=', a) || memchr(s2, '=', len2))
        return -1;
    memcpy(open, s, a);
    open[a] = '\0';
    memcpy(close, s2, len2);
    close[len2] = '\0';
    return 0;
}

static int compile_into(sr_mustache *t, const char *text, char *err, size_t errlen)
{
    char open[DELIM_MAX] = "{{", close[DELIM_MAX] = "}}";
    node **stack = xmalloc((SR_MUSTACHE_MAX_NESTING + 1) * sizeof *stack);
    size_t depth = 0;
    stack[0] = &t->root;
    size_t n = strlen(text);
    size_t pos = 0;
    int line, col;

    for (;;) {
        node *cur = stack[depth];
        const char *hit = strstr(text + pos, open);
        if (!hit) {
            add_text(cur, text + pos, n - pos, pos);
            break;
        }
        size_t tag = (size_t)(hit - text);
        size_t olen = strlen(open), clen = strlen(close);
        size_t q = tag + olen; /* first byte inside the tag */
        char type = text[q];
        const char *end_at;
        size_t cstart, cend, tag_end; /* content [cstart, cend), tag ends at tag_end */
        if (type == '{' || type == '=') {
            char want[DELIM_MAX + 1];
            want[0] = type == '{' ? '}' : '=';
            memcpy(want + 1, close, clen + 1);
            end_at = strstr(text + q + 1, want);
            if (!end_at)
                goto unclosed;
            cstart = q + 1;
            cend = (size_t)(end_at - text);
            tag_end = cend + 1 + clen;
        } else {
            end_at = strstr(text + q, close);
            if (!end_at)
                goto unclosed;
            if (type == '&' || type == '#' || type == '^' || type == '/' || type == '>' || type == '!' ||
                type == '<' || type == '$')
                cstart = q + 1;
            else
                cstart = q;
            cend = (size_t)(end_at - text);
            tag_end = cend + clen;
        }

        const char *name = text + cstart;
        size_t nlen = cend - cstart;
        trim(&name, &nlen);

        /* Standalone: alone on its line apart from blanks. */
        int standalone = 0;
        size_t ls = tag, after = tag_end;
        if (type == '#' || type == '^' || type == '/' || type == '>' || type == '!' || type == '=') {
            while (ls > pos && text[ls - 1] != '\n')
                ls--;
            int left = ls == 0 || text[ls - 1] == '\n';
            for (size_t i = ls; left && i < tag; i++)
                if (!is_blank(text[i]))
                    left = 0;
            if (left) {
                size_t r = tag_end;
                while (r < n && is_blank(text[r]))
                    r++;
                if (r == n) {
                    standalone = 1;
                    after = n;
                } else if (text[r] == '\n') {
                    standalone = 1;
                    after = r + 1;
                } else if (text[r] == '\r' && text[r + 1] == '\n') {
                    standalone = 1;
                    after = r + 2;
                }
            }
        }
        if (standalone)
            add_text(cur, text + pos, ls - pos, pos);
        else
            add_text(cur, text + pos, tag - pos, pos);

        switch (type) {
        case '!':
            break;
        case '=':
            if (parse_delims(text + cstart, cend - cstart, open, close) != 0) {
                line_col(text, tag, &line, &col);
                set_err(err, errlen, "line %d, column %d: bad delimiter change '%.*s'", line, col,
                        (int)(tag_end - tag), text + tag);
                goto fail;
            }
            break;
        case '#':
        case '^': {
            if (nlen == 0)
                goto empty;
            if (depth >= SR_MUSTACHE_MAX_NESTING) {
                line_col(text, tag, &line, &col);
                set_err(err, errlen, "line %d, column %d: sections nested deeper than %d", line, col,
                        SR_MUSTACHE_MAX_NESTING);
                goto fail;
            }
            node *sec = add_kid(cur, type == '#' ? N_SECTION : N_INVERTED, name, nlen, tag);
            stack[++depth] = sec;
            break;
        }
        case '/':
            if (depth == 0) {
                line_col(text, tag, &line, &col);
                set_err(err, errlen, "line %d, column %d: section end '%.*s' without a section", line, col,
                        (int)nlen, name);
                goto fail;
            }
            if (nlen != cur->len || memcmp(name, cur->str, nlen) != 0) {
                int oline, ocol;
                line_col(text, tag, &line, &col);
                line_col(text, cur->where, &oline, &ocol);
                set_err(err, errlen,
                        "line %d, column %d: mismatched section end '%.*s' (section '%s' opened at line %d, "
                        "column %d)",
                        line, col, (int)nlen, name, cur->str, oline, ocol);
                goto fail;
            }
            depth--;
            break;
        case '>': {
            int dynamic = 0;
            if (nlen && name[0] == '*') {
                dynamic = 1;
                name++;
                nlen--;
                trim(&name, &nlen);
            }
            if (nlen == 0)
                goto empty;
            node *p = add_kid(cur, N_PARTIAL, name, nlen, tag);
            p->dynamic = dynamic;
            if (standalone && tag > ls)
                p->indent = xstrndup(text + ls, tag - ls);
            break;
        }
        case '<':
        case '$':
            line_col(text, tag, &line, &col);
            set_err(err, errlen, "line %d, column %d: template inheritance ('%c' tags) is not supported", line,
                    col, type);
            goto fail;
        default:
            if (nlen == 0)
                goto empty;
            add_kid(cur, type == '{' || type == '&' ? N_RAW : N_VAR, name, nlen, tag);
            break;
        }
        pos = standalone ? after : tag_end;
        continue;

    unclosed:
        line_col(text, tag, &line, &col);
        set_err(err, errlen, "line %d, column %d: unclosed tag (no '%s%s' after '%s')", line, col,
                type == '{' ? "}" : type == '=' ? "=" : "", close, open);
        goto fail;
    empty:
        line_col(text, tag, &line, &col);
        set_err(err, errlen, "line %d, column %d: tag without a name", line, col);
        goto fail;
    }

    if (depth > 0) {
        line_col(text, stack[depth]->where, &line, &col);
        set_err(err, errlen, "line %d, column %d: section '%s' is never closed", line, col, stack[depth]->str);
        goto fail;
    }
    free(stack);
    return 0;

fail:
    free(stack);
    return -1;
}

sr_mustache *sr_mustache_compile(const char *text, char *err, size_t errlen)
{
    sr_mustache *t = xcalloc(1, sizeof *t);
    if (!text)
        text = "";
    if (compile_into(t, text, err, errlen) != 0) {
        sr_mustache_free(t);
        return NULL;
    }
    return t;
}

void sr_mustache_free(sr_mustache *t)
{
    if (!t)
        return;
    free_kids(&t->root);
    free(t);
}

/* ---- rendering ---- */

typedef struct {
    char *name;
    char *indent;
    sr_mustache *t; /* NULL: unknown partial */
} cached_partial;

typedef struct {
    sr_buf *out;
    const cJSON **stack;
    size_t nstack, capstack;
    sr_mustache_partial_fn fn;
    void *fnctx;
    cached_partial *cache;
    size_t ncache, capcache;
    int depth;
    int pdepth;
    char *err;
    size_t errlen;
} rstate;

static void push(rstate *rs, const cJSON *v)
{
    if (rs->nstack == rs->capstack) {
        rs->capstack = rs->capstack ? 2 * rs->capstack : 16;
        rs->stack = xrealloc(rs->stack, rs->capstack * sizeof *rs->stack);
    }
    rs->stack[rs->nstack++] = v;
}

static const cJSON *member(const cJSON *obj, const char *key, size_t len)
{
    if (!cJSON_IsObject(obj))
        return NULL;
    for (const cJSON *c = obj->child; c; c = c->next)
        if (c->string && strlen(c->string) == len && memcmp(c->string, key, len) == 0)
            return c;
    return NULL;
}

/* Resolves a (possibly dotted) name; NULL when missing. */
static const cJSON *lookup(const rstate *rs, const char *name)
{
    if (strcmp(name, ".") == 0)
        return rs->nstack ? rs->stack[rs->nstack - 1] : NULL;
    size_t seg = strcspn(name, ".");
    const cJSON *v = NULL;
    for (size_t i = rs->nstack; i-- > 0;) {
        v = member(rs->stack[i], name, seg);
        if (v)
            break;
    }
    while (v && name[seg] == '.') {
        name += seg + 1;
        seg = strcspn(name, ".");
        v = member(v, name, seg);
    }
    return v;
}

static int falsey(const cJSON *v)
{
    return !v || cJSON_IsNull(v) || cJSON_IsFalse(v) || cJSON_IsInvalid(v) ||
           (cJSON_IsArray(v) && cJSON_GetArraySize(v) == 0);
}

static void format_number(double d, char *buf, size_t len)
{
    if (isnan(d)) {
        snprintf(buf, len, "NaN");
    } else if (isinf(d)) {
        snprintf(buf, len, d > 0 ? "Infinity" : "-Infinity");
    } else if (d == 0) {
        snprintf(buf, len, "0");
    } else if (fabs(d) < 1e15 && d == floor(d)) {
        snprintf(buf, len, "%.0f", d);
    } else {
        snprintf(buf, len, "%.15g", d);
        if (strtod(buf, NULL) != d)
            snprintf(buf, len, "%.17g", d);
    }
}

static void append_escaped(sr_buf *out, const char *s)
{
    const char *run = s;
    for (; *s; s++) {
        const char *rep;
        switch (*s) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        default: continue;
        }
        sr_buf_append(out, run, (size_t)(s - run));
        sr_buf_puts(out, rep);
        run = s + 1;
    }
    sr_buf_append(out, run, (size_t)(s - run));
}

static void interpolate(rstate *rs, const cJSON *v, int escape)
{
    char num[64];
    const char *s = NULL;
    if (!v)
        return;
    if (cJSON_IsString(v)) {
        s = v->valuestring;
    } else if (cJSON_IsNumber(v)) {
        format_number(v->valuedouble, num, sizeof num);
        s = num;
    } else if (cJSON_IsTrue(v)) {
        s = "true";
    } else if (cJSON_IsFalse(v)) {
        s = "false";
    }
    if (!s)
        return;
    if (escape)
        append_escaped(rs->out, s);
    else
        sr_buf_puts(rs->out, s);
}

static char *indent_text(const char *text, const char *indent)
{
    sr_buf b;
    sr_buf_init(&b);
    size_t ilen = strlen(indent);
    int at_line_start = 1;
    for (const char *s = text; *s; s++) {
        if (at_line_start)
            sr_buf_append(&b, indent, ilen);
        sr_buf_append(&b, s, 1);
        at_line_start = *s == '\n';
    }
    return sr_buf_steal(&b);
}

static int render_nodes(rstate *rs, const node *parent);

static int render_partial(rstate *rs, const node *n)
{
    const char *name = n->str;
    if (n->dynamic) {
        const cJSON *v = lookup(rs, n->str);
        if (!cJSON_IsString(v))
            return 0;
        name = v->valuestring;
    }
    const char *indent = n->indent ? n->indent : "";
    sr_mustache *t = NULL;
    size_t i;
    for (i = 0; i < rs->ncache; i++)
        if (strcmp(rs->cache[i].name, name) == 0 && strcmp(rs->cache[i].indent, indent) == 0)
            break;
    if (i < rs->ncache) {
        t = rs->cache[i].t;
    } else {
        const char *src = rs->fn ? rs->fn(rs->fnctx, name) : NULL;
        if (src) {
            char perr[256];
            char *indented = *indent ? indent_text(src, indent) : NULL;
            t = sr_mustache_compile(indented ? indented : src, perr, sizeof perr);
            free(indented);
            if (!t) {
                set_err(rs->err, rs->errlen, "partial '%s': %s", name, perr);
                return -1;
            }
        }
        if (rs->ncache == rs->capcache) {
            rs->capcache = rs->capcache ? 2 * rs->capcache : 8;
            rs->cache = xrealloc(rs->cache, rs->capcache * sizeof *rs->cache);
        }
        rs->cache[rs->ncache].name = xstrdup(name);
        rs->cache[rs->ncache].indent = xstrdup(indent);
        rs->cache[rs->ncache].t = t;
        rs->ncache++;
    }
    if (!t)
        return 0;
    if (rs->pdepth >= SR_MUSTACHE_MAX_PARTIAL_DEPTH) {
        set_err(rs->err, rs->errlen, "partial '%s': partials nested deeper than %d", name,
                SR_MUSTACHE_MAX_PARTIAL_DEPTH);
        return -1;
    }
    rs->pdepth++;
    int rc = render_nodes(rs, &t->root);
    rs->pdepth--;
    return rc;
}

static int render_section(rstate *rs, const node *n)
{
    const cJSON *v = lookup(rs, n->str);
    if (n->kind == N_INVERTED)
        return falsey(v) ? render_nodes(rs, n) : 0;
    if (falsey(v))
        return 0;
    if (cJSON_IsArray(v)) {
        for (const cJSON *e = v->child; e; e = e->next) {
            push(rs, e);
            int rc = render_nodes(rs, n);
            rs->nstack--;
            if (rc != 0)
                return rc;
        }
        return 0;
    }
    push(rs, v);
    int rc = render_nodes(rs, n);
    rs->nstack--;
    return rc;
}

static int render_nodes(rstate *rs, const node *parent)
{
    if (rs->depth >= RENDER_MAX_DEPTH) {
        set_err(rs->err, rs->errlen, "sections and partials nested deeper than %d", RENDER_MAX_DEPTH);
        return -1;
    }
    rs->depth++;
    int rc = 0;
    for (size_t i = 0; i < parent->nkids && rc == 0; i++) {
        const node *n = &parent->kids[i];
        switch (n->kind) {
        case N_TEXT:
            sr_buf_append(rs->out, n->str, n->len);
            break;
        case N_VAR:
        case N_RAW:
            interpolate(rs, lookup(rs, n->str), n->kind == N_VAR);
            break;
        case N_SECTION:
        case N_INVERTED:
            rc = render_section(rs, n);
            break;
        case N_PARTIAL:
            rc = render_partial(rs, n);
            break;
        }
    }
    rs->depth--;
    return rc;
}

char *sr_mustache_render(const sr_mustache *t, const cJSON *context, sr_mustache_partial_fn partials,
                         void *ctx, char *err, size_t errlen)
{
    if (!t) {
        set_err(err, errlen, "no template");
        return NULL;
    }
    sr_buf out;
    sr_buf_init(&out);
    rstate rs;
    memset(&rs, 0, sizeof rs);
    rs.out = &out;
    rs.fn = partials;
    rs.fnctx = ctx;
    rs.err = err;
    rs.errlen = errlen;
    if (context)
        push(&rs, context);
    int rc = render_nodes(&rs, &t->root);
    for (size_t i = 0; i < rs.ncache; i++) {
        free(rs.cache[i].name);
        free(rs.cache[i].indent);
        sr_mustache_free(rs.cache[i].t);
    }
    free(rs.cache);
    free(rs.stack);
    if (rc != 0) {
        sr_buf_free(&out);
        return NULL;
    }
    return sr_buf_steal(&out);
}

char *sr_mustache_render_text(const char *text, const cJSON *context, sr_mustache_partial_fn partials,
                              void *ctx, char *err, size_t errlen)
{
    sr_mustache *t = sr_mustache_compile(text, err, errlen);
    if (!t)
        return NULL;
    char *out = sr_mustache_render(t, context, partials, ctx, err, errlen);
    sr_mustache_free(t);
    return out;
}
