"""Time a stage-1 (pixel contrastive) training step against a CE step on the same 2B images.

Measures seconds per ``model.train_step`` (and a breakdown of the parts that differ) on CPU or
one GPU (``--device cuda``); writes a markdown table and its JSON with the command.

Stage 1 forwards 2B images per batch of B: each image I and its distorted view Î. The fair
reference is the same architecture trained with the stock classifier and cross-entropy on the
same 2B images: the CE config's model with ``PixConDataPreProcessor(num_views=2, distort={})``
(Î an exact copy of I, so no distortion cost) and no auxiliary head (stage 1 has none). The
only differences left are the distortion, the projection head instead of the 1×1 classifier,
and the contrastive loss instead of CE.

Every model runs the full ``model.train_step`` (preprocessor, forward, loss, backward, SGD
step) on the same cached batches of the synthetic set (the config's train pipeline). After a
warm-up, the models take turns iteration by iteration (the starting model rotates each round),
so slow phases of a shared machine hit them alike; the table gives the median and mean seconds
per iteration and their ratio to the CE reference. A breakdown times, on one batch, the parts
that differ: the preprocessor (stage 1: with the distortion), the head's output layer
(``cls_seg``: projection head or classifier) and the loss (``loss_by_feat``), each forward +
backward. If the headline ratio exceeds ``--limit``, the top operators of both iterations
(torch.profiler) are appended.

Usage::

    python tools/benchmark_train.py --out benchmarks/train_overhead_cpu
    python tools/benchmark_train.py --device cuda --iters 30 --out benchmarks/train_overhead_cuda
"""
import argparse
import ast
import contextlib
import copy
import inspect
import os
import platform
import random
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple, TypeVar

import numpy as np
import torch
from torch import Tensor

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mmengine.config import Config  # noqa: E402
from mmengine.dataset import pseudo_collate  # noqa: E402
from mmengine.logging import MMLogger  # noqa: E402
from mmengine.optim import build_optim_wrapper  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmseg.registry import DATASETS, MODELS  # noqa: E402

import mmseg_pixcon  # noqa: E402,F401  (registers the plugin's modules)
from mmseg_pixcon.datasets import generate_cityscapes  # noqa: E402
from mmseg_pixcon.models.losses import PixelContrastLoss  # noqa: E402
from mmseg_pixcon.utils.benchmark_report import (device_name, load_average,  # noqa: E402
                                                 matmul_precision, median_time, synchronizer,
                                                 timed, write_report)

T = TypeVar('T')
CONFIGS = REPO / 'configs/pixcon/synthetic'
REFERENCE = 'ce_2b'
STOCK = 'stock_ce'


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--pretrain-config',
                        default=str(CONFIGS / 'deeplabv3plus_r18_syncity_pretrain.py'))
    parser.add_argument('--ce-config', default=str(CONFIGS / 'deeplabv3plus_r18_syncity_ce.py'))
    parser.add_argument('--batch-sizes', type=int, nargs='+', default=[4],
                        help='B, images per batch before the second view')
    parser.add_argument('--variants', nargs='+', default=['cross:paper'],
                        help='stage-1 models as MODE:FORMULATION[:KEY=VALUE...]: the loss '
                        "mode and formulation, then PixelContrastLoss or ContrastHead "
                        "arguments (e.g. cross:paper:max_pixels_per_image=1024, "
                        "cross:paper:loss_resolution=(16,32)); the first is the headline and "
                        'runs at every batch size, the others at the first batch size only')
    parser.add_argument('--loss-variants', nargs='*', default=[],
                        help='MODE:FORMULATION[:KEY=VALUE...] with PixelContrastLoss arguments '
                        "only, timed as the loss alone (forward + backward) on the headline "
                        "model's embeddings of one batch, at the first batch size: for "
                        'losses too slow to run full steps of')
    parser.add_argument('--iters', type=int, default=10, help='timed iterations per model')
    parser.add_argument('--warmup', type=int, default=2, help='untimed iterations per model')
    parser.add_argument('--num-batches', type=int, default=2,
                        help='distinct cached batches, cycled')
    parser.add_argument('--breakdown-repeats', type=int, default=5)
    parser.add_argument('--no-stock', action='store_true',
                        help='skip the stock CE column (B images, auxiliary head)')
    parser.add_argument('--threads', type=int, default=None,
                        help='torch CPU threads (default: all cores available)')
    parser.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    parser.add_argument('--limit', type=float, default=1.25,
                        help='the allowed stage-1 / CE ratio; above it the iterations are '
                        'profiled')
    parser.add_argument('--max-foreign', type=float, default=0.3,
                        help='repeat a measurement (a round of steps, a breakdown) during '
                        'which other processes used more than this many CPU cores')
    parser.add_argument('--retries', type=int, default=10,
                        help='repeats of a measurement at most, then it is kept anyway')
    parser.add_argument('--pause', type=float, default=15,
                        help='seconds to wait before repeating a measurement')
    parser.add_argument('--max-load', type=float, default=1.0,
                        help='wait until the 1-minute load average is below this')
    parser.add_argument('--load-wait', type=float, default=600,
                        help='longest wait in seconds for --max-load (then run anyway)')
    parser.add_argument('--data-root', default=None,
                        help='a synthetic Cityscapes root (default: generated in a temporary '
                        'directory)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--note', action='append', default=[],
                        help='a line added to the report (e.g. the conditions of the run)')
    parser.add_argument('--out', default=None,
                        help='write OUT.md and OUT.json (e.g. benchmarks/train_overhead_cpu)')
    return parser.parse_args(argv)


# ------------------------------------------------------------------------------ models
def parse_variant(text: str) -> Tuple[dict, dict]:
    """'cross:paper:symmetric=False:proj_channels=128' -> the loss overrides
    ``{mode, formulation, symmetric}`` and the head overrides ``{proj_channels}``; a key that
    PixelContrastLoss takes goes to the loss, any other to the head."""
    parts = text.split(':')
    if len(parts) < 2 or not all(parts) or any('=' not in p for p in parts[2:]):
        raise ValueError('a variant is MODE:FORMULATION[:KEY=VALUE...] (e.g. cross:paper), '
                         f'got {text!r}')
    loss_keys = inspect.signature(PixelContrastLoss).parameters
    loss, head = dict(mode=parts[0], formulation=parts[1]), {}
    for item in parts[2:]:
        key, value = item.split('=', 1)
        try:
            value = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            pass  # a bare word is a string
        (loss if key in loss_keys else head)[key] = value
    return loss, head


def model_configs(args: argparse.Namespace) -> Tuple[Dict[str, dict], Config]:
    """Name -> model config: the CE reference on 2B images, one stage-1 model per variant and
    (unless --no-stock) the stock CE model on B images. Also returns the pretrain config."""
    pretrain = Config.fromfile(args.pretrain_config)
    ce = Config.fromfile(args.ce_config)
    reference = copy.deepcopy(ce.model)
    reference.data_preprocessor = dict(reference.data_preprocessor,
                                       type='PixConDataPreProcessor', num_views=2, distort={})
    reference.auxiliary_head = None
    models = {REFERENCE: reference}
    for variant in args.variants:
        loss, head = parse_variant(variant)
        stage1 = copy.deepcopy(pretrain.model)
        stage1.decode_head.update(head)
        stage1.decode_head.loss_decode.update(loss)
        models[f'stage1 {variant}'] = stage1
    if not args.no_stock:
        models[STOCK] = copy.deepcopy(ce.model)
    return models, pretrain


def build_model(cfg: dict, optim_cfg: dict, device: str, seed: int):
    """The model in train mode on ``device`` and its optimizer wrapper, weights seeded."""
    torch.manual_seed(seed)
    model = MODELS.build(cfg)
    model.init_weights()
    model.to(device).train()
    return model, build_optim_wrapper(model, copy.deepcopy(optim_cfg))


# -------------------------------------------------------------------------------- data
def make_batches(cfg: Config, data_root: str, batch_size: int, num_batches: int,
                 seed: int) -> List[dict]:
    """``num_batches`` collated batches of ``batch_size`` samples through the config's train
    pipeline (random resize/crop/flip/photometric, seeded), cached so every model sees the same
    inputs."""
    random.seed(seed)
    np.random.seed(seed)
    dataset_cfg = copy.deepcopy(cfg.train_dataloader.dataset)
    dataset_cfg.data_root = data_root
    dataset = DATASETS.build(dataset_cfg)
    needed = batch_size * num_batches
    if len(dataset) < needed:
        raise ValueError(f'{data_root} has {len(dataset)} training images, {needed} needed')
    return [pseudo_collate([dataset[i * batch_size + j] for j in range(batch_size)])
            for i in range(num_batches)]


def synthetic_root(args: argparse.Namespace) -> str:
    """--data-root, or a fresh synthetic Cityscapes set with just enough training images."""
    if args.data_root:
        return args.data_root
    root = tempfile.mkdtemp(prefix='bench_syncity_')
    generate_cityscapes(root, seed=args.seed, num_train=max(args.batch_sizes) * args.num_batches,
                        num_val=0)
    return root


# ------------------------------------------------------------------------------ timing
def other_cpu_seconds() -> float:
    """CPU seconds that all processes but this one have used since boot: the busy time in
    /proc/stat (user, nice, system, irq, softirq, steal) minus this process's own."""
    with open('/proc/stat') as f:
        ticks = [int(x) for x in f.readline().split()[1:9]]
    busy = sum(ticks[:3]) + sum(ticks[5:8])
    return busy / os.sysconf('SC_CLK_TCK') - sum(os.times()[:2])


class Quiet:
    """Runs a measurement again while other processes took more than ``max_foreign`` cores
    on average during it (the load of a shared machine inflates the timings, and unevenly).

    Args:
        max_foreign: the CPU cores other processes may use during a measurement.
        retries: attempts after the first; the last one is kept whatever the load.
        pause: seconds to wait before an attempt again.
    """

    def __init__(self, max_foreign: float, retries: int, pause: float) -> None:
        self.max_foreign, self.retries, self.pause = max_foreign, retries, pause
        self.discarded = 0

    def __call__(self, fn: Callable[[], T], what: str) -> Tuple[T, float]:
        """``fn()`` and the cores other processes used on average while it ran."""
        for attempt in range(self.retries + 1):
            other, start = other_cpu_seconds(), time.perf_counter()
            result = fn()
            foreign = (other_cpu_seconds() - other) / (time.perf_counter() - start)
            if foreign <= self.max_foreign or attempt == self.retries:
                return result, round(foreign, 2)
            self.discarded += 1
            print(f'  {what}: other processes used {foreign:.2f} cores, again in '
                  f'{self.pause:.0f} s', flush=True)
            time.sleep(self.pause)


def time_iterations(models: Dict[str, tuple], batches: List[dict], iters: int, warmup: int,
                    sync: Callable[[], None],
                    quiet: Quiet) -> Tuple[Dict[str, List[float]], List[float]]:
    """Seconds per ``train_step`` of each model (models take turns, the first one rotating,
    a round repeated while the machine was busy), and the cores other processes used during
    each kept round."""
    names = list(models)

    def step(name: str, batch: dict) -> None:
        models[name][0].train_step(batch, models[name][1])

    for name in names:
        for i in range(warmup):
            step(name, batches[i % len(batches)])
    times: Dict[str, List[float]] = {name: [] for name in names}
    foreign: List[float] = []
    for i in range(iters):
        batch = batches[i % len(batches)]
        order = names[i % len(names):] + names[:i % len(names)]
        round_times, other = quiet(
            lambda: {name: timed(lambda: step(name, batch), sync) for name in order},
            f'round {i + 1}')
        for name in names:
            times[name].append(round_times[name])
        foreign.append(other)
        print(f'  round {i + 1}/{iters} (other processes: {other} cores): ' +
              ', '.join(f'{n} {times[n][-1]:.3f}' for n in names), flush=True)
    return times, foreign


def head_inputs(model, batch: dict) -> Tuple[Tensor, Tensor, dict]:
    """One forward without grad: the decoder features entering ``conv_seg`` (N, C, h, w) and
    the head output (N, K or D, h, w) — a ContrastHead's at its loss resolution, as in
    training — both leaves that require grad, and the preprocessed batch."""
    head = model.decode_head
    data = model.data_preprocessor(batch, True)
    features = []
    hook = head.conv_seg.register_forward_pre_hook(lambda _, inputs: features.append(inputs[0]))
    # A ContrastHead projects at its loss resolution in training: measure that grid.
    grid = getattr(head, 'projecting_at_loss_resolution', contextlib.nullcontext)
    with torch.no_grad(), grid():
        logits = head(model.extract_feat(data['inputs']))
    hook.remove()
    return features[0].detach().requires_grad_(), logits.detach().requires_grad_(), data


def loss_time(head, logits: Tensor, samples: list, repeats: int,
              sync: Callable[[], None]) -> float:
    """Median seconds of the head's ``loss_by_feat`` forward + backward."""
    def loss():
        losses = head.loss_by_feat(logits, samples)
        sum(v for k, v in losses.items() if 'loss' in k).backward()  # not the anchor count
    return median_time(loss, repeats, sync)


def breakdown(model, batch: dict, repeats: int, sync: Callable[[], None]) -> Dict:
    """Median seconds of the parts that differ between the models, on one batch:
    ``preprocess`` (the data preprocessor, distortion included), ``output_layer`` (the head's
    ``cls_seg`` forward + backward on its decoder features) and ``loss`` (the head's
    ``loss_by_feat`` forward + backward on its output)."""
    head = model.decode_head
    feature, logits, data = head_inputs(model, batch)
    result = dict(
        preprocess=median_time(lambda: model.data_preprocessor(batch, True), repeats, sync),
        output_layer=median_time(lambda: head.cls_seg(feature).sum().backward(), repeats, sync),
        loss=loss_time(head, logits, data['data_samples'], repeats, sync),
        input_shape=list(data['inputs'].shape), embedding_shape=list(logits.shape))
    model.zero_grad(set_to_none=True)
    return result


def loss_variant_times(model, loss_cfg: dict, variants: List[str], batch: dict, repeats: int,
                       sync: Callable[[], None]) -> Dict[str, float]:
    """Median seconds of the loss forward + backward of each loss-only variant, on the
    embeddings ``model`` makes of one batch (its head's loss swapped for the variant's)."""
    head = model.decode_head
    own_loss = head.loss_decode
    _, logits, data = head_inputs(model, batch)
    times = {}
    try:
        for variant in variants:
            loss, head_keys = parse_variant(variant)
            if head_keys:
                raise ValueError(f'--loss-variants take PixelContrastLoss arguments only, got '
                                 f'{sorted(head_keys)} in {variant!r}')
            head.loss_decode = MODELS.build(dict(loss_cfg, **loss))
            times[variant] = loss_time(head, logits, data['data_samples'], repeats, sync)
            print(f'  loss alone, {variant}: {times[variant]:.3f} s', flush=True)
    finally:
        head.loss_decode = own_loss
    return times


def profile_step(model, optim_wrapper, batch: dict, top: int) -> List[Dict]:
    """Top operators by self time (device time for a CUDA model) of one ``train_step``."""
    from torch.profiler import ProfilerActivity, profile
    cuda = next(model.parameters()).is_cuda
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    with profile(activities=activities) as prof:
        model.train_step(batch, optim_wrapper)
    key = 'self_device_time_total' if cuda else 'self_cpu_time_total'
    events = sorted(prof.key_averages(), key=lambda e: getattr(e, key), reverse=True)
    total = sum(getattr(e, key) for e in events)
    return [dict(name=e.key, calls=e.count, self_s=getattr(e, key) / 1e6,
                 share=getattr(e, key) / total) for e in events[:top]]


# ----------------------------------------------------------------------------- machine
def wait_for_load(max_load: float, max_wait: float) -> float:
    """Sleeps until the 1-minute load average is below ``max_load`` or ``max_wait`` seconds
    passed; returns the seconds waited."""
    start = time.monotonic()
    while os.getloadavg()[0] >= max_load and time.monotonic() - start < max_wait:
        print(f'load {load_average()} >= {max_load}: waiting', flush=True)
        time.sleep(min(30.0, max(1.0, max_wait - (time.monotonic() - start))))
    return time.monotonic() - start


def machine(device: str) -> Dict:
    info = dict(cpu=device_name('cpu'), threads=torch.get_num_threads(),
                torch=torch.__version__, python=platform.python_version(),
                fp32_precision=matmul_precision())
    if device == 'cuda':
        info['gpu'] = device_name('cuda')
    return info


# ------------------------------------------------------------------------------ report
def summarize(times: Dict[str, List[float]]) -> Dict[str, Dict]:
    """Median and mean s/iter, their ratios to the reference, and the median of the per-round
    ratios (paired: a round's steps ran back to back, under about the same load)."""
    ref = times[REFERENCE]
    return {name: dict(median_s=statistics.median(t), mean_s=statistics.mean(t),
                       ratio_median=statistics.median(t) / statistics.median(ref),
                       ratio_mean=statistics.mean(t) / statistics.mean(ref),
                       ratio_paired=statistics.median([a / b for a, b in zip(t, ref)]),
                       times_s=t)
            for name, t in times.items()}


def describe(name: str) -> str:
    if name == REFERENCE:
        return '2B images (Î = exact copy), stock classifier + CE, no aux head'
    if name == STOCK:
        return 'the stock CE config: B images, CE + FCN auxiliary head'
    return '2B images (I, distorted Î), ContrastHead + PixelContrastLoss'


def to_markdown(result: Dict) -> str:
    limit = result['args']['limit']
    m = result['machine']
    lines = [
        '# Training-iteration overhead: stage 1 vs CE on the same 2B images', '',
        f'Command: `{result["command"]}`', '',
        f'Machine: {m["cpu"]}, torch threads {m["threads"]}'
        + (f', GPU {m["gpu"]}' if 'gpu' in m else '') + f'; torch {m["torch"]}, '
        f'device {result["args"]["device"]}; float32 precision {m["fp32_precision"]} (the '
        'loss\'s matmuls are IEEE float32 whatever these say). Load average (1/5/15 min) at start '
        f'{result["load_start"]}, at end {result["load_end"]}'
        + (f' (waited {result["load_waited_s"]:.0f} s for the 1-min load to fall below '
           f'{result["args"]["max_load"]}'
           + ('' if result['load_start'][0] < result['args']['max_load'] else '; it did not')
           + ')' if result['load_waited_s'] >= 1 else '') + '. '
        f'Date: {result["date"]}.', '',
        f'Each model runs {result["args"]["iters"]} timed `train_step`s (after '
        f'{result["args"]["warmup"]} warm-up steps) on {result["args"]["num_batches"]} cached '
        'batches of the synthetic Cityscapes set through the config\'s train pipeline, '
        'the models taking turns. Ratio = model / CE 2B reference, of the median and of the '
        'mean s/iter; paired = the median over rounds of the per-round ratio. '
        f'Stage-1 loss of the config: `{result["loss_config"]}` (its other arguments at their '
        'defaults), projected and computed at `loss_resolution='
        f'{result.get("loss_resolution")}` (None: the decoder grid); a variant '
        'MODE:FORMULATION[:KEY=VALUE...] overrides it. A round or a '
        'breakdown during which other processes used more than '
        f'{result["args"]["max_foreign"]} CPU cores was measured again (up to '
        f'{result["args"]["retries"]} repeats; {result["discarded_measurements"]} measurements '
        'discarded in this run).', '']
    lines += [f'- {note}' for note in result['args']['note']] + [''] * bool(result['args']['note'])
    for run in result['runs']:
        b = run['batch_size']
        headline = run['headline']
        ratio = run['summary'][headline]['ratio_median']
        verdict = 'within' if ratio <= limit else 'ABOVE'
        shape = run['breakdown'][REFERENCE]['input_shape']
        lines += [f'## B = {b} ({2 * b} images forwarded per step)', '',
                  f'Input batch after the preprocessor: {shape[0]}×{shape[1]}×{shape[2]}×'
                  f'{shape[3]}.', '',
                  'CPU cores used by other processes during each kept round: '
                  f'{run["round_other_cores"]}.', '',
                  f'Headline: **{headline} / CE 2B = {ratio:.3f}** (median; mean '
                  f'{run["summary"][headline]["ratio_mean"]:.3f}), {verdict} the limit '
                  f'{limit}.', '',
                  '| model | what it trains | median s/iter | mean s/iter | ratio (median) '
                  '| ratio (mean) | ratio (paired) |', '|---|---|---|---|---|---|---|']
        for name, s in run['summary'].items():
            lines.append(f'| {name} | {describe(name)} | {s["median_s"]:.3f} | '
                         f'{s["mean_s"]:.3f} | {s["ratio_median"]:.3f} | '
                         f'{s["ratio_mean"]:.3f} | {s["ratio_paired"]:.3f} |')
        lines += ['', 'Breakdown (median s on one batch; forward + backward where it applies; '
                  'embeddings/logits shape in brackets):', '',
                  '| model | preprocess | output layer (`cls_seg`) | loss (`loss_by_feat`) '
                  '| Δ parts vs CE 2B | Δ iteration vs CE 2B | other cores |',
                  '|---|---|---|---|---|---|---|']
        ref = run['breakdown'][REFERENCE]
        parts = ('preprocess', 'output_layer', 'loss')
        for name, part in run['breakdown'].items():
            delta_parts = sum(part[k] - ref[k] for k in parts)
            delta_iter = run['summary'][name]['median_s'] - run['summary'][REFERENCE]['median_s']
            lines.append(f'| {name} | {part["preprocess"]:.4f} | {part["output_layer"]:.4f} | '
                         f'{part["loss"]:.4f} {part["embedding_shape"]} | {delta_parts:+.4f} | '
                         f'{delta_iter:+.4f} | {part["other_cores"]} |')
        if run.get('loss_variants'):
            lines += ['', 'Loss alone (`loss_by_feat` forward + backward, median s) on the '
                      f'embeddings of {headline} for one batch; est. ratio = (CE 2B step + '
                      f'Δ iteration of {headline} − its loss + this loss) / CE 2B step, an '
                      'estimate, not a measured step:', '',
                      '| loss | s | × headline loss | est. ratio |', '|---|---|---|---|']
            head_loss = run['breakdown'][headline]['loss']
            ref_step = run['summary'][REFERENCE]['median_s']
            head_step = run['summary'][headline]['median_s']
            for variant, seconds in run['loss_variants'].items():
                lines.append(f'| {variant} | {seconds:.4f} | {seconds / head_loss:.2f} | '
                             f'{(head_step - head_loss + seconds) / ref_step:.3f} |')
        if run.get('profile'):
            for name, ops in run['profile'].items():
                lines += ['', f'Top operators of one `train_step` of {name} (self time, '
                          'torch.profiler):', '', '| op | calls | self s | share |',
                          '|---|---|---|---|']
                lines += [f'| `{op["name"]}` | {op["calls"]} | {op["self_s"]:.4f} | '
                          f'{100 * op["share"]:.1f} % |' for op in ops]
        lines.append('')
    return '\n'.join(lines) + '\n'


# -------------------------------------------------------------------------------- main
def run_batch_size(args: argparse.Namespace, cfgs: Dict[str, dict], pretrain: Config,
                   data_root: str, batch_size: int, quiet: Quiet) -> Dict:
    """Times, breakdown and (above the limit) profile of the models at one batch size."""
    sync = synchronizer(args.device)
    batches = make_batches(pretrain, data_root, batch_size, args.num_batches, args.seed)
    headline = f'stage1 {args.variants[0]}'
    if batch_size != args.batch_sizes[0]:
        cfgs = {name: cfg for name, cfg in cfgs.items() if name in (REFERENCE, headline, STOCK)}
    models = {name: build_model(cfg, pretrain.optim_wrapper, args.device, args.seed)
              for name, cfg in cfgs.items()}
    print(f'B = {batch_size}: timing {list(models)}', flush=True)
    times, foreign = time_iterations(models, batches, args.iters, args.warmup, sync, quiet)
    summary = summarize(times)
    parts = {}
    for name, (model, _) in models.items():
        if name != STOCK:
            parts[name], other = quiet(
                lambda: breakdown(model, batches[0], args.breakdown_repeats, sync),
                f'breakdown of {name}')
            parts[name]['other_cores'] = other
    run = dict(batch_size=batch_size, headline=headline, summary=summary, breakdown=parts,
               round_other_cores=foreign)
    if batch_size == args.batch_sizes[0] and args.loss_variants:
        loss_cfg = cfgs[headline].decode_head.loss_decode
        run['loss_variants'], run['loss_variants_other_cores'] = quiet(
            lambda: loss_variant_times(models[headline][0], loss_cfg, args.loss_variants,
                                       batches[0], args.breakdown_repeats, sync),
            'loss variants')
    if summary[headline]['ratio_median'] > args.limit:
        run['profile'] = {name: profile_step(*models[name], batches[0], top=15)
                          for name in (headline, REFERENCE)}
    return run


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads or len(os.sched_getaffinity(0)))
    init_default_scope('mmseg')
    # The current logger, at WARNING: init_weights would log every parameter of every model.
    MMLogger.get_instance('benchmark_train', log_level='WARNING')
    cfgs, pretrain = model_configs(args)
    data_root = synthetic_root(args)
    command = 'python ' + ' '.join(shlex.quote(a) for a in ['tools/benchmark_train.py']
                                   + sys.argv[1:])
    waited = wait_for_load(args.max_load, args.load_wait)
    result = dict(command=command, machine=machine(args.device), args=vars(args),
                  date=time.strftime('%Y-%m-%d %H:%M'), load_start=load_average(),
                  load_waited_s=waited,
                  loss_config=pretrain.model.decode_head.loss_decode.to_dict(),
                  loss_resolution=pretrain.model.decode_head.get('loss_resolution'))
    quiet = Quiet(args.max_foreign, args.retries, args.pause)
    result['runs'] = [run_batch_size(args, cfgs, pretrain, data_root, b, quiet)
                      for b in args.batch_sizes]
    result.update(load_end=load_average(), discarded_measurements=quiet.discarded)
    write_report(to_markdown(result), result, args.out)


if __name__ == '__main__':
    main()
