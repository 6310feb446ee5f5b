#!/bin/sh
# stubborn.sh OUTDIR - ignores SIGTERM, so only SIGKILL ends it.
trap '' TERM
echo "$$" >"$1/stubborn.pid"
echo "ignoring SIGTERM"
while :; do sleep 1; done
