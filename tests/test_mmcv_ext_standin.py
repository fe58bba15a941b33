"""The stand-in for mmcv's compiled ops used on the lent GPU machine (benchmarks/gpu)."""
from pathlib import Path

import pytest
from script_modules import load_script

STANDIN = Path(__file__).resolve().parents[1] / 'benchmarks/gpu/mmcv_ext_standin.py'


def test_every_op_name_passes_mmcv_ext_loader_check_and_raises_naming_itself():
    ext = load_script(STANDIN)
    # mmcv.utils.ext_loader.load_ext asserts hasattr(ext, fun) for each op a module wraps
    assert all(hasattr(ext, op) for op in ('nms', 'roi_align_forward', 'point_sample'))
    with pytest.raises(RuntimeError, match="'nms' is not compiled"):
        ext.nms(None, None)


def test_version_queries_answer_and_dunder_lookups_stay_missing():
    ext = load_script(STANDIN)
    assert 'not compiled' in ext.get_compiler_version()
    assert not hasattr(ext, '__path__')  # else the import system would take it for a package
