"Training that is killed, diverges, or meets an untrusted checkpoint, and saving that is interrupted."
import contextlib, gzip, io, json, os, pickle, re, signal, subprocess, sys, time, tracemalloc
from pathlib import Path
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings, strategies as st
import deepmotif.data as data_mod
from deepmotif.data import DeepMotifError, DeepMotifWarning, read_sequences, iter_sequences, fit_length, one_hot, synthetic_dataset
from deepmotif.models import CNN, build_model, save_model, load_model
from deepmotif.train import fit, predict, evaluate, _load_checkpoint
from deepmotif.saliency import saliency
from deepmotif.cli import main, open_scores, evaluate_command, predict_command, explain_command
from conftest import write_fasta, write_deepbind
from test_reliability_cli import cli, _assert_one_line_error

# ---------------------------------------------------------------- training killed with SIGKILL, then resumed

@pytest.mark.slow
def test_killed_training_resumes_to_the_same_result(tmp_path):
    d = synthetic_dataset('single', n=1200, seed=0)
    data = write_fasta(tmp_path / 'train.fa', d.seqs, d.labels)
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    cmd = lambda out, *extra: ['deepmotif', 'train', str(data), '--arch', 'cnn', '--out', str(tmp_path / out), '--epochs', '4',
                               '--seed', '0', '--quiet', *extra]
    whole = subprocess.Popen(cmd('whole'), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    victim = subprocess.Popen(cmd('killed'), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    ck = tmp_path / 'killed' / 'checkpoint.pt'
    deadline = time.time() + 240
    while not ck.exists():
        assert victim.poll() is None, victim.communicate()
        assert time.time() < deadline, 'no checkpoint after 240 s'
        time.sleep(0.02)
    first = _load_checkpoint(ck)  # the file is replaced atomically, so a read never sees half of it
    time.sleep(first['history'][-1]['seconds'] / 2)  # about half-way through epoch 2
    assert victim.poll() is None, 'the run ended before it could be killed'
    victim.send_signal(signal.SIGKILL)
    victim.communicate()
    assert victim.returncode == -signal.SIGKILL
    done = _load_checkpoint(ck)['epoch']
    assert 1 <= done < 4 and not (tmp_path / 'killed' / 'metrics.json').exists()
    r = subprocess.run(cmd('killed', '--resume'), env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert whole.wait(timeout=600) == 0, whole.communicate()
    a = json.loads((tmp_path / 'whole' / 'metrics.json').read_text())
    b = json.loads((tmp_path / 'killed' / 'metrics.json').read_text())
    assert len(a['history']) == len(b['history']) == 4 and a['best_epoch'] == b['best_epoch']
    assert [h['valid_auroc'] for h in b['history']] == pytest.approx([h['valid_auroc'] for h in a['history']], abs=1e-6)
    ma, mb = load_model(tmp_path / 'whole'), load_model(tmp_path / 'killed')
    assert all(torch.allclose(v, mb.state_dict()[k], atol=1e-6) for k, v in ma.state_dict().items())


DIE_WHILE_SAVING = r'''
import io, os, sys, torch
from pathlib import Path
import safetensors.torch, deepmotif.models as M
from deepmotif.train import _save_checkpoint
target, what = Path(sys.argv[1]), sys.argv[2]
def half_then_die(data, dest):
    with open(dest, 'wb') as f: f.write(data[:len(data) // 2])
    os._exit(17)
if what == 'checkpoint':
    real = torch.save
    def save(obj, dest, *a, **k):
        buf = io.BytesIO(); real(obj, buf); half_then_die(buf.getvalue(), dest)
    torch.save = save
    _save_checkpoint(target, {'epoch': 99, 'model': {'w': torch.ones(1000)}})
else:
    M.save_file = lambda state, dest, *a, **k: half_then_die(safetensors.torch.save(state), dest)
    torch.manual_seed(1)
    M.save_model(M.build_model('cnn', n_filters=4), target, seq_length=101)
'''


@pytest.mark.slow
def test_a_process_killed_while_saving_leaves_the_previous_files(tmp_path):
    d = synthetic_dataset('single', n=120, seed=0)
    tr, va = d.subset(range(80)), d.subset(range(80, 120))
    ck = tmp_path / 'run' / 'checkpoint.pt'
    torch.manual_seed(0); m = build_model('cnn', n_filters=4)
    fit(m, tr, va, epochs=1, checkpoint=ck, verbose=False)
    before = ck.read_bytes()
    r = subprocess.run([sys.executable, '-c', DIE_WHILE_SAVING, str(ck), 'checkpoint'], capture_output=True, text=True, timeout=300)
    assert r.returncode == 17, r.stderr
    assert ck.read_bytes() == before and _load_checkpoint(ck)['epoch'] == 1
    assert list(ck.parent.glob('.checkpoint.pt.*.tmp'))  # the half-written file is a temporary, never the checkpoint
    h = fit(build_model('cnn', n_filters=4), tr, va, epochs=2, checkpoint=ck, resume=True, verbose=False)
    assert len(h.records) == 2
    save_model(m, tmp_path / 'model', seq_length=101)
    r = subprocess.run([sys.executable, '-c', DIE_WHILE_SAVING, str(tmp_path / 'model'), 'model'], capture_output=True, text=True, timeout=300)
    assert r.returncode == 17, r.stderr
    m2 = load_model(tmp_path / 'model')
    assert all(torch.equal(v, m2.state_dict()[k]) for k, v in m.state_dict().items())


# ---------------------------------------------------------------- a loss that stops being finite

class NaNAfter(CNN):
    "A CNN whose outputs in training mode become NaN after `after` batches."
    def __init__(self, after, **kw):
        super().__init__(**kw)
        self.after, self.calls = after, 0

    def forward(self, X):
        out = super().forward(X)
        if self.training:
            self.calls += 1
            if self.calls > self.after: out = out * float('nan')
        return out


def test_non_finite_loss_keeps_the_best_epoch_and_the_checkpoint(tmp_path):
    d = synthetic_dataset('single', n=300, seed=0)
    tr, va = d.subset(range(256)), d.subset(range(256, 300))  # 4 batches of 64 an epoch
    torch.manual_seed(0); m = NaNAfter(10, n_filters=8)
    with pytest.warns(DeepMotifWarning, match='epoch 3: the training loss is not finite; stopped and kept epoch [12]'):
        h = fit(m, tr, va, epochs=6, lr=1e-2, checkpoint=tmp_path / 'ck.pt', verbose=False)
    assert h.stopped == 'non-finite loss' and len(h.records) == 2 and h.best_epoch in (1, 2)
    ck = _load_checkpoint(tmp_path / 'ck.pt')
    assert ck['epoch'] == 2 and all(torch.isfinite(v).all() for v in m.state_dict().values())
    assert all(torch.equal(v, ck['best_model'][k]) for k, v in m.state_dict().items())
    assert evaluate(m, va)['auroc'] == pytest.approx(h.best_auroc, abs=1e-9)


def test_non_finite_loss_through_the_command_line(tmp_path, monkeypatch):
    import deepmotif.commands
    d = synthetic_dataset('single', n=300, seed=0)
    data = write_fasta(tmp_path / 't.fa', d.seqs, d.labels)  # 270 to train: 5 batches of 64 an epoch
    monkeypatch.setattr(deepmotif.commands, 'build_model', lambda arch: NaNAfter(12, n_filters=8))
    rc, out, err = cli('train', data, '--arch', 'cnn', '--out', tmp_path / 'm', '--epochs', 5, '--quiet')
    assert rc == 0, err
    assert 'cnn: training stopped in epoch 3: the loss is not finite (training diverged); kept epoch' in out
    assert [l for l in err.splitlines() if l.startswith('deepmotif: warning: epoch 3: the training loss is not finite')], err
    m = json.loads((tmp_path / 'm' / 'metrics.json').read_text())
    assert m['stopped'] == 'non-finite loss' and m['epochs_run'] == 2
    assert _load_checkpoint(tmp_path / 'm' / 'checkpoint.pt')['epoch'] == 2
    monkeypatch.setattr(deepmotif.commands, 'build_model', lambda arch: NaNAfter(0, n_filters=8))
    _assert_one_line_error(*cli('train', data, '--arch', 'cnn', '--out', tmp_path / 'm0', '--quiet'), 'training diverged in epoch 1')


# ---------------------------------------------------------------- untrusted checkpoints

class Payload:
    def __reduce__(self):
        return (os.system, (f'touch {os.environ["DM_PAYLOAD"]}',))


@pytest.mark.filterwarnings('ignore:Detected pickle protocol')
@pytest.mark.parametrize('how', ['pickle', 'torch.save'])
def test_pickle_payload_checkpoint_is_refused_without_running(tmp_path, monkeypatch, how):
    target = tmp_path / 'pwned'
    monkeypatch.setenv('DM_PAYLOAD', str(target))
    d = synthetic_dataset('single', n=60, seed=0)
    data = write_fasta(tmp_path / 't.fa', d.seqs, d.labels)
    (tmp_path / 'm').mkdir()
    ck = tmp_path / 'm' / 'checkpoint.pt'
    state = {'epoch': 1, 'model': Payload(), 'optimizer': {}, 'scheduler': {}, 'best_model': {}, 'history': []}
    if how == 'pickle': ck.write_bytes(pickle.dumps(state))
    else: torch.save(state, ck)
    _assert_one_line_error(*cli('train', data, '--arch', 'cnn', '--out', tmp_path / 'm', '--resume', '--quiet'), 'not a usable checkpoint')
    with pytest.raises(DeepMotifError, match='not a usable checkpoint'):
        fit(build_model('cnn', n_filters=4), d, d, checkpoint=ck, resume=True, verbose=False)
    assert not target.exists()


def test_foreign_checkpoints_are_refused(tmp_path):
    d = synthetic_dataset('single', n=60, seed=0)
    ck = tmp_path / 'checkpoint.pt'
    for content, fragment in [({'weights': torch.zeros(2)}, 'not a deepmotif checkpoint'), (torch.zeros(3), 'not a deepmotif checkpoint'),
                              ({'epoch': 1, 'model': {}, 'optimizer': {}, 'scheduler': {}, 'best_model': {}, 'history': []}, 'does not fit')]:
        torch.save(content, ck)
        with pytest.raises(DeepMotifError, match=fragment):
            fit(build_model('cnn', n_filters=4), d, d, checkpoint=ck, resume=True, verbose=False)
    ck.write_bytes(b'PK\x03\x04 half a zip')
    with pytest.raises(DeepMotifError, match='not a usable checkpoint'):
        fit(build_model('cnn', n_filters=4), d, d, checkpoint=ck, resume=True, verbose=False)




# ---------------------------------------------------------------- writers killed mid-write; malformed model folders

def test_a_writer_killed_mid_write_leaves_no_temporary_behind(tmp_path):
    "SIGKILL while atomic_write is writing: the target keeps its old content and the next write removes the leftover."
    from deepmotif.core import atomic_write
    target = tmp_path / 'out.tsv'
    atomic_write(target, lambda t: Path(t).write_text('old\n'))
    code = ("import time, pathlib; from deepmotif.core import atomic_write\n"
            "def w(t):\n    pathlib.Path(t).write_text('half'); print('writing', flush=True); time.sleep(60)\n"
            f"atomic_write(pathlib.Path({str(target)!r}), w)")
    p = subprocess.Popen([sys.executable, '-c', code], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == 'writing'
    p.send_signal(signal.SIGKILL); p.wait()
    left = list(tmp_path.glob('.out.tsv.*.tmp'))
    assert len(left) == 1 and target.read_text() == 'old\n'          # the kill left its temporary, not a half file
    atomic_write(target, lambda t: Path(t).write_text('new\n'))
    assert sorted(x.name for x in tmp_path.iterdir()) == ['out.tsv'] and target.read_text() == 'new\n'


_JSON = st.recursive(st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.floats(allow_nan=True) | st.text(max_size=8),
                     lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=12)
_KEYS = ['n_filters', 'kernel_sizes', 'kernel_size', 'pool', 'dropout', 'n_outputs', 'hidden', 'forget_bias', 'pooling', 'other']


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(arch=st.sampled_from(['cnn', 'rnn', 'cnn-rnn', 'mlp', 3]), hparams=st.dictionaries(st.sampled_from(_KEYS), _JSON, max_size=4) | _JSON,
       seq_length=_JSON, extra=st.dictionaries(st.sampled_from(['metrics', 'format_version', 'alphabet']), _JSON, max_size=2))
def test_load_model_fuzzed_configs_load_or_are_refused(tmp_path_factory, arch, hparams, seq_length, extra):
    "Any JSON in config.json either loads a model or raises one DeepMotifError: never another exception, never a hang."
    d = tmp_path_factory.mktemp('fz')
    save_model(build_model('cnn', n_filters=4), d, seq_length=20)
    cfg = json.loads((d / 'config.json').read_text())
    cfg.update(arch=arch, hparams=hparams, seq_length=seq_length, **extra)
    (d / 'config.json').write_text(json.dumps(cfg))
    try: m = load_model(d)
    except DeepMotifError as e: assert str(d) in str(e) and '\n' not in str(e)
    else: assert isinstance(m, torch.nn.Module) and (m.seq_length is None or m.seq_length >= 1)
