#!/bin/sh
# fake_sampler.sh CHECKPOINT OUTDIR N - stands in for an image sampler.
# Writes N copies of a fixed 2x2 RGB PNG as OUTDIR/sample_00.png, sample_01.png, ...
# and records what it was given: the argument count in OUTDIR/argc.txt and
# CHECKPOINT, byte for byte, in OUTDIR/checkpoint.txt.
set -eu
if [ "$#" -ne 3 ]; then
    echo "fake_sampler: expected 3 arguments, got $#" >&2
    exit 2
fi
ckpt=$1
out=$2
n=$3
printf '%s' "$#" >"$out/argc.txt"
printf '%s' "$ckpt" >"$out/checkpoint.txt"
i=0
while [ "$i" -lt "$n" ]; do
    # pixels (200,120,40) (10,90,250) / (255,255,255) (0,0,0)
    printf '\211\120\116\107\015\012\032\012\000\000\000\015\111\110\104\122\000\000\000\002\000\000\000\002\010\002\000\000\000\375\324\232\163\000\000\000\026\111\104\101\124\170\332\143\070\121\241\301\025\365\213\341\377\377\377\014\014\014\000\053\335\005\304\144\225\267\226\000\000\000\000\111\105\116\104\256\102\140\202' \
        >"$out/sample_$(printf '%02d' "$i").png"
    i=$((i + 1))
done
echo "fake_sampler: wrote $n samples"
