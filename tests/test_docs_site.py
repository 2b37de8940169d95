"""The documentation site (`docs/build`): one page per notebook, nothing loaded from the network, no broken link, and
readable from file:// in headless Chromium with JavaScript off."""
import importlib.util, json, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / 'docs' / 'build'
sys.path.insert(0, str(ROOT / 'docs'))
import sitecheck  # noqa: E402

build = sitecheck.load_build()
DOCS_MODULES = ('sphinx', 'myst_nb', 'furo')
EXTRA_PAGES = {'genindex.html', 'search.html'}  # what Sphinx adds to the notebooks' pages


def require_docs_tools():
    "Fail (not skip) when the docs extra, playwright or chromium is missing."
    missing = [m for m in DOCS_MODULES + ('playwright',) if importlib.util.find_spec(m) is None]
    if missing: pytest.fail(f'{", ".join(missing)} not installed: pip install -e ".[docs]" (and ".[dev]" for playwright)')
    if not sitecheck.chromium(): pytest.fail('chromium not found: apt-get install -y chromium (never `playwright install`)')


@pytest.fixture(scope='module')
def site(tmp_path_factory):
    "The site built from this checkout's notebooks into a temporary folder."
    require_docs_tools()
    out = tmp_path_factory.mktemp('docs') / '_site'
    r = subprocess.run([sys.executable, str(BUILD), str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return out


def notebook(cells, **meta):
    "A minimal nbformat-4 notebook."
    return {'nbformat': 4, 'nbformat_minor': 5, 'metadata': meta, 'cells': cells}


def test_detector_flags_network_resources():
    html = ('<script src="https://unpkg.com/x.js"></script><link rel="stylesheet" href="//cdn.example.org/a.css">'
            '<img src="http://example.org/a.png"><iframe src="https://example.org/w"></iframe>'
            '<a href="https://github.com/deepmotif/deepmotif">repo</a><script src="_static/local.js"></script>'
            '<img src="data:image/png;base64,AAAA">')
    assert sitecheck.network_refs(html) == ['https://unpkg.com/x.js', '//cdn.example.org/a.css',
                                            'http://example.org/a.png', 'https://example.org/w']
    assert sitecheck.network_refs('<a href="https://example.org">prose link</a>') == []


def test_detector_flags_broken_links(tmp_path):
    (tmp_path / 'sub').mkdir()
    (tmp_path / 'ok.html').write_text('<a href="index.html#top">i</a>')
    (tmp_path / 'index.html').write_text('<a href="ok.html">ok</a><a href="missing.html">m</a><a href="sub/">dir</a>'
                                         '<img src="img.png"><script src=""></script><a href="#x">anchor</a>'
                                         '<a href="mailto:a@b.c">mail</a><link href="ok.html?v=1" rel="next">')
    assert sorted(u for _, u in sitecheck.broken_links(tmp_path)) == ['', 'img.png', 'missing.html', 'sub/']


def test_widget_views_fall_back_to_png_then_text():
    view = {'model_id': 'abc', 'version_major': 2, 'version_minor': 0}
    png = {'output_type': 'display_data', 'metadata': {}, 'data': {build.WIDGET: view, 'image/png': 'iVBOR', 'text/plain': 'VBox()'}}
    txt = {'output_type': 'display_data', 'metadata': {}, 'data': {build.WIDGET: view, 'text/plain': 'VBox()'}}
    assert build.static_output(png)['data'] == {'image/png': 'iVBOR'}
    assert build.static_output(txt)['data'] == {'text/plain': 'VBox()'}
    assert build.static_output({'output_type': 'display_data', 'metadata': {}, 'data': {build.WIDGET: view}}) is None
    nb = notebook([{'cell_type': 'code', 'id': 'a', 'metadata': {}, 'source': '#|hide\nimport x', 'outputs': []},
                   {'cell_type': 'code', 'id': 'b', 'metadata': {}, 'source': '#|export\ny = 1', 'outputs': [txt]},
                   {'cell_type': 'markdown', 'id': 'c', 'metadata': {}, 'source': 'see [train](02_train.ipynb#fit)'}],
                  widgets={'application/vnd.jupyter.widget-state+json': {}})
    out = build.clean(nb, '.html')
    assert 'widgets' not in out['metadata'] and [c['id'] for c in out['cells']] == ['b', 'c']
    assert out['cells'][0]['source'] == 'y = 1' and out['cells'][0]['outputs'][0]['data'] == {'text/plain': 'VBox()'}
    assert out['cells'][1]['source'] == 'see [train](02_train.html#fit)'


def test_unreadable_notebook_exits_2(tmp_path):
    for d in ('nbs', 'demo_nb'): (tmp_path / d).mkdir()
    (tmp_path / 'nbs' / 'index.ipynb').write_text(json.dumps(notebook([])))
    (tmp_path / 'nbs' / '00_broken.ipynb').write_text('{"cells": [')
    r = subprocess.run([sys.executable, str(BUILD), str(tmp_path / 'out'), '--root', str(tmp_path)], capture_output=True, text=True)
    assert r.returncode == 2 and '00_broken.ipynb' in r.stderr, (r.returncode, r.stderr)
    assert not (tmp_path / 'out').exists()


def test_one_page_per_notebook(site):
    nbs = sorted((ROOT / 'nbs').glob('*.ipynb')) + sorted((ROOT / 'demo_nb').glob('*.ipynb'))
    pages = {str(p.relative_to(site)) for p in sitecheck.html_pages(site)}
    assert len(pages) == len(nbs) + len(EXTRA_PAGES), sorted(pages)
    for nb_path, page, _ in build.pages():
        assert f'{page}.html' in pages, nb_path


def test_no_network_resources(site):
    found = {str(p.relative_to(site)): sitecheck.network_refs(p.read_text(encoding='utf-8')) for p in sitecheck.html_pages(site)}
    assert not {p: v for p, v in found.items() if v}
    assert not list(site.rglob('*unpkg*')) and 'unpkg.com' not in (site / 'tutorials' / '01_quickstart.html').read_text()


def test_no_broken_internal_links(site):
    assert sitecheck.broken_links(site) == []


def test_pages_open_from_file_without_javascript(site, tmp_path):
    picks = {'index': 'nbs/index.ipynb', '02_train': 'nbs/02_train.ipynb',
             'tutorials/03_architectures_compared': 'demo_nb/03_architectures_compared.ipynb'}
    seen = sitecheck.browse([site / f'{p}.html' for p in picks], javascript=False, screenshot_dir=tmp_path)
    tutorial_titles = [build.title(build.read_notebook(nb), nb.stem) for nb, _, s in build.pages() if s == 'Tutorials']
    for page, nb in picks.items():
        f = (site / f'{page}.html').resolve()
        text, attempted, shot = seen[f]
        assert attempted == [], (page, attempted)
        assert build.title(build.read_notebook(ROOT / nb), '') in text, page
        assert all(t in text for t in tutorial_titles), f'{page}: the sidebar lists every tutorial'
        assert shot.stat().st_size > 10_000, page
        imgs = sitecheck.img_sources(f.read_text(encoding='utf-8'))
        for src in imgs:
            assert src.startswith('data:image/') or sitecheck.resolve(f, src, site).resolve().is_file(), (page, src)
    assert sitecheck.img_sources((site / 'tutorials' / '03_architectures_compared.html').read_text()), 'the tutorial has its figure'
