"""Shared fixtures (small files in every supported format, written fresh for each test) and the test tiers.

Tiers: a test is `slow` when it uses a fixture that trains full models (`SLOW_FIXTURES`) or is marked where it stands;
`browser` tests drive Chromium and are slow too; `gpu` cases run on CUDA. `pytest -m "not slow"` is the quick tier."""
import gzip, os
# Tests that compare training runs across processes need the same arithmetic in each: no thread pool that shrinks
# when the machine is busy (set before torch starts its pools; the command-line runs the tests start inherit it).
os.environ.setdefault('MKL_DYNAMIC', 'FALSE')
os.environ.setdefault('OMP_DYNAMIC', 'FALSE')
import pytest
import torch
from torch import nn
from deepmotif.data import synthetic_dataset


class DanQ(nn.Module):
    "A DanQ-like model as a user writes it: conv without padding, max pool, a BiGRU kept in self.rnn, max over positions."
    def __init__(self, n_outputs: int = 2):
        super().__init__()
        self.conv, self.pool = nn.Conv1d(4, 6, 5), nn.MaxPool1d(3)
        self.rnn, self.head = nn.GRU(6, 4, batch_first=True, bidirectional=True), nn.Linear(8, n_outputs)
    def forward(self, x):
        return self.head(self.rnn(self.pool(self.conv(x).relu()).transpose(1, 2))[0].amax(1))


def write_fasta(path, seqs, labels):
    path.write_text(''.join(f'>{l}\n{s}\n' for s, l in zip(seqs, labels)))
    return path


def write_deepbind(path, seqs, labels):
    rows = 'FoldID\tEventID\tseq\tBound\n' + ''.join(f'A\tseq_{i:05d}_peak\t{s}\t{l}\n' for i, (s, l) in enumerate(zip(seqs, labels)))
    if str(path).endswith('.gz'):
        with gzip.open(path, 'wt') as f: f.write(rows)
    else: path.write_text(rows)
    return path


SLOW_FIXTURES = {'trained', 'single_task'}  # session fixtures that train CNN, RNN and CNN-RNN at full size


def pytest_collection_modifyitems(config, items):
    "Mark tests by what they need: the full-size trained models (slow), a browser (browser, slow), a CUDA device (gpu)."
    for item in items:
        names = set(getattr(item, 'fixturenames', ()))
        if names & SLOW_FIXTURES: item.add_marker(pytest.mark.slow)
        if item.get_closest_marker('browser'): item.add_marker(pytest.mark.slow)
        callspec = getattr(item, 'callspec', None)
        if callspec is not None and any(v == 'cuda' for v in callspec.params.values() if isinstance(v, str)):
            item.add_marker(pytest.mark.gpu)


@pytest.fixture(scope='module')
def one_thread():
    "torch at one thread for a module's tests (`pytestmark = pytest.mark.usefixtures('one_thread')`), restored after."
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture
def small():
    return synthetic_dataset('single', n=200, seed=5)


@pytest.fixture(params=['cpu', pytest.param('cuda', marks=pytest.mark.skipif(not torch.cuda.is_available(), reason='no CUDA device'))])
def device(request):
    return request.param


@pytest.fixture(scope='session')
def single_task():
    "The built-in `single` task: (train, valid, test) at the size the demo uses."
    from deepmotif.data import train_valid_split
    data = synthetic_dataset('single', n=4000, seed=0)
    return (*train_valid_split(data, 0.1, seed=0), synthetic_dataset('single', n=1000, seed=1))


@pytest.fixture(scope='session')
def trained(single_task):
    "CNN, RNN and CNN-RNN trained with default settings on the `single` task, once per test session."
    from deepmotif.models import build_model
    from deepmotif.train import fit
    tr, va, _ = single_task
    models = {}
    for arch in ('cnn', 'rnn', 'cnn-rnn'):
        torch.manual_seed(0)
        models[arch] = build_model(arch)
        fit(models[arch], tr, va, verbose=False)
    return models


def execute_module():
    "demo_nb/execute.py as a module: it executes the tutorials and the chapters that draw, and records each run."
    import importlib.util
    from pathlib import Path
    spec = importlib.util.spec_from_file_location('demo_execute', Path(__file__).parents[1] / 'demo_nb' / 'execute.py')
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod
