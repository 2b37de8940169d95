"""A dashboard that draws first and fills class optimization in from a background thread: the same pictures as one that
draws everything first, each optimization computed once, on a copy of the model, and the torch setting given back."""
import base64, threading, time
import pytest
import torch
import deepmotif.views as views
from deepmotif.data import synthetic_dataset
from deepmotif.models import build_model
from deepmotif.views import ViewSet
from deepmotif.dashboard import Dashboard, under_jupyter_server


@pytest.fixture(scope='module')
def data():
    return synthetic_dataset('single', n=30, length=60, seed=5)


@pytest.fixture(scope='module')
def models():
    out = {}
    for arch, hp in (('cnn', dict(n_filters=8)), ('rnn', dict(hidden=4)), ('cnn-rnn', dict(n_filters=8, hidden=4))):
        torch.manual_seed(2)
        out[arch] = build_model(arch, **hp).eval()
    return out


KW = dict(opt_steps=30, opt_starts=2, width=6, dpi=40)


@pytest.fixture
def slow_optimize(monkeypatch):
    "optimize_input made slow enough that the worker is still running when the constructor returns; records each call."
    calls, real = [], views.optimize_input
    def spy(model, **kw):
        calls.append((model, threading.current_thread().name))
        time.sleep(0.3)
        return real(model, **kw)
    monkeypatch.setattr(views, 'optimize_input', spy)
    return calls


def test_fills_in_the_same_pictures(models, data, slow_optimize):
    d = Dashboard(models, data, progressive=True, **KW)
    assert d.filling  # the constructor returned before class optimization finished
    assert all(d.optimized_images[n].layout.display == 'none' for n in d.filling)  # not shown until drawn
    assert 'class optimization of' in d.info.value and 'in progress' in d.info.value
    assert d.model_images['cnn'].layout.display is None  # the fast panels are there at once
    d.wait()
    assert d.filling == [] and 'in progress' not in d.info.value and d.message == ''
    ref = Dashboard(models, data, progressive=False, **KW)
    assert ref.filling == []
    for n in models:
        assert d.optimized_images[n].layout.display is None
        assert d.optimized_images[n].value == ref.optimized_images[n].value
    assert d.picture() == ref.picture()
    assert len(slow_optimize) == 2 * len(models)  # once per model and dashboard
    workers = [t for _, t in slow_optimize[:len(models)]]
    assert all(t.startswith('deepmotif-dashboard') for t in workers)  # the progressive one computed them in its worker


def test_picture_and_views_wait_for_the_worker(models, data, slow_optimize):
    d = Dashboard(models, data, progressive=True, **KW)
    assert d.filling
    pic = d.picture()  # waits: the picture has every logo
    assert d.filling == []
    ref = Dashboard(models, data, progressive=False, **KW)
    assert pic == ref.picture()
    d2 = Dashboard(models, data, progressive=True, **KW)
    res = d2.optimized('rnn')  # asked while the worker runs: waited for (or computed once), never twice
    d2.wait()
    assert res is d2.optimized('rnn')
    assert sum(1 for _ in slow_optimize) == 3 * len(models)


def test_worker_leaves_the_models_and_threads_alone(models, data, slow_optimize):
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        state = {n: (m.training, [p.requires_grad for p in m.parameters()], [p.detach().clone() for p in m.parameters()])
                 for n, m in models.items()}
        d = Dashboard(models, data, progressive=True, **KW)
        for _ in range(3): d.next()  # the controls work while the worker runs
        d.wait()
        assert torch.get_num_threads() == 2  # the setting before the dashboard, given back after both threads
        for n, m in models.items():
            training, grads, params = state[n]
            assert m.training == training and [p.requires_grad for p in m.parameters()] == grads
            assert all(torch.equal(a, b) for a, b in zip(params, m.parameters()))
        assert all(model is not models[n] for (model, _), n in zip(slow_optimize, models))  # optimized on copies
    finally: torch.set_num_threads(before)


def test_display_handle_gets_the_complete_picture(models, data, slow_optimize):
    d = Dashboard(models, data, progressive=True, **KW)
    class Handle:
        def __init__(self): self.updates = []
        def update(self, bundle, raw=False): self.updates.append(bundle)
    h = Handle()
    first = d._repr_mimebundle_()  # what a display shows at once: the widget and the picture drawn so far
    d._handles = [h]
    d.wait()
    assert h.updates, 'the displayed output was never updated'
    last = base64.b64decode(h.updates[-1]['image/png'])
    assert last == d.picture() and last != base64.b64decode(first['image/png'])


def test_a_failed_optimization_is_reported_and_the_rest_drawn(models, data, monkeypatch):
    real = views.optimize_input
    def failing(model, **kw):
        if getattr(model, 'arch', '') == 'rnn': raise RuntimeError('no gradient here')
        return real(model, **kw)
    monkeypatch.setattr(views, 'optimize_input', failing)
    d = Dashboard(models, data, progressive=True, **KW).wait()
    assert 'rnn: class optimization failed: RuntimeError: no gradient here' in d.message
    assert 'class optimization failed' in d.headers['rnn'].text
    assert d.optimized_images['rnn'].layout.display == 'none'
    assert d.optimized_images['cnn'].layout.display is None and d.model_images['rnn'].layout.display is None
    d.next()  # the reason stays in the model's header after the next draw, and it is not tried again
    assert 'class optimization failed' in d.headers['rnn'].text and len(d._jobs) == len(models)


def test_default_fills_in_only_under_a_jupyter_server(models, data, monkeypatch):
    monkeypatch.delenv('JPY_SESSION_NAME', raising=False)
    assert not under_jupyter_server()
    assert Dashboard(models, data, **KW).filling == []  # a script or an executed notebook: complete at once
    monkeypatch.setenv('JPY_SESSION_NAME', '/home/user/nb.ipynb')
    assert under_jupyter_server()
    d = Dashboard(models, data, **KW)
    assert d._progressive
    assert d.wait().filling == []


def test_memoised_waits_for_a_key_in_flight(models, data):
    vs = ViewSet(models, data, opt_steps=0)
    calls, started = [], threading.Event()
    def compute():
        calls.append(1); started.set(); time.sleep(0.3); return object()
    out = {}
    t = threading.Thread(target=lambda: out.setdefault('a', vs.memoised('k', compute)))
    t.start(); started.wait()
    b = vs.memoised('k', compute)  # asked while the other thread computes it
    t.join()
    assert calls == [1] and out['a'] is b
    def boom(): raise ValueError('first try fails')
    with pytest.raises(ValueError): vs.memoised('j', boom)
    assert vs.memoised('j', lambda: 5) == 5  # a failed computation leaves nothing behind
