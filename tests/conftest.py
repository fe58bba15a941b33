"""Fixtures shared by every test file."""
import sys
from pathlib import Path

import pytest
from mmengine.registry import DefaultScope

# Test helpers (tiny_segmentors, script_modules) import by bare name.
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(autouse=True)
def mmseg_scope():
    """Builds by mmseg's names whatever scope an earlier test left current (a Runner of another
    test file sets its own); drops the scopes a test's Runners create."""
    with DefaultScope.overwrite_default_scope('mmseg'):
        yield
