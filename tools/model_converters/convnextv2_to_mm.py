"""Convert an official, timm or mmpretrain ConvNeXt V2 checkpoint to mmconvnextv2.

    python tools/model_converters/convnextv2_to_mm.py --src official \
        convnextv2_atto_1k_224_ema.pt work_dirs/convnextv2-atto_in1k.pth

The output loads with ``mmpretrain.apis.get_model(CONFIG, pretrained=OUT)``, or as a backbone
through ``init_cfg=dict(type='Pretrained', checkpoint=OUT, prefix='backbone.')``.
"""
import argparse

from mmconvnextv2.checkpoint import SOURCES
from mmconvnextv2.checkpoint.io import convert_checkpoint


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--src', required=True, choices=SOURCES, help='checkpoint format')
    parser.add_argument('src_path', help='checkpoint to convert')
    parser.add_argument('dst_path', help='where to save the converted checkpoint')
    args = parser.parse_args(argv)
    meta = convert_checkpoint(args.src, args.src_path, args.dst_path)
    kind = f'classifier, {meta["num_classes"]} classes' if meta['num_classes'] \
        else 'backbone only'
    print(f'saved {args.dst_path}: arch {meta["arch"]}, {kind}')


if __name__ == '__main__':
    main()
