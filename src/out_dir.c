/* out_dir.c - the report's output folder, and the rule of what it may
 * replace (out_dir.h). */
#include "config.h"

#include "out_dir.h"
#include "json.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* out_dir as given, without trailing slashes ("/" stays), or
 * SWEEP/sweepreport. */
static char *named(const char *sweep_path, const char *out_dir)
{
    if (!out_dir)
        return sr_path_join(sweep_path, "sweepreport");
    char *out = xstrdup(out_dir);
    size_t n = strlen(out);
    while (n > 1 && out[n - 1] == '/')
        out[--n] = '\0';
    return out;
}

static char *resolve(const char *path);

char *sr_out_dir(const char *sweep_path, const char *out_dir)
{
    char *n = named(sweep_path, out_dir);
    char *out = resolve(n);
    free(n);
    return out;
}

char *sr_out_parent(const char *out)
{
    char *parent = xstrdup(out);
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent) {
        *slash = '\0';
    } else if (slash) {
        slash[1] = '\0';
    } else {
        free(parent);
        parent = xstrdup(".");
    }
    return parent;
}

/* The folder above dir, an absolute path ("/" above "/" and "/x"). */
static char *parent_of(const char *dir)
{
    char *p = xstrdup(dir);
    char *slash = strrchr(p, '/');
    if (slash && slash != p)
        *slash = '\0';
    else if (slash)
        slash[1] = '\0';
    return p;
}

/* Where path is, or will be once its missing folders are made: walked one
 * component at a time from / or the current folder, each that exists
 * resolved by realpath (links, "..") and each that does not added by name;
 * "." is nothing and ".." steps up, also out of a folder yet to be made, as
 * mkdir -p and the kernel will.  Absolute; malloc'd. */
static char *resolve(const char *path)
{
    char *cur = realpath(path[0] == '/' ? "/" : ".", NULL);
    if (!cur)
        return xstrdup(path);
    const char *p = path;
    for (;;) {
        while (*p == '/')
            p++;
        size_t n = strcspn(p, "/");
        if (n == 0)
            break;
        char *next;
        if (n == 1 && p[0] == '.') {
            next = xstrdup(cur);
        } else if (n == 2 && p[0] == '.' && p[1] == '.') {
            next = parent_of(cur);
        } else {
            next = strcmp(cur, "/") == 0 ? xasprintf("/%.*s", (int)n, p) : xasprintf("%s/%.*s", cur, (int)n, p);
            char *real = realpath(next, NULL);
            if (real) {
                free(next);
                next = real;
            }
        }
        free(cur);
        cur = next;
        p += n;
    }
    return cur;
}

/* Whether resolved path a is b or lies inside it. */
static int within(const char *a, const char *b)
{
    size_t n = strlen(b);
    if (strcmp(b, "/") == 0)
        return 1;
    return strncmp(a, b, n) == 0 && (a[n] == '\0' || a[n] == '/');
}

/* Whether a folder's summary.json (summary, as read) is a report's of
 * sweepreport: it names the tool and has a fingerprint (a saved scan
 * --json has not). */
static int is_report_summary(const cJSON *summary)
{
    const cJSON *tool = cJSON_GetObjectItemCaseSensitive(summary, "tool");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(tool, "name");
    return cJSON_IsString(name) && strcmp(name->valuestring, PACKAGE_NAME) == 0 &&
           cJSON_IsString(cJSON_GetObjectItemCaseSensitive(summary, "fingerprint"));
}

/* Whether the folder has a summary.json that is a regular file. */
static int has_summary_file(const char *dir)
{
    char *p = sr_path_join(dir, "summary.json");
    struct stat st;
    int there = stat(p, &st) == 0 && S_ISREG(st.st_mode);
    free(p);
    return there;
}

/* Whether the folder has nothing in it; -1 when it cannot be read. */
static int is_empty(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    struct dirent *e;
    int empty = 1;
    while (empty && (e = readdir(d)) != NULL)
        empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
    closedir(d);
    return empty;
}

/* The report is written beside OUT and swapped in for it: that needs the
 * folder OUT is in (or the nearest one there is, where folders are still to
 * be made) to be writable, and OUT (when there) not to be a mount point.
 * 0, or -1 with the reason in err. */
static int can_swap(const char *out, const char *where, char *err, size_t errlen)
{
    char *dir = xstrdup(where);
    struct stat st, ps;
    int there = lstat(where, &st) == 0;
    for (;;) {
        char *slash = strrchr(dir, '/');
        if (!slash)
            break;
        if (slash == dir)
            slash[1] = '\0';
        else
            *slash = '\0';
        if (stat(dir, &ps) == 0 || strcmp(dir, "/") == 0)
            break;
    }
    int rc = 0;
    if (there && S_ISDIR(st.st_mode) && stat(dir, &ps) == 0 && (ps.st_dev != st.st_dev || ps.st_ino == st.st_ino)) {
        snprintf(err, errlen, "%s: is a mount point, and a report replaces its output folder as a whole: choose a "
                 "folder inside it", out);
        rc = -1;
    } else if (access(dir, W_OK) != 0) {
        snprintf(err, errlen, "%s: the report is written beside it and swapped in, but %s cannot be written (%s): "
                 "choose an output folder in a folder you can write", out, dir, strerror(errno));
        rc = -1;
    }
    free(dir);
    return rc;
}

/* sr_out_dir_check, and with early set sr_out_dir_precheck (summary
 * unused). */
static int check(const char *sweep_path, const char *out_dir, int early, const cJSON *summary, char *err,
                 size_t errlen)
{
    int rc = -1;
    char *sweep = realpath(sweep_path, NULL);
    char *out = named(sweep_path, out_dir); /* for the messages: as the user wrote it */
    char *where = resolve(out);
    struct stat st;
    if (sweep && within(sweep, where)) {
        snprintf(err, errlen, "%s: %s the sweep %s, and a report replaces its output folder as a whole: choose another one",
                 out, strcmp(sweep, where) == 0 ? "is" : "holds", sweep_path);
        goto done;
    }
    if (sweep && within(where, sweep)) {
        const char *rel = where + strlen(sweep) + (strcmp(sweep, "/") != 0);
        size_t n = strcspn(rel, "/");
        if (n == strlen(".sweepreport") && strncmp(rel, ".sweepreport", n) == 0) {
            snprintf(err, errlen, "%s: is inside sweepreport's store in the sweep: choose another output folder", out);
            goto done;
        }
        if (sr_str_has_prefix(rel, "trial_")) {
            snprintf(err, errlen, "%s: is inside the sweep where the scan takes it for a trial (%.*s): choose a folder "
                     "outside the trials", out, (int)n, rel);
            goto done;
        }
    }
    if (lstat(where, &st) != 0) {
        if (errno == ENOENT) {
            rc = can_swap(out, where, err, errlen);
        } else {
            snprintf(err, errlen, "%s: cannot open: %s", out, strerror(errno));
        }
        goto done;
    }
    if (S_ISLNK(st.st_mode)) { /* resolve() followed every link that leads somewhere */
        snprintf(err, errlen, "%s: is a symbolic link that leads nowhere: choose a folder", out);
        goto done;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: exists and is not a folder: choose a new or empty folder for the report", out);
        goto done;
    }
    int empty = is_empty(where);
    if (empty < 0) {
        snprintf(err, errlen, "%s: cannot list: %s", out, strerror(errno));
        goto done;
    }
    if (empty || (early ? has_summary_file(where) : is_report_summary(summary))) {
        rc = can_swap(out, where, err, errlen);
        goto done;
    }
    snprintf(err, errlen, "%s: holds no sweepreport report (no summary.json of sweepreport's), and a report replaces "
             "its output folder as a whole: choose a new or empty folder", out);
done:
    free(where);
    free(out);
    free(sweep);
    return rc;
}

int sr_out_dir_check(const char *sweep_path, const char *out_dir, const cJSON *summary, char *err, size_t errlen)
{
    return check(sweep_path, out_dir, 0, summary, err, errlen);
}

int sr_out_dir_precheck(const char *sweep_path, const char *out_dir, char *err, size_t errlen)
{
    return check(sweep_path, out_dir, 1, NULL, err, errlen);
}
