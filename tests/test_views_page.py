"""The static dashboard page: what `deepmotif demo` writes and `deepmotif dashboard` draws from saved models, checked as
text and in headless chromium with JavaScript off (the page must show everything without a script or a kernel)."""
import base64, io, re, shutil
import numpy as np
import pytest
import torch
from deepmotif.cli import main
from deepmotif.commands import chosen_sequences, dashboard_command, dashboard_page
from deepmotif.core import DeepMotifError
from deepmotif.data import synthetic_dataset, train_valid_split, _random_dna, _sample_site, motif_by_name
from deepmotif.models import build_model, save_model
from deepmotif.train import fit, predict

L = 60
HPARAMS = {'cnn': dict(n_filters=8), 'rnn': dict(hidden=4), 'cnn-rnn': dict(n_filters=8, hidden=4)}
RECURRENT = ('rnn', 'cnn-rnn')


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    "Three tiny models trained for two epochs, in memory and saved; their test data."
    torch.set_num_threads(2)
    root = tmp_path_factory.mktemp('models')
    data = synthetic_dataset('single', n=240, length=L, seed=0)
    test = synthetic_dataset('single', n=60, length=L, seed=1)
    tr, va = train_valid_split(data, 0.2, seed=0)
    models = {}
    for arch, hp in HPARAMS.items():
        torch.manual_seed(0)
        models[arch] = build_model(arch, **hp)
        fit(models[arch], tr, va, epochs=2, verbose=False)
        save_model(models[arch], root / arch, seq_length=L)
    return models, test, root


@pytest.fixture(scope='module')
def page(trained, tmp_path_factory):
    "The demo's page (three chosen sequences, motifs included) of the tiny models."
    models, test, _ = trained
    out = tmp_path_factory.mktemp('page') / 'dashboard.html'
    r = dashboard_page(models, test, out, n=3, opt_steps=5, opt_starts=1)
    return r, out.read_text()


def _sections(text: str) -> list:
    return re.findall(r'<section>(.*?)</section>', text, flags=re.S)


def test_page_shows_every_view_of_every_model_for_each_chosen_sequence(trained, page):
    models, test, _ = trained
    r, text = page
    P = np.mean([predict(m, test) for m in models.values()], axis=0)
    assert r['ids'] == [test.ids[i] for i in chosen_sequences(P, test.labels, 3)]
    pos = P[test.labels == 1]
    assert P[test.ids.index(r['ids'][0])] == pos.max() and P[test.ids.index(r['ids'][1])] == pos.min()
    assert test.labels[test.ids.index(r['ids'][2])] == 0
    sections = _sections(text)
    assert len(sections) == 3
    for sid, sec in zip(r['ids'], sections):
        assert f'<h2>{sid} ' in sec
        assert 'alt="input sequence"' in sec and 'alt="model comparison: per-position importance' in sec
        probs = re.search(r'<p class="probs">p\(positive\): (.*?)</p>', sec).group(1)
        assert [p.split()[0] for p in probs.split(', ')] == list(models)
        for name in models:
            extra = ' and temporal scores' if name in RECURRENT else ''
            assert f'alt="{name}: saliency map{extra}"' in sec, (sid, name)
            assert f'alt="{name}: optimized input"' in sec, (sid, name)
        assert 'temporal scores' not in re.search(r'alt="cnn: saliency map[^"]*"', sec).group(0)


def test_page_names_the_learned_motifs(page):
    text = page[1]
    motifs = text.split('<div class="motifs">', 1)[1]
    assert '<h2>Learned motifs</h2>' in motifs
    for name in HPARAMS: assert f'<h3>{name}</h3>' in motifs
    assert re.search(r'<td[^>]*>MA\d{4}\.\d+</td>', motifs), 'no JASPAR id in the motif tables'
    assert 'alt="cnn: learned motifs"' in motifs


def test_page_needs_no_script_and_nothing_from_outside(page):
    text = page[1]
    assert text.startswith('<!DOCTYPE html>') and '<script' not in text.lower()
    srcs = re.findall(r'\bsrc="([^"]*)"', text)
    assert len(srcs) >= 3 * (2 + 2 * 3) and all(s.startswith('data:image/png;base64,') for s in srcs)
    assert all(base64.b64decode(s.split(',', 1)[1])[:4] == b'\x89PNG' for s in srcs)
    assert not re.search(r'(href|src)="(?!data:)', text) and 'http' not in text and 'url(' not in text


def test_motif_section_says_how_to_install_the_extra(trained, tmp_path, monkeypatch):
    import importlib.util
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, 'find_spec', lambda name, *a: None if name == 'memelite' else find_spec(name, *a))
    models, test, _ = trained
    dashboard_page({'cnn': models['cnn']}, test, tmp_path / 'p.html', n=1, opt_steps=0)
    text = (tmp_path / 'p.html').read_text()
    assert "learned motifs need the optional packages memelite: pip install" in text and '<h3>' not in text
    assert len(_sections(text)) == 1


def test_dashboard_command_on_saved_models_and_a_fasta(trained, tmp_path):
    _, test, root = trained
    fa = tmp_path / 'seqs.fa'
    fa.write_text(''.join(f'>{i}\n{s}\n' for i, s in zip(test.ids, test.seqs)))
    dirs = [str(root / a) for a in HPARAMS]
    r = dashboard_command(dirs, str(fa), str(tmp_path / 'p.html'), ids=[test.ids[7], test.ids[3]], motifs=False, opt_steps=3)
    assert r['models'] == list(HPARAMS) and r['ids'] == [test.ids[7], test.ids[3]]
    text = (tmp_path / 'p.html').read_text()
    assert [re.search(r'<h2>(\S+)', s).group(1) for s in _sections(text)] == [test.ids[7], test.ids[3]]
    assert 'alt="cnn-rnn: saliency map and temporal scores"' in text and 'deepmotif motifs MODEL_DIR DATA' in text
    assert main(['dashboard', *dirs[:1], str(fa), '--out', str(tmp_path / 'c.html'), '--n', '2', '--no-motifs',
                 '--opt-steps', '2', '--quiet']) == 0
    assert len(_sections((tmp_path / 'c.html').read_text())) == 2


@pytest.fixture(scope='module')
def genome(tmp_path_factory):
    "A small genome with CTCF planted under each peak of a BED file."
    tmp = tmp_path_factory.mktemp('genome')
    rng = np.random.default_rng(0)
    ppm = motif_by_name('CTCF')[1]
    chroms = {f'chr{k}': list(_random_dna(rng, 3000)) for k in (1, 2)}
    peaks = []
    for c, seq in chroms.items():
        for s in range(200, 2800, 500):
            site = _sample_site(ppm, rng)
            seq[s:s + len(site)] = list(site)
            peaks.append(f'{c}\t{s - 20}\t{s + 40}\tpeak_{c}_{s}\n')
    (tmp / 'g.fa').write_text(''.join(f'>{c}\n' + ''.join(s) + '\n' for c, s in chroms.items()))
    (tmp / 'peaks.bed').write_text(''.join(peaks))
    return tmp / 'peaks.bed', tmp / 'g.fa'


def test_dashboard_command_on_peaks_and_a_genome(trained, genome, tmp_path, capsys):
    _, _, root = trained
    bed, fa = genome
    out = tmp_path / 'g.html'
    assert main(['dashboard', str(root / 'rnn'), str(bed), '--genome', str(fa), '--out', str(out), '--n', '3',
                 '--no-motifs', '--opt-steps', '2', '--quiet']) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == f'dashboard: {out}'
    text = out.read_text()
    heads = [re.search(r'<h2>(\S+)', s).group(1) for s in _sections(text)]
    assert len(heads) == 3 and all(h.startswith('peak_chr') for h in heads) and 'unlabelled' in text


@pytest.mark.parametrize('args, message', [
    (lambda r, fa, bed, g: [str(r / 'cnn'), str(fa), '--ids', 'single3', 'nope'], "no sequence with id 'nope'; ids there include 'single0'"),
    (lambda r, fa, bed, g: [str(r / 'cnn'), str(r / 'missing'), str(fa)], 'missing'),
    (lambda r, fa, bed, g: [str(r), str(fa)], 'config.json'),
    (lambda r, fa, bed, g: [str(r / 'cnn'), str(bed)], 'needs --genome'),
    (lambda r, fa, bed, g: [str(r / 'cnn'), str(fa), '--genome', str(g)], 'must be a BED or narrowPeak file'),
])
def test_dashboard_errors_exit_2_and_write_nothing(trained, genome, tmp_path, capsys, args, message):
    _, test, root = trained
    fa = tmp_path / 'seqs.fa'
    fa.write_text(''.join(f'>{i}\n{s}\n' for i, s in zip(test.ids, test.seqs)))
    out = tmp_path / 'page.html'
    assert main(['dashboard', *args(root, fa, *genome), '--out', str(out), '--quiet']) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith('deepmotif: error: ') and message in err and len(err.splitlines()) == 1, err
    assert not out.exists() and list(tmp_path.iterdir()) == [fa]


def test_dashboard_page_rejects_an_empty_id_list(trained, tmp_path):
    models, test, _ = trained
    with pytest.raises(DeepMotifError, match='ids is empty'): dashboard_page(models, test, tmp_path / 'p.html', ids=[])
    assert not (tmp_path / 'p.html').exists()


CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
                 '--disable-component-update', '--disable-sync', '--no-first-run']


def _render(path, shot):
    "Open `path` in headless chromium with JavaScript disabled; (natural widths of its images, body text, screenshot)."
    if shutil.which('chromium') is None: pytest.fail('the page test needs the chromium browser (Debian: apt-get install -y chromium)')
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which('chromium'), args=CHROMIUM_ARGS, headless=True)
        try:
            ctx = browser.new_context(java_script_enabled=False, viewport={'width': 1100, 'height': 1400})
            pg = ctx.new_page()
            outside = []
            pg.on('request', lambda req: outside.append(req.url) if not req.url.startswith(('file:', 'data:')) else None)
            pg.goto(path.as_uri(), wait_until='load')
            widths = pg.eval_on_selector_all('img', 'els => els.map(e => e.complete ? e.naturalWidth : -1)')
            text = pg.inner_text('body')
            pg.screenshot(path=str(shot), full_page=False)
        finally: browser.close()
    assert not outside, outside
    return widths, text


@pytest.mark.browser
def test_page_renders_in_chromium_without_javascript(page, tmp_path):
    from PIL import Image
    r, text = page
    path = tmp_path / 'dashboard.html'
    path.write_text(text)
    widths, body = _render(path, tmp_path / 'shot.png')
    assert len(widths) == text.count('<img ') and all(w > 0 for w in widths), widths
    assert r['ids'][0] in body and 'Learned motifs' in body and 'p(positive): cnn' in body
    a = np.asarray(Image.open(tmp_path / 'shot.png').convert('L'), dtype=float)
    assert a.shape == (1400, 1100) and a.std() > 20 and (a < 128).mean() > 0.01, (a.std(), (a < 128).mean())
    # negative control: the same page with one image broken is caught
    broken = re.sub(r'src="data:image/png;base64,[^"]{40}', 'src="data:image/png;base64,AAAA', text, count=1)
    path.write_text(broken)
    widths, _ = _render(path, tmp_path / 'shot2.png')
    assert sum(w == 0 for w in widths) == 1
