/* leftovers.c - removes the temporaries a killed run left behind. */
#include "config.h"

#include "leftovers.h"
#include "atomic_file.h"
#include "out_dir.h"
#include "util.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int sr_is_temp_name(const char *name)
{
    const size_t mark = strlen(SR_TEMP_MARK);
    size_t n = strlen(name);
    if (n < 1 + 1 + mark + 6 || name[0] != '.')
        return 0;
    return memcmp(name + n - 6 - mark, SR_TEMP_MARK, mark) == 0;
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
