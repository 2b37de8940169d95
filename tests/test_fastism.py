"ISM through any chain of layers: the cropped route against every mutant built and run, against tangermeme, its batch sizes, and the models it must leave to the plain route."
import pytest
import torch
from torch import nn
import torch.nn.functional as F
import deepmotif.attribution as attribution
from deepmotif.attribution import ism
from deepmotif.fastism import layer_plan
from test_attribution import random_onehot, ism_loop

pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")  # torch's note on even kernels


class Functional(nn.Module):
    "'same' padding with an even kernel, dilation, a ceil-mode pool, a strided convolution, torch/F activations, x.flatten."
    def __init__(self, L):
        super().__init__()
        self.c1, self.c2 = nn.Conv1d(4, 8, 6, padding='same'), nn.Conv1d(8, 6, 5, dilation=2, padding=4)
        self.pool, self.c3 = nn.MaxPool1d(3, ceil_mode=True), nn.Conv1d(6, 5, 3, stride=2, padding=1)
        self.fc = nn.Linear(self.features(torch.zeros(1, 4, L)).shape[1], 3)

    def features(self, x): return F.gelu(self.c3(self.pool(torch.relu(self.c2(F.elu(self.c1(x))))))).flatten(1)
    def forward(self, x): return self.fc(self.features(x))


def basset(L, filters=(12, 8, 6)):
    "A small Basset-like stack: conv, BatchNorm, ELU, max pool three times, flatten, two dense layers."
    a, b, c = filters
    body = nn.Sequential(nn.Conv1d(4, a, 7, padding=3), nn.BatchNorm1d(a), nn.ELU(), nn.MaxPool1d(3),
                         nn.Conv1d(a, b, 5, padding=2), nn.BatchNorm1d(b), nn.ELU(), nn.MaxPool1d(2),
                         nn.Conv1d(b, c, 3, padding=1), nn.BatchNorm1d(c), nn.ELU(), nn.MaxPool1d(2), nn.Flatten())
    n = body(torch.zeros(2, 4, L)).shape[1]
    return nn.Sequential(*body, nn.Linear(n, 10), nn.BatchNorm1d(10), nn.ELU(), nn.Dropout(0.3), nn.Linear(10, 2))


CHAINS = {
    'basset': basset,
    'functional': Functional,
    'global max': lambda L: nn.Sequential(nn.Conv1d(4, 8, 5, padding=2), nn.ReLU(), nn.AvgPool1d(3, 2, padding=1),
                                          nn.Conv1d(8, 8, 3, groups=2, padding=1), nn.Sigmoid(), nn.AdaptiveMaxPool1d(1), nn.Flatten(), nn.Linear(8, 2)),
    'strided stem': lambda L: nn.Sequential(nn.Conv1d(4, 6, 4, stride=2, padding=1), nn.SiLU(), nn.Conv1d(6, 4, 3, groups=2, dilation=2, padding=2),
                                            nn.LeakyReLU(), nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(4, 2)),
    'padded pools': lambda L: nn.Sequential(nn.Conv1d(4, 6, 7, padding=3), nn.Tanh(), nn.MaxPool1d(2, 2, padding=1), nn.Conv1d(6, 5, 4, padding=3),
                                            nn.AvgPool1d(3, 2, padding=1), nn.Conv1d(5, 2, 1)).append(nn.Flatten()).append(nn.LazyLinear(2)),
}


def prepare(name, L, seed=0):
    torch.manual_seed(seed)
    m = CHAINS[name](L)
    m(torch.zeros(2, 4, L))  # materialise lazy layers
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, nn.BatchNorm1d): mod.running_mean.normal_(); mod.running_var.uniform_(0.5, 2.)
            if isinstance(mod, (nn.Conv1d, nn.Linear)): mod.weight.mul_(3.)  # large logit changes: a wrong column shows
    return m


@pytest.fixture
def cropped(monkeypatch):
    "How many substitutions went through the cropped route."
    seen = []
    real = attribution.ism_layers
    def spy(*a, **k):
        out = real(*a, **k); seen.append(len(out)); return out
    monkeypatch.setattr(attribution, 'ism_layers', spy)
    return seen


@pytest.mark.parametrize('name,L', [(n, L) for n in CHAINS for L in (3, 24, 47, 100) if not (n == 'basset' and L < 12)])  # Basset's pools need 12 bp
def test_cropped_matches_every_mutant(name, L, cropped):
    m = prepare(name, L)
    X = random_onehot(3, L, seed=L)  # with N columns: four substitutions there
    S = ism(m, X, target=1, batch_size=5)
    assert m.training  # the mode is given back
    assert sum(cropped) == int((X.sum(1) == 1).sum()) * 3 + int((X.sum(1) == 0).sum()) * 4  # every substitution took the cropped route
    torch.testing.assert_close(S, ism_loop(m, X, target=1), atol=1e-4 * float(S.abs().max()), rtol=0)
    torch.testing.assert_close(ism(m, X, target=1, batch_size=4096), S, atol=1e-5 * float(S.abs().max()), rtol=0)


def test_matches_tangermeme_and_plain_route_on_long_basset():
    from tangermeme.saturation_mutagenesis import saturation_mutagenesis
    m = prepare('basset', 600).eval()
    X = random_onehot(2, 600, seed=1, n_frac=0)
    S = ism(m, X, device='cpu')
    r = saturation_mutagenesis(m, X, batch_size=256, raw_outputs=True, device='cpu')
    theirs = (r.y_hat[..., 0] - r.y0[:, None, None, 0]) * (1 - X)
    torch.testing.assert_close(S, theirs, atol=1e-4 * float(S.abs().max()), rtol=0)
    torch.testing.assert_close(ism(m, X, fast=False), S, atol=1e-4 * float(S.abs().max()), rtol=0)


class Skip(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv, self.fc = nn.Conv1d(4, 4, 3, padding=1), nn.Linear(4 * 20, 1)
    def forward(self, x): return self.fc((self.conv(x) + x).flatten(1))


class TraceBranch(nn.Module):
    "Traced, x is not a Tensor and the other branch is recorded: the chain must be refused."
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(4, 2, 3)
    def forward(self, x):
        y = self.conv(x).flatten(1)
        return y[:, :2] if isinstance(y, torch.Tensor) else y


@pytest.mark.parametrize('model', [Skip(), TraceBranch(), nn.Sequential(nn.Conv1d(4, 3, 3, padding=1, padding_mode='circular'), nn.ReLU(), nn.Conv1d(3, 2, 3), nn.Flatten(), nn.Linear(36, 1))],
                         ids=['skip connection', 'branch on type', 'circular padding first'])
def test_plain_route_when_not_a_chain(model, cropped):
    X = random_onehot(2, 20, seed=2)
    model.eval()
    assert layer_plan(model, X) is None
    S = ism(model, X)
    assert cropped == []
    torch.testing.assert_close(S, ism_loop(model, X), atol=1e-5, rtol=0)


def test_recurrent_head_runs_on_spliced_features(cropped):
    "A convolution then an LSTM: the front is cropped, the LSTM head runs whole on the spliced features."
    class ConvLSTM(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.lstm, self.fc = nn.Conv1d(4, 5, 5, padding=2), nn.LSTM(5, 3, batch_first=True), nn.Linear(3, 1)
        def forward(self, x): return self.fc(self.lstm(torch.relu(self.conv(x)).transpose(1, 2))[0][:, -1])
    torch.manual_seed(0)
    m = ConvLSTM()
    X = random_onehot(2, 15, seed=4)
    S = ism(m, X)
    assert sum(cropped) > 0
    torch.testing.assert_close(S, ism_loop(m, X), atol=1e-5, rtol=0)


@pytest.mark.parametrize('name', ['basset', 'global max'])
def test_same_numbers_at_any_thread_count(name):
    "Phases run side by side with torch on one thread each: 1, 2 and 3 threads give the same numbers to the bit."
    m = prepare(name, 100).eval()
    X = random_onehot(3, 100, seed=5)
    old = torch.get_num_threads()
    try:
        got = []
        for t in (1, 2, 3):
            torch.set_num_threads(t)
            got.append(ism(m, X, batch_size=16))
            assert torch.get_num_threads() == t  # given back
    finally: torch.set_num_threads(old)
    assert torch.equal(got[0], got[1]) and torch.equal(got[0], got[2])
    torch.testing.assert_close(got[0], ism_loop(m, X), atol=1e-4 * float(got[0].abs().max()), rtol=0)


def test_groups_are_fixed_by_the_substitutions_alone():
    "Phases go into groups of consecutive phases, in order, each of at least `least` mutants (but the last), at most `most` groups."
    from deepmotif.fastism import _groups
    counts = [0, 300, 10, 700, 200, 200, 5, 0, 900]  # mutants per phase (phases 0 and 7 have none)
    cuts = [0]
    for c in counts: cuts.append(cuts[-1] + c)
    phases = [p for p, c in enumerate(counts) if c]
    g = _groups(phases, cuts, most=64, least=512)
    assert [p for grp in g for p in grp] == phases                     # every phase once, in order
    sizes = [sum(counts[p] for p in grp) for grp in g]
    assert all(s >= 512 for s in sizes[:-1]) and g == [[1, 2, 3], [4, 5, 6, 8]], (g, sizes)
    assert len(_groups(phases, cuts, most=2, least=1)) <= 2 + 1          # about cuts[-1] / most mutants each
    assert _groups([], [0]) == []
