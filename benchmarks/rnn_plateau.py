"""How the default RNN leaves its initial plateau on a ChIP-seq set: the validation AUROC of every epoch, under several
training settings, for one data set and seed of `deepmotif benchmark` (same data, split, initialisation and seeds).

Each setting is a JSON object of `fit` options added to the default preset, e.g. '{}' (the default), '{"lr": 0.005}',
'{"restarts": 0, "epochs": 60, "patience": null}'. The key "restart_keeps_lr": true is not a `fit` option but a
candidate rule tried here: a restart draws new weights and fresh Adam moments but keeps the decayed learning rate and
its schedule (the default sets the rate back to its start). One line per setting: test AUROC, the data set's PWM AUROC, the
best validation AUROC and its epoch, then the validation AUROC of every epoch, with '|' after an epoch that ended in a
restart.

usage: python benchmarks/rnn_plateau.py DATA_DIR DATASET_PREFIX SEED SETTING [SETTING ...] [--arch rnn] [--max-train 8000]
"""
import argparse, json, time
import torch
import deepmotif.train as train_module
from deepmotif.benchmark import find_datasets, _prepare
from deepmotif.models import build_model
from deepmotif.train import fit, evaluate


_REINITIALISE = train_module._reinitialise

def _reinitialise_keeping_lr(model, opt, sched, hp, seed):
    "New weights and Adam moments, as fit's restart, but the learning rate and its schedule go on where they were."
    lrs, last = [g['lr'] for g in opt.param_groups], sched.last_epoch
    _REINITIALISE(model, opt, sched, hp, seed)
    for g, lr in zip(opt.param_groups, lrs): g['lr'] = lr
    sched.last_epoch = last


def trajectory(hist) -> str:
    return ' '.join(f"{r['valid_auroc']:.2f}{'|' if r.get('restart') else ''}" for r in hist.records)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('data_dir'); ap.add_argument('dataset', help='start of the data set name, e.g. CTCFL')
    ap.add_argument('seed', type=int); ap.add_argument('settings', nargs='+', help='JSON objects of fit options')
    ap.add_argument('--arch', default='rnn'); ap.add_argument('--max-train', type=int, default=8000)
    ap.add_argument('--threads', type=int, default=1)
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    d = next(d for d in find_datasets(a.data_dir) if d.name.startswith(a.dataset))
    tr, va, te, base = _prepare(d, a.max_train, a.seed)  # as `deepmotif benchmark --seeds SEED`
    print(f'{d.name}, {a.arch}, seed {a.seed}, {len(tr)} training sequences; PWM {base["pwm_id"]} test AUROC {base["pwm_auroc"]:.3f}')
    for s in a.settings:
        kw = json.loads(s)
        train_module._reinitialise = _reinitialise_keeping_lr if kw.pop('restart_keeps_lr', False) else _REINITIALISE
        torch.manual_seed(a.seed)
        model = build_model(a.arch)
        t = time.perf_counter()
        h = fit(model, tr, va, seed=a.seed, verbose=False, **kw)
        r = evaluate(model, te)
        print(f'{s}: test AUROC {r["auroc"]:.3f}, best valid {h.best_auroc:.3f} at epoch {h.best_epoch}, {len(h.records)} epochs, '
              f'{time.perf_counter() - t:.0f} s\n  {trajectory(h)}', flush=True)


if __name__ == '__main__': main()
