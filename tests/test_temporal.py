"Temporal output scores: the batched method against the brute-force loop, edge cases, bad inputs, caller's model left alone."
import warnings
import pytest
import torch
from torch import nn
from deepmotif.data import DeepMotifError, DeepMotifWarning, synthetic_dataset
from deepmotif.models import build_model
from deepmotif.train import predict
from deepmotif.temporal import temporal_scores, temporal_scores_reference, CUTS, VARIANTS
from conftest import DanQ  # a DanQ-like user model, conv + BiGRU


def toy(arch, seed=0, **hp):
    "A small random model with dropout, in eval mode."
    torch.manual_seed(seed)
    sizes = dict(hidden=5, n_outputs=2, dropout=0.3)
    if arch == 'cnn-rnn': sizes.update(n_filters=6, kernel_size=7)
    return build_model(arch, **{**sizes, **hp}).eval()


def random_onehot(n, L, seed=0, n_frac=0.1):
    "One-hot sequences with a few all-zero (N) columns."
    g = torch.Generator().manual_seed(seed)
    X = nn.functional.one_hot(torch.randint(0, 4, (n, L), generator=g), 4).float().transpose(1, 2).contiguous()
    return X * (torch.rand(n, 1, L, generator=g) > n_frac)


CASES = [('rnn', {}), ('rnn', dict(pooling='mean')), ('cnn-rnn', {}), ('cnn-rnn', dict(kernel_size=1)),
         ('cnn-rnn', dict(kernel_size=3, hidden=1)), ('cnn-rnn', dict(kernel_size=15)), ('cnn-rnn', dict(pooling='max')),
         ('cnn-rnn', dict(kernel_size=15, pooling='max'))]


@pytest.mark.parametrize('arch,hp', CASES)
@pytest.mark.parametrize('cut', CUTS)
@pytest.mark.parametrize('L', [1, 2, 3, 4, 8, 21])
def test_matches_reference(arch, hp, cut, L):
    m = toy(arch, seed=L, **hp)
    X = random_onehot(6, L, seed=L)
    for target in (0, 1):
        R = temporal_scores_reference(m, X, target=target, cut=cut)
        S = temporal_scores(m, X, target=target, cut=cut)
        assert S.shape == (6, 2, L) and S.dtype == torch.float32
        torch.testing.assert_close(S, R, atol=1e-5, rtol=0)


@pytest.mark.parametrize('cut', CUTS)
def test_paper_sizes_length_101(cut):
    m = build_model('cnn-rnn').eval()
    X = synthetic_dataset('single', n=4, seed=2).X
    torch.testing.assert_close(temporal_scores(m, X, cut=cut), temporal_scores_reference(m, X, cut=cut), atol=1e-5, rtol=0)


def test_reference_is_the_model_on_prefixes_and_suffixes():
    m = toy('cnn-rnn')
    X = random_onehot(3, 9)
    with torch.no_grad():
        for t in (0, 4, 8):
            p = torch.sigmoid(m(X[:, :, :t + 1])[:, 1])
            s = torch.sigmoid(m(X[:, :, t:])[:, 1])
            torch.testing.assert_close(temporal_scores(m, X, target=1, cut='input')[:, 0, t], p, atol=1e-5, rtol=0)
            torch.testing.assert_close(temporal_scores(m, X, target=1, cut='input')[:, 1, t], s, atol=1e-5, rtol=0)


@pytest.mark.parametrize('arch', ['rnn', 'cnn-rnn'])
def test_ends_are_the_prediction(arch):
    m = toy(arch)
    X = random_onehot(5, 30)
    p = torch.from_numpy(predict(m, X, target=1))
    for cut in CUTS:
        S = temporal_scores(m, X, target=1, cut=cut)
        torch.testing.assert_close(S[:, 0, -1], p, atol=1e-5, rtol=0)
        torch.testing.assert_close(S[:, 1, 0], p, atol=1e-5, rtol=0)


def test_cuts_agree_for_rnn_and_differ_for_cnn_rnn():
    X = random_onehot(4, 20)
    rnn, crnn = toy('rnn'), toy('cnn-rnn')
    torch.testing.assert_close(temporal_scores(rnn, X), temporal_scores(rnn, X, cut='input'), atol=1e-6, rtol=0)
    assert not torch.allclose(temporal_scores(crnn, X), temporal_scores(crnn, X, cut='input'), atol=1e-4)


@pytest.mark.parametrize('cut', CUTS)
@pytest.mark.parametrize('batch_size', [1, 2, 3, 7, 100])
def test_batch_size_invariance(cut, batch_size):
    m = toy('cnn-rnn')
    X = random_onehot(7, 15)
    torch.testing.assert_close(temporal_scores(m, X, cut=cut, batch_size=batch_size),
                               temporal_scores(m, X, cut=cut, batch_size=64), atol=1e-6, rtol=0)


def test_seqdata_input_and_empty_batch():
    d = synthetic_dataset('single', n=4, seed=1)
    m = toy('rnn')
    torch.testing.assert_close(temporal_scores(m, d), temporal_scores(m, d.X))
    assert temporal_scores(m, torch.zeros(0, 4, 12)).shape == (0, 2, 12)


def test_leaves_model_and_input_alone(device):
    m = toy('cnn-rnn').train()
    state = {k: v.clone() for k, v in m.state_dict().items()}
    X = random_onehot(3, 12)
    X0 = X.clone()
    S = temporal_scores(m, X, device=device)
    assert m.training and next(m.parameters()).device.type == 'cpu'
    assert S.device.type == 'cpu'
    assert torch.equal(X, X0)
    assert all(torch.equal(v, state[k]) for k, v in m.state_dict().items())
    torch.testing.assert_close(S, temporal_scores_reference(m, X), atol=1e-5, rtol=0)


def test_device_results_match_cpu(device):
    m = toy('cnn-rnn')
    X = random_onehot(3, 12)
    torch.testing.assert_close(temporal_scores(m, X, device=device, cut='input'),
                               temporal_scores(m, X, device='cpu', cut='input'), atol=1e-5, rtol=0)


def test_unsupported_stem_runs_the_definition():
    m = toy('cnn-rnn')
    m.stem = nn.Sequential(nn.Conv1d(4, 6, 3, padding=1), nn.ReLU(), nn.MaxPool1d(3, stride=1, padding=1))
    X = random_onehot(3, 10)
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # exact, so nothing to warn about
        S = temporal_scores(m, X, cut='input')
        torch.testing.assert_close(temporal_scores(m, X), temporal_scores_reference(m, X), atol=1e-5, rtol=0)
    with torch.no_grad():
        for t in (0, 5, 9):
            torch.testing.assert_close(S[:, 0, t], torch.sigmoid(m(X[:, :, :t + 1])[:, 0]), atol=1e-6, rtol=0)


def test_lstm_without_bias():
    m = toy('rnn')
    m.lstm = nn.LSTM(4, 5, batch_first=True, bidirectional=True, bias=False)
    X = random_onehot(3, 10)
    torch.testing.assert_close(temporal_scores(m, X), temporal_scores_reference(m, X), atol=1e-5, rtol=0)


X_OK = torch.zeros(2, 4, 10)
BAD = [  # (argument, value, message fragment)
    ('model', build_model('cnn', n_filters=4), 'model is a CNN without a recurrent layer'),
    ('model', nn.Linear(4, 1), 'model is a Linear'),
    ('X', torch.zeros(2, 10), 'X has shape (2, 10); expected (N, 4, L)'),
    ('X', torch.zeros(2, 5, 10), 'X has shape (2, 5, 10)'),
    ('X', torch.zeros(2, 4, 0), 'X has shape (2, 4, 0); expected (N, 4, L) or (4, L)'),
    ('cut', 'exact', "cut = 'exact'; must be 'recurrence' or 'input'"),
    ('target', 2, 'target = 2; the model has 2 outputs (0 to 1)'),
    ('target', -1, 'target = -1'),
    ('target', 'pos', "target = 'pos'"),
    ('batch_size', 0, 'batch_size = 0'),
    ('batch_size', 2.5, 'batch_size = 2.5'),
]


@pytest.mark.parametrize('fn', [temporal_scores, temporal_scores_reference])
@pytest.mark.parametrize('arg,value,fragment', BAD)
def test_bad_inputs(fn, arg, value, fragment):
    kw = dict(model=toy('rnn'), X=X_OK)
    kw[arg] = value
    model, X = kw.pop('model'), kw.pop('X')
    with pytest.raises(DeepMotifError) as e:
        fn(model, X, **kw)
    assert fragment in str(e.value)


def test_multilayer_lstm_runs_the_definition():
    m = toy('rnn')
    m.lstm = nn.LSTM(4, 5, num_layers=2, batch_first=True, bidirectional=True)
    X = random_onehot(3, 9)
    S = temporal_scores(m, X)
    with torch.no_grad():
        for t in range(9):
            torch.testing.assert_close(S[:, 0, t], torch.sigmoid(m.eval()(X[:, :, :t + 1])[:, 0]), atol=1e-6, rtol=0)
            torch.testing.assert_close(S[:, 1, t], torch.sigmoid(m(X[:, :, t:])[:, 0]), atol=1e-6, rtol=0)



# Models written in plain torch, as a user would: the definition runs their own forward on every prefix and suffix.
class LstmNamedLstm(nn.Module):
    "An LSTM called self.lstm, but a forward of its own (max pooling, no `pooling` attribute): nothing of ours applies."
    def __init__(self):
        super().__init__()
        self.lstm, self.head = nn.LSTM(4, 3, batch_first=True, bidirectional=True), nn.Linear(6, 1)
        self.features, self.dropout = (lambda X: X.transpose(1, 2)), nn.Dropout(0.0)
    def forward(self, x): return self.head(self.lstm(x.transpose(1, 2))[0].amax(1))


class Unidirectional(nn.Module):
    "A plain nn.RNN reading forward only, the last state to the head."
    def __init__(self):
        super().__init__(); self.cell, self.head = nn.RNN(4, 3, batch_first=True), nn.Linear(3, 1)
    def forward(self, x): return self.head(self.cell(x.transpose(1, 2))[1][-1])


def brute_force(model, X, target, shortest=1):
    "The definition, one sequence and one cut at a time."
    N, _, L = X.shape
    out = torch.full((N, 2, L), float('nan'))
    with torch.no_grad():
        for i in range(N):
            for t in range(L):
                if t + 1 >= shortest: out[i, 0, t] = torch.sigmoid(model(X[i:i + 1, :, :t + 1])[0, target])
                if L - t >= shortest: out[i, 1, t] = torch.sigmoid(model(X[i:i + 1, :, t:])[0, target])
    return out


@pytest.mark.parametrize('make,target,shortest', [(DanQ, 1, 7), (LstmNamedLstm, 0, 1), (Unidirectional, 0, 1)])
@pytest.mark.parametrize('batch_size', [1, 64])
def test_user_models_equal_brute_force(make, target, shortest, batch_size):
    torch.manual_seed(0)
    m = make().eval()
    X = random_onehot(3, 16)
    S = temporal_scores(m, X, target=target, batch_size=batch_size)
    torch.testing.assert_close(S, brute_force(m, X, target, shortest), atol=1e-6, rtol=0, equal_nan=True)
    assert S[:, 0, shortest - 1:].isfinite().all() and S[:, 0, :shortest - 1].isnan().all()


def test_user_model_max_pooling_is_not_read_as_mean():
    torch.manual_seed(1)
    m = LstmNamedLstm().eval()
    X = random_onehot(4, 30)
    with torch.no_grad(): p = torch.sigmoid(m(X)[:, 0])
    S = temporal_scores(m, X)
    torch.testing.assert_close(S[:, 0, -1], p, atol=1e-6, rtol=0)
    torch.testing.assert_close(S[:, 1, 0], p, atol=1e-6, rtol=0)
    with pytest.raises(DeepMotifError, match="use cut='input'"):
        temporal_scores(m, X, cut='recurrence')


def test_user_model_targets_by_name():
    torch.manual_seed(0)
    m = DanQ().eval()
    m.tasks = ['HepG2', 'K562']
    X = random_onehot(2, 12)
    torch.testing.assert_close(temporal_scores(m, X, target='K562'), temporal_scores(m, X, target=1), equal_nan=True)
    with pytest.raises(DeepMotifError, match="target = 'GM12878'"):
        temporal_scores(m, X, target='GM12878')


@pytest.mark.parametrize('bad,fragment', [
    (lambda x: x.sum((1, 2)), 'one score per sequence'),
    (lambda x: (x.sum((1, 2))[:, None], x), 'a tuple of 2 items'),
])
def test_user_model_bad_output(bad, fragment):
    class Bad(nn.Module):
        def __init__(self): super().__init__(); self.rnn = nn.GRU(4, 2)
        def forward(self, x): return bad(x)
    with pytest.raises(DeepMotifError, match=fragment):
        temporal_scores(Bad(), random_onehot(2, 8))


def test_former_variant_keyword_warns_and_agrees():
    m = toy('cnn-rnn')
    X = random_onehot(2, 10)
    for old, new in zip(VARIANTS, CUTS):
        with pytest.warns(DeprecationWarning, match='variant= is now cut='):
            S = temporal_scores(m, X, variant=old)
        torch.testing.assert_close(S, temporal_scores(m, X, cut=new))
