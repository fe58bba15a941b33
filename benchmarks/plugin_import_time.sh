#!/bin/bash
# CPU seconds (time.process_time: the shared machine's load does not count) and wall seconds of
# `import mmseg_pixcon` in a fresh interpreter, the tree before the light import and this one,
# alternating, 3 repeats. Usage (from the repository root):
#   git archive 579ce66^ | tar -x -C /tmp/imp_before
#   BEFORE=/tmp/imp_before PY=/work/main/.venv/bin/python bash benchmarks/plugin_import_time.sh
BEFORE=${BEFORE:-/tmp/imp_before}
AFTER=${AFTER:-$(pwd)}
PY=${PY:-python}
for rep in 1 2 3; do
  for tree in "$BEFORE" "$AFTER"; do
    (cd "$tree" && PYTHONPATH="$tree" nice -n 19 "$PY" -c "
import sys, time
c, w = time.process_time(), time.perf_counter()
import mmseg_pixcon
c, w = time.process_time() - c, time.perf_counter() - w
assert mmseg_pixcon.__file__.startswith('$tree'), mmseg_pixcon.__file__
own = [m for m in sys.modules if m.startswith('mmseg_pixcon')]
print('$tree', 'rep', $rep, 'cpu_s %.3f wall_s %.3f modules %d pixcon_modules %d datasets_loaded %s'
      % (c, w, len(sys.modules), len(own), any(m.startswith('mmseg_pixcon.datasets') for m in own)))
")
  done
done
