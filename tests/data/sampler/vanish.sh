#!/bin/sh
# vanish.sh CHECKPOINT OUTDIR N PATH... - a sampler that first deletes PATH...
# (as a trainer that keeps only its last checkpoints deletes older ones while
# eval runs), then does what fake_sampler.sh does.
set -eu
here=$(dirname "$0")
ckpt=$1
out=$2
n=$3
shift 3
rm -rf "$@"
exec sh "$here/fake_sampler.sh" "$ckpt" "$out" "$n"
