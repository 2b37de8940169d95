"The demo notebooks run top to bottom with small parameters, injected after their `parameters` cell as papermill does."
from pathlib import Path
import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
DEMOS = sorted(p.name for p in (ROOT / 'demo_nb').glob('*.ipynb'))

SMALL = {  # small settings per notebook: seconds instead of minutes
    '01_quickstart.ipynb': "n = 300\nepochs = 2\nopt_steps = 10\n",
    '02_real_chipseq.ipynb': "n_sample = 300\nepochs = 2\nopt_steps = 10\nmax_view = 60\n",
    '03_architectures_compared.ipynb': "n = 300\nepochs = 2\nopt_steps = 10\n",
}


def test_the_demo_notebooks_are_there():
    assert DEMOS == sorted(SMALL), DEMOS


@pytest.mark.parametrize('name', DEMOS)
def test_demo_notebook_is_committed_clean_and_starts_with_parameters(name):
    nb = nbformat.read(ROOT / 'demo_nb' / name, as_version=4)
    code = [c for c in nb.cells if c.cell_type == 'code']
    assert 'parameters' in code[0].metadata.get('tags', []), f'{name}: the first code cell must be tagged parameters'
    assert nb.cells[0].cell_type == 'markdown' and nb.cells[0].source.startswith('# '), f'{name}: starts with a title'
    dirty = [i for i, c in enumerate(code) if c.get('outputs') or c.get('execution_count') is not None]
    assert not dirty, f'{name}: code cells {dirty} have outputs; strip them before committing'


@pytest.mark.parametrize('name', DEMOS)
def test_demo_notebook_runs_with_small_parameters(name, tmp_path):
    nb = nbformat.read(ROOT / 'demo_nb' / name, as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if 'parameters' in c.metadata.get('tags', []))
    override = SMALL[name] + f"out_dir = {str(tmp_path / 'out')!r}\nimport torch\ntorch.set_num_threads(1)\n"
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell(override, metadata={'tags': ['injected-parameters']}))
    NotebookClient(nb, timeout=300, kernel_name='python3', resources={'metadata': {'path': str(tmp_path)}}).execute()
    bad = []
    for i, c in enumerate(nb.cells):
        for o in c.get('outputs', []) if c.cell_type == 'code' else []:
            if o.output_type == 'error' or (o.output_type == 'stream' and o.name == 'stderr' and
                                            any(w in o.text for w in ('Traceback', 'Error', 'Warning'))):
                bad.append(f'cell {i}: {o.get("ename") or ""} {o.get("evalue") or o.get("text", "")[:500]}')
    assert not bad, f'{name}:\n' + '\n'.join(bad)
    assert list((tmp_path / 'out').rglob('dashboard.html')), f'{name}: wrote no dashboard page'
