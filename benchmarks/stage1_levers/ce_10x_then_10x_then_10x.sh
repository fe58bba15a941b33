#!/bin/bash
# CE alone given 24,000 iterations, the control of the 15,000 + 9,000 recipe (stage1_20x, then
# STAGE1_ITERS=15000 STAGE2_ITERS=9000 stage2_10x.sh): the 16,500 iterations of
# ce_10x_then_10x.sh (9,000, then 7,500 restarted), continued from that run's last checkpoint for
# 7,500 more with the schedule restarted again (ce_10x_then_10x_then_10x.jsonl). Runs
# ce_10x_then_10x.sh first (stock head: CE_HEAD is unset), which skips the seeds it has records
# of: their work dirs must be on this machine (or their records moved aside, so that it makes
# them).
# Usage: LABELED=32 bash benchmarks/stage1_levers/ce_10x_then_10x_then_10x.sh SEED [SEED ...]
cd "$(dirname "$0")/../.."
unset CE_HEAD
bash benchmarks/stage1_levers/ce_10x_then_10x.sh "$@" || exit 1
source benchmarks/stage1_levers/lever_runs.sh
CE_INIT=ce_10x_then_10x CE_ITERS=7500 ce_10x ce_10x_then_10x_then_10x \
  configs/pixcon/synthetic/deeplabv3plus_r18_syncity_ce.py '' "$@"
