"""Execute the demo notebooks in place, with their default parameters, and record what the run used.

    python demo_nb/execute.py                      # all demo notebooks
    python demo_nb/execute.py 03_architectures_compared.ipynb
    python demo_nb/execute.py 04_variants.ipynb --set "path = '../shared/data/encode/REST_GM12878_NRSF_HudsonAlpha_AC.seq.gz'"

The notebooks run from the repository root (their `out_dir` defaults land in `deepmotif_demo/`, which git ignores).
Outputs and the widget state are saved in the notebook, so a static renderer (a repository page, nbviewer) shows the
pictures and the dashboard's last state. `metadata['deepmotif']` records the package version, the parameters cell,
any `--set` lines (injected after the parameters cell, as papermill does) and a hash of the code cells;
`tests/test_demo_notebooks.py` compares them with the notebook as committed, so outputs cannot silently go stale.
"""
import argparse, datetime, hashlib, sys, time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
MAX_BYTES = 5_000_000


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
    NotebookClient(nb, timeout=timeout, kernel_name='python3', store_widget_state=True,
                   resources={'metadata': {'path': str(ROOT)}}).execute()
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


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('names', nargs='*', help='notebook file names in demo_nb/ (default: all)')
    ap.add_argument('--set', default='', help='Python lines injected after the parameters cell')
    ap.add_argument('--timeout', type=int, default=3600, help='seconds per cell')
    a = ap.parse_args()
    names = a.names or sorted(p.name for p in (ROOT / 'demo_nb').glob('*.ipynb'))
    for name in names:
        rec = execute(ROOT / 'demo_nb' / name, a.set, a.timeout)
        print(f"{name}: executed in {rec['seconds']} s, {(ROOT / 'demo_nb' / name).stat().st_size:,} bytes", flush=True)
    sys.exit(0)
