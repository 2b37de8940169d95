"""The documentation site built by each tool `docs/build` knows: build time, size, pages, network references, broken
links, and what headless Chromium sees from file:// with JavaScript off (all pages) and on (search included).

    python benchmarks/docs_site.py [sphinx] [mkdocs] [--python mkdocs=/path/to/venv/bin/python] [--repeats 2] [-o FILE]

Each tool may live in its own environment (`--python TOOL=PYTHON` builds with that interpreter); the browser checks run
in this one (playwright + the system chromium)."""
import argparse, os, platform, re, shutil, statistics, subprocess, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / 'docs'))
import sitecheck  # noqa: E402


def build_once(python, tool, out):
    "Seconds one `docs/build OUT --tool TOOL` takes (a fresh output folder)."
    t0 = time.perf_counter()
    r = subprocess.run([python, str(ROOT / 'docs' / 'build'), str(out), '--tool', tool], capture_output=True, text=True)
    if r.returncode: raise SystemExit(f'{tool}: docs/build failed ({r.returncode}):\n{r.stderr[-2000:]}')
    return time.perf_counter() - t0


def titles():
    "{page path: notebook title} for the site's pages."
    build = sitecheck.load_build()
    return {page: build.title(build.read_notebook(nb), nb.stem) for nb, page, _ in build.pages()}


def search_works(site, tool):
    "Whether the site's search, with JavaScript on and from file://, lists a result for 'saliency'."
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=sitecheck.chromium(), args=['--no-sandbox'])
        try:
            page = browser.new_page(viewport={'width': 1280, 'height': 900})
            page.route('**/*', lambda route: route.continue_() if route.request.url.startswith('file:') else route.abort())
            try:
                if tool == 'sphinx':
                    page.goto((Path(site) / 'search.html').resolve().as_uri() + '?q=saliency')
                    page.wait_for_selector('#search-results li', timeout=8000)
                else:  # material shows its search box only once its worker runs
                    page.goto((Path(site) / 'index.html').resolve().as_uri())
                    page.fill('input.md-search__input', 'saliency', timeout=8000)
                    page.wait_for_selector('.md-search-result__item', timeout=8000)
                return True
            except Exception:
                return False
        finally:
            browser.close()


PACKAGES = {'sphinx': ('sphinx', 'myst-nb', 'furo', 'docutils'), 'mkdocs': ('mkdocs', 'mkdocs-material', 'mkdocs-jupyter', 'nbconvert')}


def versions(python, tool):
    "The tool's package versions in `python`'s environment, as 'name version' pairs."
    code = f"import importlib.metadata as m; print(', '.join(n + ' ' + m.version(n) for n in {PACKAGES[tool]!r}))"
    r = subprocess.run([python, '-c', code], capture_output=True, text=True)
    return r.stdout.strip() or f'not installed ({r.stderr.strip().splitlines()[-1:]})'


def measure(tool, python, repeats):
    "The figures for one tool."
    work = Path(tempfile.mkdtemp(prefix=f'docs-{tool}-'))
    try:
        secs = [build_once(python, tool, work / 'site') for _ in range(repeats)]
        site = work / 'site'
        pages = sitecheck.html_pages(site)
        net = {p: sitecheck.network_refs(p.read_text(encoding='utf-8')) for p in pages}
        net = {p: v for p, v in net.items() if v}
        broken = sitecheck.broken_links(site)
        styles = [sum(map(len, re.findall(r'<style.*?</style>', p.read_text(encoding='utf-8'), re.S))) for p in pages]
        names = titles()
        expect = {site / f'{k}.html': t for k, t in names.items()}
        off = sitecheck.browse(list(expect), javascript=False)
        on = sitecheck.browse(list(expect), javascript=True)
        readable = sum(1 for f, t in expect.items() if t in off[f.resolve()][0])
        return {'tool': tool, 'versions': versions(python, tool), 'build_s': min(secs), 'size_mb': sitecheck.site_size(site) / 1e6, 'pages': len(pages),
                'net_pages': len(net), 'net_urls': sorted({u for v in net.values() for u in v}),
                'broken': len(broken), 'broken_urls': sorted({repr(u) for _, u in broken}),
                'style_kb': statistics.median(styles) / 1e3, 'readable_js_off': f'{readable}/{len(expect)}',
                'requests_js_off': sum(len(v[1]) for v in off.values()),
                'requests_js_on': sum(len(v[1]) for v in on.values()),
                'search_file': search_works(site, tool)}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def report(rows, argv, load_before):
    "The results as text: a table, the network URLs found, the command and the machine."
    cols = [('tool', 'tool', '{}'), ('build_s', 'build s', '{:.1f}'), ('size_mb', 'size MB', '{:.1f}'),
            ('pages', 'html pages', '{}'), ('net_pages', 'pages w/ network res.', '{}'), ('broken', 'broken links', '{}'),
            ('style_kb', 'inline CSS kB/page', '{:.0f}'),
            ('readable_js_off', 'title shown, JS off', '{}'), ('requests_js_off', 'net requests JS off', '{}'),
            ('requests_js_on', 'net requests JS on', '{}'), ('search_file', 'search from file://', '{}')]
    cells = [[h for _, h, _ in cols]] + [[f.format(r[k]) for k, _, f in cols] for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(cols))]
    lines = ['  '.join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    for r in rows:
        lines.append(f"{r['tool']}: {r['versions']}")
    for r in rows:
        if r['net_urls']: lines.append(f"{r['tool']}: network resources referenced: {', '.join(r['net_urls'])}")
        if r['broken_urls']: lines.append(f"{r['tool']}: broken relative src/href: {', '.join(r['broken_urls'])}")
    ok = [r for r in rows if not r['net_pages'] and not r['broken'] and r['search_file']
          and r['readable_js_off'].split('/')[0] == r['readable_js_off'].split('/')[1]]
    lines.append(f"nbsphinx not measured: it needs pandoc, which is {shutil.which('pandoc') or 'not installed here'}")
    lines.append('meets every offline requirement: ' + (', '.join(r['tool'] for r in sorted(ok, key=lambda r: r['build_s'])) or 'none'))
    load = ' '.join(f'{x:.2f}' for x in os.getloadavg())  # 1, 5 and 15 minutes
    lines += ['', f'command: python benchmarks/docs_site.py {" ".join(argv)}',
              f'machine: {os.cpu_count()} CPUs, {platform.python_implementation()} {platform.python_version()}, '
              f'load average (1/5/15 min) before {load_before}, after {load}; build s is the best of the repeats, site rebuilt from scratch each time']
    return '\n'.join(lines)


def main(argv=None):
    "Measure the tools named on the command line and print (and optionally write) the table."
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('tools', nargs='*', default=['sphinx', 'mkdocs'])
    ap.add_argument('--python', action='append', default=[], metavar='TOOL=PYTHON', help='interpreter that has TOOL')
    ap.add_argument('--repeats', type=int, default=2)
    ap.add_argument('-o', '--out', help='also write the report to this file')
    a = ap.parse_args(argv)
    pythons = dict(s.split('=', 1) for s in a.python)
    load_before = ' '.join(f'{x:.2f}' for x in os.getloadavg())
    rows = [measure(t, pythons.get(t, sys.executable), a.repeats) for t in a.tools]
    text = report(rows, argv, load_before)
    print(text)
    if a.out: Path(a.out).write_text(text + '\n')


if __name__ == '__main__': main()
