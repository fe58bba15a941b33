#!/bin/bash
# Lever: stage 2 as linear probe, then fine-tune, from the 10x sweep's own stage-1 checkpoints
# (stage1_10x_k8: 7,500 iterations, 8 labelled images). Phase 1: 375 iterations with backbone and
# decoder frozen (configs/finetune_linear_probe.py); phase 2: the CE config, every layer at CE's
# learning rate, 1,125 iterations from phase 1's checkpoint: 1,500 stage-2 iterations in all,
# as the sweep's stage 2, which is this run's control (same checkpoint, same machine).
# Usage: bash benchmarks/stage1_levers/lpft_10x.sh SEED [SEED ...] (after the 10x sweep, in the
# same checkout). Appends to lpft_10x.jsonl.
cd "$(dirname "$0")/../.."
source benchmarks/stage1_levers/lever_runs.sh
LP=benchmarks/stage1_levers/configs/finetune_linear_probe.py
FT=configs/pixcon/synthetic/deeplabv3plus_r18_syncity_ce.py
OUT=benchmarks/stage1_levers/lpft_10x.jsonl
for s in "$@"; do
  recorded $OUT $s && continue
  S1=work_dirs/levers/stage1_10x_k8/8_seed$s/stage1
  W=work_dirs/levers/lpft_10x/8_seed$s
  mkdir -p $W
  DATA=$(data_options $s)
  start=$(date +%s)
  $PY tools/train.py $LP --work-dir $W/lp --cfg-options $DATA train_cfg.max_iters=375 train_cfg.val_interval=375 default_hooks.checkpoint.interval=375 param_scheduler.0.end=375 custom_hooks.0.checkpoint=$S1 > $W/lp.log 2>&1 || exit 1
  $PY tools/train.py $FT --work-dir $W/ft --cfg-options $DATA load_from=$W/lp/iter_375.pth train_cfg.max_iters=1125 train_cfg.val_interval=375 default_hooks.checkpoint.interval=1125 param_scheduler.0.end=1125 > $W/ft.log 2>&1 || exit 1
  $PY tools/test.py $FT $W/ft/iter_1125.pth --work-dir $W/test --cfg-options $DATA > $W/test.log 2>&1 || exit 1
  miou=$(last_miou $W/test.log)
  lp=$(last_miou $W/lp.log)
  curve=$(val_curve $W/ft.log)
  echo "{\"labeled\": 8, \"seed\": $s, \"stage1_iters\": 7500, \"probe_iters\": 375, \"finetune_iters\": 1125, \"probe_miou\": $lp, \"pixcon_miou\": $miou, \"val_finetune_375_750_1125\": \"$curve\", \"minutes\": $(( ($(date +%s) - start) / 60 )), \"machine\": \"$(machine)\"}" >> $OUT
done
