"""Write the demo data sets (an unlabeled image pool, COCO instances, ADE20K-style label maps).

    python tools/dataset_converters/make_demo_data.py work_dirs/demo/data [--num-train 96]
        [--num-val 64] [--num-unlabeled 2000] [--size 128] [--seed 0]
    python tools/dataset_converters/make_demo_data.py work_dirs/demo/data --unlabeled-only \
        --num-unlabeled 2000
"""
import argparse

from mmconvnextv2.datasets import make_demo_data, make_unlabeled_images


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('root', help='output folder')
    parser.add_argument('--num-train', type=int, default=64, help='labeled training images')
    parser.add_argument('--num-val', type=int, default=16, help='labeled validation images')
    parser.add_argument('--num-unlabeled', type=int, default=0,
                        help='images of the unlabeled pool (for FCMAE pretraining)')
    parser.add_argument('--unlabeled-only', action='store_true',
                        help='write only the unlabeled pool (the labeled sets are left alone)')
    parser.add_argument('--size', type=int, default=128, help='image side in pixels')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    if args.unlabeled_only:
        out = dict(unlabeled=make_unlabeled_images(args.root, args.num_unlabeled, args.size,
                                                   args.seed))
    else:
        out = make_demo_data(args.root, args.num_train, args.num_val, args.size, args.seed,
                             num_unlabeled=args.num_unlabeled)
    for name, path in out.items():
        print(f'{name}: {path}')


if __name__ == '__main__':
    main()
