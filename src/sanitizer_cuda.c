/* sanitizer_cuda.c - AddressSanitizer settings that the CUDA driver needs.
 *
 * Under AddressSanitizer the CUDA driver needs the address range that ASan
 * reserves as its "shadow gap" (otherwise cuInit / cudaMalloc fail on a real
 * GPU), and libcuda keeps allocations until exit that LeakSanitizer would
 * report.  The sanitizer runtime reads these hooks at start-up; ASAN_OPTIONS
 * and LSAN_OPTIONS given by the user still take precedence.  Linked into the
 * program and every test program; empty in other builds. */
#include "config.h"

#if defined(__SANITIZE_ADDRESS__)
#define SR_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SR_ASAN 1
#endif
#endif

#if defined(SR_ASAN) && defined(HAVE_CUDA)
const char *__asan_default_options(void);
const char *__lsan_default_suppressions(void);
__attribute__((used)) const char *__asan_default_options(void)
{
    return "protect_shadow_gap=0";
}
__attribute__((used)) const char *__lsan_default_suppressions(void)
{
    return "leak:libcuda.so\nleak:libnvidia-\n";
}
#else
/* ISO C wants at least one declaration in a translation unit. */
typedef int sr_sanitizer_cuda_unused;
#endif
