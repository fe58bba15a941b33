#!/bin/bash
# Control for cosine_prototypes_*_10x.sh: CE alone with the same cosine-classifier head
# (configs/ce_cosine_head.py: projection + cosine / tau 0.07, class vectors random, no stage 1)
# for the 10x sweep's CE schedule (9,000 iterations, val every 2,250, so the 75 % value is the
# third), on the sweep's split and seed; val mIoU of the final checkpoint (tools/test.py).
# Usage: bash benchmarks/stage1_levers/ce_cosine_head_10x.sh SEED [SEED ...]
# Appends to ce_cosine_head_10x.jsonl.
cd "$(dirname "$0")/../.."
source benchmarks/stage1_levers/lever_runs.sh
C=benchmarks/stage1_levers/configs/ce_cosine_head.py
OUT=benchmarks/stage1_levers/ce_cosine_head_10x.jsonl
for s in "$@"; do
  grep -q "\"seed\": $s," $OUT 2>/dev/null && continue
  W=work_dirs/levers/ce_cosine_head_10x/8_seed$s
  mkdir -p $W
  OPTS="$(data_options $s) train_cfg.max_iters=9000 train_cfg.val_interval=2250 default_hooks.checkpoint.interval=9000 param_scheduler.0.end=9000"
  start=$(date +%s)
  $PY tools/train.py $C --work-dir $W --cfg-options $OPTS > $W/train.log 2>&1 || exit 1
  $PY tools/test.py $C $W/iter_9000.pth --work-dir $W/test --cfg-options $OPTS > $W/test.log 2>&1 || exit 1
  echo "{\"labeled\": 8, \"seed\": $s, \"ce_iters\": 9000, \"temperature\": 0.07, \"ce_miou\": $(last_miou $W/test.log), \"val_2250_4500_6750_9000\": \"$(val_curve $W/train.log)\", \"minutes\": $(( ($(date +%s) - start) / 60 )), \"machine\": \"$(machine)\"}" >> $OUT
done
