"""Every viewer leaves a static picture where widgets cannot render: its output carries `image/png` beside the widget
view, the picture holds every image the widget shows, follows changes made from code (not by the controls), and a
notebook executed and converted to HTML with JavaScript off shows it."""
import base64, hashlib, io
import numpy as np
import nbformat
import pytest
import torch
from torch import nn
from PIL import Image
from nbclient import NotebookClient
import ipywidgets as W
from deepmotif.data import synthetic_dataset, one_hot
from deepmotif.models import build_model
from deepmotif.motifs import Motif
from deepmotif.dashboard import (Dashboard, SaliencyViewer, TemporalViewer, OptimizedInputViewer, LivePlot, WatchLearning, MotifPanel,
                                 GrammarPanel, VariantViewer)
from deepmotif.panels import widget_parts
from deepmotif.train import History

pytestmark = pytest.mark.usefixtures('one_thread')
WIDGET = 'application/vnd.jupyter.widget-view+json'


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert('RGB'))


def contains(big: np.ndarray, small: np.ndarray) -> bool:
    "Whether `small` appears in `big` at its left edge, at some row (an independent check of the stacking)."
    h, w = small.shape[:2]
    if w > big.shape[1]: return False
    return any(np.array_equal(big[r:r + h, :w], small) for r in range(big.shape[0] - h + 1)
               if np.array_equal(big[r, :w], small[0]))


def visible_images(w) -> list:
    "The PNGs of the images `w` shows, found by walking the widget tree here (not with the package's walker)."
    if getattr(w.layout, 'display', None) == 'none': return []
    if isinstance(w, W.Image): return [bytes(w.value)] if w.value else []
    if isinstance(w, W.Box): return [p for c in w.children for p in visible_images(c)]
    return []


@pytest.fixture(scope='module')
def data():
    return synthetic_dataset('single', n=12, seed=3)


@pytest.fixture(scope='module')
def models():
    torch.manual_seed(0)
    return {'cnn': build_model('cnn', n_filters=4).eval(), 'rnn': build_model('rnn', hidden=4).eval()}


def viewers(data, models, tmp_path):
    "One of each viewer, built small."
    rng = np.random.default_rng(0)
    genome = tmp_path / 'g.fa'
    seq = ''.join(rng.choice(list('ACGT'), 400))
    genome.write_text('>chr1\n' + '\n'.join(seq[i:i + 60] for i in range(0, 400, 60)) + '\n')
    vcf = tmp_path / 'v.vcf'
    vcf.write_text('##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n'
                   + ''.join(f'chr1\t{p}\trs{p}\t{seq[p - 1]}\t{"ACGT".replace(seq[p - 1], "")[0]}\t.\t.\t.\n' for p in (120, 200)))
    lp = LivePlot(show=False)
    lp(History([dict(epoch=e, train_loss=1 / e, valid_loss=1.1 / e, valid_auroc=0.5 + e / 10) for e in (1, 2)]))
    db = [Motif('CTCF', np.full((4, 8), 0.25), None, 0, 'file')]
    wl = WatchLearning(models['cnn'], data, n_filters=2, show=False)
    wl(History([dict(epoch=1, train_loss=0.7, valid_loss=0.7, valid_auroc=0.55)]))
    return {'watch': wl,
            'dashboard': Dashboard(models, data, opt_steps=3, opt_starts=2),
            'saliency': SaliencyViewer(models['cnn'], data),
            'temporal': TemporalViewer(models['rnn'], data),
            'optimized': OptimizedInputViewer(models['cnn'], length=30, steps=3, n_starts=2),
            'liveplot': lp,
            'motifs': MotifPanel({'cnn': models['cnn']}, data, sources=('filters',), database=db),
            'variants': VariantViewer({'cnn': models['cnn']}, vcf, genome, length=41),
            'grammar': GrammarPanel({'cnn': models['cnn']}, data, motifs=('ACGTAC', 'GGGCCC'), spacings=range(3))}


def test_every_viewer_output_carries_its_picture(data, models, tmp_path):
    for name, v in viewers(data, models, tmp_path).items():
        assert v.message == '', (name, v.message)
        bundle = v._repr_mimebundle_()
        assert WIDGET in bundle and 'image/png' in bundle, (name, list(bundle))
        png = base64.b64decode(bundle['image/png'])
        assert png == v.picture(), name
        pic = pixels(png)
        shown = [pixels(p) for p in visible_images(v.widget)]
        shown = [a for a in shown if a.shape[:2] != (1, 1)]
        assert shown, f'{name}: the widget shows no image'
        for a in shown: assert contains(pic, a), f'{name}: an image of the widget is missing from its picture'
        assert pic.shape[0] >= sum(a.shape[0] for a in shown), name


def test_the_dashboard_picture_says_what_the_controls_chose(data, models):
    d = Dashboard(models, data, opt_steps=3, opt_starts=2)
    d.select(4, kind='gradient', label='positive')
    text = [p for p in widget_parts(d.widget) if isinstance(p, str)]
    assert any(data.ids[d.index] in t for t in text)
    assert d.caption() == [f"attribution: gradient · label: positive · prediction: all"]
    before = d.picture()
    d.select(kind='saliency')
    assert d.picture() != before


class Handle:
    "Stands in for IPython's DisplayHandle: records what `update` receives."
    def __init__(self): self.updates = []
    def update(self, obj, raw=False): self.updates.append((obj, raw))


def test_code_updates_the_displayed_picture_and_controls_do_not(data, models):
    d = Dashboard(models, data, opt_steps=3, opt_starts=2)
    h = Handle()
    d._handles = [h]
    d.next_button.click()
    d.index_slider.value = 5
    assert h.updates == []                      # what a user does changes only the live widget
    d.select(2)
    assert len(h.updates) == 1 and h.updates[0][1] is True
    assert base64.b64decode(h.updates[0][0]['image/png']) == d.picture()
    d.next(); d.previous()
    assert len(h.updates) == 3
    ov = OptimizedInputViewer(models['cnn'], length=30, steps=3, n_starts=2)
    ov._handles = [h]
    ov.select(scale='probability')
    assert len(h.updates) == 4 and base64.b64decode(h.updates[-1][0]['image/png']) == ov.picture()


def test_an_executed_notebook_keeps_each_viewer_last_state(tmp_path):
    "In a real kernel: the dashboard's output shows the state chosen by a later cell; the live plot's, the last epoch."
    cells = ["""import hashlib, torch
from deepmotif.data import synthetic_dataset
from deepmotif.models import build_model
from deepmotif.dashboard import Dashboard, LivePlot
from deepmotif.train import fit
torch.manual_seed(0); torch.set_num_threads(1)
data = synthetic_dataset('single', n=60, seed=0)
m = build_model('cnn', n_filters=4)
lp = LivePlot()
fit(m, data, data, epochs=2, verbose=False, callback=lp)""",
             "d = Dashboard({'cnn': m}, data.subset(range(6)), opt_steps=3, opt_starts=2)\nd",
             "first = hashlib.sha256(d.picture()).hexdigest()\nd.select(3)\n"
             "print(first, hashlib.sha256(d.picture()).hexdigest(), hashlib.sha256(lp.picture()).hexdigest())"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, kernel_name='python3', timeout=300, resources={'metadata': {'path': str(tmp_path)}}).execute()
    first, last, live = nb.cells[2].outputs[0]['text'].split()
    assert first != last
    digest = lambda o: hashlib.sha256(base64.b64decode(o['data']['image/png'])).hexdigest()
    [dash] = [o for o in nb.cells[1].outputs if 'data' in o and WIDGET in o['data']]
    assert digest(dash) == last
    [plot] = [o for o in nb.cells[0].outputs if 'data' in o and WIDGET in o['data']]
    assert digest(plot) == live


@pytest.mark.browser
def test_quickstart_converted_to_html_shows_its_pictures_with_javascript_off(tmp_path):
    "Plain nbconvert of the committed quickstart, opened in Chromium with JavaScript off and no network: >= 4 pictures, the dashboard's among them."
    import shutil, subprocess
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    assert shutil.which('chromium'), 'needs the chromium browser (Debian: apt-get install -y chromium)'
    from playwright.sync_api import sync_playwright
    src = root / 'demo_nb' / '01_quickstart.ipynb'
    subprocess.run(['jupyter', 'nbconvert', '--to', 'html', str(src), '--output-dir', str(tmp_path)], check=True, capture_output=True)
    nb = nbformat.read(src, as_version=4)
    [dash] = [o['data']['image/png'] for c in nb.cells if c.cell_type == 'code' and 'Dashboard(' in c.source
              for o in c.outputs if WIDGET in o.get('data', {})]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which('chromium'))
        ctx = browser.new_context(java_script_enabled=False, viewport={'width': 1100, 'height': 900})
        asked = []
        ctx.route('**/*', lambda r: r.continue_() if r.request.url.startswith(('file:', 'data:')) else (asked.append(r.request.url), r.abort()))
        page = ctx.new_page()
        page.goto((tmp_path / '01_quickstart.html').as_uri())
        imgs = page.locator('img')
        shown = [(imgs.nth(k).get_attribute('src'), imgs.nth(k).bounding_box()) for k in range(imgs.count())]
        shot = pixels(page.screenshot(full_page=True))
        browser.close()
    drawn = [s for s, box in shown if box and box['width'] > 100 and box['height'] > 100]
    assert len(drawn) >= 4, f'{len(drawn)} pictures drawn'
    assert any(s.endswith(dash.replace('\n', '')) for s in drawn), "the dashboard's picture is not drawn"
    assert asked == [], asked
    assert (shot < 200).any(axis=2).mean() > 0.05  # the page is not blank
