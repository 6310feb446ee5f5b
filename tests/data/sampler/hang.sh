#!/bin/sh
# hang.sh OUTDIR - never finishes: a background child and a foreground
# sleep; the background child's pid goes to OUTDIR/grandchild.pid.
sleep 100 &
echo "$!" >"$1/grandchild.pid"
echo "hanging"
sleep 100
