"""List every bad file of a config's dataset (corrupt, truncated or missing images, bad
annotations, out-of-range label maps) before training meets them.

    python tools/misc/verify_dataset.py CONFIG [--split train] [--num-workers 4]
        [--out-path bad_files.txt] [--cfg-options ...]

Exits with status 1 when there is a problem.
"""
import argparse
import sys

import mmconvnextv2  # noqa: F401
from mmconvnextv2.apis import load_config
from mmconvnextv2.apis.verify import verify_dataset


def main(argv=None):
    parser = argparse.ArgumentParser(description='Verify a dataset')
    parser.add_argument('config')
    parser.add_argument('--split', default='train', choices=['train', 'val', 'test'])
    parser.add_argument('--num-workers', type=int, default=0)
    parser.add_argument('--out-path', help='also write the problems here, one per line')
    from mmengine.config import DictAction
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)
    cfg = load_config(args.config, cfg_options=args.cfg_options)
    problems = verify_dataset(cfg, args.split, args.num_workers)
    for problem in problems:
        print(problem)
    if args.out_path:
        with open(args.out_path, 'w') as f:
            f.writelines(p + '\n' for p in problems)
    print(f'{len(problems)} problem(s) in the {args.split} dataset of {args.config}',
          file=sys.stderr)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
