/* profile.c - reads report profiles ("key = value" lines). */
#include "config.h"

#include "profile.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_HISTORY 10000

void sr_profile_builtin(sr_profile *p)
{
    memset(p, 0, sizeof *p);
    p->name = xstrdup("summary");
    p->description = xstrdup("the HTML site, the PDF report and summary.json");
    p->html = 1;
    p->pdf = 1;
}

void sr_profile_free(sr_profile *p)
{
    free(p->name);
    free(p->path);
    free(p->description);
    memset(p, 0, sizeof *p);
}

char *sr_profile_dir(void)
{
    return sr_data_dir("SR_REPORTS", "reports");
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

static int yes_no(const char *v, int *out)
{
    if (!strcmp(v, "yes")) {
        *out = 1;
        return 0;
    }
    if (!strcmp(v, "no")) {
        *out = 0;
        return 0;
    }
    return -1;
}

static const char *const keys[] = {"description", "html", "pdf", "archive", "since_last_run", "history"};
#define N_KEYS (sizeof keys / sizeof keys[0])

int sr_profile_parse(const char *text, const char *file, sr_profile *p, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    char *copy = xstrdup(text);
    int seen[N_KEYS] = {0};
    int rc = 0;
    size_t lineno = 0;
    for (char *line = copy; line && rc == 0;) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        char *l = trim(line);
        line = next;
        if (*l == '\0' || *l == '#')
            continue;
        char *eq = strchr(l, '=');
        if (!eq) {
            snprintf(err, errlen, "%s:%zu: expected 'key = value', not '%.60s'", file, lineno, l);
            rc = -1;
            break;
        }
        *eq = '\0';
        char *key = trim(l), *val = trim(eq + 1);
        size_t k = 0;
        while (k < N_KEYS && strcmp(keys[k], key) != 0)
            k++;
        if (k == N_KEYS) {
            snprintf(err, errlen,
                     "%s:%zu: unknown key '%.60s' (the keys are description, html, pdf, archive, since_last_run, "
                     "history)",
                     file, lineno, key);
            rc = -1;
            break;
        }
        if (seen[k]) {
            snprintf(err, errlen, "%s:%zu: '%s' is given twice", file, lineno, key);
            rc = -1;
            break;
        }
        seen[k] = 1;
        int *flag = k == 1 ? &p->html : k == 2 ? &p->pdf : k == 3 ? &p->archive : k == 4 ? &p->since_last_run : NULL;
        if (k == 0) {
            p->description = xstrdup(val);
        } else if (flag) {
            if (yes_no(val, flag) != 0) {
                snprintf(err, errlen, "%s:%zu: '%s' is yes or no, not '%.60s'", file, lineno, key, val);
                rc = -1;
            }
        } else {
            char *end;
            errno = 0;
            long n = strtol(val, &end, 10);
            if (errno || end == val || *end || n < 0 || n > MAX_HISTORY) {
                snprintf(err, errlen, "%s:%zu: 'history' is a number of summaries from 0 to %d, not '%.60s'", file,
                         lineno, MAX_HISTORY, val);
                rc = -1;
            } else {
                p->history = (int)n;
            }
        }
    }
    free(copy);
    if (rc != 0)
        sr_profile_free(p);
    return rc;
}

static int load_file(const char *path, const char *name, sr_profile *p, char *err, size_t errlen)
{
    char *text = NULL;
    size_t len = 0;
    char why[SR_MSG_MAX];
    if (sr_read_file(path, 1u << 20, &text, &len, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: cannot read the profile: %s", path, why);
        return -1;
    }
    if (memchr(text, '\0', len)) {
        snprintf(err, errlen, "%s: not a text file", path);
        free(text);
        return -1;
    }
    /* a byte order mark some editors put first is no part of the first key */
    const char *body = len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0 ? text + 3 : text;
    int rc = sr_profile_parse(body, path, p, err, errlen);
    free(text);
    if (rc == 0) {
        p->name = xstrdup(name);
        p->path = xstrdup(path);
    }
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "nightly, summary, archive" (the installed profiles, sorted). */
static char *installed(const char *dir)
{
    sr_buf b;
    sr_buf_init(&b);
    DIR *d = opendir(dir);
    char *names[64];
    size_t n = 0;
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL && n < 64) {
            size_t l = strlen(e->d_name);
            if (l > 8 && e->d_name[0] != '.' && sr_str_has_suffix(e->d_name, ".profile"))
                names[n++] = xstrndup(e->d_name, l - 8);
        }
        closedir(d);
    }
    qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        sr_buf_printf(&b, "%s%s", i ? ", " : "", names[i]);
        free(names[i]);
    }
    if (n == 0)
        sr_buf_puts(&b, "none");
    return sr_buf_steal(&b);
}

int sr_profile_load(const char *spec, sr_profile *p, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    if (!spec || !*spec) {
        snprintf(err, errlen, "an empty profile name");
        return -1;
    }
    struct stat st;
    if (!strchr(spec, '/')) {
        char *dir = sr_profile_dir();
        char *file = xasprintf("%s/%s.profile", dir, spec);
        int found = stat(file, &st) == 0 && S_ISREG(st.st_mode);
        int rc = -1;
        if (found) {
            rc = load_file(file, spec, p, err, errlen);
        } else if (stat(spec, &st) == 0 && S_ISREG(st.st_mode)) {
            rc = load_file(spec, spec, p, err, errlen);
        } else if (strcmp(spec, "summary") == 0) {
            /* the default: asked for by name or not, the same */
            sr_profile_builtin(p);
            rc = 0;
        } else {
            char *list = installed(dir);
            snprintf(err, errlen, "unknown profile '%s': the profiles in %s are %s (or give a FILE)", spec, dir, list);
            free(list);
        }
        free(file);
        free(dir);
        return rc;
    }
    return load_file(spec, spec, p, err, errlen);
}

int sr_profile_load_default(sr_profile *p, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    char *dir = sr_profile_dir();
    char *file = xasprintf("%s/summary.profile", dir);
    struct stat st;
    int rc = 0;
    if (stat(file, &st) == 0 && S_ISREG(st.st_mode))
        rc = load_file(file, "summary", p, err, errlen);
    else
        sr_profile_builtin(p);
    free(file);
    free(dir);
    return rc;
}

char *sr_profile_settings(const sr_profile *p)
{
    return xasprintf("html=%s pdf=%s archive=%s since_last_run=%s history=%d", p->html ? "yes" : "no",
                     p->pdf ? "yes" : "no", p->archive ? "yes" : "no", p->since_last_run ? "yes" : "no", p->history);
}
