#!/usr/bin/env bash
# Measures training scaling for 1..16 workers on a lent many-core machine that has no Node, in
# under 5 minutes, writing JSON under $OUT. It needs, next to the tracked files, what this
# machine built and packed (git-ignored, so the device call must carry them):
#   .device/node.xz        scripts/pack_device.sh: this machine's node binary, xz-compressed
#   dist/ build/           npm run build: the compiled benches and the WASM kernels
#   node_modules/piscina   the worker pool, the one runtime dependency
# Data is synthetic (bench:train --synthetic): the kernels' speed does not depend on the values.
# Runs, each under its own time limit so that a slow step cannot take the others' results with it:
#   1. bench:scaling: the parts and the projection on this machine (plus its 1- and 2-worker check)
#   2. bench:train, default chunk (max(8, ceil(batch/16))), batch 64 and 256, 1..16 workers
#   3. bench:train with the previous rule's chunks (32 at batch 64, 64 at batch 256), 1..16 workers
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/device-out}
MAX_WORKERS=${MAX_WORKERS:-16}
SECONDS_PER_CONFIG=${SECONDS_PER_CONFIG:-1}
mkdir -p "$OUT"
log="$OUT/device_scaling.log"
exec > >(tee -a "$log") 2>&1

for need in .device/node.xz dist/bench/train.js dist/bench/scaling.js build/iruka.wasm node_modules/piscina/package.json; do
  [ -e "$need" ] || { echo "device_scaling: $need is missing (run npm run build and scripts/pack_device.sh here, and carry .device, dist, build, node_modules/piscina)"; exit 2; }
done
bin_dir=$(mktemp -d)
xz -dc .device/node.xz > "$bin_dir/node"
chmod +x "$bin_dir/node"
NODE="$bin_dir/node"
cores=$(nproc)
workers=$(( cores < MAX_WORKERS ? cores : MAX_WORKERS ))
echo "device_scaling: node $("$NODE" --version), $cores cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), measuring 1..$workers workers"
status=0
run() { # run LIMIT_S NAME ARGS...: one bench under a time limit; a failure is logged, the others still run
  local limit=$1 name=$2
  shift 2
  local t0=$SECONDS
  timeout "$limit" "$NODE" "$@" || { echo "device_scaling: $name exited $? (limit ${limit}s)"; status=1; }
  echo "device_scaling: $name took $(( SECONDS - t0 ))s"
}
run 60 scaling dist/bench/scaling.js --seconds 0.15 --check-seconds 1 --json "$OUT/scaling.json"
run 120 train_default dist/bench/train.js --synthetic --flavors simd --batches 64,256 --max-workers "$workers" --seconds "$SECONDS_PER_CONFIG" --rounds 4 --json "$OUT/train_default_chunk.json"
run 60 train_previous_b64 dist/bench/train.js --synthetic --flavors simd --batches 64 --max-workers "$workers" --chunk-size 32 --seconds "$SECONDS_PER_CONFIG" --rounds 4 --json "$OUT/train_chunk32_b64.json"
run 60 train_previous_b256 dist/bench/train.js --synthetic --flavors simd --batches 256 --max-workers "$workers" --chunk-size 64 --seconds "$SECONDS_PER_CONFIG" --rounds 4 --json "$OUT/train_chunk64_b256.json"
rm -rf "$bin_dir"
echo "device_scaling: done in ${SECONDS}s; results in $OUT"
exit $status
