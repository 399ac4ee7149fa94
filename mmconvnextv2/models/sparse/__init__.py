"""Sparse-execution backends of the ConvNeXt V2 encoder (see :mod:`.base`)."""
import torch

from .base import (
    DenseExecution,
    GatherBackend,
    GatherDenseConvBackend,
    MaskedDenseBackend,
    SparseBackend,
)

SPARSE_BACKENDS = ('gather', 'gather_dense_conv', 'masked_dense', 'minkowski')


# Under torch.compile this runs eagerly: which positions are visible is data (their number
# sets the shapes, `nonzero`), and the mask checks branch on it. Its one graph break per
# forward comes before the stem; the encoder, decoder and loss after it compile as one graph.
@torch.compiler.disable
def build_sparse_backend(name: str, mask, stem_stride: int, image_size,
                         num_stages: int) -> SparseBackend:
    """The backend ``name`` for one forward pass with ``mask`` (``(N, h, w)``, 1 = masked).

    ``'minkowski'`` imports MinkowskiEngine here, only when it is chosen.
    """
    if name == 'gather':
        cls = GatherBackend
    elif name == 'gather_dense_conv':
        cls = GatherDenseConvBackend
    elif name == 'masked_dense':
        cls = MaskedDenseBackend
    elif name == 'minkowski':
        from .minkowski import MinkowskiBackend as cls
    else:
        raise ValueError(f'unknown sparse_backend {name!r}; choose from {SPARSE_BACKENDS}')
    return cls(mask, stem_stride, image_size, num_stages)


__all__ = ['SparseBackend', 'DenseExecution', 'GatherBackend', 'GatherDenseConvBackend',
           'MaskedDenseBackend',
           'SPARSE_BACKENDS', 'build_sparse_backend']
