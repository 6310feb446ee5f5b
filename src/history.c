/* history.c - carries OUT/history into a new report, keeping the last N summaries. */
#include "config.h"

#include "history.h"
#include "atomic_file.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PREFIX "summary-"
#define STAMP_LEN 16 /* YYYYmmddTHHMMSSZ */

static int all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

int sr_history_is_summary(const char *name)
{
    size_t pl = strlen(PREFIX);
    if (strncmp(name, PREFIX, pl) != 0)
        return 0;
    const char *s = name + pl;
    if (strlen(s) < STAMP_LEN || !all_digits(s, 8) || s[8] != 'T' || !all_digits(s + 9, 6) || s[15] != 'Z')
        return 0;
    const char *rest = s + STAMP_LEN;
    if (*rest == '-') {
        size_t n = strspn(rest + 1, "0123456789");
        if (n == 0 || n > 9)
            return 0;
        rest += 1 + n;
    }
    return strcmp(rest, ".json") == 0;
}

static long suffix_of(const char *name)
{
    const char *rest = name + strlen(PREFIX) + STAMP_LEN;
    return *rest == '-' ? strtol(rest + 1, NULL, 10) : 1;
}

int sr_history_cmp(const char *a, const char *b)
{
    int c = strncmp(a + strlen(PREFIX), b + strlen(PREFIX), STAMP_LEN);
    if (c)
        return c;
    long sa = suffix_of(a), sb = suffix_of(b);
    return sa < sb ? -1 : sa > sb;
}

static int cmp_summary(const void *a, const void *b)
{
    return sr_history_cmp(*(char *const *)a, *(char *const *)b);
}

/* Hard link, else a copy (same mode). */
static int carry_file(const char *from, const char *to, mode_t mode, char *err, size_t errlen)
{
    if (link(from, to) == 0)
        return 0;
    char *data = NULL;
    size_t len = 0;
    char why[SR_MSG_MAX];
    if (sr_read_file(from, SIZE_MAX / 2, &data, &len, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: cannot carry into the new report: %s", from, why);
        return -1;
    }
    int rc = sr_write_file_atomic(to, data, len, SR_ATOMIC_NO_REPLACE);
    if (rc != 0)
        snprintf(err, errlen, "%s: cannot write: %s", to, strerror(errno));
    else
        chmod(to, mode & 07777);
    free(data);
    return rc;
}

/* Everything below from (files, folders, symbolic links) recreated under to. */
static int carry_tree(const char *from, const char *to, char *err, size_t errlen)
{
    DIR *d = opendir(from);
    if (!d) {
        snprintf(err, errlen, "%s: cannot list: %s", from, strerror(errno));
        return -1;
    }
    if (sr_mkdir_p(to, 0777) != 0) {
        snprintf(err, errlen, "%s: cannot create: %s", to, strerror(errno));
        closedir(d);
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char *src = sr_path_join(from, e->d_name), *dst = sr_path_join(to, e->d_name);
        struct stat st;
        if (lstat(src, &st) != 0) {
            snprintf(err, errlen, "%s: cannot read: %s", src, strerror(errno));
            rc = -1;
        } else if (S_ISDIR(st.st_mode)) {
            rc = carry_tree(src, dst, err, errlen);
        } else if (S_ISLNK(st.st_mode)) {
            char target[PATH_MAX];
            ssize_t n = readlink(src, target, sizeof target - 1);
            if (n < 0 || (target[n] = '\0', symlink(target, dst) != 0)) {
                snprintf(err, errlen, "%s: cannot carry the link: %s", src, strerror(errno));
                rc = -1;
            }
        } else if (S_ISREG(st.st_mode)) {
            rc = carry_file(src, dst, st.st_mode, err, errlen);
        }
        /* sockets, fifos and devices have no place in a report: left behind */
        free(src);
        free(dst);
    }
    closedir(d);
    return rc;
}

int sr_history_carry(const char *old_out, const char *new_out, int keep, const char *summary_text, time_t now,
                     char *added, size_t added_len, char *err, size_t errlen)
{
    if (added && added_len)
        added[0] = '\0';
    char *from = sr_path_join(old_out, "history");
    char *to = sr_path_join(new_out, "history");
    char **summaries = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct stat st;
    int has_old = lstat(from, &st) == 0 && S_ISDIR(st.st_mode);
    if (!has_old && keep <= 0)
        goto done;
    if (sr_mkdir_p(to, 0777) != 0) {
        snprintf(err, errlen, "%s: cannot create: %s", to, strerror(errno));
        rc = -1;
        goto done;
    }
    DIR *d = has_old ? opendir(from) : NULL;
    if (has_old && !d) {
        snprintf(err, errlen, "%s: cannot list: %s", from, strerror(errno));
        rc = -1;
        goto done;
    }
    struct dirent *e;
    while (d && rc == 0 && (e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char *src = sr_path_join(from, e->d_name);
        struct stat es;
        int is_summary = sr_history_is_summary(e->d_name) && lstat(src, &es) == 0 && S_ISREG(es.st_mode);
        if (is_summary) {
            if (n == cap) {
                cap = cap ? cap * 2 : 32;
                summaries = xrealloc(summaries, cap * sizeof *summaries);
            }
            summaries[n++] = xstrdup(e->d_name);
        } else {
            /* not ours to prune: carried as it is */
            char *dst = sr_path_join(to, e->d_name);
            if (lstat(src, &es) != 0) {
                snprintf(err, errlen, "%s: cannot read: %s", src, strerror(errno));
                rc = -1;
            } else if (S_ISDIR(es.st_mode)) {
                rc = carry_tree(src, dst, err, errlen);
            } else if (S_ISLNK(es.st_mode)) {
                char target[PATH_MAX];
                ssize_t len = readlink(src, target, sizeof target - 1);
                if (len < 0 || (target[len] = '\0', symlink(target, dst) != 0)) {
                    snprintf(err, errlen, "%s: cannot carry the link: %s", src, strerror(errno));
                    rc = -1;
                }
            } else if (S_ISREG(es.st_mode)) {
                rc = carry_file(src, dst, es.st_mode, err, errlen);
            }
            free(dst);
        }
        free(src);
    }
    if (d)
        closedir(d);
    if (rc != 0)
        goto done;
    if (n > 1)
        qsort(summaries, n, sizeof *summaries, cmp_summary);
    size_t first = 0;
    if (keep > 0 && n > (size_t)keep - 1)
        first = n - ((size_t)keep - 1);
    for (size_t i = first; i < n && rc == 0; i++) {
        char *src = sr_path_join(from, summaries[i]), *dst = sr_path_join(to, summaries[i]);
        struct stat es;
        rc = lstat(src, &es) == 0 ? carry_file(src, dst, es.st_mode, err, errlen) : 0;
        free(src);
        free(dst);
    }
    if (rc == 0 && keep > 0) {
        struct tm tm;
        gmtime_r(&now, &tm);
        char stamp[32];
        strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
        /* a name after every summary there is, even with the clock gone back */
        const char *newest = n ? summaries[n - 1] : NULL;
        if (newest && strncmp(stamp, newest + strlen(PREFIX), STAMP_LEN) < 0) {
            memcpy(stamp, newest + strlen(PREFIX), STAMP_LEN);
            stamp[STAMP_LEN] = '\0';
        }
        char *name = xasprintf(PREFIX "%s.json", stamp);
        for (long k = 2; newest && sr_history_cmp(name, newest) <= 0; k++) {
            free(name);
            name = xasprintf(PREFIX "%s-%ld.json", stamp, k);
        }
        char *p = sr_path_join(to, name);
        if (sr_write_file_atomic(p, summary_text, strlen(summary_text), SR_ATOMIC_NO_REPLACE) != 0) {
            snprintf(err, errlen, "%s: cannot write: %s", p, strerror(errno));
            rc = -1;
        } else if (added && added_len) {
            snprintf(added, added_len, "%s", name);
        }
        free(p);
        free(name);
    }
done:
    for (size_t i = 0; i < n; i++)
        free(summaries[i]);
    free(summaries);
    free(from);
    free(to);
    return rc;
}
