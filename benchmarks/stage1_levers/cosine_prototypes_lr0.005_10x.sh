#!/bin/bash
# Lever: cosine_prototypes_10x.sh at a tenth of the stage-2 learning rate
# (configs/finetune_cosine_prototypes_lr0.005.py). Same starts, splits, seeds and control.
# Usage: bash benchmarks/stage1_levers/cosine_prototypes_lr0.005_10x.sh SEED [SEED ...]
# Appends to cosine_prototypes_lr0.005_10x.jsonl.
cd "$(dirname "$0")/../.."
source benchmarks/stage1_levers/lever_runs.sh
stage2_from_10x cosine_prototypes_lr0.005_10x \
  benchmarks/stage1_levers/configs/finetune_cosine_prototypes_lr0.005.py \
  '"temperature": 0.07, "lr": 0.005, ' "$@"
