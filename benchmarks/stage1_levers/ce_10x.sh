#!/bin/bash
# The 10x sweep's CE-alone arm (the synthetic CE config, stock head, 9,000 iterations) for one
# seed, on this machine: the same-machine baseline for seeds whose sweep CE ran elsewhere.
# Usage: bash benchmarks/stage1_levers/ce_10x.sh SEED [SEED ...]
# Appends to ce_10x.jsonl.
cd "$(dirname "$0")/../.."
source benchmarks/stage1_levers/lever_runs.sh
ce_10x ce_10x configs/pixcon/synthetic/deeplabv3plus_r18_syncity_ce.py '' "$@"
