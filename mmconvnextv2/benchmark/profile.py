"""Where the time of an FCMAE training step goes, by kind of work.

``torch.profiler`` records one or more steps (forward, backward, AdamW). Every forward
operator is attributed to the nearest labelled scope around it: the modules of the encoder
(stem, depthwise conv, LayerNorm, Linear, GELU, GRN, downsampling, the block's residual), the
sparse backend's own work (scatter, gather, masking; its downsampling, with the gathers that
feed it, is "downsampling"), the decoder, the loss, the optimizer.
Every backward operator is attributed to the forward operator that created its autograd node
(matched by the autograd sequence number), so "depthwise conv" is its forward *and* backward.
Self times are summed, so the kinds add up to the step.
"""
from collections import defaultdict
from contextlib import ExitStack, contextmanager
from typing import Callable, Dict, List, Tuple

import torch
from torch import nn
from torch.autograd.profiler import record_function

PREFIX = 'fcmae::'
# in the order the table lists them
KINDS = ('stem', 'depthwise conv', 'scatter/gather/masking', 'LayerNorm', 'Linear', 'GELU',
         'GRN', 'residual + drop path', 'downsampling', 'encoder outputs', 'decoder', 'loss',
         'optimizer', 'other')
# the kind of each sparse-backend method's own work (what no module label inside claims)
# operators whose kind their name says, wherever they run
OPERATOR_KINDS = {'mmconvnextv2::sparse_dwconv': 'depthwise conv',
                  'mmconvnextv2::sparse_dwconv_weight_grad': 'depthwise conv'}
BACKEND_METHODS = dict(enter='scatter/gather/masking', pointwise='scatter/gather/masking',
                       spatial='scatter/gather/masking', dense='scatter/gather/masking',
                       downsample='downsampling')


class _Unlabel:
    """Removes the label :func:`_label_module` put on a module."""

    def __init__(self, module: nn.Module):
        self.module = module

    def remove(self):
        self.module.__dict__.pop('forward', None)


def _label_module(module: nn.Module, kind: str) -> List:
    """Open a ``record_function`` scope named ``kind`` around ``module``'s forward.

    The instance's ``forward`` is wrapped rather than hooked: the gather backend bypasses the
    forward of a convolution without hooks (the sparse depthwise operator, the blockwise
    downsampling), and a hook would make the profiled step take the dense path instead.
    Work that bypasses the forward is labelled by its backend method (and the sparse
    depthwise operator by its name, :data:`OPERATOR_KINDS`).
    """
    forward = module.forward

    def labelled_forward(*args, **kwargs):
        with record_function(PREFIX + kind):
            return forward(*args, **kwargs)

    module.forward = labelled_forward
    return [_Unlabel(module)]


@contextmanager
def labelled(model: nn.Module, backend_classes=()):
    """Label the FCMAE ``model``'s modules and the sparse backends' methods while inside."""
    handles, originals = [], []
    try:
        _label_modules(model, handles)
        for cls in backend_classes:
            for name, kind in BACKEND_METHODS.items():
                if name in vars(cls):
                    fn = vars(cls)[name]

                    def wrapped(*args, _fn=fn, _kind=kind, **kwargs):
                        with record_function(PREFIX + _kind):
                            return _fn(*args, **kwargs)

                    originals.append((cls, name, fn))
                    setattr(cls, name, wrapped)
        yield
    finally:
        for handle in handles:
            handle.remove()
        for cls, name, fn in originals:
            setattr(cls, name, fn)


def _label_modules(model: nn.Module, handles: List) -> None:
    from ..models.backbones.convnextv2 import ConvNeXtV2Block
    from ..models.layers.grn import GRN
    backbone = model.backbone
    handles += _label_module(backbone, 'encoder outputs')  # what no inner scope claims
    stem_conv, stem_norm = backbone.downsample_layers[0]
    handles += _label_module(stem_conv, 'stem') + _label_module(stem_norm, 'stem')
    for layer in list(backbone.downsample_layers)[1:]:
        handles += _label_module(layer[0], 'downsampling') + _label_module(layer[1],
                                                                           'downsampling')
    for module in backbone.modules():
        if isinstance(module, ConvNeXtV2Block):
            handles += _label_module(module, 'residual + drop path')
            handles += _label_module(module.dwconv, 'depthwise conv')
            handles += _label_module(module.norm, 'LayerNorm')
            handles += _label_module(module.pwconv1, 'Linear')
            handles += _label_module(module.pwconv2, 'Linear')
            handles += _label_module(module.act, 'GELU')
            if isinstance(module.grn, GRN):
                handles += _label_module(module.grn, 'GRN')
    handles += _label_module(model.neck, 'decoder')


def _kind_of(event, parents: Dict) -> Tuple[str, bool]:
    """(kind, is_backward) of an event, from its nearest labelled ancestor; accumulating
    ``.grad`` (autograd's AccumulateGrad) is the optimizer's side of backward. An operator
    of :data:`OPERATOR_KINDS` on the way up names the kind; the rest of the way says whether
    it ran in backward."""
    e, named = event, None
    while e is not None:
        if named is None and e.name in OPERATOR_KINDS:
            named = OPERATOR_KINDS[e.name]
        if e.name.startswith(PREFIX):
            return named or e.name[len(PREFIX):], False
        if e.name.startswith('Optimizer.'):
            return 'optimizer', False
        if e.name.startswith('autograd::engine::evaluate_function'):
            if 'AccumulateGrad' in e.name:
                return 'optimizer', True
            return named or parents.get(e.sequence_nr, 'other'), True
        e = e.cpu_parent
    return named or 'other', False


def attribute(events, device: str = 'cpu') -> Dict[str, Dict[str, float]]:
    """Self time (s) per kind, forward and backward, of the profiled ``events``."""
    from torch.autograd import DeviceType
    cuda = device.startswith('cuda')
    # a CUDA kernel is both its own event and part of the CPU op that launched it (whose
    # self_device_time_total includes it): count the CPU ops only
    events = [e for e in events if e.device_type == DeviceType.CPU]

    def self_time(e):
        return (e.self_device_time_total if cuda else e.self_cpu_time_total) * 1e-6

    # the kind of the forward operator that recorded each autograd node: of the events that
    # carry a sequence number, the last one (in time) is the op that created the node
    forward_kind = {}
    for e in sorted(events, key=lambda e: e.time_range.start):
        if e.sequence_nr >= 0 and not e.name.startswith('autograd::'):
            kind, backward = _kind_of(e, {})
            if not backward:
                forward_kind[e.sequence_nr] = kind
    table = defaultdict(lambda: dict(forward=0., backward=0.))
    for e in events:
        kind, backward = _kind_of(e, forward_kind)
        table[kind]['backward' if backward else 'forward'] += self_time(e)
    return dict(table)


def profile_step(step: Callable[[], None], model: nn.Module, steps: int = 3,
                 warmup: int = 2, device: str = 'cpu', backend_classes=()
                 ) -> Dict[str, Dict[str, float]]:
    """Per-kind time of one ``step`` (mean over ``steps`` profiled ones)."""
    from torch.profiler import ProfilerActivity, profile
    for _ in range(warmup):
        step()
    activities = [ProfilerActivity.CPU]
    if device.startswith('cuda'):
        activities.append(ProfilerActivity.CUDA)
        torch.cuda.synchronize()
    with ExitStack() as stack:
        stack.enter_context(labelled(model, backend_classes))
        prof = stack.enter_context(profile(activities=activities))
        for _ in range(steps):
            step()
        if device.startswith('cuda'):
            torch.cuda.synchronize()
    table = attribute(prof.events(), device)
    return {k: {p: t / steps for p, t in v.items()} for k, v in table.items()}


def profile_table(profiles: Dict[str, Dict[str, Dict[str, float]]]) -> str:
    """Markdown: ms per step of each kind (forward / backward) and its share, one column
    group per profiled contender."""
    names = list(profiles)
    head = '| kind | ' + ' | '.join(f'{n}: fwd ms | bwd ms | share' for n in names) + ' |'
    lines = [head, '|---|' + '---:|---:|---:|' * len(names)]
    totals = {n: sum(v['forward'] + v['backward'] for v in profiles[n].values())
              for n in names}
    kinds = [k for k in KINDS if any(k in p for p in profiles.values())]
    kinds += sorted({k for p in profiles.values() for k in p} - set(kinds))
    for kind in kinds:
        cells = []
        for n in names:
            v = profiles[n].get(kind, dict(forward=0., backward=0.))
            share = (v['forward'] + v['backward']) / totals[n]
            cells.append(f'{1e3 * v["forward"]:.1f} | {1e3 * v["backward"]:.1f} | '
                         f'{100 * share:.0f} %')
        lines.append(f'| {kind} | ' + ' | '.join(cells) + ' |')
    lines.append('| **step** | ' + ' | '.join(f'{1e3 * totals[n]:.0f} (total) | | 100 %'
                                            for n in names) + ' |')
    return '\n'.join(lines)
