# Shared pieces of the stage-2 lever scripts (stage2_1500.sh, stage2_warmup_10x.sh, lpft_10x.sh):
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
