"""Optional class-balanced pixel sampling for :class:`PixelContrastLoss`."""
import torch
from torch import Tensor


def balanced_sample_index(labels: Tensor, max_pixels: int) -> Tensor:
    """Pick at most ``max_pixels`` pixels per image, as evenly over classes as possible.

    Classes take turns (round robin): every class first gives one random pixel, then a
    second, and so on, so a class with fewer pixels than its share gives all of them and
    the rest of the budget goes to the larger classes. Ignored pixels (label < 0) come
    last: they are picked only when an image has fewer labelled pixels than the budget,
    and then stay ignored. Randomness comes from torch's global RNG (``torch.manual_seed``
    makes it repeatable); no host synchronisation.

    Args:
        labels: (B, N) int64 class ids, negative for ignored pixels.
        max_pixels: budget per image, >= 1.

    Returns:
        (B, min(N, max_pixels)) int64 indices into N.
    """
    num_pixels = labels.shape[1]
    if num_pixels <= max_pixels:
        return torch.arange(num_pixels, device=labels.device).expand_as(labels)
    # Sorting by label + u groups each class and shuffles it; the rank inside the class
    # group is then the pixel's turn.
    jitter = torch.rand(labels.shape, dtype=torch.float64, device=labels.device)
    order = torch.argsort(labels + jitter, dim=1)
    sorted_labels = labels.gather(1, order)
    first_of_class = torch.searchsorted(sorted_labels, sorted_labels)
    turn = torch.arange(num_pixels, device=labels.device) - first_of_class
    priority = torch.where(sorted_labels >= 0, turn + jitter.gather(1, order),
                           float('inf'))
    picked = torch.topk(priority, max_pixels, dim=1, largest=False).indices
    return order.gather(1, picked)
