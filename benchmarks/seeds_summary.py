"""Mean ± sd test AUROC over seeds, from `deepmotif benchmark --seeds` folders run in separate processes.

`deepmotif benchmark DATA --out DIR --seeds 0 1 2` writes DIR/seed_S/results.tsv per seed and, when it finishes every
seed, DIR/results.md and DIR/results_seeds.tsv. Runs split over processes (one seed or architecture each, to use every
core) finish apart; this script reads the seed_S/results.tsv of any number of such folders (or, in a folder without
seed_S runs, its results_seeds.tsv: the recorded tables in benchmarks/results/benchmark_seeds_*) and prints
`seeds_table` over all their rows, then every run below its PWM baseline.

usage: python benchmarks/seeds_summary.py DIR [DIR ...] [--archs rnn cnn]
"""
import argparse, re, sys
from pathlib import Path
from deepmotif.benchmark import read_results, seeds_table


def rows_of(dirs, archs=None) -> list[dict]:
    "Every row of DIR/seed_S/results.tsv (else DIR/results_seeds.tsv) of each DIR, with its 'seed'; only `archs` when given."
    rows = []
    for d in map(Path, dirs):
        runs = sorted(d.glob('seed_*/results.tsv'))
        if runs:
            for f in runs:
                seed = int(re.fullmatch(r'seed_(\d+)', f.parent.name).group(1))
                rows += [dict(r, seed=seed) for r in read_results(f)]
        elif (d / 'results_seeds.tsv').exists():
            rows += [dict(r, seed=int(r['seed'])) for r in read_results(d / 'results_seeds.tsv')]
        else: sys.exit(f'{d}: no seed_*/results.tsv and no results_seeds.tsv')
    return [r for r in rows if archs is None or r['arch'] in archs]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('dirs', nargs='+'); ap.add_argument('--archs', nargs='*', default=None)
    a = ap.parse_args(argv)
    rows = rows_of(a.dirs, a.archs)
    if not rows: sys.exit(f"no seed_*/results.tsv under {', '.join(a.dirs)}")
    print(seeds_table(rows))
    below = [r for r in rows if r['test_auroc'] < r['pwm_auroc']]
    print(f'{len(rows)} runs; below the PWM: ' + ('; '.join(f"{r['arch']} {r['dataset']} seed {r['seed']} "
                                                       f"{r['test_auroc']:.3f} < {r['pwm_auroc']:.3f}" for r in below) or 'none'))


if __name__ == '__main__': main()
