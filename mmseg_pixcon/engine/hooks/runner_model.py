"""The model a hook works on: the runner's, without its distributed wrapper."""
import torch.nn as nn
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner


def bare_model(runner: Runner) -> nn.Module:
    """``runner.model``, or the module inside it when it is wrapped (DDP and the like)."""
    return runner.model.module if is_model_wrapper(runner.model) else runner.model
