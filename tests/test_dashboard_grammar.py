"The grammar panel: its curves are spacing_table's, a planted spacing rule is found, and bad motifs are said, not raised."
import io
import numpy as np
import pytest
import torch
from torch import nn
from PIL import Image
from deepmotif.core import DeepMotifError
from deepmotif.data import one_hot, synthetic_dataset
from deepmotif.grammar import spacing_table
from deepmotif.models import build_model
from deepmotif.views import GrammarSet, spacing_view, spacing_view_png
from deepmotif.dashboard import GrammarPanel


def detector(pattern: str) -> nn.Module:
    "A toy model: the best count of bases matching `pattern` (N: any base) over all windows."
    conv = nn.Conv1d(4, 1, len(pattern), bias=False)
    conv.weight.data = one_hot(pattern)
    return nn.Sequential(conv, nn.AdaptiveMaxPool1d(1), nn.Flatten())


@pytest.fixture(scope='module')
def X():
    rng = np.random.default_rng(0)
    return one_hot([''.join(rng.choice(list('ACGT'), 60)) for _ in range(30)])


@pytest.fixture(scope='module')
def toys():
    "'pair' scores GATA, four free bases, CCGA: a grammar with one right gap; 'gata' only counts GATA."
    return {'pair': detector('GATANNNNCCGA'), 'gata': detector('GATA')}


@pytest.fixture
def panel(toys, X):
    return GrammarPanel(toys, X, motifs=('GATA', 'CCGA'), spacings=range(9), width=6, dpi=40)


def test_numbers_are_spacing_tables(panel, toys, X):
    ref = spacing_table(toys, X, ['GATA', 'CCGA'], range(9), orientations=('+', '-'))
    rows = panel.current.rows
    assert [(r['model'], r['spacing'], r['orientation'], r['n']) for r in rows] == \
           [(r['model'], r['spacing'], r['orientation'], r['n']) for r in ref]
    np.testing.assert_allclose([r['mean_delta'] for r in rows], [r['mean_delta'] for r in ref], rtol=1e-6)
    np.testing.assert_allclose([r['sd_delta'] for r in rows], [r['sd_delta'] for r in ref], rtol=1e-6)
    assert panel.message == ''


def test_the_planted_gap_is_found(panel):
    plus = [r for r in panel.current.rows if r['model'] == 'pair' and r['orientation'] == '+']
    assert max(plus, key=lambda r: r['mean_delta'])['spacing'] == 4
    after = {r['spacing']: r['mean_delta'] for r in plus}
    assert after[4] > max(v for k, v in after.items() if k != 4)
    assert 'pair: gap 4 (+)' in panel.best.value


def test_curves_are_a_png_and_change_with_the_controls(panel, toys, X):
    png = bytes(panel.image.value)
    assert png[:4] == b'\x89PNG' and Image.open(io.BytesIO(png)).size[0] == 6 * 40
    panel.orientation_select.value = '+'  # as the dropdown does
    assert panel.current.orientations == ('+',) and {r['orientation'] for r in panel.current.rows} == {'+'}
    assert bytes(panel.image.value) != png
    panel.spacing_slider.value = (2, 5)
    assert panel.current.spacings == (2, 3, 4, 5)
    panel.motif_b.value = 'GGCC'  # as typing does
    ref = spacing_table(toys, X, ['GATA', 'GGCC'], range(2, 6), orientations=('+',))
    np.testing.assert_allclose([r['mean_delta'] for r in panel.current.rows], [r['mean_delta'] for r in ref], rtol=1e-6)


@pytest.mark.parametrize('motifs, message', [
    (('GATA', 'NOT_A_FACTOR'), "motif = 'NOT_A_FACTOR'; not a JASPAR name or matrix id"),
    (('AGRTAA', 'CCGA'), "'R' at position 2"),
    (('GATA', ''), 'expected a consensus'),
])
def test_a_bad_motif_is_said_in_the_status_line(panel, motifs, message):
    before = panel.current
    panel.select(motifs=motifs)  # no exception
    assert message in panel.message and '\n' not in panel.message and 'Traceback' not in panel.message
    assert panel.current is before  # the last curves stay
    panel.motif_b.value = 'NOT_A_FACTOR'  # typed into the box
    assert 'not a JASPAR name' in panel.message
    panel.select(motifs=('GATA', 'CCGA'))
    assert panel.message == '' and panel.current.motifs == ('GATA', 'CCGA')


@pytest.mark.parametrize('choice, message', [(dict(spacings=[1, 3]), 'consecutive gaps'),
                                             (dict(spacings=range(50, 70)), 'consecutive gaps'),
                                             (dict(orientation='x'), "orientation = 'x'"),
                                             (dict(motifs='GATA'), 'expected two motifs'),
                                             (dict(spacings=range(40, 58)), 'longer than the sequences')])
def test_bad_choices_are_said(panel, choice, message):
    state = panel.state if 'longer' not in message else None
    panel.select(**choice)
    assert message in panel.message
    if state: assert panel.state == state


def test_backgrounds(toys, X):
    data = synthetic_dataset('single', n=40, length=60, seed=1)
    gs = GrammarSet(toys, data)
    torch.testing.assert_close(gs.X, data.X[torch.as_tensor(np.flatnonzero(data.labels == 0))])
    m = build_model('cnn', n_filters=4)
    m.seq_length = 50
    assert GrammarSet({'cnn': m}, n=7, seed=3).X.shape == (7, 4, 50)
    torch.testing.assert_close(GrammarSet({'cnn': m}, n=7, seed=3).X, GrammarSet({'cnn': m}, n=7, seed=3).X)
    with pytest.raises(DeepMotifError, match='trained on length 50'): GrammarSet({'cnn': m}, X)
    with pytest.raises(DeepMotifError, match='give background sequences'): GrammarSet(toys)
    with pytest.raises(DeepMotifError, match='non-empty dict'): GrammarSet({}, X)
    v = spacing_view(GrammarSet(toys, X), ['GATA', 'CCGA'], [3, 4], '+')
    assert spacing_view_png(GrammarSet(toys, X), v)[:4] == b'\x89PNG'
