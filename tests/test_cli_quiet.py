"Every subcommand shows tqdm progress on stderr, and none at all with --quiet: the table of subcommands x --quiet."
import re
import numpy as np
import pytest
import torch
from conftest import write_deepbind, write_fasta
from deepmotif.cli import main
from deepmotif.data import synthetic_dataset
from deepmotif.models import build_model, save_model

BAR = re.compile(r'\[\d\d:\d\d')  # tqdm's elapsed-time field, present in every bar it draws
L = 40


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    "A small model folder, labelled sequences, a genome with peaks and SNVs, and a benchmark folder."
    d = tmp_path_factory.mktemp('quiet')
    torch.manual_seed(0)
    save_model(build_model('cnn', n_filters=4), d / 'm', seq_length=L)
    data = synthetic_dataset('single', n=60, length=L, seed=0)
    write_fasta(d / 'data.fa', data.seqs, data.labels)
    rng = np.random.default_rng(0)
    chrom = ''.join(rng.choice(list('ACGT'), 400))
    (d / 'g.fa').write_text(f'>chr1\n{chrom}\n')
    (d / 'peaks.bed').write_text('chr1\t100\t120\nchr1\t200\t230\n')
    alt = {'A': 'C', 'C': 'G', 'G': 'T', 'T': 'A'}
    (d / 'v.vcf').write_text('##fileformat=VCFv4.2\n##contig=<ID=chr1>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n'
                             + ''.join(f'chr1\t{p}\tv{p}\t{chrom[p - 1]}\t{alt[chrom[p - 1]]}\t.\t.\t.\n' for p in (150, 250)))
    pos = synthetic_dataset('single', n=120, seed=11)
    (d / "bench").mkdir()
    write_deepbind(d / "bench" / "CTCF_K562_CTCF_Lab_AC.seq.gz", [s for s, l in zip(pos.seqs, pos.labels) if l][:40], [1] * 40)
    test = synthetic_dataset('single', n=40, seed=12)
    write_deepbind(d / 'bench' / 'CTCF_K562_CTCF_Lab_B.seq.gz', test.seqs, test.labels)
    return d


COMMANDS = {  # subcommand: its arguments (D is the fixture's folder)
    'train': 'train D/data.fa --arch cnn --out D/t_{q} --epochs 1',
    'evaluate': 'evaluate D/m D/data.fa',
    'predict': 'predict D/m D/data.fa --out D/p_{q}.tsv',
    'explain': 'explain D/m D/data.fa --out D/s_{q}.npz',
    'optimize': 'optimize D/m --out D/o_{q} --steps 20 --starts 2',
    'motifs': 'motifs D/m D/data.fa --out D/mo_{q} --sources filters grad_x_input',
    'variants': 'variants D/m D/v.vcf --genome D/g.fa --out D/e_{q}.tsv',
    'scan': 'scan D/m --genome D/g.fa --out D/t_{q}.bedGraph --stride 20',
    'grammar': 'grammar D/m --motifs TGACTCA GATAA --spacings 0-2 --n-background 4 --out D/gr_{q}',
    'dashboard': 'dashboard D/m D/data.fa --out D/page_{q}.html --n-shown 2 --opt-steps 5 --no-motifs',
    'benchmark': 'benchmark D/bench --out D/b_{q} --archs cnn --epochs 1',
    'demo': 'demo --quick --out D/demo_{q}',
}
NO_PROGRESS = {'pretrained': 'pretrained --tf REST'}  # reads the shipped cards and prints them: nothing to wait for


def test_every_subcommand_is_in_the_table():
    from deepmotif.cli import _parser
    sub = next(a for a in _parser()._actions if a.__class__.__name__ == '_SubParsersAction')
    assert sorted(sub.choices) == sorted({**COMMANDS, **NO_PROGRESS})


@pytest.mark.parametrize('quiet', [False, True], ids=['progress', 'quiet'])
@pytest.mark.parametrize('command', [pytest.param(c, marks=pytest.mark.slow) if c in ('demo', 'benchmark', 'train') else c
                                     for c in COMMANDS])
def test_progress_unless_quiet(files, capsys, command, quiet):
    argv = COMMANDS[command].replace('D/', f'{files}/').format(q=int(quiet)).split() + ['--quiet'] * quiet
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 0, err
    if quiet: assert not BAR.search(err), f'{command} --quiet drew a progress bar:\n{err[-500:]}'
    else: assert BAR.search(err), f'{command} showed no progress:\n{err[-500:]}'


@pytest.mark.parametrize('command', NO_PROGRESS)
def test_commands_without_waits_write_only_their_answer(capsys, command):
    assert main(NO_PROGRESS[command].split()) == 0
    out, err = capsys.readouterr()
    assert err == '' and 'pretrained:REST_GM12878_cnn' in out, (out, err)
