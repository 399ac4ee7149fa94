"""Speed and memory measurements, contenders interleaved in one process.

A noisy machine slows every contender alike when they take turns: each *round* runs every
contender once (in a rotated order), and each contender's time is the median over rounds.
Results are reported as ratios to a peer measured in the same run.
"""
import gc
import json
import os
import statistics
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from typing import Callable, Dict, List, Optional

import torch


@dataclass
class Result:
    name: str
    group: str
    median_s: float
    times_s: List[float] = field(repr=False)
    batch: int = 1
    peak_mb: Optional[float] = None
    extra: Dict = field(default_factory=dict)

    @property
    def items_per_s(self) -> float:
        return self.batch / self.median_s


def _sync(device: str) -> None:
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def peak_memory_mb(step: Callable[[], None], device: str) -> float:
    """Peak tensor memory one (warmed-up) call of ``step`` allocates above what was allocated
    before it: the CUDA allocator's peak, or on the CPU the running sum of the profiler's
    allocation and free events (the same quantity, since the CPU allocator keeps no stats)."""
    gc.collect()
    if device.startswith('cuda'):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        step()
        torch.cuda.synchronize()
        return (torch.cuda.max_memory_allocated() - base) / 2**20
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        step()
    events = sorted((e for e in prof.profiler.kineto_results.events() if e.name() == '[memory]'),
                    key=lambda e: e.start_ns())
    current = peak = 0
    for e in events:
        current += e.nbytes()
        peak = max(peak, current)
    return peak / 2**20


def interleave(contenders: Dict[str, Callable[[], None]], rounds: int = 10, warmup: int = 2,
               device: str = 'cpu') -> Dict[str, List[float]]:
    """Run each contender ``warmup`` times, then ``rounds`` rounds in rotated order; return
    the per-round wall times."""
    names = list(contenders)
    for name in names:
        for _ in range(warmup):
            contenders[name]()
    _sync(device)
    times = {name: [] for name in names}
    for r in range(rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            _sync(device)
            start = time.perf_counter()
            contenders[name]()
            _sync(device)
            times[name].append(time.perf_counter() - start)
    return times


def autocast(device: str, dtype: str):
    if dtype == 'fp32':
        return nullcontext()
    return torch.autocast(device_type=device.split(':')[0], dtype=torch.bfloat16)


def summarize(results: List[Result]) -> Dict:
    """JSON-ready summary: per result its median time, throughput, memory and the ratio of
    its time to the fastest *other* contender of its group (``vs_best_peer``, < 1 = faster)."""
    out = []
    for r in results:
        peers = [p for p in results if p.group == r.group and p.name != r.name]
        best = min((p.median_s for p in peers), default=None)
        out.append(dict(asdict(r), items_per_s=r.items_per_s,
                        vs_best_peer=(r.median_s / best) if best else None,
                        spread=statistics.pstdev(r.times_s) / r.median_s))
    return dict(results=out)


def markdown_table(results: List[Result], baseline: Optional[Callable[[Result], str]] = None
                   ) -> str:
    """A Markdown table; ``baseline(result)`` names the result it is compared with."""
    by_name = {(r.group, r.name): r for r in results}
    lines = ['| group | contender | ms / step | images/s | peak MB | time ratio |',
             '|---|---|---:|---:|---:|---:|']
    for r in results:
        ratio = ''
        if baseline is not None:
            base = by_name.get((r.group, baseline(r)))
            if base is not None:
                ratio = f'{r.median_s / base.median_s:.2f}'
        peak = '' if r.peak_mb is None else f'{r.peak_mb:.0f}'
        lines.append(f'| {r.group} | {r.name} | {1e3 * r.median_s:.1f} | '
                     f'{r.items_per_s:.1f} | {peak} | {ratio} |')
    return '\n'.join(lines)


def dump_json(obj: Dict, path: str) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(obj, f, indent=2)
