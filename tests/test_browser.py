"""The dashboard in a real browser: JupyterLab runs a notebook that shows a Dashboard, and headless chromium clicks it.

Needs Debian's chromium (`apt-get install -y chromium`) and Python's playwright (`pip install playwright`; no
`playwright install`: the test drives the system chromium), besides jupyterlab and jupyterlab_widgets. Without them
the test fails and says what to install. The screenshot goes to $DEEPMOTIF_ARTIFACTS (default: the temporary
folder) as dashboard.png; the test prints its path.
"""
import json, os, re, shutil, signal, socket, subprocess, sys, tempfile, time, urllib.request
from contextlib import contextmanager
from pathlib import Path
import nbformat
import pytest

pytestmark = pytest.mark.browser  # a real Chromium (conftest marks browser tests slow too)

CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
                 '--disable-component-update', '--disable-sync', '--no-first-run']

NOTEBOOK = '''\
import torch
torch.set_num_threads(1)
from deepmotif.data import synthetic_dataset, train_valid_split
from deepmotif.models import build_model
from deepmotif.train import fit
from deepmotif.dashboard import Dashboard
data = synthetic_dataset('single', n=120, length=60, seed=0)
train, valid = train_valid_split(data, 0.25, seed=0)
import warnings
warnings.filterwarnings('ignore', 'the model never left chance')  # one epoch of toy models: at chance, and the dashboard says so
models = {}
for arch, hp in (('cnn', dict(n_filters=8)), ('rnn', dict(hidden=4)), ('cnn-rnn', dict(n_filters=8, hidden=4))):
    torch.manual_seed(0)
    models[arch] = build_model(arch, **hp)
    fit(models[arch], train, valid, epochs=1, verbose=False)
d = Dashboard(models, valid, opt_steps=10)
d'''


def _require():
    "Fail (not skip) with install instructions when the browser or playwright is missing."
    missing = []
    if shutil.which('chromium') is None: missing.append('the chromium browser (Debian: apt-get install -y chromium)')
    try: import playwright.sync_api  # noqa: F401
    except ImportError: missing.append("Python's playwright (pip install playwright; no 'playwright install' needed)")
    if missing: pytest.fail('the browser test needs ' + ' and '.join(missing))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@contextmanager
def jupyter_lab(root: Path, disable_widgets: bool = False):
    "A JupyterLab server on 127.0.0.1 serving `root`, isolated settings; stopped (with its kernels) on exit."
    port, token = _free_port(), os.urandom(12).hex()
    home = root / '.jupyter-home'
    for sub in ('config/labconfig', 'data', 'runtime', 'settings/@jupyterlab/apputils-extension', 'workspaces'):
        (home / sub).mkdir(parents=True, exist_ok=True)
    (home / 'settings/@jupyterlab/apputils-extension/notification.jupyterlab-settings').write_text(
        json.dumps({'fetchNews': 'false', 'checkForUpdates': False}))
    if disable_widgets:
        (home / 'config/labconfig/page_config.json').write_text(
            json.dumps({'disabledExtensions': {'@jupyter-widgets/jupyterlab-manager': True}}))
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(home / 'config'), JUPYTER_DATA_DIR=str(home / 'data'),
               JUPYTER_RUNTIME_DIR=str(home / 'runtime'), MPLBACKEND='Agg')
    cmd = [sys.executable, '-m', 'jupyterlab', '--no-browser', '--allow-root', '--ServerApp.ip=127.0.0.1',
           f'--ServerApp.port={port}', '--ServerApp.port_retries=0', f'--ServerApp.token={token}',
           f'--ServerApp.root_dir={root}', '--LabApp.expose_app_in_browser=True', '--LabApp.news_url=',
           '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate',
           f'--LabApp.user_settings_dir={home / "settings"}', f'--LabApp.workspaces_dir={home / "workspaces"}']
    log = open(root / 'jupyter.log', 'w')
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f'http://127.0.0.1:{port}'
        deadline = time.time() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f'JupyterLab exited with status {proc.returncode}:\n' + (root / 'jupyter.log').read_text()[-3000:])
            try:
                with urllib.request.urlopen(f'{url}/api/status?token={token}', timeout=5): break
            except OSError:
                if time.time() > deadline: pytest.fail('JupyterLab did not answer within 120 s:\n' + (root / 'jupyter.log').read_text()[-3000:])
                time.sleep(0.5)
        yield url, token
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # the server and the kernels it started (its own process group)
            try: proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL); proc.wait(timeout=10)
        log.close()


@contextmanager
def browser_page():
    "A page of headless Debian chromium, driven by playwright."
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which('chromium'), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={'width': 1400, 'height': 1800})
            yield page
        finally: browser.close()


def _write_notebook(root: Path) -> str:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(NOTEBOOK)])
    nb.metadata = {'kernelspec': {'display_name': 'Python 3', 'language': 'python', 'name': 'python3'}}
    nbformat.write(nb, root / 'dash.ipynb')
    return 'dash.ipynb'


def _open_and_run_all(page, url: str, token: str, name: str):
    "Open notebook `name` in JupyterLab, wait for its kernel, run all cells and wait until they have run."
    page.goto(f'{url}/lab/tree/{name}?token={token}', wait_until='domcontentloaded')
    page.wait_for_function("() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget; "
                           "return w && w.sessionContext && w.content; }", timeout=120_000)
    page.evaluate("""async () => {
        const app = window.jupyterapp, w = app.shell.currentWidget;
        await w.context.ready; await w.sessionContext.ready;
        await app.commands.execute('notebook:run-all-cells');
    }""")
    page.wait_for_function("""() => {
        const w = window.jupyterapp.shell.currentWidget, k = w.sessionContext.session && w.sessionContext.session.kernel;
        const cells = w.content.widgets.filter(c => c.model.type === 'code');
        return k && k.status === 'idle' && cells.every(c => c.model.executionCount !== null);
    }""", timeout=300_000, polling=500)


def _errors(page) -> str:
    "Text of any error output in the notebook."
    return '\n'.join(page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]').all_inner_texts())


INFO = '.widget-html-content:has-text("passing the filters")'


def _panel_srcs(page) -> list:
    return page.eval_on_selector_all('img.widget-image', 'els => els.map(e => e.naturalWidth > 0 ? e.src : "")')


def test_dashboard_renders_and_next_updates_the_panels(tmp_path):
    _require()
    shot = Path(os.environ.get('DEEPMOTIF_ARTIFACTS', tempfile.gettempdir())) / 'dashboard.png'
    shot.parent.mkdir(parents=True, exist_ok=True)
    name = _write_notebook(tmp_path)
    with jupyter_lab(tmp_path) as (url, token), browser_page() as page:
        _open_and_run_all(page, url, token, name)
        nxt = page.locator('button.widget-button', has_text='next')
        try: nxt.wait_for(state='visible', timeout=60_000)
        except Exception:
            page.screenshot(path=str(shot))
            pytest.fail(f'the dashboard did not render (no "next" button; is jupyterlab_widgets installed?); '
                        f'screenshot {shot}; errors:\n{_errors(page)}')
        info = page.locator(INFO)
        info.wait_for(timeout=30_000)
        page.wait_for_function("() => { const im = [...document.querySelectorAll('img.widget-image')]; "
                               "return im.length >= 5 && im.every(e => e.complete && e.naturalWidth > 0); }", timeout=60_000)
        before_text, before = info.inner_text(), _panel_srcs(page)
        assert re.search(r'sequence 0 of \d+', before_text), before_text
        nxt.click()
        # the line also changes when class optimization fills in (under a Jupyter server): wait for the next sequence itself
        page.wait_for_function("() => { const e = document.querySelector('.widget-html-content b'); "
                               "return e && /sequence 1 of/.test(e.closest('.widget-html-content').innerText); }", timeout=60_000)
        page.wait_for_timeout(500)
        after_text, after = info.inner_text(), _panel_srcs(page)
        assert re.search(r'sequence 1 of \d+', after_text), after_text
        changed = [a != b for a, b in zip(before, after) if a and b]
        assert sum(changed) >= 5, (before, after)  # input, comparison and the three models' panels were redrawn
        page.locator('.jp-OutputArea-output:has(button.widget-button)').screenshot(path=str(shot))
        print(f'screenshot: {shot}')
        assert not _errors(page), _errors(page)


def test_the_check_fails_without_the_widget_javascript(tmp_path):
    "Negative control: with JupyterLab's widget manager disabled, no dashboard appears, so the test above would fail."
    _require()
    name = _write_notebook(tmp_path)
    with jupyter_lab(tmp_path, disable_widgets=True) as (url, token), browser_page() as page:
        _open_and_run_all(page, url, token, name)
        page.wait_for_timeout(3000)
        assert page.locator('button.widget-button').count() == 0
        # what shows instead is the dashboard's picture, the output's image/png (the static fallback of every viewer)
        assert page.locator('.jp-OutputArea-output[data-mime-type="image/png"] img').count() >= 1
