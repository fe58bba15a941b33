"""RandomStateHook: a resumed run draws the same random numbers as an uninterrupted one."""
import logging
import random
from typing import Any, Callable, Dict, Iterator, List, Optional

import numpy as np
import torch
import torch.nn as nn
from mmengine.dist import all_gather_object, get_rank, get_world_size
from mmengine.hooks import CheckpointHook, Hook
from mmengine.logging import print_log
from mmengine.runner import IterBasedTrainLoop, Runner

from mmseg.registry import HOOKS
from .runner_model import bare_model

CHECKPOINT_KEY = 'random_state'
RandomState = Dict[str, Any]  # what capture() returns


def module_generators(model: nn.Module) -> Dict[str, torch.Generator]:
    """Every ``torch.Generator`` held by a module of the model (such as the seeded
    ``PixConDataPreProcessor.generator`` that draws the distortions of Î), by attribute path."""
    return {f'{name}.{attr}' if name else attr: value
            for name, module in model.named_modules()
            for attr, value in vars(module).items() if isinstance(value, torch.Generator)}


def capture(model: nn.Module) -> RandomState:
    """This process's random states: torch's global generator (dropout, the cross-image partner
    draw, the distortions when the preprocessor has no seed) and CUDA's, numpy's and Python's
    global generators (the data pipeline's transforms when ``num_workers=0``), and the model's
    own generators. Tensors and plain values only, so ``weights_only`` loading reads them."""
    _, keys, pos, has_gauss, cached_gaussian = np.random.get_state()
    state = dict(torch=torch.get_rng_state(),
                 numpy=dict(keys=torch.from_numpy(keys.astype(np.int64)), pos=int(pos),
                            has_gauss=int(has_gauss), cached_gaussian=float(cached_gaussian)),
                 python=random.getstate(),
                 generators={name: generator.get_state()
                             for name, generator in module_generators(model).items()})
    if torch.cuda.is_available():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def restore(model: nn.Module, state: RandomState) -> List[str]:
    """Sets the states ``capture`` returned; returns what could not be restored (generators
    the model and the checkpoint do not share, CUDA states of another device count)."""
    torch.set_rng_state(state['torch'])
    numpy = state['numpy']
    np.random.set_state(('MT19937', numpy['keys'].numpy().astype(np.uint32), numpy['pos'],
                         numpy['has_gauss'], numpy['cached_gaussian']))
    random.setstate(state['python'])
    generators = module_generators(model)
    problems = [f'generator {name} not in the checkpoint' for name in generators
                if name not in state['generators']]
    problems += [f'generator {name} of the checkpoint not in the model'
                 for name in state['generators'] if name not in generators]
    for name, generator in generators.items():
        if name in state['generators']:
            generator.set_state(state['generators'][name])
    if torch.cuda.is_available():
        saved = state.get('cuda', [])
        if len(saved) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(saved)
        else:
            problems.append(f'{len(saved)} CUDA states for {torch.cuda.device_count()} devices')
    return problems


class RestoreAfterSkip:
    """The train loop's data iterator, wrapped for the first iterations of a resumed run.

    IterBasedTrainLoop resumes by fetching the ``skip`` batches already trained on again (so
    that the sampler, shuffled or infinite, stands where it stood); with ``num_workers=0`` that
    replay runs the pipeline's random transforms in this process. ``on_skipped`` runs right after
    the last replayed batch, before the first new one is fetched.
    """

    def __init__(self, iterator: Iterator, skip: int, on_skipped: Callable[[], None]) -> None:
        self.iterator = iterator
        self.remaining = skip
        self.on_skipped = on_skipped

    def __iter__(self) -> 'RestoreAfterSkip':
        return self

    def __next__(self):
        batch = next(self.iterator)
        self.remaining -= 1
        if self.remaining == 0:
            self.on_skipped()
        return batch


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Saves every random state in the checkpoint and restores it on ``--resume``, so that a run
    stopped and resumed ends with exactly the weights of an uninterrupted one (same machine,
    ``randomness.seed`` fixed, ``deterministic=True`` on GPU).

    mmengine 0.10.7 checkpoints hold no random state: a resumed run re-seeds from
    ``randomness.seed`` and so repeats the random numbers of the run's first iterations (the
    distortions of Î, dropout, the cross-image partners, the crops and flips). This hook:

    - ``before_save_checkpoint``: adds the states of every rank (see :func:`capture`) to the
      checkpoint under ``random_state``; a checkpoint saved during validation (the best one)
      gets the states training continues from. mmengine saves on rank 0 only
      (``Runner.save_checkpoint`` is ``master_only``), so under a distributed launch the ranks'
      states are gathered beforehand, where every rank runs: after each training iteration (or
      epoch) at which a ``CheckpointHook`` is about to save (it runs after this hook), and before
      validation.
    - ``after_load_checkpoint`` + ``before_train_epoch``: on a resume (``runner.iter > 0``) each
      rank gets its own states back, in an iteration-based loop right after the loop has replayed
      the batches already trained on (:class:`RestoreAfterSkip`), else at once. A checkpoint
      loaded by ``load_from`` (iteration 0) is not a resume and leaves the states alone.
    - ``before_val`` / ``after_val``: validation inside training (its dataloaders, PrototypeHook)
      draws from the global generators; the training states are put back afterwards, so a run
      validates without changing its training.

    A resume whose random states cannot all be restored (a checkpoint without them, another
    number of processes, another set of generators) logs a warning naming what is missing: the
    run goes on but is not bit-exact.
    """

    priority = 'VERY_HIGH'

    def __init__(self) -> None:
        self.loaded: Optional[dict] = None
        self.training_state: Optional[RandomState] = None
        self.gathered: Optional[List[RandomState]] = None  # every rank's, for rank 0's save

    def _state(self, runner: Runner) -> RandomState:
        """The states training continues from (those before validation, during one)."""
        if self.training_state is not None:
            return self.training_state
        return capture(bare_model(runner))

    def _gather(self, runner: Runner) -> None:
        """Every rank's states, gathered while every rank runs (a collective); 1 process: none."""
        if get_world_size() > 1:
            self.gathered = all_gather_object(self._state(runner))

    @staticmethod
    def _checkpoint_due(runner: Runner, by_epoch: bool) -> bool:
        """Whether a CheckpointHook of the runner saves after this iteration (epoch), by its
        own rule (mmengine 0.10.7's ``after_train_iter`` / ``after_train_epoch``)."""
        for hook in runner.hooks:
            if not isinstance(hook, CheckpointHook) or hook.by_epoch != by_epoch:
                continue
            if by_epoch:
                due = hook.every_n_epochs(runner, hook.interval, hook.save_begin) or (
                    hook.save_last and hook.is_last_train_epoch(runner))
            else:
                due = hook.every_n_train_iters(runner, hook.interval, hook.save_begin) or (
                    hook.save_last and hook.is_last_train_iter(runner))
            if due:
                return True
        return False

    def after_train_iter(self, runner: Runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        if self._checkpoint_due(runner, by_epoch=False):
            self._gather(runner)

    def after_train_epoch(self, runner: Runner) -> None:
        if self._checkpoint_due(runner, by_epoch=True):
            self._gather(runner)

    def before_save_checkpoint(self, runner: Runner, checkpoint: dict) -> None:
        if get_world_size() == 1:
            ranks = [self._state(runner)]
        elif self.gathered is not None:
            ranks = self.gathered
        else:  # saved from elsewhere than a CheckpointHook: rank 0 cannot reach the others
            print_log('RandomStateHook: a checkpoint saved outside CheckpointHook and validation '
                      'under a distributed launch holds no random state; resuming from it will '
                      'not be bit-exact', logger='current', level=logging.WARNING)
            return
        checkpoint[CHECKPOINT_KEY] = dict(ranks=ranks)
        self.gathered = None

    def after_load_checkpoint(self, runner: Runner, checkpoint: dict) -> None:
        # Whether this is a resume is known once the loop starts (load_from leaves iter at 0).
        self.loaded = checkpoint

    def before_train_epoch(self, runner: Runner) -> None:
        checkpoint, self.loaded = self.loaded, None
        if checkpoint is None or runner.iter == 0:
            return
        loop = runner.train_loop
        if isinstance(loop, IterBasedTrainLoop):
            loop.dataloader_iterator = RestoreAfterSkip(
                loop.dataloader_iterator, runner.iter,
                lambda: self._resume(runner, checkpoint, loop))
        else:  # an epoch loop fetches its first batch after this hook
            self._resume(runner, checkpoint)

    def _resume(self, runner: Runner, checkpoint: dict,
                loop: Optional[IterBasedTrainLoop] = None) -> None:
        if loop is not None:  # the replay is over: unwrap
            loop.dataloader_iterator = loop.dataloader_iterator.iterator
        ranks = checkpoint.get(CHECKPOINT_KEY, {}).get('ranks')
        if ranks is None:
            problems = ['the checkpoint holds no random state (saved without RandomStateHook)']
        elif len(ranks) != get_world_size():
            problems = [f'the checkpoint holds the states of {len(ranks)} processes, this run '
                        f'has {get_world_size()}']
        else:
            problems = restore(bare_model(runner), ranks[get_rank()])
        if problems:
            print_log(f'RandomStateHook: resumed at iteration {runner.iter} without '
                      f'restoring every random state ({"; ".join(problems)}): the run goes on '
                      'but differs from an uninterrupted one', logger='current',
                      level=logging.WARNING)
        else:
            print_log(f'RandomStateHook: random states of iteration {runner.iter} restored',
                      logger='current')

    def before_val(self, runner: Runner) -> None:
        self.training_state = capture(bare_model(runner))
        self._gather(runner)  # for a best checkpoint saved after validation, on rank 0

    def after_val(self, runner: Runner) -> None:
        self.gathered = None
        if self.training_state is not None:
            restore(bare_model(runner), self.training_state)
            self.training_state = None
