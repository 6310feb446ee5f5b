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

char *sr_out_dir(const char *sweep_path, const char *out_dir)
{
    if (!out_dir)
        return sr_path_join(sweep_path, "sweepreport");
    char *out = xstrdup(out_dir);
    size_t n = strlen(out);
    while (n > 1 && out[n - 1] == '/')
        out[--n] = '\0';
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

/* path with every folder that exists resolved (links, "." and ".."), the
 * part that does not exist yet appended as written: where path is, or
 * would be once created. */
static char *resolve(const char *path)
{
    char *head = xstrdup(path);
    char *tail = NULL;
    for (;;) {
        char *real = realpath(head[0] ? head : ".", NULL);
        if (real) {
            char *full = tail ? sr_path_join(real, tail) : xstrdup(real);
            free(real);
            free(head);
            free(tail);
            return full;
        }
        char *slash = strrchr(head, '/');
        if (!head[0] || (slash == head && !slash[1])) {
            free(head);
            free(tail);
            return xstrdup(path);
        }
        const char *last = slash ? slash + 1 : head;
        char *t = tail ? sr_path_join(last, tail) : xstrdup(last);
        free(tail);
        tail = t;
        if (!slash)
            head[0] = '\0';
        else if (slash == head)
            slash[1] = '\0';
        else
            *slash = '\0';
    }
}

/* Whether resolved path a is b or lies inside it. */
static int within(const char *a, const char *b)
{
    size_t n = strlen(b);
    if (strcmp(b, "/") == 0)
        return 1;
    return strncmp(a, b, n) == 0 && (a[n] == '\0' || a[n] == '/');
}

/* Whether the folder holds a report of sweepreport's: its summary.json
 * names the tool. */
static int holds_report(const char *dir)
{
    char *p = sr_path_join(dir, "summary.json");
    char why[256];
    struct stat st;
    cJSON *doc = stat(p, &st) == 0 && S_ISREG(st.st_mode) ? sr_json_load(p, why, sizeof why) : NULL;
    free(p);
    const cJSON *tool = cJSON_GetObjectItemCaseSensitive(doc, "tool");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(tool, "name");
    int ours = cJSON_IsString(name) && strcmp(name->valuestring, PACKAGE_NAME) == 0;
    cJSON_Delete(doc);
    return ours;
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

int sr_out_dir_check(const char *sweep_path, const char *out, char *err, size_t errlen)
{
    int rc = -1;
    char *sweep = realpath(sweep_path, NULL);
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
    if (lstat(out, &st) != 0) {
        if (errno == ENOENT) {
            rc = 0;
        } else {
            snprintf(err, errlen, "%s: cannot open: %s", out, strerror(errno));
        }
        goto done;
    }
    if (S_ISLNK(st.st_mode)) {
        snprintf(err, errlen, "%s: is a symbolic link, which publishing would replace: give the folder it points to",
                 out);
        goto done;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: exists and is not a folder: choose a new or empty folder for the report", out);
        goto done;
    }
    int empty = is_empty(out);
    if (empty < 0) {
        snprintf(err, errlen, "%s: cannot list: %s", out, strerror(errno));
        goto done;
    }
    if (empty || holds_report(out)) {
        rc = 0;
        goto done;
    }
    snprintf(err, errlen, "%s: holds no sweepreport report (no summary.json of sweepreport's), and a report replaces "
             "its output folder as a whole: choose a new or empty folder", out);
done:
    free(where);
    free(sweep);
    return rc;
}
