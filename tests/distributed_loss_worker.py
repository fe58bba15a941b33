"""One process of the two-process gloo group of tests/test_distributed_loss.py.

Each process builds the same global batch (:func:`make_inputs`), keeps its share, computes
PixelContrastLoss and its gradients for every case and saves what it saw for the test to
compare with one process holding the whole batch.
"""
import datetime
import time
from contextlib import nullcontext
from typing import Dict, List

import torch
import torch.distributed as torch_dist
import torch.nn.functional as F
from probes import CountCollectives, LargestTensor

from mmseg_pixcon.models.losses import PixelContrastLoss


def make_inputs(batch_size: int = 4, seed: int = 0, height: int = 4, width: int = 5,
                dim: int = 4, num_classes: int = 4, ignored: float = 0.25) -> List[torch.Tensor]:
    """feats, labels, feats_aug, labels_aug of a global batch, float64.

    Odd images of I have no labelled pixel (one per process when 4 images are split 2 + 2);
    image 2 of Î holds one class only.
    """
    gen = torch.Generator().manual_seed(seed)
    feats, feats_aug = (F.normalize(torch.randn(batch_size, dim, height, width, generator=gen,
                                                dtype=torch.float64), dim=1) for _ in range(2))
    labels, labels_aug = (torch.randint(0, num_classes, (batch_size, height, width),
                                        generator=gen) for _ in range(2))
    for y in (labels, labels_aug):
        y[torch.rand(y.shape, generator=gen) < ignored] = 255
    labels[1::2] = 255
    labels_aug[2:3] = torch.where(labels_aug[2:3] == 255, 255, 3)
    return [feats, labels, feats_aug, labels_aug]


def loss_kwargs(case: dict) -> dict:
    """PixelContrastLoss arguments of a case."""
    return dict(mode=case['mode'], formulation=case['formulation'],
                symmetric=case['symmetric'], partner=case['partner'], temperature=0.2,
                tile_size=case.get('tile_size', 7),
                max_pixels_per_image=case.get('max_pixels'), gather=case.get('gather', True),
                num_classes=case.get('num_classes'))


def own_part(case: dict, rank: int) -> List[torch.Tensor]:
    """This rank's images of the case's global batch (rank 1 spoilt by ``rank1_fault``)."""
    sizes = case['sizes']
    start = sum(sizes[:rank])
    inputs = make_inputs(sum(sizes), **case.get('inputs', {}))
    feats, labels, feats_aug, labels_aug = (x[start:start + sizes[rank]].clone()
                                            for x in inputs)
    if rank == 1 and case.get('rank1_fault') == 'nan':
        feats[0, 0, 0, 0] = float('nan')
    if rank == 1 and case.get('rank1_fault') == 'size':
        feats, feats_aug = feats[..., :-1], feats_aug[..., :-1]
    if rank == 1 and case.get('rank1_fault') == 'dtype':
        labels = labels.float()
    if rank == 1 and case.get('rank1_fault') == 'label':
        labels[0, 0, 0] = 9
    return [feats.requires_grad_(), labels, feats_aug.requires_grad_(), labels_aug]


def run_case(case: dict, rank: int) -> dict:
    """Loss value and gradients of this rank's share, or the ValueError it raised and how
    long that took; with ``items`` also what ContrastHead would log."""
    feats, labels, feats_aug, labels_aug = own_part(case, rank)
    loss = PixelContrastLoss(**loss_kwargs(case))
    # Ranks seed differently: partners must be rank 0's draw, broadcast.
    torch.manual_seed(case['seed'] + rank)
    probe = LargestTensor()
    start = time.perf_counter()
    logged = {}
    try:
        with CountCollectives() as count, probe if case.get('probe') else nullcontext():
            if case.get('items'):
                logged = loss.loss_items(feats, labels, feats_aug, labels_aug)
                value = logged[loss.loss_name]
            else:
                value = loss(feats, labels, feats_aug, labels_aug)
            value.backward()
    except ValueError as error:
        return dict(error=str(error), seconds=time.perf_counter() - start)
    # A view outside the loss (official within, one-way: Î) gets no gradient: zero.
    grads = tuple(torch.zeros_like(x) if x.grad is None else x.grad for x in (feats, feats_aug))
    return dict(value=value.detach(), grads=grads, collectives=count.calls,
                names=count.names, largest=probe.largest,
                logged={name: x.detach() for name, x in logged.items()})


def main(rank: int, world_size: int, init_file: str, cases: Dict[str, dict],
         out_dir: str) -> None:
    """torch.multiprocessing.spawn entry: every case in order, results to rank<r>.pt."""
    torch.set_num_threads(1)  # two processes share the test machine's cores
    torch_dist.init_process_group('gloo', init_method=f'file://{init_file}', rank=rank,
                                  world_size=world_size,
                                  timeout=datetime.timedelta(seconds=60))
    try:
        results = {name: run_case(case, rank) for name, case in cases.items()}
        torch.save(results, f'{out_dir}/rank{rank}.pt')
    finally:
        torch_dist.destroy_process_group()
