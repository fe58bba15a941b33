"""IoU of stage-1 (contrastive pretraining) predictions made with class prototypes."""
from typing import Sequence

from mmseg.evaluation.metrics import IoUMetric
from mmseg.registry import METRICS


@METRICS.register_module()
class PrototypeIoUMetric(IoUMetric):
    """:class:`IoUMetric` over the prototype predictions of a ``ContrastHead``, keyed
    ``proto/mIoU``, ``proto/aAcc``, ... so that the log tells pretraining progress apart from a
    classifier's mIoU.

    Each pixel is given the class of the nearest prototype (cosine); the prototypes are the
    normalised class means of the training embeddings that ``PrototypeHook`` computes before
    every evaluation. Without that hook the head outputs raw embeddings, which this metric
    refuses. It tells them apart by their channel count, so it cannot when ``proj_channels``
    equals the number of classes.

    Args:
        prefix: key prefix; default ``'proto'``.
        **kwargs: :class:`IoUMetric`'s arguments.
    """

    default_prefix = 'proto'

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        num_classes = len(self.dataset_meta['classes'])
        for sample in data_samples:
            channels = sample['seg_logits']['data'].shape[0]
            if channels != num_classes:
                raise ValueError(
                    f'the predictions have {channels} channels, not one per class '
                    f'({num_classes}): the ContrastHead output raw embeddings because it has no '
                    "class prototypes; add dict(type='PrototypeHook') to custom_hooks")
        super().process(data_batch, data_samples)
