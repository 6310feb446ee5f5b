/* util.c - memory, strings, paths and whole-file reads. */
#include "config.h"

#include "util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void out_of_memory(size_t n)
{
    fprintf(stderr, "sweepreport: out of memory (allocating %zu bytes)\n", n);
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        out_of_memory(n);
    return p;
}

void *xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        out_of_memory(count * size);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        out_of_memory(n);
    return q;
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *xasprintf(const char *fmt, ...)
{
    sr_buf b;
    va_list ap;
    sr_buf_init(&b);
    va_start(ap, fmt);
    sr_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    return sr_buf_steal(&b);
}

void sr_buf_init(sr_buf *b)
{
    b->s = NULL;
    b->len = 0;
    b->cap = 0;
}

void sr_buf_free(sr_buf *b)
{
    free(b->s);
    sr_buf_init(b);
}

static void buf_reserve(sr_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    b->s = xrealloc(b->s, cap);
    b->cap = cap;
}

void sr_buf_append(sr_buf *b, const void *data, size_t n)
{
    buf_reserve(b, n);
    if (n)
        memcpy(b->s + b->len, data, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void sr_buf_puts(sr_buf *b, const char *s)
{
    sr_buf_append(b, s, strlen(s));
}

void sr_buf_vprintf(sr_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return;
    buf_reserve(b, (size_t)n);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void sr_buf_printf(sr_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sr_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

char *sr_buf_steal(sr_buf *b)
{
    char *s = b->s ? b->s : xstrdup("");
    sr_buf_init(b);
    return s;
}

char *sr_path_join(const char *a, const char *b)
{
    if (b[0] == '/' || a[0] == '\0')
        return xstrdup(b);
    size_t la = strlen(a);
    while (la > 1 && a[la - 1] == '/')
        la--;
    if (la == 1 && a[0] == '/')
        return xasprintf("/%s", b);
    return xasprintf("%.*s/%s", (int)la, a, b);
}

const char *sr_path_base(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

int sr_str_has_suffix(const char *s, const char *suffix)
{
    size_t ls = strlen(s), lx = strlen(suffix);
    return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

int sr_str_has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

int sr_read_file(const char *path, size_t max, char **out, size_t *len, char *err, size_t errlen)
{
    *out = NULL;
    *len = 0;
    /* O_NONBLOCK: a FIFO in a regular file's place opens at once (and is
     * refused below) instead of waiting for a writer */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open: %s", strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "not a regular file");
        close(fd);
        return -1;
    }
    if ((uint64_t)st.st_size > max) {
        snprintf(err, errlen, "too large (%lld bytes, limit %zu)", (long long)st.st_size, max);
        close(fd);
        return -1;
    }
    /* The file may grow while we read it; read what is there up to max. */
    size_t cap = (size_t)st.st_size + 1, n = 0;
    char *buf = xmalloc(cap + 1);
    for (;;) {
        if (n == cap) {
            if (cap > max) {
                snprintf(err, errlen, "too large (grew past the limit of %zu bytes)", max);
                free(buf);
                close(fd);
                return -1;
            }
            cap *= 2;
            buf = xrealloc(buf, cap + 1);
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            snprintf(err, errlen, "read error: %s", strerror(errno));
            free(buf);
            close(fd);
            return -1;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

void sr_rng_seed(sr_rng *r, uint64_t seed)
{
    r->state = seed ^ 0x853c49e6748fea9bULL;
}

uint64_t sr_rng_next(sr_rng *r)
{
    uint64_t z = (r->state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

double sr_rng_uniform(sr_rng *r)
{
    return (double)(sr_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

double sr_rng_normal(sr_rng *r)
{
    double u1 = sr_rng_uniform(r), u2 = sr_rng_uniform(r);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

int sr_strnatcmp(const char *a, const char *b)
{
    while (*a && *b) {
        if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
            while (*a == '0')
                a++;
            while (*b == '0')
                b++;
            size_t la = 0, lb = 0;
            while (isdigit((unsigned char)a[la]))
                la++;
            while (isdigit((unsigned char)b[lb]))
                lb++;
            if (la != lb)
                return la < lb ? -1 : 1;
            int c = strncmp(a, b, la);
            if (c)
                return c;
            a += la;
            b += lb;
        } else {
            if (*a != *b)
                return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
            a++;
            b++;
        }
    }
    return (unsigned char)*a - (unsigned char)*b;
}

char *sr_short_file_name(char *name, size_t max)
{
    size_t n = strlen(name);
    if (n <= max || max <= 17)
        return name;
    char *out = xasprintf("%.*s-%016" PRIx64, (int)(max - 17), name, sr_hash64(name, n));
    free(name);
    return out;
}

uint64_t sr_hash64(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

char **sr_dir_names(const char *dir, int (*cmp)(const void *, const void *), size_t *n)
{
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    char **names = xmalloc(sizeof *names);
    size_t cap = 1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (*n == cap) {
            cap *= 2;
            names = xrealloc(names, cap * sizeof *names);
        }
        names[(*n)++] = xstrdup(e->d_name);
    }
    closedir(d);
    if (*n > 1)
        qsort(names, *n, sizeof *names, cmp);
    return names;
}

void sr_names_free(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

int sr_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *sr_reason_after_path(const char *why, const char *path)
{
    size_t n = strlen(path);
    return strncmp(why, path, n) == 0 && why[n] == ':' && why[n + 1] == ' ' ? why + n + 2 : why;
}

int sr_vanished(const char *path)
{
    struct stat st;
    return stat(path, &st) != 0 && errno == ENOENT;
}

char *sr_data_dir(const char *env_var, const char *name)
{
    const char *env = getenv(env_var);
    if (env && *env)
        return xstrdup(env);
#ifdef SR_DATADIR
    char *installed = xasprintf("%s/%s", SR_DATADIR, name);
    if (sr_is_dir(installed))
        return installed;
    free(installed);
#endif
    /* the source tree: beside src/ of this file */
    char *here = xstrdup(__FILE__);
    char *slash = strrchr(here, '/');
    char *p = NULL;
    if (slash) {
        *slash = '\0';
        p = xasprintf("%s/../%s", here, name);
        if (!sr_is_dir(p)) {
            free(p);
            p = NULL;
        }
    }
    free(here);
    return p ? p : xstrdup(name);
}

void sr_buf_put_utf8(sr_buf *b, unsigned cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    sr_buf_append(b, u, n);
}

size_t sr_utf8_seq(const unsigned char *s)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t n;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

char *sr_utf8_repair(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n;
    while (*p && (n = sr_utf8_seq(p)) > 0)
        p += n;
    if (!*p)
        return NULL;
    sr_buf b;
    sr_buf_init(&b);
    sr_buf_append(&b, s, (size_t)((const char *)p - s));
    while (*p) {
        n = sr_utf8_seq(p);
        if (n == 0) {
            sr_buf_puts(&b, "\xEF\xBF\xBD"); /* U+FFFD */
            p++;
        } else {
            sr_buf_append(&b, p, n);
            p += n;
        }
    }
    return sr_buf_steal(&b);
}

char *sr_terminal_text(const char *s, size_t max)
{
    sr_buf b;
    sr_buf_init(&b);
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t used = 0;
    while (*p) {
        size_t n = sr_utf8_seq(p);
        if (used + (n ? n : 1) > max) {
            sr_buf_puts(&b, "...");
            break;
        }
        int control = n == 0 || (n == 1 && (p[0] < 0x20 || p[0] == 0x7f)) || (n == 2 && p[0] == 0xc2 && p[1] < 0xa0);
        if (control) {
            for (size_t i = 0; i < (n ? n : 1); i++)
                sr_buf_printf(&b, "\\x%02x", p[i]);
        } else {
            sr_buf_append(&b, p, n);
        }
        p += n ? n : 1;
        used += n ? n : 1;
    }
    return sr_buf_steal(&b);
}

int sr_path_under(const char *path, const char *dir)
{
    if (!path || !dir)
        return 0;
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    if (n == 1 && dir[0] == '/')
        return path[0] == '/';
    return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}
