"""The global batch of :class:`PixelContrastLoss` under a distributed launch.

Each process holds its own images; the cross-image and batch modes need every image. These
helpers gather them, in rank order, with gradients flowing back to the process that owns each
image, and bring every process the same random partners. They do nothing useful without a
process group: callers ask :func:`world` first.
"""
from typing import List, Tuple

import torch
import torch.distributed as torch_dist
from mmengine import dist
from torch import Tensor
from torch.autograd.function import FunctionCtx


def world() -> Tuple[int, int]:
    """(rank, world size) of the default process group; (0, 1) without one."""
    return dist.get_rank(), dist.get_world_size()


class _AllGather(torch.autograd.Function):
    """Stack of every rank's tensor, (W, ...); backward sums each slot's gradient over ranks.

    Each rank's loss depends on every rank's pixels, so the gradient of slot r is the sum of
    all ranks' gradients for it. ``torch.distributed.nn.functional.all_gather`` does the same
    but is deprecated in recent torch (a FutureWarning pointing to a private API); backward
    here is an all_reduce, which every backend supports.
    """

    @staticmethod
    def forward(ctx: FunctionCtx, tensor: Tensor) -> Tensor:
        tensor = tensor.contiguous()
        stacked = tensor.new_empty((torch_dist.get_world_size(), *tensor.shape))
        torch_dist.all_gather(list(stacked.unbind(0)), tensor)  # straight into the slots
        ctx.rank = torch_dist.get_rank()
        return stacked

    @staticmethod
    def backward(ctx: FunctionCtx, grad: Tensor) -> Tensor:
        grad = grad.clone(memory_format=torch.contiguous_format)
        torch_dist.all_reduce(grad)
        return grad[ctx.rank]


def gather_batch(tensor: Tensor, batch_sizes: List[int]) -> Tensor:
    """The global batch: every rank's (B_r, ...) tensor, concatenated in rank order.

    Differentiable: the gradient of rank r's slice is summed over all ranks and returned to
    rank r. Ranks may hold different batch sizes (padded for the collective, which needs one
    shape); every other dimension must agree.

    Args:
        tensor: (B_r, ...) this rank's part.
        batch_sizes: B_r of every rank.

    Returns:
        (Σ B_r, ...).
    """
    largest = max(batch_sizes)
    if min(batch_sizes) == largest:  # the usual case: no padding, and a view, not a copy
        return _AllGather.apply(tensor).flatten(0, 1)
    padding = tensor.new_zeros((largest - tensor.shape[0], *tensor.shape[1:]))
    slots = _AllGather.apply(torch.cat((tensor, padding)))
    return torch.cat([slot[:size] for slot, size in zip(slots, batch_sizes)])


def gather_rows(row: Tensor) -> Tensor:
    """Every rank's (K,) tensor, stacked: (W, K), no gradient."""
    return torch.stack(dist.all_gather(row))


def broadcast_from_first(tensor: Tensor) -> Tensor:
    """Rank 0's value of ``tensor`` on every rank (in place; returned for chaining)."""
    dist.broadcast(tensor, src=0)
    return tensor


def own_slice(batch_sizes: List[int], rank: int) -> slice:
    """Where this rank's images sit in the global batch of :func:`gather_batch`."""
    start = sum(batch_sizes[:rank])
    return slice(start, start + batch_sizes[rank])


__all__ = ['world', 'gather_batch', 'gather_rows', 'broadcast_from_first', 'own_slice']
