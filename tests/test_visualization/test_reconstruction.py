import numpy as np
import torch

from mmconvnextv2.visualization import reconstruction_grid, save_png
from tests.test_models.test_fcmae import build_fcmae

MEAN, STD = [123.675, 116.28, 103.53], [58.395, 57.12, 57.375]


def test_grid_layout_and_pasted_visible_patches(tmp_path):
    model = build_fcmae()
    model.init_weights()
    raw = torch.randint(0, 256, (2, 3, 64, 96)).float()
    x = (raw - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(STD).view(1, 3, 1, 1)
    mask = torch.tensor([[[1., 0., 0.], [0., 1., 1.]], [[0., 0., 1.], [1., 1., 0.]]])
    grid = reconstruction_grid(model, x, MEAN, STD, mask=mask, gap=4)
    assert grid.shape == (2 * 68 + 4, 3 * 100 + 4, 3) and grid.dtype == np.uint8
    for i in range(2):
        y = 4 + i * 68
        original = grid[y:y + 64, 4:100]
        masked = grid[y:y + 64, 104:200]
        recon = grid[y:y + 64, 204:300]
        expected = raw[i].permute(1, 2, 0).round().numpy().astype(np.uint8)
        assert np.array_equal(original, expected)
        for r in range(2):
            for c in range(3):
                block = (slice(r * 32, (r + 1) * 32), slice(c * 32, (c + 1) * 32))
                if mask[i, r, c]:
                    assert (masked[block] == 127).all()
                    assert not np.array_equal(recon[block], original[block])
                else:
                    assert np.array_equal(masked[block], original[block])
                    assert np.array_equal(recon[block], original[block])
    path = save_png(grid, str(tmp_path / 'a' / 'grid.png'))
    from PIL import Image
    assert np.array_equal(np.asarray(Image.open(path)), grid)
