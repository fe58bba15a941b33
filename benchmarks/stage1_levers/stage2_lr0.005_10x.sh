#!/bin/bash
# Lever: the recipe's stage 2 at a tenth of the learning rate (configs/finetune_lr0.005.py), from
# the 10x sweep's stage-1 checkpoints: the control that tells the cosine-prototype head's effect
# (cosine_prototypes_lr0.005_10x.sh) from the lower rate's.
# Usage: bash benchmarks/stage1_levers/stage2_lr0.005_10x.sh SEED [SEED ...]
# Appends to stage2_lr0.005_10x.jsonl.
cd "$(dirname "$0")/../.."
source benchmarks/stage1_levers/lever_runs.sh
stage2_from_10x stage2_lr0.005_10x benchmarks/stage1_levers/configs/finetune_lr0.005.py \
  '"lr": 0.005, ' "$@"
