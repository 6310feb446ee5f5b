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
    N_PARTIAL,  /* {{>name}} / {{>*name}} */
    N_PARENT,   /* {{<name}}...{{/name}} (dynamic: {{<*name}}): only its block kids count */
    N_BLOCK     /* {{$name}}...{{/name}} */
};

typedef struct node node;
struct node {
    enum node_kind kind;
    char *str;    /* text, or the name */
    size_t len;   /* length of str */
    char *indent; /* partial, parent: standalone indentation, or NULL;
                   * block: indentation added to the lines of what it renders, or NULL */
    char *dedent; /* block: indentation removed from the lines of its body (see compile_into) */
    int dynamic;  /* partial, parent: the name is looked up in the context */
    int standalone; /* block: the opening tag is standalone (its first line is indented, too) */
    int lead_ok;  /* parent: only blanks precede the opening tag on its line */
    size_t lead;  /* parent with lead_ok: index of the text node holding those blanks */
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
        free(n->kids[i].dedent);
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

/* Adds text[a, b) to parent, removing dedent from the start of every line that
 * starts in that range. */
static void add_text_dedent(node *parent, const char *text, size_t a, size_t b, const char *dedent)
{
    size_t dl = dedent ? strlen(dedent) : 0;
    if (dl == 0) {
        add_text(parent, text + a, b - a, a);
        return;
    }
    size_t run = a;
    for (size_t p = a; p < b; p++) {
        if ((p == 0 || text[p - 1] == '\n') && b - p >= dl && memcmp(text + p, dedent, dl) == 0) {
            add_text(parent, text + run, p - run, run);
            run = p + dl;
            p += dl - 1;
        }
    }
    add_text(parent, text + run, b - run, run);
}

/* The indentation removed from lines inside cur: that of the innermost block
 * around it. */
static const char *cur_dedent(node *const *stack, size_t depth)
{
    for (size_t i = depth + 1; i-- > 0;)
        if (stack[i]->kind == N_BLOCK)
            return stack[i]->dedent;
    return NULL;
}

/* s without the prefix pre (when it starts with it), as a new string. */
static char *strip_prefix(const char *s, size_t len, const char *pre)
{
    size_t pl = pre ? strlen(pre) : 0;
    if (pl && len >= pl && memcmp(s, pre, pl) == 0) {
        s += pl;
        len -= pl;
    }
    return xstrndup(s, len);
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
            add_text_dedent(cur, text, pos, n, cur_dedent(stack, depth));
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
            if (type == '&' || type == '#' || type == '^' || type == '/' || type == '>' || type == '!' ||
                type == '<' || type == '$')
                cstart = q + 1;
            else
                cstart = q;
            /* after the type character, which may also begin the closing delimiter */
            end_at = strstr(text + cstart, close);
            if (!end_at)
                goto unclosed;
            cend = (size_t)(end_at - text);
            tag_end = cend + clen;
        }

        const char *name = text + cstart;
        size_t nlen = cend - cstart;
        trim(&name, &nlen);

        /* Standalone: alone on its line apart from blanks.  Text directly
         * inside a parent is never rendered, so a tag there (a block or the
         * parent's end) only needs blanks before the parent's opening tag when
         * that is on the same line: "{{<p}}{{$b}}" and "  {{<p}}{{/p}}" are
         * standalone. */
        int standalone = 0, left = 0;
        size_t ls = tag, after = tag_end;
        const char *dedent = cur_dedent(stack, depth);
        if (type == '#' || type == '^' || type == '/' || type == '>' || type == '!' || type == '=' ||
            type == '<' || type == '$') {
            while (ls > pos && text[ls - 1] != '\n')
                ls--;
            left = ls == 0 || text[ls - 1] == '\n';
            for (size_t i = ls; left && i < tag; i++)
                if (!is_blank(text[i]))
                    left = 0;
            if (!left && cur->kind == N_PARENT && (type == '/' || type == '$')) {
                size_t tls = tag;
                while (tls > 0 && text[tls - 1] != '\n')
                    tls--;
                left = tls > cur->where || cur->lead_ok;
            }
            if (left && type != '<') {
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
            add_text_dedent(cur, text, pos, ls, dedent);
        else if (type == '<' && left)
            add_text_dedent(cur, text, pos, ls, dedent); /* the blanks before it: see below */
        else
            add_text_dedent(cur, text, pos, tag, dedent);

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
            const char *ename = name;
            size_t elen = nlen;
            int star = 0;
            if (elen && ename[0] == '*') {
                star = 1;
                ename++;
                elen--;
                trim(&ename, &elen);
            }
            if (star != cur->dynamic || elen != cur->len || memcmp(ename, cur->str, elen) != 0) {
                int oline, ocol;
                line_col(text, tag, &line, &col);
                line_col(text, cur->where, &oline, &ocol);
                set_err(err, errlen,
                        "line %d, column %d: mismatched section end '%.*s' (section '%s' opened at line %d, "
                        "column %d)",
                        line, col, (int)nlen, name, cur->str, oline, ocol);
                goto fail;
            }
            if (cur->kind == N_PARENT && standalone && cur->lead_ok) {
                /* a standalone parent: the blanks before it are its indentation */
                node *lead = &stack[depth - 1]->kids[cur->lead];
                if (lead->len) {
                    cur->indent = lead->str;
                    lead->str = xstrdup("");
                    lead->len = 0;
                }
            }
            depth--;
            break;
        case '<':
        case '$': {
            int dynamic = 0;
            if (type == '<' && nlen && name[0] == '*') {
                dynamic = 1;
                name++;
                nlen--;
                trim(&name, &nlen);
            }
            if (nlen == 0)
                goto empty;
            if (depth >= SR_MUSTACHE_MAX_NESTING) {
                line_col(text, tag, &line, &col);
                set_err(err, errlen, "line %d, column %d: sections nested deeper than %d", line, col,
                        SR_MUSTACHE_MAX_NESTING);
                goto fail;
            }
            size_t lead = 0;
            if (type == '<' && left) {
                /* kept apart: dropped if the parent turns out standalone */
                char *blanks = strip_prefix(text + ls, tag - ls, dedent);
                node *b = add_kid(cur, N_TEXT, blanks, strlen(blanks), ls);
                free(blanks);
                lead = (size_t)(b - cur->kids);
            }
            node *sec = add_kid(cur, type == '<' ? N_PARENT : N_BLOCK, name, nlen, tag);
            sec->dynamic = dynamic;
            if (type == '<') {
                sec->lead_ok = left;
                sec->lead = lead;
            } else if (standalone) {
                /* Block indentation is that of its first line: removed from
                 * the lines of its body here, added back (relative to the
                 * block around it) where the block is rendered. */
                size_t e = after;
                while (e < n && is_blank(text[e]))
                    e++;
                sec->standalone = 1;
                sec->dedent = xstrndup(text + after, e - after);
                sec->indent = strip_prefix(text + after, e - after, dedent);
            } else {
                sec->dedent = dedent ? xstrdup(dedent) : NULL;
                if (left && tag > ls)
                    sec->indent = strip_prefix(text + ls, tag - ls, dedent);
            }
            stack[++depth] = sec;
            break;
        }
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
                p->indent = strip_prefix(text + ls, tag - ls, dedent);
            break;
        }
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
    const node **parents; /* the parents being rendered, outermost first */
    size_t nparents, capparents;
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
    char *fixed = sr_utf8_repair(s); /* data may be any bytes; a page is UTF-8 */
    if (fixed)
        s = fixed;
    if (escape)
        append_escaped(rs->out, s);
    else
        sr_buf_puts(rs->out, s);
    free(fixed);
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

/* Renders a partial or a parent (whose blocks then override those of the
 * template it names, and of every template that one includes). */
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
    if (n->kind == N_PARENT) {
        if (rs->nparents == rs->capparents) {
            rs->capparents = rs->capparents ? 2 * rs->capparents : 8;
            rs->parents = xrealloc(rs->parents, rs->capparents * sizeof *rs->parents);
        }
        rs->parents[rs->nparents++] = n;
    }
    rs->pdepth++;
    int rc = render_nodes(rs, &t->root);
    rs->pdepth--;
    if (n->kind == N_PARENT)
        rs->nparents--;
    return rc;
}

/* Renders a block: the outermost override of its name, else its own body,
 * with the block's indentation added to the lines of the result. */
static int render_block(rstate *rs, const node *n)
{
    const node *body = n;
    for (size_t i = 0; i < rs->nparents && body == n; i++) {
        const node *p = rs->parents[i];
        for (size_t k = 0; k < p->nkids; k++) {
            const node *b = &p->kids[k];
            if (b->kind == N_BLOCK && strcmp(b->str, n->str) == 0) {
                body = b;
                break;
            }
        }
    }
    if (!n->indent || !*n->indent)
        return render_nodes(rs, body);
    sr_buf *out = rs->out, tmp;
    sr_buf_init(&tmp);
    rs->out = &tmp;
    int rc = render_nodes(rs, body);
    rs->out = out;
    if (rc == 0 && tmp.len) {
        size_t ilen = strlen(n->indent);
        int at_line_start = n->standalone;
        for (size_t i = 0; i < tmp.len; i++) {
            if (at_line_start)
                sr_buf_append(out, n->indent, ilen);
            sr_buf_append(out, tmp.s + i, 1);
            at_line_start = tmp.s[i] == '\n';
        }
    }
    sr_buf_free(&tmp);
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
        case N_PARENT:
            rc = render_partial(rs, n);
            break;
        case N_BLOCK:
            rc = render_block(rs, n);
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
    free(rs.parents);
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
