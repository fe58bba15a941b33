#!/bin/bash
# The CE-alone control of stage1_10x_then_10x.md, given the recipe's iterations there: CE alone for
# the 10x sweep's 9,000 iterations on this machine (ce_10x_rerun.jsonl; beside ce_10x.jsonl it
# shows whether this machine reproduces the seed's CE run), then 7,500 more from its final
# checkpoint with the schedule restarted, as the continued stage 1 was (ce_10x_then_10x.jsonl):
# 16,500 CE iterations, the recipe's 7,500 + 7,500 + 1,500. CE_HEAD=cosine runs the same for CE
# alone with the cosine-classifier head of ce_cosine_head_10x.sh, the control of the cosine stage 2
# (ce_cosine_head_10x_rerun.jsonl, ce_cosine_head_10x_then_10x.jsonl).
# Usage: bash benchmarks/stage1_levers/ce_10x_then_10x.sh SEED [SEED ...]
#        CE_HEAD=cosine bash benchmarks/stage1_levers/ce_10x_then_10x.sh SEED [SEED ...]
cd "$(dirname "$0")/../.."
source benchmarks/stage1_levers/lever_runs.sh
if [ "$CE_HEAD" = cosine ]; then
  NAME=ce_cosine_head_10x C=benchmarks/stage1_levers/configs/ce_cosine_head.py X='"temperature": 0.07, '
else
  NAME=ce_10x C=configs/pixcon/synthetic/deeplabv3plus_r18_syncity_ce.py X=''
fi
ce_10x ${NAME}_rerun $C "$X" "$@" || exit 1
CE_INIT=${NAME}_rerun CE_ITERS=7500 ce_10x ${NAME/_10x/_10x_then_10x} $C "$X" "$@"
