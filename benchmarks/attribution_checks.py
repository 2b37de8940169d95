"""Attribution checks that print figures: ISM speed and agreement against tangermeme's saturation_mutagenesis (both
on the CPU or both on the given device, measured in one run), and integrated-gradients completeness per architecture.

usage: python benchmarks/attribution_checks.py [--n 100] [--lengths 101 1000] [--n-long 100] [--archs cnn cnn-rnn]
                                                [--skip-ism] [--skip-ig] [--device cpu]
"""
import argparse, time, warnings
import torch
from deepmotif.attribution import ism, integrated_gradients, _baselines
from deepmotif.data import synthetic_dataset, train_valid_split
from deepmotif.models import build_model
from deepmotif.train import fit


def timed(f):
    t = time.perf_counter(); r = f(); return time.perf_counter() - t, r


def ism_speed(a, dev):
    from tangermeme.saturation_mutagenesis import saturation_mutagenesis
    print('\n## ISM: deepmotif.attribution.ism vs tangermeme saturation_mutagenesis (default options, raw outputs)')
    print('| model | N | L | ours s | tangermeme s | tangermeme / ours | max abs diff |')
    print('|---|---|---|---|---|---|---|')
    for L in a.lengths:
        n = a.n if L <= 200 else a.n_long
        g = torch.Generator().manual_seed(0)
        X = torch.nn.functional.one_hot(torch.randint(0, 4, (n, L), generator=g), 4).transpose(1, 2).float()
        for arch in a.archs:
            torch.manual_seed(0)
            m = build_model(arch).eval()  # the paper's sizes
            ism(m, X[:1, :, :50], device=dev)  # warm-up
            t1, S = timed(lambda: ism(m, X, device=dev))
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                t2, (y0, yh) = timed(lambda: saturation_mutagenesis(m, X, raw_outputs=True, device=dev))
            d = (yh[..., 0].float().cpu() - y0[:, None, None, 0].float().cpu() - S).abs().max().item()
            print(f'| {arch} | {n} | {L} | {t1:.2f} | {t2:.2f} | {t2 / t1:.2f}x | {d:.1e} |', flush=True)


def ig_completeness(a, dev):
    print('\n## Integrated gradients: completeness |sum(IG) - (f(x) - f(b))| / |f(x) - f(b)| per (sequence, baseline) path')
    print('(models trained 8 epochs on synthetic single, n=1000; 40 validation sequences; 5 shuffles; steps=50 Gauss-Legendre)')
    print('| model | baseline | |gap| range | plain: max rel err | plain: paths > 1 % | refined (default): max rel err | max(rel, 1e-3 floor) | s |')
    print('|---|---|---|---|---|---|---|---|')
    data = synthetic_dataset('single', n=1000, seed=0)
    tr, va = train_valid_split(data, 0.2, seed=0)
    X = va.X[:40]
    for arch, hp in [('cnn', dict(n_filters=16)), ('rnn', dict(hidden=8)), ('cnn-rnn', dict(n_filters=16, hidden=8))]:
        torch.manual_seed(0)
        m = build_model(arch, **hp)
        fit(m, tr, va, epochs=8, lr=1e-2, verbose=False, device=dev)
        m.eval()
        for bl in ('zero', 'shuffle'):
            B = _baselines(X, bl, 5, 0)
            K = len(B)
            Xp, Bp = X.repeat(K, 1, 1), B.reshape(-1, 4, X.shape[2])  # every path as its own (x, b) pair
            m.to(dev)
            with torch.no_grad(): gap = (m(Xp.to(dev))[:, 0] - m(Bp.to(dev))[:, 0]).cpu()
            plain = integrated_gradients(m, Xp, baseline=Bp, rtol=None, device=dev).sum((1, 2))
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter('always')
                t, A = timed(lambda: integrated_gradients(m, Xp, baseline=Bp, device=dev))
            ref = A.sum((1, 2))
            rel_p, rel_r = (plain - gap).abs() / gap.abs(), (ref - gap).abs() / gap.abs()
            floor = (ref - gap).abs() / (0.01 * gap.abs()).clamp(min=1e-3) * 0.01
            print(f'| {arch} | {bl} | {gap.abs().min():.3f}-{gap.abs().max():.2f} | {rel_p.max():.2e} | {(rel_p > 0.01).sum().item()}/{len(gap)} '
                  f'| {rel_r.max():.2e} | {floor.max():.2e} | {t:.1f} |' + (f' warning: {w[0].message}' if w else ''), flush=True)


if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--n', type=int, default=100); ap.add_argument('--n-long', type=int, default=100)
    ap.add_argument('--lengths', type=int, nargs='+', default=[101, 1000]); ap.add_argument('--archs', nargs='+', default=['cnn', 'cnn-rnn'])
    ap.add_argument('--skip-ism', action='store_true'); ap.add_argument('--skip-ig', action='store_true'); ap.add_argument('--device', default=None)
    a = ap.parse_args()
    dev = a.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    print(f'torch {torch.__version__}, {torch.get_num_threads()} threads, device {dev}')
    if not a.skip_ism: ism_speed(a, dev)
    if not a.skip_ig: ig_completeness(a, dev)
