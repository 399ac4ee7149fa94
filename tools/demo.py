"""The whole pipeline on the embedded demo data (what `make demo` runs).

    python tools/demo.py [--work-dir work_dirs/demo] [--scale 2] [--tiny]
"""
import argparse

from mmconvnextv2.apis.demo import DEFAULT_ITERS, TINY_ITERS, Demo


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument('--scale', type=float, default=1.0,
                        help='multiply the iterations and the number of images (larger runs)')
    parser.add_argument('--tiny', action='store_true', help='a few iterations (for tests)')
    args = parser.parse_args(argv)
    if args.tiny:
        demo = Demo(args.work_dir, iters=TINY_ITERS, num_train=8, num_val=4, size=64)
    else:
        iters = {k: max(1, int(v * args.scale)) for k, v in DEFAULT_ITERS.items()}
        demo = Demo(args.work_dir, iters=iters, num_train=int(128 * args.scale),
                    num_val=int(16 * args.scale))
    demo.run()


if __name__ == '__main__':
    main()
