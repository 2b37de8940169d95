"""Drawing on Axes the caller made (a Figure without pyplot, as a web server or the dashboard renderer does) imports no
pyplot. (plot_logo is not among them: logomaker imports pyplot when it is imported.)"""
import subprocess, sys, textwrap


def run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, '-c', textwrap.dedent(code)], capture_output=True, text=True, timeout=300)


def test_given_axes_need_no_pyplot():
    r = run('''
        import sys, numpy as np
        from matplotlib.figure import Figure
        from deepmotif.plots import plot_saliency, plot_temporal
        from deepmotif.grammar import plot_spacing
        S = np.random.default_rng(0).random((4, 12))
        fig = Figure()
        plot_saliency(S, seq='ACGTACGTACGT', axes=fig.subplots(2, 1))
        plot_temporal(S[:2], ax=fig.add_subplot())
        rows = [dict(model='m', orientation='+', spacing=g, mean_delta=float(g), sd_delta=0.1, n=10) for g in range(5)]
        plot_spacing(rows, ax=fig.add_subplot())
        print('pyplot' if 'matplotlib.pyplot' in sys.modules else 'no pyplot')
    ''')
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == 'no pyplot'


def test_new_figure_uses_pyplot():  # the check above can fail: without axes the functions do load pyplot
    r = run('''
        import sys, numpy as np
        import matplotlib; matplotlib.use('Agg')
        from deepmotif.plots import plot_saliency
        plot_saliency(np.random.default_rng(0).random((4, 12)))
        print('pyplot' if 'matplotlib.pyplot' in sys.modules else 'no pyplot')
    ''')
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == 'pyplot'
