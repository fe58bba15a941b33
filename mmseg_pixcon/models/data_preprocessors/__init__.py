from .pixcon_data_preprocessor import PixConDataPreProcessor
from .second_view import DEFAULT_DISTORTION, SecondView

__all__ = ['DEFAULT_DISTORTION', 'PixConDataPreProcessor', 'SecondView']
