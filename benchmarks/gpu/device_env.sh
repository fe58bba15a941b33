# Readies the lent GPU machine for the project's tools; sourced from the repo root by the device
# scripts beside it. That machine has python3 with CUDA torch, no OpenMMLab packages and no network:
# the pure-Python wheels carried in .gpu/whl (prepare_wheels.sh makes them here) go into /tmp/site,
# mmcv-lite gets mmcv_ext_standin.py as its compiled-ops module, and the built-in synthetic
# Cityscapes set (the same files as tools/run_recipe.py makes: seed 0, 300 train, 60 val) and the
# 8-image splits of the seeds in $SPLIT_SEEDS are generated. Sets PY and PYTHONPATH for
# benchmarks/stage1_levers/lever_runs.sh, and OUT (the device tool's, else work_dirs/gpu_out), where
# the GPU's name, memory and driver go to device.txt.
OUT=${OUT:-work_dirs/gpu_out}
mkdir -p $OUT
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee $OUT/device.txt
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
  --target /tmp/site .gpu/whl/*.whl || exit 1
cp benchmarks/gpu/mmcv_ext_standin.py /tmp/site/mmcv/_ext.py
export PYTHONPATH=/tmp/site:$PWD${PYTHONPATH:+:$PYTHONPATH} PY=python3 PYTHONWARNINGS=ignore
R=data/synthetic/cityscapes
[ -d $R/leftImg8bit ] || python3 tools/make_synthetic_data.py cityscapes --out $R --nproc 16 || exit 1
for s in $SPLIT_SEEDS; do
  [ -f $R/splits/train_8_seed$s.txt ] ||
    python3 tools/make_split.py cityscapes -k 8 --seed $s --root $R > /dev/null &
done
wait
for s in $SPLIT_SEEDS; do [ -f $R/splits/train_8_seed$s.txt ] || exit 1; done
