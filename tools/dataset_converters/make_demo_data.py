"""Write the demo data sets (ImageNet folders, COCO instances, ADE20K-style label maps).

    python tools/dataset_converters/make_demo_data.py work_dirs/demo/data [--num-train 64]
"""
import argparse

from mmconvnextv2.datasets import make_demo_data


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('root', help='output folder')
    parser.add_argument('--num-train', type=int, default=64)
    parser.add_argument('--num-val', type=int, default=16)
    parser.add_argument('--size', type=int, default=128, help='image side in pixels')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    out = make_demo_data(args.root, args.num_train, args.num_val, args.size, args.seed)
    for name, path in out.items():
        print(f'{name}: {path}')


if __name__ == '__main__':
    main()
