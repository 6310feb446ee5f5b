#!/bin/sh
# Generates ./configure from configure.ac (needs autoconf, automake, pkg-config).
set -e
cd "$(dirname "$0")"
mkdir -p build-aux
autoreconf --install --force
# The TAP test driver named in Makefile.am is shipped by automake but not
# installed by autoreconf.
cp -f "$(automake --print-libdir)/tap-driver.sh" build-aux/
