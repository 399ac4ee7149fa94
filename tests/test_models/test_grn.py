import pytest
import torch

from mmconvnextv2.models.layers import GRN


def reference_grn(x, gamma, beta, eps=1e-6):
    """The paper's equations, written out on NHWC input."""
    g = x.pow(2).sum(dim=(1, 2), keepdim=True).sqrt()          # (N, 1, 1, C)
    n = g / (g.mean(dim=-1, keepdim=True) + eps)
    return gamma * (x * n) + beta + x


def test_grn_is_identity_at_init():
    x = torch.randn(2, 5, 6, 8)
    grn = GRN(8)
    assert torch.equal(grn.gamma, torch.zeros(8)) and torch.equal(grn.beta, torch.zeros(8))
    torch.testing.assert_close(grn(x), x, rtol=0, atol=0)


def test_grn_matches_paper():
    x = torch.randn(3, 7, 5, 16)
    grn = GRN(16)
    with torch.no_grad():
        grn.gamma.normal_()
        grn.beta.normal_()
    torch.testing.assert_close(grn(x), reference_grn(x, grn.gamma, grn.beta), rtol=1e-5,
                               atol=1e-6)


def test_grn_statistics_are_per_sample():
    x = torch.randn(4, 5, 5, 8)
    grn = GRN(8)
    with torch.no_grad():
        grn.gamma.normal_()
    full = grn(x)
    for i in range(4):
        torch.testing.assert_close(grn(x[i:i + 1]), full[i:i + 1], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize('masked_value', [0.0, 1e3])
def test_grn_valid_mask_equals_visible_tokens(masked_value):
    """GRN on a masked map with ``valid`` == GRN on the visible tokens alone."""
    N, H, W, C = 2, 4, 4, 8
    visible = torch.zeros(N, H, W, dtype=torch.bool)
    visible[:, :2] = True  # same count per sample
    visible[1] = visible[1].flip(0)
    x = torch.randn(N, H, W, C)
    x[~visible] = masked_value
    grn = GRN(C)
    with torch.no_grad():
        grn.gamma.normal_()
        grn.beta.normal_()
    dense = grn(x, visible.unsqueeze(-1).float())
    tokens = grn(x[visible].view(N, -1, C))
    torch.testing.assert_close(dense[visible].view(N, -1, C), tokens, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('cfg', [
    dict(type='GRN', aggregation='mean'),
    dict(type='GRN', normalization='standardize'),
    dict(type='GRN', residual=False),
    dict(type='BN'), dict(type='LN'), dict(type='LRN'), None,
])
def test_ablation_variants_build_and_train(cfg):
    from mmconvnextv2.models import ConvNeXtV2
    model = ConvNeXtV2('atto', grn_cfg=cfg, use_grn=cfg is not None, out_indices=(3, ),
                       gap_before_final_norm=False)
    out = model(torch.randn(2, 3, 64, 64))[0]
    assert out.shape == (2, 320, 2, 2) and torch.isfinite(out).all()
    out.mean().backward()
    kinds = {type(b.grn).__name__ for s in model.stages for b in s}
    assert kinds == ({'NoneType'} if cfg is None else
                     {'GRN'} if cfg['type'] == 'GRN' else {'ChannelsLastNorm'})


def test_grn_variants_match_their_definitions():
    x = torch.randn(2, 4, 5, 6)
    mean_grn = GRN(6, aggregation='mean')
    std_grn = GRN(6, normalization='standardize')
    no_res = GRN(6, residual=False)
    for g in (mean_grn, std_grn, no_res):
        with torch.no_grad():
            g.gamma.normal_()
            g.beta.normal_()
    g = x.abs().mean(dim=(1, 2), keepdim=True)
    n = g / (g.mean(-1, keepdim=True) + 1e-6)
    torch.testing.assert_close(mean_grn(x), mean_grn.gamma * x * n + mean_grn.beta + x)
    g = x.norm(dim=(1, 2), keepdim=True)
    n = (g - g.mean(-1, keepdim=True)) / (g.std(-1, keepdim=True) + 1e-6)
    torch.testing.assert_close(std_grn(x), std_grn.gamma * x * n + std_grn.beta + x)
    n = g / (g.mean(-1, keepdim=True) + 1e-6)
    torch.testing.assert_close(no_res(x), no_res.gamma * x * n + no_res.beta)


def test_unknown_variant_is_named():
    with pytest.raises(ValueError, match='aggregation must be one of'):
        GRN(4, aggregation='max')
    from mmconvnextv2.models.layers import build_mlp_norm
    with pytest.raises(ValueError, match="unknown grn_cfg type 'GN'"):
        build_mlp_norm(dict(type='GN'), 4)
