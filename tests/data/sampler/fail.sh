#!/bin/sh
# fail.sh - prints a few lines on both streams and exits with status 3.
echo "loading model"
echo "rendering 8 samples" >&2
printf 'step 1/8\rstep 2/8\r'
echo ""
echo "RuntimeError: CUDA out of memory" >&2
echo "" >&2
exit 3
