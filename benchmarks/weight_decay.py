"""Weight decay and the recurrent models: does it make their saliency maps local without costing accuracy?

For every architecture and weight decay (Adam's L2 term, from the first epoch or from the epoch after the validation
AUROC first reaches a given value), prints one row per run:
- synthetic `single` task (n=4000, the protocol of views_single.py), one row per seed: test AUROC and site AUROC
  (positions inside planted CTCF sites vs background positions, ranked by per-position saliency, paper kind, over
  the positive test sequences);
- ENCODE ChIP-seq sets (with --encode DIR; DeepBind format, the protocol of train_encode.py): test AUROC.
Every other setting is the 'default' preset. Then a summary: mean and minimum per architecture and weight decay.

usage: python benchmarks/weight_decay.py [--archs rnn cnn-rnn] [--wds 0 1e-3 1e-3@0.9] [--seeds 0 1 2]
                                         [--encode DIR --tfs REST MYC --max-train 8000] [--jobs 1]
"""
import argparse, itertools, sys, time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
import numpy as np


def run_one(job):
    kind, arch, wd, key, a = job
    import torch
    torch.set_num_threads(a.threads)
    from deepmotif.data import synthetic_dataset, train_valid_split, planted_mask, motif_by_name, read_sequences
    from deepmotif.models import build_model
    from deepmotif.train import fit, evaluate
    from deepmotif.saliency import saliency, position_importance, site_auroc
    t0 = time.time()
    if kind == 'single':
        seed = key
        data, test = synthetic_dataset('single', n=a.n, seed=seed), synthetic_dataset('single', n=1000, seed=seed + 1)
    else:
        seed = 0
        ac, b = key
        data, test = read_sequences(ac, seed=seed), read_sequences(b)
        if a.max_train and len(data) > a.max_train:
            data = data.subset(np.random.default_rng(seed).choice(len(data), a.max_train, replace=False))
    tr, va = train_valid_split(data, 0.1, seed=seed)
    torch.manual_seed(seed)
    m = build_model(arch)
    decay, _, after = wd.partition('@')
    h = fit(m, tr, va, seed=seed, weight_decay=float(decay), weight_decay_after=float(after or 0), verbose=False, device=a.device)
    row = dict(data=f'single seed {seed}' if kind == 'single' else Path(key[0]).name.split('_')[0], arch=arch, wd=wd,
               test_auroc=evaluate(m, test, device=a.device)['auroc'], best_epoch=h.best_epoch, site_auroc=None)
    if kind == 'single':
        mid, _ = motif_by_name('CTCF')
        pos = test.subset(np.flatnonzero(test.labels == 1))
        row['site_auroc'] = site_auroc(position_importance(saliency(m, pos, device=a.device)), planted_mask(pos, mid))
    row['seconds'] = time.time() - t0
    return row


def fmt(r):
    site = '' if r['site_auroc'] is None else f"{r['site_auroc']:.3f}"
    return f"| {r['data']} | {r['arch']} | {r['wd']} | {r['test_auroc']:.3f} | {site} | {r['best_epoch']} | {r['seconds']:.0f} |"


if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--archs', nargs='*', default=['rnn', 'cnn-rnn']); ap.add_argument('--wds', nargs='*', default=['0', '1e-3', '1e-3@0.9'],
                    help='weight decay, or DECAY@AUROC: no decay until the validation AUROC has reached AUROC')
    ap.add_argument('--seeds', nargs='*', type=int, default=[0, 1, 2]); ap.add_argument('--n', type=int, default=4000)
    ap.add_argument('--encode', default=None, help='folder of data sets (DeepBind *_AC.seq.gz / *_B.seq.gz pairs)')
    ap.add_argument('--tfs', nargs='*', default=['REST', 'MYC']); ap.add_argument('--max-train', type=int, default=8000)
    ap.add_argument('--jobs', type=int, default=1, help='runs in parallel (processes)')
    ap.add_argument('--threads', type=int, default=1, help='torch threads per run'); ap.add_argument('--device', default=None)
    a = ap.parse_args()
    from deepmotif.benchmark import find_datasets
    keys = [('single', s) for s in a.seeds]
    if a.encode:
        for tf in a.tfs:
            sets = [d for d in find_datasets(a.encode) if d.tf == tf]
            if not sets: sys.exit(f'{a.encode}: no data set of {tf}')
            keys.append(('encode', (str(sets[0].train), str(sets[0].test))))
    jobs = [(kind, arch, wd, key, a) for (kind, key), arch, wd in itertools.product(keys, a.archs, a.wds)]
    import torch
    print(f'torch {torch.__version__}, device {a.device or ("cuda" if torch.cuda.is_available() else "cpu")}, '
          f'{a.jobs} runs at a time, {a.threads} threads each')
    print('| data | arch | weight decay | test AUROC | site AUROC (saliency) | best epoch | seconds |')
    print('|---|---|---|---|---|---|---|', flush=True)
    rows = []
    if a.jobs > 1:
        import multiprocessing as mp
        with ProcessPoolExecutor(a.jobs, mp_context=mp.get_context('spawn')) as ex:
            for r in ex.map(run_one, jobs): rows.append(r); print(fmt(r), flush=True)
    else:
        for j in jobs: r = run_one(j); rows.append(r); print(fmt(r), flush=True)
    print('\nsummary: mean (min) over runs')
    print('| data | arch | weight decay | test AUROC | site AUROC |')
    print('|---|---|---|---|---|')
    for kind, arch, wd in itertools.product(('single', 'encode'), a.archs, a.wds):
        rs = [r for r in rows if r['arch'] == arch and r['wd'] == wd and (r['site_auroc'] is not None) == (kind == 'single')]
        if not rs: continue
        t = [r['test_auroc'] for r in rs]
        s = [r['site_auroc'] for r in rs if r['site_auroc'] is not None]
        site = f'{np.mean(s):.3f} ({np.min(s):.3f})' if s else ''
        print(f'| {kind} ({len(rs)}) | {arch} | {wd} | {np.mean(t):.3f} ({np.min(t):.3f}) | {site} |')
