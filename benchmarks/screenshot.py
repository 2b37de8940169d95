"""Screenshot of the dashboard page that `deepmotif demo --quick` writes, as shown in the README.

Runs the quick demo (unless --demo names a folder that already holds its dashboard.html), opens the page in headless
Debian chromium with JavaScript disabled, and saves the top of it (the first sequence: input, model comparison, and
each model's saliency map and temporal scores) as a palette PNG.

usage: python benchmarks/screenshot.py images/dashboard.png [--demo DIR] [--width 1000] [--height 1500]
"""
import argparse, io, shutil, tempfile
from pathlib import Path
from PIL import Image

CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
                 '--disable-component-update', '--disable-sync', '--no-first-run']


def page_png(page: Path, width: int, height: int) -> bytes:
    "PNG bytes of the top `width` x `height` pixels of `page`, rendered without JavaScript."
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which('chromium'), args=CHROMIUM_ARGS, headless=True)
        try:
            pg = browser.new_context(java_script_enabled=False, viewport={'width': width, 'height': height}).new_page()
            pg.goto(page.resolve().as_uri(), wait_until='load')
            return pg.screenshot(full_page=False)
        finally: browser.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('out'); ap.add_argument('--demo', help='demo folder (run the quick demo there when it has no dashboard.html)')
    ap.add_argument('--width', type=int, default=1000); ap.add_argument('--height', type=int, default=1500)
    a = ap.parse_args()
    demo = Path(a.demo or tempfile.mkdtemp(prefix='deepmotif_demo_'))
    if not (demo / 'dashboard.html').exists():
        from deepmotif.commands import demo_command
        demo_command(str(demo), quick=True, quiet=True)
    img = Image.open(io.BytesIO(page_png(demo / 'dashboard.html', a.width, a.height))).convert('RGB')
    img.quantize(colors=64, method=Image.Quantize.MEDIANCUT).save(a.out, optimize=True)
    print(f'{a.out}: {img.size[0]} x {img.size[1]}, {Path(a.out).stat().st_size // 1024} KB, from {demo / "dashboard.html"}')


if __name__ == '__main__':
    main()
