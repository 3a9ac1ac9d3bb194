"""The pure-Python docs build (`make docs`, tools/build_docs.py) writes a complete site.

One build runs per test session. The checks read the source notebooks in nbs/ for what each
page must show, and the built pages in _docs/ and processed notebooks in _proc/ for what it does.
"""
import ast
import hashlib
import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest
import yaml

from conftest import NBS, ROOT, notebooks

DOCS = ROOT / "_docs"
PROC = ROOT / "_proc"
IMAGE_MIMETYPES = ("image/png", "image/jpeg", "image/svg+xml")
DIRECTIVE_RE = re.compile(r"^#\|\s*([\w-]+):?\s*(.*?)\s*$")
# Directives after which nbdev removes a cell from the docs (nbdev.processors hide_, rm_export).
REMOVED_DIRECTIVES = {"hide", "export", "exporti", "default_exp"}


def git(*args) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)


def tracked_digests() -> dict:
    "Return sha256 of every tracked file in the work tree, or {} outside a git checkout."
    res = git("ls-files", "-z")
    if res.returncode != 0:
        return {}
    paths = [ROOT / p for p in res.stdout.split("\0") if p]
    return {str(p.relative_to(ROOT)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in paths if p.is_file()}


def snapshot() -> SimpleNamespace:
    "Record README.md, the tracked files and `git status`, to compare before and after a build."
    readme = ROOT / "README.md"
    return SimpleNamespace(readme=readme.read_bytes() if readme.exists() else None,
                           tracked=tracked_digests(),
                           status=git("status", "--porcelain", "--untracked-files=no").stdout)


@pytest.fixture(scope="session")
def build():
    "Run tools/build_docs.py once, with snapshots of the work tree before and after."
    before = snapshot()
    res = subprocess.run([sys.executable, "tools/build_docs.py"], cwd=ROOT, capture_output=True,
                         text=True, timeout=1800)
    assert res.returncode == 0, (
        f"tools/build_docs.py failed:\n{res.stdout[-4000:]}\n{res.stderr[-4000:]}")
    return SimpleNamespace(result=res, before=before, after=snapshot())


# ----------------------------------------------------------------------------- helpers

class PageParser(HTMLParser):
    "Collect a page's sidebar links, heading texts, title, images and visible text."

    def __init__(self):
        super().__init__()
        self.sidebar_links, self.headings, self.images, self.text = [], [], [], []
        self.output_images = []  # <img> inside nbconvert's `output_area` divs: cell outputs
        self.prose = []  # text outside <pre> and <code>, where no markdown syntax may remain
        self.scripts, self.stylesheets, self.title = 0, [], None
        self._code_depth = 0
        self._divs = []  # for each open <div>: whether it is inside a cell output
        self._in_nav = 0
        self._heading = None
        self._in_title = False
        self._anchor_depth = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if tag == "nav" and "sidebar" in classes:
            self._in_nav += 1
        elif tag == "nav" and self._in_nav:
            self._in_nav += 1
        if tag == "a" and self._in_nav and attrs.get("href"):
            self.sidebar_links.append(attrs["href"])
        if tag == "a" and "anchor-link" in classes:
            self._anchor_depth += 1
        if re.fullmatch(r"h[1-6]", tag):
            self._heading = []
            self._in_title = "title" in classes
        if tag == "div":
            self._divs.append("output_area" in classes or bool(self._divs and self._divs[-1]))
        if tag == "img":
            self.images.append(attrs.get("src") or "")
            if self._divs and self._divs[-1]:
                self.output_images.append(attrs.get("src") or "")
        if tag == "script":
            self.scripts += 1
        if tag in ("pre", "code"):
            self._code_depth += 1
        if tag == "link" and "stylesheet" in (attrs.get("rel") or ""):
            self.stylesheets.append(attrs.get("href") or "")

    def handle_endtag(self, tag):
        if tag == "nav" and self._in_nav:
            self._in_nav -= 1
        if tag == "div" and self._divs:
            self._divs.pop()
        if tag in ("pre", "code") and self._code_depth:
            self._code_depth -= 1
        if tag == "a" and self._anchor_depth:
            self._anchor_depth -= 1
        if re.fullmatch(r"h[1-6]", tag) and self._heading is not None:
            text = "".join(self._heading).strip()
            self.headings.append(text)
            if self._in_title:
                self.title = text
            self._heading, self._in_title = None, False

    def handle_data(self, data):
        self.text.append(data)
        if not self._code_depth:
            self.prose.append(data)
        if self._heading is not None and not self._anchor_depth:
            self._heading.append(data)


def parse_page(name: str) -> PageParser:
    parser = PageParser()
    parser.feed((DOCS / name).read_text(encoding="utf-8"))
    return parser


def page_name(nb) -> str:
    return nb.stem + ".html"


def read_nb(path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def cell_source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def directives(cell) -> dict:
    "Return the leading `#| name: value` lines of a code cell as {name: value}."
    found = {}
    for line in cell_source(cell).splitlines():
        m = DIRECTIVE_RE.match(line)
        if not m:
            break
        found[m.group(1)] = m.group(2)
    return found


def shown_in_docs(cell) -> bool:
    "Whether nbdev and Quarto's cell options keep this code cell's outputs on the page."
    d = directives(cell)
    if d.keys() & REMOVED_DIRECTIVES:
        return False
    return d.get("include") != "false" and d.get("output") != "false"


def image_outputs(nb_json) -> int:
    "Count the image outputs of the cells that the docs show."
    count = 0
    for cell in nb_json["cells"]:
        if cell["cell_type"] != "code" or not shown_in_docs(cell):
            continue
        for out in cell.get("outputs", []):
            count += any(m in out.get("data", {}) for m in IMAGE_MIMETYPES)
    return count


def exported_names(nb_json) -> list:
    "Return the public functions and classes of `#| export(s)` cells, which nbdev documents."
    names = []
    for cell in nb_json["cells"]:
        if cell["cell_type"] != "code":
            continue
        d = directives(cell)
        if not d.keys() & {"export", "exports"} or "hide" in d or d.get("include") == "false":
            continue
        tree = ast.parse(re.sub(r"^\s*[%!].*$", "", cell_source(cell), flags=re.MULTILINE))
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                if not node.name.startswith("_") or node.name.startswith("__"):
                    names.append(node.name)
    return names


def title_and_description(nb_json) -> tuple:
    "Return (title, description) from the first markdown cell's `# Title` and `> summary`."
    for cell in nb_json["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        src = cell_source(cell)
        title = re.search(r"^#\s+(.+?)\s*$", src, re.MULTILINE)
        desc = re.search(r"^>\s*(.+?)\s*$", src, re.MULTILINE)
        return (title.group(1) if title else None, desc.group(1) if desc else None)
    return None, None


def squash(text: str) -> str:
    return " ".join(text.split())


NOTEBOOKS = notebooks()
NB_IDS = [p.name for p in NOTEBOOKS]


# ----------------------------------------------------------------------------- tests

def test_build_summary_line(build):
    last = build.result.stdout.strip().splitlines()[-1]
    assert last.startswith(f"docs: wrote {len(NOTEBOOKS)} pages to _docs/"), last


def test_index_page_exists(build):
    assert (DOCS / "index.html").is_file(), "_docs/index.html is missing"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=NB_IDS)
def test_page_exists(build, nb):
    assert (DOCS / page_name(nb)).is_file(), f"no page _docs/{page_name(nb)} for {nb.name}"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=NB_IDS)
def test_sidebar_links_every_page(build, nb):
    links = set(parse_page(page_name(nb)).sidebar_links)
    missing = sorted({page_name(p) for p in NOTEBOOKS} - links)
    assert not missing, f"sidebar of {page_name(nb)} lacks links to {missing}"


def test_sidebar_follows_sidebar_yml(build):
    entries = yaml.safe_load((NBS / "sidebar.yml").read_text())["website"]["sidebar"]["contents"]
    expected = [e.rsplit(".", 1)[0] + ".html" for e in entries if isinstance(e, str)]
    assert parse_page("index.html").sidebar_links == expected


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=NB_IDS)
def test_page_title_and_description(build, nb):
    title, description = title_and_description(read_nb(nb))
    page = parse_page(page_name(nb))
    assert page.title == title, f"{page_name(nb)}: title {page.title!r}, notebook has {title!r}"
    if description:
        plain = squash(re.sub(r"[`*]", "", description))
        assert plain in squash("".join(page.text)), f"{page_name(nb)} lacks the description"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=NB_IDS)
def test_page_has_no_traceback(build, nb):
    html = (DOCS / page_name(nb)).read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" not in html, f"{page_name(nb)} shows a traceback"
    assert "output_error" not in html, f"{page_name(nb)} shows an error output"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=NB_IDS)
def test_processed_notebook_has_no_error_output(build, nb):
    errors = [i for i, cell in enumerate(read_nb(PROC / nb.name)["cells"])
              for out in cell.get("outputs", []) if out.get("output_type") == "error"]
    assert not errors, f"_proc/{nb.name} has error outputs in cells {errors}"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=NB_IDS)
def test_page_shows_every_figure(build, nb):
    expected = image_outputs(read_nb(nb))
    found = len(parse_page(page_name(nb)).output_images)
    assert found == expected, f"{page_name(nb)} has {found} figures, {nb.name} has {expected}"


def processed_frontmatter(nb) -> dict:
    "Return the YAML of the frontmatter raw cell that nbdev wrote into _proc/NAME.ipynb."
    for cell in read_nb(PROC / nb.name)["cells"]:
        text = cell_source(cell).strip()
        if cell["cell_type"] == "raw" and text.startswith("---"):
            return yaml.safe_load(text.strip("-")) or {}
    return {}


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=NB_IDS)
def test_page_has_show_doc_headings(build, nb):
    skip = str(processed_frontmatter(nb).get("skip_showdoc", False)).lower() == "true"
    names = [] if skip else exported_names(read_nb(nb))
    page = parse_page(page_name(nb))
    # fastcore's @patch methods are documented under their class, e.g. "StudyGrid.to_dict".
    missing = [n for n in names if not any(h == n or h.endswith("." + n) for h in page.headings)]
    assert not missing, f"{page_name(nb)} has no show_doc heading for {missing}"
    prose = "".join(page.prose)
    assert "```" not in prose, f"{page_name(nb)} contains unrendered markdown (a ``` fence)"
    assert "{target=" not in prose, f"{page_name(nb)} contains an unrendered Pandoc link attribute"


def test_core_page_documents_seed_everything(build):
    core = [nb for nb in NOTEBOOKS if nb.name == "00_core.ipynb"]
    if not core:
        pytest.skip("nbs/00_core.ipynb does not exist")
    assert "seed_everything" in parse_page(page_name(core[0])).headings


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=NB_IDS)
def test_hidden_cells_not_shown(build, nb):
    text = squash("".join(parse_page(page_name(nb)).text))
    for cell in read_nb(nb)["cells"]:
        d = directives(cell)
        if cell["cell_type"] != "code" or not ("hide" in d or d.get("include") == "false"):
            continue
        code = squash("\n".join(line for line in cell_source(cell).splitlines()
                                if not line.startswith("#|")))
        assert not code or code not in text, f"{page_name(nb)} shows a hidden cell: {code[:80]!r}"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=NB_IDS)
def test_page_loads_only_local_files(build, nb):
    page = parse_page(page_name(nb))
    assert page.scripts == 0, f"{page_name(nb)} has <script> elements"
    remote = [s for s in page.images + page.stylesheets if re.match(r"^(https?:)?//", s)]
    assert not remote, f"{page_name(nb)} loads remote files: {remote}"
    for css in page.stylesheets:
        assert (DOCS / css).is_file(), f"{page_name(nb)} links missing stylesheet {css}"


def test_project_css_copied(build):
    css = yaml.safe_load((ROOT / "_quarto.yml").read_text())["format"]["html"]["css"]
    for name in [css] if isinstance(css, str) else css:
        assert (DOCS / name).read_bytes() == (NBS / name).read_bytes(), f"_docs/{name} differs"
        assert name in parse_page("index.html").stylesheets


def test_readme_in_sync_with_index(build):
    assert build.after.readme is not None, "the build wrote no README.md"
    assert build.before.readme == build.after.readme, (
        "README.md was out of sync with nbs/index.ipynb, so the docs build rewrote it. "
        "Review `git diff README.md` and commit it")


def test_build_leaves_tracked_files_unchanged(build):
    if not build.before.tracked:
        pytest.skip("not a git checkout")
    changed = sorted(k for k in build.before.tracked.keys() | build.after.tracked.keys()
                     if build.before.tracked.get(k) != build.after.tracked.get(k))
    assert not changed, (f"the docs build changed tracked files {changed}. It regenerates "
                         "nbs/nbdev.yml, nbs/sidebar.yml, holo_nb/_modidx.py and README.md, "
                         "so commit them as the build wrote them")
    assert build.before.status == build.after.status, "the build changed `git status`"
