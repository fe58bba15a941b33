"""PrototypeClassifierInitHook: start a cosine classifier at the stage-1 class prototypes."""
from mmengine.logging import print_log
from mmengine.runner import Runner

from mmseg.registry import HOOKS
from ...models.decode_heads.cosine_classifier_head import CosineClassifierHeadMixin
from .prototype_hook import TrainingImagesHook, heads_of_kind, set_class_prototypes
from .runner_model import bare_model


@HOOKS.register_module()
class PrototypeClassifierInitHook(TrainingImagesHook):
    """Sets the class vectors of every CosineClassifierHead to the class prototypes of the
    weights it starts from, once, before training.

    Runs in ``before_train`` after :class:`LoadStageOneHook` (lower priority), so the
    prototypes are those of the stage-1 embedding: the normalised class means over the
    labelled training images read with the evaluation pipeline, as :class:`PrototypeHook`
    computes them. The first stage-2 prediction is then the stage-1 prototype readout. A
    resumed run (``runner.iter > 0``) and one started from ``load_from`` (a stage-2 checkpoint)
    keep their class vectors.

    Args: those of :class:`TrainingImagesHook` (``pipeline`` None takes ``val_dataloader``'s).
    """

    priority = 'HIGH'

    def before_train(self, runner: Runner) -> None:
        if runner.iter > 0 or runner.cfg.get('load_from'):
            start = f'resumed at iter {runner.iter}' if runner.iter > 0 else \
                f'started from load_from={runner.cfg.load_from!r}'
            print_log(f'PrototypeClassifierInitHook: {start}; keeping its class vectors',
                      logger='current')
            return
        model = bare_model(runner)
        heads = heads_of_kind(model, CosineClassifierHeadMixin)
        loader = self.build_dataloader(runner.cfg, 'val_dataloader')
        set_class_prototypes(model, heads, loader, 'PrototypeClassifierInitHook')
