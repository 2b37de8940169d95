"""The three views on the built-in `single` task: do saliency and class optimization find the planted motif?

For each architecture (trained with default settings on synthetic_dataset('single', n=4000)), prints
- test AUROC;
- site AUROC: positions inside planted CTCF sites vs background positions, ranked by per-position saliency
  (paper kind), over the positive test sequences;
- class optimization: best Pearson r of the planted CTCF matrix (MA0139.2, either strand) with the optimized
  input's PPM, for the paper's method and the softmax variant (8 starts, 1000 steps);
- motifs (needs the `motifs` extra): best JASPAR 2024 CORE vertebrate match (TOMTOM q-value) of the main motif found
  from saliency seqlets and from the optimized input (`find_motifs`, `optimized_motif`, `match_motifs`).

usage: python benchmarks/views_single.py [--out DIR] [--n 4000] [--steps 1000]
"""
import argparse, time
from pathlib import Path
import numpy as np
import torch
from deepmotif.data import synthetic_dataset, train_valid_split, planted_mask, motif_by_name
from deepmotif.models import build_model, save_model, load_model
from deepmotif.train import fit, evaluate
from deepmotif.saliency import saliency, position_importance, site_auroc
from deepmotif.optimize import optimize_input, best_alignment, write_meme
from deepmotif.motifs import find_motifs, optimized_motif, match_motifs

if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', default='benchmarks/out/views_single'); ap.add_argument('--n', type=int, default=4000)
    ap.add_argument('--steps', type=int, default=1000); ap.add_argument('--seed', type=int, default=0)
    a = ap.parse_args()
    out = Path(a.out)
    data = synthetic_dataset('single', n=a.n, seed=a.seed)
    test = synthetic_dataset('single', n=1000, seed=a.seed + 1)
    tr, va = train_valid_split(data, 0.1, seed=a.seed)
    mid, ctcf = motif_by_name('CTCF')
    pos = test.subset(np.flatnonzero(test.labels == 1))
    print(f'torch {torch.__version__}, {torch.get_num_threads()} threads')
    print('| model | test AUROC | site AUROC (saliency) | optimized r, paper: best start (mean of starts) | optimized r, softmax: best start (mean) '
          '| saliency motif: best JASPAR match (q) | optimized motif: best match (q) |')
    print('|---|---|---|---|---|---|---|')
    for arch in ('cnn', 'rnn', 'cnn-rnn'):
        if (out / arch / 'config.json').exists(): m = load_model(out / arch)
        else:
            torch.manual_seed(a.seed); m = build_model(arch)
            fit(m, tr, va, seed=a.seed, verbose=False)
            save_model(m, out / arch, seq_length=data.length)
        auc = evaluate(m, test)['auroc']
        site = site_auroc(position_importance(saliency(m, pos)), planted_mask(pos, mid))
        rs = {}
        for meth in ('paper', 'softmax'):
            r = optimize_input(m, method=meth, steps=a.steps, seed=a.seed)
            rs[meth] = best_alignment(r.pwm, ctcf)
            rs[meth + '_mean'] = np.mean([best_alignment(p, ctcf).r for p in r.pwms])
            write_meme(out / f'{arch}_{meth}.meme', {f'{arch}_{meth}': r.pwm})
        found = find_motifs(m, pos, source='saliency', max_motifs=1) + [optimized_motif(m, steps=a.steps, seed=a.seed)]
        best = {row['source']: f"{row['jaspar_id']} {row['tf_name']} ({row['q_value']:.1e})"
                for row in match_motifs(found, top=1)}
        print(f"| {arch} | {auc:.3f} | {site:.3f} | {rs['paper'].r:.3f} ({rs['paper_mean']:.3f}) | "
              f"{rs['softmax'].r:.3f} ({rs['softmax_mean']:.3f}) | {best.get('saliency', 'none found')} | "
              f"{best.get('optimized', 'none found')} |", flush=True)
