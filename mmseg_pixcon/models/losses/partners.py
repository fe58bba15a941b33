"""The partner image J of every image of the batch, for the cross-image loss."""
import torch
from torch import Tensor

PARTNER_RULES = ('shuffle', 'roll', 'identity')


def select_partners(batch_size: int, rule: str, device: torch.device) -> Tensor:
    """Partner image J = partners[b] of every image b.

    'roll': J = (b + 1) mod B. 'identity': J = b. 'shuffle': a random derangement — the
    images in a random order (drawn from torch's global RNG, so ``torch.manual_seed`` fixes
    it and equally seeded processes agree) each take the next one as partner, i.e. a
    uniformly random B-cycle. With B = 1 every rule gives the only image itself.

    Returns:
        (B,) int64 on ``device``, drawn on the CPU and copied without blocking the host.
    """
    if rule not in PARTNER_RULES:
        raise ValueError(f'partner must be one of {PARTNER_RULES}, got {rule!r}')
    order = torch.arange(batch_size)
    if rule == 'shuffle' and batch_size > 1:
        order = torch.randperm(batch_size)
    if rule == 'identity':
        return order.to(device, non_blocking=True)
    partners = torch.empty_like(order)
    partners[order] = order.roll(-1)
    return partners.to(device, non_blocking=True)
