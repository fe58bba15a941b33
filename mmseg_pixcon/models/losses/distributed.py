"""The global batch of :class:`PixelContrastLoss` under a distributed launch: the share logic.

Each process holds its own images; modes 'cross' and 'batch' contrast against every image. Here,
and only here, the batch is gathered (in rank order, with gradients flowing back to the process
that owns each image) and each process's part of it named: the formulations score the anchors of
``own`` against the contrast sets of ``batch`` (:mod:`.views`) and know nothing of processes.
Also the small collectives: input statistics of every process, rank 0's partners, the sum of the
logged values. Without a process group :func:`world` is (0, 1) and nothing else is called.
"""
from typing import List, Tuple

import torch
import torch.distributed as torch_dist
from mmengine import dist
from torch import Tensor
from torch.autograd.function import FunctionCtx

from .views import View, Views


def world() -> Tuple[int, int]:
    """(rank, world size) of the default process group; (0, 1) without one."""
    return dist.get_rank(), dist.get_world_size()


class _AllGather(torch.autograd.Function):
    """Every rank's (B, ...) tensor, concatenated in rank order: (W·B, ...).

    Forward is one ``all_gather_into_tensor`` straight into the output. Each rank's loss depends
    on every rank's pixels, so the gradient of rank r's slot is the sum of all ranks' gradients
    for it: backward is one ``reduce_scatter_tensor``, which sums and hands each rank only its
    own slot (W times less to receive than an all-reduce of the whole gathered gradient).
    torch 2.13 names the two ``all_gather_single`` and ``reduce_scatter_single``.
    """

    @staticmethod
    def forward(ctx: FunctionCtx, tensor: Tensor) -> Tensor:
        tensor = tensor.contiguous()
        out = tensor.new_empty((torch_dist.get_world_size() * tensor.shape[0],
                                *tensor.shape[1:]))
        torch_dist.all_gather_single(out, tensor)
        return out

    @staticmethod
    def backward(ctx: FunctionCtx, grad: Tensor) -> Tensor:
        grad = grad.contiguous()
        own = grad.new_empty((grad.shape[0] // torch_dist.get_world_size(), *grad.shape[1:]))
        torch_dist.reduce_scatter_single(own, grad)
        return own


def gather_batch(tensor: Tensor, batch_sizes: List[int]) -> Tensor:
    """The global batch: every rank's (B_r, ...) tensor, concatenated in rank order.

    Differentiable (see :class:`_AllGather`). Ranks may hold different batch sizes (padded for
    the collective, which needs one shape); every other dimension must agree.

    Args:
        tensor: (B_r, ...) this rank's part.
        batch_sizes: B_r of every rank.

    Returns:
        (Σ B_r, ...).
    """
    largest = max(batch_sizes)
    if min(batch_sizes) == largest:  # the usual case: no padding, no copy
        return _AllGather.apply(tensor)
    padding = tensor.new_zeros((largest - tensor.shape[0], *tensor.shape[1:]))
    slots = _AllGather.apply(torch.cat((tensor, padding))).unflatten(0, (-1, largest))
    return torch.cat([slot[:size] for slot, size in zip(slots, batch_sizes)])


def gather_views(views: Views, batch_sizes: List[int], rank: int) -> Tuple[Views, slice]:
    """The global batch of both views, and where this rank's images sit in it.

    Args:
        views: this rank's views, (B_r, N, D) and (B_r, N), no partners yet.
        batch_sizes: B_r of every rank.
        rank: this process's rank.

    Returns:
        The batch (Σ B_r images) and the slice of rank ``rank``'s images: its anchors are
        taken from there (``batch.part``), so their gradients flow back through the gather
        like those of every other use of its pixels.
    """
    feats = gather_batch(torch.stack((views.image.feats, views.distorted.feats), 1),
                         batch_sizes)
    labels = gather_batch(torch.stack((views.image.labels, views.distorted.labels), 1),
                          batch_sizes)
    batch = Views(View(feats[:, 0], labels[:, 0]), View(feats[:, 1], labels[:, 1]))
    start = sum(batch_sizes[:rank])
    return batch, slice(start, start + batch_sizes[rank])


def gather_rows(row: Tensor) -> Tensor:
    """Every rank's (K,) tensor, stacked: (W, K), no gradient."""
    return torch.stack(dist.all_gather(row))


def broadcast_from_first(tensor: Tensor) -> None:
    """Puts rank 0's value of ``tensor`` into ``tensor`` on every rank (in place)."""
    dist.broadcast(tensor, src=0)


def sum_over_processes(tensor: Tensor) -> Tensor:
    """The sum of every rank's ``tensor``, detached (for logging)."""
    total = tensor.detach().clone()
    dist.all_reduce(total)
    return total


__all__ = ['world', 'gather_batch', 'gather_views', 'gather_rows', 'broadcast_from_first',
           'sum_over_processes']
