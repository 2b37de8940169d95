"The command line on peaks + a genome: train with chromosome hold-out, predict/explain/evaluate, one-line errors."
import json
import numpy as np
import pytest
from deepmotif.cli import main
from deepmotif.data import motif_by_name, _random_dna, _sample_site


@pytest.fixture(scope='module')
def genome_files(tmp_path_factory):
    "Three 30 kb chromosomes with a CTCF site under each narrowPeak summit."
    d = tmp_path_factory.mktemp('genome')
    rng = np.random.default_rng(1)
    ppm = motif_by_name('CTCF')[1]
    chroms, peaks = {f'chr{k}': list(_random_dna(rng, 30_000)) for k in (1, 2, 3)}, []
    for c, seq in chroms.items():
        for s in range(300, 29_000, 350):
            site = _sample_site(ppm, rng); seq[s:s + len(site)] = list(site)
            peaks.append(f'{c}\t{s - 30}\t{s + 50}\tp_{c}_{s}\t0\t.\t5\t-1\t-1\t{30 + len(site) // 2}\n')
    (d / 'g.fa').write_text(''.join(f'>{c}\n' + ''.join(s).lower() + '\n' for c, s in chroms.items()))   # soft-masked
    (d / 'peaks.narrowPeak').write_text(''.join(peaks))
    return d, len(peaks)


@pytest.mark.slow
def test_train_predict_explain_on_peaks(genome_files, capsys):
    d, n = genome_files
    rc = main(['train', str(d / 'peaks.narrowPeak'), '--genome', str(d / 'g.fa'), '--arch', 'cnn', '--out', str(d / 'm'),
               '--epochs', '3', '--valid-chroms', 'chr2', '--test-chroms', 'chr3', '--quiet'])
    assert rc == 0, capsys.readouterr().err
    m = json.loads((d / 'm' / 'metrics.json').read_text())
    assert m['n_test'] == 2 * (n // 3) and m['n_train'] == 2 * (n // 3)     # one chromosome each, peaks + GC-matched negatives
    assert m['test_auroc'] > 0.7
    assert main(['predict', str(d / 'm'), str(d / 'peaks.narrowPeak'), '--genome', str(d / 'g.fa'), '--out', str(d / 'p.tsv'), '--quiet']) == 0
    rows = [l.split('\t') for l in (d / 'p.tsv').read_text().splitlines()]
    assert rows[0] == ['id', 'probability'] and len(rows) == n + 1 and rows[1][0] == 'p_chr1_300'
    assert main(['explain', str(d / 'm'), str(d / 'peaks.narrowPeak'), '--genome', str(d / 'g.fa'), '--out', str(d / 's.npz'),
                 '--method', 'ism', '--quiet']) == 0
    z = np.load(d / 's.npz')
    assert z['scores'].shape == (n, 4, 101) and str(z['method']) == 'ism'
    capsys.readouterr()
    assert main(['evaluate', str(d / 'm'), str(d / 'peaks.narrowPeak'), '--genome', str(d / 'g.fa'), '--json', '--quiet']) == 0
    assert json.loads(capsys.readouterr().out)['n'] == 2 * n


@pytest.mark.parametrize('bed, args, msg', [
    ('chr1\t10\t5\n', [], 'line 1'),                                   # start > end
    ('chr9\t10\t50\n', [], 'chr9'),                                    # unknown chromosome
    ('chr1\tten\t50\n', [], 'line 1'),                                 # non-integer coordinate
    ('chr1\t10\t50\n', ['--no-genome'], 'needs --genome'),
])
def test_bad_peaks_exit_2_nothing_written(genome_files, tmp_path, capsys, bed, args, msg):
    d, _ = genome_files
    (tmp_path / 'bad.bed').write_text(bed)
    g = [] if args == ['--no-genome'] else ['--genome', str(d / 'g.fa')]
    rc = main(['train', str(tmp_path / 'bad.bed'), *g, '--arch', 'cnn', '--out', str(tmp_path / 'm'), '--epochs', '1', '--quiet'])
    err = capsys.readouterr().err
    assert rc == 2 and msg in err and err.count('\n') == 1 and 'Traceback' not in err, err
    assert not (tmp_path / 'm' / 'config.json').exists()
    rc = main(['predict', str(d / 'm'), str(tmp_path / 'bad.bed'), *g, '--out', str(tmp_path / 'p.tsv'), '--quiet'])
    assert rc == 2 and not (tmp_path / 'p.tsv').exists()


def _seq(d, chrom):
    "The sequence of `chrom` in the test genome, upper case."
    text = (d / 'g.fa').read_text().split('>')[1:]
    return {r.split('\n', 1)[0]: r.split('\n', 1)[1].replace('\n', '').upper() for r in text}[chrom]


def test_variants_command(genome_files, capsys):
    from deepmotif.models import load_model
    from deepmotif.data import one_hot
    import torch
    d, _ = genome_files
    if not (d / 'm').exists(): test_train_predict_explain_on_peaks(genome_files, capsys)
    s = _seq(d, 'chr1')
    alt = {'A': 'G', 'C': 'T', 'G': 'A', 'T': 'C'}
    vcf = '##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n'
    vcf += ''.join(f'chr1\t{p + 1}\tv{p}\t{s[p]}\t{alt[s[p]]}\t.\t.\t.\n' for p in (340, 5000, 29_990))
    (d / 'v.vcf').write_text(vcf)
    assert main(['variants', str(d / 'm'), str(d / 'v.vcf'), '--genome', str(d / 'g.fa'), '--out', str(d / 'e.tsv'), '--quiet']) == 0
    rows = [l.split('\t') for l in (d / 'e.tsv').read_text().splitlines()]
    head, rows = rows[0], rows[1:]
    assert head[:5] == ['chrom', 'pos', 'id', 'ref', 'alt'] and len(rows) == 3
    model = load_model(d / 'm')
    for r, p in zip(rows, (340, 5000, 29_990)):        # brute force: cut both windows, score them
        w = ''.join(s[i] if 0 <= i < len(s) else 'N' for i in range(p - 50, p + 51))
        w_alt = w[:50] + alt[s[p]] + w[51:]
        with torch.no_grad(): lr, la = model(one_hot([w, w_alt]))[:, 0].tolist()
        assert abs(float(r[head.index('delta')]) - (la - lr)) < 1e-4
    (d / 'bad.vcf').write_text(vcf.replace(f'v5000\t{s[5000]}\t{alt[s[5000]]}', f'v5000\t{alt[s[5000]]}\t{s[5000]}'))  # REF != genome
    rc = main(['variants', str(d / 'm'), str(d / 'bad.vcf'), '--genome', str(d / 'g.fa'), '--out', str(d / 'e2.tsv'), '--quiet'])
    err = capsys.readouterr().err
    assert rc == 2 and 'line 4' in err and err.count('\n') == 1 and not (d / 'e2.tsv').exists(), err


def test_scan_command(genome_files, capsys):
    d, _ = genome_files
    if not (d / 'm').exists(): test_train_predict_explain_on_peaks(genome_files, capsys)
    assert main(['scan', str(d / 'm'), '--genome', str(d / 'g.fa'), '--chroms', 'chr2', '--stride', '50', '--out', str(d / 't.bedGraph'), '--quiet']) == 0
    rows = [l.split('\t') for l in (d / 't.bedGraph').read_text().splitlines() if not l.startswith('track')]
    assert len(rows) == (30_000 - 101) // 50 + 1 and {r[0] for r in rows} == {'chr2'}
    assert all(int(b[1]) == int(a[2]) for a, b in zip(rows, rows[1:]))       # adjacent bins of the stride
    rc = main(['scan', str(d / 'm'), '--genome', str(d / 'g.fa'), '--chroms', 'chrX', '--out', str(d / 't2.bedGraph'), '--quiet'])
    err = capsys.readouterr().err
    assert rc == 2 and 'chrX' in err and not (d / 't2.bedGraph').exists()


@pytest.mark.slow
def test_motifs_command_on_peaks(genome_files, capsys):
    "Motifs from the genome windows of the peaks: the planted CTCF comes back, named by JASPAR."
    d, _ = genome_files
    if not (d / 'm').exists(): test_train_predict_explain_on_peaks(genome_files, capsys)
    rc = main(['motifs', str(d / 'm'), str(d / 'peaks.narrowPeak'), '--genome', str(d / 'g.fa'), '--sources', 'saliency',
               '--out', str(d / 'mo'), '--quiet'])
    out = capsys.readouterr()
    assert rc == 0, out.err
    rows = [l.split('\t') for l in (d / 'mo' / 'matches.tsv').read_text().splitlines()]
    assert rows[0][:5] == ['motif', 'source', 'rank', 'jaspar_id', 'tf_name'] and len(rows) > 1
    assert 'CTCF' in {r[4] for r in rows[1:] if r[2] == '1'}, rows
    rc = main(['motifs', str(d / 'm'), str(d / 'peaks.narrowPeak'), '--out', str(d / 'mo2'), '--quiet'])
    assert rc == 2 and 'needs --genome' in capsys.readouterr().err and not (d / 'mo2').exists()
