"""Bad input to :class:`PixelContrastLoss` gets a clear ValueError, on every process together.

Two kinds of checks. Types, dtypes, devices and shapes are known on the host
(:func:`input_problem`). Finiteness, label values and the size of the logits need the data: they
are reduced on the device into one small int64 row (:func:`local_stats`), read with the loss's
single host synchronisation. Under a distributed launch every process gathers every process's
row — a host-side problem travels in it as text — and checks them all (:func:`check_rows`), so
all processes raise the same error together instead of one raising while the others wait in a
collective until a timeout.
"""
from typing import List, NamedTuple, Optional, Sequence

import torch
from torch import Tensor

_INTEGER_DTYPES = (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)
_STATS = ('finite', 'bad_label', 'max_label', 'too_large', 'batch', 'channels', 'height',
          'width')
_MESSAGE_BYTES = 256
# |logit| <= |f|²/τ. Below this bound the float32 sums of the kernels (up to ~1e8 terms, their
# gradients divided by τ once more) stay far from float32's 3.4e38.
LOGIT_LIMIT = 1e20


def input_problem(feats: object, labels: object, feats_aug: object,
                  labels_aug: object) -> Optional[str]:
    """What is wrong with the inputs' types and shapes (no device work), or None."""
    for name, x in (('feats', feats), ('feats_aug', feats_aug)):
        if not isinstance(x, Tensor) or not x.is_floating_point():
            return f'{name} must be a floating-point tensor, got {getattr(x, "dtype", type(x))}'
        if x.dim() != 4 or x.numel() == 0:
            return f'{name} must be a non-empty (B, D, H, W), got shape {tuple(x.shape)}'
    if feats.shape != feats_aug.shape or feats.dtype != feats_aug.dtype \
            or feats.device != feats_aug.device:
        return (f'feats {tuple(feats.shape)} {feats.dtype} {feats.device} and feats_aug '
                f'{tuple(feats_aug.shape)} {feats_aug.dtype} {feats_aug.device} must match')
    for name, y in (('labels', labels), ('labels_aug', labels_aug)):
        if not isinstance(y, Tensor) or y.dtype not in _INTEGER_DTYPES:
            return f'{name} must be an integer tensor, got {getattr(y, "dtype", type(y))}'
        if y.dim() != 3 or y.shape[0] != feats.shape[0]:
            return (f'{name} must be (B, H, W) with B = {feats.shape[0]}, got shape '
                    f'{tuple(y.shape)}')
        if y.shape[1] < feats.shape[2] or y.shape[2] < feats.shape[3]:
            return (f'{name} of spatial size {tuple(y.shape[1:])} are smaller than the '
                    f'embeddings {tuple(feats.shape[2:])}')
        if y.device != feats.device:
            return f'{name} are on {y.device}, the embeddings on {feats.device}'
    return None


def local_stats(feats: Tensor, feats_aug: Tensor, labels: Tensor, labels_aug: Tensor,
                ignore_index: int, temperature: float) -> Tensor:
    """What :func:`check_rows` needs of this process, as one int64 row on the device.

    Args:
        feats, feats_aug: (B, D, h, w) embeddings. labels, labels_aug: (B, h, w) int64.

    Returns:
        (len(_STATS) + _MESSAGE_BYTES,) int64, the message part empty.
    """
    # Norms in float64: a finite float32 value never overflows there, a NaN or Inf anywhere
    # makes its pixel's norm non-finite.
    norms = torch.stack([torch.linalg.vector_norm(x, dim=1, dtype=torch.float64)
                         for x in (feats, feats_aug)])
    all_labels = torch.cat((labels.flatten(), labels_aug.flatten()))
    ignored = all_labels == ignore_index
    # torch.full, not torch.tensor: a fill kernel, where a copy from the host would wait for
    # the device.
    stats = torch.stack((
        norms.isfinite().all().long(), ((all_labels < 0) & ~ignored).any().long(),
        torch.where(ignored, -1, all_labels).max(),
        (norms.amax().square() > LOGIT_LIMIT * temperature).long(),
        *(torch.full((), size, device=feats.device) for size in feats.shape)))
    return torch.cat((stats, stats.new_zeros(_MESSAGE_BYTES)))


def problem_row(message: str, device: torch.device) -> Tensor:
    """The row of a process whose inputs are wrong: no statistics, the message as text."""
    text = list(message.encode()[:_MESSAGE_BYTES])
    row = torch.zeros(len(_STATS) + _MESSAGE_BYTES, dtype=torch.int64)
    row[len(_STATS):len(_STATS) + len(text)] = torch.tensor(text, dtype=torch.int64)
    return row.to(device)


class Checked(NamedTuple):
    """What the rows tell once they pass: every process's batch size, the largest class."""

    batch_sizes: List[int]
    max_label: int


def check_rows(rows: Sequence[Sequence[int]], *, num_classes: Optional[int],
               ignore_index: int, temperature: float, same_shape: bool) -> Checked:
    """Raises the first problem of any process's row (the same on every process).

    Args:
        rows: one row of :func:`local_stats` or :func:`problem_row` per process, in rank
            order.
        num_classes: labels must be below it (None: no bound).
        same_shape: every process must hold embeddings of one (D, H, W) (to be gathered).
    """
    stats = [dict(zip(_STATS, row)) for row in rows]
    for rank, (row, stat) in enumerate(zip(rows, stats)):
        where = f' (rank {rank})' if len(rows) > 1 else ''
        message = bytes(row[len(_STATS):]).rstrip(b'\0').decode(errors='replace')
        if message:
            raise ValueError(message + where)
        if not stat['finite']:
            raise ValueError(f'feats and feats_aug must be finite (found NaN or Inf){where}')
        if stat['bad_label']:
            raise ValueError(f'labels must be non-negative class ids or ignore_index{where}')
        if num_classes is not None and stat['max_label'] >= num_classes:
            raise ValueError(f'labels must be below num_classes={num_classes} (or '
                             f'ignore_index={ignore_index}); found class {stat["max_label"]}'
                             f'{where}')
        if stat['too_large']:
            raise ValueError(f'embeddings too large for temperature {temperature}: '
                             f'|f|²/τ exceeds {LOGIT_LIMIT:.0e}, which the logits cannot '
                             f'reach safely; PixelContrastLoss expects unit-norm embeddings'
                             f'{where}')
    shapes = [(stat['channels'], stat['height'], stat['width']) for stat in stats]
    if same_shape and len(set(shapes)) > 1:
        raise ValueError(f'to gather the global batch every process needs embeddings of one '
                         f'(D, H, W); got {shapes} in rank order')
    return Checked([stat['batch'] for stat in stats],
                   max(stat['max_label'] for stat in stats))
