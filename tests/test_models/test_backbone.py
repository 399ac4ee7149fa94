import pytest
import torch

from mmconvnextv2.models import ConvNeXtV2
from tests.helpers import randomize_

ARCHS = list(ConvNeXtV2.arch_settings)


def build(arch, **kwargs):
    kwargs.setdefault('out_indices', (0, 1, 2, 3))
    kwargs.setdefault('gap_before_final_norm', False)
    return ConvNeXtV2(arch=arch, **kwargs)


def test_arch_table_matches_the_paper():
    s = ConvNeXtV2.arch_settings
    assert list(s) == ['atto', 'femto', 'pico', 'nano', 'tiny', 'base', 'large', 'huge']
    assert s['atto'] == dict(depths=(2, 2, 6, 2), channels=(40, 80, 160, 320))
    assert s['huge'] == dict(depths=(3, 3, 27, 3), channels=(352, 704, 1408, 2816))


@pytest.mark.parametrize('arch', ARCHS)
def test_shapes_strides_and_gradients(arch):
    model = randomize_(build(arch), std=0.02)
    x = torch.randn(2, 3, 64, 96)
    outs = model(x)
    channels = ConvNeXtV2.arch_settings[arch]['channels']
    assert len(outs) == 4
    for i, out in enumerate(outs):
        stride = 4 * 2**i
        assert out.shape == (2, channels[i], 64 // stride, 96 // stride)
        assert out.is_contiguous(), f'output {i} is not contiguous NCHW: {out.stride()}'
        assert torch.isfinite(out).all()
    sum(o.square().mean() for o in outs).backward()
    no_grad = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.any()]
    assert not no_grad, f'parameters without gradient: {no_grad[:5]}'


@pytest.mark.parametrize('arch', ['atto', 'tiny'])
def test_gap_output(arch):
    model = build(arch, out_indices=-1, gap_before_final_norm=True)
    (out, ) = model(torch.randn(2, 3, 32, 32))
    assert out.shape == (2, ConvNeXtV2.arch_settings[arch]['channels'][-1])


@pytest.mark.parametrize('mode', ['maps', 'gap', 'encoder', 'gather', 'masked_dense'])
def test_every_output_is_contiguous_nchw(mode):
    """What leaves the backbone is contiguous NCHW (the interior runs channels-last), for
    every use: detection/segmentation maps, classification vectors, the FCMAE encoder with
    and without a mask. Compiled ops downstream (mmcv's RoIAlign) read raw memory as NCHW."""
    kwargs = dict(gap=dict(out_indices=-1, gap_before_final_norm=True),
                  encoder=dict(final_norm=False)).get(mode, {})
    if mode in ('gather', 'masked_dense'):
        kwargs = dict(final_norm=False, sparse_backend=mode)
    model = build('atto', **kwargs)
    x = torch.randn(2, 3, 64, 96)
    mask = None
    if mode in ('gather', 'masked_dense'):
        mask = torch.tensor([[[1, 0, 1], [0, 1, 0]], [[0, 0, 1], [1, 1, 0]]])
    outs = model(x, mask)
    assert outs
    for i, out in enumerate(outs):
        assert out.ndim == (2 if mode == 'gap' else 4)
        assert out.is_contiguous(), f'{mode} output {i} has strides {out.stride()}'


def test_custom_arch():
    model = build(dict(depths=[1, 1], channels=[8, 16]), out_indices=(0, 1))
    outs = model(torch.randn(1, 3, 16, 16))
    assert [o.shape[1] for o in outs] == [8, 16]


@pytest.mark.parametrize('bad, match', [
    (dict(arch='small'), 'unknown ConvNeXt V2 arch'),
    (dict(arch=dict(depths=[2, 2])), 'depths.*channels'),
    (dict(arch=dict(depths=[2], channels=[8, 16])), 'same length'),
    (dict(drop_path_rate=-0.1), 'drop_path_rate'),
    (dict(out_indices=(4, )), 'out_indices'),
    (dict(frozen_stages=5), 'frozen_stages'),
    (dict(sparse_backend='cuda_magic'), 'sparse_backend'),
])
def test_bad_arguments_are_named(bad, match):
    kwargs = dict(arch='atto')
    kwargs.update(bad)
    with pytest.raises(ValueError, match=match):
        ConvNeXtV2(**kwargs)


def test_input_smaller_than_stride():
    with pytest.raises(ValueError, match='smaller than the network stride 32'):
        build('atto')(torch.randn(1, 3, 16, 64))


@pytest.mark.parametrize('arch', ['atto', 'nano'])
def test_with_cp_same_output_and_grads(arch):
    model = randomize_(build(arch, drop_path_rate=0.), std=0.02)
    model_cp = build(arch, with_cp=True)
    model_cp.load_state_dict(model.state_dict())
    x = torch.randn(2, 3, 64, 64, requires_grad=True)
    x_cp = x.detach().clone().requires_grad_()
    out, out_cp = model(x), model_cp(x_cp)
    for a, b in zip(out, out_cp):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    sum(o.sum() for o in out).backward()
    sum(o.sum() for o in out_cp).backward()
    torch.testing.assert_close(x.grad, x_cp.grad, rtol=1e-5, atol=1e-6)
    for (n, p), p_cp in zip(model.named_parameters(), model_cp.parameters()):
        torch.testing.assert_close(p.grad, p_cp.grad, rtol=1e-5, atol=1e-6, msg=n)


@pytest.mark.parametrize('frozen', [0, 1, 3, 4])
def test_frozen_stages(frozen):
    model = build('atto', frozen_stages=frozen, drop_path_rate=0.1)
    model.train()
    for i in range(4):
        params = list(model.downsample_layers[i].parameters()) + \
            list(model.stages[i].parameters())
        assert all(p.requires_grad == (i >= frozen) for p in params)
        assert all(m.training == (i >= frozen) for m in model.stages[i].modules())
    assert all(p.requires_grad for p in model.norm3.parameters())


def test_drop_path_rates_increase_linearly():
    model = build('atto', drop_path_rate=0.3)
    rates = [b.drop_path.drop_prob for s in model.stages for b in s if hasattr(b.drop_path,
                                                                            'drop_prob')]
    assert len(rates) == 11  # the first block has rate 0 and no DropPath
    assert rates[-1] == pytest.approx(0.3)
    assert rates == sorted(rates)
