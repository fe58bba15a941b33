#!/bin/bash
# Stage 1 of the 10x sweep (stage1_10x_k8.md) alone, for seeds whose stage-1 checkpoint is not on
# this machine: the synthetic pretrain config for $STAGE1_ITERS iterations (7,500 unless set; see
# lever_runs.sh) on the sweep's split (LABELED images: 8 unless set, or all) and seed, with the
# options tools/benchmark_label_efficiency.py gives it (run_recipe.schedule_options), into
# stage1_dir (work_dirs/levers/${STAGE1}_k<K>/<K>_seed<s>/stage1, K = LABELED), where
# stage2_from_10x looks; the prototype mIoU is read on val at every tenth of the schedule. Appends
# the final stage-1 prototype mIoU, the curve and minutes to $STAGE1$RECORDS.jsonl
# (stage1_10x.jsonl; with LABELED=all stage1_10x_kall.jsonl); skips seeds already there.
# Usage: bash benchmarks/stage1_levers/stage1_10x.sh SEED [SEED ...]
#        STAGE1_ITERS=15000 bash benchmarks/stage1_levers/stage1_10x.sh SEED
#        (20x: stage1_20x.jsonl)
#        STAGE1_INIT=stage1_10x bash benchmarks/stage1_levers/stage1_10x.sh SEED  (7,500 more from
#        the 10x checkpoint, the schedule restarted: stage1_10x_then_10x.jsonl)
#        LABELED=all bash benchmarks/stage1_levers/stage1_10x.sh SEED  (every training image)
#        STAGE1_TAG=_b8 STAGE1_OPTIONS=train_dataloader.batch_size=8 \
#          bash benchmarks/stage1_levers/stage1_10x.sh SEED  (a lever: stage1_10x_b8.jsonl)
cd "$(dirname "$0")/../.."
source benchmarks/stage1_levers/lever_runs.sh
C=configs/pixcon/synthetic/deeplabv3plus_r18_syncity_pretrain.py
OUT=benchmarks/stage1_levers/$STAGE1$RECORDS.jsonl
set -f  # STAGE1_OPTIONS are split into words below, never expanded as file names
# A lever's options leave the data, seed, schedule and start to this script; a tag names a lever
# (the unchanged stage 1 has none), and one tag one set of options (a rerun with others would skip
# the recorded seeds and mix two levers under one name).
for option in $STAGE1_OPTIONS; do
  case " $(data_options 0) $(schedule_options 1 1) load_from= " in
    *" ${option%%=*}="*)
      echo "STAGE1_OPTIONS: $option sets what stage1_10x.sh sets itself (data, seed, schedule," \
        "start)" >&2
      exit 1 ;;
  esac
done
if [ -n "$STAGE1_TAG" ] && [ -z "$STAGE1_OPTIONS" ]; then
  echo "STAGE1_TAG ($STAGE1_TAG) names a lever: give its STAGE1_OPTIONS" >&2
  exit 1
fi
if [ -n "$STAGE1_OPTIONS" ] && [ -s $OUT ] \
  && grep . $OUT | grep -vqF "\"options\": \"$STAGE1_OPTIONS\""; then
  echo "$OUT holds runs with other options than $STAGE1_OPTIONS: give them another STAGE1_TAG" >&2
  exit 1
fi
for s in "$@"; do
  recorded $OUT $s && continue
  W=$(stage1_dir $STAGE1 $s)
  mkdir -p $W
  OPTS="$(data_options $s) $(schedule_options $STAGE1_ITERS $((STAGE1_ITERS / 10)))"
  [ -n "$STAGE1_INIT" ] && OPTS="$OPTS $(continued_from $(stage1_dir $STAGE1_INIT $s))"
  OPTS="$OPTS $STAGE1_OPTIONS"
  start=$(date +%s)
  $PY tools/train.py $C --work-dir $W --cfg-options $OPTS > $W/train.log 2>&1 || exit 1
  echo "{\"labeled\": $(labeled_json), \"seed\": $s, \"stage1_iters\": $STAGE1_ITERS, \"init\": \"$STAGE1_INIT\", ${STAGE1_OPTIONS:+\"options\": \"$STAGE1_OPTIONS\", }\"proto_miou\": $(last_miou $W/train.log), \"proto_curve_tenths\": \"$(val_curve $W/train.log)\", \"minutes\": $(( ($(date +%s) - start) / 60 )), \"machine\": \"$(machine)\"}" >> $OUT
done
