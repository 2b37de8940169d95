"""Which runs of `deepmotif benchmark` restart: train each (data set, seed) with the default settings only until it is
decided, i.e. until its validation AUROC reaches restart_below (it can never restart after that) or until its first
restart. A run that never restarts trains the same under any restart rule, so only the runs listed as restarting need
a full run to compare two rules. Same data, split, initialisation and seeds as `deepmotif benchmark --seeds SEED
--max-train 8000`.

One line per run: data set, seed, 'restarts after epoch N' or 'leaves chance at epoch N' (validation AUROC >=
restart_below), the validation AUROC of the epochs trained.

usage: python benchmarks/restart_screen.py DATA_DIR [--arch rnn] [--seeds 0 1 2] [--sets PREFIX ...] [--max-train 8000] [--fit JSON]
"""
import argparse, json, time
import torch
from deepmotif.benchmark import find_datasets, _prepare
from deepmotif.models import build_model
from deepmotif.train import fit, PRESETS


class _Decided(Exception): pass


def screen(d, arch: str, seed: int, max_train: int = 8000, **fit_kw) -> dict:
    "Train one benchmark run until it is decided; {'restarts': bool, 'epoch': int, 'trajectory': [valid AUROC]}."
    below = fit_kw.get('restart_below', PRESETS['default']['restart_below'])
    tr, va, te, base = _prepare(d, max_train, seed)

    def decide(h):
        traj = [r['valid_auroc'] for r in h.records]
        if h.restarts: raise _Decided(dict(restarts=True, epoch=next(r['epoch'] for r in h.records if r.get('restart')), trajectory=traj))
        if h.best_auroc >= below: raise _Decided(dict(restarts=False, epoch=h.best_epoch, trajectory=traj))

    torch.manual_seed(seed)
    model = build_model(arch)
    try: h = fit(model, tr, va, seed=seed, verbose=False, callback=decide, **fit_kw)
    except _Decided as e: return e.args[0]
    return dict(restarts=False, epoch=None, trajectory=[r['valid_auroc'] for r in h.records])  # restarts=0, or never reached restart_below


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('data_dir'); ap.add_argument('--arch', default='rnn')
    ap.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2]); ap.add_argument('--sets', nargs='*', default=None)
    ap.add_argument('--max-train', type=int, default=8000); ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--fit', default='{}', help='JSON object of fit options added to the default preset (default: none)')
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    sets = [d for d in find_datasets(a.data_dir) if not a.sets or any(d.name.startswith(p) for p in a.sets)]
    results = []
    for d in sets:
        for s in a.seeds:
            t = time.perf_counter()
            r = screen(d, a.arch, s, a.max_train, **json.loads(a.fit))
            what = f"restarts after epoch {r['epoch']}" if r['restarts'] else (
                f"leaves chance at epoch {r['epoch']}" if r['epoch'] else 'never decided (ran to the end)')
            print(f"{d.name}\t{a.arch}\tseed {s}\t{what}\t{time.perf_counter() - t:.0f} s\t{' '.join(f'{v:.2f}' for v in r['trajectory'])}", flush=True)
            results.append(dict(dataset=d.name, seed=s, **r))
    n = sum(r['restarts'] for r in results)
    print(f'{n} of {len(results)} runs restart')
    return results


if __name__ == '__main__': main()
