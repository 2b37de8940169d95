"""How the default RNN leaves its initial plateau on a ChIP-seq set: the validation AUROC of every epoch, under several
training settings, for one data set and seed of `deepmotif benchmark` (same data, split, initialisation and seeds).

Each setting is a JSON object of `fit` options added to the default preset, e.g. '{}' (the default), '{"lr": 0.005}',
'{"restarts": 0, "epochs": 60, "patience": null}'. A restart draws new weights and fresh Adam moments and sets the
learning rate and its schedule back to their start; the key "restart_keeps_lr": true (not a `fit` option) lets the rate
go on where its schedule is instead, the rule `fit` followed for one round ("restart_resets_lr": true, the candidate
then, is `fit`'s own rule again and is accepted without effect); "restart_check": N restarts a run still below restart_below N
epochs after its (re)start, without waiting for patience to run out. One line per setting: test AUROC, the data set's PWM AUROC, the
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
    "The restart tried in one version: new weights and Adam moments; the learning rate goes on where its schedule is."
    lr, last = [g['lr'] for g in opt.param_groups], sched.last_epoch
    _REINITIALISE(model, opt, sched, hp, seed)
    for g, r in zip(opt.param_groups, lr): g['lr'] = r
    sched.last_epoch = last


_PATIENCE_OVER = train_module._patience_over

def _checking_early(n: int):
    "A stuck run (best below restart_below, restarts left) restarts `n` epochs after its (re)start, not only when patience runs out."
    def over(hist, hp, e):
        early = e - train_module._last_restart(hist) >= n and train_module._stuck(hist, hp)
        return early or _PATIENCE_OVER(hist, hp, e)
    return over


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
    hists = []
    try:
        for s in a.settings:
            kw = json.loads(s)
            kw.pop('restart_resets_lr', None)  # fit's own rule (again); accepted for the recorded commands
            train_module._reinitialise = _reinitialise_keeping_lr if kw.pop('restart_keeps_lr', False) else _REINITIALISE
            check = kw.pop('restart_check', None)
            train_module._patience_over = _checking_early(check) if check else _PATIENCE_OVER
            torch.manual_seed(a.seed)
            model = build_model(a.arch)
            t = time.perf_counter()
            h = fit(model, tr, va, seed=a.seed, verbose=False, **kw)
            r = evaluate(model, te)
            print(f'{s}: test AUROC {r["auroc"]:.3f}, best valid {h.best_auroc:.3f} at epoch {h.best_epoch}, {len(h.records)} epochs, '
                  f'{time.perf_counter() - t:.0f} s\n  {trajectory(h)}', flush=True)
            hists.append(h)
    finally:  # fit's own rules back, also when a setting fails
        train_module._reinitialise, train_module._patience_over = _REINITIALISE, _PATIENCE_OVER
    return hists


if __name__ == '__main__': main()
