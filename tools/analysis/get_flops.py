"""Parameters and FLOPs of every ConvNeXt V2 classifier (or the ones named).

    python tools/analysis/get_flops.py [--archs atto tiny] [--size 224]
"""
import argparse

from mmconvnextv2.models import ConvNeXtV2
from mmconvnextv2.utils.complexity import classifier_complexity


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--archs', nargs='+', default=list(ConvNeXtV2.arch_settings),
                        choices=list(ConvNeXtV2.arch_settings))
    parser.add_argument('--size', type=int, default=224, help='input size in pixels')
    args = parser.parse_args(argv)
    print(f'| arch | params (M) | FLOPs (G) at {args.size} px |')
    print('|---|---:|---:|')
    for arch in args.archs:
        c = classifier_complexity(arch, args.size)
        print(f'| {arch} | {c["params"] / 1e6:.2f} | {c["flops"] / 1e9:.2f} |')


if __name__ == '__main__':
    main()
