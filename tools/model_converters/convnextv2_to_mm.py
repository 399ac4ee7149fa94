"""Convert an official, timm, Hugging Face or mmpretrain ConvNeXt V2 checkpoint to mmconvnextv2.

    python tools/model_converters/convnextv2_to_mm.py \
        convnextv2_atto_1k_224_ema.pt work_dirs/convnextv2-atto_in1k.pth

The format is recognized from the keys (``--src auto``, the default) or given with ``--src``;
the input may be ``.pth``/``.pt`` or ``.safetensors``. The output loads with
``mmpretrain.apis.get_model(CONFIG, pretrained=OUT)``, or as a backbone through
``init_cfg=dict(type='Pretrained', checkpoint=OUT, prefix='backbone.')`` (which also takes the
unconverted checkpoint).
"""
import argparse

from mmconvnextv2.checkpoint import SOURCE_NAMES, SOURCES
from mmconvnextv2.checkpoint.io import convert_checkpoint


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--src', default='auto', choices=('auto', ) + SOURCES,
                        help='checkpoint format; auto recognizes it from the keys')
    parser.add_argument('src_path', help='checkpoint to convert (.pth, .pt or .safetensors)')
    parser.add_argument('dst_path', help='where to save the converted checkpoint')
    args = parser.parse_args(argv)
    meta = convert_checkpoint(args.src, args.src_path, args.dst_path)
    kind = f'classifier, {meta["num_classes"]} classes' if meta['num_classes'] \
        else 'backbone only'
    print(f'saved {args.dst_path}: {SOURCE_NAMES[meta["source"]]} format, arch {meta["arch"]}, '
          f'{kind}')


if __name__ == '__main__':
    main()
