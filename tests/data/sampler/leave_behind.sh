#!/bin/sh
# leave_behind.sh OUTDIR - exits at once with status 0 but leaves a
# background child running; its pid goes to OUTDIR/leftover.pid.
sleep 100 &
echo "$!" >"$1/leftover.pid"
echo "done"
