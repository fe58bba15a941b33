# Shared pieces of the lever scripts (stage1_10x.sh, stage2_1500.sh, lpft_10x.sh,
# bn_stats_10x.sh and, through stage2_from_10x, stage2_10x.sh, stage2_warmup_10x.sh, stage2_lr0.005_10x.sh,
# cosine_prototypes_10x.sh, cosine_prototypes_lr0.005_10x.sh; through ce_10x, ce_10x.sh and
# ce_cosine_head_10x.sh):
# sourced, not run. Each script trains with tools/train.py, tests with tools/test.py and appends
# one JSON line per seed; these functions are the parts that were the same in each.
export PYTHONWARNINGS=ignore
PY=${PY:-.venv/bin/python}
R=data/synthetic/cityscapes

# --cfg-options that put train/val/test on the built-in synthetic Cityscapes set, the 8-image
# split of seed $1, and the training seed $1.
data_options() {
  echo "train_dataloader.dataset.data_root=$R val_dataloader.dataset.data_root=$R test_dataloader.dataset.data_root=$R train_dataloader.dataset.ann_file=splits/train_8_seed$1.txt randomness.seed=$1"
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

# Stage 2 of config $2 for 1,500 iterations from the 10x sweep's stage-1 checkpoint of each seed
# in ${@:4} (work_dirs/levers/stage1_10x_k8/8_seed<s>/stage1; the config's custom_hooks.0 is its
# LoadStageOneHook), on the split and seed of the sweep's stage 2, then tools/test.py on the final
# checkpoint. Runs in work_dirs/levers/$1/8_seed<s>; appends one JSON line per seed to
# benchmarks/stage1_levers/$1.jsonl, with the extra fields $3 ('"key": value, ' pairs); skips the
# seeds already there.
stage2_from_10x() {
  local name=$1 config=$2 extra=$3 out=benchmarks/stage1_levers/$1.jsonl s
  shift 3
  for s in "$@"; do
    grep -q "\"seed\": $s," $out 2>/dev/null && continue
    local w=work_dirs/levers/$name/8_seed$s
    mkdir -p $w
    local opts="$(data_options $s) train_cfg.max_iters=1500 train_cfg.val_interval=375 default_hooks.checkpoint.interval=1500 custom_hooks.0.checkpoint=work_dirs/levers/stage1_10x_k8/8_seed$s/stage1"
    local start=$(date +%s)
    $PY tools/train.py $config --work-dir $w --cfg-options $opts > $w/train.log 2>&1 || return 1
    $PY tools/test.py $config $w/iter_1500.pth --work-dir $w/test --cfg-options $opts > $w/test.log 2>&1 || return 1
    echo "{\"labeled\": 8, \"seed\": $s, \"stage1_iters\": 7500, \"stage2_iters\": 1500, $extra\"pixcon_miou\": $(last_miou $w/test.log), \"val_375_750_1125_1500\": \"$(val_curve $w/train.log)\", \"minutes\": $(( ($(date +%s) - start) / 60 )), \"machine\": \"$(machine)\"}" >> $out
  done
}

# CE alone with config $2 for the 10x sweep's CE schedule (9,000 iterations, val every 2,250, so
# the 75 % value is the third) on the sweep's split and seed of each seed in ${@:4}, then
# tools/test.py on the final checkpoint. Runs in work_dirs/levers/$1/8_seed<s>; appends one JSON
# line per seed to benchmarks/stage1_levers/$1.jsonl, with the extra fields $3; skips the seeds
# already there.
ce_10x() {
  local name=$1 config=$2 extra=$3 out=benchmarks/stage1_levers/$1.jsonl s
  shift 3
  for s in "$@"; do
    grep -q "\"seed\": $s," $out 2>/dev/null && continue
    local w=work_dirs/levers/$name/8_seed$s
    mkdir -p $w
    local opts="$(data_options $s) train_cfg.max_iters=9000 train_cfg.val_interval=2250 default_hooks.checkpoint.interval=9000 param_scheduler.0.begin=0 param_scheduler.0.end=9000"
    local start=$(date +%s)
    $PY tools/train.py $config --work-dir $w --cfg-options $opts > $w/train.log 2>&1 || return 1
    $PY tools/test.py $config $w/iter_9000.pth --work-dir $w/test --cfg-options $opts > $w/test.log 2>&1 || return 1
    echo "{\"labeled\": 8, \"seed\": $s, \"ce_iters\": 9000, $extra\"ce_miou\": $(last_miou $w/test.log), \"val_2250_4500_6750_9000\": \"$(val_curve $w/train.log)\", \"minutes\": $(( ($(date +%s) - start) / 60 )), \"machine\": \"$(machine)\"}" >> $out
  done
}
