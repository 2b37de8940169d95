"""The demo notebooks are committed executed (not stale), and run top to bottom with small parameters,
injected after their `parameters` cell as papermill does."""
import importlib.util
from pathlib import Path
import nbformat
import pytest
from nbclient import NotebookClient
import deepmotif

ROOT = Path(__file__).resolve().parents[1]
DEMOS = sorted(p.name for p in (ROOT / 'demo_nb').glob('*.ipynb'))

SMALL = {  # small settings per notebook: seconds instead of minutes
    '01_quickstart.ipynb': "n = 300\nepochs = 2\nopt_steps = 10\n",
    '02_real_chipseq.ipynb': "n_sample = 300\nepochs = 2\nopt_steps = 10\nmax_view = 60\n",
    '03_architectures_compared.ipynb': "n = 300\nepochs = 2\nseeds = [0, 1]\nopt_steps = 10\nn_background = 20\nspacings = [0, 4, 8]\n",
    '04_variants.ipynb': "path = None\nmax_train = 300\nepochs = 2\nn_peaks = 20\n",
    '05_your_model.ipynb': "n_per_tf = 300\nepochs = 1\nopt_steps = 5\nn_show = 10\n",
    '06_classroom.ipynb': "n = 300\nepochs = 2\nopt_steps = 10\n",
}


# the one warning small parameters may cause: fit saying that a model trained for an epoch never left chance
AT_CHANCE = __import__('re').compile(r'DeepMotifWarning: (the model never left chance|tasks at chance)|warnings\.warn\(f"(the model never left chance|tasks at chance)')


def test_the_demo_notebooks_are_there():
    assert DEMOS == sorted(SMALL), DEMOS


from conftest import execute_module as _execute_module  # demo_nb/execute.py: executes the notebooks and records the run


@pytest.mark.parametrize('name', DEMOS)
def test_demo_notebook_starts_with_title_and_parameters(name):
    nb = nbformat.read(ROOT / 'demo_nb' / name, as_version=4)
    code = [c for c in nb.cells if c.cell_type == 'code']
    assert 'parameters' in code[0].metadata.get('tags', []), f'{name}: the first code cell must be tagged parameters'
    assert nb.cells[0].cell_type == 'markdown' and nb.cells[0].source.startswith('# '), f'{name}: starts with a title'


@pytest.mark.parametrize('name', DEMOS)
def test_demo_notebook_is_committed_executed_and_not_stale(name):
    "Committed with the outputs of one top-to-bottom run of the code as it is now, under 5 MB."
    path = ROOT / 'demo_nb' / name
    nb = nbformat.read(path, as_version=4)
    ex = _execute_module()
    assert path.stat().st_size < ex.MAX_BYTES, f'{name}: {path.stat().st_size:,} bytes; keep it under 5 MB'
    rec = nb.metadata.get('deepmotif')
    assert rec, f'{name}: no run record; execute it with `python demo_nb/execute.py {name}`'
    stale = f'{name}: committed outputs are stale ({{}}); re-run `python demo_nb/execute.py {name}`'
    assert rec['parameters'] == nb.cells[ex.parameters_cell(nb)].source, stale.format('the parameters cell changed')
    assert rec['code_sha256'] == ex.code_hash(nb), stale.format('code cells changed since the run')
    assert rec['version'] == deepmotif.__version__, stale.format(f"run with deepmotif {rec['version']}")
    injected = [c.source for c in nb.cells if 'injected-parameters' in c.metadata.get('tags', [])]
    assert injected == ([rec['injected']] if rec['injected'] else []), stale.format('injected parameters differ')
    code = [c for c in nb.cells if c.cell_type == 'code']
    counts = [c.execution_count for c in code]
    assert counts == list(range(1, len(code) + 1)), stale.format(f'not one run in order: {counts}')
    errors = [i for i, c in enumerate(code) for o in c.outputs if o.output_type == 'error']
    assert not errors, f'{name}: code cells {errors} ended in an error'
    state = nb.metadata.get('widgets', {}).get('application/vnd.jupyter.widget-state+json', {}).get('state', {})
    pictures = [o for c in code for o in c.outputs
                if o.output_type in ('display_data', 'execute_result') and 'image/png' in o.get('data', {})]
    pictures += [m for m in state.values() if m.get('model_name') == 'ImageModel'
                 and any(b.get('path') == ['value'] and b.get('data') for b in m.get('buffers', []))]
    assert pictures, f'{name}: no picture among the outputs or the saved widgets'


def test_demo_widgets_carry_their_pictures():
    """Every widget output of a tutorial carries its viewer's last picture (image/png) and no widget state is saved, so
    nbconvert, nbviewer, a repository page and the documentation site show the pictures; dashboards and live plots too."""
    for name in DEMOS:
        nb = nbformat.read(ROOT / 'demo_nb' / name, as_version=4)
        assert 'widgets' not in nb.metadata, f'{name}: saved widget state makes static renderers drop the pictures'
        code = [c for c in nb.cells if c.cell_type == 'code']
        views = [(i, o) for i, c in enumerate(code) for o in c.outputs if 'application/vnd.jupyter.widget-view+json' in o.get('data', {})]
        blank = [i for i, o in views if 'image/png' not in o['data']]
        assert not blank, f'{name}: widget outputs of code cells {blank} carry no picture'
        for word in ('Dashboard(', 'LivePlot('):
            cells = [i for i, c in enumerate(code) if word in c.source]
            assert all(any(j == i for j, _ in views) for i in cells), f'{name}: a {word[:-1]} cell shows no widget with its picture'


def test_code_hash_sees_code_changes_only():
    ex = _execute_module()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('n = 1', metadata={'tags': ['parameters']}),
                                         nbformat.v4.new_code_cell('print(n)'), nbformat.v4.new_markdown_cell('# a')])
    h = ex.code_hash(nb)
    nb.cells[0].source, nb.cells[2].source = 'n = 2', '# b'
    assert ex.code_hash(nb) == h
    nb.cells[1].source = 'print(n + 1)'
    assert ex.code_hash(nb) != h


@pytest.mark.parametrize('name', DEMOS)
@pytest.mark.slow
def test_demo_notebook_runs_with_small_parameters(name, tmp_path):
    nb = nbformat.read(ROOT / 'demo_nb' / name, as_version=4)
    nb.cells = [c for c in nb.cells if 'injected-parameters' not in c.metadata.get('tags', [])]  # the committed run's
    at = next(i for i, c in enumerate(nb.cells) if 'parameters' in c.metadata.get('tags', []))
    override = SMALL[name] + f"out_dir = {str(tmp_path / 'out')!r}\nimport torch\ntorch.set_num_threads(1)\n"
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell(override, metadata={'tags': ['injected-parameters']}))
    NotebookClient(nb, timeout=300, kernel_name='python3', resources={'metadata': {'path': str(tmp_path)}}).execute()
    bad = []
    for i, c in enumerate(nb.cells):
        for o in c.get('outputs', []) if c.cell_type == 'code' else []:
            text = '\n'.join(l for l in o.get('text', '').splitlines() if not AT_CHANCE.search(l))  # small runs may stay at chance, and say so
            if o.output_type == 'error' or (o.output_type == 'stream' and o.name == 'stderr' and
                                            any(w in text for w in ('Traceback', 'Error', 'Warning'))):
                bad.append(f'cell {i}: {o.get("ename") or ""} {o.get("evalue") or o.get("text", "")[:500]}')
    assert not bad, f'{name}:\n' + '\n'.join(bad)
    if any('save_html' in c.source for c in nb.cells if c.cell_type == 'code'):
        assert list((tmp_path / 'out').rglob('dashboard.html')), f'{name}: wrote no dashboard page'
