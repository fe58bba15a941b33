"""Timing and reports shared by tools/benchmark_loss.py and tools/benchmark_train.py.

How a call is timed (device synchronised before and after), how the machine and its float32
matmul policy are named, and how a table is printed and saved as markdown + JSON.
"""
import json
import os
import platform
import re
import statistics
import time
from typing import Callable, Dict, List, Optional

import torch


def cpu_signature(cpuinfo: Optional[str] = None) -> str:
    """The CPU model, its family / model / stepping and the SIMD kernels torch dispatches to, e.g.
    'AMD EPYC (family 26, model 2, stepping 1; torch AVX512)'. Two CPUs that share a model name
    but differ here may round floats differently, and a long training run then diverges: the
    signature tells which runs were made on the same kind of machine. ``cpuinfo`` is the text of
    /proc/cpuinfo (read when None; the fields are left out where it is unavailable)."""
    if cpuinfo is None:
        try:
            with open('/proc/cpuinfo') as f:
                cpuinfo = f.read()
        except OSError:
            cpuinfo = ''
    name = re.search(r'^model name\s*:\s*(.+)$', cpuinfo, re.M)
    fields = [(key, re.search(rf'^{key}\s*:\s*(\S+)', cpuinfo, re.M))
              for key in ('cpu family', 'model', 'stepping')]
    ids = ', '.join(f'{key.replace("cpu ", "")} {found.group(1)}' for key, found in fields if found)
    details = '; '.join(part for part in (ids, f'torch {torch.backends.cpu.get_cpu_capability()}')
                        if part)
    return f'{name.group(1).strip() if name else platform.machine()} ({details})'


def device_name(device: str) -> str:
    """The GPU's name for 'cuda', else the CPU's signature and the CPUs this process may use."""
    if device == 'cuda':
        return torch.cuda.get_device_name()
    return f'{cpu_signature()}, {len(os.sched_getaffinity(0))} CPUs'


def matmul_precision() -> Dict[str, str]:
    """The process's float32 precision settings (torch's per-backend flags): 'ieee' is full
    float32, 'tf32' (CUDA) or 'bf16' (MKLDNN) reduced, 'none' the backend's default. The
    loss's own matmuls are IEEE whatever these say (``ieee_matmuls``)."""
    backends = torch.backends
    return {'cuda matmul': backends.cuda.matmul.fp32_precision,
            'cudnn conv': backends.cudnn.conv.fp32_precision,
            'mkldnn matmul': backends.mkldnn.matmul.fp32_precision}


def synchronizer(device: str) -> Callable[[], None]:
    """Waits for the device's queued work (a no-op on the CPU)."""
    return torch.cuda.synchronize if device == 'cuda' else (lambda: None)


def timed(fn: Callable[[], object], sync: Callable[[], None]) -> float:
    """Seconds of one call of ``fn``, the device synchronised before and after."""
    sync()
    start = time.perf_counter()
    fn()
    sync()
    return time.perf_counter() - start


def median_time(fn: Callable[[], object], repeats: int, sync: Callable[[], None]) -> float:
    """Median of ``repeats`` timed calls after one untimed call."""
    fn()
    return statistics.median(timed(fn, sync) for _ in range(repeats))


def load_average() -> List[float]:
    """The 1, 5 and 15-minute load averages."""
    return [round(x, 2) for x in os.getloadavg()]


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
