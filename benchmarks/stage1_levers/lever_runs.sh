# Shared pieces of the lever scripts (stage1_10x.sh, stage2_1500.sh, lpft_10x.sh,
# bn_stats_10x.sh and, through stage2_from_10x, stage2_10x.sh, stage2_warmup_10x.sh, stage2_lr0.005_10x.sh,
# cosine_prototypes_10x.sh, cosine_prototypes_lr0.005_10x.sh; through ce_10x, ce_10x.sh,
# ce_cosine_head_10x.sh and ce_10x_then_10x.sh; through both, width32_10x.sh):
# sourced, not run. Each script trains with tools/train.py, tests with tools/test.py and appends
# one JSON line per seed; these functions are the parts that were the same in each.
export PYTHONWARNINGS=ignore
PY=${PY:-.venv/bin/python}
R=data/synthetic/cityscapes
# The stage 1 of stage1_10x.sh and of the checkpoints stage2_from_10x starts from: 7,500
# iterations (10x the recipe's 750) unless STAGE1_ITERS is set (15000 for 20x), from scratch unless
# STAGE1_INIT names an earlier stage 1 (stage1_10x: each seed starts from that run's last
# checkpoint as weights, load_from, and its schedule starts again). STAGE1 names its work dirs and
# records: stage1_10x, stage1_20x, stage1_10x_then_10x, ...; stage2_from_10x writes its records
# under its name with _10x replaced by STAGE1's length (cosine_prototypes_10x_then_10x).
# STAGE1_OPTIONS: extra --cfg-options for stage1_10x.sh's stage 1 (a lever on the stage-1 config;
# key=value words without double quotes, backslashes or control characters, which the JSON record
# could not hold as they are);
# STAGE1_TAG (_ then letters, digits, '.', '-') then names it, appended to STAGE1 (stage1_10x_b8),
# so its work dirs, records and the stage 2s from it never mix with the unchanged stage 1's.
# Sourcing stops the script (exit) on a bad pair, whichever lever script sources it.
STAGE1_ITERS=${STAGE1_ITERS:-7500}
STAGE1=${STAGE1_INIT:-stage1}_${STAGE1_INIT:+then_}$((STAGE1_ITERS / 750))x$STAGE1_TAG
if [ -n "$STAGE1_OPTIONS" ] && [ -z "$STAGE1_TAG" ]; then
  echo "STAGE1_OPTIONS ($STAGE1_OPTIONS) needs a STAGE1_TAG to name its runs" >&2
  exit 1
fi
if ! [[ "$STAGE1_TAG" =~ ^(_[A-Za-z0-9.-]+)?$ ]] \
  || [[ "$STAGE1_OPTIONS" == *[\"\\[:cntrl:]]* ]]; then
  echo "STAGE1_TAG ($STAGE1_TAG) must be _ then letters, digits, '.' or '-', and" \
    "STAGE1_OPTIONS ($STAGE1_OPTIONS) free of double quotes, backslashes and control" \
    "characters" >&2
  exit 1
fi

# The label budget: LABELED=8 unless set (a number K: the split tools/make_split.py made for the
# seed, splits/train_<K>_seed<s>.txt; all: every training image, the config's own train set, no
# split). Work dirs name it (<K>_seed<s>, all_seed<s>); records of a budget other than 8 go to
# files with the suffix RECORDS (_k<K>, _kall), so budgets never share a record file and the 8-image
# records keep their names.
LABELED=${LABELED:-8}
RECORDS=$([ "$LABELED" = 8 ] || echo _k$LABELED)

# The budget as a JSON value: the number K, or the string "all".
labeled_json() {
  [ "$LABELED" = all ] && echo '"all"' || echo $LABELED
}

# The work dir of the lever run named $1 for seed $2 at the LABELED budget (CE runs, stage 2s).
run_dir() {
  echo work_dirs/levers/$1/${LABELED}_seed$2
}

# The work dir of the stage 1 named $1 (stage1_10x, stage1_10x_then_10x, ...; STAGE1) for seed $2
# at the LABELED budget: where stage1_10x.sh writes it and stage2_from_10x and a continued stage 1
# take its checkpoint.
stage1_dir() {
  echo $(run_dir $1_k$LABELED $2)/stage1
}

# --cfg-options that put train/val/test on the built-in synthetic Cityscapes set, the LABELED-image
# split of seed $1 (none for all), and the training seed $1.
data_options() {
  local split=''
  [ "$LABELED" = all ] || split=" train_dataloader.dataset.ann_file=splits/train_${LABELED}_seed$1.txt"
  echo "train_dataloader.dataset.data_root=$R val_dataloader.dataset.data_root=$R test_dataloader.dataset.data_root=$R randomness.seed=$1$split"
}

# --cfg-options for a schedule of $1 iterations with val every $2 and one checkpoint at the end, the
# config's first parameter scheduler (its poly decay) stretched over the $1 iterations.
schedule_options() {
  echo "train_cfg.max_iters=$1 train_cfg.val_interval=$2 default_hooks.checkpoint.interval=$1 param_scheduler.0.begin=0 param_scheduler.0.end=$1"
}

# The --cfg-option that starts a run from the last checkpoint of the work dir $1 as weights
# (load_from: optimizer and schedule start again).
continued_from() {
  echo "load_from=$(cat $1/last_checkpoint)"
}

# The last mIoU printed to the log $1 (the test result of tools/test.py, the last val of train.py).
last_miou() {
  grep -o "mIoU: [0-9.]*" "$1" | tail -1 | cut -d' ' -f2
}

# The val mIoUs that tools/train.py printed to the log $1, in order, space-separated.
val_curve() {
  grep -o "Iter(val) \[.*mIoU: [0-9.]*" "$1" | grep -o "mIoU: [0-9.]*" | cut -d' ' -f2 | tr '\n' ' '
}

# This machine's CPU signature, as the label-efficiency benchmark records it.
machine() {
  $PY -c 'from mmseg_pixcon.utils.benchmark_report import cpu_signature; print(cpu_signature())'
}

# Whether the JSON-lines file $1 already has a record of seed $2 (a restart skips that seed).
recorded() {
  grep -q "\"seed\": $2," $1 2>/dev/null
}

# tools/train.py with config $1 in the work dir $2 under the cfg-options $4, then tools/test.py
# on its final checkpoint (iteration $3); their logs: $2/train.log, $2/test.log.
train_and_test() {
  mkdir -p $2
  $PY tools/train.py $1 --work-dir $2 --cfg-options $4 > $2/train.log 2>&1 || return 1
  $PY tools/test.py $1 $2/iter_$3.pth --work-dir $2/test --cfg-options $4 > $2/test.log 2>&1
}

# The closing fields of the JSON record of the train_and_test run in $1, started at $4 (seconds
# since the epoch): the test mIoU under the key $2, the val curve under the key $3, minutes,
# machine, and the closing brace.
run_fields() {
  echo "\"$2\": $(last_miou $1/test.log), \"$3\": \"$(val_curve $1/train.log)\", \"minutes\": $(( ($(date +%s) - $4) / 60 )), \"machine\": \"$(machine)\"}"
}

# The stage 2 of stage2_from_10x: 1,500 iterations (the recipe's) unless STAGE2_ITERS is set. A
# stage 2 of another length names its work dirs and records with STAGE2 (_stage2_<iters>), so the
# 1,500-iteration records keep their names.
STAGE2_ITERS=${STAGE2_ITERS:-1500}
STAGE2=$([ "$STAGE2_ITERS" = 1500 ] || echo _stage2_$STAGE2_ITERS)

# --cfg-options that make config $1 train $2 iterations with every parameter scheduler rescaled to
# them (mmseg_pixcon.utils.schedule.rescaled_schedule, as tools/run_recipe.py does: a warm-up keeps
# its share), a checkpoint at the end and val every $3 iterations.
rescaled_options() {
  $PY -c 'import sys
from mmengine import Config
from mmseg_pixcon.utils.schedule import as_cfg_options, rescaled_schedule
options = rescaled_schedule(Config.fromfile(sys.argv[1]), int(sys.argv[2]))
options["train_cfg.val_interval"] = int(sys.argv[3])
print(" ".join(as_cfg_options(options)))' $1 $2 $3
}

# Stage 2 of config $2 for STAGE2_ITERS iterations (its schedule rescaled to them, rescaled_options;
# val at every quarter) from the $STAGE1 stage-1 checkpoint of each seed in ${@:4}
# (stage1_dir; the config's custom_hooks.0 is its LoadStageOneHook), on the split and seed of the
# sweep's stage 2, then tools/test.py on the final checkpoint. Runs in
# work_dirs/levers/<name>/<K>_seed<s> (run_dir), where <name> is $1 with _10x replaced by the
# stage-1 length, then $STAGE2; appends one JSON line per seed to
# benchmarks/stage1_levers/<name>$RECORDS.jsonl, with the extra fields $3 ('"key": value, ' pairs);
# skips the seeds already there.
stage2_from_10x() {
  local name=${1/_10x/_${STAGE1#stage1_}}$STAGE2 config=$2 extra=$3 s
  local out=benchmarks/stage1_levers/$name$RECORDS.jsonl q=$((STAGE2_ITERS / 4))
  shift 3
  for s in "$@"; do
    recorded $out $s && continue
    local w=$(run_dir $name $s) start=$(date +%s)
    local schedule
    schedule=$(rescaled_options $config $STAGE2_ITERS $q) || return 1
    train_and_test $config $w $STAGE2_ITERS "$(data_options $s) $schedule custom_hooks.0.checkpoint=$(stage1_dir $STAGE1 $s)" || return 1
    echo "{\"labeled\": $(labeled_json), \"seed\": $s, \"stage1\": \"$STAGE1\", \"stage1_iters\": $STAGE1_ITERS, \"stage2_iters\": $STAGE2_ITERS, $extra$(run_fields $w pixcon_miou val_${q}_$((2 * q))_$((3 * q))_$STAGE2_ITERS $start)" >> $out
  done
}

# CE alone with config $2 for the 10x sweep's CE schedule (9,000 iterations unless CE_ITERS is set,
# val at every quarter, so the 75 % value is the third) on the sweep's split and seed of each seed in
# ${@:4}, then tools/test.py on the final checkpoint. From scratch unless CE_INIT names an earlier
# CE run of these functions (each seed then starts from that run's last checkpoint as weights,
# load_from, and its schedule starts again: the CE counterpart of STAGE1_INIT). Runs in
# work_dirs/levers/$1/<K>_seed<s>; appends one JSON line per seed to
# benchmarks/stage1_levers/$1$RECORDS.jsonl, with the extra fields $3; skips the seeds already
# there.
ce_10x() {
  local name=$1 config=$2 extra=$3 out=benchmarks/stage1_levers/$1$RECORDS.jsonl s
  local iters=${CE_ITERS:-9000}
  local q=$((iters / 4))
  shift 3
  for s in "$@"; do
    recorded $out $s && continue
    local w=$(run_dir $name $s) start=$(date +%s)
    local opts="$(data_options $s) $(schedule_options $iters $q)"
    [ -n "$CE_INIT" ] && opts="$opts $(continued_from $(run_dir $CE_INIT $s))"
    train_and_test $config $w $iters "$opts" || return 1
    echo "{\"labeled\": $(labeled_json), \"seed\": $s, \"ce_iters\": $iters, ${CE_INIT:+\"init\": \"$CE_INIT\", }$extra$(run_fields $w ce_miou val_${q}_$((2 * q))_$((3 * q))_$iters $start)" >> $out
  done
}
