#!/bin/sh
# setup.sh - set up a Debian 12 machine, build sweepreport, and run it.
#
#   ./setup.sh demo    install what is needed, build, run the demo report
#   ./setup.sh check   install what is needed, build, run the whole test suite
#   ./setup.sh build   install what is needed and build
#
# Run as root (it installs Debian packages).  The build goes to _build/.
set -eu
cd "$(dirname "$0")"
TOP=$(pwd)
BUILD="$TOP/_build"
JOBS=$(nproc 2>/dev/null || echo 2)

# Everything the build, the program and the test suite need (clang: make fuzz).
PACKAGES="build-essential autoconf automake libtool autoconf-archive pkg-config
  libcairo2-dev libpango1.0-dev libhpdf-dev libcjson-dev libpng-dev libturbojpeg0-dev libsqlite3-dev
  check python3 fonts-dejavu-core fonts-noto-cjk fonts-droid-fallback icc-profiles-free
  python3-numpy python3-pil python3-optuna
  chromium poppler-utils qpdf
  clang libclang-rt-14-dev"

say() { printf '== %s\n' "$*"; }

install_packages() {
    missing=""
    for p in $PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
    done
    if [ -z "$missing" ]; then
        say "Debian packages: all installed"
        return
    fi
    if [ "$(id -u)" -ne 0 ]; then
        echo "setup.sh: these packages are missing and installing them needs root:$missing" >&2
        exit 1
    fi
    say "installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    # shellcheck disable=SC2086
    apt-get install -y -q --no-install-recommends $missing
}

build() {
    say "building in $BUILD"
    [ -x "$TOP/configure" ] || "$TOP/autogen.sh"
    mkdir -p "$BUILD"
    cd "$BUILD"
    [ -f Makefile ] || "$TOP/configure" --enable-werror ${CONFIGURE_FLAGS:-}
    make -j"$JOBS"
}

case "${1:-}" in
demo)
    install_packages
    build
    say "running the demo"
    "$BUILD/sweepreport" demo "$TOP/sweepreport-demo"
    ;;
check)
    install_packages
    build
    say "running the test suite"
    make -j"$JOBS" check
    ;;
build)
    install_packages
    build
    ;;
*)
    echo "usage: $0 demo|check|build" >&2
    exit 2
    ;;
esac
