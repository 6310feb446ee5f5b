/* leftovers.c - removes the temporaries a killed run left behind. */
#include "config.h"

#include "leftovers.h"
#include "atomic_file.h"
#include "metrics_read.h"
#include "out_dir.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* 1 when name is ".NAME" mark "XXXXXX". */
static int marked(const char *name, const char *mark)
{
    const size_t m = strlen(mark);
    size_t n = strlen(name);
    if (n < 1 + 1 + m + 6 || name[0] != '.')
        return 0;
    return memcmp(name + n - 6 - m, mark, m) == 0;
}

int sr_is_temp_name(const char *name)
{
    return marked(name, SR_TEMP_MARK);
}

/* A file a killed sr_atomic_commit_if swapped out, at dir/name: removed
 * when it is empty or sweepreport's own metrics.json; otherwise (it may be
 * another tool's) put back where its place is empty or holds only a file
 * of ours, else kept.  Returns 1 when it is gone from that name. */
static size_t settle_swap(const char *dir, const char *name)
{
    char *p = sr_path_join(dir, name);
    char *orig = xstrndup(name + 1, strlen(name) - 1 - strlen(SR_SWAP_MARK) - 6);
    char *place = sr_path_join(dir, orig);
    struct stat st, pst;
    size_t gone = 0;
    if (lstat(p, &st) == 0 && S_ISREG(st.st_mode)) {
        if (st.st_size == 0 || sr_metrics_file_is_own(p)) {
            gone = unlink(p) == 0;
        } else if (lstat(place, &pst) != 0 && errno == ENOENT) {
            gone = renameat2(AT_FDCWD, p, AT_FDCWD, place, RENAME_NOREPLACE) == 0 ||
                   (link(p, place) == 0 && unlink(p) == 0);
        } else if (sr_metrics_file_is_own(place) && renameat2(AT_FDCWD, p, AT_FDCWD, place, RENAME_EXCHANGE) == 0) {
            /* theirs back in place; what comes out is ours, unless its
             * owner wrote anew meanwhile: then that goes back too */
            if (sr_metrics_file_is_own(p) || renameat2(AT_FDCWD, p, AT_FDCWD, place, RENAME_EXCHANGE) == 0)
                gone = unlink(p) == 0; /* ours, or the owner's older one */
        }
    }
    free(place);
    free(orig);
    free(p);
    return gone;
}

static size_t remove_entry(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return 0;
    if (S_ISDIR(st.st_mode)) {
        sr_remove_tree(path);
        return 1;
    }
    return unlink(path) == 0;
}

/* Our temporaries directly in dir (prefix, when not NULL, is the part of
 * the name they must start with); with deep, also in every folder below. */
static size_t clean_dir(const char *dir, const char *prefix, int deep)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    size_t removed = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char *p = sr_path_join(dir, e->d_name);
        if (sr_is_temp_name(e->d_name) && (!prefix || strncmp(e->d_name, prefix, strlen(prefix)) == 0)) {
            removed += remove_entry(p);
        } else if (!prefix && marked(e->d_name, SR_SWAP_MARK)) {
            removed += settle_swap(dir, e->d_name);
        } else if (deep) {
            struct stat st;
            if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
                removed += clean_dir(p, NULL, 1);
        }
        free(p);
    }
    closedir(d);
    return removed;
}

size_t sr_remove_leftovers(const char *sweep_path, const char *out_dir)
{
    size_t removed = 0;
    char *store = sr_path_join(sweep_path, ".sweepreport");
    removed += clean_dir(store, NULL, 1);
    free(store);

    /* trial folders and their evaluation folders (archives, metrics.json) */
    DIR *d = opendir(sweep_path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            char *t = sr_path_join(sweep_path, e->d_name);
            struct stat st;
            if (lstat(t, &st) == 0 && S_ISDIR(st.st_mode)) {
                removed += clean_dir(t, NULL, 0);
                char *fin = sr_path_join(t, "evaluation"); /* the final model's samples */
                removed += clean_dir(fin, NULL, 0);
                free(fin);
                char *rt = sr_path_join(t, "realtime_evaluations");
                DIR *r = opendir(rt);
                if (r) {
                    struct dirent *f;
                    while ((f = readdir(r)) != NULL) {
                        if (f->d_name[0] == '.')
                            continue;
                        char *ev = sr_path_join(rt, f->d_name);
                        removed += clean_dir(ev, NULL, 0);
                        free(ev);
                    }
                    closedir(r);
                }
                removed += clean_dir(rt, NULL, 0);
                free(rt);
            }
            free(t);
        }
        closedir(d);
    }

    /* the report folder's own temporaries beside it */
    char *out = sr_out_dir(sweep_path, out_dir);
    char *parent = sr_out_parent(out);
    char *prefix = xasprintf(".%s" SR_TEMP_MARK, sr_path_base(out));
    removed += clean_dir(parent, prefix, 0);
    free(prefix);
    free(parent);
    free(out);
    return removed;
}
