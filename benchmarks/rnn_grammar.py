"""Why the RNN alone often fails a motif-grammar task: what it sees, what it learns, and what its views show.

For each composite task of `grammar_seeds.py` (positives: motif A then motif B a fixed gap after it; negatives: B then
A, the two far apart, or one alone), trains the RNN (one bidirectional LSTM over the one-hot input, no convolution) and,
for contrast, the CNN-RNN, with `fit`'s defaults and the given budget, then prints:

- the first-order signal the task offers: the validation AUROC of "motif A is present", "motif B is present" and "both
  are present" as predictors (from the planted sites). A model learns its first detectors from such signal;
- the training loss per epoch (ln 2 = 0.693 is a constant prediction) and the validation AUROC per epoch;
- the trained model: the spread (sd) of its logits over the test set, its temporal scores (the forward
  probability at the end of B minus just before A, mean over the positive test sequences) and its saliency (site
  AUROC of A and of B over the positive test sequences: 0.5 is no preference for the sites).

    python benchmarks/rnn_grammar.py [--tasks spi1-cebpb gata1-tal1 cebpb-spi1] [--seed 0] [--epochs 60] [--n 4000]
"""
import argparse, os, sys, time, warnings
from pathlib import Path
import numpy as np
import torch
from deepmotif.data import synthetic_dataset, train_valid_split, planted_mask, motif_by_name
from deepmotif.models import build_model
from deepmotif.train import fit, evaluate, predict_logits, ranking_metrics
from deepmotif.saliency import saliency, position_importance, site_auroc
from deepmotif.temporal import temporal_scores
sys.path.insert(0, str(Path(__file__).parent))  # the tasks of the seeds study, beside this script
from grammar_seeds import TASKS


def presence_aurocs(d, ida: str, idb: str) -> dict:
    "Validation AUROC of motif presence as a predictor of the label."
    has = lambda i: np.array([any(s[0] == i for s in sites) for sites in d.meta['sites']], float)
    a, b = has(ida), has(idb)
    y = d.labels
    return {k: ranking_metrics(y, v, "presence")["auroc"] for k, v in
            (('A present', a), ('B present', b), ('both present', a * b))}


def views(model, test, ida: str, idb: str) -> dict:
    "Logit spread, temporal rise across the pair, and saliency site AUROCs on the positive test sequences."
    pos = test.subset(np.flatnonzero(test.labels == 1))
    imp = position_importance(saliency(model, pos))
    T = temporal_scores(model, pos)
    rise = []
    for i, sites in enumerate(pos.meta['sites']):
        (_, s1, _, _), (_, _, e2, _) = sorted(sites, key=lambda s: s[1])[:2]
        rise.append(float(T[i, 0, e2 - 1] - T[i, 0, max(s1 - 1, 0)]))
    z = predict_logits(model, test.X)[:, 0]
    return {'logit sd': float(z.std()), 'temporal rise': float(np.mean(rise)),
            'site AUROC A': site_auroc(imp, planted_mask(pos, ida)), 'site AUROC B': site_auroc(imp, planted_mask(pos, idb))}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--tasks', nargs='+', default=['spi1-cebpb', 'gata1-tal1', 'cebpb-spi1'], choices=list(TASKS))
    ap.add_argument('--archs', nargs='+', default=['rnn', 'cnn-rnn'])
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--epochs', type=int, default=60)
    ap.add_argument('--n', type=int, default=4000)
    a = ap.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter('ignore')
    print(f"torch {torch.__version__}, 1 thread, load average {os.getloadavg()[0]:.1f}; n {a.n}, epochs <= {a.epochs}, seed {a.seed}")
    rows = []
    for task in a.tasks:
        ma, mb, gap, near = TASKS[task]
        data = synthetic_dataset('grammar', n=a.n, motifs=(ma, mb), gap=gap, near=near, seed=0)
        train, valid = train_valid_split(data, 0.1, seed=0)
        test = synthetic_dataset('grammar', n=1000, motifs=(ma, mb), gap=gap, near=near, seed=1)
        ida, idb = motif_by_name(ma)[0], motif_by_name(mb)[0]
        pa = presence_aurocs(valid, ida, idb)
        print(f"\n{task}: A = {ma} ({ida}, {motif_by_name(ma)[1].shape[1]} bp), B = {mb} ({idb}, {motif_by_name(mb)[1].shape[1]} bp), "
              f"gap {gap}; first-order signal (validation AUROC): " + ', '.join(f'{k} {v:.3f}' for k, v in pa.items()))
        for arch in a.archs:
            torch.manual_seed(a.seed)
            m = build_model(arch)
            t = time.perf_counter()
            h = fit(m, train, valid, epochs=a.epochs, seed=a.seed, verbose=False)
            v = views(m, test, ida, idb)
            flat = next((i for i, l in enumerate(h['train_loss']) if l < 0.68), None)
            print(f"  {arch}: test AUROC {evaluate(m, test)['auroc']:.3f}, {len(h.records)} epochs, {h.restarts} restarts, "
                  f"{time.perf_counter() - t:.0f} s; epochs with training loss >= 0.68 before the first below: "
                  f"{flat if flat is not None else 'all'}")
            print('    training loss: ' + ' '.join(f"{l:.3f}{'|' if r.get('restart') else ''}" for l, r in zip(h['train_loss'], h.records)))
            print('    valid AUROC:   ' + ' '.join(f'{x:.3f}' for x in h['valid_auroc']))
            print('    trained model: ' + ', '.join(f'{k} {x:.3f}' for k, x in v.items()))
            rows.append((task, arch, v))
    print('\n| task | arch | logit sd | temporal rise across the pair | saliency site AUROC A | B |\n|---|---|---:|---:|---:|---:|')
    for task, arch, v in rows:
        print(f"| {task} | {arch} | {v['logit sd']:.3f} | {v['temporal rise']:+.3f} | {v['site AUROC A']:.3f} | {v['site AUROC B']:.3f} |")


if __name__ == '__main__': main()
