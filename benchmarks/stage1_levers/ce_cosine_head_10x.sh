#!/bin/bash
# Control for cosine_prototypes_*_10x.sh: CE alone with the same cosine-classifier head
# (configs/ce_cosine_head.py: projection + cosine / tau 0.07, class vectors random, no stage 1)
# for the 10x sweep's CE schedule, on the sweep's split and seed; val mIoU of the final
# checkpoint (tools/test.py).
# Usage: bash benchmarks/stage1_levers/ce_cosine_head_10x.sh SEED [SEED ...]
# Appends to ce_cosine_head_10x.jsonl.
cd "$(dirname "$0")/../.."
source benchmarks/stage1_levers/lever_runs.sh
ce_10x ce_cosine_head_10x benchmarks/stage1_levers/configs/ce_cosine_head.py \
  '"temperature": 0.07, ' "$@"
