/* test_lock.c - the sweep's run lock: held, refused to another process with
 * the holder named, waited for, and free again when its holder dies. */
#include "config.h"

#include "check_main.h"
#include "lock.h"
#include "util.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void nap(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

/* The exit status of a child that tries the lock once: 0 held, 1 busy with
 * the parent named in the message and the file, 2 anything else. */
static int child_try(const char *dir, double wait)
{
    pid_t parent = getppid();
    sr_lock l;
    sr_lock_holder h;
    char err[1024];
    int rc = sr_lock_acquire(&l, dir, "test", wait, &h, err, sizeof err);
    if (rc == SR_LOCK_HELD) {
        sr_lock_release(&l);
        return 0;
    }
    if (rc != SR_LOCK_BUSY)
        return 2;
    char want[64];
    snprintf(want, sizeof want, "locked by pid %ld on ", (long)parent);
    if (h.pid != (long)parent || !strstr(err, want) || !strstr(err, " since ") || !strstr(err, "(run)") ||
        !strstr(err, "run.lock") || strlen(h.started) < 20)
        return 3;
    return 1;
}

static int run_child(const char *dir, double wait)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        _exit(child_try(dir, wait));
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert(WIFEXITED(st));
    return WEXITSTATUS(st);
}

START_TEST(test_second_run_is_refused)
{
    char *dir = test_tmpdir("lock");
    sr_lock l;
    sr_lock_holder h;
    char err[1024];
    ck_assert_int_eq(sr_lock_acquire(&l, dir, "run", 0, &h, err, sizeof err), SR_LOCK_HELD);
    /* the file says who holds it */
    char *path = sr_lock_path(dir);
    ck_assert(sr_lock_read_holder(path, &h) == 0);
    ck_assert_int_eq(h.pid, (long)getpid());
    ck_assert_str_eq(h.command, "run");
    ck_assert(h.host[0] != '\0');
    ck_assert_msg(strlen(h.started) == 20 && h.started[19] == 'Z', "%s", h.started);
    /* another process is refused at once, with the holder named */
    ck_assert_int_eq(run_child(dir, 0), 1);
    /* ... and after a short wait too */
    ck_assert_int_eq(run_child(dir, 0.3), 1);
    sr_lock_release(&l);
    /* released: the file says nothing, the next one gets it */
    ck_assert(sr_lock_read_holder(path, &h) != 0);
    ck_assert_int_eq(run_child(dir, 0), 0);
    free(path);
    test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_wait_for_the_holder)
{
    char *dir = test_tmpdir("lock-wait");
    int go[2];
    ck_assert(pipe(go) == 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        sr_lock l;
        sr_lock_holder h;
        char err[1024];
        int rc = sr_lock_acquire(&l, dir, "run", 0, &h, err, sizeof err);
        char b = rc == SR_LOCK_HELD ? 'y' : 'n';
        if (write(go[1], &b, 1) != 1)
            _exit(2);
        nap(0.5);
        sr_lock_release(&l);
        _exit(0);
    }
    char b = 0;
    ck_assert_int_eq(read(go[0], &b, 1), 1);
    ck_assert_int_eq(b, 'y');
    sr_lock l;
    sr_lock_holder h;
    char err[1024];
    /* held by the child now: refused at once, got within a long wait */
    ck_assert_int_eq(sr_lock_acquire(&l, dir, "run", 0, &h, err, sizeof err), SR_LOCK_BUSY);
    ck_assert_int_eq(h.pid, (long)pid);
    ck_assert_int_eq(sr_lock_acquire(&l, dir, "run", 60, &h, err, sizeof err), SR_LOCK_HELD);
    sr_lock_release(&l);
    int st;
    waitpid(pid, &st, 0);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    close(go[0]);
    close(go[1]);
    test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_killed_holder_frees_it)
{
    char *dir = test_tmpdir("lock-kill");
    int go[2];
    ck_assert(pipe(go) == 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        sr_lock l;
        sr_lock_holder h;
        char err[1024];
        int rc = sr_lock_acquire(&l, dir, "run", 0, &h, err, sizeof err);
        char b = rc == SR_LOCK_HELD ? 'y' : 'n';
        if (write(go[1], &b, 1) != 1)
            _exit(2);
        for (;;)
            pause();
    }
    char b = 0;
    ck_assert_int_eq(read(go[0], &b, 1), 1);
    ck_assert_int_eq(b, 'y');
    sr_lock l;
    sr_lock_holder h;
    char err[1024];
    ck_assert_int_eq(sr_lock_acquire(&l, dir, "run", 0, &h, err, sizeof err), SR_LOCK_BUSY);
    kill(pid, SIGKILL);
    int st;
    waitpid(pid, &st, 0);
    ck_assert(WIFSIGNALED(st));
    /* its note is still in the file, but the lock died with it */
    char *path = sr_lock_path(dir);
    ck_assert(sr_lock_read_holder(path, &h) == 0 && h.pid == (long)pid);
    ck_assert_int_eq(sr_lock_acquire(&l, dir, "run", 0, &h, err, sizeof err), SR_LOCK_HELD);
    ck_assert(sr_lock_read_holder(path, &h) == 0 && h.pid == (long)getpid());
    sr_lock_release(&l);
    free(path);
    close(go[0]);
    close(go[1]);
    test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_missing_sweep)
{
    char *dir = test_tmpdir("lock-missing");
    char *missing = sr_path_join(dir, "nope");
    sr_lock l;
    sr_lock_holder h;
    char err[1024];
    ck_assert_int_eq(sr_lock_acquire(&l, missing, "run", 0, &h, err, sizeof err), SR_LOCK_ERROR);
    ck_assert_int_eq(errno, ENOENT);
    ck_assert_msg(strstr(err, "nope: cannot open the sweep folder"), "%s", err);
    struct stat st;
    ck_assert_msg(stat(missing, &st) != 0, "the missing sweep was created");
    sr_lock_release(&l);
    free(missing);
    test_rmtree(dir);
    free(dir);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("lock");
    TCase *tc = tcase_create("lock");
    tcase_add_test(tc, test_second_run_is_refused);
    tcase_add_test(tc, test_wait_for_the_holder);
    tcase_add_test(tc, test_killed_holder_frees_it);
    tcase_add_test(tc, test_missing_sweep);
    suite_add_tcase(s, tc);
    return s;
}
