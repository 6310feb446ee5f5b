/* atomic_file.c - temporary file + fsync + rename. */
#include "config.h"

#include "atomic_file.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Linux shows the mask in /proc/self/status ("Umask:\t0022") since 4.7.
 * Elsewhere it is read the only way there is, once: the first call, which
 * main makes before any thread starts. */
static unsigned read_umask(void)
{
    FILE *f = fopen("/proc/self/status", "re");
    if (f) {
        char line[128];
        unsigned um;
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "Umask: %o", &um) == 1) {
                fclose(f);
                return um & 0777;
            }
        fclose(f);
    }
    mode_t um = umask(0);
    umask(um);
    return (unsigned)um & 0777;
}

unsigned sr_umask(void)
{
    static atomic_uint cached = ~0u;
    unsigned um = atomic_load(&cached);
    if (um == ~0u) {
        um = read_umask();
        atomic_store(&cached, um);
    }
    return um;
}

int sr_atomic_open(sr_atomic_file *af, const char *path, sr_atomic_mode mode)
{
    memset(af, 0, sizeof *af);
    const char *base = sr_path_base(path);
    size_t dirlen = (size_t)(base - path);
    char *tmp = xasprintf("%.*s.%s" SR_TEMP_MARK "XXXXXX", (int)dirlen, path, base);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        free(tmp);
        errno = e;
        return -1;
    }
    /* mkostemp creates 0600; outputs are ordinary files. */
    (void)fchmod(fd, 0666 & ~(mode_t)sr_umask());
    af->fp = fdopen(fd, "wb");
    if (!af->fp) {
        int e = errno;
        close(fd);
        unlink(tmp);
        free(tmp);
        errno = e;
        return -1;
    }
    af->path = xstrdup(path);
    af->tmp_path = tmp;
    af->mode = mode;
    return 0;
}

static void atomic_release(sr_atomic_file *af)
{
    free(af->path);
    free(af->tmp_path);
    memset(af, 0, sizeof *af);
}

void sr_atomic_abort(sr_atomic_file *af)
{
    if (af->fp)
        fclose(af->fp);
    if (af->tmp_path)
        unlink(af->tmp_path);
    atomic_release(af);
}

/* Flushes, syncs and closes the temporary file (its identity into st, when
 * not NULL).  0, or -1 with the error in *e. */
static int finish_writing(sr_atomic_file *af, struct stat *st, int *e)
{
    int rc = 0;
    if (fflush(af->fp) != 0 || ferror(af->fp) || fsync(fileno(af->fp)) != 0 ||
        (st && fstat(fileno(af->fp), st) != 0)) {
        *e = errno ? errno : EIO;
        rc = -1;
    }
    if (fclose(af->fp) != 0 && rc == 0) {
        *e = errno;
        rc = -1;
    }
    af->fp = NULL;
    return rc;
}

int sr_atomic_commit(sr_atomic_file *af)
{
    int e = 0;
    int rc = finish_writing(af, NULL, &e);
    if (rc == 0) {
        if (af->mode == SR_ATOMIC_NO_REPLACE) {
            /* link() refuses to overwrite, so a file that appeared meanwhile wins. */
            if (link(af->tmp_path, af->path) != 0) {
                e = errno;
                rc = -1;
            }
        } else if (rename(af->tmp_path, af->path) != 0) {
            e = errno;
            rc = -1;
        }
    }
    unlink(af->tmp_path);
    atomic_release(af);
    if (rc != 0)
        errno = e;
    return rc;
}

/* Swap files of path ("." NAME SR_SWAP_MARK "XXXXXX" beside it) that
 * may_replace says may go: what an earlier commit killed half-way left. */
static void tidy_swaps(const char *path, int (*may_replace)(const char *path, void *ctx), void *ctx)
{
    const char *base = sr_path_base(path);
    char *dir = base > path ? xstrndup(path, (size_t)(base - path)) : xstrdup(".");
    char *prefix = xasprintf(".%s" SR_SWAP_MARK, base);
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
            continue;
        char *p = sr_path_join(dir, e->d_name);
        if (may_replace(p, ctx))
            unlink(p);
        free(p);
    }
    if (d)
        closedir(d);
    free(prefix);
    free(dir);
}

int sr_atomic_commit_if(sr_atomic_file *af, int (*may_replace)(const char *path, void *ctx), void *ctx)
{
    int e = 0;
    char *swap = NULL;
    struct stat mine; /* the new file, known by its inode wherever it is */
    int rc = finish_writing(af, &mine, &e);
    if (rc == 0 && link(af->tmp_path, af->path) != 0) {
        if (errno != EEXIST) {
            e = errno;
            rc = -1;
        } else {
            tidy_swaps(af->path, may_replace, ctx);
            /* The new file goes under a swap name, which no clean-up ever
             * deletes, and is swapped with the one in place: should the run
             * be killed before the end, whatever was in place survives
             * under that name. */
            const char *base = sr_path_base(af->path);
            swap = xasprintf("%.*s.%s" SR_SWAP_MARK "XXXXXX", (int)(base - af->path), af->path, base);
            int fd = mkostemp(swap, O_CLOEXEC);
            if (fd < 0 || (close(fd), rename(af->tmp_path, swap)) != 0) {
                e = errno;
                rc = -1;
                if (fd >= 0)
                    unlink(swap);
            } else if (renameat2(AT_FDCWD, swap, AT_FDCWD, af->path, RENAME_EXCHANGE) != 0) {
                /* gone meanwhile: the place is free; a file system that
                 * cannot swap: kept */
                if (errno == ENOENT && link(swap, af->path) == 0) {
                    rc = 0;
                } else {
                    e = errno == ENOENT || errno == EEXIST || errno == EINVAL || errno == ENOSYS ? EEXIST : errno;
                    rc = -1;
                }
                unlink(swap); /* the new file's other name, or the new file */
            } else if (may_replace(swap, ctx)) {
                unlink(swap); /* what may go went */
            } else {
                /* what was swapped out may not go: put it back.  Should
                 * its owner have written a newer one meanwhile (which is
                 * now what comes back), that newer one goes in place */
                if (renameat2(AT_FDCWD, swap, AT_FDCWD, af->path, RENAME_EXCHANGE) == 0) {
                    /* ours is the file as written: same inode, size and
                     * time (one written into in place is the owner's) */
                    struct stat back;
                    int is_mine = lstat(swap, &back) == 0 && back.st_ino == mine.st_ino &&
                                  back.st_dev == mine.st_dev && back.st_size == mine.st_size &&
                                  back.st_mtim.tv_sec == mine.st_mtim.tv_sec &&
                                  back.st_mtim.tv_nsec == mine.st_mtim.tv_nsec;
                    if (is_mine || renameat2(AT_FDCWD, swap, AT_FDCWD, af->path, RENAME_EXCHANGE) == 0)
                        unlink(swap); /* the new file, or the owner's older version */
                } else if (renameat2(AT_FDCWD, swap, AT_FDCWD, af->path, RENAME_NOREPLACE) != 0 &&
                           link(swap, af->path) == 0) {
                    /* the place was emptied meanwhile: what was there goes back */
                    unlink(swap);
                }
                e = EEXIST;
                rc = -1;
            }
        }
    }
    unlink(af->tmp_path);
    free(swap);
    atomic_release(af);
    if (rc != 0)
        errno = e;
    return rc;
}

/* Writes data to a temporary beside path and commits it with may_replace
 * (sr_atomic_commit_if), or, when that is NULL, in mode. */
static int write_whole(const char *path, const void *data, size_t len, sr_atomic_mode mode,
                       int (*may_replace)(const char *path, void *ctx), void *ctx)
{
    sr_atomic_file af;
    if (sr_atomic_open(&af, path, mode) != 0)
        return -1;
    if (len && fwrite(data, 1, len, af.fp) != len) {
        int e = errno ? errno : EIO;
        sr_atomic_abort(&af);
        errno = e;
        return -1;
    }
    return may_replace ? sr_atomic_commit_if(&af, may_replace, ctx) : sr_atomic_commit(&af);
}

int sr_write_file_atomic(const char *path, const void *data, size_t len, sr_atomic_mode mode)
{
    return write_whole(path, data, len, mode, NULL, NULL);
}

int sr_write_file_atomic_if(const char *path, const void *data, size_t len,
                            int (*may_replace)(const char *path, void *ctx), void *ctx)
{
    return write_whole(path, data, len, SR_ATOMIC_NO_REPLACE, may_replace, ctx);
}

int sr_mkdir_p(const char *path, unsigned mode)
{
    char *p = xstrdup(path);
    size_t n = strlen(p);
    for (size_t i = 1; i <= n; i++) {
        if (p[i] == '/' || p[i] == '\0') {
            char c = p[i];
            p[i] = '\0';
            if (mkdir(p, (mode_t)mode) != 0 && errno != EEXIST) {
                int e = errno;
                free(p);
                errno = e;
                return -1;
            }
            p[i] = c;
        }
    }
    free(p);
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

void sr_remove_tree(const char *dir)
{
    /* a report folder made read-only (one's own) is emptied all the same */
    struct stat st;
    if (lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & S_IRWXU) != S_IRWXU)
        (void)chmod(dir, (st.st_mode & 07777) | S_IRWXU);
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char *p = sr_path_join(dir, e->d_name);
            if (unlink(p) != 0)
                sr_remove_tree(p);
            free(p);
        }
        closedir(d);
    }
    rmdir(dir);
}
