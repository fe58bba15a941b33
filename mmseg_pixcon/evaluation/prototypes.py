"""Class prototypes: normalised means of the embeddings of each class, summed over a dataset."""
from typing import Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.dist import all_reduce
from torch import Tensor

from mmseg.structures import SegDataSample


class PrototypeAccumulator:
    """Sums embeddings and pixel counts per class, over batches and (on :meth:`result`) ranks.

    Args:
        num_classes: C; labels must lie in [0, C) or equal ``ignore_index``.
        channels: D, the embedding channels.
        ignore_index: label of pixels left out.
        device: where the sums live (the model's device, so that NCCL can reduce them).
    """

    def __init__(self, num_classes: int, channels: int, ignore_index: int = 255,
                 device: torch.device = torch.device('cpu')) -> None:
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        # float64: a dataset's worth of pixels summed in float32 loses the small classes.
        self.sums = torch.zeros(num_classes, channels, dtype=torch.float64, device=device)
        self.counts = torch.zeros(num_classes, dtype=torch.float64, device=device)

    def add(self, embeddings: Tensor, labels: Tensor) -> None:
        """Adds (B, D, h, w) embeddings with their (B, h, w) labels."""
        if embeddings.shape[0] != labels.shape[0] or embeddings.shape[2:] != labels.shape[1:]:
            raise ValueError(f'embeddings {tuple(embeddings.shape)} and labels '
                             f'{tuple(labels.shape)} do not share the (B, h, w) grid')
        labels = labels.flatten().to(self.sums.device)
        keep = labels != self.ignore_index
        labels = labels[keep]
        bad = labels[(labels < 0) | (labels >= self.num_classes)]
        if bad.numel():
            raise ValueError(f'labels outside [0, {self.num_classes}) and != ignore_index '
                             f'{self.ignore_index}: {bad.unique().tolist()}')
        flat = embeddings.permute(0, 2, 3, 1).reshape(-1, embeddings.shape[1])
        self.sums.index_add_(0, labels, flat[keep.to(flat.device)].to(self.sums))
        self.counts += torch.bincount(labels, minlength=self.num_classes).to(self.counts)

    def result(self) -> Tuple[Tensor, Tensor]:
        """All-reduces across ranks (a no-op without distributed training) and returns the
        (C, D) float32 unit prototypes and the (C,) pixel counts. A class without pixels gets
        an all-zero prototype."""
        all_reduce(self.sums, op='sum')
        all_reduce(self.counts, op='sum')
        # normalize(sum / count) == normalize(sum): the count is a positive scale.
        return F.normalize(self.sums, dim=1).float(), self.counts


def labels_on_input_grid(sample: SegDataSample, input_size: Sequence[int],
                         ignore_index: int) -> Tensor:
    """(H, W) label map aligned with the (padded) network input of an evaluation batch.

    A test pipeline may load the labels after resizing the image (mmseg's VOC and ADE configs
    do), so they are first resized (nearest) to ``img_shape``, then padded with
    ``ignore_index`` like the data preprocessor padded the image (``img_padding_size``).
    """
    label = sample.gt_sem_seg.data.float()  # (1, H0, W0); float for F.interpolate
    img_shape = tuple(sample.metainfo['img_shape'][:2])
    if tuple(label.shape[1:]) != img_shape:
        label = F.interpolate(label[None], size=img_shape, mode='nearest')[0]
    left, right, top, bottom = sample.metainfo.get('img_padding_size', (0, 0, 0, 0))
    label = F.pad(label, (left, right, top, bottom), value=ignore_index)
    if tuple(label.shape[1:]) != tuple(input_size):
        raise ValueError(f'labels of {tuple(label.shape[1:])} after resizing to img_shape '
                         f'{img_shape} and padding do not match the input {tuple(input_size)}')
    return label[0].long()
