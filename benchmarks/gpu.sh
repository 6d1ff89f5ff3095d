#!/usr/bin/env bash
# Speed on one GPU, in under 5 minutes: run it whenever a CUDA GPU is at hand and copy its
# figures into benchmarks/README.md ("On a GPU"), naming the GPU it prints.
#
#   bash benchmarks/gpu.sh [OUT]        # OUT: a scratch folder (default gpu-bench/)
#
# 1. training throughput (epochs/s) of the paper's network (peephole cell) and of fast's
#    (fused LSTM), float32 and bfloat16 autocast, and staging a 1000-epoch night:
#    benchmarks/run.py --device cuda;
# 2. folds per GPU: one pass of 4 subject-wise folds of a small simulated cohort with
#    cv --parallel 1, 2 and 4 on the one GPU, wall seconds each.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-gpu-bench}
mkdir -p "$out"
python=${PYTHON:-python}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
"$python" -c "import torch; print('torch', torch.__version__, 'CUDA', torch.version.cuda, torch.cuda.get_device_name(0))"

"$python" benchmarks/run.py --device cuda --threads 1 --only train,night \
    --impls plain,fast,fast-bf16,fast-peephole,fast-peephole-bf16 --json "$out/speed.json"

"$python" -m tinysleepnet -q simulate "$out/sim" --subjects 0-7 --n-epochs 600
"$python" -m tinysleepnet -q prepare "$out/sim" "$out/prepared" --jobs 4
for parallel in 1 2 4; do
    rm -rf "$out/cv-$parallel"
    start=$(date +%s.%N)
    "$python" -m tinysleepnet -q cv "$out/prepared" --folds 4 --out "$out/cv-$parallel" \
        --epochs 1 --device cuda --parallel "$parallel" --on-stall warn
    end=$(date +%s.%N)
    echo "cv --parallel $parallel: 4 folds x 1 pass in $(echo "$end - $start" | bc) s wall"
done
