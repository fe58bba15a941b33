#!/bin/bash
# Diagnostic: how much of the stage-1 prototype readout survives when only the BatchNorm running
# statistics move. Stage 2 of finetune_cosine_prototypes.py (class vectors = the stage-1
# prototypes) at learning rate 0 for ITERS iterations (default 50; 20 momentum-0.1 updates
# already replace ~90 % of a running statistic): train-mode forwards on clean crops re-estimate
# the statistics that stage 1 accumulated on [I; Î], no weight changes; then val mIoU. From the
# 10x sweep's stage-1 checkpoint of each seed.
# Usage: bash benchmarks/stage1_levers/bn_stats_10x.sh SEED [SEED ...]; appends to bn_stats_10x.jsonl.
cd "$(dirname "$0")/../.."
source benchmarks/stage1_levers/lever_runs.sh
C=benchmarks/stage1_levers/configs/finetune_cosine_prototypes.py
OUT=benchmarks/stage1_levers/bn_stats_10x.jsonl
ITERS=${ITERS:-50}
for s in "$@"; do
  recorded $OUT $s && continue
  W=work_dirs/levers/bn_stats_10x/8_seed$s
  mkdir -p $W
  $PY tools/train.py $C --work-dir $W --cfg-options $(data_options $s) optim_wrapper.optimizer.lr=0 \
    param_scheduler.0.eta_min=0 train_cfg.max_iters=$ITERS train_cfg.val_interval=$ITERS \
    default_hooks.checkpoint.interval=$ITERS \
    custom_hooks.0.checkpoint=work_dirs/levers/stage1_10x_k8/8_seed$s/stage1 > $W/train.log 2>&1 || exit 1
  echo "{\"labeled\": 8, \"seed\": $s, \"stage1_iters\": 7500, \"lr\": 0, \"iters\": $ITERS, \"miou\": $(last_miou $W/train.log), \"machine\": \"$(machine)\"}" >> $OUT
done
