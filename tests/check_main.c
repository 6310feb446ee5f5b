/* check_main.c - runs a test program's suite and reports through TAP. */
#include "config.h"

#include "check_main.h"
#include "kernels.h"
#include "atomic_file.h"
#include "util.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

char *test_srcpath(const char *rel)
{
    const char *top = getenv("SR_SRCDIR");
    return sr_path_join(top && *top ? top : ".", rel);
}

char *test_tmpdir(const char *name)
{
    const char *top = getenv("SR_BUILDDIR");
    char *base = top && *top ? sr_path_join(top, "tests/tmp") : xstrdup("/tmp/sweepreport-tests");
    char *dir = xasprintf("%s/%s-%ld", base, name, (long)getpid());
    free(base);
    test_rmtree(dir);
    if (sr_mkdir_p(dir, 0755) != 0) {
        perror(dir);
        abort();
    }
    return dir;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void test_rmtree(const char *path)
{
    nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#ifdef HAVE_CUDA
int test_have_gpu(void)
{
    int n = sr_cuda_device_count();
    if (n == 0) {
        printf("# SKIP no CUDA device\n");
        fflush(stdout);
    }
    return n > 0;
}
#endif

int main(void)
{
    SRunner *runner = srunner_create(make_suite());
    srunner_set_tap(runner, "-");
    srunner_run_all(runner, CK_SILENT);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
