"""Variants per second of `variant_effects` against sequences per second of `predict` on the same windows (each
variant needs two windows, so 50 % is the ceiling and 40 % the target), measured interleaved in one run.

    python benchmarks/variants_vs_predict.py DIR [--n 5000] [--repeats 3]
"""
import argparse, statistics, time
from pathlib import Path
import numpy as np
import torch
from deepmotif.data import one_hot
from deepmotif.genome import Genome
from deepmotif.models import build_model
from deepmotif.train import predict
from deepmotif.variants import variant_effects, Variant, Variants

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument('dir'); ap.add_argument('--n', type=int, default=5000); ap.add_argument('--repeats', type=int, default=3)
a = ap.parse_args()
d = Path(a.dir); d.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(0)
chrom = ''.join(rng.choice(list('ACGT'), 2_000_000))
(d / 'g.fa').write_text('>chr1\n' + '\n'.join(chrom[i:i + 80] for i in range(0, len(chrom), 80)) + '\n')
pos = np.sort(rng.choice(np.arange(200, len(chrom) - 200), a.n, replace=False))
alt = {'A': 'C', 'C': 'G', 'G': 'T', 'T': 'A'}
vs = Variants([Variant('chr1', int(p) + 1, f'v{i}', chrom[p], alt[chrom[p]], i + 1) for i, p in enumerate(pos)], 'generated')
torch.manual_seed(0)
model = build_model('cnn').eval(); model.seq_length = 101
g = Genome(d / 'g.fa')
X = one_hot([chrom[p - 50:p + 51] for p in pos])   # the reference windows, cut once
print(f'torch {torch.__version__}, {torch.get_num_threads()} threads, {a.n} SNVs, L = 101, default CNN, CPU')
tv, tp = [], []
for _ in range(a.repeats):
    t0 = time.perf_counter(); fx = variant_effects(model, vs, g, batch_size=256, device='cpu'); tv.append(time.perf_counter() - t0)
    t0 = time.perf_counter(); p = predict(model, X, batch_size=256, device='cpu'); tp.append(time.perf_counter() - t0)
assert np.allclose(fx.prob_ref, p, atol=1e-5)          # the same windows, the same model
v, s = a.n / statistics.median(tv), a.n / statistics.median(tp)
print(f'variant_effects: {v:,.0f} variants/s (windows cut from the genome, ref + alt)')
print(f'predict:         {s:,.0f} sequences/s (one-hot given)')
print(f'ratio: {v / s:.2f} (target >= 0.40)')
