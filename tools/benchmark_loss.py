"""Peak memory and time (forward + backward) of PixelContrastLoss vs dense N×N forms.

Measures, on CPU or one GPU (``--device cuda``), float32 or bfloat16 embeddings (``--dtype``),
and compares, on the same pixels (B images, two views of side×side embeddings, D channels):

- ``tiled``:  PixelContrastLoss (exact, tiled kernel);
- ``dense``:  the same loss with every N×N matrix built (``dense_reference``);
- ``supcon``: pytorch-metric-learning's SupConLoss on the labelled pixels of both views as
  one bag (a dense (2N)×(2N) loss; the column is skipped if the package is missing).

Every measurement runs in its own subprocess. On CPU the peak is the rise of the process's
resident set (VmHWM − VmRSS before the measured call, high-water mark reset through
/proc/self/clear_refs) with ``MALLOC_MMAP_THRESHOLD_`` fixed, so that freed large blocks
leave the resident set; on CUDA it is ``torch.cuda.max_memory_allocated`` above the memory
allocated before the call. Time is the fastest of ``--repeats`` calls after one warm-up.
Dense variants that the last measured size predicts to need more than 30 % of the available
memory are not run; their need is reported instead.

The loss's matmuls are IEEE float32 whatever the process's TF32 setting (reported); bfloat16
embeddings enter the loss as they would under autocast, which upcasts them.

Usage::

    python tools/benchmark_loss.py --out benchmarks/loss_cpu
    python tools/benchmark_loss.py --device cuda --modes within cross --sides 64 128 \\
        --big 128x256 --dtype bfloat16 --out benchmarks/loss_cuda_bf16
"""
import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import time
import types
from typing import Callable, Dict, List, Optional, Tuple

VARIANTS = ('tiled', 'dense', 'supcon')
MMAP_THRESHOLD = '65536'
MIB = 2**20


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--sides', type=int, nargs='+', default=[32, 48, 64, 96, 128],
                        help='embedding map side per view (N = side²)')
    parser.add_argument('--big', default='128x256',
                        help='HxW per view of the large run (a 512×1024 crop at output '
                        'stride 4); "" to skip')
    parser.add_argument('--formulations', nargs='+', default=['paper', 'official'])
    parser.add_argument('--modes', nargs='+', default=['within'])
    parser.add_argument('--dim', type=int, default=256)
    parser.add_argument('--batch-size', type=int, default=1)
    parser.add_argument('--tile-size', type=int, default=None,
                        help="PixelContrastLoss's tile_size (default: the loss's own)")
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--threads', type=int, default=None,
                        help='torch CPU threads per worker (default: torch default)')
    parser.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    parser.add_argument('--dtype', default='float32', choices=['float32', 'bfloat16'],
                        help='dtype of the embeddings given to the losses')
    parser.add_argument('--memory-fraction', type=float, default=0.3,
                        help='skip dense variants predicted to need more than this '
                        'fraction of the available memory')
    parser.add_argument('--note', action='append', default=[],
                        help='a line for the notes of the report (repeatable)')
    parser.add_argument('--out', default=None,
                        help='write OUT.md and OUT.json (e.g. benchmarks/loss_cpu)')
    parser.add_argument('--worker', default=None, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# ----------------------------------------------------------------- worker (one process)
def _status_kib(field: str) -> int:
    with open('/proc/self/status') as f:
        return int(re.search(field + r':\s+(\d+)', f.read()).group(1))


def _make_inputs(spec: Dict, torch):
    """Unit embeddings of two views and blocky labels (19 classes, ~10 % ignored)."""
    gen = torch.Generator().manual_seed(0)
    b, d, (h, w) = spec['batch_size'], spec['dim'], spec['size']
    feats, feats_aug = (torch.nn.functional.normalize(
        torch.randn(b, d, h, w, generator=gen), dim=1) for _ in range(2))
    blocks = torch.randint(0, 19, (2, b, (h + 7) // 8, (w + 7) // 8), generator=gen)
    blocks[torch.rand(blocks.shape, generator=gen) < 0.1] = 255
    labels, labels_aug = blocks.repeat_interleave(8, 2).repeat_interleave(8, 3)[..., :h, :w]
    device, dtype = torch.device(spec['device']), getattr(torch, spec['dtype'])
    return [feats.to(device, dtype), labels.to(device), feats_aug.to(device, dtype),
            labels_aug.to(device)]


def _make_step(spec: Dict, torch) -> Callable[[], None]:
    """A closure running forward + backward of the requested variant."""
    feats, labels, feats_aug, labels_aug = _make_inputs(spec, torch)
    feats.requires_grad_()
    feats_aug.requires_grad_()
    variant = spec['variant']
    if variant == 'tiled':
        from mmseg_pixcon.models.losses import PixelContrastLoss
        loss = PixelContrastLoss(mode=spec['mode'], formulation=spec['formulation'],
                                 partner='roll', tile_size=spec['tile_size'])
        compute = lambda: loss(feats, labels, feats_aug, labels_aug)  # noqa: E731
    elif variant == 'dense':
        from mmseg_pixcon.models.losses import dense_reference
        from mmseg_pixcon.models.losses.partners import select_partners
        dense = getattr(dense_reference, f'dense_{spec["formulation"]}_loss')
        partners = select_partners(feats.shape[0], 'roll', feats.device)

        def compute():
            flat = [(x.flatten(2).transpose(1, 2), torch.where(y == 255, -1, y).flatten(1))
                    for x, y in ((feats, labels), (feats_aug, labels_aug))]
            return dense(*flat[0], *flat[1], mode=spec['mode'], partners=partners,
                         symmetric=True, temperature=0.07)
    else:
        supcon = _import_supcon()[0](temperature=0.07)

        def compute():
            pixels = torch.cat([x.flatten(2).transpose(1, 2).flatten(0, 1)
                                for x in (feats, feats_aug)])
            classes = torch.cat([labels.flatten(), labels_aug.flatten()])
            keep = classes != 255
            return supcon(pixels[keep], classes[keep])

    def step():
        compute().backward()
        feats.grad = feats_aug.grad = None
    return step


def run_worker(spec: Dict) -> Dict:
    load = os.getloadavg()[0]
    import torch

    from mmseg_pixcon.utils.benchmark_report import synchronizer, timed
    if spec['threads']:
        torch.set_num_threads(spec['threads'])
    step = _make_step(spec, torch)
    cuda = spec['device'] == 'cuda'
    sync = synchronizer(spec['device'])
    if spec['warmup']:
        step()
        sync()
    if cuda:
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    else:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')  # resets VmHWM to the current resident set
        base = _status_kib('VmRSS') * 1024
    times = []
    for _ in range(max(spec['repeats'], 1)):
        times.append(timed(step, sync))
        if not times[1:]:  # the peak of one call
            peak = (torch.cuda.max_memory_allocated() if cuda
                    else _status_kib('VmHWM') * 1024) - base
    return dict(peak_mib=peak / MIB, time_s=min(times), times_s=times, load=load)


# ------------------------------------------------------------------ parent (the table)
def _meminfo_kib(field: str) -> int:
    with open('/proc/meminfo') as f:
        return int(re.search(field + r':\s+(\d+)', f.read()).group(1))


def _available_mib(device: str) -> float:
    if device == 'cuda':
        import torch
        free, _ = torch.cuda.mem_get_info()
        return free / MIB
    return _meminfo_kib('MemAvailable') / 1024


def _spawn(spec: Dict) -> Dict:
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_=MMAP_THRESHOLD)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env['PYTHONPATH'] = os.pathsep.join(filter(None, [root, env.get('PYTHONPATH')]))
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), '--worker',
                           json.dumps(spec)], env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        return dict(error=(proc.stderr.strip().splitlines() or ['?'])[-1][:200])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _import_supcon() -> Tuple[type, str]:
    """pytorch-metric-learning's SupConLoss, and a note on how it was imported.

    The package imports tqdm at top level for a download helper only; without tqdm a
    stand-in module lets the loss import (SupConLoss never calls it).
    """
    note = ''
    try:
        import tqdm  # noqa: F401
    except ImportError:
        sys.modules['tqdm'] = types.SimpleNamespace(tqdm=None)
        note = ' (tqdm missing: a stand-in module satisfied its unused import)'
    from pytorch_metric_learning import __version__
    from pytorch_metric_learning.losses import SupConLoss
    return SupConLoss, f'pytorch-metric-learning {__version__}{note}'


def _fmt(value: Optional[float], digits: int = 1) -> str:
    return '–' if value is None else f'{value:.{digits}f}'


def measure(args: argparse.Namespace) -> Dict:
    try:
        notes = [f'SupConLoss from {_import_supcon()[1]}.']
        variants = list(VARIANTS)
    except ImportError as error:
        notes = [f'SupConLoss column skipped: pytorch-metric-learning unusable ({error}).']
        variants = [v for v in VARIANTS if v != 'supcon']
    rows, big_rows = [], []
    for formulation in args.formulations:
        for mode in args.modes:
            bytes_per_pair: Dict[str, float] = {}
            for side in args.sides:
                row = dict(formulation=formulation, mode=mode, size=[side, side],
                           pixels=side * side)
                for variant in variants:
                    need = bytes_per_pair.get(variant, 0) * side**4 / MIB
                    if variant != 'tiled' and need > args.memory_fraction * \
                            _available_mib(args.device):
                        row[variant] = dict(skipped=f'needs ~{need / 1024:.1f} GiB')
                        continue
                    row[variant] = _spawn(_spec(args, variant, formulation, mode,
                                                (side, side), warmup=True))
                    if 'peak_mib' in row[variant]:
                        bytes_per_pair[variant] = row[variant]['peak_mib'] * MIB / side**4
                    print(formulation, mode, side, variant, row[variant], flush=True)
                rows.append(row)
            if args.big:
                big_rows.append(_big_row(args, formulation, mode, bytes_per_pair))
    return dict(rows=rows, big=big_rows, variants=variants, notes=notes + args.note)


def _spec(args, variant, formulation, mode, size, warmup) -> Dict:
    return dict(variant=variant, formulation=formulation, mode=mode, size=list(size),
                dim=args.dim, batch_size=args.batch_size, tile_size=args.tile_size,
                device=args.device, dtype=args.dtype, repeats=args.repeats if warmup else 1, warmup=warmup,
                threads=args.threads)


def _big_row(args, formulation, mode, bytes_per_pair) -> Dict:
    """The large crop: the tiled loss is run once; dense needs are extrapolated."""
    h, w = (int(x) for x in args.big.lower().split('x'))
    pixels = h * w
    available = _available_mib(args.device)
    row = dict(formulation=formulation, mode=mode, size=[h, w], pixels=pixels,
               available_mib=available,
               tiled=_spawn(_spec(args, 'tiled', formulation, mode, (h, w), warmup=False)))
    for variant, factor in bytes_per_pair.items():
        if variant != 'tiled':
            row[f'{variant}_need_mib'] = factor * pixels**2 / MIB
    print('big', row, flush=True)
    return row


def _ratio(num: Dict, den: Dict, key: str) -> Optional[float]:
    if key in num and key in den and den[key] > 0:
        return num[key] / den[key]
    return None


def to_markdown(args: argparse.Namespace, result: Dict) -> str:
    lines = ['# PixelContrastLoss: peak memory and time (forward + backward)', '',
             f'Command: `{result["command"]}`', '',
             f'Device: {result["device"]}; torch {result["torch"]}; float32 precision '
             f'{result["fp32_precision"]} (the matmuls of the tiled loss are IEEE float32 '
             'whatever these say); load average before / after: '
             f'{result["load_before"]} / {result["load_after"]}.', '',
             f'B = {args.batch_size} image, two views of side×side pixels each, '
             f'{args.dtype} embeddings, D = {args.dim}, τ = 0.07, symmetric, tile_size '
             f'{args.tile_size or "default"}, torch threads {args.threads or "default"}. '
             'Peak = memory above what was held before the call; time = fastest of '
             f'{args.repeats} calls after a warm-up (the least disturbed by other load); '
             'load = highest 1-minute load average seen when a worker of the row started. '
             'mem× = dense peak / tiled peak; time× = tiled time / dense time '
             '(same for SupCon). SupCon (pytorch-metric-learning) runs on the labelled '
             'pixels of both views as one bag, i.e. a (2N)² matrix.', '']
    lines += [f'- {note}' for note in result['notes']]
    show_supcon = 'supcon' in result['variants']
    head = ['formulation', 'mode', 'N/view', 'tiled MiB', 'tiled s', 'dense MiB', 'dense s',
            'mem×', 'time×']
    if show_supcon:
        head += ['SupCon MiB', 'SupCon s', 'mem× SupCon', 'time× SupCon']
    head.append('load')
    lines += ['', '| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for row in result['rows']:
        tiled = row['tiled']
        cells = [row['formulation'], row['mode'], f'{row["size"][0]}² = {row["pixels"]}',
                 _fmt(tiled.get('peak_mib')), _fmt(tiled.get('time_s'), 3)]
        for variant in ('dense', 'supcon')[:1 + show_supcon]:
            other = row[variant]
            if 'skipped' in other or 'error' in other:
                cells += [other.get('skipped') or f'failed: {other["error"]}', '–', '–',
                          '–']
                continue
            cells += [_fmt(other['peak_mib']), _fmt(other['time_s'], 3),
                      _fmt(_ratio(other, tiled, 'peak_mib')),
                      _fmt(_ratio(tiled, other, 'time_s'), 2)]
        loads = [row[v]['load'] for v in result['variants'] if 'load' in row[v]]
        cells.append(_fmt(max(loads, default=None), 2))
        lines.append('| ' + ' | '.join(cells) + ' |')
    for row in result['big']:
        tiled = row['tiled']
        needs = ', '.join(f'{k[:-9]} ~{v / 1024:.1f} GiB' for k, v in row.items()
                          if k.endswith('_need_mib'))
        lines += ['', f'Large crop ({row["formulation"]}, {row["mode"]}): two views of '
                  f'{row["size"][0]}×{row["size"][1]} = {row["pixels"]} pixels each. '
                  f'Tiled: peak {_fmt(tiled.get("peak_mib"))} MiB, '
                  f'{_fmt(tiled.get("time_s"), 1)} s'
                  f'{" (" + tiled["error"] + ")" if "error" in tiled else ""}. '
                  f'Available: {row["available_mib"] / 1024:.1f} GiB. Dense forms, '
                  'extrapolated from their peak per N² at the largest size they ran: '
                  f'{needs or "not measured"}; one N×N float32 matrix alone is '
                  f'{row["pixels"]**2 * 4 / 2**30:.1f} GiB.']
    return '\n'.join(lines) + '\n'


def main() -> None:
    args = parse_args()
    if args.worker:
        print(json.dumps(run_worker(json.loads(args.worker))))
        return
    import torch

    from mmseg_pixcon.utils.benchmark_report import (device_name, load_average,
                                                     matmul_precision, write_report)
    command = 'python ' + ' '.join(shlex.quote(a) for a in ['tools/benchmark_loss.py']
                                   + sys.argv[1:])
    result = dict(command=command, device=device_name(args.device), torch=torch.__version__,
                  fp32_precision=matmul_precision(), date=time.strftime('%Y-%m-%d %H:%M'),
                  args=vars(args), load_before=load_average())
    result.update(measure(args))
    result['load_after'] = load_average()
    write_report(to_markdown(args, result), result, args.out)


if __name__ == '__main__':
    main()
