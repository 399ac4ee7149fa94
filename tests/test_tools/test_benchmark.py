"""The benchmark's contenders and the profile's bookkeeping (their speed is never asserted):
the detector and segmentor suites build both backbones with the same weights and train a step;
the FCMAE profile attributes every kind of work, backward included, and leaves nothing
behind."""
import pytest
import torch

from mmconvnextv2.benchmark.cases import build_fcmae, downstream_cases, train_step
from mmconvnextv2.benchmark.profile import KINDS, attribute, labelled, profile_table
from mmconvnextv2.models import random_patch_mask
from mmconvnextv2.models.sparse import GatherBackend, MaskedDenseBackend


@pytest.mark.parametrize('task', ['detector', 'segmentor'])
def test_downstream_contenders_share_weights_and_train(task):
    cases = downstream_cases(task, arch='atto', size=64, batch=2, with_cp=True)
    assert set(cases) == {'mmconvnextv2', 'mmconvnextv2 with_cp', 'mmpretrain',
                          'mmconvnextv2 backbone', 'mmpretrain backbone'}
    # all start from mmpretrain's weights
    models = {name: step.model for name, (_, _, step) in cases.items() if hasattr(step, 'model')}
    ours, ref = models['mmconvnextv2'], models['mmpretrain']
    assert type(ours.backbone).__name__ == 'ConvNeXtV2'
    assert not ours.backbone.stages[0][0].with_cp
    assert models['mmconvnextv2 with_cp'].backbone.stages[0][0].with_cp
    head = 'neck.lateral_convs.0.conv.weight' if task == 'detector' else \
        'decode_head.conv_seg.weight'
    torch.testing.assert_close(ours.state_dict()[head], ref.state_dict()[head])
    torch.testing.assert_close(ours.backbone.stages[0][0].dwconv.weight,
                               ref.backbone.stages[0][0].depthwise_conv.weight)
    # the in-model backbone steps give the backbones' weights a gradient and leave the rest
    cases['mmconvnextv2 backbone'][2]()
    assert ours.backbone.stages[0][0].pwconv1.weight.grad is not None
    assert all(p.grad is None for n, p in ours.named_parameters() if not n.startswith('backbone'))
    before = ours.backbone.stages[0][0].pwconv1.weight.detach().clone()
    for _, _, step in cases.values():
        step()
    assert not torch.equal(before, ours.backbone.stages[0][0].pwconv1.weight)


def test_backbone_shares_replace_the_backbones_time():
    from mmconvnextv2.benchmark import Result, backbone_shares
    step, bb = 'UperNet 64px train step', 'UperNet 64px in-model backbone fwd+bwd'
    results = [Result('mmpretrain', step, 10., [10.]), Result('mmconvnextv2', step, 9.5, [9.5]),
               Result('mmpretrain', bb, 4., [4.]), Result('mmconvnextv2', bb, 3., [3.])]
    share = backbone_shares(results)[step]
    assert share['backbone_share'] == pytest.approx(0.4)
    assert share['backbone_ratio'] == pytest.approx(0.75)
    assert share['expected_step_ratio'] == pytest.approx(0.9)
    assert share['measured_step_ratio'] == pytest.approx(0.95)


@pytest.mark.parametrize('backend', ['gather', 'masked_dense'])
def test_profile_attributes_the_whole_step(backend):
    """Every kind of work of the FCMAE step shows up, backward included (found through the
    forward op that recorded it), and almost nothing is left unattributed."""
    from torch.profiler import ProfilerActivity, profile
    torch.manual_seed(0)
    model = build_fcmae('atto', backend)
    imgs = torch.randn(2, 3, 64, 64)
    mask = random_patch_mask(2, 2, 2, 0.5, generator=torch.Generator().manual_seed(0))
    step = train_step(model, imgs, mask, mask, 'cpu', 'fp32')
    step()
    with labelled(model, (GatherBackend, MaskedDenseBackend)):
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            step()
    # the labels are gone afterwards
    assert not model.backbone._forward_hooks and 'wrapped' not in \
        GatherBackend.dense.__qualname__
    table = attribute(prof.events())
    for kind in ('stem', 'depthwise conv', 'scatter/gather/masking', 'LayerNorm', 'Linear',
                 'GELU', 'GRN', 'downsampling', 'decoder', 'loss', 'optimizer'):
        assert table[kind]['forward'] + table[kind]['backward'] > 0, kind
    for kind in ('depthwise conv', 'Linear', 'GRN', 'decoder'):
        assert table[kind]['backward'] > 0, kind  # backward found its forward's kind
    assert set(table) <= set(KINDS)
    total = sum(v['forward'] + v['backward'] for v in table.values())
    other = table.get('other', dict(forward=0., backward=0.))
    assert other['forward'] + other['backward'] < 0.05 * total
    assert '| depthwise conv |' in profile_table({backend: table})


def test_dwconv_contenders_compute_the_same():
    """The dwconv suite's two contenders per stage run the same convolution on the same
    tokens with the same upstream gradient: equal outputs and input gradients."""
    from mmconvnextv2.ops import ops_available
    if not ops_available():
        pytest.skip('mmconvnextv2._ext not built')
    from mmconvnextv2.benchmark.cases import dwconv_cases
    cases = dwconv_cases('atto', size=64, batch=2, ratios=(0.5, ))
    assert len(cases) == 8
    for stage in range(4):
        outs, grads = [], []
        for label in ('dense map', 'sparse operator'):
            step = cases[f'{label}@0.5/{stage}'][2]
            step.tokens.grad = None
            outs.append(step())
            grads.append(step.tokens.grad)
        assert outs[0].abs().sum() > 0 and grads[0].abs().sum() > 0
        torch.testing.assert_close(outs[1], outs[0], rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(grads[1], grads[0], rtol=1e-5, atol=1e-5)
