# SR_CHECK_CUDA
# -------------
# Optional CUDA support for the kernels in kernels/*.cu.
#
#   --with-cuda=auto   (default) build the kernels when nvcc is found
#   --with-cuda=yes    require nvcc; fail otherwise
#   --with-cuda=no     CPU-only build
#   --with-cuda=PATH   use the toolkit installed under PATH
#
# The CUDA runtime is linked statically (cudart_static), so the binary
# starts on machines without CUDA and only uses a GPU when a driver and a
# device are present at run time.
#
# Sets and substitutes NVCC, NVCCFLAGS, CUDA_CPPFLAGS, CUDA_LIBS, CUDA_ARCHS,
# defines HAVE_CUDA, and the automake conditional HAVE_CUDA.
AC_DEFUN([SR_CHECK_CUDA], [
  AC_ARG_WITH([cuda],
    [AS_HELP_STRING([--with-cuda=auto|yes|no|PATH],
      [build the CUDA kernels (default: auto, when nvcc is found)])],
    [], [with_cuda=auto])
  AC_ARG_VAR([NVCC], [CUDA compiler])
  AC_ARG_VAR([CUDA_ARCHS], [GPU architectures to build (default: 75 80 86 89 90)])

  sr_have_cuda=no
  sr_cuda_home=""
  AS_CASE([$with_cuda],
    [no], [],
    [yes|auto], [
      AS_IF([test -z "$NVCC"],
        [AC_PATH_PROG([NVCC], [nvcc], [], [$PATH:/usr/local/cuda/bin])])],
    [
      AS_IF([test -x "$with_cuda/bin/nvcc"], [NVCC="$with_cuda/bin/nvcc"],
        [AC_MSG_ERROR([--with-cuda=$with_cuda: no $with_cuda/bin/nvcc])])
      sr_cuda_home="$with_cuda"])

  AS_IF([test "x$with_cuda" != "xno" && test -n "$NVCC"], [
    AS_IF([test -z "$sr_cuda_home"],
      [sr_cuda_home=`AS_DIRNAME(["$NVCC"])`; sr_cuda_home=`AS_DIRNAME(["$sr_cuda_home"])`])
    sr_cuda_libdir=""
    for d in "$sr_cuda_home/lib64" "$sr_cuda_home/lib" "$sr_cuda_home/targets/x86_64-linux/lib"; do
      AS_IF([test -f "$d/libcudart_static.a"], [sr_cuda_libdir="$d"; break])
    done
    AC_MSG_CHECKING([for libcudart_static.a])
    AS_IF([test -n "$sr_cuda_libdir"], [AC_MSG_RESULT([$sr_cuda_libdir])], [AC_MSG_RESULT([no])])

    AS_IF([test -z "$CUDA_ARCHS"], [CUDA_ARCHS="75 80 86 89 90"])
    sr_gencode=""
    sr_last=""
    for a in $CUDA_ARCHS; do
      sr_gencode="$sr_gencode -gencode arch=compute_$a,code=sm_$a"
      sr_last="$a"
    done
    dnl PTX of the newest architecture, so newer GPUs can JIT-compile it.
    sr_gencode="$sr_gencode -gencode arch=compute_$sr_last,code=compute_$sr_last"

    AC_MSG_CHECKING([whether $NVCC compiles for $CUDA_ARCHS])
    cat > conftest.cu <<_SR_EOF
__global__ void k(float *x) { x[[threadIdx.x]] *= 2.0f; }
int main(void) { k<<<1, 1>>>(0); return 0; }
_SR_EOF
    AS_IF([$NVCC $sr_gencode -c conftest.cu -o conftest.$OBJEXT >&AS_MESSAGE_LOG_FD 2>&1 &&
           test -n "$sr_cuda_libdir"],
      [AC_MSG_RESULT([yes]); sr_have_cuda=yes], [AC_MSG_RESULT([no])])
    rm -f conftest.cu conftest.$OBJEXT
  ])

  AS_IF([test "x$sr_have_cuda" = "xno"], [
    AS_CASE([$with_cuda],
      [no|auto], [],
      [AC_MSG_ERROR([CUDA was requested (--with-cuda=$with_cuda) but nvcc or libcudart_static.a is not usable; see config.log])])])

  NVCCFLAGS="$sr_gencode -O3 -std=c++17 --default-stream per-thread -Xcompiler -fPIC"
  CUDA_CPPFLAGS=""
  CUDA_LIBS=""
  AS_IF([test "x$sr_have_cuda" = "xyes"], [
    CUDA_CPPFLAGS="-I$sr_cuda_home/include"
    CUDA_LIBS="-L$sr_cuda_libdir -lcudart_static -lstdc++ -ldl -lrt -lpthread"
    AC_DEFINE([HAVE_CUDA], [1], [Define to 1 when the CUDA kernels are built])])
  AC_SUBST([NVCCFLAGS])
  AC_SUBST([CUDA_CPPFLAGS])
  AC_SUBST([CUDA_LIBS])
  AM_CONDITIONAL([HAVE_CUDA], [test "x$sr_have_cuda" = "xyes"])
])
