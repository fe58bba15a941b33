from .load_stage_one_hook import LoadStageOneHook
from .prototype_hook import PrototypeHook

__all__ = ['LoadStageOneHook', 'PrototypeHook']
