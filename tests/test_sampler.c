/* test_sampler.c - splitting the sampler template and running it without a
 * shell: arguments, injection attempts, time limits, failures. */
#include "config.h"

#include "atomic_file.h"
#include "check_main.h"
#include "png_io.h"
#include "sampler.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------------- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static char *slurp(const char *path)
{
    char *buf, err[256];
    size_t n;
    ck_assert_msg(sr_read_file(path, 1u << 20, &buf, &n, err, sizeof err) == 0, "%s: %s", path, err);
    return buf;
}

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* A word for the template: single-quoted, with ' written as '\''. */
static void quoted(sr_buf *b, const char *s)
{
    sr_buf_puts(b, "'");
    for (; *s; s++) {
        if (*s == '\'')
            sr_buf_puts(b, "'\\''");
        else
            sr_buf_append(b, s, 1);
    }
    sr_buf_puts(b, "'");
}

/* "sh '<srcdir>/tests/data/sampler/<script>' <args>" */
static char *script_template(const char *script, const char *args)
{
    char *rel = xasprintf("tests/data/sampler/%s", script);
    char *path = test_srcpath(rel);
    sr_buf b;
    sr_buf_init(&b);
    sr_buf_puts(&b, "sh ");
    quoted(&b, path);
    sr_buf_puts(&b, " ");
    sr_buf_puts(&b, args);
    free(path);
    free(rel);
    return sr_buf_steal(&b);
}

static void parse_ok(const char *t, sr_sampler *s)
{
    char err[256] = "";
    ck_assert_msg(sr_sampler_parse(t, s, err, sizeof err) == 0, "parse of [%s] failed: %s", t, err);
}

static void assert_words(const char *t, const char *const *want, size_t n)
{
    sr_sampler s;
    parse_ok(t, &s);
    ck_assert_msg(s.argc == n, "[%s]: %zu words, want %zu", t, s.argc, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(strcmp(s.argv[i], want[i]) == 0, "[%s] word %zu: [%s], want [%s]", t, i, s.argv[i], want[i]);
    ck_assert_ptr_null(s.argv[n]);
    sr_sampler_free(&s);
}

#define WORDS(t, ...)                                                                                                  \
    do {                                                                                                               \
        static const char *const w_[] = {__VA_ARGS__};                                                                 \
        assert_words((t), w_, sizeof w_ / sizeof w_[0]);                                                               \
    } while (0)

static void parse_fails(const char *t, const char *needle, const char *absent)
{
    sr_sampler s;
    s.argv = (char **)1;
    char err[256] = "";
    ck_assert_msg(sr_sampler_parse(t, &s, err, sizeof err) == -1, "accepted [%s]", t);
    ck_assert_msg(strstr(err, needle) != NULL, "[%s]: reason [%s] lacks [%s]", t, err, needle);
    if (absent)
        ck_assert_msg(strstr(err, absent) == NULL, "[%s]: reason [%s] has [%s]", t, err, absent);
    ck_assert_ptr_null(s.argv);
    ck_assert_uint_eq(s.argc, 0);
}

/* Whether pid is gone (a zombie nobody reaps counts as gone). */
static int process_gone(long pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *rp = strrchr(buf, ')');
    return rp && (rp[2] == 'Z' || rp[2] == 'X');
}

/* Waits up to 5 s for the process whose pid is in file. */
static void assert_dies(const char *file)
{
    char *text = slurp(file);
    long pid = atol(text);
    free(text);
    ck_assert_msg(pid > 1, "no pid in %s", file);
    double until = now_s() + 5.0;
    while (!process_gone(pid) && now_s() < until) {
        struct timespec ts = {0, 20000000L};
        nanosleep(&ts, NULL);
    }
    if (!process_gone(pid)) {
        kill((pid_t)pid, SIGKILL);
        ck_abort_msg("process %ld from %s is still running", pid, file);
    }
}

/* ---- splitting ----------------------------------------------------------- */

START_TEST(test_parse_words)
{
    WORDS("render {checkpoint} {outdir}", "render", "{checkpoint}", "{outdir}");
    WORDS("  \trender\t {checkpoint}\n  {outdir}  {n} ", "render", "{checkpoint}", "{outdir}", "{n}");
    /* single quotes keep everything */
    WORDS("python 'my script.py' '{checkpoint}' '{outdir}' 'a\\b \"c\" $HOME'", "python", "my script.py",
          "{checkpoint}", "{outdir}", "a\\b \"c\" $HOME");
    /* double quotes: \" \\ \$ \` are escapes, other backslashes stay */
    WORDS("p \"a \\\"b\\\" \\\\ \\$x \\`y\\` \\n 'q'\" {checkpoint} {outdir}", "p", "a \"b\" \\ $x `y` \\n 'q'",
          "{checkpoint}", "{outdir}");
    /* outside quotes a backslash makes the next character literal */
    WORDS("p a\\ b \\'c \\\\ \\\"d {checkpoint} {outdir}", "p", "a b", "'c", "\\", "\"d", "{checkpoint}", "{outdir}");
    /* pieces next to each other make one word; "" and '' are empty words */
    WORDS("p --x='a b'\"c d\"e \"\" '' {checkpoint} {outdir}", "p", "--x=a bc de", "", "", "{checkpoint}",
          "{outdir}");
    /* nothing is expanded */
    WORDS("p $HOME ~ *.py $(id) `id` a;b a|b {checkpoint} {outdir}", "p", "$HOME", "~", "*.py", "$(id)", "`id`",
          "a;b", "a|b", "{checkpoint}", "{outdir}");
    /* a backslash-newline continues the line */
    WORDS("p \\\n {checkpoint} a\\\nb {outdir}", "p", "{checkpoint}", "ab", "{outdir}");
    /* the placeholders may sit inside words */
    WORDS("p --lora={checkpoint} --out \"{outdir}/imgs\"", "p", "--lora={checkpoint}", "--out", "{outdir}/imgs");
}
END_TEST

START_TEST(test_parse_errors)
{
    parse_fails("", "empty", NULL);
    parse_fails("   \t\n", "empty", NULL);
    parse_fails("p 'abc {checkpoint} {outdir}", "unbalanced '", NULL);
    parse_fails("p {checkpoint} \"{outdir}", "unbalanced \"", NULL);
    parse_fails("p {checkpoint} {outdir} \"a\\\"", "unbalanced \"", NULL);
    parse_fails("p {checkpoint} {outdir} \\", "backslash", NULL);
    parse_fails("p --out {outdir}", "{checkpoint}", "{outdir}");
    parse_fails("p --lora {checkpoint}", "{outdir}", "{checkpoint}");
    parse_fails("p {n}", "neither {checkpoint} nor {outdir}", NULL);
    parse_fails("p {Checkpoint} {out dir}", "neither", NULL);
    parse_fails("'' {checkpoint} {outdir}", "program name is empty", NULL);
}
END_TEST

START_TEST(test_substitution)
{
    sr_sampler s;
    parse_ok("run --ckpt={checkpoint} {outdir}/img_{n}.png {n}{n} {unknown} {checkpoint {{outdir}} x{", &s);
    /* text that a replacement brings in is not replaced again */
    char **a = sr_sampler_argv(&s, "/x/{outdir}/a {n}.safetensors", "/o", 8);
    static const char *const want[] = {"run", "--ckpt=/x/{outdir}/a {n}.safetensors", "/o/img_8.png", "88",
                                       "{unknown}", "{checkpoint", "{/o}", "x{"};
    size_t n = 0;
    while (a[n])
        n++;
    ck_assert_uint_eq(n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < n; i++)
        ck_assert_str_eq(a[i], want[i]);
    sr_sampler_argv_free(a);
    /* the template itself is unchanged */
    ck_assert_str_eq(s.argv[1], "--ckpt={checkpoint}");
    sr_sampler_free(&s);
    sr_sampler_free(&s); /* harmless twice */
}
END_TEST

/* ---- running ------------------------------------------------------------- */

START_TEST(test_run_fake_sampler)
{
    char *dir = test_tmpdir("sampler-run");
    char *out = sr_path_join(dir, "out");
    ck_assert_int_eq(sr_mkdir_p(out, 0755), 0);
    char *log = sr_path_join(dir, "sampler.log");
    char *t = script_template("fake_sampler.sh", "{checkpoint} {outdir} {n}");
    sr_sampler s;
    parse_ok(t, &s);
    char err[512] = "";
    int rc = sr_sampler_run(&s, "/ckpt/lora-000002.safetensors", out, 3, 60, log, err, sizeof err);
    ck_assert_msg(rc == 0, "%s", err);
    for (int i = 0; i < 4; i++) {
        char name[32];
        snprintf(name, sizeof name, "sample_%02d.png", i);
        char *p = sr_path_join(out, name);
        ck_assert_msg(exists(p) == (i < 3), "%s", p);
        if (i == 0) {
            uint8_t *rgb;
            int w, h;
            ck_assert_msg(sr_png_read_rgb8(p, &rgb, &w, &h, err, sizeof err) == 0, "%s", err);
            ck_assert(w == 2 && h == 2);
            static const uint8_t want[] = {200, 120, 40, 10, 90, 250, 255, 255, 255, 0, 0, 0};
            ck_assert(memcmp(rgb, want, sizeof want) == 0);
            free(rgb);
        }
        free(p);
    }
    /* the log shows the command, then its output */
    char *text = slurp(log);
    ck_assert_msg(strncmp(text, "$ sh ", 5) == 0, "%s", text);
    ck_assert_msg(strstr(text, "/ckpt/lora-000002.safetensors") != NULL, "%s", text);
    ck_assert_msg(strstr(text, "fake_sampler: wrote 3 samples\n") != NULL, "%s", text);
    free(text);
    /* a second run truncates the log */
    ck_assert_int_eq(sr_sampler_run(&s, "/ckpt/b.safetensors", out, 1, 60, log, err, sizeof err), 0);
    text = slurp(log);
    ck_assert_ptr_null(strstr(text, "wrote 3"));
    ck_assert_ptr_nonnull(strstr(text, "wrote 1 samples"));
    free(text);
    /* without a log file */
    ck_assert_int_eq(sr_sampler_run(&s, "/ckpt/b.safetensors", out, 1, 60, NULL, err, sizeof err), 0);
    sr_sampler_free(&s);
    free(t);
    free(log);
    free(out);
    test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_run_no_injection)
{
    char *dir = test_tmpdir("sampler-inject");
    char *mark1 = sr_path_join(dir, "pwned1"), *mark2 = sr_path_join(dir, "pwned2"), *mark3 = sr_path_join(dir, "x");
    /* x must survive ";rm -rf x" run from dir */
    FILE *f = fopen(mark3, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    char *ckpt = xasprintf("%s/it's \"a\" ckpt ;rm -rf x; $(touch %s) `touch %s` & {outdir} {n} \\ $HOME.safetensors",
                           dir, mark1, mark2);
    char *ckdir = xstrndup(ckpt, (size_t)(sr_path_base(ckpt) - ckpt));
    ck_assert_int_eq(sr_mkdir_p(ckdir, 0755), 0);
    f = fopen(ckpt, "w");
    ck_assert_msg(f != NULL, "%s", ckpt);
    fclose(f);
    char *out = sr_path_join(dir, "out dir; $(touch pwned3) 'q'");
    ck_assert_int_eq(sr_mkdir_p(out, 0755), 0);

    char *t = script_template("fake_sampler.sh", "{checkpoint} {outdir} {n}");
    sr_sampler s;
    parse_ok(t, &s);
    char err[512] = "";
    char *cwd = getcwd(NULL, 0);
    ck_assert_int_eq(chdir(dir), 0);
    int rc = sr_sampler_run(&s, ckpt, out, 2, 60, NULL, err, sizeof err);
    ck_assert_int_eq(chdir(cwd), 0);
    ck_assert_msg(rc == 0, "%s", err);

    char *p = sr_path_join(out, "checkpoint.txt");
    char *got = slurp(p);
    ck_assert_str_eq(got, ckpt); /* byte for byte, one argument */
    free(got);
    free(p);
    p = sr_path_join(out, "argc.txt");
    got = slurp(p);
    ck_assert_str_eq(got, "3");
    free(got);
    free(p);
    p = sr_path_join(out, "sample_01.png");
    ck_assert(exists(p));
    free(p);
    ck_assert(!exists(mark1));
    ck_assert(!exists(mark2));
    p = sr_path_join(dir, "pwned3");
    ck_assert(!exists(p));
    free(p);
    ck_assert(exists(mark3));
    ck_assert(exists(ckpt));

    free(cwd);
    sr_sampler_free(&s);
    free(t);
    free(out);
    free(ckdir);
    free(ckpt);
    free(mark1);
    free(mark2);
    free(mark3);
    test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_run_stdin_is_devnull)
{
    /* a command that reads its input gets end-of-file at once */
    sr_sampler s;
    parse_ok("sh -c 'cat; echo \"args:$0:$1\"' {checkpoint} {outdir}", &s);
    char *dir = test_tmpdir("sampler-stdin");
    char *log = sr_path_join(dir, "log");
    char err[512] = "";
    double t0 = now_s();
    int rc = sr_sampler_run(&s, "a b", "c", 1, 30, log, err, sizeof err);
    ck_assert_msg(rc == 0, "%s", err);
    ck_assert(now_s() - t0 < 10);
    char *text = slurp(log);
    ck_assert_msg(strstr(text, "args:a b:c\n") != NULL, "%s", text);
    free(text);
    free(log);
    sr_sampler_free(&s);
    test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_run_failure_reason)
{
    char *t = script_template("fail.sh", "{checkpoint} {outdir}");
    sr_sampler s;
    parse_ok(t, &s);
    char *dir = test_tmpdir("sampler-fail");
    char *log = sr_path_join(dir, "log");
    char err[512] = "";
    ck_assert_int_eq(sr_sampler_run(&s, "c", dir, 1, 30, log, err, sizeof err), -1);
    ck_assert_str_eq(err, "exited with status 3: RuntimeError: CUDA out of memory");
    /* the whole output is in the log */
    char *text = slurp(log);
    ck_assert_ptr_nonnull(strstr(text, "loading model\n"));
    ck_assert_ptr_nonnull(strstr(text, "rendering 8 samples\n"));
    free(text);
    /* the same without a log file */
    ck_assert_int_eq(sr_sampler_run(&s, "c", dir, 1, 30, NULL, err, sizeof err), -1);
    ck_assert_str_eq(err, "exited with status 3: RuntimeError: CUDA out of memory");
    sr_sampler_free(&s);
    free(t);

    /* no output: no colon */
    parse_ok("sh -c 'exit 7' {checkpoint} {outdir}", &s);
    ck_assert_int_eq(sr_sampler_run(&s, "c", dir, 1, 30, log, err, sizeof err), -1);
    ck_assert_str_eq(err, "exited with status 7");
    sr_sampler_free(&s);
    /* a progress line rewritten with \r: the last state counts; colours are dropped */
    parse_ok("sh -c 'printf \"step 1/8\\rstep 8/8\\033[0m\\n\\n\"; exit 1' {checkpoint} {outdir}", &s);
    ck_assert_int_eq(sr_sampler_run(&s, "c", dir, 1, 30, log, err, sizeof err), -1);
    ck_assert_str_eq(err, "exited with status 1: step 8/8");
    sr_sampler_free(&s);
    /* a long last line is cut, the reason stays short */
    parse_ok("sh -c 'i=0; while [ $i -lt 1000 ]; do printf xxxxxxxxxx; i=$((i+1)); done; exit 1' {checkpoint} {outdir}",
             &s);
    ck_assert_int_eq(sr_sampler_run(&s, "c", dir, 1, 30, log, err, sizeof err), -1);
    ck_assert_msg(strncmp(err, "exited with status 1: xxxx", 26) == 0 && strlen(err) < 400, "%s", err);
    sr_sampler_free(&s);
    /* killed by a signal */
    parse_ok("sh -c 'echo bye; kill -9 $$' {checkpoint} {outdir}", &s);
    ck_assert_int_eq(sr_sampler_run(&s, "c", dir, 1, 30, log, err, sizeof err), -1);
    ck_assert_str_eq(err, "killed by signal 9: bye");
    sr_sampler_free(&s);
    /* a log that cannot be created */
    parse_ok("true {checkpoint} {outdir}", &s);
    char *bad = sr_path_join(dir, "no/such/dir/log");
    ck_assert_int_eq(sr_sampler_run(&s, "c", dir, 1, 30, bad, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "log") && strstr(err, "No such file"), "%s", err);
    ck_assert_int_eq(sr_sampler_run(&s, "c", dir, 1, 30, log, err, sizeof err), 0);
    free(bad);
    sr_sampler_free(&s);
    free(log);
    test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_run_missing_program)
{
    char *dir = test_tmpdir("sampler-missing");
    char err[512] = "";
    sr_sampler s;
    parse_ok("/nonexistent/render-samples {checkpoint} {outdir}", &s);
    ck_assert_int_eq(sr_sampler_run(&s, "c", dir, 1, 30, NULL, err, sizeof err), -1);
    ck_assert_str_eq(err, "cannot run '/nonexistent/render-samples': No such file or directory");
    sr_sampler_free(&s);
    parse_ok("sweepreport-no-such-sampler-xyz {checkpoint} {outdir}", &s);
    ck_assert_int_eq(sr_sampler_run(&s, "c", dir, 1, 30, NULL, err, sizeof err), -1);
    ck_assert_str_eq(err, "cannot run 'sweepreport-no-such-sampler-xyz': No such file or directory");
    sr_sampler_free(&s);
    /* a file that is not executable */
    char *prog = sr_path_join(dir, "render.sh");
    FILE *f = fopen(prog, "w");
    ck_assert_ptr_nonnull(f);
    fputs("#!/bin/sh\nexit 0\n", f);
    fclose(f);
    chmod(prog, 0644);
    char *t = xasprintf("'%s' {checkpoint} {outdir}", prog);
    parse_ok(t, &s);
    if (geteuid() != 0 || access(prog, X_OK) != 0) {
        ck_assert_int_eq(sr_sampler_run(&s, "c", dir, 1, 30, NULL, err, sizeof err), -1);
        ck_assert_msg(strstr(err, "cannot run '") == err && strstr(err, "Permission denied"), "%s", err);
    }
    sr_sampler_free(&s);
    free(t);
    free(prog);
    test_rmtree(dir);
    free(dir);
}
END_TEST

/* ---- time limits and process groups (slow) ------------------------------- */

START_TEST(test_run_timeout_kills_group)
{
    char *dir = test_tmpdir("sampler-timeout");
    char *t = script_template("hang.sh", "{outdir} {checkpoint}");
    sr_sampler s;
    parse_ok(t, &s);
    char *log = sr_path_join(dir, "log");
    char err[512] = "";
    double t0 = now_s();
    int rc = sr_sampler_run(&s, "c", dir, 1, 1.0, log, err, sizeof err);
    double took = now_s() - t0;
    ck_assert_int_eq(rc, -1);
    ck_assert_str_eq(err, "timed out after 1 s (killed)");
    ck_assert_msg(took >= 0.9 && took < 10, "took %.1f s", took);
    /* the background child of the script died with it */
    char *pidfile = sr_path_join(dir, "grandchild.pid");
    assert_dies(pidfile);
    free(pidfile);
    sr_sampler_free(&s);
    free(t);
    free(log);
    test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_run_sigterm_ignored)
{
    char *dir = test_tmpdir("sampler-stubborn");
    char *t = script_template("stubborn.sh", "{outdir} {checkpoint}");
    sr_sampler s;
    parse_ok(t, &s);
    char err[512] = "";
    double t0 = now_s();
    int rc = sr_sampler_run(&s, "c", dir, 1, 0.5, NULL, err, sizeof err);
    double took = now_s() - t0;
    ck_assert_int_eq(rc, -1);
    ck_assert_str_eq(err, "timed out after 0.5 s (killed)");
    /* SIGKILL follows SIGTERM after the grace period */
    ck_assert_msg(took >= 4 && took < 20, "took %.1f s", took);
    char *pidfile = sr_path_join(dir, "stubborn.pid");
    assert_dies(pidfile);
    free(pidfile);
    sr_sampler_free(&s);
    free(t);
    test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_run_leftovers_ended)
{
    char *dir = test_tmpdir("sampler-leftover");
    char *t = script_template("leave_behind.sh", "{outdir} {checkpoint}");
    sr_sampler s;
    parse_ok(t, &s);
    char err[512] = "";
    double t0 = now_s();
    int rc = sr_sampler_run(&s, "c", dir, 1, 60, NULL, err, sizeof err);
    ck_assert_msg(rc == 0, "%s", err);
    ck_assert_msg(now_s() - t0 < 10, "took %.1f s", now_s() - t0);
    char *pidfile = sr_path_join(dir, "leftover.pid");
    assert_dies(pidfile);
    free(pidfile);
    sr_sampler_free(&s);
    free(t);
    test_rmtree(dir);
    free(dir);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("sampler");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, test_parse_words);
    tcase_add_test(tc, test_parse_errors);
    tcase_add_test(tc, test_substitution);
    suite_add_tcase(s, tc);
    TCase *tr = tcase_create("run");
    tcase_set_timeout(tr, 60);
    tcase_add_test(tr, test_run_fake_sampler);
    tcase_add_test(tr, test_run_no_injection);
    tcase_add_test(tr, test_run_stdin_is_devnull);
    tcase_add_test(tr, test_run_failure_reason);
    tcase_add_test(tr, test_run_missing_program);
    suite_add_tcase(s, tr);
    TCase *tt = tcase_create("time_limit");
    tcase_set_timeout(tt, 60);
    tcase_add_test(tt, test_run_timeout_kills_group);
    tcase_add_test(tt, test_run_sigterm_ignored);
    tcase_add_test(tt, test_run_leftovers_ended);
    suite_add_tcase(s, tt);
    return s;
}
