"""Let ``torch.load(weights_only=True)`` read the checkpoints that mmengine writes.

torch >= 2.6 loads with ``weights_only=True`` by default and refuses any pickled class it does
not know. mmengine 0.10.7 calls ``torch.load`` without the argument, so resuming a runner
checkpoint fails on the objects mmengine itself put there: its ``HistoryBuffer`` log buffers
and the NumPy arrays and scalars inside them. Rather than switching the check off, we
allow-list exactly those types; anything else in a checkpoint is still refused.

One more repair: ``HistoryBuffer.__getstate__`` also pickles its class-level registry of
statistics *functions*, which pickle can only reference through ``builtins.getattr``, a global
that must never be allow-listed (it reaches any attribute of any allowed object). Those
functions are code, re-registered by ``HistoryBuffer`` itself on import, so we pickle a
buffer's data only; mmengine's ``__setstate__`` already accepts a state without them.
"""
import numpy as np
import torch


def _history_buffer_getstate(self) -> dict:
    state = dict(self.__dict__)
    state.pop('statistics_methods', None)
    return state


def _mmengine_checkpoint_types() -> list:
    from mmengine.logging.history_buffer import HistoryBuffer

    types = [HistoryBuffer, np.ndarray, np.dtype, bytes]  # bytes: NumPy's empty arrays
    # NumPy pickles arrays and scalars through these two functions, and dtypes by class
    multiarray = getattr(np, '_core', None) or np.core
    types += [multiarray.multiarray._reconstruct, multiarray.multiarray.scalar]
    types += [type(np.dtype(t)) for t in (np.float16, np.float32, np.float64, np.int32, np.int64,
                                           np.uint8, np.bool_)]
    return types


def register_safe_globals() -> None:
    """Make mmengine runner checkpoints loadable with ``weights_only=True`` (idempotent)."""
    from mmengine.logging.history_buffer import HistoryBuffer
    HistoryBuffer.__getstate__ = _history_buffer_getstate
    if hasattr(torch.serialization, 'add_safe_globals'):
        torch.serialization.add_safe_globals(_mmengine_checkpoint_types())
