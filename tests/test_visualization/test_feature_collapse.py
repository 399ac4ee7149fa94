import torch

from mmconvnextv2.models import ConvNeXtV2
from mmconvnextv2.visualization.feature_collapse import (
    activation_grid,
    channel_cosine_distance,
    feature_collapse,
    plot_distances,
)


def test_identical_channels_give_zero():
    x = torch.rand(2, 1, 5, 5).repeat(1, 6, 1, 1)
    assert abs(channel_cosine_distance(x)) < 1e-6
    assert abs(channel_cosine_distance(x * torch.rand(1, 6, 1, 1) + 0)) < 1e-6  # scale-free


def test_orthogonal_channels_give_one():
    x = torch.eye(8).view(1, 8, 2, 4)  # each channel a different one-hot map
    assert abs(channel_cosine_distance(x) - 1.0) < 1e-6


def test_mixed_case_by_hand():
    a, b = torch.tensor([1., 0.]), torch.tensor([1., 1.]) / 2**.5
    x = torch.stack([a, b]).view(1, 2, 1, 2)  # cos = 1/sqrt(2)
    assert abs(channel_cosine_distance(x) - (1 - 2**-.5)) < 1e-6


def test_per_block_curve_and_pictures(tmp_path):
    model = ConvNeXtV2('atto', use_grn=False)
    curve = feature_collapse(model, torch.randn(2, 3, 64, 64))
    assert len(curve) == 12 and all(0 <= d <= 2 for d in curve)
    grid = activation_grid(torch.rand(16, 8, 8))
    assert grid.shape == (4 * 34, 4 * 34)
    path = plot_distances({'a': curve, 'b': curve[::-1]}, str(tmp_path / 'fc.png'))
    from PIL import Image
    assert Image.open(path).size[0] > 100
