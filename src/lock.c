/* lock.c - the run lock of a sweep (flock on SWEEP/.sweepreport/run.lock). */
#include "config.h"

#include "lock.h"
#include "atomic_file.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

char *sr_lock_path(const char *sweep_path)
{
    return sr_path_join(sweep_path, ".sweepreport/run.lock");
}

static void describe(const char *path, const sr_lock_holder *h, int known, char *err, size_t errlen)
{
    if (known)
        snprintf(err, errlen, "%s: locked by pid %ld on %s since %s (%s)", path, h->pid, h->host[0] ? h->host : "?",
                 h->started[0] ? h->started : "?", h->command[0] ? h->command : "?");
    else
        snprintf(err, errlen, "%s: locked by another run (it has not said which yet)", path);
}

static void copy_field(char *dst, size_t len, const char *src)
{
    size_t n = strcspn(src, "\r\n");
    if (n >= len)
        n = len - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

int sr_lock_read_holder(const char *path, sr_lock_holder *h)
{
    memset(h, 0, sizeof *h);
    char *text = NULL;
    size_t len = 0;
    char why[SR_MSG_MAX];
    if (sr_read_file(path, 64 * 1024, &text, &len, why, sizeof why) != 0)
        return -1;
    int any = 0;
    for (char *line = text; line && *line;) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (sr_str_has_prefix(line, "pid ")) {
            h->pid = strtol(line + 4, NULL, 10);
            any = h->pid > 0;
        } else if (sr_str_has_prefix(line, "host ")) {
            copy_field(h->host, sizeof h->host, line + 5);
        } else if (sr_str_has_prefix(line, "started ")) {
            copy_field(h->started, sizeof h->started, line + 8);
        } else if (sr_str_has_prefix(line, "command ")) {
            copy_field(h->command, sizeof h->command, line + 8);
        }
        line = next;
    }
    free(text);
    return any ? 0 : -1;
}

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void write_holder(int fd, const char *command)
{
    char host[256] = "";
    if (gethostname(host, sizeof host - 1) != 0)
        snprintf(host, sizeof host, "?");
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    char when[64];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    char *text = xasprintf("pid %ld\nhost %s\nstarted %s\ncommand %s\n", (long)getpid(), host, when, command);
    if (ftruncate(fd, 0) == 0) {
        size_t len = strlen(text);
        /* best effort: the lock holds whether or not the note is written */
        if (pwrite(fd, text, len, 0) != (ssize_t)len && ftruncate(fd, 0) != 0) {
            /* an empty note: others are told the holder is unknown */
        }
    }
    free(text);
}

static int acquire(sr_lock *l, const char *sweep_path, const char *command, int reads_only, int shared, double wait_s,
                   volatile sig_atomic_t *stop, sr_lock_holder *holder, char *err, size_t errlen)
{
    l->fd = -1;
    l->shared = shared;
    l->path = sr_lock_path(sweep_path);
    memset(holder, 0, sizeof *holder);
    struct stat st;
    int e = stat(sweep_path, &st) != 0 ? errno : !S_ISDIR(st.st_mode) ? ENOTDIR : 0;
    if (e != 0) {
        if (e == ENOTDIR)
            snprintf(err, errlen, "%s: not a folder", sweep_path);
        else
            snprintf(err, errlen, "%s: cannot open the sweep folder: %s", sweep_path, strerror(e));
        free(l->path);
        l->path = NULL;
        errno = e;
        return SR_LOCK_ERROR;
    }
    /* the sweep's own folder is never created here, only .sweepreport in it */
    char *dir = sr_path_join(sweep_path, ".sweepreport");
    /* the modes of any new file and folder (the umask decides): a sweep a
     * group shares stays open to the group */
    int rc = mkdir(dir, 0777) == 0 || errno == EEXIST ? 0 : -1;
    free(dir);
    if (rc != 0) {
        e = errno;
        snprintf(err, errlen, "%s: cannot create its folder: %s", l->path, strerror(e));
        free(l->path);
        l->path = NULL;
        errno = e;
        return SR_LOCK_ERROR;
    }
    int fd = open(l->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0666);
    if (fd < 0 && reads_only && (errno == EACCES || errno == EPERM || errno == EROFS)) {
        /* another user's lock file, to one who only reads the sweep (a
         * render elsewhere): a lock all the same (flock needs no writing),
         * only the holder's note cannot be written.  Where there is none
         * to open, the first reason stands. */
        int first = errno;
        fd = open(l->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
            errno = first;
    }
    if (fd < 0) {
        e = errno;
        snprintf(err, errlen, "%s: cannot open: %s", l->path, strerror(e));
        free(l->path);
        l->path = NULL;
        errno = e;
        return SR_LOCK_ERROR;
    }
    double deadline = now_s() + (wait_s > 0 ? wait_s : 0);
    for (;;) {
        if (flock(fd, (shared ? LOCK_SH : LOCK_EX) | LOCK_NB) == 0)
            break;
        if (errno == EINTR)
            continue;
        if (errno != EWOULDBLOCK) {
            e = errno;
            snprintf(err, errlen, "%s: cannot lock: %s", l->path, strerror(e));
            close(fd);
            free(l->path);
            l->path = NULL;
            errno = e;
            return SR_LOCK_ERROR;
        }
        double left = deadline - now_s();
        if (left <= 0 || (stop && *stop)) {
            int known = sr_lock_read_holder(l->path, holder) == 0;
            describe(l->path, holder, known, err, errlen);
            close(fd);
            free(l->path);
            l->path = NULL;
            return SR_LOCK_BUSY;
        }
        sleep_s(left < 0.1 ? left : 0.1);
    }
    l->fd = fd;
    write_holder(fd, command);
    return SR_LOCK_HELD;
}

int sr_lock_acquire(sr_lock *l, const char *sweep_path, const char *command, double wait_s, sr_lock_holder *holder,
                    char *err, size_t errlen)
{
    return acquire(l, sweep_path, command, 0, 0, wait_s, NULL, holder, err, errlen);
}

int sr_lock_acquire_or_stop(sr_lock *l, const char *sweep_path, const char *command, int reads_only, double wait_s,
                            volatile sig_atomic_t *stop, sr_lock_holder *holder, char *err, size_t errlen)
{
    return acquire(l, sweep_path, command, reads_only, 0, wait_s, stop, holder, err, errlen);
}

int sr_lock_acquire_shared(sr_lock *l, const char *sweep_path, const char *command, double wait_s,
                           sr_lock_holder *holder, char *err, size_t errlen)
{
    return acquire(l, sweep_path, command, 0, 1, wait_s, NULL, holder, err, errlen);
}

void sr_lock_release(sr_lock *l)
{
    if (l->fd >= 0) {
        /* a shared holder leaves the note: others may still hold the lock */
        if (!l->shared && ftruncate(l->fd, 0) != 0) {
            /* a stale note is harmless: only the flock counts */
        }
        close(l->fd); /* drops the flock */
        l->fd = -1;
    }
    free(l->path);
    l->path = NULL;
}
