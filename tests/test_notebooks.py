"The notebooks are the source: they run clean, and the library is exactly what they export."
import filecmp, re, shutil, subprocess
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
NBS = sorted(p.name for p in (ROOT / 'nbs').glob('*.ipynb'))


def test_there_are_notebooks():
    assert len(NBS) >= 4, NBS


@pytest.mark.parametrize('nb', NBS)
@pytest.mark.slow
def test_notebook_runs(nb):
    "The whole chapter, its `#|slow` cells included (`nbdev_test` leaves them out unless asked)."
    r = subprocess.run(['nbdev_test', '--path', f'nbs/{nb}', '--flags', 'slow', '--do_print'], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]


def _copy_project(tmp_path):
    dst = tmp_path / 'p'
    dst.mkdir()
    for name in ('settings.ini', 'setup.py', 'README.md'): shutil.copy(ROOT / name, dst / name)
    shutil.copytree(ROOT / 'nbs', dst / 'nbs')
    shutil.copytree(ROOT / 'deepmotif', dst / 'deepmotif', ignore=shutil.ignore_patterns('__pycache__'))
    return dst


def test_library_is_what_the_notebooks_export(tmp_path):
    dst = _copy_project(tmp_path)
    for f in dst.joinpath('deepmotif').glob('*.py'): f.unlink()
    subprocess.run(['nbdev_export'], cwd=dst, check=True, capture_output=True)
    exported = sorted(p.name for p in (dst / 'deepmotif').glob('*.py'))
    assert exported == sorted(p.name for p in (ROOT / 'deepmotif').glob('*.py'))
    _, mismatch, errors = filecmp.cmpfiles(ROOT / 'deepmotif', dst / 'deepmotif', exported, shallow=False)
    assert not mismatch and not errors, f'run nbdev_export: {mismatch + errors} differ from the notebooks'


def test_notebooks_are_clean(tmp_path):
    dst = _copy_project(tmp_path)
    subprocess.run(['nbdev_clean'], cwd=dst, check=True, capture_output=True)
    names = [p.name for p in (ROOT / 'nbs').glob('*.ipynb')]
    _, mismatch, errors = filecmp.cmpfiles(ROOT / 'nbs', dst / 'nbs', names, shallow=False)
    assert not mismatch and not errors, f'run nbdev_clean: {mismatch} are not clean'


from conftest import execute_module as _execute_module  # demo_nb/execute.py: executes the chapters that draw


FIGURES = _execute_module().FIGURE_CHAPTERS
DRAWS = re.compile(r'^(?:def (?:plot_\w+|\w+_png)\(|class \w+(?:Figure|Viewer|Panel)\b)', re.M)


def test_every_chapter_that_draws_keeps_its_figures():
    "A chapter exporting a plot function, a PNG function, a figure, viewer or panel class is one of FIGURE_CHAPTERS."
    import nbformat
    draws = set()
    for name in NBS:
        nb = nbformat.read(ROOT / 'nbs' / name, as_version=4)
        if any(c.cell_type == 'code' and c.source.startswith('#|export') and DRAWS.search(c.source) for c in nb.cells):
            draws.add(name[:-len('.ipynb')])
    assert draws - set(FIGURES) == set(), f'chapters that draw but keep no figure: {sorted(draws - set(FIGURES))}'
    assert set(FIGURES) <= {n[:-len('.ipynb')] for n in NBS}


@pytest.mark.parametrize('name', FIGURES)
def test_chapter_keeps_current_pictures(name):
    "Committed with the outputs of one run of its code as it is now: at least one picture, no error, no widget state."
    import nbformat, deepmotif
    ex = _execute_module()
    path = ROOT / 'nbs' / f'{name}.ipynb'
    nb = nbformat.read(path, as_version=4)
    rerun = f'nbs/{name}.ipynb: {{}}; run `python demo_nb/execute.py --chapters {name}.ipynb`'
    rec = nb.metadata.get('deepmotif')
    assert rec, rerun.format('no run record')
    assert rec['code_sha256'] == ex.code_hash(nb), rerun.format('its code changed since its pictures were made')
    assert rec['version'] == deepmotif.__version__, rerun.format(f"run with deepmotif {rec['version']}")
    code = [c for c in nb.cells if c.cell_type == 'code']
    assert not [o for c in code for o in c.outputs if o.output_type == 'error'], rerun.format('a cell ended in an error')
    pictures = [o for c in code for o in c.outputs if 'image/png' in o.get('data', {})]
    assert pictures, rerun.format('no picture among its outputs')
    assert 'widgets' not in nb.metadata, f'{path.name}: saved widget state makes static renderers drop the pictures'
    assert path.stat().st_size < ex.CHAPTER_MAX_BYTES, f'{path.name}: {path.stat().st_size:,} bytes'
