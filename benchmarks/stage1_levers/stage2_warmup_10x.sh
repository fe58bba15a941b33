#!/bin/bash
# Lever: stage 2 with a 150-iteration linear warm-up (configs/finetune_warmup.py), from the 10x
# sweep's own stage-1 checkpoints (stage1_10x_k8: 7,500 iterations, 8 labelled images), on the
# same split and seed as the sweep's stage 2; val mIoU of the final checkpoint (tools/test.py).
# Each stage-2 run of the sweep is this run's control: same machine, same stage-1 start.
# Usage: bash benchmarks/stage1_levers/stage2_warmup_10x.sh SEED [SEED ...]
# (run the 10x sweep first: its command is in stage1_10x_k8.md). Appends to stage2_warmup_10x.jsonl.
cd "$(dirname "$0")/../.."
source benchmarks/stage1_levers/lever_runs.sh
stage2_from_10x stage2_warmup_10x benchmarks/stage1_levers/configs/finetune_warmup.py \
  '"warmup_iters": 150, ' "$@"
