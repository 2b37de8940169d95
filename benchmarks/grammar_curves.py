"""Spacing curves of the three architectures on the built-in `grammar` task.

Trains a CNN, an RNN and a CNN-RNN on `synthetic_dataset('grammar')` (positives: SPI1, then CEBPB 4 bases after its
end; negatives: one motif alone, the two in the other order, or far apart), then inserts the two consensus sites into
random backgrounds at gaps 0-30, with CEBPB as given (+) and reverse-complemented (-), and reports the mean change of
the logit per model, gap and orientation.

    python benchmarks/grammar_curves.py [--n 2000] [--epochs 6] [--backgrounds 200] [--out benchmarks/results]

Writes grammar_spacing.tsv and grammar_spacing.png into --out; print what it shows to grammar_curves.txt by hand.
"""
import argparse, shutil, tempfile, time
from pathlib import Path
import numpy as np
import torch
from deepmotif.data import synthetic_dataset, train_valid_split, one_hot
from deepmotif.models import build_model
from deepmotif.train import fit, evaluate
from deepmotif.grammar import spacing_table, best_spacing, write_spacing, plot_spacing

ARCHS = {'cnn': dict(n_filters=32), 'rnn': dict(hidden=16), 'cnn-rnn': dict(n_filters=32, hidden=16)}
MOTIFS, GAP = ('SPI1', 'CEBPB'), 4


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--n', type=int, default=2000, help='training + validation sequences')
    p.add_argument('--epochs', type=int, default=6)
    p.add_argument('--backgrounds', type=int, default=200, help='random background sequences for the curves')
    p.add_argument('--max-gap', type=int, default=30)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--out', default=str(Path(__file__).parent / 'results'))
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    data = synthetic_dataset('grammar', n=a.n, motifs=MOTIFS, gap=GAP, seed=0)
    train, valid = train_valid_split(data, 0.2, seed=0)
    test = synthetic_dataset('grammar', n=1000, motifs=MOTIFS, gap=GAP, seed=1)
    print(f"grammar task: {MOTIFS[0]} then {MOTIFS[1]}, gap {GAP}; {len(train)} train, {len(valid)} valid, "
          f"{len(test)} test; L = {data.length}; epochs <= {a.epochs}; device cpu, {a.threads} threads")
    models = {}
    for arch, hp in ARCHS.items():
        torch.manual_seed(0)
        m, t = build_model(arch, **hp), time.time()
        h = fit(m, train, valid, epochs=a.epochs, verbose=False, device='cpu')
        ev = evaluate(m, test, device='cpu')
        print(f"{arch:8s} {hp}: best epoch {h.best_epoch}, test AUROC {ev['auroc']:.3f}, {time.time() - t:.0f} s")
        models[arch] = m
    rng = np.random.default_rng(2)
    X = one_hot([''.join(s) for s in rng.choice(list('ACGT'), (a.backgrounds, data.length))])
    t = time.time()
    rows = spacing_table(models, X, MOTIFS, range(a.max_gap + 1), orientations=('+', '-'), device='cpu')
    print(f"spacing curves: {len(rows)} rows from {a.backgrounds} uniform random backgrounds, {time.time() - t:.0f} s")
    print("mean change of the logit (after - before); columns: gap")
    gaps = list(range(a.max_gap + 1))
    print(f"{'model':8s} {'strand':6s} " + ' '.join(f'{g:>5d}' for g in gaps))
    for arch in models:
        for sign in ('+', '-'):
            m = {r['spacing']: r['mean_delta'] for r in rows if r['model'] == arch and r['orientation'] == sign}
            print(f"{arch:8s} {sign:6s} " + ' '.join(f'{m[g]:5.2f}' for g in gaps))
    for arch, b in best_spacing(rows).items():
        plus = [r['mean_delta'] for r in rows if r['model'] == arch and r['orientation'] == '+']
        others = np.median([d for g, d in enumerate(plus) if g != GAP])
        print(f"{arch:8s} responds most at gap {b['spacing']} ({b['orientation']}): mean delta {b['mean_delta']:.2f} "
              f"(sd {b['sd_delta']:.2f}, n {b['n']}); at the trained gap {GAP} (+): {plus[GAP]:.2f}, "
              f"median over other gaps (+): {others:.2f}")
    out = Path(a.out)
    with tempfile.TemporaryDirectory() as d:  # write_spacing writes spacing.tsv; here it is grammar_spacing.tsv
        shutil.copy(write_spacing(d, rows), out / 'grammar_spacing.tsv.tmp')
    (out / 'grammar_spacing.tsv.tmp').replace(out / 'grammar_spacing.tsv')
    import matplotlib
    matplotlib.use('Agg')
    ax = plot_spacing(rows)
    ax.axvline(GAP, color='k', lw=0.5, ls=':')
    ax.set_title(f'{MOTIFS[0]} then {MOTIFS[1]}: trained gap {GAP}')
    ax.figure.tight_layout()
    ax.figure.savefig(out / 'grammar_spacing.png', dpi=120)
    print(f"wrote {out / 'grammar_spacing.tsv'} and {out / 'grammar_spacing.png'}")


if __name__ == '__main__':
    main()
