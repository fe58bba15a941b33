from .load_stage_one_hook import LoadStageOneHook
from .prototype_classifier_init_hook import PrototypeClassifierInitHook
from .prototype_hook import PrototypeHook
from .random_state_hook import RandomStateHook

__all__ = ['LoadStageOneHook', 'PrototypeClassifierInitHook', 'PrototypeHook',
           'RandomStateHook']
