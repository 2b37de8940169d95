"The variant view: effects and maps equal deepmotif.variants', order and filter by |Δlogit|, PNGs, and the widget."
import io, random
import numpy as np
import pytest
import torch
from PIL import Image
from deepmotif.core import DeepMotifError
from deepmotif.data import one_hot
from deepmotif.models import build_model
from deepmotif.variants import Variant, read_variants, variant_effects, variant_saliency
from deepmotif.views import VariantSet, variant_view, variant_png, variant_title, variant_section, save_variants_html
from deepmotif.dashboard import VariantViewer, EVERY_MODEL

L = 21
HEAD = '##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n'


pytestmark = pytest.mark.usefixtures('one_thread')  # torch at one thread in this module (conftest)


@pytest.fixture(scope='module')
def chroms():
    rng = random.Random(5)
    return {'chr1': ''.join(rng.choice('ACGT') for _ in range(300)), 'chr2': ''.join(rng.choice('ACGT') for _ in range(90))}


@pytest.fixture(scope='module')
def fasta(tmp_path_factory, chroms):
    p = tmp_path_factory.mktemp('genome') / 'genome.fa'
    p.write_text(''.join(f'>{c}\n' + ''.join(s[i:i + 60] + '\n' for i in range(0, len(s), 60)) for c, s in chroms.items()))
    return p


@pytest.fixture(scope='module')
def vcf(tmp_path_factory, chroms):
    "Eleven SNVs from nine records: windows off both chromosome ends, one record with three ALTs, the rest spread out."
    recs = []
    for k, (c, pos) in enumerate([('chr1', 1), ('chr1', 40), ('chr1', 75), ('chr1', 150), ('chr1', 151), ('chr1', 222),
                                  ('chr1', 300), ('chr2', 2), ('chr2', 90)]):
        ref = chroms[c][pos - 1]
        alts = 'ACGT'.replace(ref, '')
        recs.append(f"{c}\t{pos}\trs{k}\t{ref}\t{','.join(alts) if k == 3 else alts[k % 3]}\t.\t.\t.\n")
    p = tmp_path_factory.mktemp('vcf') / 'calls.vcf'
    p.write_text(HEAD + ''.join(recs))
    return p


@pytest.fixture(scope='module')
def models():
    out = {}
    for arch, hp in (('cnn', dict(n_filters=6, kernel_sizes=[5])), ('rnn', dict(hidden=4))):
        torch.manual_seed(4)
        out[arch] = build_model(arch, **hp).eval()
        out[arch].seq_length = L
    return out


@pytest.fixture
def vset(models, vcf, fasta):
    return VariantSet(models, vcf, fasta, flank=6, width=6, dpi=40)


def brute_delta(model, chroms, v):
    "Δlogit of a variant from windows cut by hand out of the N-padded chromosome string."
    s = 'N' * L + chroms[v.chrom] + 'N' * L
    ref = s[v.pos - 1 - L // 2 + L: v.pos - 1 - L // 2 + 2 * L]
    alt = ref[:L // 2] + v.alt + ref[L // 2 + 1:]
    with torch.no_grad(): out = model(one_hot([ref, alt]))[:, 0]
    return float(out[1] - out[0])


def test_delta_equals_variant_effects_and_a_hand_cut_window(vset, models, vcf, fasta, chroms):
    variants = read_variants(vcf)
    assert len(vset) == len(variants) == 11
    for n, m in models.items():
        fx = variant_effects(m, vcf, fasta)
        np.testing.assert_allclose(vset.effects(n).delta, fx.delta, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(vset.effects(n).delta, [brute_delta(m, chroms, v) for v in variants], atol=1e-5)
        for i in (0, 3, 4, 10):
            v = vset.view(n, i)
            assert v.effect == vset.effects(n)[i] and v.index == i and v.model == n
            assert v.effect['delta'] == pytest.approx(float(fx.delta[i]), abs=1e-6)


def test_order_sorts_by_absolute_delta_and_filters(vset, models, vcf, fasta):
    d = {n: np.abs(variant_effects(m, vcf, fasta).delta) for n, m in models.items()}
    big = np.maximum(d['cnn'], d['rnn'])
    assert list(vset.order()) == sorted(range(11), key=lambda i: (-big[i], i))  # a slow, obvious sort
    assert list(vset.order(by='rnn')) == sorted(range(11), key=lambda i: (-d['rnn'][i], i))
    thr = float(np.sort(big)[6])
    kept = list(vset.order(min_delta=thr))
    assert sorted(kept) == [i for i in range(11) if big[i] >= thr] and 0 < len(kept) < 11
    assert list(vset.order(min_delta=1e9)) == []


def test_views_maps_are_variant_saliency_and_the_figure_shows_them(vset, models, fasta):
    i = int(vset.order()[0])
    v = vset.view('cnn', i)
    ref = variant_saliency(models['cnn'], v.effect, fasta)
    for a, b in zip(v.saliency, ref): torch.testing.assert_close(a, b)
    png = variant_png(vset, 'cnn', i)
    img = Image.open(io.BytesIO(png))
    img.verify()
    assert png[:8] == b'\x89PNG\r\n\x1a\n' and Image.open(io.BytesIO(png)).size[0] == 6 * 40
    fig = vset.figures[('variant figure', 'cnn', 2 * 6 + 1)]
    np.testing.assert_allclose(fig.heats[1].get_array(), ref.S_alt[0, :, L // 2 - 6:L // 2 + 7].numpy())
    assert fig.title.get_text() == variant_title('cnn', v.effect) and 'Δlogit' in fig.title.get_text()
    assert set(vset.render(i)) == {'cnn', 'rnn'}
    assert variant_png(vset, 'cnn', (i + 1) % 11) != png


def test_window_at_a_chromosome_end_is_drawn(vset):
    v = vset.view('rnn', 0)  # chr1:1, half its window is N padding
    assert v.saliency.X_ref[0, :, :L // 2].sum() == 0
    assert variant_png(vset, 'rnn', 0)[:4] == b'\x89PNG'


@pytest.mark.parametrize('kwargs, message', [
    (dict(models={}), 'expected a non-empty dict'),
    (dict(models={'x': 3}), "models['x'] is a int"),
    (dict(kind='deeplift'), "kind = 'deeplift'"),
    (dict(flank=-1), 'flank = -1'),
])
def test_bad_arguments_are_named(models, vcf, fasta, kwargs, message):
    args = dict(models=models, variants=vcf, genome=fasta) | kwargs
    with pytest.raises(DeepMotifError, match=message.replace('[', r'\[').replace(']', r'\]').replace('(', r'\(')):
        VariantSet(args.pop('models'), args.pop('variants'), args.pop('genome'), **args)


@pytest.mark.parametrize('choice, message', [(dict(variant=11), 'between 0 and 10'), (dict(variant=True), 'variant = True'),
                                             (dict(model='gru'), "model = 'gru'"), (dict(min_delta=float('nan')), 'min_delta')])
def test_bad_choices_are_named(vset, choice, message):
    from deepmotif.views import check_variant_choice
    with pytest.raises(DeepMotifError, match=message): check_variant_choice(vset, **choice)


def test_widget_builds_and_its_controls_change_what_is_shown(models, vcf, fasta):
    vv = VariantViewer(models, vcf, fasta, flank=6, width=6, dpi=40)
    order = list(vv.variantset.order())
    assert vv.message == '' and vv.order == order and vv.state['variant'] == order[0]
    assert all(bytes(vv.images[n].value[:4]) == b'\x89PNG' for n in models)
    first = bytes(vv.images['cnn'].value)
    vv.variant_select.value = order[3]  # as the dropdown does
    assert vv.current['cnn'].index == order[3] and vv.current['rnn'].index == order[3]
    assert bytes(vv.images['cnn'].value) != first
    vv.sort_select.value = 'rnn'  # sorting by one model keeps the shown variant
    assert vv.order == list(vv.variantset.order(by='rnn')) and vv.state['variant'] == order[3]
    top = vv.order[:2]
    vv.min_delta_box.value = float(np.abs(vv.variantset.effects('rnn').delta)[top[1]])
    assert vv.order[:2] == top and set(vv.order) == set(vv.variantset.order(vv.state['min_delta'], 'rnn'))
    vv.select('rs0', min_delta=0.0, by=EVERY_MODEL)
    assert vv.state == dict(variant=0, min_delta=0.0, by=None) and vv.current['cnn'].effect['id'] == 'rs0'


def test_widget_says_what_is_wrong_instead_of_raising(models, vcf, fasta, chroms, tmp_path):
    vv = VariantViewer(models, vcf, fasta, width=6, dpi=40)
    state = vv.state
    for bad, message in [(dict(variant=99), 'between 0 and 10'), (dict(variant='rs99'), "'rs99' is not among"),
                         (dict(by='gru'), "by = 'gru'"), (dict(min_delta=-1.0), 'min_delta = -1.0')]:
        vv.select(**bad)
        assert message in vv.message, (bad, vv.message)
        assert vv.state == state
    vv.select(min_delta=1e9)
    assert 'no variant has' in vv.message and vv.current == {} and vv.order == []
    wrong = tmp_path / 'wrong.vcf'
    ref = chroms['chr1'][9]
    wrong.write_text(HEAD + f"chr1\t10\t.\t{'ACGT'.replace(ref, '')[0]}\t{ref}\t.\t.\t.\n")  # REF not the genome's
    bad = VariantViewer(models, wrong, fasta)
    assert 'wrong genome build' in bad.message


def test_variant_section_and_page(vset, tmp_path):
    sec = variant_section(vset, top=3, min_delta=0.0)
    assert sec.count('<tr>') == 1 + 11 and sec.count('data:image/png;base64,') == 3 * 2
    ids = [f'rs{k}' for k in range(9)]
    order_ids = [vset.effects('cnn')[int(i)]['id'] for i in vset.order()]
    positions = [sec.index(f'<td>{i}</td>') for i in dict.fromkeys(order_ids)]
    assert positions == sorted(positions) and set(order_ids) == set(ids)
    text = save_variants_html(vset, tmp_path / 'v.html', top=1).read_text()
    assert text.startswith('<!DOCTYPE html>') and text.count('<img ') == 2 and '<script' not in text
