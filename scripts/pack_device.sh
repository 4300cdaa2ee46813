#!/usr/bin/env bash
# Packs this machine's node binary for scripts/device_scaling.sh: `xz -c $(which node)` into the
# git-ignored folder .device/, and nothing else (the device run carries .device, dist, build and
# node_modules/piscina; see bench/README.md, "Scaling on a lent many-core machine").
set -euo pipefail
cd "$(dirname "$0")/.."
node_bin=$(which node)
mkdir -p .device
xz -T1 -6 -c "$node_bin" > .device/node.xz.tmp
mv .device/node.xz.tmp .device/node.xz
echo "packed $node_bin ($("$node_bin" --version)) into .device/node.xz ($(du -h .device/node.xz | cut -f1))"
