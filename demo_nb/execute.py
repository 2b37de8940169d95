"""Execute the demo notebooks in place, with their default parameters, and record what the run used.

    python demo_nb/execute.py                      # all demo notebooks
    python demo_nb/execute.py 03_architectures_compared.ipynb
    python demo_nb/execute.py 04_variants.ipynb --set "path = '../shared/data/encode/REST_GM12878_NRSF_HudsonAlpha_AC.seq.gz'"
    python demo_nb/execute.py --chapters           # the chapters in nbs/ that draw (FIGURE_CHAPTERS), then nbdev_clean
    python demo_nb/execute.py --chapters 06_plots.ipynb

The notebooks run from the repository root (their `out_dir` defaults land in `deepmotif_demo/`, which git ignores).
Outputs are saved in the notebook, widget state is not: every viewer's output carries a picture of its last state
(`image/png` beside the widget view), which nbconvert, nbviewer, a repository page and the documentation site show
where no kernel runs the widget (see the panels chapter).
`metadata['deepmotif']` records the package version, the parameters cell,
any `--set` lines (injected after the parameters cell, as papermill does) and a hash of the code cells;
`tests/test_demo_notebooks.py` compares them with the notebook as committed, so outputs cannot silently go stale.
"""
import argparse, datetime, hashlib, sys, time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
MAX_BYTES = 5_000_000


FIGURE_CHAPTERS = ('03_saliency', '04_temporal', '05_optimize', '06_plots', '07_dashboard', '07a_render', '07b_views',
                   '07c_panels', '07d_learning', '10_attribution', '10a_fastism', '10b_grammar', '10c_variants', '10d_scan', '11_motifs', '12_benchmark',
                   '13_zoo')
CHAPTER_MAX_BYTES = 1_500_000


def parameters_cell(nb) -> int:
    "Index of the cell tagged `parameters`."
    return next(i for i, c in enumerate(nb.cells) if 'parameters' in c.metadata.get('tags', []))


def code_hash(nb) -> str:
    "sha256 of the notebook's code cells except the parameters and injected ones."
    h = hashlib.sha256()
    for c in nb.cells:
        tags = c.metadata.get('tags', [])
        if c.cell_type == 'code' and 'parameters' not in tags and 'injected-parameters' not in tags:
            h.update(c.source.encode() + b'\0')
    return h.hexdigest()


def execute(path: Path, extra: str = '', timeout: int = 3600) -> dict:
    "Run `path` top to bottom and write it back with its outputs and run record."
    import deepmotif, torch
    nb = nbformat.read(path, as_version=4)
    nb.cells = [c for c in nb.cells if 'injected-parameters' not in c.metadata.get('tags', [])]
    at = parameters_cell(nb)
    if extra:
        nb.cells.insert(at + 1, nbformat.v4.new_code_cell(extra, metadata={'tags': ['injected-parameters']}))
    t = time.time()
    NotebookClient(nb, timeout=timeout, kernel_name='python3', store_widget_state=False,
                   resources={'metadata': {'path': str(ROOT)}}).execute()
    nb.metadata.pop('widgets', None)  # saved widget state would make static renderers drop the pictures
    for c in nb.cells:
        if c.cell_type == 'code': c.metadata.pop('execution', None)
    nb.metadata['deepmotif'] = {'version': deepmotif.__version__, 'torch': torch.__version__.split('+')[0],
                                'parameters': nb.cells[at].source, 'injected': extra, 'code_sha256': code_hash(nb),
                                'executed': datetime.date.today().isoformat(), 'seconds': round(time.time() - t)}
    text = nbformat.writes(nb)
    if len(text.encode()) > MAX_BYTES:
        raise SystemExit(f'{path.name}: {len(text.encode()):,} bytes executed; the limit is {MAX_BYTES:,}')
    path.write_text(text)
    return nb.metadata['deepmotif']


def execute_chapter(path: Path, timeout: int = 1200) -> dict:
    "Run chapter `path` (from nbs/, slow cells included) and keep its outputs and run record; nbdev_clean after."
    import subprocess, deepmotif
    nb = nbformat.read(path, as_version=4)
    t = time.time()
    NotebookClient(nb, timeout=timeout, kernel_name='python3', store_widget_state=False,
                   resources={'metadata': {'path': str(path.parent)}}).execute()
    nb.metadata.pop('widgets', None)
    nb.metadata['deepmotif'] = {'version': deepmotif.__version__, 'code_sha256': code_hash(nb),
                                'executed': datetime.date.today().isoformat(), 'seconds': round(time.time() - t)}
    text = nbformat.writes(nb)
    if len(text.encode()) > CHAPTER_MAX_BYTES:
        raise SystemExit(f'{path.name}: {len(text.encode()):,} bytes executed; the limit is {CHAPTER_MAX_BYTES:,}')
    path.write_text(text)
    subprocess.run(['nbdev_clean', '--fname', str(path)], cwd=ROOT, check=True)
    return nb.metadata['deepmotif']


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('names', nargs='*', help='notebook file names in demo_nb/ (default: all)')
    ap.add_argument('--set', default='', help='Python lines injected after the parameters cell')
    ap.add_argument('--timeout', type=int, default=3600, help='seconds per cell')
    ap.add_argument('--chapters', action='store_true', help='execute chapters in nbs/ (default: FIGURE_CHAPTERS) instead')
    a = ap.parse_args()
    if a.chapters:
        for name in a.names or [f'{n}.ipynb' for n in FIGURE_CHAPTERS]:
            rec = execute_chapter(ROOT / 'nbs' / name, a.timeout)
            print(f"nbs/{name}: executed in {rec['seconds']} s, {(ROOT / 'nbs' / name).stat().st_size:,} bytes", flush=True)
        sys.exit(0)
    names = a.names or sorted(p.name for p in (ROOT / 'demo_nb').glob('*.ipynb'))
    for name in names:
        rec = execute(ROOT / 'demo_nb' / name, a.set, a.timeout)
        print(f"{name}: executed in {rec['seconds']} s, {(ROOT / 'demo_nb' / name).stat().st_size:,} bytes", flush=True)
    sys.exit(0)
