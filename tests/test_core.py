"The core's one check per contract (target, batch size, a model's output, input length), against every entry point that runs a model, and every output's mode under the user's umask."
import os, stat
import numpy as np
import pytest
import torch
from torch import nn
from deepmotif.core import (DeepMotifError, check_target, target_index, check_batch_size, check_output, batched_logits,
                            model_length, read_text)
from deepmotif.models import build_model, save_model, load_model
from deepmotif.data import one_hot
from deepmotif.train import predict
from deepmotif.saliency import saliency
from deepmotif.temporal import temporal_scores
from deepmotif.attribution import ism, integrated_gradients, ATTRIBUTION_METHODS

X = one_hot(['ACGTACGTACGTACGTACGT', 'TTGACTCAGGGGATAACCCA'])


class Named(nn.Module):
    "A user's model with two named outputs."
    tasks = ['REST', 'CTCF']
    def __init__(self):
        super().__init__()
        self.conv, self.head = nn.Conv1d(4, 3, 5), nn.Linear(3, 2)
    def forward(self, x): return self.head(self.conv(x).amax(-1))


class Scores(nn.Module):
    "A model returning one score per sequence, (N,)."
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 1)
    def forward(self, x): return self.lin(x.mean(-1))[:, 0]


class Pair(Scores):
    "A model returning a tuple (profile, counts), as BPNet-like models do."
    def forward(self, x): return x, self.lin(x.mean(-1))


ENTRY_POINTS = {  # every function that runs a model on X and explains or scores one output
    'predict': lambda m, **kw: predict(m, X, **kw),
    'saliency': lambda m, **kw: saliency(m, X, **kw),
    'ism': lambda m, **kw: ism(m, X, **kw),
    'integrated_gradients': lambda m, **kw: integrated_gradients(m, X, steps=4, **kw),
    **{f'METHODS[{k}]': (lambda m, k=k, **kw: ATTRIBUTION_METHODS[k].fn(m, X, **kw)) for k in ('gradient', 'grad_x_input')},
}


@pytest.mark.parametrize('entry', ENTRY_POINTS)
def test_target_by_name_equals_target_by_index(entry):
    torch.manual_seed(0)
    m = Named()
    a, b = ENTRY_POINTS[entry](m, target='CTCF'), ENTRY_POINTS[entry](m, target=1)
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=0, atol=0)
    assert not np.allclose(np.asarray(a), np.asarray(ENTRY_POINTS[entry](m, target=0)))   # the name picks another output than 0


@pytest.mark.parametrize('entry', ENTRY_POINTS)
@pytest.mark.parametrize('target, msg', [(2, "target = 2; the model has 2 outputs (0 to 1), named 'REST', 'CTCF'"),
                                         ('SP1', "target = 'SP1'; the model has 2 outputs (0 to 1), named 'REST', 'CTCF'"),
                                         (-1, 'target = -1; must be an output index'), (0.5, 'target = 0.5')])
def test_bad_targets_give_one_message_everywhere(entry, target, msg):
    with pytest.raises(DeepMotifError) as e: ENTRY_POINTS[entry](Named(), target=target)
    assert msg in str(e.value)


@pytest.mark.parametrize('entry', ENTRY_POINTS)
@pytest.mark.parametrize('model, msg', [(Scores, 'one score per sequence; forward must return one tensor of logits (N, n_outputs): return y[:, None]'),
                                        (Pair, 'the model returned a tuple of 2 items; forward must return one tensor of logits')])
def test_outputs_that_are_not_logits_give_one_message_everywhere(entry, model, msg):
    with pytest.raises(DeepMotifError) as e: ENTRY_POINTS[entry](model())
    assert msg in str(e.value)


@pytest.mark.parametrize('entry', [e for e in ENTRY_POINTS if e != 'predict'] + ['temporal'])
def test_batch_size_is_checked_the_same_way(entry):
    run = ENTRY_POINTS.get(entry) or (lambda m, **kw: temporal_scores(build_model('rnn', hidden=4), X, **kw))
    with pytest.raises(DeepMotifError, match='batch_size = 0; must be an integer >= 1'): run(Named(), batch_size=0)


def test_batched_logits_do_not_depend_on_the_batch_size():
    torch.manual_seed(0)
    m = build_model('cnn-rnn', n_filters=4, hidden=3)
    Y = torch.rand(13, 4, 30).round()
    ref = torch.cat([m.eval()(Y[i:i + 1]).detach() for i in range(13)])
    for b in (1, 4, 13, 100):
        torch.testing.assert_close(batched_logits(m, Y, batch_size=b), ref, atol=1e-6, rtol=0)


@pytest.mark.parametrize('own, asked, expect', [(None, 50, 50), (101, None, 101), (101, 101, 101),
                                                (101, 50, 'trained on 101 bp'), (None, None, 'pass length=')])
def test_model_length_is_one_rule(own, asked, expect):
    m = nn.Identity()
    m.seq_length = own
    if isinstance(expect, int): assert model_length(m, asked) == expect
    else:
        with pytest.raises(DeepMotifError, match=expect): model_length(m, asked)
    from deepmotif.scan import _seq_length
    from deepmotif.variants import _model_length
    for fn in (_seq_length, _model_length):  # scan and variants follow it
        if isinstance(expect, int): assert fn(m, asked) == expect
        else:
            with pytest.raises(DeepMotifError, match=expect): fn(m, asked)


def test_read_text_names_file_and_line(tmp_path):
    p = tmp_path / 'x.txt'
    p.write_bytes(b'one\ntwo\nth\xffree\n')
    with pytest.raises(DeepMotifError, match=r'x\.txt line 3: not UTF-8 text \(byte 0xff\)'): read_text(p)
    p.write_bytes('\ufeffok'.encode())
    assert read_text(p) == 'ok'


@pytest.mark.parametrize('umask', [0o022, 0o077, 0o002])
def test_every_file_of_a_saved_model_follows_the_umask(tmp_path, umask):
    old = os.umask(umask)
    try:
        save_model(build_model('cnn', n_filters=4), tmp_path / 'm', seq_length=20)
    finally: os.umask(old)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / 'm').iterdir()}
    assert modes == {'config.json': 0o666 & ~umask, 'model.safetensors': 0o666 & ~umask}, {k: oct(v) for k, v in modes.items()}
    assert stat.S_IMODE((tmp_path / 'm').stat().st_mode) == 0o777 & ~umask
    assert load_model(tmp_path / 'm').seq_length == 20


def test_train_command_outputs_follow_the_umask(tmp_path):
    from deepmotif.commands import train_command
    from deepmotif.data import synthetic_dataset
    d = synthetic_dataset('single', n=80, length=30, seed=0)
    (tmp_path / 'a.fa').write_text(''.join(f'>{l}\n{s}\n' for s, l in zip(d.seqs, d.labels)))
    old = os.umask(0o022)
    try: train_command(str(tmp_path / 'a.fa'), 'cnn', str(tmp_path / 'm'), epochs=1, verbose=False)
    finally: os.umask(old)
    modes = {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in (tmp_path / 'm').iterdir()}
    assert set(modes.values()) == {'0o644'}, modes
    assert {'config.json', 'model.safetensors', 'metrics.json', 'checkpoint.pt'} <= set(modes)
