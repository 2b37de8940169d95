"Training reaches the accuracy the built-in task allows, for each architecture."
import pytest
import torch
from deepmotif.data import synthetic_dataset, train_valid_split
from deepmotif.models import build_model
from deepmotif.train import fit, evaluate


@pytest.fixture(scope='module')
def single():
    data = synthetic_dataset('single', n=4000, seed=0)
    return (*train_valid_split(data, 0.1, seed=0), synthetic_dataset('single', n=1000, seed=1))


@pytest.mark.parametrize('arch', ['cnn', 'rnn', 'cnn-rnn'])
def test_single_task_test_auroc(single, arch):
    tr, va, te = single
    torch.manual_seed(0)
    m = build_model(arch)
    h = fit(m, tr, va, verbose=False)
    r = evaluate(m, te)
    assert r['auroc'] >= 0.95, (arch, r, h['valid_auroc'])
