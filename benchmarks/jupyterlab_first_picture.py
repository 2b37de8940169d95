"""Time to the dashboard's first picture and to its complete picture in JupyterLab, as a person sees them in the browser.

    python benchmarks/jupyterlab_first_picture.py [--repeat 2] [--n 40]

Starts JupyterLab (isolated settings, 127.0.0.1) and headless Debian chromium (playwright, no `playwright install`), opens
a notebook whose first cell imports deepmotif and builds the paper's three models at their default sizes (untrained:
the work per picture does not depend on the weights) and `n` synthetic 101-bp sequences, and whose second cell is

    t0 = time.time(); d = Dashboard(models, data, progressive=P); d

Per run, the browser watches the output from the moment the second cell starts (t0, written by the kernel to a file on
the same machine's clock): the first picture is when the input, the compared strip and the three models' panels are
drawn in the page; complete is when the three optimized-input logos are there too. Each run is a fresh kernel,
with P = True (the default under a Jupyter server) and P = False (everything drawn before the cell returns),
interleaved. Prints the median seconds of each.
"""
import argparse, importlib.util, json, statistics, sys, tempfile, time
from pathlib import Path
import nbformat

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location('browser_helpers', ROOT / 'tests' / 'test_browser.py')
B = importlib.util.module_from_spec(spec); spec.loader.exec_module(B)

SETUP = '''\
import sys, time, json, warnings
sys.path.insert(0, {root!r})
import torch
from deepmotif.models import build_model
from deepmotif.data import synthetic_dataset
from deepmotif.dashboard import Dashboard
models = {{}}
for arch in ('cnn', 'rnn', 'cnn-rnn'):
    torch.manual_seed(0); models[arch] = build_model(arch)
data = synthetic_dataset('single', n={n}, seed=0)
'''
SHOW = '''\
t0 = time.time(); open({stamp!r}, 'w').write(json.dumps(t0))
d = Dashboard(models, data, progressive={progressive})
d'''

WATCH = """() => {  // seconds since the page loaded at which the first and the complete picture were in the page
  window.__times = {};
  const shown = () => [...document.querySelectorAll('img.widget-image')].filter(e => e.offsetParent !== null && e.complete && e.naturalWidth > 1).length;
  const tick = () => {
    const k = shown(), now = Date.now() / 1000;
    if (k >= 5 && !window.__times.first) window.__times.first = now;
    if (k >= 8 && !window.__times.complete) { window.__times.complete = now; return; }
    setTimeout(tick, 20);
  };
  tick();
}"""


def one_run(progressive: bool, n: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        root, stamp = Path(tmp), Path(tmp) / 't0.json'
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(SETUP.format(root=str(ROOT), n=n)),
                                             nbformat.v4.new_code_cell(SHOW.format(stamp=str(stamp), progressive=progressive))])
        nb.metadata = {'kernelspec': {'display_name': 'Python 3', 'language': 'python', 'name': 'python3'}}
        nbformat.write(nb, root / 'first.ipynb')
        with B.jupyter_lab(root) as (url, token), B.browser_page() as page:
            page.goto(f'{url}/lab/tree/first.ipynb?token={token}', wait_until='domcontentloaded')
            page.wait_for_function("() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget; "
                                   "return w && w.sessionContext && w.content; }", timeout=120_000)
            page.evaluate("""async () => {  // run the setup cell and wait for it
                const app = window.jupyterapp, w = app.shell.currentWidget;
                await w.context.ready; await w.sessionContext.ready;
                w.content.activeCellIndex = 0;
                await app.commands.execute('notebook:run-cell');
            }""")
            page.wait_for_function("() => { const w = window.jupyterapp.shell.currentWidget; const c = w.content.widgets[0]; "
                                   "const k = w.sessionContext.session.kernel; return c.model.executionCount !== null && k.status === 'idle'; }",
                                   timeout=300_000, polling=200)
            page.evaluate(WATCH)
            page.evaluate("async () => { const app = window.jupyterapp, w = app.shell.currentWidget; "
                          "w.content.activeCellIndex = 1; await app.commands.execute('notebook:run-cell'); }")
            page.wait_for_function("() => window.__times.complete", timeout=300_000, polling=200)
            t = page.evaluate("() => window.__times")
            errors = B._errors(page)
            if errors: raise SystemExit(f'the notebook failed:\n{errors}')
        t0 = json.loads(stamp.read_text())
    return dict(first=t['first'] - t0, complete=t['complete'] - t0)


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--repeat', type=int, default=2); ap.add_argument('--n', type=int, default=40)
    a = ap.parse_args()
    import os, torch
    rows = {True: [], False: []}
    for _ in range(a.repeat):
        for p in (True, False): rows[p].append(one_run(p, a.n))
    print(f'torch {torch.__version__}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; JupyterLab + chromium, '
          f'3 models at default sizes, {a.n} sequences of 101 bp; median of {a.repeat} fresh kernels')
    print('| Dashboard | first picture in the page | complete picture |')
    print('|---|---:|---:|')
    for p, rs in rows.items():
        print(f"| progressive={p} | {statistics.median(r['first'] for r in rs):.2f} s | {statistics.median(r['complete'] for r in rs):.2f} s |")
    print('runs:', json.dumps({str(p): rs for p, rs in rows.items()}))
