from .prototype_iou_metric import PrototypeIoUMetric
from .prototypes import PrototypeAccumulator, labels_on_input_grid

__all__ = ['PrototypeAccumulator', 'PrototypeIoUMetric', 'labels_on_input_grid']
