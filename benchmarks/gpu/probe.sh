#!/bin/bash
# The first command on a lent GPU machine (the device tool; at most 8 minutes, every step under a
# timeout): the environment, how fast the synthetic CE and stage-1 configs train when 2 and 8 runs
# share the GPU (which sizes a seed sweep there: seeds_10x.sh), then the loss and training-overhead
# benchmarks on CUDA.
# Writes the reports and $OUT/probe.tgz (every log) when run by the device tool; from the repo root:
#   bash benchmarks/gpu/probe.sh        (device tool: carry [".gpu"], made by prepare_wheels.sh)
cd "$(dirname "$0")/../.."
SPLIT_SEEDS="8 9 10 11 12 13 14 15" source benchmarks/gpu/device_env.sh
source benchmarks/stage1_levers/lever_runs.sh
ITERS=${PROBE_ITERS:-300}
echo "cpus $(nproc)"
$PY - <<'EOF' || exit 1
import torch, mmcv, mmengine, mmseg, mmseg_pixcon
gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'no CUDA'
print('torch', torch.__version__, gpu, 'mmcv', mmcv.__version__, 'mmengine', mmengine.__version__,
      'mmseg', mmseg.__version__)
EOF

# The median of the smoothed s/iter that mmengine logged in $1 for training, the first two lines skipped.
median_iter_time() {
  grep 'Iter(train)' $1 | grep -oP '(?<!data_)time: \K[0-9.]+' | tail -n +3 | sort -n |
    awk '{a[NR] = $1} END {if (NR) print a[int((NR + 1) / 2)], "s/iter over", NR, "log lines"; else print "no log"}'
}

# $1 runs at once, half CE and half stage 1 (synthetic configs, seeds 8..15, $ITERS iterations each,
# one torch thread each), then the group's wall seconds and each run's median s/iter.
concurrent() {
  local n=$1 i s arm w start=$SECONDS
  for i in $(seq 0 $((n / 2 - 1))); do
    s=$((8 + i % 8))
    for arm in ce pretrain; do
      w=work_dirs/gpu_probe/x$n/${arm}_$i
      mkdir -p $w
      OMP_NUM_THREADS=1 timeout 120 $PY tools/train.py \
        configs/pixcon/synthetic/deeplabv3plus_r18_syncity_$arm.py --work-dir $w \
        --cfg-options $(data_options $s) $(schedule_options $ITERS $ITERS) default_hooks.logger.interval=25 \
        > $w/train.log 2>&1 &
    done
  done
  wait
  echo "== $n runs at once: $((SECONDS - start)) s wall"
  for w in work_dirs/gpu_probe/x$n/*; do echo "x$n $(basename $w): $(median_iter_time $w/train.log)"; done
}
for n in ${PROBE_SIZES:-2 8}; do concurrent $n; done

timeout 90 $PY tools/benchmark_loss.py --device cuda --sides 128 256 --big 256x512 \
  --formulations paper official --modes within --out $OUT/loss_cuda || echo "loss benchmark rc $?"
timeout 60 $PY tools/benchmark_train.py --device cuda --batch-sizes 4 --iters 30 --warmup 3 --load-wait 0 \
  --data-root data/synthetic/cityscapes --out $OUT/train_overhead_cuda || echo "train benchmark rc $?"
timeout 90 $PY tools/benchmark_train.py --device cuda --batch-sizes 2 --iters 10 --warmup 3 --load-wait 0 \
  --pretrain-config configs/pixcon/deeplabv3plus_cityscapes_pretrain.py \
  --ce-config configs/pixcon/deeplabv3plus_cityscapes_finetune.py --no-stock \
  --data-root data/synthetic/cityscapes --out $OUT/train_overhead_cuda_r50 || echo "r50 benchmark rc $?"
tar czf $OUT/probe.tgz work_dirs/gpu_probe
