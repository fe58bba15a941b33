"""Stock decode head classes with a mixin in front, made on first use."""
from typing import Any, Dict, Union

from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.registry import MODELS


def mixed_head_class(mixin: type, base: Union[str, type], prefix: str,
                     namespace: Dict[str, Any]) -> type:
    """``<prefix><Base>`` = (mixin, base), made once per base and cached in ``namespace``
    (the globals of the mixin's module, so that pickle finds the class by module and name in
    the process that made it). A class already defined there under that name with those
    bases is returned as is.

    Args:
        base: a decode head registered in mmseg's MODELS (name) or the class itself.

    Raises:
        ValueError: ``base`` is not registered, not a BaseDecodeHead subclass, or already
            has the mixin.
    """
    if isinstance(base, str):
        name, base = base, MODELS.get(base)
        if base is None:
            raise ValueError(f'base_type {name!r} is not registered in mmseg MODELS')
    if not (isinstance(base, type) and issubclass(base, BaseDecodeHead)):
        raise ValueError(f'base_type must be a BaseDecodeHead subclass, got {base!r}')
    if issubclass(base, mixin):
        raise ValueError(f'{base.__name__} already has {mixin.__name__}')
    name = prefix + base.__name__
    made = namespace.get(name)
    if made is None or made.__bases__ != (mixin, base):
        made = namespace[name] = type(name, (mixin, base), {
            '__module__': namespace['__name__'], '__qualname__': name,
            '__doc__': f'{base.__name__} with {mixin.__name__}; see :class:`{mixin.__name__}`.'})
    return made
