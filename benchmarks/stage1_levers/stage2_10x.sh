#!/bin/bash
# The 10x sweep's own stage 2 (the synthetic finetune config: fresh softmax classifier, lr 0.05,
# 1,500 iterations) from a stage-1 checkpoint made by stage1_10x.sh: the paper's-stage-2 control on
# the same machine and checkpoint as the cosine_prototypes_*_10x.sh levers.
# Usage: bash benchmarks/stage1_levers/stage2_10x.sh SEED [SEED ...]
# Appends to stage2_10x.jsonl.
cd "$(dirname "$0")/../.."
source benchmarks/stage1_levers/lever_runs.sh
stage2_from_10x stage2_10x configs/pixcon/synthetic/deeplabv3plus_r18_syncity_finetune.py \
  '"lr": 0.05, ' "$@"
