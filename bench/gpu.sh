#!/usr/bin/env bash
# The GPU benchmark in one run, for a machine with a real GPU (an NVIDIA H200 when one is lent):
# the WGSL kernels at n=100, d ∈ {1e6, 1e7} and n=1000, d=1e6 with the updates resident on the
# GPU, upload timed apart, JSON written to $OUT (or bench/results/). It tries Node + Dawn (the
# `webgpu` package) first and headless Chromium with Vulkan second (bench/lib/webgpu.mjs); each
# attempt says why it was skipped. It installs nothing from the network (GPU machines may have
# none): it needs a built dist/ and, in node_modules/, the `webgpu` package (its linux-x64 Dawn
# build is 21 MB) or playwright-core plus a Chromium. Usage:
#
#   bash bench/gpu.sh            # writes $OUT/webgpu-gpu.json (OUT defaults to bench/results)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-bench/results}"
mkdir -p "$out"

{ command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv; } \
  > "$out/gpu-device.txt" 2>&1 || echo "nvidia-smi: not available" > "$out/gpu-device.txt"
cat "$out/gpu-device.txt"
node --version

if [ ! -f dist/index.js ]; then
  echo "gpu.sh: dist/ is missing: run npm run build first (or carry dist/)" >&2
  exit 2
fi
if [ ! -d node_modules/webgpu ] && [ ! -d node_modules/playwright-core ]; then
  echo "gpu.sh: neither node_modules/webgpu nor node_modules/playwright-core is here: nothing can reach a GPU" >&2
  exit 2
fi

# Vulkan's loader must find the NVIDIA ICD for Dawn and Chromium alike.
export VK_ICD_FILENAMES="${VK_ICD_FILENAMES:-$(ls /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json 2>/dev/null | head -1)}"
node bench/run.mjs --backend webgpu --samples 5 --out "$out/webgpu-gpu.json"
echo "gpu.sh: wrote $out/webgpu-gpu.json"
