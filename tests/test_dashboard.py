"The dashboard without a browser: controls set from code, state equal to the pure functions, messages instead of exceptions."
import base64, re
import numpy as np
import pytest
import torch
from PIL import Image
import io
from deepmotif.data import DeepMotifError, synthetic_dataset
from deepmotif.models import build_model
from deepmotif.train import predict, fit, History
from deepmotif.saliency import KINDS, saliency
from deepmotif.attribution import ATTRIBUTION_METHODS
from deepmotif.views import MENU
from deepmotif.temporal import temporal_scores
from deepmotif.optimize import optimize_input
import deepmotif.views as views
from deepmotif.dashboard import Dashboard, SaliencyViewer, TemporalViewer, OptimizedInputViewer, LivePlot


pytestmark = pytest.mark.usefixtures('one_thread')  # tiny models on a shared CPU: one torch thread is fastest


@pytest.fixture(scope='module')
def data():
    return synthetic_dataset('single', n=40, length=60, seed=3)


@pytest.fixture(scope='module')
def models():
    out = {}
    for arch, hp in (('cnn', dict(n_filters=8)), ('rnn', dict(hidden=4)), ('cnn-rnn', dict(n_filters=8, hidden=4))):
        torch.manual_seed(1)
        out[arch] = build_model(arch, **hp).eval()
    return out


@pytest.fixture
def d(models, data):
    return Dashboard(models, data, opt_steps=2, opt_starts=2, width=6, dpi=40)


def is_png(b): return bytes(b[:4]) == b'\x89PNG'


def same(a, b):
    "Equal up to float rounding (the dashboard computes on one thread, the references on torch's default)."
    return a.shape == b.shape and torch.allclose(a, b, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize('kind', MENU)
def test_state_equals_the_pure_functions(d, models, data, kind):
    for name, m in models.items():
        d.select(7, model=name, kind=kind)
        assert d.message == '' and d.state['seq'] == 7 and d.state['model'] == name and d.state['kind'] == kind
        v = d.current
        assert v.model == name and v.index == 7 and v.id == data.ids[7] and v.label == int(data.labels[7])
        assert same(v.saliency, ATTRIBUTION_METHODS[kind].fn(m, data.X[7:8]))
        assert v.prob == pytest.approx(float(predict(m, data.X[7:8])[0]), abs=1e-6)
        if name == 'cnn': assert v.temporal is None
        else: assert same(v.temporal, temporal_scores(m, data.X[7:8]))
        np.testing.assert_allclose(d.viewset.figures[(name, data.length)].heat.get_array(), v.saliency[0].numpy())
    assert set(d.views) == set(models)


def test_caller_objects_left_as_they_were(models, data):
    m = models['rnn']
    m.train()
    X = data.X.clone()
    torch.set_num_threads(2)
    Dashboard({'rnn': m}, data, opt_steps=2, width=6, dpi=40).select(3)
    assert m.training and torch.equal(data.X, X) and torch.get_num_threads() == 2
    torch.set_num_threads(1)
    m.eval()


def test_results_are_memoised(d, monkeypatch):
    calls = []
    import deepmotif.attribution as attribution  # the registry's 'saliency' calls attribution.saliency
    real = attribution.saliency
    monkeypatch.setattr(attribution, 'saliency', lambda *a, **k: calls.append(1) or real(*a, **k))
    d.select(11)
    assert len(calls) == 3
    d.select(12); d.select(11)
    assert len(calls) == 6


def test_next_previous_wrap_and_follow_the_filters(d, data):
    d.select(0)
    d.next()
    assert d.index == 1
    d.previous(); d.previous()
    assert d.index == len(data) - 1  # wrapped around
    d.select(label='positive')
    pos = np.flatnonzero(data.labels == 1)
    assert d.index in pos
    seen = {d.index}
    for _ in range(len(pos)):
        d.next(); seen.add(d.index)
    assert seen == set(pos.tolist())
    d.select(label='negative', prediction='correct', model='cnn')
    ok = (d.predictions('cnn') >= 0.5) == data.labels.astype(bool)
    assert list(d.passing()) == np.flatnonzero((data.labels == 0) & ok).tolist()
    if len(d.passing()): assert d.index in d.passing()


def test_explicit_selection_outside_the_filters_is_shown_with_a_note(d, data):
    neg = int(np.flatnonzero(data.labels == 0)[0])
    d.select(label='positive')
    d.select(neg)
    assert d.index == neg and 'does not pass the filters' in d.message


def test_no_sequence_left_after_a_filter(models, data):
    always = build_model('cnn', n_filters=4)
    with torch.no_grad():
        always.head.weight.zero_(); always.head.bias.fill_(10.0)  # predicts positive for everything
    d = Dashboard({'always': always}, data, opt_steps=0, width=6, dpi=40)
    d.select(3)
    d.select(label='positive', prediction='incorrect')
    assert 'no sequence passes the filters' in d.message and d.index == 3
    d.next()
    assert 'no sequence passes the filters' in d.message and d.index == 3
    d.select(label='all', prediction='all')
    assert d.message == ''


@pytest.mark.parametrize('kwargs, fragment', [
    (dict(seq=40), 'seq = 40; must be between 0 and 39'),
    (dict(seq=-1), 'must be between 0 and 39'),
    (dict(seq='single999'), "id 'single999' is not among the 40 sequences"),
    (dict(seq=2.5), 'expected a sequence index or id'),
    (dict(seq=True), 'expected a sequence index or id'),
    (dict(model='transformer'), "model = 'transformer'; must be one of cnn, rnn, cnn-rnn"),
    (dict(kind='deeplift'), "kind = 'deeplift'; must be one of"),
    (dict(show=['cnn', 'gru']), "'gru' is not a model"),
    (dict(label='maybe'), "label = 'maybe'; must be one of all, positive, negative"),
    (dict(prediction='right'), "prediction = 'right'; must be one of all, correct, incorrect"),
])
def test_bad_selections_give_a_message_and_change_nothing(d, kwargs, fragment):
    d.select(5, model='rnn')
    state = d.state
    d.select(**kwargs)  # must not raise
    assert fragment in d.message, d.message
    assert d.state == state
    d.select(6)
    assert d.message == ''


def test_unlabelled_data(models, data):
    unl = type(data)(data.ids, data.seqs, None, 'mem', data.length)
    d = Dashboard({'cnn': models['cnn']}, unl, opt_steps=0, width=6, dpi=40)
    assert d.current.label is None and d.label_filter.disabled
    d.select(label='positive')
    assert 'no labels' in d.message


def test_model_of_another_length_is_left_out_with_a_message(models, data):
    other = build_model('cnn', n_filters=4)
    other.seq_length = 101
    d = Dashboard({'cnn': models['cnn'], 'long': other}, data, opt_steps=0, width=6, dpi=40)
    assert 'length 101' in d.message and 'long' not in d.shown
    assert 'length 101' in d.headers['long'].value
    d.select(model='long')
    assert 'length 101' in d.message and d.state['model'] == 'cnn'


def test_a_failing_model_gives_a_message_not_an_exception(models, data):
    class Broken(torch.nn.Module):
        def __init__(self):
            super().__init__(); self.w = torch.nn.Parameter(torch.zeros(1))
        def forward(self, X): raise RuntimeError('boom')
    d = Dashboard({'cnn': models['cnn'], 'broken': Broken()}, data, opt_steps=0, width=6, dpi=40)
    assert 'boom' in d.message and 'boom' in d.headers['broken'].value
    d.next()
    assert d.index == 1 and 'boom' in d.message
    assert is_png(d.model_images['cnn'].value)


def test_constructor_checks_its_arguments(models, data):
    for args, fragment in [((models['cnn'], data), 'expected a non-empty dict'), (({}, data), 'non-empty dict'),
                           (({'x': 3}, data), "models['x'] is a int"), ((models, data.seqs), 'expected a non-empty SeqData')]:
        with pytest.raises(DeepMotifError, match=re.escape(fragment)): Dashboard(*args)
    with pytest.raises(DeepMotifError, match='kind'): Dashboard(models, data, kind='x')
    with pytest.raises(DeepMotifError, match='panels'): Dashboard(models, data, panels=('input', 'movie'))


def test_widget_callbacks_drive_the_same_state(d, data):
    before = d.compare_image.value
    d.index_slider.value = 9
    assert d.index == 9 and d.current.index == 9 and d.compare_image.value != before
    d.id_box.value = data.ids[4]
    assert d.index == 4
    d.id_box.value = 'nonsense'
    assert 'is not among' in d.message and d.index == 4
    img = d.input_image.value
    d.next_button.click()
    assert d.index == 5 and d.input_image.value != img
    d.prev_button.click()
    assert d.index == 4
    d.kind_select.value = 'gradient'
    assert d.current.kind == 'gradient'
    d.show['rnn'].value = False
    assert d.boxes['rnn'].layout.display == 'none' and 'rnn' not in d.views
    d.label_filter.value = 'positive'
    assert data.labels[d.index] == 1


def test_every_panel_is_an_image(d, models):
    assert is_png(d.input_image.value) and is_png(d.compare_image.value)
    for n in models:
        assert is_png(d.model_images[n].value) and is_png(d.optimized_images[n].value)
    widths = {Image.open(io.BytesIO(w.value)).size[0] for w in [d.input_image, d.compare_image, *d.model_images.values()]}
    assert widths == {6 * 40}  # one width: the panels share one position axis
    opt = d.optimized('rnn')
    ref = optimize_input(models['rnn'], length=60, steps=2, n_starts=2)
    assert same(opt.pwm, ref.pwm)


def test_save_html_is_self_contained(d, data, tmp_path):
    path = d.save_html(tmp_path / 'page.html', seqs=[0, data.ids[3], 5])
    text = path.read_text()
    assert text.startswith('<!DOCTYPE html>') and text.count('<section>') == 3
    srcs = re.findall(r'<img[^>]*src="([^"]+)"', text)
    assert len(srcs) == 3 * (2 + 2 * 3)  # input, compare, and per model saliency and optimized input
    assert all(s.startswith('data:image/png;base64,') for s in srcs)
    assert all(base64.b64decode(s.split(',', 1)[1])[:4] == b'\x89PNG' for s in srcs)
    assert 'http' not in re.sub(r'<!DOCTYPE[^>]*>', '', text).replace('http-equiv', '')
    assert data.ids[3] in text
    with pytest.raises(DeepMotifError, match='is not among'): d.save_html(tmp_path / 'x.html', seqs=['nope'])


def test_save_png_stacks_the_panels(d, data, tmp_path):
    paths = d.save_png(tmp_path / 'png', seqs=[1, 2])
    assert [p.name for p in paths] == [f'00001_{data.ids[1]}.png', f'00002_{data.ids[2]}.png']
    im = Image.open(paths[0])
    assert im.size[0] == 6 * 40 and im.size[1] > 6 * 40


def test_smaller_viewers(models, data):
    sv = SaliencyViewer(models['cnn'], data, width=6, dpi=40)
    sv.select(4, kind='grad_x_input')
    assert same(sv.current.saliency, saliency(models['cnn'], data.X[4:5], kind='grad_x_input'))
    assert sv.names == ['cnn'] and sv.optimized_images['cnn'].layout.display == 'none'
    tv = TemporalViewer(models['cnn-rnn'], data, width=6, dpi=40)
    tv.select(4)
    assert same(tv.current.temporal, temporal_scores(models['cnn-rnn'], data.X[4:5]))
    with pytest.raises(DeepMotifError, match='without a recurrent layer'): TemporalViewer(models['cnn'], data)
    ov = OptimizedInputViewer(models['cnn'], length=60, steps=4, n_starts=3, width=6, dpi=40)
    ref = optimize_input(models['cnn'], length=60, steps=4, n_starts=3)
    assert same(ov.current.pwm, ref.pwm)
    ov.select(method='softmax', start=1)
    ref = optimize_input(models['cnn'], length=60, steps=4, n_starts=3, method='softmax')
    assert ov.current.start == 1 and same(ov.current.pwm, ref.pwms[1]) and is_png(ov.logo_image.value)
    ov.select(start=7)
    assert 'start = 7' in ov.message and ov.current.start == 1


def test_liveplot_is_a_fit_callback(models, data):
    from deepmotif.data import train_valid_split
    tr, va = train_valid_split(data, 0.25, seed=0)
    lp = LivePlot(show=False)
    torch.manual_seed(0)
    h = fit(build_model('cnn', n_filters=4), tr, va, epochs=3, verbose=False, callback=lp)
    assert [r['epoch'] for r in lp.records] == [1, 2, 3]
    assert list(lp.valid_line.get_ydata()) == h['valid_loss']
    assert list(lp.best_marker.get_xdata()) == [h.best_epoch]
    assert is_png(lp.image.value) and 'epoch 3' in lp.label.value
    lp(None)  # not a History: a message, no exception
    assert 'LivePlot' in lp.status.value
    lp(History([]))  # an empty history draws empty curves
    assert lp.status.value == ''


def test_predictions_run_under_the_thread_limit(models, data, monkeypatch):
    seen, real = [], views.predict
    monkeypatch.setattr(views, 'predict', lambda *a, **k: seen.append(torch.get_num_threads()) or real(*a, **k))
    torch.set_num_threads(2)
    try:
        d = Dashboard({'cnn': models['cnn']}, data, opt_steps=0, width=6, dpi=40, threads=1)
        d.select(label='positive', prediction='correct')
        assert d.predictions('cnn') is d.predictions('cnn')  # memoised
        assert seen and set(seen) == {1} and torch.get_num_threads() == 2
    finally: torch.set_num_threads(1)


def test_optimized_logo_is_drawn_once(models, monkeypatch):
    import deepmotif.dashboard as dash
    calls, real = [], dash.optimized_logo_png
    monkeypatch.setattr(dash, 'optimized_logo_png', lambda *a, **k: calls.append(1) or real(*a, **k))
    ov = OptimizedInputViewer(models['cnn'], length=60, steps=2, n_starts=2, width=6, dpi=40)
    ov.select(scale='probability'); ov.select(scale='information'); ov.select(scale='probability')
    assert len(calls) == 2 and ov.message == ''


@pytest.mark.parametrize('module, clean', [('deepmotif.render', True), ('deepmotif.views', True), ('deepmotif.dashboard', False)])
def test_lower_layers_import_without_widgets(module, clean):
    "Imported alone (not through the package's __init__), render and views load neither ipywidgets nor pyplot."
    import subprocess, sys, deepmotif
    probe = ("import sys, types; p = types.ModuleType('deepmotif'); "
             f"p.__path__ = {list(deepmotif.__path__)!r}; sys.modules['deepmotif'] = p; import {module}; "
             "bad = {'ipywidgets', 'matplotlib.pyplot'} & set(sys.modules); assert not bad, bad")
    assert (subprocess.run([sys.executable, '-c', probe], capture_output=True).returncode == 0) == clean


def test_viewset_writes_a_page_without_widgets(models, data, tmp_path):
    vs = views.ViewSet({'cnn': models['cnn']}, data, opt_steps=0, width=6, dpi=40)
    text = views.save_html(vs, tmp_path / 'p.html', seqs=[2, 3], kind='gradient').read_text()
    assert text.count('<section>') == 2 and 'saliency: gradient' in text
