/* sampler.c - template splitting and a shell-free, time-limited run of the
 * user's sampler command. */
#include "config.h"

#include "sampler.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

/* How much of the end of the output is kept for the reason of a failure. */
#define TAIL_BYTES 4096
/* Longest last line quoted in a reason. */
#define REASON_LINE_MAX 300
/* Time between SIGTERM and SIGKILL, and between two looks at the child. */
#define GRACE_S 5.0
#define POLL_NS 20000000L

static const char PH_CHECKPOINT[] = "{checkpoint}";
static const char PH_OUTDIR[] = "{outdir}";
static const char PH_N[] = "{n}";

/* ---- splitting ---------------------------------------------------------- */

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static void push_word(char ***argv, size_t *argc, size_t *cap, sr_buf *w)
{
    if (*argc + 2 > *cap) {
        *cap = *cap ? *cap * 2 : 8;
        *argv = xrealloc(*argv, *cap * sizeof **argv);
    }
    (*argv)[(*argc)++] = w->s ? sr_buf_steal(w) : xstrdup("");
    (*argv)[*argc] = NULL;
}

static int any_word_has(char *const *argv, size_t argc, const char *needle)
{
    for (size_t i = 0; i < argc; i++)
        if (strstr(argv[i], needle))
            return 1;
    return 0;
}

int sr_sampler_parse(const char *t, sr_sampler *out, char *err, size_t errlen)
{
    out->argv = NULL;
    out->argc = 0;
    char **argv = NULL;
    size_t argc = 0, cap = 0;
    sr_buf w;
    sr_buf_init(&w);
    int in_word = 0;
    const char *p = t ? t : "";
    while (*p) {
        char c = *p;
        if (is_blank(c)) {
            if (in_word)
                push_word(&argv, &argc, &cap, &w);
            in_word = 0;
            p++;
        } else if (c == '\\') {
            if (p[1] == '\0') {
                snprintf(err, errlen, "the sampler command ends with a lone backslash");
                goto fail;
            }
            if (p[1] != '\n') { /* backslash-newline just continues the line */
                sr_buf_append(&w, p + 1, 1);
                in_word = 1;
            }
            p += 2;
        } else if (c == '\'') {
            const char *q = strchr(p + 1, '\'');
            if (!q) {
                snprintf(err, errlen, "unbalanced ' in the sampler command (opened at character %zu)",
                         (size_t)(p - t) + 1);
                goto fail;
            }
            sr_buf_append(&w, p + 1, (size_t)(q - p - 1));
            in_word = 1;
            p = q + 1;
        } else if (c == '"') {
            const char *open = p++;
            for (;;) {
                if (*p == '\0') {
                    snprintf(err, errlen, "unbalanced \" in the sampler command (opened at character %zu)",
                             (size_t)(open - t) + 1);
                    goto fail;
                }
                if (*p == '"') {
                    p++;
                    break;
                }
                if (*p == '\\' && p[1] && strchr("\"\\$`\n", p[1])) {
                    if (p[1] != '\n')
                        sr_buf_append(&w, p + 1, 1);
                    p += 2;
                    continue;
                }
                sr_buf_append(&w, p, 1);
                p++;
            }
            in_word = 1;
        } else {
            sr_buf_append(&w, p, 1);
            in_word = 1;
            p++;
        }
    }
    if (in_word)
        push_word(&argv, &argc, &cap, &w);

    if (argc == 0) {
        snprintf(err, errlen, "the sampler command is empty");
        goto fail;
    }
    if (argv[0][0] == '\0') {
        snprintf(err, errlen, "the sampler command's program name is empty");
        goto fail;
    }
    int has_ck = any_word_has(argv, argc, PH_CHECKPOINT);
    int has_out = any_word_has(argv, argc, PH_OUTDIR);
    if (!has_ck || !has_out) {
        if (!has_ck && !has_out)
            snprintf(err, errlen, "the sampler command has neither %s nor %s", PH_CHECKPOINT, PH_OUTDIR);
        else
            snprintf(err, errlen, "the sampler command has no %s", has_ck ? PH_OUTDIR : PH_CHECKPOINT);
        goto fail;
    }
    sr_buf_free(&w);
    out->argv = argv;
    out->argc = argc;
    return 0;

fail:
    sr_buf_free(&w);
    sr_sampler_argv_free(argv);
    return -1;
}

void sr_sampler_argv_free(char **argv)
{
    if (!argv)
        return;
    for (char **a = argv; *a; a++)
        free(*a);
    free(argv);
}

void sr_sampler_free(sr_sampler *s)
{
    sr_sampler_argv_free(s->argv);
    s->argv = NULL;
    s->argc = 0;
}

/* ---- substitution ------------------------------------------------------- */

static char *substitute(const char *word, const char *checkpoint, const char *outdir, const char *n)
{
    sr_buf b;
    sr_buf_init(&b);
    const char *p = word;
    while (*p) {
        const char *brace = strchr(p, '{');
        if (!brace) {
            sr_buf_puts(&b, p);
            break;
        }
        sr_buf_append(&b, p, (size_t)(brace - p));
        if (sr_str_has_prefix(brace, PH_CHECKPOINT)) {
            sr_buf_puts(&b, checkpoint);
            p = brace + sizeof PH_CHECKPOINT - 1;
        } else if (sr_str_has_prefix(brace, PH_OUTDIR)) {
            sr_buf_puts(&b, outdir);
            p = brace + sizeof PH_OUTDIR - 1;
        } else if (sr_str_has_prefix(brace, PH_N)) {
            sr_buf_puts(&b, n);
            p = brace + sizeof PH_N - 1;
        } else {
            sr_buf_append(&b, "{", 1);
            p = brace + 1;
        }
    }
    return b.s ? sr_buf_steal(&b) : xstrdup("");
}

char **sr_sampler_argv(const sr_sampler *s, const char *checkpoint, const char *outdir, int n)
{
    char nbuf[32];
    snprintf(nbuf, sizeof nbuf, "%d", n);
    char **argv = xcalloc(s->argc + 1, sizeof *argv);
    for (size_t i = 0; i < s->argc; i++)
        argv[i] = substitute(s->argv[i], checkpoint ? checkpoint : "", outdir ? outdir : "", nbuf);
    return argv;
}

/* ---- running ------------------------------------------------------------ */

/* The command as a shell would need it typed, for the log. */
static void quote_word(sr_buf *b, const char *w)
{
    int plain = *w != '\0';
    for (const char *p = w; *p && plain; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-{}", *p))
            plain = 0;
    if (plain) {
        sr_buf_puts(b, w);
        return;
    }
    sr_buf_puts(b, "'");
    for (const char *p = w; *p; p++) {
        if (*p == '\'')
            sr_buf_puts(b, "'\\''");
        else
            sr_buf_append(b, p, 1);
    }
    sr_buf_puts(b, "'");
}

static int write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, data, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        data += w;
        len -= (size_t)w;
    }
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void nap(void)
{
    struct timespec ts = {0, POLL_NS};
    nanosleep(&ts, NULL);
}

static void close_fds_from(int lo)
{
#ifdef SYS_close_range
    if (syscall(SYS_close_range, (unsigned)lo, ~0u, 0u) == 0)
        return;
#endif
    long max = sysconf(_SC_OPEN_MAX);
    if (max < 0 || max > 65536)
        max = 65536;
    for (int fd = lo; fd < max; fd++)
        close(fd);
}

/* In the child, between fork and exec: only async-signal-safe calls. */
static void child_exec(char **argv, int in_fd, int out_fd, int status_fd, pid_t parent)
{
    setpgid(0, 0);
#ifdef __linux__
    /* If sweepreport dies (Ctrl-C), the sampler must not run on. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent)
        _exit(127);
#else
    (void)parent;
#endif
    /* Dispositions set to "ignore" and the signal mask survive exec. */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            sigaction(sig, &dfl, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);

    /* Move the three descriptors out of the way first: any of them may be
     * 0-3 when the caller runs with a standard stream closed. */
    int e = 0;
    int in2 = fcntl(in_fd, F_DUPFD, 10);
    int out2 = in2 < 0 ? -1 : fcntl(out_fd, F_DUPFD, 10);
    int st2 = out2 < 0 ? -1 : fcntl(status_fd, F_DUPFD_CLOEXEC, 10);
    if (st2 < 0) {
        e = errno;
    } else if (dup2(in2, 0) < 0 || dup2(out2, 1) < 0 || dup2(out2, 2) < 0 || dup2(st2, 3) < 0 ||
               fcntl(3, F_SETFD, FD_CLOEXEC) < 0) {
        e = errno;
        status_fd = st2;
    } else {
        /* Only 0-2 and the status pipe (close-on-exec) reach the command. */
        status_fd = 3;
        close_fds_from(4);
        execvp(argv[0], argv);
        e = errno;
    }
    (void)!write(status_fd, &e, sizeof e);
    _exit(127);
}

/* Whether /proc shows a live (not zombie) process in group pgid: 1 yes, 0 no,
 * -1 cannot tell.  Killed members that nobody reaps (a container whose
 * first process does not reap orphans) stay as zombies in the group. */
static int proc_group_alive(pid_t pgid)
{
    DIR *d = opendir("/proc");
    if (!d)
        return -1;
    int alive = 0, seen_self = 0;
    struct dirent *de;
    while (!alive && (de = readdir(d)) != NULL) {
        char *end;
        long pid = strtol(de->d_name, &end, 10);
        if (de->d_name[0] < '0' || de->d_name[0] > '9' || *end != '\0')
            continue;
        char path[64], buf[512];
        snprintf(path, sizeof path, "/proc/%ld/stat", pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        ssize_t got = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (got <= 0)
            continue;
        buf[got] = '\0';
        /* "pid (comm) S ppid pgrp ..."; comm may hold spaces and parentheses. */
        const char *rp = strrchr(buf, ')');
        char state;
        long ppid, pgrp;
        if (!rp || sscanf(rp + 1, " %c %ld %ld", &state, &ppid, &pgrp) != 3)
            continue;
        if (pid == (long)getpid())
            seen_self = 1;
        if (pgrp == (long)pgid && state != 'Z' && state != 'X')
            alive = 1;
    }
    closedir(d);
    /* Without our own entry this is not a usable /proc. */
    return alive ? 1 : seen_self ? 0 : -1;
}

/* True when no live process is left in the group (the leader must be reaped). */
static int group_gone(pid_t pgid)
{
    if (kill(-pgid, 0) != 0 && errno == ESRCH)
        return 1;
    return proc_group_alive(pgid) == 0;
}

/* Waits for the leader (unless already reaped) and for the rest of the group
 * to go, at most GRACE_S, then kills whatever is left. */
static void wait_group_end(pid_t pid, int *reaped, int *status)
{
    double until = now_s() + GRACE_S;
    for (;;) {
        if (!*reaped) {
            pid_t r = waitpid(pid, status, WNOHANG);
            if (r == pid || (r < 0 && errno != EINTR))
                *reaped = 1;
        }
        if (*reaped && group_gone(pid))
            return;
        if (now_s() >= until)
            break;
        nap();
    }
    kill(-pid, SIGKILL);
    while (!*reaped) {
        pid_t r = waitpid(pid, status, 0);
        if (r == pid || (r < 0 && errno != EINTR))
            *reaped = 1;
    }
}

/* The last non-empty line of the output, made printable. */
static void last_line(int fd, off_t start, char *out, size_t outlen)
{
    out[0] = '\0';
    struct stat st;
    if (outlen == 0 || fstat(fd, &st) != 0 || st.st_size <= start)
        return;
    off_t from = st.st_size - start > TAIL_BYTES ? st.st_size - TAIL_BYTES : start;
    char buf[TAIL_BYTES];
    ssize_t got = pread(fd, buf, (size_t)(st.st_size - from), from);
    if (got <= 0)
        return;
    size_t end = (size_t)got;
    while (end > 0 && (is_blank(buf[end - 1]) || buf[end - 1] == '\0'))
        end--;
    size_t begin = end;
    while (begin > 0 && buf[begin - 1] != '\n' && buf[begin - 1] != '\r')
        begin--;
    while (begin < end && is_blank(buf[begin]))
        begin++;
    size_t o = 0;
    size_t cap = outlen - 1 < REASON_LINE_MAX ? outlen - 1 : REASON_LINE_MAX;
    for (size_t i = begin; i < end && o < cap; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (c == 0x1b && i + 1 < end && buf[i + 1] == '[') { /* terminal colour codes */
            i += 2;
            while (i < end && !((unsigned char)buf[i] >= 0x40 && (unsigned char)buf[i] <= 0x7e))
                i++;
            continue;
        }
        out[o++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
    }
    /* Do not end inside a UTF-8 sequence. */
    if (o == cap && o > 0) {
        size_t k = o;
        while (k > 0 && ((unsigned char)out[k - 1] & 0xc0) == 0x80)
            k--;
        if (k > 0 && ((unsigned char)out[k - 1] & 0xc0) == 0xc0)
            o = k - 1;
    }
    out[o] = '\0';
}

static int open_log(const char *log_path, char *err, size_t errlen)
{
    int fd;
    if (log_path) {
        fd = open(log_path, O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0666);
        if (fd < 0)
            snprintf(err, errlen, "cannot open the sampler log %s: %s", log_path, strerror(errno));
        return fd;
    }
    const char *tmp = getenv("TMPDIR");
    char *path = xasprintf("%s/sweepreport-sampler-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    fd = mkostemp(path, O_CLOEXEC | O_APPEND);
    if (fd < 0)
        snprintf(err, errlen, "cannot create a temporary file for the sampler output: %s", strerror(errno));
    else
        unlink(path);
    free(path);
    return fd;
}

int sr_sampler_run(const sr_sampler *s, const char *checkpoint, const char *outdir, int n, double timeout_s,
                   const char *log_path, char *err, size_t errlen)
{
    if (!s->argv || s->argc == 0) {
        snprintf(err, errlen, "no sampler command");
        return -1;
    }
    int rc = -1, null_fd = -1, pipe_fd[2] = {-1, -1};
    char **argv = sr_sampler_argv(s, checkpoint, outdir, n);
    int log_fd = open_log(log_path, err, errlen);
    if (log_fd < 0)
        goto out;

    sr_buf head;
    sr_buf_init(&head);
    sr_buf_puts(&head, "$");
    for (char **a = argv; *a; a++) {
        sr_buf_puts(&head, " ");
        quote_word(&head, *a);
    }
    sr_buf_puts(&head, "\n");
    (void)write_all(log_fd, head.s, head.len);
    sr_buf_free(&head);
    off_t start = lseek(log_fd, 0, SEEK_END);
    if (start < 0)
        start = 0;

    null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null_fd < 0) {
        snprintf(err, errlen, "cannot open /dev/null: %s", strerror(errno));
        goto out;
    }
    if (pipe2(pipe_fd, O_CLOEXEC) != 0) {
        snprintf(err, errlen, "cannot start '%s': %s", argv[0], strerror(errno));
        goto out;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "cannot start '%s': %s", argv[0], strerror(errno));
        goto out;
    }
    if (pid == 0)
        child_exec(argv, null_fd, log_fd, pipe_fd[1], parent);
    /* Both sides set the group, so it exists whichever runs first. */
    setpgid(pid, pid);
    close(pipe_fd[1]);
    pipe_fd[1] = -1;

    /* The pipe closes on a successful exec; otherwise the child sends errno. */
    int exec_errno = 0;
    ssize_t got;
    do
        got = read(pipe_fd[0], &exec_errno, sizeof exec_errno);
    while (got < 0 && errno == EINTR);
    int status = 0, reaped = 0;
    if (got == (ssize_t)sizeof exec_errno) {
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        snprintf(err, errlen, "cannot run '%s': %s", argv[0], strerror(exec_errno));
        goto out;
    }

    int timed_out = 0, wait_errno = 0;
    int limited = timeout_s > 0 && isfinite(timeout_s);
    double deadline = limited ? now_s() + timeout_s : 0.0;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            reaped = 1;
            break;
        }
        if (r < 0 && errno != EINTR) {
            wait_errno = errno;
            reaped = 1;
            break;
        }
        if (limited && now_s() >= deadline) {
            timed_out = 1;
            kill(-pid, SIGTERM);
            break;
        }
        nap();
    }
    /* After a timeout: the grace period.  After a normal exit: ends anything
     * the command left running in its group (returns at once when none). */
    if (timed_out || !group_gone(pid)) {
        if (!timed_out)
            kill(-pid, SIGTERM);
        wait_group_end(pid, &reaped, &status);
    }

    char line[REASON_LINE_MAX + 1];
    if (timed_out) {
        snprintf(err, errlen, "timed out after %g s (killed)", timeout_s);
    } else if (wait_errno) {
        snprintf(err, errlen, "cannot wait for '%s': %s", argv[0], strerror(wait_errno));
    } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        rc = 0;
    } else {
        last_line(log_fd, start, line, sizeof line);
        if (WIFEXITED(status))
            snprintf(err, errlen, "exited with status %d%s%s", WEXITSTATUS(status), line[0] ? ": " : "", line);
        else if (WIFSIGNALED(status))
            snprintf(err, errlen, "killed by signal %d%s%s", WTERMSIG(status), line[0] ? ": " : "", line);
        else
            snprintf(err, errlen, "ended with wait status %d", status);
    }

out:
    if (pipe_fd[0] >= 0)
        close(pipe_fd[0]);
    if (pipe_fd[1] >= 0)
        close(pipe_fd[1]);
    if (null_fd >= 0)
        close(null_fd);
    if (log_fd >= 0)
        close(log_fd);
    sr_sampler_argv_free(argv);
    return rc;
}
