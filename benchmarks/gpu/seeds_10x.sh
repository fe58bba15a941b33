#!/bin/bash
# The 10x experiment of benchmarks/stage1_levers (8 labelled images: CE alone for 9,000 iterations
# against stage 1 for 7,500 then the paper's stage 2 and the cosine stage 2 for 1,500 each) for new
# seeds, all at once on the lent GPU: per seed one CE run and one stage-1 run side by side, then the
# two stage 2s side by side; the same scripts, configs, options and tests as the CPU runs
# (ce_10x.sh, stage1_10x.sh, stage2_10x.sh, cosine_prototypes_lr0.005_10x.sh). The device copy's
# JSON-lines files of those scripts are emptied first, so the records that come back are this
# machine's alone; they are copied to $OUT every 20 s, so a run cut short by the call's limit still
# returns what finished. Everything stops after $BUDGET seconds (default 540).
# Usage (device tool, carry [".gpu"]): SEEDS="8 9 10 11" BUDGET=480 bash benchmarks/gpu/seeds_10x.sh
cd "$(dirname "$0")/../.."
SEEDS=${SEEDS:-8 9 10 11}
SPLIT_SEEDS="$SEEDS" source benchmarks/gpu/device_env.sh
L=benchmarks/stage1_levers
RECORDS="$L/ce_10x.jsonl $L/stage1_10x.jsonl $L/stage2_10x.jsonl $L/cosine_prototypes_lr0.005_10x.jsonl"
for f in $RECORDS; do : > $f; done
( while sleep 20; do cp $RECORDS $OUT/; done ) &
copier=$!
export OMP_NUM_THREADS=1
timeout ${BUDGET:-540} bash -c '
  for s in '"$SEEDS"'; do
    bash '$L'/ce_10x.sh $s &
    ( bash '$L'/stage1_10x.sh $s &&
      { bash '$L'/stage2_10x.sh $s & bash '$L'/cosine_prototypes_lr0.005_10x.sh $s & wait; } ) &
  done
  wait'
echo "sweep rc $? after $SECONDS s"
kill $copier
cp $RECORDS $OUT/
tar czf $OUT/logs.tgz work_dirs/levers/*/8_seed*/*.log work_dirs/levers/*/8_seed*/*/*.log 2>/dev/null
wc -l $RECORDS
