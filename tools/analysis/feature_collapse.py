"""Feature collapse (report §4.2): per-layer feature cosine distance of models with and
without GRN (or any GRN variant), plotted against depth, plus activation-map grids.

    python tools/analysis/feature_collapse.py \
        --model GRN configs/fcmae/...atto...py work_dirs/fcmae_grn/iter_300.pth \
        --model no-GRN configs/fcmae/...atto...py work_dirs/fcmae_nogrn/iter_300.pth \
        --override no-GRN model.backbone.use_grn=False \
        --images work_dirs/demo/data/coco/val --out work_dirs/feature_collapse
"""
import argparse
import glob
import json
import os

import numpy as np
import torch
from mmengine.runner import load_checkpoint
from PIL import Image

import mmconvnextv2  # noqa: F401
from mmconvnextv2.apis import load_config
from mmconvnextv2.visualization import save_png
from mmconvnextv2.visualization.feature_collapse import (
    activation_grid,
    block_activations,
    channel_cosine_distance,
    plot_distances,
)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--model', nargs=3, action='append', required=True,
                        metavar=('LABEL', 'CONFIG', 'CHECKPOINT'),
                        help='a model: label, config, checkpoint ("none" for random init)')
    parser.add_argument('--override', nargs=2, action='append', default=[],
                        metavar=('LABEL', 'KEY=VALUE'), help='config override for LABEL')
    parser.add_argument('--images', required=True, help='folder of images (recursive)')
    parser.add_argument('--num-images', type=int, default=16)
    parser.add_argument('--size', type=int, default=128)
    parser.add_argument('--out', default='work_dirs/feature_collapse')
    args = parser.parse_args(argv)

    files = sorted(glob.glob(os.path.join(args.images, '**', '*.*'), recursive=True))
    files = [f for f in files if f.lower().endswith(('.png', '.jpg', '.jpeg'))]
    if not files:
        raise FileNotFoundError(f'no images under {args.images}')
    curves, pictures = {}, []
    for label, config, checkpoint in args.model:
        options = {}
        for lab, kv in args.override:
            if lab == label:
                key, value = kv.split('=', 1)
                options[key] = {'True': True, 'False': False, 'None': None}.get(value, value)
        cfg = load_config(config, cfg_options=options)
        from mmpretrain.registry import MODELS
        model = MODELS.build(cfg.model)
        if checkpoint != 'none':
            load_checkpoint(model, checkpoint, map_location='cpu', revise_keys=[])
        prep = cfg.data_preprocessor
        mean = torch.tensor(prep['mean']).view(1, -1, 1, 1)
        std = torch.tensor(prep['std']).view(1, -1, 1, 1)
        imgs = torch.stack([
            torch.from_numpy(np.asarray(Image.open(f).convert('RGB').resize(
                (args.size, args.size)), dtype=np.float32)).permute(2, 0, 1)
            for f in files[:args.num_images]])
        acts = block_activations(model.backbone, (imgs - mean) / std)
        curves[label] = [channel_cosine_distance(a) for a in acts]
        for depth in (0, len(acts) // 2, len(acts) - 1):
            path = os.path.join(args.out, f'activations_{label}_block{depth + 1}.png')
            pictures.append(save_png(np.repeat(activation_grid(acts[depth][0])[..., None], 3,
                                               -1), path))
        print(f'{label}: mean cosine distance {np.mean(curves[label]):.3f} over '
              f'{len(acts)} blocks')
    os.makedirs(args.out, exist_ok=True)
    pictures.append(plot_distances(curves, os.path.join(args.out, 'feature_collapse.png')))
    with open(os.path.join(args.out, 'feature_collapse.json'), 'w') as f:
        json.dump(dict(curves=curves, pictures=pictures), f, indent=2)
    print('saved', *pictures, sep='\n  ')


if __name__ == '__main__':
    main()
