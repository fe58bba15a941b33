#!/bin/bash
# The CE-alone control of stage1_10x_then_10x.md, given the recipe's iterations there: CE alone for
# the 10x sweep's 9,000 iterations on this machine (ce_10x_rerun.jsonl; beside ce_10x.jsonl it
# shows whether this machine reproduces the seed's CE run), then 7,500 more from its final
# checkpoint with the schedule restarted, as the continued stage 1 was (ce_10x_then_10x.jsonl):
# 16,500 CE iterations, the recipe's 7,500 + 7,500 + 1,500.
# Usage: bash benchmarks/stage1_levers/ce_10x_then_10x.sh SEED [SEED ...]
cd "$(dirname "$0")/../.."
source benchmarks/stage1_levers/lever_runs.sh
C=configs/pixcon/synthetic/deeplabv3plus_r18_syncity_ce.py
ce_10x ce_10x_rerun $C '' "$@" || exit 1
CE_INIT=ce_10x_rerun CE_ITERS=7500 ce_10x ce_10x_then_10x $C '' "$@"
