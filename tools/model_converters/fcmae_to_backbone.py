"""Extract the encoder of an FCMAE checkpoint as a backbone checkpoint for fine-tuning.

    python tools/model_converters/fcmae_to_backbone.py work_dirs/fcmae/epoch_800.pth atto_fcmae.pth
    python tools/train.py configs/convnextv2/convnextv2-atto_32xb32_in1k.py \
        --cfg-options pretrained=atto_fcmae.pth

Official ``*_fcmae.pt`` files convert with ``convnextv2_to_mm.py --src official``.
"""
import argparse

from mmconvnextv2.checkpoint.io import convert_fcmae_checkpoint


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src_path', help='FCMAE checkpoint (tools/train.py output)')
    parser.add_argument('dst_path', help='where to save the backbone checkpoint')
    args = parser.parse_args(argv)
    meta = convert_fcmae_checkpoint(args.src_path, args.dst_path)
    print(f'saved {args.dst_path}: ConvNeXt V2 {meta["arch"]} encoder')


if __name__ == '__main__':
    main()
