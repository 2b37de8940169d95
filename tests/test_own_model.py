"Models written in plain torch, as a researcher brings them: every view explains them, or says in one sentence why not."
import numpy as np
import pytest
import torch
from torch import nn
from deepmotif.core import DeepMotifError
from deepmotif.data import SeqData, synthetic_dataset
from deepmotif.temporal import temporal_scores
from deepmotif.saliency import saliency
from deepmotif.views import ViewSet, panel_pngs
from conftest import DanQ  # a DanQ-like user model, conv + BiGRU


class FlatLSTM(nn.Module):
    "An LSTM whose outputs are flattened into a dense head: it reads only its full length."
    def __init__(self, L):
        super().__init__()
        self.lstm, self.head = nn.LSTM(4, 2, batch_first=True, bidirectional=True), nn.Linear(4 * L, 1)
    def forward(self, x):
        return self.head(self.lstm(x.transpose(1, 2))[0].flatten(1))


@pytest.fixture(scope='module')
def data():
    return synthetic_dataset('single', n=6, length=40, seed=0)


def test_view_of_a_user_gru_equals_the_pure_functions(data):
    torch.manual_seed(0)
    m = DanQ(3).eval()
    vs = ViewSet({'danq': m}, data, opt_steps=0)
    v = vs.view('danq', 2)
    torch.testing.assert_close(v.temporal, temporal_scores(m, data.X[2:3]), equal_nan=True)
    torch.testing.assert_close(v.saliency, saliency(m, data.X[2:3]))
    assert v.temporal_note is None and torch.isfinite(v.temporal[0, 0, -1])
    out = panel_pngs(vs, 2)
    assert out['messages'] == {} and out[('model', 'danq')][:4] == b'\x89PNG'


def test_a_model_that_reads_only_its_length_gets_a_note_and_its_other_panels(data):
    torch.manual_seed(0)
    m = FlatLSTM(data.length).eval()
    vs = ViewSet({'flat': m}, data, opt_steps=0)
    v = vs.view('flat', 0)
    assert v.temporal is None and 'reads only inputs of 40 bp' in v.temporal_note
    torch.testing.assert_close(v.saliency, saliency(m, data.X[:1]))
    out = panel_pngs(vs, 0)
    assert out['messages'] == {} and out[('model', 'flat')][:4] == b'\x89PNG'
    with pytest.raises(DeepMotifError, match='reads only inputs of 40 bp'):
        temporal_scores(m, data.X[:1])


# ---------------------------------------------------------------- your model in the CLI, by class_path (no pickle)
import json, os, subprocess, sys
from deepmotif.models import save_model, load_model
from deepmotif.train import predict, evaluate
from conftest import write_fasta

BASSET = '''
import torch
from torch import nn
class Basset(nn.Module):
    "A Basset-like CNN: conv, BatchNorm, ReLU, max pool, flatten, dense; one output per task."
    def __init__(self, n_tasks=3, length=40, filters=8):
        super().__init__()
        self.body = nn.Sequential(nn.Conv1d(4, filters, 7, padding=3), nn.BatchNorm1d(filters), nn.ReLU(), nn.MaxPool1d(4))
        self.head = nn.Linear(filters * (length // 4), n_tasks)
    def forward(self, x):
        return self.head(self.body(x).flatten(1))
'''
CANARY = '''
import pathlib
def Net(*a, **k):
    pathlib.Path(__file__).with_name('CALLED').write_text('x')
'''


@pytest.fixture(scope='module')
def user_code(tmp_path_factory):
    "A folder with the user's own module, on sys.path here and on PYTHONPATH for the command line."
    d = tmp_path_factory.mktemp('code')
    (d / 'user_basset.py').write_text(BASSET)
    (d / 'user_canary.py').write_text(CANARY)
    sys.path.insert(0, str(d))
    yield d
    sys.path.remove(str(d))


@pytest.fixture(scope='module')
def basset_dir(user_code, tmp_path_factory):
    from user_basset import Basset
    torch.manual_seed(0)
    m = Basset(n_tasks=3, length=40).eval()
    with torch.no_grad(): m.body[1].running_mean.uniform_(-0.1, 0.1)
    out = tmp_path_factory.mktemp('models') / 'basset'
    save_model(m, out, class_path='user_basset.Basset', init_args=dict(n_tasks=3, length=40), tasks=['CTCF', 'REST', 'SP1'], length=40)
    return out


def cli(user_code, *args):
    env = {**os.environ, 'PYTHONPATH': os.pathsep.join([str(user_code), os.environ.get('PYTHONPATH', '')])}
    r = subprocess.run(['deepmotif', *map(str, args)], capture_output=True, text=True, env=env, timeout=600)
    return r.returncode, r.stdout, r.stderr


@pytest.fixture(scope='module')
def fasta(tmp_path_factory):
    d = synthetic_dataset('single', n=30, length=40, seed=3)
    return write_fasta(tmp_path_factory.mktemp('data') / 'seqs.fa', d.seqs, d.labels), d


def test_class_path_round_trip_in_python(basset_dir, fasta):
    _, d = fasta
    m = load_model(basset_dir)
    assert type(m).__name__ == 'Basset' and m.tasks == ['CTCF', 'REST', 'SP1'] and m.seq_length == 40
    from user_basset import Basset
    ref = Basset(n_tasks=3, length=40)
    from safetensors.torch import load_file
    ref.load_state_dict(load_file(str(basset_dir / 'model.safetensors'))); ref.eval()
    with torch.no_grad(): torch.testing.assert_close(m(d.X), ref(d.X))


def test_predict_writes_one_column_per_task_or_the_target(user_code, basset_dir, fasta, tmp_path):
    path, d = fasta
    m = load_model(basset_dir)
    rc, out, err = cli(user_code, 'predict', basset_dir, path, '--out', tmp_path / 'p.tsv', '--quiet')
    assert rc == 0, err
    rows = [l.split('\t') for l in (tmp_path / 'p.tsv').read_text().splitlines()]
    assert rows[0] == ['id', 'probability_CTCF', 'probability_REST', 'probability_SP1']
    np.testing.assert_allclose(np.array([r[1:] for r in rows[1:]], float), predict(m, d, target=None), rtol=1e-5, atol=1e-6)
    for target in ('REST', '1'):
        rc, out, err = cli(user_code, 'predict', basset_dir, path, '--out', tmp_path / 't.tsv', '--target', target, '--quiet')
        assert rc == 0, err
        rows = [l.split('\t') for l in (tmp_path / 't.tsv').read_text().splitlines()]
        assert rows[0] == ['id', 'probability']
        np.testing.assert_allclose(np.array([r[1] for r in rows[1:]], float), predict(m, d, target=1), rtol=1e-5, atol=1e-6)


def test_explain_and_evaluate_take_a_target(user_code, basset_dir, fasta, tmp_path):
    path, d = fasta
    m = load_model(basset_dir)
    rc, out, err = cli(user_code, 'explain', basset_dir, path, '--out', tmp_path / 'e.npz', '--target', 'SP1', '--quiet')
    assert rc == 0, err
    z = np.load(tmp_path / 'e.npz')
    np.testing.assert_allclose(z['scores'], saliency(m, d, target=2).numpy(), rtol=1e-4, atol=1e-6)
    assert str(z['target']) == 'SP1'
    rc, out, err = cli(user_code, 'evaluate', basset_dir, path, '--quiet')
    assert rc == 2 and 'the model has 3 outputs (CTCF, REST, SP1); give --target' in err and 'Traceback' not in err
    rc, out, err = cli(user_code, 'evaluate', basset_dir, path, '--target', 'REST', '--json', '--quiet')
    assert rc == 0, err
    r = json.loads(out)
    assert r['target'] == 'REST' and r['auroc'] == pytest.approx(evaluate(load_model(basset_dir), d, target=1)['auroc'], abs=1e-6)
    rc, out, err = cli(user_code, 'predict', basset_dir, path, '--out', tmp_path / 'x.tsv', '--target', 'GATA1', '--quiet')
    assert rc == 2 and "target = 'GATA1'" in err and not (tmp_path / 'x.tsv').exists()


def test_a_folder_naming_a_function_runs_nothing(user_code, basset_dir, fasta, tmp_path):
    path, _ = fasta
    bad = tmp_path / 'bad'
    import shutil
    shutil.copytree(basset_dir, bad)
    cfg = json.loads((bad / 'config.json').read_text())
    for class_path, msg in [('user_canary.Net', 'names a function, not an nn.Module subclass; refused (nothing was called)'),
                            ('os.system', 'not an nn.Module subclass'), ('nowhere_module.Net', "cannot import 'nowhere_module'")]:
        (bad / 'config.json').write_text(json.dumps({**cfg, 'class_path': class_path}))
        rc, out, err = cli(user_code, 'predict', bad, path, '--out', tmp_path / 'p.tsv', '--quiet')
        assert rc == 2 and msg in err and 'config.json' in err and 'Traceback' not in err, err
        with pytest.raises(DeepMotifError, match='config.json'): load_model(bad)
    assert not (user_code / 'CALLED').exists() and not (tmp_path / 'p.tsv').exists()


def test_evaluate_without_target_on_a_multi_output_model_is_refused_in_python_too(basset_dir, fasta):
    _, d = fasta
    m = load_model(basset_dir)
    with pytest.raises(DeepMotifError, match='target'):
        evaluate(m, d)


# ---------------------------------------------------------------- several outputs in the dashboard and its page
from deepmotif.dashboard import Dashboard
from deepmotif.views import save_html
from deepmotif.models import build_model


@pytest.fixture(scope='module')
def three_task(data):
    torch.manual_seed(1)
    m = DanQ(3).eval()
    m.tasks = ['CTCF', 'REST', 'SP1']
    return m


def test_dashboard_state_equals_the_pure_functions_for_each_target(three_task, data):
    torch.manual_seed(2)
    single = build_model('cnn', n_filters=4).eval()
    d = Dashboard({'danq': three_task, 'cnn': single}, data, target='REST', opt_steps=0)
    assert d.state['target'] == 'REST' and d.target_select.layout.display != 'none'
    assert d.target_select.options == (('CTCF', 0), ('REST', 1), ('SP1', 2))
    for target, t in (('REST', 1), (2, 2), ('CTCF', 0)):
        d.select(3, target=target)
        v, x = d.view('danq'), data.X[3:4]
        torch.testing.assert_close(v.saliency, saliency(three_task, x, target=t))
        torch.testing.assert_close(v.temporal, temporal_scores(three_task, x, target=t), equal_nan=True)
        assert v.prob == pytest.approx(float(predict(three_task, x, target=t)[0]), abs=1e-6)
        assert v.task == ['CTCF', 'REST', 'SP1'][t] and d.target_select.value == t
        np.testing.assert_allclose(d.predictions('danq'), predict(three_task, data, target=t), rtol=1e-6)
        w = d.view('cnn')                                   # a model with one output shows it, whatever the target
        assert w.task == 'positive' and w.prob == pytest.approx(float(predict(single, x)[0]), abs=1e-6)
    d.select(target='GATA1')
    assert "target = 'GATA1'" in d.status.text and d.state['target'] == 'CTCF'   # refused: nothing changed
    d.target_select.value = 2                                 # the menu, as a user picks it
    assert d.state['target'] == 'SP1' and d.view('danq').task == 'SP1'


def test_page_names_the_output_it_shows(three_task, data, tmp_path):
    vs = ViewSet({'danq': three_task}, data, opt_steps=0)
    page = save_html(vs, tmp_path / 'p.html', [0, 1], target='SP1').read_text()
    assert 'output shown: SP1 (of CTCF, REST, SP1)' in page and 'p(SP1):' in page and vs.target == 0
    with pytest.raises(DeepMotifError, match="target = 'GATA1'"):
        Dashboard({'danq': three_task}, data, target='GATA1', opt_steps=0)
    single = Dashboard({'cnn': build_model('cnn', n_filters=4)}, data, opt_steps=0)
    assert single.target_select.layout.display == 'none' and 'p(positive)' in save_html(single.viewset, tmp_path / 'q.html').read_text()


# ---------------------------------------------------------------- one door: every entry point x every bad output
from deepmotif.attribution import ism, integrated_gradients
from deepmotif.optimize import optimize_input
from deepmotif.train import fit
from deepmotif.scan import scan

BAD_OUTPUTS = {  # what forward returns -> the words of the one message
    'shape (N,)': (lambda y: y[:, 0], 'one score per sequence; forward must return one tensor of logits (N, n_outputs): return y[:, None]'),
    'tuple': (lambda y: (y, y), 'returned a tuple of 2 items; forward must return one tensor of logits'),
    'dict': (lambda y: {'a': y}, 'returned a dict of 1 items; forward must return one tensor of logits'),
    'wrong length': (lambda y: torch.cat([y, y]), 'forward must return one tensor of logits (N, n_outputs)'),
    'profile (N, T, L)': (lambda y: y[:, :, None].expand(-1, -1, 5), 'forward must return one tensor of logits (N, n_outputs)'),
}


class Bad(nn.Module):
    "A small CNN whose forward returns `how(logits)`; a GRU makes it recurrent, for temporal scores."
    def __init__(self, how):
        super().__init__()
        self.conv, self.rnn, self.how = nn.Conv1d(4, 2, 3, padding=1), nn.GRU(2, 2, batch_first=True), how
    def forward(self, x):
        return self.how(self.rnn(self.conv(x).transpose(1, 2))[0].amax(1))


@pytest.fixture(scope='module')
def genome_fa(tmp_path_factory):
    p = tmp_path_factory.mktemp('genome') / 'g.fa'
    rng = np.random.default_rng(0)
    p.write_text('>chr1\n' + ''.join(rng.choice(list('ACGT'), 300)) + '\n')
    return p


def entry_points(data, genome_fa):
    pos, neg = np.flatnonzero(data.labels == 1), np.flatnonzero(data.labels == 0)
    tr, va = data.subset([*pos[:2], *neg[:2]]), data.subset([pos[2], neg[2]])
    vs = lambda m: panel_pngs(ViewSet({'bad': m}, data, opt_steps=0), 0)
    def dashboard(m):  # the panel shows the message instead of raising
        msg = vs(m)['messages'].get('bad', '')
        raise DeepMotifError(msg)
    return {'predict': lambda m: predict(m, data), 'evaluate': lambda m: evaluate(m, data), 'saliency': lambda m: saliency(m, data),
            'ism': lambda m: ism(m, data.X[:2]), 'integrated_gradients': lambda m: integrated_gradients(m, data.X[:2], steps=4),
            'temporal_scores': lambda m: temporal_scores(m, data.X[:2]), 'optimize_input': lambda m: optimize_input(m, length=40, steps=2),
            'fit': lambda m: fit(m, tr, va, epochs=1, verbose=False), 'scan': lambda m: list(scan(m, genome_fa, length=40, stride=20)),
            'dashboard': dashboard}


@pytest.mark.parametrize('bad', list(BAD_OUTPUTS))
def test_every_entry_point_gives_the_one_message(bad, data, genome_fa):
    how, words = BAD_OUTPUTS[bad]
    failures = {}
    for name, run in entry_points(data, genome_fa).items():
        torch.manual_seed(0)
        try: run(Bad(how)); failures[name] = 'no error'
        except DeepMotifError as e:
            if words not in str(e): failures[name] = str(e)
        except Exception as e: failures[name] = f'{type(e).__name__}: {e}'
    assert not failures, failures


# ---------------------------------------------------------------- long inputs: a window, an overview, a zoom
from deepmotif.views import region_of, ZOOM_WIDTH, ZOOM_FROM
from deepmotif.saliency import position_importance


@pytest.fixture(scope='module')
def long_data():
    return synthetic_dataset('single', n=3, length=1000, seed=0)


def test_a_long_input_opens_on_its_strongest_window(long_data):
    torch.manual_seed(0)
    m = build_model('cnn', n_filters=4).eval()
    d = Dashboard({'cnn': m}, long_data, opt_steps=0)
    for i in range(len(long_data)):
        d.select(i)
        a, b = d.state['region']
        imp = position_importance(saliency(m, long_data.X[i:i + 1])[0]).numpy()
        assert b - a == ZOOM_WIDTH and a <= imp.argmax() < b and d.overview_image.layout.display != 'none'
        torch.testing.assert_close(torch.as_tensor(d.viewset.figures[('cnn', ZOOM_WIDTH)].heat.get_array()),
                                   saliency(m, long_data.X[i:i + 1])[0, :, a:b].double())
    ax = d.viewset.figures[('cnn', ZOOM_WIDTH)].fig.axes[0]
    assert ax.get_window_extent().width / ZOOM_WIDTH >= 4          # pixels per base at the default width
    d.select(region=(100, 400))
    assert d.state['region'] == (100, 400) and tuple(d.region_slider.value) == (100, 400)
    d.next(); assert d.state['region'] == (100, 400)                # a region chosen stays for every sequence
    d.region_slider.value = (0, 1000)                               # the zoom control, as a user drags it
    assert d.state['region'] == (0, 1000) and d.overview_image.layout.display == 'none'
    d.select(region=(900, 1200))
    assert 'region = (900, 1200)' in d.status.text and d.state['region'] == (0, 1000)
    d.select(region='auto'); assert d.state['region'][1] - d.state['region'][0] == ZOOM_WIDTH


def test_short_inputs_are_shown_whole_without_a_zoom_control(data):
    d = Dashboard({'cnn': build_model('cnn', n_filters=4)}, data, opt_steps=0)
    assert d.state['region'] == (0, data.length) and d.region_slider.layout.display == 'none'
    assert d.overview_image.layout.display == 'none'


def test_dashboard_command_region(user_code, tmp_path, long_data):
    torch.manual_seed(0)
    m = build_model('cnn', n_filters=4)
    save_model(m, tmp_path / 'm', seq_length=1000)
    fa = write_fasta(tmp_path / 'long.fa', long_data.seqs, long_data.labels)
    rc, out, err = cli(user_code, 'dashboard', tmp_path / 'm', fa, '--out', tmp_path / 'p.html', '--no-motifs', '--opt-steps', 1,
                       '--n-shown', 1, '--quiet')
    assert rc == 0, err
    assert 'alt="whole input: every model' in (tmp_path / 'p.html').read_text()      # the overview of a 1,000-bp input
    rc, out, err = cli(user_code, 'dashboard', tmp_path / 'm', fa, '--out', tmp_path / 'q.html', '--no-motifs', '--opt-steps', 1,
                       '--n-shown', 1, '--region', 0, 1000, '--quiet')
    assert rc == 0, err
    assert 'alt="whole input' not in (tmp_path / 'q.html').read_text()
    rc, out, err = cli(user_code, 'dashboard', tmp_path / 'm', fa, '--out', tmp_path / 'r.html', '--no-motifs', '--region', 10, 5, '--quiet')
    assert rc == 2 and 'region = (10, 5)' in err and not (tmp_path / 'r.html').exists()


def test_motifs_and_grammar_take_a_target(user_code, basset_dir, fasta, tmp_path):
    path, _ = fasta
    rc, out, err = cli(user_code, 'grammar', basset_dir, '--motifs', 'CCACTAGGGGGC', 'AGATAA', '--spacings', '0,4',
                       '--n-background', 4, '--out', tmp_path / 'g', '--quiet')
    assert rc == 2 and 'the model has 3 outputs (CTCF, REST, SP1); give --target' in err, err
    rc, out, err = cli(user_code, 'grammar', basset_dir, '--motifs', 'CCACTAGGGGGC', 'AGATAA', '--spacings', '0,4',
                       '--n-background', 4, '--out', tmp_path / 'g', '--target', 'SP1', '--quiet')
    assert rc == 0, err
    rc, out, err = cli(user_code, 'motifs', basset_dir, path, '--out', tmp_path / 'm', '--sources', 'grad_x_input', '--quiet')
    assert rc == 2 and 'give --target' in err, err


def test_tasks_compared_strip_is_every_output_importance(three_task, data, tmp_path):
    vs = ViewSet({'danq': three_task}, data, opt_steps=0)
    out = panel_pngs(vs, 4)
    assert out[('tasks', 'danq')][:4] == b'\x89PNG'
    fig = vs.figures[('<tasks>', 'danq', data.length)]
    for k, task in enumerate(['CTCF', 'REST', 'SP1']):
        imp = position_importance(saliency(three_task, data.X[4:5], target=k)[0]).numpy()
        np.testing.assert_allclose(fig.lines[task].get_ydata(), imp / imp.max(), rtol=1e-5)
        assert f'p({task}) = {float(predict(three_task, data.X[4:5], target=k)[0]):.3f}' in fig.title.get_text()
    page = save_html(vs, tmp_path / 'p.html', [4]).read_text()
    assert 'alt="danq: tasks compared' in page
    single = ViewSet({'cnn': build_model('cnn', n_filters=4)}, data, opt_steps=0)
    assert not any(k[0] == 'tasks' for k in panel_pngs(single, 0) if isinstance(k, tuple))
    d = Dashboard({'danq': three_task}, data, opt_steps=0).select(4)
    assert d.tasks_images['danq'].layout.display != 'none' and bytes(d.tasks_images['danq'].value) == out[('tasks', 'danq')]


def test_page_motifs_explain_the_output_shown(three_task, data, monkeypatch):
    import deepmotif.motifs
    from deepmotif.commands import motifs_html
    seen = []
    monkeypatch.setattr(deepmotif.motifs, 'find_motifs', lambda *a, **k: seen.append((k['source'], k['target'])) or [])
    page = motifs_html({'danq': three_task}, data, targets={'danq': (2, 'SP1')})
    assert '(output SP1)' in page and seen == [('grad_x_input', 2), ('filters', 2)], (seen, page[:300])
    seen.clear()
    motifs_html({'danq': three_task}, data)
    assert seen == [('grad_x_input', 0), ('filters', 0)]
