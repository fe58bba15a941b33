#!/bin/bash
# The 10x recipe and CE alone at twice the synthetic model's widths (a lever on capacity: stem and
# base channels 32, the decoder alike; configs/ce_w32.py): the stage 1 of stage1_10x.sh for 7,500
# iterations under STAGE1_TAG=_w32 (stage1_10x_w32.jsonl), the paper's stage 2 from it
# (configs/finetune_w32.py, lr 0.05: stage2_10x_w32.jsonl) and CE alone for 9,000 iterations
# (configs/ce_w32.py: ce_10x_w32.jsonl), each seed in turn. Against the same seeds' runs at the
# synthetic widths (stage1_10x, stage2_10x, ce_10x_rerun) on the same machine (width_table.py).
# The widths below are ce_w32.py's (a test compares them).
# Usage: bash benchmarks/stage1_levers/width32_10x.sh SEED [SEED ...]
cd "$(dirname "$0")/../.."
export STAGE1_TAG=_w32
# configs/ce_w32.py's backbone and decoder widths (the pretrain config has no auxiliary head)
export STAGE1_OPTIONS="model.backbone.stem_channels=32 model.backbone.base_channels=32 \
model.decode_head.c1_in_channels=32 model.decode_head.c1_channels=24 \
model.decode_head.in_channels=256 model.decode_head.channels=64"
source benchmarks/stage1_levers/lever_runs.sh
L=benchmarks/stage1_levers
for s in "$@"; do
  bash $L/stage1_10x.sh $s || exit 1
  stage2_from_10x stage2_10x $L/configs/finetune_w32.py '"lr": 0.05, "width": 32, ' $s || exit 1
  ce_10x ce_10x_w32 $L/configs/ce_w32.py '"width": 32, ' $s || exit 1
done
