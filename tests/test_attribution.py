"Attribution methods: ISM against a mutant-by-mutant loop and tangermeme, IG completeness and Captum, DeepLIFT summation to delta, bad inputs."
import warnings
import pytest
import torch
from torch import nn
from deepmotif.data import DeepMotifError, synthetic_dataset, train_valid_split
from deepmotif.models import build_model
from deepmotif.train import fit
from deepmotif.attribution import ism, integrated_gradients, deeplift, _baselines


def random_onehot(n, L, seed=0, n_frac=0.1):
    "One-hot sequences with a few all-zero (N) columns."
    g = torch.Generator().manual_seed(seed)
    X = nn.functional.one_hot(torch.randint(0, 4, (n, L), generator=g), 4).float().transpose(1, 2).contiguous()
    return X * (torch.rand(n, 1, L, generator=g) > n_frac)


def ism_loop(model, X, target=0):
    "ISM by its definition: build each mutant, run the model on it alone."
    model.eval()
    out = torch.zeros(X.shape)
    with torch.no_grad():
        for n in range(len(X)):
            y0 = model(X[n:n + 1])[0, target]
            for i in range(X.shape[2]):
                for b in range(4):
                    if X[n, b, i] == 1 and X[n, :, i].sum() == 1: continue
                    x = X[n:n + 1].clone()
                    x[0, :, i] = 0
                    x[0, b, i] = 1
                    out[n, b, i] = model(x)[0, target] - y0
    return out


ARCHS = [('cnn', dict(n_filters=6)), ('cnn', dict(n_filters=5, kernel_sizes=(4, 6, 3), pool=3)),
         ('cnn', dict(n_filters=5, kernel_sizes=(2, 2, 2, 2))), ('cnn', dict(n_filters=5, kernel_sizes=(5,))),
         ('cnn', dict(n_filters=5, pool=1)), ('rnn', dict(hidden=4)), ('rnn', dict(hidden=3, pooling='mean')),
         ('cnn-rnn', dict(n_filters=6, hidden=4)), ('cnn-rnn', dict(n_filters=5, hidden=3, kernel_size=5, pooling='max'))]


@pytest.mark.parametrize('arch,hp', ARCHS)
@pytest.mark.parametrize('L', [1, 2, 9, 30, 47, 64])
def test_ism_matches_loop(arch, hp, L):
    torch.manual_seed(L)
    m = build_model(arch, n_outputs=2, **hp)
    X = random_onehot(2, L, seed=L)
    S = ism(m, X, target=1, batch_size=7)
    assert S.shape == (2, 4, L) and S.dtype == torch.float32 and m.training
    torch.testing.assert_close(ism(m, X, target=1, batch_size=1000), S, atol=1e-6, rtol=0)
    torch.testing.assert_close(ism(m, X, target=1, fast=False), S, atol=1e-5, rtol=0)
    torch.testing.assert_close(S, ism_loop(m, X, target=1), atol=1e-5, rtol=0)


@pytest.mark.parametrize('arch', ['cnn', 'cnn-rnn'])
def test_ism_paper_sizes_long_sequence(arch):
    "The paper's sizes on 300 bp: the cropped CNN windows and the restarted LSTM away from the edges."
    torch.manual_seed(0)
    m = build_model(arch).eval()
    X = random_onehot(1, 300, seed=3, n_frac=0)
    S = ism(m, X)
    cols = [0, 1, 57, 150, 151, 298, 299]
    with torch.no_grad():
        y0 = m(X)[0, 0]
        for i in cols:
            for b in range(4):
                x = X.clone(); x[0, :, i] = 0; x[0, b, i] = 1
                assert abs(float(m(x)[0, 0] - y0) - float(S[0, b, i])) < 1e-5


def test_ism_any_model_and_device(device):
    "A model the fast paths do not know takes the plain route."
    torch.manual_seed(0)
    m = nn.Sequential(nn.Conv1d(4, 3, 3, padding=1), nn.Tanh(), nn.Flatten(), nn.Linear(3 * 12, 2))
    X = random_onehot(3, 12)
    torch.testing.assert_close(ism(m, X, target=1, device=device), ism_loop(m, X, target=1), atol=1e-5, rtol=0)
    assert next(m.parameters()).device.type == 'cpu'


@pytest.mark.parametrize('arch', ['cnn', 'rnn', 'cnn-rnn'])
def test_ism_matches_tangermeme(arch):
    from tangermeme.saturation_mutagenesis import saturation_mutagenesis
    torch.manual_seed(0)
    m = build_model(arch, **(dict(hidden=8) if arch != 'cnn' else {}), **(dict(n_filters=16) if arch != 'rnn' else {})).eval()
    X = synthetic_dataset('single', n=4, seed=2).X
    S = ism(m, X)
    y0, y_hat = saturation_mutagenesis(m, X, raw_outputs=True, device='cpu')
    torch.testing.assert_close(S, (y_hat[..., 0] - y0[:, None, None, 0]).float(), atol=1e-4, rtol=0)
    T = saturation_mutagenesis(m, X, target=0, hypothetical=True, device='cpu')
    torch.testing.assert_close(S - S.mean(1, keepdim=True), T.float(), atol=1e-4, rtol=0)


@pytest.fixture(scope='module')
def toy_trained():
    "Briefly trained small models of the three architectures (trained-ish: outputs spread over several logits)."
    data = synthetic_dataset('single', n=1000, seed=0)
    tr, va = train_valid_split(data, 0.2, seed=0)
    models = {}
    for arch, hp in [('cnn', dict(n_filters=16)), ('rnn', dict(hidden=8)), ('cnn-rnn', dict(n_filters=16, hidden=8))]:
        torch.manual_seed(0)
        models[arch] = build_model(arch, **hp)
        fit(models[arch], tr, va, epochs=8, lr=1e-2, verbose=False)
        models[arch].eval()
        for p in models[arch].parameters(): p.grad = None
    return models, va.X[:12]


@pytest.mark.parametrize('arch', ['cnn', 'rnn', 'cnn-rnn'])
@pytest.mark.parametrize('baseline', ['zero', 'shuffle'])
def test_ig_completeness(toy_trained, arch, baseline):
    models, X = toy_trained
    m = models[arch]
    B = _baselines(X, baseline, 3, 0)
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # no path may be left incomplete at these sizes
        A = integrated_gradients(m, X, baseline=baseline, n_baselines=3)
    with torch.no_grad(): gaps = torch.stack([m(X)[:, 0] - m(b)[:, 0] for b in B])  # (K, N)
    assert gaps.abs().max() > (1 if arch != 'rnn' else 0.2)  # the models are past their initialisation (the RNN learns slowest)
    # each path within max(1 % of |f(x) - f(b)|, 1e-3 logits), so the average within the average of those bounds
    bound = (0.01 * gaps.abs()).clamp(min=1e-3).mean(0)
    assert ((A.sum((1, 2)) - gaps.mean(0)).abs() <= bound + 1e-6).all()
    assert all(p.grad is None for p in m.parameters())


@pytest.mark.parametrize('arch', ['cnn', 'rnn', 'cnn-rnn'])
def test_ig_matches_captum(toy_trained, arch):
    from captum.attr import IntegratedGradients
    models, X = toy_trained
    m = models[arch]
    B = _baselines(X, 'shuffle', 1, 0)[0]
    A = integrated_gradients(m, X, baseline=B, rtol=None, steps=32, batch_size=50)
    C = IntegratedGradients(m).attribute(X, baselines=B, target=0, n_steps=32, method='gausslegendre')
    torch.testing.assert_close(A, C.float(), atol=1e-4, rtol=1e-4)


def test_ig_refines_paths():
    "With rtol=None a coarse quadrature misses the difference; the default refinement fixes it."
    torch.manual_seed(0)
    m = nn.Sequential(nn.Flatten(), nn.Linear(40, 1), nn.Tanh(), nn.Linear(1, 1)).eval()
    with torch.no_grad(): m[1].weight.mul_(30)
    X = random_onehot(4, 10, n_frac=0)
    with torch.no_grad(): gap = m(X)[:, 0] - m(torch.zeros_like(X))[:, 0]
    coarse = integrated_gradients(m, X, steps=2, rtol=None)
    fine = integrated_gradients(m, X, steps=2)
    assert ((coarse.sum((1, 2)) - gap).abs() > 0.05).any()
    assert ((fine.sum((1, 2)) - gap).abs() <= (0.01 * gap.abs()).clamp(min=1e-3) + 1e-6).all()


@pytest.mark.parametrize('baseline', ['zero', 'shuffle'])
def test_deeplift_summation_to_delta(toy_trained, baseline):
    models, X = toy_trained
    m = models['cnn']
    m.train()
    D = deeplift(m, X, baseline=baseline, n_baselines=4)
    assert m.training and all(p.grad is None for p in m.parameters())
    m.eval()
    B = _baselines(X, baseline, 4, 0)
    with torch.no_grad(): gap = m(X)[:, 0] - torch.stack([m(b)[:, 0] for b in B]).mean(0)
    torch.testing.assert_close(D.sum((1, 2)), gap, atol=1e-4, rtol=1e-4)
    assert ((D != 0) & (X == 0)).sum() == 0


@pytest.mark.parametrize('arch', ['rnn', 'cnn-rnn'])
def test_deeplift_refuses_lstm(arch):
    m = build_model(arch, hidden=4)
    with pytest.raises(DeepMotifError, match='recurrent .LSTM. layers.*use integrated_gradients or ism'):
        deeplift(m, random_onehot(2, 20))


def test_deeplift_refuses_unruled_ops():
    class FunctionalReLU(nn.Module):
        def __init__(self): super().__init__(); self.conv, self.head = nn.Conv1d(4, 4, 5), nn.Linear(4, 1)
        def forward(self, x): return self.head(torch.relu(self.conv(x)).amax(-1))
    torch.manual_seed(1)
    with pytest.raises(DeepMotifError, match='no rule for'):
        deeplift(FunctionalReLU(), random_onehot(4, 30, n_frac=0))
    relu = nn.ReLU()
    shared = nn.Sequential(nn.Conv1d(4, 4, 3), relu, nn.Conv1d(4, 4, 3), relu, nn.Flatten(), nn.Linear(4 * 26, 1))
    with pytest.raises(DeepMotifError, match='one module object in several places'):
        deeplift(shared, random_onehot(2, 30))


X6 = random_onehot(2, 6)
BAD = [  # (function, keyword arguments, message fragment)
    (ism, dict(X=torch.zeros(8, 101)), '(8, 101); expected (N, 4, L)'),
    (ism, dict(target=3), 'target = 3'),
    (ism, dict(target='a'), "target = 'a'"),
    (ism, dict(batch_size=0), 'batch_size = 0'),
    (integrated_gradients, dict(baseline='mean'), "baseline = 'mean'"),
    (integrated_gradients, dict(baseline=torch.zeros(4, 7)), 'baseline has shape (4, 7)'),
    (integrated_gradients, dict(steps=0), 'steps = 0'),
    (integrated_gradients, dict(baseline='shuffle', n_baselines=0), 'n_baselines = 0'),
    (integrated_gradients, dict(X=X6 * 0.5, baseline='shuffle'), 'needs a one-hot X'),
    (deeplift, dict(baseline=torch.full((4, 6), 0.25)), 'one-hot baselines'),
    (deeplift, dict(target=2), 'target = 2'),
]


@pytest.mark.parametrize('fn,kw,msg', BAD)
def test_bad_inputs(fn, kw, msg):
    torch.manual_seed(0)
    m = build_model('cnn', n_filters=4)
    kw = {'X': X6, **kw}
    with pytest.raises(DeepMotifError) as e: fn(m, kw.pop('X'), **kw)
    assert msg in str(e.value)


def test_empty_input():
    m = build_model('cnn', n_filters=4)
    for fn in (ism, integrated_gradients, deeplift):
        assert fn(m, torch.zeros(0, 4, 10)).shape == (0, 4, 10)


def test_deeplift_with_n_columns(toy_trained):
    models, _ = toy_trained
    X = random_onehot(3, 101, seed=4)  # about 10 % N columns
    D = deeplift(models['cnn'], X, baseline='zero')
    with torch.no_grad(): gap = models['cnn'](X)[:, 0] - models['cnn'](torch.zeros_like(X))[:, 0]
    torch.testing.assert_close(D.sum((1, 2)), gap, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize('L', [1, 7, 30, 61])
def test_ism_cnn_floor_pool_dilation(L):
    "The windowed CNN path with dilated and asymmetric-padded convolutions and floor-mode pooling of widths 2 and 3."
    torch.manual_seed(L)
    m = build_model('cnn', n_filters=5)
    m.convs = nn.Sequential(nn.Conv1d(4, 5, 3, padding=2, dilation=2), nn.ReLU(), nn.MaxPool1d(2), nn.Conv1d(5, 5, 4, padding=1),
                            nn.ReLU(), nn.MaxPool1d(3), nn.Conv1d(5, 5, 1), nn.Tanh())
    X = random_onehot(2, L, seed=L)
    if L < 12: return  # too short for the two poolings and the width-4 convolution
    S = ism(m, X, batch_size=3)
    torch.testing.assert_close(S, ism_loop(m, X), atol=1e-5, rtol=0)
    torch.testing.assert_close(ism(m, X, batch_size=500), S, atol=1e-6, rtol=0)


def test_ism_cnn_rnn_mean_pooling():
    torch.manual_seed(1)
    m = build_model('cnn-rnn', n_filters=5, hidden=3, pooling='mean')
    X = random_onehot(3, 40, seed=2)
    torch.testing.assert_close(ism(m, X, batch_size=4), ism_loop(m, X), atol=1e-5, rtol=0)


@pytest.mark.parametrize('arch', ['cnn', 'rnn', 'cnn-rnn'])
def test_single_sequence_is_batch_of_one(toy_trained, arch):
    "One (4, L) sequence gives a (4, L) map: exactly the batch of one's first row, for every method and accepted input type."
    import numpy as np
    models, X = toy_trained
    m, x = models[arch], X[3]
    runs = [(ism, {}), (integrated_gradients, dict(baseline='shuffle', n_baselines=2, steps=8)), (integrated_gradients, dict(baseline=torch.zeros(4, x.shape[1]), steps=8))]
    if arch == 'cnn': runs += [(deeplift, dict(n_baselines=3)), (deeplift, dict(baseline='zero'))]
    for fn, kw in runs:
        batch = fn(m, x[None], **kw)
        assert batch.shape == (1, 4, x.shape[1])
        for single in (x, x.numpy(), x.double(), x.tolist()):
            S = fn(m, single, **kw)
            assert S.shape == (4, x.shape[1]) and S.dtype == torch.float32
            assert torch.equal(S, batch[0]), (fn.__name__, type(single))
        assert not torch.equal(batch[0], torch.zeros_like(batch[0]))
    assert ism(m, np.asarray(X[:2])).shape == (2, 4, X.shape[2])  # a batch keeps its axis
