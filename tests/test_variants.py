"Variant effects: windows and logits against a brute-force loop over the FASTA string, and every refusal named."
import gzip, random, warnings
import numpy as np
import pytest
import torch
from deepmotif.core import DeepMotifError, DeepMotifWarning
from deepmotif.data import one_hot, decode
from deepmotif.genome import Genome
from deepmotif.models import build_model, save_model
from deepmotif.saliency import saliency
from deepmotif.variants import (COLUMNS, Variant, read_variants, variant_effects, variant_saliency, variant_windows,
                                variants_to_tsv, plot_variant)

L = 21
HEAD = '##fileformat=VCFv4.2\n##contig=<ID=chr1>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n'


@pytest.fixture
def chroms():
    rng = random.Random(3)
    c1 = ''.join(rng.choice('ACGTacgt') for _ in range(300))  # soft-masked in places
    return {'chr1': c1, 'chr2': ''.join(rng.choice('ACGT') for _ in range(130))}


@pytest.fixture
def fasta(tmp_path, chroms):
    p = tmp_path / 'genome.fa'
    p.write_text(''.join(f'>{c} test\n' + ''.join(s[i:i + 60] + '\n' for i in range(0, len(s), 60)) for c, s in chroms.items()))
    return p


def other(b):
    return 'A' if b != 'A' else 'C'


def record(chroms, c, pos, alt=None, vid='.'):
    ref = chroms[c][pos - 1].upper()
    return f'{c}\t{pos}\t{vid}\t{ref}\t{alt or other(ref)}\t50\tPASS\tDP=3\n'


@pytest.fixture
def vcf_text(chroms):
    c1n, c2n = len(chroms['chr1']), len(chroms['chr2'])
    recs = [record(chroms, 'chr1', 150, vid='rs1'),
            record(chroms, 'chr1', 1),  # window runs off the start
            record(chroms, 'chr2', c2n),  # ... and off the end
            record(chroms, 'chr2', 3, alt='A,C,G,T'),  # multi-allelic, one ALT equal to REF
            'chr1\t40\t.\tAT\tA\t.\t.\t.\n',  # deletion
            'chr1\t41\t.\tA\t<DEL>\t.\t.\t.\n',  # symbolic
            record(chroms, 'chr2', 60, alt='ACT,*').replace('\tACT,', '\tG,ACT,'),  # SNV + insertion + '*'
            record(chroms, 'chr1', c1n - 5).lower().replace('chr1', 'chr1', 1),  # lower-case alleles
            record(chroms, 'chr1', 100)]
    return HEAD + ''.join(recs)


@pytest.fixture
def vcf(tmp_path, vcf_text):
    p = tmp_path / 'calls.vcf'
    p.write_text(vcf_text)
    return p


@pytest.fixture
def model():
    torch.manual_seed(0)
    return build_model('cnn', n_filters=6, kernel_sizes=[5], n_outputs=2).eval()


def quiet(fn, *a, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', DeepMotifWarning)
        return fn(*a, **kw)


def brute(model, chroms, chrom, pos, alt, target=0, length=L):
    "Logits of the reference and alternative window, cut by hand from the padded chromosome string."
    s = 'N' * length + chroms[chrom].upper() + 'N' * length
    start = pos - 1 - length // 2 + length
    ref = s[start:start + length]
    alt_seq = ref[:length // 2] + alt + ref[length // 2 + 1:]
    with torch.no_grad():
        out = model.cpu().eval()(one_hot([ref, alt_seq]))[:, target]
    return out.tolist(), ref, alt_seq


@pytest.mark.parametrize('target', [0, 1])
def test_matches_brute_force(model, chroms, vcf, fasta, device, target):
    fx = quiet(variant_effects, model, vcf, fasta, length=L, device=device, target=target)
    assert len(fx) == 10
    for r in fx.rows():
        (lr, la), _, _ = brute(model, chroms, r['chrom'], r['pos'], r['alt'], target)
        assert abs(r['logit_ref'] - lr) < 1e-5 and abs(r['logit_alt'] - la) < 1e-5
        assert abs(r['delta'] - (la - lr)) < 1e-5
        assert abs(r['prob_ref'] - 1 / (1 + np.exp(-lr))) < 1e-5 and abs(r['prob_alt'] - 1 / (1 + np.exp(-la))) < 1e-5
    assert fx.logit_ref.dtype == np.float32 and fx.pos.dtype == np.int64
    assert len(set(fx.delta.tolist())) > 5  # the variants differ; a constant model would not pass


def test_rows_order_and_split(model, chroms, vcf, fasta):
    fx = quiet(variant_effects, model, vcf, fasta, length=L)
    c1n, c2n = len(chroms['chr1']), len(chroms['chr2'])
    assert list(zip(fx.chrom, fx.pos.tolist())) == [('chr1', 150), ('chr1', 1), ('chr2', c2n)] + [('chr2', 3)] * 4 + \
        [('chr2', 60), ('chr1', c1n - 5), ('chr1', 100)]
    assert fx.alt[3:7] == list('ACGT') and fx.id[0] == 'rs1' and fx.id[1] == '.'
    assert fx.line.tolist() == [4, 5, 6, 7, 7, 7, 7, 10, 11, 12]
    multi = fx.logit_ref[3:7]
    assert np.all(multi == multi[0])  # one reference window for the four ALTs
    same = [i for i in range(3, 7) if fx.alt[i] == fx.ref[i]]
    assert len(same) == 1 and fx.delta[same[0]] == 0
    assert fx.ref[8] == chroms['chr1'][c1n - 6].upper()  # lower-case alleles read as upper case
    assert set(fx[0]) == {*COLUMNS, 'line'}


def test_skipped_alleles_one_warning(vcf):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        vs = read_variants(vcf)
    msgs = [str(x.message) for x in w if issubclass(x.category, DeepMotifWarning)]
    assert len(msgs) == 1 and 'skipped 4 ALT allele(s)' in msgs[0] and str(vcf) in msgs[0]  # AT>A, <DEL>, ACT, *
    assert len(vs) == 10


def test_chromosome_ends_padded_with_n(chroms, fasta):
    c2n = len(chroms['chr2'])
    vs = [Variant('chr1', 1, '.', chroms['chr1'][0].upper(), 'G'), Variant('chr2', c2n, '.', chroms['chr2'][-1], 'T')]
    with Genome(fasta) as g: w = variant_windows(vs, g, L)
    refs = decode(w.X_ref)
    assert refs[0] == 'N' * 10 + chroms['chr1'][:11].upper()
    assert refs[1] == chroms['chr2'][-11:] + 'N' * 10
    assert decode(w.X_alt)[1] == chroms['chr2'][-11:-1] + 'T' + 'N' * 10
    assert w.X_ref[0, :, :10].sum() == 0  # N is a zero column


@pytest.mark.parametrize('batch_size', [1, 3, 1000])
def test_batch_size_invariance(model, vcf, fasta, batch_size):
    ref = quiet(variant_effects, model, vcf, fasta, length=L, batch_size=7)
    got = quiet(variant_effects, model, vcf, fasta, length=L, batch_size=batch_size)
    np.testing.assert_allclose(got.logit_alt, ref.logit_alt, atol=1e-5)
    np.testing.assert_allclose(got.logit_ref, ref.logit_ref, atol=1e-5)


def test_model_length_default(model, chroms, vcf, fasta, tmp_path):
    save_model(model, tmp_path / 'm', seq_length=15)
    from deepmotif.models import load_model
    m = load_model(tmp_path / 'm')
    fx = quiet(variant_effects, m, vcf, fasta)
    (lr, la), ref, _ = brute(model, chroms, 'chr1', 150, fx.alt[0], length=15)
    assert abs(fx.logit_ref[0] - lr) < 1e-5 and abs(fx.logit_alt[0] - la) < 1e-5
    with pytest.raises(DeepMotifError, match='seq_length'): quiet(variant_effects, model, vcf, fasta)


GOOD = 'chr1\t150\t.\t{r150}\tA\t.\t.\t.\n'
BAD = [  # (VCF body after HEAD, or whole text when it starts with '!', message fragments)
    ('chr1\t150\t.\t{wrong}\tA\n', ['line 5', 'REF {wrong} at chr1:150', 'has {r150}', 'wrong genome build?']),
    ('chrZ\t5\t.\tA\tC\n', ['line 5', "contig 'chrZ'", 'chr1, chr2']),
    ('chr2\t131\t.\tA\tC\n', ['line 5', 'chr2:131 is past the end']),
    ('chr1\t5\t.\tA\n', ['line 5', '4 tab-separated column(s)', 'expected at least 5']),
    ('chr1 5 . A C\n', ['line 5', '1 tab-separated column(s)']),
    ('chr1\tx5\t.\tA\tC\n', ['line 5', "POS 'x5' is not an integer"]),
    ('chr1\t0\t.\tA\tC\n', ['line 5', 'POS 0 < 1']),
    ('chr1\t-3\t.\tA\tC\n', ['line 5', 'POS -3 < 1']),
    ('chr1\t5\t.\tN\tC\n', ['line 5', "REF 'N' is not A, C, G or T"]),
    ('chr1\t5\t.\tA\tR\n', ['line 5', "ALT 'R' is not A, C, G or T"]),
    ('chr1\t5\t.\t\tC\n', ['line 5', 'empty REF']),
    ('!##fileformat=VCFv4.2\nchr1\t5\t.\tA\tC\n', ['line 2', 'before the #CHROM header']),
    ('!##fileformat=VCFv4.2\n', ['no #CHROM header line']),
    ('!#CHROM\tSTART\tEND\n', ['line 1', "header '#CHROM START END'"]),
]


@pytest.mark.parametrize('body,fragments', BAD, ids=[f'bad{i}' for i in range(len(BAD))])
def test_bad_vcf(model, chroms, fasta, tmp_path, body, fragments):
    r150 = chroms['chr1'][149].upper()
    fill = dict(r150=r150, wrong=other(r150))
    text = body[1:] if body.startswith('!') else HEAD + GOOD + body
    p = tmp_path / 'bad.vcf'
    p.write_text(text.format(**fill))
    with pytest.raises(DeepMotifError) as e: quiet(variant_effects, model, p, fasta, length=L)
    msg = str(e.value)
    assert str(p) in msg
    for f in fragments: assert f.format(**fill) in msg, (f, msg)


def test_bcf_and_not_found(tmp_path, fasta, model):
    p = tmp_path / 'x.bcf'
    with gzip.open(p, 'wb') as f: f.write(b'BCF\x02\x02rest')
    with pytest.raises(DeepMotifError, match='a BCF file'): read_variants(p)
    with pytest.raises(DeepMotifError, match='no such file'): read_variants(tmp_path / 'none.vcf')


@pytest.mark.parametrize('compress', ['gzip', 'bgzip'])
def test_compressed_equals_plain(model, vcf, fasta, tmp_path, compress):
    z = tmp_path / 'calls.vcf.gz'
    if compress == 'bgzip':
        pysam = pytest.importorskip('pysam')
        pysam.tabix_compress(str(vcf), str(z))
        assert z.read_bytes()[12:14] == b'BC'
    else:
        with gzip.open(z, 'wb') as f: f.write(vcf.read_bytes())
    a, b = quiet(variant_effects, model, vcf, fasta, length=L), quiet(variant_effects, model, z, fasta, length=L)
    assert a.as_dict().keys() == b.as_dict().keys()
    for k in COLUMNS: np.testing.assert_array_equal(np.asarray(getattr(a, k)), np.asarray(getattr(b, k)))
    assert a.line.tolist() == b.line.tolist()


def test_tsv_matches_effects(model, vcf, fasta, tmp_path):
    out = tmp_path / 'out' / 'effects.tsv'
    n = quiet(variants_to_tsv, model, vcf, fasta, out, length=L, chunk_size=3, batch_size=4)
    fx = quiet(variant_effects, model, vcf, fasta, length=L)
    rows = [l.split('\t') for l in out.read_text().splitlines()]
    assert n == len(fx) == len(rows) - 1 and rows[0] == list(COLUMNS)
    for r, e in zip(rows[1:], fx.rows()):
        assert r[:5] == [e['chrom'], str(e['pos']), e['id'], e['ref'], e['alt']]
        for k, v in zip(COLUMNS[5:], r[5:]): assert abs(float(v) - e[k]) < 1e-5 * max(1, abs(e[k]))


def test_tsv_nothing_left_after_error(model, chroms, vcf_text, fasta, tmp_path):
    bad = tmp_path / 'bad.vcf'
    bad.write_text(vcf_text + 'chr1\t150\t.\t' + other(chroms['chr1'][149].upper()) + '\tC\n')
    out = tmp_path / 'effects.tsv'
    with pytest.raises(DeepMotifError, match='line 13'):
        quiet(variants_to_tsv, model, bad, fasta, out, length=L, chunk_size=2)  # earlier chunks were already written
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ['bad.vcf', 'genome.fa', 'genome.fa.fai']  # no temporaries
    out.write_text('old\n')
    with pytest.raises(DeepMotifError): quiet(variants_to_tsv, model, bad, fasta, out, length=L, chunk_size=2)
    assert out.read_text() == 'old\n'


def test_tsv_model_folder_and_empty(model, fasta, tmp_path):
    save_model(model, tmp_path / 'm', seq_length=L)
    empty = tmp_path / 'empty.vcf'
    empty.write_text(HEAD)
    assert variants_to_tsv(tmp_path / 'm', empty, fasta, tmp_path / 'e.tsv') == 0
    assert (tmp_path / 'e.tsv').read_text() == '\t'.join(COLUMNS) + '\n'


def test_variant_saliency_matches_windows(model, chroms, vcf, fasta):
    fx = quiet(variant_effects, model, vcf, fasta, length=L)
    vs = variant_saliency(model, [fx[0], fx[2]], fasta, length=L, kind='grad_x_input', target=1)
    for k, i in enumerate([0, 2]):
        _, ref, alt = brute(model, chroms, fx.chrom[i], int(fx.pos[i]), fx.alt[i])
        X = one_hot([ref, alt])
        S = saliency(model, X, kind='grad_x_input', target=1, device='cpu')
        torch.testing.assert_close(vs.S_ref[k], S[0], atol=1e-6, rtol=0)
        torch.testing.assert_close(vs.S_alt[k], S[1], atol=1e-6, rtol=0)
        assert decode(vs.X_alt[k]) == alt


def test_plot_variant(model, vcf, fasta):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fx = quiet(variant_effects, model, vcf, fasta, length=L)
    axes = plot_variant(model, fx[0], fasta, length=L, flank=5)
    title = axes[0].figure._suptitle.get_text()
    assert f"{fx.chrom[0]}:{fx.pos[0]} {fx.ref[0]}>{fx.alt[0]}" in title and f"{fx.delta[0]:+.3f}" in title
    assert axes[0].get_xlim() == (-0.5, 10.5)
    plt.close('all')
    with pytest.raises(DeepMotifError, match='expected one'): plot_variant(model, [fx[0], fx[1]], fasta, length=L)


def test_crlf_leading_zeros_and_truncated_gzip(vcf, vcf_text, tmp_path):
    p = tmp_path / 'crlf.vcf'
    p.write_bytes(vcf_text.replace('\tPASS', '\t.').replace('\n', '\r\n').replace('chr1\t150\t', 'chr1\t0150\t').encode())
    assert quiet(read_variants, p) == quiet(read_variants, vcf)
    z = tmp_path / 'cut.vcf.gz'
    z.write_bytes(gzip.compress(vcf_text.encode() * 50)[:-30])
    with pytest.raises(DeepMotifError, match=r'cut\.vcf\.gz line \d+: corrupt or truncated gzip'): quiet(read_variants, z)
