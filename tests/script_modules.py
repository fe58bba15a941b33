"""A script outside the package (tools/, benchmarks/) loaded as a module by its file path."""
import importlib.util
from pathlib import Path
from types import ModuleType


def load_script(path: Path) -> ModuleType:
    """Executes the Python file at ``path`` as a fresh module named by its stem (not entered
    in sys.modules) and returns it."""
    spec = importlib.util.spec_from_file_location(Path(path).stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
