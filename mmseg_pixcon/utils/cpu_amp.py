"""Mixed precision on the CPU: bfloat16 autocast, which mmengine's AmpOptimWrapper refuses.

``AmpOptimWrapper`` asserts a GPU (its loss scaler is CUDA's GradScaler). bfloat16 has float32's
exponent range, so it needs no loss scaling: :class:`CPUAmpOptimWrapper` only runs the forward
pass (data preprocessor, model, losses) under ``torch.autocast('cpu', dtype=torch.bfloat16)``;
parameters, gradients and the optimizer stay float32. ``tools/train.py --amp`` picks it on a
machine without CUDA.
"""
from contextlib import contextmanager
from typing import Iterator

import torch
import torch.nn as nn
from mmengine.optim import OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS


# The Runner builds optim wrappers from mmengine's root registry (mmseg's falls back to it).
@OPTIM_WRAPPERS.register_module()
class CPUAmpOptimWrapper(OptimWrapper):
    """OptimWrapper whose forward runs under CPU bfloat16 autocast."""

    @contextmanager
    def optim_context(self, model: nn.Module) -> Iterator[None]:
        with super().optim_context(model), torch.autocast('cpu', dtype=torch.bfloat16):
            yield
