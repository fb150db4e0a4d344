"""python -m tests.sim [--seeds N | --seed S] [--steps K]"""
import argparse
import sys
import time
import traceback

from .cluster import Simulation, reproduce_command


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m tests.sim")
    p.add_argument("--seeds", type=int, default=1000, help="run seeds 0..N-1")
    p.add_argument("--first", type=int, default=0, help="first seed of the range")
    p.add_argument("--seed", type=int, help="run this one seed, verbosely")
    p.add_argument("--steps", type=int, default=2000, help="faulty steps per seed")
    args = p.parse_args(argv)
    seeds = [args.seed] if args.seed is not None else range(args.first, args.first + args.seeds)
    started = time.monotonic()
    failed = 0
    for seed in seeds:
        try:
            sim = Simulation(seed, args.steps).run()
        except Exception:
            failed += 1
            print("seed %d FAILED" % seed, file=sys.stderr)
            traceback.print_exc()
            print("reproduce: " + reproduce_command(seed, args.steps), file=sys.stderr)
            continue
        if args.seed is not None:
            print(sim.config)
            print("proposed %d, applied %d, network sent %d, dropped %d; %s"
                  % (sim.proposed, sim.checker.max_applied, sim.net.sent, sim.net.dropped,
                     sim.describe()))
            print("operations: %r; final membership %r"
                  % (sim.counts, sim.checker.conf_state))
    print("%d seeds, %d failed, %.1fs" % (len(seeds), failed, time.monotonic() - started))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
