"""Writing a benchmark's table: printed, and saved as markdown + JSON next to each other."""
import json
import os
from typing import Optional


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
