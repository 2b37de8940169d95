"""One rule for a single (4, L) sequence: every function that runs a model on sequences gives, for one sequence, exactly
its result on the batch of that one sequence without the batch axis; batches keep their batch axis."""
import numpy as np
import pytest
import torch
from deepmotif.core import DeepMotifError
from deepmotif.data import synthetic_dataset
from deepmotif.models import build_model
from deepmotif.train import predict, predict_logits
from deepmotif.saliency import saliency, KINDS
from deepmotif.temporal import temporal_scores, temporal_scores_reference, CUTS
from deepmotif.attribution import ism, integrated_gradients, deeplift

L = 24


@pytest.fixture(scope='module')
def X():
    "Three one-hot sequences of length L from the built-in data."
    return synthetic_dataset('single', n=3, seed=0).X[:, :, :L].contiguous()


def small(arch, seed=0):
    "A fixed small model with two outputs, in eval mode."
    torch.manual_seed(seed)
    hp = dict(cnn=dict(n_filters=6, kernel_sizes=(5, 3)), rnn=dict(hidden=4), **{'cnn-rnn': dict(n_filters=6, kernel_size=5, hidden=4)})[arch]
    return build_model(arch, n_outputs=2, **hp).eval()


def same(a, b):
    "Equal in shape and value, exactly."
    if isinstance(a, torch.Tensor): return a.shape == b.shape and torch.equal(a, b)
    return np.shape(a) == np.shape(b) and np.array_equal(a, b)


# (name, function of (model, X), architectures, result shape for a batch of N sequences)
CASES = [
    ('predict', lambda m, X: predict(m, X), ('cnn', 'rnn', 'cnn-rnn'), lambda n: (n,)),
    ('predict target=None', lambda m, X: predict(m, X, target=None), ('cnn', 'rnn'), lambda n: (n, 2)),
    ('predict target=1', lambda m, X: predict(m, X, target=1), ('cnn-rnn',), lambda n: (n,)),
    ('predict_logits', lambda m, X: predict_logits(m, X), ('cnn', 'rnn', 'cnn-rnn'), lambda n: (n, 2)),
    *[(f'saliency {k}', lambda m, X, k=k: saliency(m, X, kind=k, target=1), ('cnn', 'cnn-rnn'), lambda n: (n, 4, L)) for k in KINDS],
    *[(f'temporal_scores {c}', lambda m, X, c=c: temporal_scores(m, X, cut=c, target=1), ('rnn', 'cnn-rnn'), lambda n: (n, 2, L))
      for c in CUTS],
    ('temporal_scores_reference', lambda m, X: temporal_scores_reference(m, X, cut='input'), ('cnn-rnn',), lambda n: (n, 2, L)),
    ('ism', lambda m, X: ism(m, X), ('cnn',), lambda n: (n, 4, L)),
    ('integrated_gradients', lambda m, X: integrated_gradients(m, X, steps=8), ('cnn',), lambda n: (n, 4, L)),
    ('deeplift', lambda m, X: deeplift(m, X), ('cnn',), lambda n: (n, 4, L)),
]
PARAMS = [pytest.param(fn, arch, shape, id=f'{name}-{arch}') for name, fn, archs, shape in CASES for arch in archs]


@pytest.mark.parametrize('fn,arch,shape', PARAMS)
def test_one_sequence_is_the_batch_of_one_without_its_axis(X, fn, arch, shape):
    m = small(arch)
    batch, one_batch, one = fn(m, X), fn(m, X[1:2]), fn(m, X[1])
    assert np.shape(batch) == shape(3) and np.shape(one_batch) == shape(1)
    assert np.shape(one) == shape(1)[1:]
    assert same(one, one_batch[0])
    assert same(fn(m, X[1].numpy()), one)  # a (4, L) array is read like a tensor


@pytest.mark.parametrize('arch', ['cnn', 'rnn'])
def test_batches_are_the_models_own_outputs(X, arch):
    "The batched results against the model run directly: logits, probabilities, and the gradient of the logit."
    m = small(arch)
    with torch.no_grad(): logits = m(X)
    torch.testing.assert_close(predict_logits(m, X), logits, atol=1e-6, rtol=0)
    np.testing.assert_allclose(predict(m, X, target=1), torch.sigmoid(logits[:, 1]).numpy(), atol=1e-6)
    x = X.clone().requires_grad_(True)
    with torch.backends.cudnn.flags(enabled=False): g, = torch.autograd.grad(m(x)[:, 1].sum(), x)
    torch.testing.assert_close(saliency(m, X, kind='gradient', target=1), g, atol=1e-6, rtol=0)
    torch.testing.assert_close(saliency(m, X[0], kind='gradient', target=1), g[0], atol=1e-6, rtol=0)


def test_seqdata_keeps_its_batch_axis():
    d = synthetic_dataset('single', n=2, seed=2).subset([1])
    m = small('rnn')
    assert predict(m, d).shape == (1,) and saliency(m, d).shape == (1, 4, d.length) and temporal_scores(m, d).shape == (1, 2, d.length)


@pytest.mark.parametrize('fn', [predict, predict_logits, saliency, temporal_scores, temporal_scores_reference])
@pytest.mark.parametrize('bad,shape', [(torch.zeros(3, L), '(3, 24)'), (torch.zeros(2, 3, L), '(2, 3, 24)'), (torch.zeros(4), '(4,)')])
def test_other_shapes_are_refused(fn, bad, shape):
    with pytest.raises(DeepMotifError) as e: fn(small('rnn'), bad)
    assert f'X has shape {shape}; expected' in str(e.value)
