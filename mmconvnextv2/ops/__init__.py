"""Compiled CPU operators of mmconvnextv2 (optional).

``make install`` compiles ``mmconvnextv2/ops/csrc`` into ``mmconvnextv2._ext`` (setup.py). Where
it is not built (an install without torch at build time, ``MMCONVNEXTV2_WITH_OPS=0``, another
platform) every caller takes its pure-PyTorch path; :func:`ops_available` says which.
"""
from .sparse_dwconv import (
    neighbour_table,
    ops_available,
    ops_import_error,
    sparse_depthwise_conv,
    sparse_dwconv_applies,
)

__all__ = ['ops_available', 'ops_import_error', 'neighbour_table', 'sparse_depthwise_conv',
           'sparse_dwconv_applies']
