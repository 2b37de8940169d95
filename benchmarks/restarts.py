"""Does restarting a run stuck at chance make the RNN reliable? Train each (data set, architecture, seed) with the
default preset twice, with restarts (the default, 2) and without (restarts=0), and print test AUROC, the epochs run,
which epochs restarted, and the time each took.

    python benchmarks/restarts.py ../shared/data --sets USF1_K562 --archs rnn --seeds 0 1 2
"""
import argparse, time
import torch
from deepmotif.benchmark import find_datasets, _prepare
from deepmotif.models import build_model
from deepmotif.train import fit, evaluate

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument('data_dir'); ap.add_argument('--sets', nargs='*', default=[], help='substrings of data set names (default: all)')
ap.add_argument('--archs', nargs='+', default=['rnn']); ap.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
ap.add_argument('--max-train', type=int, default=8000); ap.add_argument('--threads', type=int, default=1)
ap.add_argument('--restarts', nargs='+', type=int, default=[2, 0], help='settings of fit(restarts=) to compare')
a = ap.parse_args()
torch.set_num_threads(a.threads)
sets = [d for d in find_datasets(a.data_dir) if not a.sets or any(s in d.name for s in a.sets)]
print(f'{len(sets)} data sets, archs {a.archs}, seeds {a.seeds}, max_train {a.max_train}, {a.threads} thread(s)')
print('dataset\tarch\tseed\trestarts\ttest_auroc\tepochs_run\tbest_epoch\trestart_epochs\tseconds\tvalid_auroc_by_epoch')
for d in sets:
    for seed in a.seeds:
        data = _prepare(d, a.max_train, seed)
        for arch in a.archs:
            for restarts in a.restarts:
                torch.manual_seed(seed)
                m = build_model(arch)
                t0 = time.perf_counter()
                h = fit(m, data[0], data[1], seed=seed, restarts=restarts, verbose=False)
                r = evaluate(m, data[2])
                at = [x['epoch'] for x in h.records if x.get('restart')]
                print(f"{d.name}\t{arch}\t{seed}\t{restarts}\t{r['auroc']:.4f}\t{len(h.records)}\t{h.best_epoch}\t{at or '-'}\t"
                      f"{time.perf_counter() - t0:.0f}\t" + ' '.join(f"{v:.2f}" for v in h['valid_auroc']), flush=True)
