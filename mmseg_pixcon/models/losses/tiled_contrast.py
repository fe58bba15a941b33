"""Exact pixel-contrast reductions without the N×N similarity matrix.

This is the kernel layer of :class:`PixelContrastLoss`; it knows nothing about views, images
or partners. Every function works on ``G`` independent bags at once:

- ``anchors``  (G, Na, D) and ``contrast`` (G, Nc, D): float32 or float64 embeddings (callers
  upcast half precision first, so ``exp(1/τ)`` cannot overflow);
- ``anchor_labels`` (G, Na) and ``contrast_labels`` (G, Nc): int64 class ids, ``IGNORED`` (-1)
  for pixels that take no part in any pair.

Logits ``s_pk = a_p · c_k / τ`` are formed one ``tile × tile`` block per bag at a time,
reduced with a streaming (online) log-sum-exp, and formed again in backward, so memory is
O((Na + Nc)·D + G·tile²) while the values and gradients equal the dense computation.
"""
from contextlib import contextmanager
from itertools import accumulate
from typing import Callable, Iterator, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.autograd.function import FunctionCtx, once_differentiable

IGNORED = -1

_NEG_INF = float('-inf')
# Ignored contrast pixels get a key no anchor label equals (ignored anchors are -1), so
# `anchor_label == contrast_key` alone means "same class, both labelled".
_IGNORED_KEY = -2

Segments = List[Tuple[int, int]]
TileFn = Callable[[slice, slice], Tensor]


@contextmanager
def ieee_matmuls() -> Iterator[None]:
    """Inside the block, float32 matmuls on CUDA and MKLDNN are IEEE float32, never TF32 or
    bf16, whatever the global setting (restored on exit).

    The kernels run their forward and backward passes in it: a logit ``a·c/τ`` computed in
    TF32 (10 mantissa bits) is off by ~1e-3 relative, 0.014 at τ = 0.07. Uses torch's
    per-backend ``fp32_precision`` flags, which read correctly whether the process set TF32
    through them or through the legacy ``allow_tf32`` / ``set_float32_matmul_precision``.
    """
    matmuls = (torch.backends.cuda.matmul, torch.backends.mkldnn.matmul)
    saved = [backend.fp32_precision for backend in matmuls]
    for backend in matmuls:
        backend.fp32_precision = 'ieee'
    try:
        yield
    finally:
        for backend, precision in zip(matmuls, saved):
            backend.fp32_precision = precision


def _segments(length: int, sizes: Optional[Sequence[int]]) -> Segments:
    """[start, end) of each consecutive part of a bag; one part when ``sizes`` is None."""
    sizes = [length] if sizes is None else list(sizes)
    if sum(sizes) != length:
        raise ValueError(f'part sizes {sizes} do not add up to the {length} pixels')
    ends = list(accumulate(sizes))
    return list(zip([0] + ends[:-1], ends))


def _blocks(anchor_segments: Segments, contrast_segments: Segments,
            tile_size: int) -> Iterator[Tuple[slice, slice, bool]]:
    """Tiles of the logit matrix: (anchor rows, contrast columns, same part?).

    Tiles never straddle a part boundary, so "same part" is one flag per tile.
    """
    for anchor_part, (a_start, a_end) in enumerate(anchor_segments):
        for a0 in range(a_start, a_end, tile_size):
            for contrast_part, (c_start, c_end) in enumerate(contrast_segments):
                for c0 in range(c_start, c_end, tile_size):
                    yield (slice(a0, min(a0 + tile_size, a_end)),
                           slice(c0, min(c0 + tile_size, c_end)),
                           anchor_part == contrast_part)


def _ignore_bias(labels: Tensor, dtype: torch.dtype) -> Tensor:
    """(G, N) additive mask: 0 for labelled pixels, -inf for ignored ones."""
    return torch.zeros(labels.shape, dtype=dtype, device=labels.device).masked_fill_(
        labels < 0, _NEG_INF)


def _logit_tiles(anchors: Tensor, contrast: Tensor, contrast_labels: Tensor,
                 temperature: float) -> Tuple[Tensor, TileFn]:
    """The anchors scaled by 1/τ, and a maker of logit tiles.

    The maker returns (G, Ta, Tc) ``a·c/τ`` for the given rows and columns, -inf at
    ignored contrast pixels (added inside the matmul, which costs nothing extra).
    """
    scaled = anchors / temperature
    bias = _ignore_bias(contrast_labels, anchors.dtype).unsqueeze(1)

    def tile(rows: slice, cols: slice) -> Tensor:
        return torch.baddbmm(bias[:, :, cols], scaled[:, rows],
                             contrast[:, cols].transpose(1, 2))
    return scaled, tile


def _contrast_keys(labels: Tensor) -> Tensor:
    return labels.masked_fill(labels < 0, _IGNORED_KEY)


def _shift(log_values: Tensor) -> Tensor:
    """Replace -inf (empty sets) by 0 so that ``exp(-inf - shift)`` is 0, not NaN."""
    return log_values.where(log_values.isfinite(), torch.zeros_like(log_values))


def _stream_logsumexp(run_max: Tensor, run_sum: Tensor, logits: Tensor,
                      dim: int) -> None:
    """Fold one tile into a running (max, Σexp(x - max)) pair, in place.

    Args:
        run_max, run_sum: (G, T) views of the running statistics of the tile's rows
            (``dim`` = 2) or columns (``dim`` = 1).
        logits: (G, Ta, Tc) tile, -inf where a pair is excluded.
        dim: the dimension reduced.
    """
    new_max = torch.maximum(run_max, logits.amax(dim))
    shift = _shift(new_max)
    run_sum.mul_((run_max - shift).exp_())
    run_sum.add_((logits - shift.unsqueeze(dim)).exp_().sum(dim))
    run_max.copy_(new_max)


def _finish_logsumexp(run_max: Tensor, run_sum: Tensor) -> Tensor:
    """log Σexp from streaming statistics; -inf for an empty set."""
    return run_max + run_sum.log()


def _grad_buffers(ctx: FunctionCtx, anchors: Tensor,
                  contrast: Tensor) -> Tuple[Optional[Tensor], Optional[Tensor]]:
    """Zeroed gradient accumulators for the inputs that need one."""
    need_anchors, need_contrast = ctx.needs_input_grad[:2]
    return (torch.zeros_like(anchors) if need_anchors else None,
            torch.zeros_like(contrast) if need_contrast else None)


def _backprop_tile(weight: Tensor, scaled_anchors: Tensor, contrast: Tensor,
                   grad_anchors: Optional[Tensor], grad_contrast: Optional[Tensor],
                   rows: slice, cols: slice) -> None:
    """Chain d loss / d s of one (G, Ta, Tc) tile to the tile's pixels, in place.

    ``grad_anchors`` collects Σ W·c, τ times the anchors' gradient (divided once in
    :func:`_finish_grads`); either accumulator may be None when not needed.
    """
    if grad_anchors is not None:
        grad_anchors[:, rows] += torch.bmm(weight, contrast[:, cols])
    if grad_contrast is not None:
        grad_contrast[:, cols] += torch.bmm(weight.transpose(1, 2), scaled_anchors[:, rows])


def _finish_grads(grad_anchors: Optional[Tensor], grad_contrast: Optional[Tensor],
                  temperature: float, num_other_inputs: int) -> tuple:
    """backward's return value: the two gradients, None for the other inputs."""
    if grad_anchors is not None:
        grad_anchors = grad_anchors / temperature
    return (grad_anchors, grad_contrast) + (None, ) * num_other_inputs


def _pair_tiles(anchors: Tensor, contrast: Tensor, anchor_labels: Tensor,
                contrast_labels: Tensor, temperature: float,
                same_class: bool) -> Tuple[Tensor, TileFn]:
    """Scaled anchors and a maker of tiles, -inf outside the kept pairs.

    A pair is kept when both pixels are labelled and, with ``same_class``, share the class.
    """
    scaled, logit_tile = _logit_tiles(anchors, contrast, contrast_labels, temperature)
    anchor_bias = _ignore_bias(anchor_labels, anchors.dtype).unsqueeze(2)
    keys = _contrast_keys(contrast_labels).unsqueeze(1)
    labels = anchor_labels.unsqueeze(2)

    def tile(rows: slice, cols: slice) -> Tensor:
        logits = logit_tile(rows, cols)
        if same_class:
            return logits.masked_fill_(labels[:, rows] != keys[:, :, cols], _NEG_INF)
        return logits.add_(anchor_bias[:, rows])
    return scaled, tile


class _PairLogSumExp(torch.autograd.Function):
    """Row (and optionally column) log-sum-exp of the masked logit matrix."""

    @staticmethod
    @ieee_matmuls()
    def forward(ctx: FunctionCtx, anchors: Tensor, contrast: Tensor,
                anchor_labels: Tensor, contrast_labels: Tensor, temperature: float,
                tile_size: int, same_class: bool, columns: bool):
        _, tile = _pair_tiles(anchors, contrast, anchor_labels, contrast_labels,
                              temperature, same_class)
        num_bags, num_anchors = anchor_labels.shape
        num_contrast = contrast_labels.shape[1]
        row_max = anchors.new_full((num_bags, num_anchors), _NEG_INF)
        row_sum = anchors.new_zeros((num_bags, num_anchors))
        col_max = anchors.new_full((num_bags, num_contrast), _NEG_INF)
        col_sum = anchors.new_zeros((num_bags, num_contrast))
        for rows, cols, _ in _blocks(_segments(num_anchors, None),
                                     _segments(num_contrast, None), tile_size):
            logits = tile(rows, cols)
            _stream_logsumexp(row_max[:, rows], row_sum[:, rows], logits, dim=2)
            if columns:
                _stream_logsumexp(col_max[:, cols], col_sum[:, cols], logits, dim=1)
        row_lse = _finish_logsumexp(row_max, row_sum)
        col_lse = _finish_logsumexp(col_max, col_sum)
        ctx.save_for_backward(anchors, contrast, anchor_labels, contrast_labels,
                              row_lse, col_lse)
        ctx.config = (temperature, tile_size, same_class, columns)
        return (row_lse, col_lse) if columns else row_lse

    @staticmethod
    @once_differentiable
    @ieee_matmuls()
    def backward(ctx: FunctionCtx, grad_rows: Tensor, grad_cols: Optional[Tensor] = None):
        anchors, contrast, anchor_labels, contrast_labels, row_lse, col_lse = \
            ctx.saved_tensors
        temperature, tile_size, same_class, columns = ctx.config
        scaled, tile = _pair_tiles(anchors, contrast, anchor_labels, contrast_labels,
                                   temperature, same_class)
        row_shift, col_shift = _shift(row_lse).unsqueeze(2), _shift(col_lse).unsqueeze(1)
        grad_rows = grad_rows.unsqueeze(2)
        grad_cols = grad_cols.unsqueeze(1) if columns else None
        grad_anchors, grad_contrast = _grad_buffers(ctx, anchors, contrast)
        for rows, cols, _ in _blocks(_segments(anchor_labels.shape[1], None),
                                     _segments(contrast_labels.shape[1], None), tile_size):
            logits = tile(rows, cols)
            # d lse_p / d s_pk is the softmax of row p (resp. column k).
            weight = (logits - row_shift[:, rows]).exp_().mul_(grad_rows[:, rows])
            if columns:
                weight.add_(logits.sub_(col_shift[:, :, cols]).exp_().mul_(
                    grad_cols[:, :, cols]))
            _backprop_tile(weight, scaled, contrast, grad_anchors, grad_contrast, rows,
                           cols)
        return _finish_grads(grad_anchors, grad_contrast, temperature, 6)


def pair_logsumexp(anchors: Tensor, contrast: Tensor, anchor_labels: Tensor,
                   contrast_labels: Tensor, temperature: float, tile_size: int, *,
                   same_class: bool = False, columns: bool = False):
    """Log-sum-exp of ``a_p · c_k / τ`` over the kept pairs of each bag.

    Args:
        anchors: (G, Na, D). contrast: (G, Nc, D).
        anchor_labels: (G, Na). contrast_labels: (G, Nc). ``IGNORED`` pixels pair with
            nothing.
        temperature: τ > 0.
        tile_size: side of the logit tiles (memory ~ G·tile_size² per temporary).
        same_class: keep only pairs of the same class (positives-only contrast sets).
        columns: also return the column reduction — the log-sum-exp for each contrast
            pixel over the anchors — from the same tiles (the reverse direction of a
            symmetric loss costs no second pass).

    Returns:
        (G, Na) row log-sum-exps, and with ``columns`` also (G, Nc); -inf for a pixel
        with no kept pair.
    """
    return _PairLogSumExp.apply(anchors, contrast, anchor_labels, contrast_labels,
                                temperature, tile_size, same_class, columns)


def _official_tiles(anchors: Tensor, contrast: Tensor, anchor_labels: Tensor,
                    contrast_labels: Tensor,
                    temperature: float) -> Tuple[Tensor, Callable[[slice, slice],
                                                                  Tuple[Tensor, Tensor]]]:
    """Scaled anchors and a maker of (logits, positive) tiles for the released loss.

    Positives: same class, both labelled (an anchor is its own positive). Negatives are
    the labelled contrast pixels (finite logits) that are not positives; parts are
    handled by :func:`_blocks`. Logits of ignored anchors are left finite: their rows
    have no positive, and callers drop them.
    """
    scaled, logit_tile = _logit_tiles(anchors, contrast, contrast_labels, temperature)
    keys = _contrast_keys(contrast_labels).unsqueeze(1)
    labels = anchor_labels.unsqueeze(2)

    def tile(rows: slice, cols: slice) -> Tuple[Tensor, Tensor]:
        return logit_tile(rows, cols), labels[:, rows] == keys[:, :, cols]
    return scaled, tile


class _OfficialAnchorLoss(torch.autograd.Function):
    """Σ over positives j of softplus(logNeg_i − s_ij), per anchor i."""

    @staticmethod
    @ieee_matmuls()
    def forward(ctx: FunctionCtx, anchors: Tensor, contrast: Tensor,
                anchor_labels: Tensor, contrast_labels: Tensor,
                anchor_parts: Optional[Sequence[int]],
                contrast_parts: Optional[Sequence[int]], temperature: float,
                tile_size: int) -> Tensor:
        _, tile = _official_tiles(anchors, contrast, anchor_labels, contrast_labels,
                                  temperature)
        blocks = (_segments(anchor_labels.shape[1], anchor_parts),
                  _segments(contrast_labels.shape[1], contrast_parts), tile_size)
        neg_max = anchors.new_full(anchor_labels.shape, _NEG_INF)
        neg_sum = anchors.new_zeros(anchor_labels.shape)
        # Pass 1: the negatives' log-sum-exp must be complete before any softplus.
        for rows, cols, same_part in _blocks(*blocks):
            if same_part:
                logits, positive = tile(rows, cols)
                _stream_logsumexp(neg_max[:, rows], neg_sum[:, rows],
                                  logits.masked_fill_(positive, _NEG_INF), dim=2)
        log_neg = _finish_logsumexp(neg_max, neg_sum)
        # Pass 2: softplus over positives, and Σσ, which backward needs for d/d logNeg.
        # Masked entries may be ±inf or NaN (ignored pixels); masked_fill_ overwrites them.
        loss = torch.zeros_like(log_neg)
        push = torch.zeros_like(log_neg)
        for rows, cols, _ in _blocks(*blocks):
            logits, positive = tile(rows, cols)
            gap = log_neg[:, rows].unsqueeze(2) - logits
            loss[:, rows] += F.softplus(gap).masked_fill_(~positive, 0).sum(2)
            push[:, rows] += gap.sigmoid_().masked_fill_(~positive, 0).sum(2)
        ctx.save_for_backward(anchors, contrast, anchor_labels, contrast_labels, log_neg,
                              push)
        ctx.config = (anchor_parts, contrast_parts, temperature, tile_size)
        return loss

    @staticmethod
    @once_differentiable
    @ieee_matmuls()
    def backward(ctx: FunctionCtx, grad_loss: Tensor):
        anchors, contrast, anchor_labels, contrast_labels, log_neg, push = \
            ctx.saved_tensors
        anchor_parts, contrast_parts, temperature, tile_size = ctx.config
        scaled, tile = _official_tiles(anchors, contrast, anchor_labels, contrast_labels,
                                       temperature)
        neg_shift = _shift(log_neg).unsqueeze(2)
        grad_log_neg = (grad_loss * push).unsqueeze(2)
        log_neg, grad_loss = log_neg.unsqueeze(2), grad_loss.unsqueeze(2)
        grad_anchors, grad_contrast = _grad_buffers(ctx, anchors, contrast)
        for rows, cols, same_part in _blocks(
                _segments(anchor_labels.shape[1], anchor_parts),
                _segments(contrast_labels.shape[1], contrast_parts), tile_size):
            logits, positive = tile(rows, cols)
            # Positives act directly: d softplus(logNeg − s)/ds = −σ(logNeg − s) ...
            weight = (log_neg[:, rows] - logits).sigmoid_().masked_fill_(~positive, 0)
            weight.mul_(-grad_loss[:, rows])
            if same_part:
                # ... negatives through logNeg, with softmax weights.
                weight.add_(logits.masked_fill_(positive, _NEG_INF).sub_(
                    neg_shift[:, rows]).exp_().mul_(grad_log_neg[:, rows]))
            _backprop_tile(weight, scaled, contrast, grad_anchors, grad_contrast, rows,
                           cols)
        return _finish_grads(grad_anchors, grad_contrast, temperature, 6)


def official_anchor_loss(anchors: Tensor, contrast: Tensor, anchor_labels: Tensor,
                         contrast_labels: Tensor, temperature: float, tile_size: int, *,
                         anchor_parts: Optional[Sequence[int]] = None,
                         contrast_parts: Optional[Sequence[int]] = None) -> Tensor:
    """Released-code anchor loss, summed (not yet averaged) over each anchor's positives.

    For anchor i: Σ_{j positive} −log(e_ij / (e_ij + Σ_{k negative} e_ik))
    = Σ_j softplus(logNeg_i − s_ij), with logNeg_i the log-sum-exp of the negatives.
    Positives: same class, both labelled, anywhere in the bag (i itself included).
    Negatives: different class, both labelled, same part of the bag.

    Args:
        anchors: (G, Na, D). contrast: (G, Nc, D) — the bag; anchors are members of it.
        anchor_labels: (G, Na). contrast_labels: (G, Nc).
        temperature: τ > 0.
        tile_size: side of the logit tiles.
        anchor_parts, contrast_parts: sizes of the consecutive parts of the anchors and
            of the bag (part i of one faces part i of the other); negatives only pair
            pixels of the same part — the released cross-image loss keeps negatives
            inside each image of the bag I_b ∪ Ĵ_b. None: one part.

    Returns:
        (G, Na); 0 for an anchor without positives or without negatives.
    """
    return _OfficialAnchorLoss.apply(anchors, contrast, anchor_labels, contrast_labels,
                                     anchor_parts, contrast_parts, temperature, tile_size)
