"""FCMAE: masking, submanifold semantics of every sparse backend, backend equivalence, loss."""
import pytest
import torch
from mmpretrain.registry import MODELS

from mmconvnextv2.models import ConvNeXtV2, random_patch_mask
from mmconvnextv2.models.heads import FCMAEHead, patchify, unpatchify
from mmconvnextv2.models.sparse import SPARSE_BACKENDS
from tests.helpers import randomize_


def available_backends():
    out = ['gather', 'gather_dense_conv', 'masked_dense']
    try:
        import MinkowskiEngine  # noqa: F401
        out.append('minkowski')
    except ImportError:
        pass
    return out


BACKENDS = available_backends()


def build_fcmae(arch='atto', backend='gather', decoder_type='convnext', in_channels=3,
                **kwargs):
    channels = ConvNeXtV2.arch_settings[arch]['channels']
    cfg = dict(
        type='FCMAE',
        backbone=dict(type='ConvNeXtV2', arch=arch, final_norm=False,
                      gap_before_final_norm=False, sparse_backend=backend,
                      in_channels=in_channels,
                      out_indices=(0, 1, 2, 3) if decoder_type == 'unet' else (3, )),
        neck=dict(type='FCMAENeck', in_channels=channels[-1], embed_dim=64,
                  decoder_type=decoder_type, skip_channels=channels[:3], num_heads=4,
                  out_channels=in_channels),
        head=dict(type='FCMAEHead', in_channels=in_channels),
        **kwargs)
    return MODELS.build(cfg)


def test_minkowski_is_a_known_backend():
    assert set(SPARSE_BACKENDS) == {'gather', 'gather_dense_conv', 'masked_dense', 'minkowski'}


@pytest.mark.parametrize('ratio, grid', [(0.6, (7, 7)), (0.75, (4, 6)), (0.5, (2, 2)),
                                         (0.1, (3, 5))])
def test_mask_keeps_the_configured_number_of_patches(ratio, grid):
    mask = random_patch_mask(16, *grid, ratio)
    L = grid[0] * grid[1]
    keep = int(L * (1 - ratio))
    assert mask.shape == (16, *grid)
    assert set(mask.unique().tolist()) <= {0., 1.}
    assert (mask.flatten(1).sum(1) == L - keep).all()
    assert not (mask == mask[0]).all(), 'masks must differ between samples'


@pytest.mark.parametrize('ratio', [0., 1., -0.1, 1.5])
def test_mask_ratio_outside_unit_interval(ratio):
    with pytest.raises(ValueError, match='mask_ratio must be in'):
        random_patch_mask(2, 7, 7, ratio)
    with pytest.raises(ValueError, match='mask_ratio must be in'):
        build_fcmae(mask_ratio=ratio)


def test_mask_that_keeps_nothing():
    with pytest.raises(ValueError, match='keeps 0 of 4 patches'):
        random_patch_mask(2, 2, 2, 0.9)


def encoder(backend, arch='atto'):
    model = ConvNeXtV2(arch, out_indices=(0, 1, 2, 3), final_norm=False,
                       gap_before_final_norm=False, sparse_backend=backend)
    return randomize_(model, std=0.05).eval()  # GRN gamma/beta non-zero too


@pytest.mark.parametrize('backend', BACKENDS)
def test_masked_pixels_never_reach_visible_outputs(backend):
    torch.manual_seed(1)
    model = encoder(backend)
    x = torch.randn(2, 3, 128, 96)
    mask = random_patch_mask(2, 4, 3, 0.6)
    pixel_mask = mask.repeat_interleave(32, 1).repeat_interleave(32, 2).bool()
    x2 = x.clone()
    x2[pixel_mask.unsqueeze(1).expand_as(x2)] = torch.randn(int(pixel_mask.sum()) * 3) * 50
    with torch.no_grad():
        outs, outs2 = model(x, mask), model(x2, mask)
    for i, (a, b) in enumerate(zip(outs, outs2)):
        scale = 2**(3 - i)
        m = mask.repeat_interleave(scale, 1).repeat_interleave(scale, 2).bool()
        m = m.unsqueeze(1).expand_as(a)
        assert a[~m].abs().sum() > 0
        torch.testing.assert_close(a[~m], b[~m], rtol=1e-5, atol=1e-5,
                                   msg=f'stage {i}: masked pixels changed visible outputs')
        assert (a[m] == 0).all() and (b[m] == 0).all(), f'stage {i}: masked outputs not zero'


@pytest.mark.parametrize('backend', BACKENDS)
def test_samples_are_independent(backend):
    """GRN statistics are per sample over its visible positions, never over the batch."""
    model = encoder(backend)
    x = torch.randn(3, 3, 64, 64)
    mask = random_patch_mask(3, 2, 2, 0.5)
    with torch.no_grad():
        full = model(x, mask)[-1]
        for i in range(3):
            torch.testing.assert_close(model(x[i:i + 1], mask[i:i + 1])[-1], full[i:i + 1],
                                       rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('backend', BACKENDS)
def test_no_mask_equals_dense(backend):
    """With every patch visible, sparse execution is the dense network."""
    model = encoder(backend)
    x = torch.randn(2, 3, 64, 96)
    with torch.no_grad():
        dense = model(x)
        sparse = model(x, torch.zeros(2, 2, 3))
    for a, b in zip(dense, sparse):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)


def loss_and_grads(model, x, mask):
    model.zero_grad()
    loss = model.reconstruct(x, mask)['loss']
    loss.backward()
    return loss.detach(), {n: p.grad.clone() for n, p in model.named_parameters()}


@pytest.mark.parametrize('decoder_type', ['convnext', 'unet'])
def test_backends_agree_on_loss_and_gradients(decoder_type):
    torch.manual_seed(2)
    ref = randomize_(build_fcmae(backend='masked_dense', decoder_type=decoder_type), std=0.05)
    x = torch.randn(2, 3, 96, 128)
    mask = random_patch_mask(2, 3, 4, 0.6)
    ref_loss, ref_grads = loss_and_grads(ref, x, mask)
    for backend in BACKENDS:
        if backend == 'masked_dense':
            continue
        model = build_fcmae(backend=backend, decoder_type=decoder_type)
        model.load_state_dict(ref.state_dict())
        loss, grads = loss_and_grads(model, x, mask)
        torch.testing.assert_close(loss, ref_loss, rtol=1e-5, atol=0, msg=backend)
        for name, g in ref_grads.items():
            scale = g.abs().max().clamp_min(1e-12)
            err = (grads[name] - g).abs().max() / scale
            assert err <= 1e-5, f'{backend}: gradient of {name} differs by {err:.2e} (relative)'


def test_loss_ignores_visible_patches():
    head = FCMAEHead(patch_size=32, norm_pix=True)
    imgs = torch.randn(2, 3, 64, 96)
    mask = torch.tensor([[[1., 0., 0.], [0., 1., 1.]], [[0., 0., 1.], [1., 1., 0.]]])
    pred = torch.randn(2, 32 * 32 * 3, 2, 3)
    loss = head.loss(pred, imgs, mask)
    visible = (mask == 0).unsqueeze(1).expand_as(pred)
    pred2 = pred.clone()
    pred2[visible] += 100.
    torch.testing.assert_close(head.loss(pred2, imgs, mask), loss)
    pred3 = pred.clone()
    pred3[~visible] += 1.
    assert head.loss(pred3, imgs, mask) > loss
    # by hand: mean over masked patches of the per-patch mean squared error
    target = head.target(imgs)                              # (N, L, p*p*C)
    per_patch = (pred.flatten(2).transpose(1, 2) - target).pow(2).mean(-1)
    expected = per_patch[mask.flatten(1).bool()].mean()
    torch.testing.assert_close(loss, expected)


def test_norm_pix_targets():
    imgs = torch.rand(2, 3, 64, 64) * 5 + 3
    t = FCMAEHead(norm_pix=True).target(imgs)
    torch.testing.assert_close(t.mean(-1), torch.zeros(2, 4), atol=1e-4, rtol=0)
    torch.testing.assert_close(t.var(-1), torch.ones(2, 4), atol=1e-3, rtol=0)
    raw = FCMAEHead(norm_pix=False).target(imgs)
    torch.testing.assert_close(raw, patchify(imgs, 32))


def test_patchify_round_trip_rectangular():
    imgs = torch.randn(2, 4, 64, 160)
    patches = patchify(imgs, 32)
    assert patches.shape == (2, 10, 32 * 32 * 4)
    # the first patch is the top-left 32x32 block, (row, column, channel) ordered
    torch.testing.assert_close(patches[0, 0], imgs[0, :, :32, :32].permute(1, 2, 0).flatten())
    torch.testing.assert_close(unpatchify(patches, 32, (2, 5), 4), imgs)


@pytest.mark.parametrize('decoder_type', ['convnext', 'transformer', 'unet'])
@pytest.mark.parametrize('in_channels', [1, 3, 4])
def test_fcmae_trains_on_rectangular_images_any_channels(decoder_type, in_channels):
    model = build_fcmae(decoder_type=decoder_type, in_channels=in_channels)
    model.init_weights()
    x = torch.randn(2, in_channels, 64, 160)
    losses = model.loss(x, None)
    assert set(losses) == {'loss'} and torch.isfinite(losses['loss'])
    losses['loss'].backward()
    assert model.backbone.stages[3][0].grn.gamma.grad is not None


@pytest.mark.parametrize('size', [(64, 80), (48, 64)])
def test_image_size_not_a_multiple_of_the_patch(size):
    with pytest.raises(ValueError, match='not a multiple of the patch size 32'):
        build_fcmae().loss(torch.randn(1, 3, *size), None)


def test_patch_size_must_be_the_encoder_stride():
    with pytest.raises(ValueError, match='must equal the encoder stride 32'):
        build_fcmae(patch_size=16)


def test_wrong_channel_count_is_named():
    with pytest.raises(ValueError, match='images have 1 channels, the head expects 3'):
        FCMAEHead().loss(torch.zeros(1, 3072, 1, 1), torch.zeros(1, 1, 32, 32),
                         torch.ones(1, 1, 1))


def test_minkowski_missing_gives_install_hint(monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, 'MinkowskiEngine', None)  # import raises ImportError
    monkeypatch.delitem(sys.modules, 'mmconvnextv2.models.sparse.minkowski', raising=False)
    model = ConvNeXtV2('atto', final_norm=False, gap_before_final_norm=False,
                       sparse_backend='minkowski')
    with pytest.raises(ImportError, match='make install-minkowski'):
        model(torch.randn(1, 3, 64, 64), torch.tensor([[[1., 0.], [0., 0.]]]))


@pytest.mark.skipif('minkowski' not in BACKENDS, reason='MinkowskiEngine is not installed')
@pytest.mark.parametrize('depthwise', [True, False])
def test_official_minkowski_kernels_convert_to_dense(depthwise):
    """A MinkowskiEngine layer with random weights, and the dense conv whose weight
    ``convert_official`` makes of its kernel, agree on a fully dense input."""
    import MinkowskiEngine as ME

    from mmconvnextv2.checkpoint.convert import _minkowski_kernel_to_dense
    from mmconvnextv2.models.sparse.minkowski import dense_to_minkowski_kernel
    C = 8
    if depthwise:
        me = ME.MinkowskiChannelwiseConvolution(C, kernel_size=7, bias=True, dimension=2)
        conv = torch.nn.Conv2d(C, C, 7, padding=3, groups=C)
    else:
        me = ME.MinkowskiConvolution(C, 2 * C, kernel_size=2, stride=2, bias=True, dimension=2)
        conv = torch.nn.Conv2d(C, 2 * C, 2, 2)
    with torch.no_grad():
        me.kernel.normal_()
        me.bias.normal_()
        conv.weight.copy_(_minkowski_kernel_to_dense(me.kernel))
        conv.bias.copy_(me.bias.reshape(-1))
    torch.testing.assert_close(dense_to_minkowski_kernel(conv.weight), me.kernel)
    x = torch.randn(2, C, 8, 8)
    coords = torch.stack(torch.meshgrid(torch.arange(2), torch.arange(8), torch.arange(8),
                                        indexing='ij'), -1).reshape(-1, 3).int()
    feats = x.permute(0, 2, 3, 1).reshape(-1, C)
    out = me(ME.SparseTensor(feats, coordinates=coords))
    dense = out.dense(shape=torch.Size([2, conv.out_channels, *conv(x).shape[-2:]]))[0]
    torch.testing.assert_close(dense, conv(x), rtol=1e-4, atol=1e-4)


def test_row_gather_and_scatter_gradients():
    """The gather backend's row copies and their hand-written backward (float64 gradcheck)."""
    from mmconvnextv2.models.sparse.base import _GatherRows, _ScatterRows
    rows = torch.randn(6, 3, dtype=torch.float64, requires_grad=True)
    tokens = torch.randn(3, 3, dtype=torch.float64, requires_grad=True)
    index = torch.tensor([4, 0, 2])
    assert torch.autograd.gradcheck(lambda r: _GatherRows.apply(r, index), (rows, ))
    assert torch.autograd.gradcheck(lambda t: _ScatterRows.apply(t, index, 6), (tokens, ))


def test_downsampling_that_is_not_blockwise_runs_densely():
    """A downsampling conv that does not map blocks onto positions (here padded) takes the
    dense path, and agrees with the masked-dense reference."""
    from mmconvnextv2.models.sparse import build_sparse_backend
    mask = random_patch_mask(2, 2, 2, 0.5, generator=torch.Generator().manual_seed(0))
    conv = torch.nn.Conv2d(4, 6, 3, stride=2, padding=1)
    x = torch.randn(2, 4, 16, 16)
    outs = []
    for name in ('gather', 'masked_dense'):
        backend = build_sparse_backend(name, mask, 4, (64, 64), 2)
        assert not (name == 'gather' and backend._is_blockwise(conv))
        outs.append(backend.dense(backend.downsample(conv, backend.enter(x))))
    torch.testing.assert_close(outs[0], outs[1], rtol=1e-5, atol=1e-6)
