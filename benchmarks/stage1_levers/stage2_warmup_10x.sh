#!/bin/bash
# Lever: stage 2 with a 150-iteration linear warm-up (configs/finetune_warmup.py), from the 10x
# sweep's own stage-1 checkpoints (stage1_10x_k8: 7,500 iterations, 8 labelled images), on the
# same split and seed as the sweep's stage 2; val mIoU of the final checkpoint (tools/test.py).
# Each stage-2 run of the sweep is this run's control: same machine, same stage-1 start.
# Usage: bash benchmarks/stage1_levers/stage2_warmup_10x.sh SEED [SEED ...]
# (run the 10x sweep first: its command is in stage1_10x_k8.md). Appends to stage2_warmup_10x.jsonl.
cd "$(dirname "$0")/../.."
source benchmarks/stage1_levers/lever_runs.sh
C=benchmarks/stage1_levers/configs/finetune_warmup.py
OUT=benchmarks/stage1_levers/stage2_warmup_10x.jsonl
for s in "$@"; do
  grep -q "\"seed\": $s," $OUT 2>/dev/null && continue
  S1=work_dirs/levers/stage1_10x_k8/8_seed$s/stage1
  W=work_dirs/levers/stage2_warmup_10x/8_seed$s
  mkdir -p $W
  OPTS="$(data_options $s) train_cfg.max_iters=1500 train_cfg.val_interval=375 default_hooks.checkpoint.interval=1500 custom_hooks.0.checkpoint=$S1"
  start=$(date +%s)
  $PY tools/train.py $C --work-dir $W --cfg-options $OPTS > $W/train.log 2>&1 || exit 1
  $PY tools/test.py $C $W/iter_1500.pth --work-dir $W/test --cfg-options $OPTS > $W/test.log 2>&1 || exit 1
  miou=$(last_miou $W/test.log)
  curve=$(val_curve $W/train.log)
  echo "{\"labeled\": 8, \"seed\": $s, \"stage1_iters\": 7500, \"stage2_iters\": 1500, \"warmup_iters\": 150, \"pixcon_miou\": $miou, \"val_375_750_1125_1500\": \"$curve\", \"minutes\": $(( ($(date +%s) - start) / 60 )), \"machine\": \"$(machine)\"}" >> $OUT
done
