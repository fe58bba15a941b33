"""Benchmark reports: the machine, and the table printed and saved as markdown + JSON."""
import json
import os
import platform
import re
from typing import Optional


def cpu_name() -> str:
    """The CPU model from /proc/cpuinfo (the architecture where that is unavailable)."""
    try:
        with open('/proc/cpuinfo') as f:
            found = re.search(r'model name\s*:\s*(.+)', f.read())
    except OSError:
        found = None
    return found.group(1).strip() if found else platform.machine()


def write_report(markdown: str, result: dict, out: Optional[str]) -> None:
    """Prints ``markdown``; with ``out`` (a path without suffix) also writes out.md and out.json."""
    print(markdown)
    if not out:
        return
    os.makedirs(os.path.dirname(out) or '.', exist_ok=True)
    with open(out + '.md', 'w') as f:
        f.write(markdown)
    with open(out + '.json', 'w') as f:
        json.dump(result, f, indent=1)
