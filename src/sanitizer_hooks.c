/* sanitizer_hooks.c - sanitizer settings for libraries that are not ours.
 *
 * Under AddressSanitizer the CUDA driver needs the address range that ASan
 * reserves as its "shadow gap" (otherwise cuInit / cudaMalloc fail on a real
 * GPU).  libcuda, fontconfig and pango keep allocations until exit that
 * LeakSanitizer would report as leaks.  The sanitizer runtime reads these
 * hooks at start-up; ASAN_OPTIONS and LSAN_OPTIONS given by the user still
 * take precedence.  Linked into the program and every test program; empty
 * in builds without AddressSanitizer. */
#include "config.h"

#if defined(__SANITIZE_ADDRESS__)
#define SR_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SR_ASAN 1
#endif
#endif

#if defined(SR_ASAN)
const char *__asan_default_options(void);
const char *__lsan_default_suppressions(void);
const char *__lsan_default_options(void);
__attribute__((used)) const char *__lsan_default_options(void)
{
    return "print_suppressions=0";
}
#if defined(HAVE_CUDA)
__attribute__((used)) const char *__asan_default_options(void)
{
    return "protect_shadow_gap=0";
}
#endif
__attribute__((used)) const char *__lsan_default_suppressions(void)
{
    return "leak:libcuda.so\n"
           "leak:libnvidia-\n"
           "leak:libfontconfig.so\n"
           "leak:libpangoft2-1.0.so\n";
}
#else
/* ISO C wants at least one declaration in a translation unit. */
typedef int sr_sanitizer_unused;
#endif
