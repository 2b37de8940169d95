"""Do the motifs a CNN learns on ENCODE ChIP-seq sets carry the TF's name? Saliency seqlets, first-layer filters and the
optimized input, each matched against JASPAR 2024 CORE vertebrates with TOMTOM.

usage: python benchmarks/motifs_real.py DATA_DIR [DATA_DIR ...] [--tfs REST CTCFL ...] [--models DIR] [--save-models DIR]
                                        [--epochs 10] [--max-train N] [--max-explain 2000] [--opt-steps 500] [--out results.tsv]

A DATA_DIR holds DeepBind sets (<TF>_..._AC.seq.gz: training positives; dinucleotide-shuffled negatives are added by
read_sequences) and/or folders <TF>_.../ with train.fa (FASTA, '>1'/'>0' headers). The TF is the name's first field.
With --models DIR, a saved model DIR/<set name> (deepmotif save_model format) is used instead of training one.
For each set and source, the table lists the top three JASPAR matches of the source's main motif (its first), and the
summary says whether the best saliency-seqlet match is the TF itself or a paralog (the FAMILY table below).
"""
import argparse, re, sys, time
from pathlib import Path
import numpy as np
import torch
from deepmotif.data import read_sequences, train_valid_split
from deepmotif.models import build_model, load_model, save_model
from deepmotif.train import fit, evaluate
from deepmotif.motifs import find_motifs, match_motifs, write_motifs, SOURCES

# Names accepted as "the TF or its paralog family" (regular expressions on JASPAR TF names, case-insensitive).
ETS = r'(GABPA|ELK\d|ETV\d|ELF\d|ETS\d|ERG|FLI1|FEV|EHF|ERF|SPDEF|SPI[1BC])'
FAMILY = {
    'REST': r'REST', 'CTCFL': r'CTCFL?', 'CTCF': r'CTCFL?', 'GABPA': ETS, 'ELK1': ETS,
    'USF1': r'(USF\d|MITF|TFE[3BC]|MAX|MYC|MNT|MLX|MLXIPL?|BHLHE4[01]|ARNT.*|SREBF\d|HEY\d|TCFL5|NPAS\d|CLOCK)',
    'USF2': r'(USF\d|MITF|TFE[3BC]|MAX|MYC|MNT|MLX|MLXIPL?|BHLHE4[01]|ARNT.*|SREBF\d|HEY\d|TCFL5|NPAS\d|CLOCK)',
    'YY1': r'(YY\d|ZFP42)', 'FOXA1': r'FOX[A-S]\d*', 'MYC': r'(MYC|MAX|MNT|USF\d|TFE[3BC]|MITF|BHLHE4[01])',
    'SP1': r'(SP\d|KLF\d+)', 'ZBTB7A': r'ZBTB7[ABC]', 'ARID3A': r'ARID3[ABC]',
}
TARGETS = ('REST', 'CTCFL', 'GABPA', 'ELK1', 'USF1', 'YY1', 'FOXA1')


def find_sets(roots, tfs):
    "name -> (TF, training file, test file or None), from DeepBind *_AC.seq.gz files and train.fa folders."
    sets = {}
    for root in map(Path, roots):
        if not root.is_dir(): sys.exit(f'{root}: not a folder')
        for ac in sorted(root.glob('*_AC.seq.gz')):
            b = ac.with_name(ac.name.replace('_AC.seq.gz', '_B.seq.gz'))
            sets[ac.name[:-len('_AC.seq.gz')]] = (ac.name.split('_')[0], ac, b if b.exists() else None)
        for d in sorted(p for p in root.iterdir() if (p / 'train.fa').exists()):
            sets[d.name] = (d.name.split('_')[0], d / 'train.fa', d / 'test.fa' if (d / 'test.fa').exists() else None)
    sets = {k: v for k, v in sets.items() if not tfs or v[0] in tfs}
    missing = set(tfs or []) - {v[0] for v in sets.values()}
    if missing: sys.exit(f'no data for {sorted(missing)} in {roots}')
    return sets


def is_family(tf, name):
    "Whether a JASPAR TF name (heterodimers 'A::B' count if either part does) is the TF or its paralog family."
    pat = FAMILY.get(tf, re.escape(tf))
    return any(re.fullmatch(pat, part, flags=re.I) for part in name.upper().split('::'))


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('data_dirs', nargs='+'); ap.add_argument('--tfs', nargs='*', default=None)
    ap.add_argument('--models', help='folder of saved models, one per set name'); ap.add_argument('--save-models')
    ap.add_argument('--epochs', type=int, default=10); ap.add_argument('--max-train', type=int, default=0, help='subsample the training set (0: all)')
    ap.add_argument('--max-explain', type=int, default=2000, help='positives explained for the seqlets, sequences for the filters')
    ap.add_argument('--opt-steps', type=int, default=500); ap.add_argument('--sources', nargs='*', default=list(SOURCES))
    ap.add_argument('--seed', type=int, default=0); ap.add_argument('--out'); ap.add_argument('--meme-dir', help='write <set>.meme here')
    a = ap.parse_args()
    print(f'torch {torch.__version__}, {torch.get_num_threads()} threads, device {"cuda" if torch.cuda.is_available() else "cpu"}', flush=True)
    rows, verdicts = [], {}
    for name, (tf, train_file, test_file) in find_sets(a.data_dirs, a.tfs).items():
        t0 = time.perf_counter()
        data = read_sequences(train_file, seed=a.seed)
        rng = np.random.default_rng(a.seed)
        if a.max_train and len(data) > a.max_train: data = data.subset(rng.choice(len(data), a.max_train, replace=False))
        if a.models and (Path(a.models) / name / 'config.json').exists():
            model, how = load_model(Path(a.models) / name), 'loaded'
        else:
            tr, va = train_valid_split(data, 0.1, seed=a.seed)
            torch.manual_seed(a.seed)
            model = build_model('cnn')
            h = fit(model, tr, va, epochs=a.epochs, seed=a.seed, verbose=False)
            model.seq_length, how = data.length, f'trained {len(h.records)} epochs, valid AUROC {h.best_auroc:.3f}'
            if a.save_models: save_model(model, Path(a.save_models) / name, seq_length=data.length)
        auroc = evaluate(model, read_sequences(test_file, seed=a.seed + 2))['auroc'] if test_file else float('nan')
        ex = data.subset(np.sort(rng.choice(len(data), min(len(data), 2 * a.max_explain), replace=False)))
        print(f'\n{name} ({tf}): {len(data)} sequences, {how}, test AUROC {auroc:.3f} ({time.perf_counter() - t0:.0f} s)', flush=True)
        motifs = {}
        for src in a.sources:
            t1 = time.perf_counter()
            ms = find_motifs(model, ex, source=src, max_motifs=3, steps=a.opt_steps, seed=a.seed)
            if not ms: print(f'  {src:9s} no motif'); continue
            motifs[src] = ms
            top = match_motifs(ms[:1], top=3)
            m = ms[0]
            print(f'  {src:9s} {m.name} (w {m.ppm.shape[1]}, {m.n_seqlets} sites, {time.perf_counter() - t1:.0f} s): '
                  + '; '.join(f"{r['tf_name']} {r['jaspar_id']} q={r['q_value']:.1e}" for r in top), flush=True)
            for r in top: rows.append((name, tf, src, m.name, m.n_seqlets, r['rank'], r['jaspar_id'], r['tf_name'], r['p_value'], r['q_value'], is_family(tf, r['tf_name'])))
            if src == 'saliency': verdicts[name] = (tf, top[0]['tf_name'], top[0]['q_value'], is_family(tf, top[0]['tf_name']))
        if a.meme_dir: write_motifs(Path(a.meme_dir) / f'{name}.meme', [m for ms in motifs.values() for m in ms])
    print('\n| set | TF | best saliency match | q | TF or paralog |\n|---|---|---|---|---|')
    for name, (tf, hit, q, ok) in verdicts.items(): print(f'| {name} | {tf} | {hit} | {q:.1e} | {"yes" if ok else "no"} |')
    judged = {n: v for n, v in verdicts.items() if v[0] in TARGETS}
    if judged: print(f'\ntarget TFs whose best saliency match is the TF or a paralog: {sum(v[3] for v in judged.values())}/{len(judged)}')
    if a.out:
        Path(a.out).write_text('set\ttf\tsource\tmotif\tn_seqlets\trank\tjaspar_id\ttf_name\tp_value\tq_value\tfamily\n'
                               + ''.join('\t'.join(f'{v:.3g}' if isinstance(v, float) else str(v) for v in r) + '\n' for r in rows))
