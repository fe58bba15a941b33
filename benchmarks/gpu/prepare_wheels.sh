#!/bin/bash
# Here (with network), before the first device call: downloads the pure-Python wheels that the
# GPU machine lacks into .gpu/whl (ignored by git through .git/info/exclude; carried with
# `carry: [".gpu"]`) and builds mmcv 2.1.0 without its compiled ops (mmcv-lite), which
# device_env.sh completes with mmcv_ext_standin.py. About 5 MiB in all.
set -e
cd "$(dirname "$0")/../.."
grep -qx '/.gpu/' .git/info/exclude || echo /.gpu/ >> .git/info/exclude
mkdir -p .gpu/whl
for p in mmengine==0.10.7 mmsegmentation==1.2.2 addict==2.4.0 yapf==0.43.0 termcolor==3.3.0 \
         platformdirs==4.14.9 prettytable==3.19.0 wcwidth==0.9.4 ftfy==6.3.1 setuptools==80.9.0; do
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --platform manylinux_2_17_x86_64 --platform any -d .gpu/whl "$p"
done
python3 -m venv /tmp/mmcv_lite_build
/tmp/mmcv_lite_build/bin/pip install -q 'setuptools<70' wheel  # mmcv's setup.py needs <70
/tmp/mmcv_lite_build/bin/pip download -q --no-deps --no-binary :all: -d /tmp/mmcv_lite_build mmcv==2.1.0
MMCV_WITH_OPS=0 /tmp/mmcv_lite_build/bin/pip wheel -q --no-deps --no-build-isolation \
  -w .gpu/whl /tmp/mmcv_lite_build/mmcv-2.1.0.tar.gz
