"""Checks of a built documentation site: resources loaded from the network, broken relative links, and what a
headless Chromium shows of a page opened from file:// (JavaScript off or on). Used by tests/test_docs_site.py and
benchmarks/docs_site.py."""
import importlib.machinery, importlib.util, re, shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

# tags whose src/href the browser fetches by itself (an <a href> is only a hyperlink)
RESOURCE_TAGS = {'script', 'link', 'img', 'iframe', 'source', 'video', 'audio', 'embed', 'track', 'input', 'object'}
NETWORK = re.compile(r'^\s*(https?:|wss?:|ftp:)?//', re.I)
ABSOLUTE = re.compile(r'^\s*[a-z][a-z0-9+.-]*:', re.I)  # any scheme: http:, mailto:, data:, javascript:


class _Refs(HTMLParser):
    "Collect (tag, attribute, value) of every src/href/srcset/data attribute."
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.refs = []

    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if v is None: continue
            if k in ('src', 'href', 'data', 'poster'): self.refs.append((tag, k, v))
            elif k == 'srcset': self.refs += [(tag, k, part.split()[0]) for part in v.split(',') if part.strip()]


def refs(html):
    "Every (tag, attribute, url) in the HTML text."
    p = _Refs()
    p.feed(html)
    p.close()
    return p.refs


def network_refs(html):
    "The URLs of resources the page would load from the network (hyperlinks in prose are allowed)."
    return [v for tag, k, v in refs(html) if tag in RESOURCE_TAGS and NETWORK.match(v)]


def html_pages(site):
    "The site's HTML files, sorted."
    return sorted(Path(site).rglob('*.html'))


def resolve(page, url, site):
    "The file a relative URL of `page` points to (query and anchor dropped), or None for absolute/anchor-only URLs."
    if not url.strip() or ABSOLUTE.match(url) or NETWORK.match(url) or url.startswith('#'): return None
    path = unquote(urlsplit(url).path)
    if not path: return None
    return (Path(site) / path.lstrip('/')) if path.startswith('/') else (page.parent / path)


def broken_links(site):
    "(page, url) for every relative href/src that does not lead to a file of the site (a folder counts as broken)."
    site = Path(site).resolve()
    bad = []
    for page in html_pages(site):
        for tag, k, url in refs(page.read_text(encoding='utf-8', errors='replace')):
            if tag in ('script', 'link', 'img', 'a', 'iframe', 'source', 'area') and k in ('src', 'href', 'srcset'):
                if url.strip() == '' and tag != 'a': bad.append((page.relative_to(site), url)); continue
                target = resolve(page, url, site)
                if target is None: continue
                target = target.resolve()
                if not target.is_file() or site not in target.parents: bad.append((page.relative_to(site), url))
    return bad


def site_size(site):
    "Total bytes of the files under `site`."
    return sum(f.stat().st_size for f in Path(site).rglob('*') if f.is_file())


def chromium():
    "The system Chromium's path, or None."
    return shutil.which('chromium') or shutil.which('chromium-browser')


def _guard(attempted):
    "A route handler that lets file:// and data: through and aborts (recording it) anything else."
    def handle(route):
        url = route.request.url
        if url.startswith(('file://', 'data:', 'about:', 'blob:')): return route.continue_()
        attempted.append(url)
        return route.abort()
    return handle


def browse(files, javascript=False, screenshot_dir=None):
    "Open each file:// page in headless Chromium; {page: (visible text, [network requests attempted], screenshot)}."
    from playwright.sync_api import sync_playwright
    seen = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=['--no-sandbox'])
        try:
            ctx = browser.new_context(java_script_enabled=javascript, viewport={'width': 1280, 'height': 900})
            for f in files:
                f = Path(f).resolve()
                attempted = []
                page = ctx.new_page()
                page.route('**/*', _guard(attempted))
                page.goto(f.as_uri(), wait_until='load')
                shot = None
                if screenshot_dir is not None:
                    shot = Path(screenshot_dir) / (f.stem + ('-js' if javascript else '') + '.png')
                    page.screenshot(path=str(shot), full_page=False)
                seen[f] = (page.inner_text('body'), attempted, shot)
                page.close()
        finally:
            browser.close()
    return seen


def img_sources(html):
    "The src of every <img> in the HTML text."
    return [v for tag, k, v in refs(html) if tag == 'img' and k == 'src']


def load_build():
    "docs/build (a script without suffix) imported as a module."
    path = Path(__file__).resolve().parent / 'build'
    loader = importlib.machinery.SourceFileLoader('docs_build', str(path))
    spec = importlib.util.spec_from_loader('docs_build', loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod
