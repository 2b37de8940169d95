"""Build the models shipped with the package (deepmotif/pretrained) from `deepmotif benchmark` runs, and print their cards.

usage: python benchmarks/build_pretrained.py DATA_DIR RUN_DIR [RUN_DIR ...] [--out deepmotif/pretrained] [--sample 200]
                                             [--max-explain 2000]

A RUN_DIR is the --out folder of `deepmotif benchmark DATA_DIR --out RUN_DIR --archs A --seed S --max-train N`: its
results.tsv, settings.json and models/<data set>_<arch>/. For every model there the script
- stores the weights as float16 safetensors in OUT/<TF>_<cell>_<arch>/ (loading casts them back to float32), with the
  factor as the model's task name;
- re-reads the data set exactly as the run did (`benchmark._prepare`: same subsample, split and test file) and measures
  test AUROC and AUPRC again after the float16 round trip, on the full test file;
- writes, once per data set, OUT/samples/<data set>.fa: `--sample` test sequences (half bound, half not, chosen with the
  run's seed), and measures each model's AUROC on them (what the package's tests re-evaluate without the data);
- finds the model's top saliency motif (|gradient| x input seqlets of up to 2 x --max-explain training sequences,
  clustered) and names it with TOMTOM against JASPAR 2024 CORE vertebrates;
- writes OUT/cards.json (read by `deepmotif.pretrained()`) and prints the table of cards.
"""
import argparse, json, os, sys, time
from pathlib import Path
import numpy as np
import torch
sys.path.insert(0, str(Path(__file__).parent))
from motifs_real import is_family
from deepmotif.benchmark import find_datasets, read_results, _prepare
from deepmotif.core import atomic_write
from deepmotif.data import read_sequences
from deepmotif.models import load_model, save_model, n_params
from deepmotif.motifs import find_motifs, match_motifs, jaspar
from deepmotif.zoo import CARDS_FORMAT, Cards, split_dataset_name
from deepmotif.train import evaluate


def sample_indices(labels: np.ndarray, n: int, seed: int) -> np.ndarray:
    "n // 2 bound and n - n // 2 unbound test sequences, drawn with `seed`, in file order."
    rng = np.random.default_rng(seed)
    pos, neg = np.flatnonzero(labels == 1), np.flatnonzero(labels == 0)
    return np.sort(np.concatenate([rng.choice(pos, min(n // 2, len(pos)), replace=False),
                                   rng.choice(neg, min(n - n // 2, len(neg)), replace=False)]))


def pwm_name(mid: str, names: dict) -> str:
    "The TF name of a JASPAR matrix id (any version)."
    if not mid: return ''
    if mid in names: return names[mid]
    from deepmotif.jaspar import jaspar_db
    m = jaspar_db().fetch_motif_by_id(mid)
    return m.name if m is not None else ''


def write_sample(path: Path, te, idx: np.ndarray) -> None:
    "FASTA with 'label=' headers (the ids of the test file kept)."
    text = ''.join(f'>{te.ids[i]} label={int(te.labels[i])}\n{te.seqs[i]}\n' for i in idx)
    atomic_write(path, lambda t: Path(t).write_text(text))


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('data_dir'); ap.add_argument('runs', nargs='+')
    ap.add_argument('--out', default=str(Path(__file__).parents[1] / 'deepmotif' / 'pretrained'))
    ap.add_argument('--sample', type=int, default=200); ap.add_argument('--max-explain', type=int, default=2000)
    a = ap.parse_args()
    print(f'torch {torch.__version__}, {torch.get_num_threads()} threads', flush=True)
    out, sets = Path(a.out), {d.name: d for d in find_datasets(a.data_dir)}
    db = jaspar()                                                # JASPAR 2024 CORE vertebrates: the PWM's name
    names = dict(zip(db[0], db[1]))
    cards, prepared, samples = [], {}, {}
    for run in map(Path, a.runs):
        settings = json.loads((run / 'settings.json').read_text())
        seed, max_train = settings['seed'], settings['max_train']
        for row in read_results(run / 'results.tsv'):
            t0 = time.perf_counter()
            d, arch = sets[row['dataset']], row['arch']
            tf, cell, antibody, lab = split_dataset_name(d.name)
            name = f'{tf}_{cell}_{arch}'
            if (d.name, seed, max_train) not in prepared: prepared[d.name, seed, max_train] = _prepare(d, max_train, seed)
            tr, va, te, base = prepared[d.name, seed, max_train]
            model = load_model(run / 'models' / f'{d.name}_{arch}')
            model.tasks = [tf]
            save_model(model.half(), out / name, seq_length=te.length, metrics={k: row[k] for k in ('test_auroc', 'test_auprc', 'valid_auroc')})
            model = load_model(out / name)                       # what users get: float16 weights cast back to float32
            full = evaluate(model, te)
            if d.name not in samples:
                idx = sample_indices(te.labels, a.sample, seed)
                write_sample(out / 'samples' / f'{d.name}.fa', te, idx)
                samples[d.name] = read_sequences(out / 'samples' / f'{d.name}.fa')
            smp = evaluate(model, samples[d.name])
            rng = np.random.default_rng(seed)
            ex = tr.subset(np.sort(rng.choice(len(tr), min(len(tr), 2 * a.max_explain), replace=False)))
            ms = find_motifs(model, ex, source='saliency', max_motifs=1, seed=seed)
            top = match_motifs(ms[:1], top=1) if ms else []
            motif = (dict(jaspar_id=top[0]['jaspar_id'], tf_name=top[0]['tf_name'], q_value=top[0]['q_value'], n_seqlets=ms[0].n_seqlets,
                          width=int(ms[0].ppm.shape[1]), consensus=''.join('ACGT'[k] for k in ms[0].ppm.argmax(0)),
                          tf_or_paralog=bool(is_family(tf, top[0]['tf_name']))) if top else None)
            cmd = (f"deepmotif benchmark DATA_DIR --out DIR --archs {arch} --seed {seed}" + (f" --max-train {max_train}" if max_train else '')
                   + (f" --epochs {settings['epochs']}" if settings.get('epochs') else ''))
            cards.append(dict(
                name=name, tf=tf, cell=cell, antibody=antibody, lab=lab, dataset=d.name, arch=arch,
                source=f'ENCODE ChIP-seq ({lab}, antibody {antibody}), {d.train.name} / {d.test.name}',
                command=cmd, seed=seed, max_train=max_train, n_train=row['n_train'], n_valid=row['n_valid'], n_test=len(te),
                epochs_run=row['epochs_run'], best_epoch=row['best_epoch'],
                test_auroc=full['auroc'], test_auprc=full['auprc'],
                test_auroc_float32=row['test_auroc'], test_auprc_float32=row['test_auprc'],
                pwm_id=base['pwm_id'], pwm_name=pwm_name(base['pwm_id'], names), pwm_auroc=base['pwm_auroc'], pwm_auprc=base['pwm_auprc'],
                saliency_motif=motif,
                sample=dict(file=f'samples/{d.name}.fa', n=len(samples[d.name]), n_bound=int(samples[d.name].labels.sum()),
                            auroc=smp['auroc'], auprc=smp['auprc']),
                weights=dict(dtype='float16', params=n_params(model), bytes=(out / name / 'model.safetensors').stat().st_size)))
            m = motif or {}
            print(f"{name}: test AUROC {full['auroc']:.4f} (float32 {row['test_auroc']:.4f}), sample {smp['auroc']:.3f}, "
                  f"PWM {base['pwm_auroc']:.3f}, top saliency motif {m.get('consensus')} = {m.get('tf_name')} q={m.get('q_value', float('nan')):.1e} "
                  f"({time.perf_counter() - t0:.0f} s)", flush=True)
    cards.sort(key=lambda c: (c['dataset'], c['arch']))
    doc = dict(format=CARDS_FORMAT, jaspar='JASPAR2024 CORE vertebrates', torch=torch.__version__, models=cards)
    atomic_write(out / 'cards.json', lambda t: Path(t).write_text(json.dumps(doc, indent=1) + '\n'))
    print()
    print(Cards(cards).table())
    size = sum(f.stat().st_size for f in out.rglob('*') if f.is_file())
    print(f'\n{len(cards)} models, {len(samples)} samples, {size / 1e6:.2f} MB in {out}')
