"""Draw FCMAE reconstructions (original / masked / reconstruction) from a checkpoint.

    python tools/analysis/visualize_reconstruction.py CONFIG CHECKPOINT IMG [IMG ...] \
        --out work_dirs/reconstruction.png [--size 224] [--seed 0]
"""
import argparse

import numpy as np
import torch
from mmengine.runner import load_checkpoint
from PIL import Image

import mmconvnextv2  # noqa: F401
from mmconvnextv2.apis import load_config
from mmconvnextv2.visualization import reconstruction_grid, save_png


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('images', nargs='+')
    parser.add_argument('--out', default='reconstruction.png')
    parser.add_argument('--size', type=int, default=224, help='resize images to this square')
    parser.add_argument('--seed', type=int, default=0, help='seed of the random masks')
    args = parser.parse_args(argv)

    cfg = load_config(args.config)
    from mmpretrain.registry import MODELS
    model = MODELS.build(cfg.model)
    load_checkpoint(model, args.checkpoint, map_location='cpu')
    prep = cfg.data_preprocessor
    imgs = []
    for path in args.images:
        img = Image.open(path).convert('RGB').resize((args.size, args.size), Image.BICUBIC)
        imgs.append(torch.from_numpy(np.asarray(img, dtype=np.float32)).permute(2, 0, 1))
    mean = torch.tensor(prep['mean']).view(1, -1, 1, 1)
    std = torch.tensor(prep['std']).view(1, -1, 1, 1)
    x = (torch.stack(imgs) - mean) / std
    torch.manual_seed(args.seed)
    grid = reconstruction_grid(model, x, prep['mean'], prep['std'])
    print('saved', save_png(grid, args.out))


if __name__ == '__main__':
    main()
