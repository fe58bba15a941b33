from . import data_preprocessors, decode_heads, losses  # noqa: F401
