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
