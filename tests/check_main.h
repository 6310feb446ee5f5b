/* check_main.h - the shared main() of the Check suites.
 *
 * Each test program defines make_suite(); main() runs it and reports
 * through TAP, one line per test, for automake's tap-driver. */
#ifndef SR_CHECK_MAIN_H
#define SR_CHECK_MAIN_H

#include <check.h>

Suite *make_suite(void);

/* Absolute path of a file under the source tree (tests/data/...); the caller
 * frees.  Uses $SR_SRCDIR (set by make check), else the current directory. */
char *test_srcpath(const char *rel);

/* A fresh empty scratch folder for one test; the caller frees the string.
 * Under $SR_BUILDDIR/tests/tmp (or /tmp) and unique per process. */
char *test_tmpdir(const char *name);

/* rm -rf */
void test_rmtree(const char *path);

#ifdef HAVE_CUDA
/* 1 when a CUDA device is there; else prints "# SKIP no CUDA device" (seen
 * in the TAP log) and returns 0.  Call it inside a test, never before Check
 * forks. */
int test_have_gpu(void);
#endif

#endif
