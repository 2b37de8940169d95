"The notebooks are the source: they run clean, and the library is exactly what they export."
import filecmp, shutil, subprocess
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
