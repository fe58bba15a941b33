#!/bin/bash
# Lever: stage 2 as long as CE alone (1,500 iterations) from the sweep's own stage-1 checkpoints
# (8 labelled images, seeds 0-2; run the label-efficiency benchmark first): does the stage-1 start help CE at equal CE iterations?
cd "$(dirname "$0")/../.."
source benchmarks/stage1_levers/lever_runs.sh
C=configs/pixcon/synthetic/deeplabv3plus_r18_syncity_finetune.py
OUT=benchmarks/stage1_levers/stage2_1500.jsonl
for s in 0 1 2; do
  recorded $OUT $s && continue
  W=work_dirs/levers/stage2_1500/8_seed$s
  OPTS="$(data_options $s) train_cfg.max_iters=1500 train_cfg.val_interval=375 param_scheduler.0.end=1500 default_hooks.checkpoint.interval=1500 custom_hooks.0.checkpoint=work_dirs/label_efficiency/8_seed$s/stage1"
  start=$(date +%s)
  $PY tools/train.py $C --work-dir $W --cfg-options $OPTS > $W.train.log 2>&1 || exit 1
  $PY tools/test.py $C $W/iter_1500.pth --work-dir $W/test --cfg-options $OPTS > $W.test.log 2>&1 || exit 1
  miou=$(last_miou $W.test.log)
  curve=$(val_curve $W.train.log)
  echo "{\"labeled\": 8, \"seed\": $s, \"stage2_iters\": 1500, \"pixcon_miou\": $miou, \"val_375_750_1125_1500\": \"$curve\", \"minutes\": $(( ($(date +%s) - start) / 60 ))}" >> $OUT
done
