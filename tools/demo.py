"""The whole pipeline on embedded data (what `make demo` runs): FCMAE pretraining on unlabeled
images, then Mask R-CNN and UperNet with the encoder frozen and fine-tuned, from FCMAE and
from random init, over seeds.

    python tools/demo.py [--work-dir work_dirs/demo] [--scale 2] [--seeds 0 1 2] [--jobs 2]
    python tools/demo.py --iters fcmae=1200 fcmae_nogrn=1200   # one stage longer
    python tools/demo.py --tiny        # a few iterations of everything (the CI test)
"""
import argparse

from mmconvnextv2.apis.demo import DEFAULT_DATA, DEFAULT_ITERS, TINY_DATA, TINY_ITERS, Demo


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument('--scale', type=float, default=1.0,
                        help='multiply every run\'s iterations and the unlabeled pool (the '
                        'labeled sets stay small: few labels is the point)')
    parser.add_argument('--iters', nargs='+', default=[], metavar='STAGE=N',
                        help=f'iterations of one stage, after --scale; stages: '
                        f'{", ".join(DEFAULT_ITERS)}')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1],
                        help='seeds of the transfer runs (2 or more for a spread)')
    parser.add_argument('--jobs', type=int, default=2,
                        help='runs side by side (each gets cpu_count // jobs threads)')
    parser.add_argument('--tiny', action='store_true', help='a few iterations (for tests)')
    args = parser.parse_args(argv)
    if args.tiny:
        iters, data = dict(TINY_ITERS), TINY_DATA
    else:
        # a stage at 0 (the run without GRN by default) stays skipped
        iters = {k: max(1, int(v * args.scale)) if v else 0 for k, v in DEFAULT_ITERS.items()}
        data = dict(DEFAULT_DATA,
                    num_unlabeled=max(4, int(DEFAULT_DATA['num_unlabeled'] * args.scale)))
    for item in args.iters:
        stage, _, n = item.partition('=')
        least = 0 if stage == 'fcmae_nogrn' else 1  # 0 skips the run without GRN
        if stage not in DEFAULT_ITERS or not n.isdigit() or int(n) < least:
            parser.error(f'--iters {item}: expected STAGE=N with N >= 1 (fcmae_nogrn: 0 '
                         f'skips it) and a stage of {", ".join(DEFAULT_ITERS)}')
        iters[stage] = int(n)
    Demo(args.work_dir, iters=iters, data=data, seeds=args.seeds, jobs=args.jobs).run()


if __name__ == '__main__':
    main()
