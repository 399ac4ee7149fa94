"""Speed and memory benchmarks (``tools/analysis/benchmark.py``): the timing method in
:mod:`.timing`, the contenders in :mod:`.cases`. Speed is measured here, never in tests."""
from .cases import SUITES, backbone_shares
from .timing import Result, dump_json, interleave, markdown_table, peak_memory_mb, summarize

__all__ = ['SUITES', 'Result', 'backbone_shares', 'dump_json', 'interleave', 'markdown_table',
           'peak_memory_mb', 'summarize']
