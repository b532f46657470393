#!/usr/bin/env bash
# The GPU accuracy runs behind the README's table (one prepared script for a lent GPU machine).
# Usage: OUT=results-folder bash bench/gpu_accuracy.sh
set -u
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1 PYTHONPATH=.
out=${OUT:-bench/results}
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
b="python3 bench/bench_accuracy.py --device cuda --epochs 100"
$b --models hybridsn --seeds 0 1 2 --splits random --lr-schedule cosine --json "$out/acc_hybridsn_cosine.json" 2>&1 | tee "$out/acc_hybridsn_cosine.log"
$b --models hybridsn --seeds 0 1 2 --splits random disjoint --json "$out/acc_hybridsn_constant.json" 2>&1 | tee "$out/acc_hybridsn_constant.log"
python3 bench/bench_predict.py --device cuda --json "$out/predict_cuda.json" 2>&1 | tee "$out/predict_cuda.log"
$b --models svm_rbf mobilenet_v1 mobilenet_v2 mobilenet_v3 se_resnet spectral_cnn --seeds 0 --splits disjoint --json "$out/acc_others_disjoint.json" 2>&1 | tee "$out/acc_others_disjoint.log"
