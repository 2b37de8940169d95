"""Attribution checks that print figures: ISM speed and agreement against tangermeme's saturation_mutagenesis (both
on the CPU or both on the given device, measured in one run), integrated-gradients completeness per architecture, and
DeepLIFT against Captum and tangermeme (where the numbers differ and which of them sums to f(x) - mean f(reference)).

usage: python benchmarks/attribution_checks.py [--n 100] [--lengths 101 1000] [--n-long 100] [--archs cnn cnn-rnn]
                                                [--skip-ism] [--skip-ig] [--skip-deeplift] [--device cpu]
"""
import argparse, time, warnings
import torch
from deepmotif.attribution import ism, integrated_gradients, deeplift, _baselines, _GlobalMaxCNN
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


def deeplift_check(a, dev):
    """DeepLIFT of the paper-sized CNN (build_model('cnn'), seed 0, untrained and briefly trained) by ours, tangermeme and
    Captum, each on the model as it is and on the same model with its global max as a MaxPool1d module; every
    (sequence, reference) pair run alone and averaged over references, so that all use the same references."""
    from captum.attr import DeepLift
    from tangermeme.deep_lift_shap import deep_lift_shap
    print('\n## DeepLIFT: ours vs tangermeme deep_lift_shap and Captum DeepLift (DeepSHAP = mean over the same references)')
    print('sum err: max |sum(A) - (f(x) - mean f(ref))|, f the model in float64; diff: max |A - ours|')
    print('| model | references | method | graph | sum err | diff vs ours | diff vs float64 rule |')
    print('|---|---|---|---|---|---|---|')
    g = torch.Generator().manual_seed(0)
    X = torch.nn.functional.one_hot(torch.randint(0, 4, (a.n_deeplift, 101), generator=g), 4).transpose(1, 2).float()
    data = synthetic_dataset('single', n=1000, seed=0)
    tr, va = train_valid_split(data, 0.2, seed=0)
    for trained in (False, True):
        torch.manual_seed(0)
        m = build_model('cnn')
        if trained: fit(m, tr, va, epochs=1, lr=1e-3, verbose=False, device='cpu')
        m.eval()
        name = 'cnn, 1 epoch' if trained else 'cnn, untrained'
        for bl, K in (('zero', 1), ('shuffle', 10)):
            B = _baselines(X, bl, K, 0)  # (K, N, 4, L): the references ours uses
            Xp, Bp = X.repeat(K, 1, 1), B.reshape(-1, 4, X.shape[2])
            m64 = _GlobalMaxCNN(m, X.shape[2]).double().eval()
            with torch.no_grad(): gap = m64(X.double())[:, 0] - m64(Bp.double())[:, 0].view(K, -1).mean(0)
            mean = lambda A: A.reshape(K, -1, 4, X.shape[2]).mean(0)
            ours = deeplift(m, X, baseline=bl, n_baselines=K, device='cpu')
            exact = deep_lift_shap(m64, X.double(), references=B.transpose(0, 1).double().contiguous(), device='cpu',
                                   warning_threshold=1e9).double()
            runs = [('ours (deeplift)', 'global max as MaxPool1d', ours)]
            for graph, net in (('as built (amax in forward)', m), ('global max as MaxPool1d', _GlobalMaxCNN(m, X.shape[2]).eval())):
                with warnings.catch_warnings():
                    warnings.simplefilter('ignore')
                    T = deep_lift_shap(net, X, references=B.transpose(0, 1).contiguous(), device='cpu', warning_threshold=1e9)
                    C = mean(DeepLift(net).attribute(Xp, baselines=Bp, target=0).detach())
                runs += [('tangermeme deep_lift_shap', graph, T), ('captum DeepLift', graph, C)]
            runs.append(('tangermeme, float64', 'global max as MaxPool1d', exact))
            for meth, graph, A in runs:
                err = (A.double().sum((1, 2)) - gap).abs().max().item()
                print(f'| {name} | {bl} x{K} | {meth} | {graph} | {err:.1e} | {(A.double() - ours.double()).abs().max().item():.1e} '
                      f'| {(A.double() - exact).abs().max().item():.1e} |', flush=True)


if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--n', type=int, default=100); ap.add_argument('--n-long', type=int, default=100)
    ap.add_argument('--lengths', type=int, nargs='+', default=[101, 1000]); ap.add_argument('--archs', nargs='+', default=['cnn', 'cnn-rnn'])
    ap.add_argument('--skip-ism', action='store_true'); ap.add_argument('--skip-ig', action='store_true'); ap.add_argument('--device', default=None)
    ap.add_argument('--skip-deeplift', action='store_true'); ap.add_argument('--n-deeplift', type=int, default=64)
    a = ap.parse_args()
    dev = a.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    print(f'torch {torch.__version__}, {torch.get_num_threads()} threads, device {dev}')
    if not a.skip_ism: ism_speed(a, dev)
    if not a.skip_ig: ig_completeness(a, dev)
    if not a.skip_deeplift: deeplift_check(a, dev)
