"""Train the three architectures on ENCODE ChIP-seq sets (DeepBind format) and print test AUROC per TF and model.

usage: python benchmarks/train_encode.py DATA_DIR [--tfs REST CTCFL MYC SP1] [--archs cnn rnn cnn-rnn] [--epochs 20]
                                                  [--max-train N] [--out results.tsv]

DATA_DIR holds <TF>_..._AC.seq.gz (training positives; dinucleotide-shuffled negatives are added) and
<TF>_..._B.seq.gz (test: 500 peaks + 500 shuffled). 10% of the training set is held out for model selection.
"""
import argparse, sys, time
from pathlib import Path
import numpy as np
import torch
from deepmotif.data import read_sequences, train_valid_split
from deepmotif.models import build_model
from deepmotif.train import fit, evaluate


def find_sets(root: Path, tfs):
    sets = {}
    for ac in sorted(root.glob('*_AC.seq.gz')):
        tf = ac.name.split('_')[0]
        b = ac.with_name(ac.name.replace('_AC.seq.gz', '_B.seq.gz'))
        if b.exists() and (not tfs or tf in tfs): sets[tf] = (ac, b)
    missing = set(tfs or []) - set(sets)
    if missing: sys.exit(f'no *_AC.seq.gz/*_B.seq.gz pair for {sorted(missing)} in {root}')
    return sets


if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('data_dir'); ap.add_argument('--tfs', nargs='*', default=['REST', 'CTCFL', 'MYC', 'SP1'])
    ap.add_argument('--archs', nargs='*', default=['cnn', 'rnn', 'cnn-rnn']); ap.add_argument('--epochs', type=int, default=20)
    ap.add_argument('--max-train', type=int, default=0, help='subsample the training set (0: all)'); ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--out', default=None)
    a = ap.parse_args()
    rows = []
    print(f'torch {torch.__version__}, {torch.get_num_threads()} threads, device {"cuda" if torch.cuda.is_available() else "cpu"}')
    for tf, (ac, b) in find_sets(Path(a.data_dir), a.tfs).items():
        data, test = read_sequences(ac, seed=a.seed), read_sequences(b)
        if a.max_train and len(data) > a.max_train:
            data = data.subset(np.random.default_rng(a.seed).choice(len(data), a.max_train, replace=False))
        tr, va = train_valid_split(data, 0.1, seed=a.seed)
        for arch in a.archs:
            torch.manual_seed(a.seed)
            m = build_model(arch)
            t0 = time.perf_counter()
            h = fit(m, tr, va, epochs=a.epochs, seed=a.seed, verbose=False)
            secs = (time.perf_counter() - t0) / len(h.records)
            r = evaluate(m, test)
            rows.append((tf, arch, len(tr), r['auroc'], r['auprc'], h.best_epoch, len(h.records), secs))
            print(f'{tf:8s} {arch:8s} n_train {len(tr):6d}  test AUROC {r["auroc"]:.4f}  AUPRC {r["auprc"]:.4f}  '
                  f'best epoch {h.best_epoch}/{len(h.records)}  {secs:.1f} s/epoch', flush=True)
    print('\n| TF | ' + ' | '.join(a.archs) + ' |\n|---|' + '---|' * len(a.archs))
    for tf in dict.fromkeys(r[0] for r in rows):
        print(f'| {tf} | ' + ' | '.join(f'{r[3]:.3f}' for r in rows if r[0] == tf) + ' |')
    if a.out:
        Path(a.out).write_text('tf\tarch\tn_train\ttest_auroc\ttest_auprc\tbest_epoch\tepochs_run\tseconds_per_epoch\n'
                               + ''.join('\t'.join(map(str, r)) + '\n' for r in rows))
