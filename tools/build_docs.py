"""Build the documentation site in _docs/ and README.md without Quarto.

`make docs` runs this script; `make docs-quarto` runs `nbdev_docs`, which needs Quarto on PATH.
1. nbdev's own steps of `nbdev_docs` before Quarto (nbdev 2.4.14 `quarto._pre_docs`, minus its
   Quarto install check) write nbs/nbdev.yml, holo_nb/_modidx.py and nbs/sidebar.yml, and
   process nbs/*.ipynb into _proc/: show_doc output added, hidden cells removed, frontmatter
   raw cell from the `# Title` and `> summary` markdown.
2. nbconvert renders each processed notebook to _docs/NAME.html, with a sidebar in the order
   of sidebar.yml, honouring the Quarto cell options nbdev writes (echo, output, include,
   code-fold).
3. nbconvert's MarkdownExporter regenerates README.md from the processed index notebook.
No step opens a network connection, and the pages load only files inside _docs/.
"""
from __future__ import annotations

import html
import os
import re
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

# nbconvert, nbformat and pygments are imported inside the functions that use them, because
# proc_nbs starts its workers with multiprocessing's `spawn`, which re-imports this script in
# each worker. With them at module level, processing three notebooks on a 2-core machine took
# about 17 s instead of 6 s.

ROOT = Path(__file__).resolve().parents[1]

# Quarto cell options are `#| key: value` lines at the top of a code cell.
CELL_OPTION_RE = re.compile(r"^#\|\s*([\w-]+)\s*:\s*(.*?)\s*$")
# Pandoc link attributes, e.g. show_doc's `[source](url){target="_blank" style="float:right"}`.
LINK_ATTRS_RE = re.compile(r"\[([^\]\n]*)\]\(([^()\s]+)\)\{([^}\n]*)\}")
ATTR_RE = re.compile(r'([\w-]+)="([^"]*)"|([\w-]+)=(\S+)|\.([\w-]+)|#([\w-]+)')
# Quarto fenced divs: `::: {.callout-note}` opens one, a bare `:::` closes it.
FENCE_OPEN_RE = re.compile(r"^\s*:::+\s*\{([^}]*)\}\s*$")
FENCE_CLOSE_RE = re.compile(r"^\s*:::+\s*$")
CODE_FENCE_RE = re.compile(r"^\s*(```|~~~)")
# Output types that need JavaScript and a live kernel, so static pages leave them out.
DROPPED_MIMETYPES = ("application/vnd.jupyter.widget-view+json", "application/javascript")
# nbconvert's HTML priority without the two types above: the first one an output has is shown.
HTML_PRIORITY = ["text/html", "text/markdown", "image/svg+xml", "image/png", "image/jpeg",
                 "text/latex", "text/plain"]


class DocsError(Exception):
    "A failure to process or render the docs; the message names the notebook or file."


# --------------------------------------------------------------------------- nbdev processing

def process_notebooks(cfg) -> Path:
    """Run `nbdev_docs`'s steps before Quarto (nbdev 2.4.14 `_pre_docs`) and return `_proc/`.

    `_ensure_quarto` is left out because it downloads and installs Quarto when it is missing."""
    import nbdev.doclinks
    from nbdev.quarto import nbdev_sidebar, refresh_quarto_yml
    from nbdev.serve import proc_nbs

    refresh_quarto_yml()
    nbdev.doclinks._build_modidx()
    nbdev_sidebar.__wrapped__(path=cfg.nbs_path)
    try:
        return proc_nbs(cfg.nbs_path)
    except Exception as exc:
        raise DocsError(describe_processing_failure(cfg, exc)) from exc


def describe_processing_failure(cfg, exc: Exception) -> str:
    """Return a message naming the notebooks `proc_nbs` failed on, found by processing again.

    `proc_nbs` re-raises a worker's error without the notebook's path. The notebooks it did
    process are newer in _proc/ than in nbs/, so only the failed ones run again, one at a time."""
    from nbdev.processors import FilterDefaults
    from nbdev.serve_drv import main as process_one

    cache = cfg.config_path / "_proc"
    failed = []
    for src in notebooks_of(cfg):
        dst = cache / src.name
        if dst.exists() and dst.stat().st_mtime >= src.stat().st_mtime:
            continue
        try:
            process_one((src, dst, FilterDefaults))
        except Exception as nb_exc:
            # proc_nbs skips a notebook older than the _proc/ folder itself, so the stale copy
            # is removed to make the next build process this notebook again.
            dst.unlink(missing_ok=True)
            failed.append(f"{relative(src)}: {one_line(nb_exc)}")
    if not failed:
        return f"nbdev failed to process the notebooks: {one_line(exc)}"
    return "nbdev failed to process " + "; ".join(failed)


def one_line(exc: BaseException) -> str:
    """Summarise `exc` on one line: its first message line and, if chained, the root cause."""
    text = f"{type(exc).__name__}: {first_message_line(exc)}"
    root = exc
    while root.__cause__ is not None:
        root = root.__cause__
    if root is not exc:
        text += f" (caused by {type(root).__name__}: {first_message_line(root)})"
    return text


def first_message_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0].rstrip(" :") if lines else ""


def relative(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def notebooks_of(cfg) -> list[Path]:
    "Return nbs/*.ipynb as nbdev's sidebar and proc_nbs find them (no `_` or `.` prefix)."
    return sorted(p for p in cfg.nbs_path.glob("*.ipynb") if not p.name.startswith(("_", ".")))


# --------------------------------------------------------------------------- project and pages

@dataclass
class Page:
    "One notebook of the site: its processed copy, page names and frontmatter."
    source: Path  # the processed notebook in _proc/
    html_name: str  # NAME.html for nbs/NAME.ipynb
    quarto_name: str  # nbdev's `output-file`, the page Quarto writes (00_core -> core.html)
    title: str
    description: str
    nb: "nbformat.NotebookNode"  # the prepared cells, frontmatter cell removed


def load_project(cache: Path) -> dict:
    "Read `_quarto.yml` from `cache` and merge in its `metadata-files` (nbdev.yml, sidebar.yml)."
    project = yaml.safe_load((cache / "_quarto.yml").read_text()) or {}
    for name in project.get("metadata-files", []):
        path = cache / name
        if not path.exists():
            raise DocsError(f"{relative(path)}, listed in _quarto.yml metadata-files, is missing")
        merge_into(project, yaml.safe_load(path.read_text()) or {})
    return project


def merge_into(base: dict, extra: dict) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge_into(base[key], value)
        else:
            base[key] = value


def load_page(notebook: Path, cache: Path) -> Page:
    """Read the processed copy of nbs/`notebook` from `cache` and prepare it for export."""
    import nbformat

    source = cache / notebook.name
    if not source.exists():
        raise DocsError(f"{relative(source)} is missing, so nbdev did not process "
                        f"{relative(notebook)}")
    try:
        nb = nbformat.read(source, as_version=4)
        fm = split_frontmatter(nb)
        prepare_cells(nb)
    except Exception as exc:
        raise DocsError(f"reading {relative(source)} failed: {one_line(exc)}") from exc
    html_name = notebook.stem + ".html"
    return Page(source, html_name, fm.get("output-file", html_name),
                str(fm.get("title") or notebook.stem), str(fm.get("description") or ""), nb)


def split_frontmatter(nb) -> dict:
    """Remove nbdev's frontmatter raw cell (YAML between `---` lines) from `nb` and return it."""
    for i, cell in enumerate(nb.cells):
        text = cell.source.strip()
        if cell.cell_type == "raw" and text.startswith("---") and text.endswith("---"):
            del nb.cells[i]
            return yaml.safe_load(text.strip("-")) or {}
    return {}


# --------------------------------------------------------------------------- cell preparation

def prepare_cells(nb) -> None:
    """Apply the Quarto cell options and markdown syntax that nbconvert does not know.

    nbdev writes `echo: false` and `output: asis` on show_doc cells and `code-fold` on
    `exports` cells. As in Quarto, `include: false` drops the cell, `echo: false` hides its
    source, `output: false` drops its outputs, and the option lines are not shown."""
    nb.metadata.pop("widgets", None)  # widget state needs JavaScript to display
    # nbconvert picks the highlighter and the README's code-fence language from language_info.
    language = nb.metadata.get("kernelspec", {}).get("language", "python")
    nb.metadata.setdefault("language_info", {"name": language})
    cells = []
    for number, cell in enumerate(nb.cells):
        # nbdev gives the cells it inserts random ids; numbered ids keep the pages reproducible.
        cell.id = f"cell-{number}"
        if cell.cell_type == "markdown":
            cell.source = convert_markdown(cell.source)
        if cell.cell_type != "code" or apply_cell_options(cell):
            cells.append(cell)
    nb.cells = cells


def apply_cell_options(cell) -> bool:
    "Apply a code cell's Quarto options to it; return False when the cell is not shown at all."
    options, cell.source = split_cell_options(cell.source)
    if options.get("include") is False:
        return False
    if options.get("echo") is False or not cell.source.strip():
        cell.metadata["transient"] = {"remove_source": True}
    if options.get("output") is False:
        cell.outputs = []
    fold = options.get("code-fold")
    if fold not in (None, False):
        cell.metadata["code_fold"] = "show" if fold == "show" else "hide"
        cell.metadata["code_summary"] = str(options.get("code-summary", "Code"))
    cell.outputs = [prepare_output(o) for o in cell.outputs if is_static_output(o)]
    return True


def split_cell_options(source: str) -> tuple[dict, str]:
    """Split the leading `#| key: value` lines off `source` and return (options, the code)."""
    lines = source.splitlines()
    options = {}
    n = 0
    while n < len(lines) and (match := CELL_OPTION_RE.match(lines[n])):
        key, value = match.groups()
        try:
            options[key] = yaml.safe_load(value) if value else None
        except yaml.YAMLError:
            options[key] = value
        n += 1
    return options, "\n".join(lines[n:])


def is_static_output(output) -> bool:
    "Whether `output` has a representation that a page without JavaScript can show."
    if output.output_type not in ("display_data", "execute_result"):
        return True
    return any(k not in DROPPED_MIMETYPES for k in output.get("data", {}))


def prepare_output(output):
    data = output.get("data")
    if data is None:
        return output
    for mimetype in DROPPED_MIMETYPES:
        data.pop(mimetype, None)
    if "text/markdown" in data:
        data["text/markdown"] = convert_markdown(data["text/markdown"])
    return output


def convert_markdown(text: str) -> str:
    """Rewrite the Pandoc and Quarto syntax that nbdev emits as CommonMark with inline HTML."""
    return convert_fenced_divs(LINK_ATTRS_RE.sub(link_with_attrs, text))


def link_with_attrs(match: re.Match) -> str:
    "Write a Pandoc `[text](url){attrs}` link as an HTML `<a>` element with those attributes."
    label, url, attrs = match.groups()
    parts = [f'href="{html.escape(url)}"']
    classes = []
    for key, quoted, bare_key, bare, cls, ident in ATTR_RE.findall(attrs):
        if key:
            parts.append(f'{key}="{html.escape(quoted)}"')
        elif bare_key:
            parts.append(f'{bare_key}="{html.escape(bare)}"')
        elif cls:
            classes.append(cls)
        elif ident:
            parts.append(f'id="{html.escape(ident)}"')
    if classes:
        parts.append(f'class="{" ".join(classes)}"')
    return f"<a {' '.join(parts)}>{html.escape(label, quote=False)}</a>"


def convert_fenced_divs(text: str) -> str:
    """Replace Quarto `::: {.cls}` ... `:::` fences by `<div class="cls">` ... `</div>`.

    Blank lines around the tags let CommonMark parse the markdown between them. Fences inside
    code blocks are left alone, and unclosed fences are closed at the end."""
    if ":::" not in text:
        return text
    out, depth, in_code = [], 0, False
    for line in text.splitlines():
        if CODE_FENCE_RE.match(line):
            in_code = not in_code
        opened = None if in_code else FENCE_OPEN_RE.match(line)
        if opened:
            classes = " ".join(c[1:] for c in opened.group(1).split() if c.startswith("."))
            out += ["", f'<div class="{html.escape(classes)}">', ""]
            depth += 1
        elif not in_code and depth and FENCE_CLOSE_RE.match(line):
            out += ["", "</div>", ""]
            depth -= 1
        else:
            out.append(line)
    out += ["", "</div>"] * depth
    return "\n".join(out)


# --------------------------------------------------------------------------- HTML rendering

def pandoc_id(text: str) -> str:
    """Return the identifier Pandoc (and so Quarto) gives a heading with this text.

    nbdev's doc links use these ids, e.g. `core.html#runconfig.from_dict`. Tags and characters
    other than word characters and `_-.` are dropped, whitespace becomes `-`, the text is
    lower-cased, and anything before the first letter is removed."""
    plain = html.unescape(re.sub(r"<[^>]+>", "", text)).strip().lower()
    plain = re.sub(r"[^\w\s.-]", "", plain)
    plain = re.sub(r"\s+", "-", plain)
    plain = re.sub(r"^[^a-z]+", "", plain)
    return plain or "section"


# Overrides of nbconvert's classic/base.html.j2, which its `basic` template extends: a
# <details> element for Quarto's code-fold, and no widget-state <script> at the end.
CELLS_TEMPLATE = r"""{%- extends 'basic/index.html.j2' -%}
{% block input_group -%}
{%- if cell.metadata.code_fold -%}
<details class="code-fold"{{ ' open' if cell.metadata.code_fold == 'show' else '' }}>
<summary>{{ cell.metadata.code_summary | escape_html }}</summary>
{{ super() }}
</details>
{%- else -%}
{{ super() }}
{%- endif -%}
{%- endblock input_group %}
{%- block footer %}{% endblock footer -%}
"""


def make_html_exporter():
    """Return an nbconvert HTMLExporter for the cells of a page (nbconvert 7.17 `basic`).

    Prompts are left out, images that markdown cells reference by path are embedded as data:
    URIs, and headings get Pandoc ids that are unique within the page."""
    import jinja2
    from nbconvert import HTMLExporter
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
    from traitlets.config import Config

    class PageRenderer(IPythonRenderer):
        def __init__(self, used_ids: set, **kwargs):
            super().__init__(**kwargs)
            self.used_ids = used_ids

        def heading(self, text: str, level: int, **attrs) -> str:
            base = ident = pandoc_id(text)
            n = 0
            while ident in self.used_ids:
                n += 1
                ident = f"{base}-{n}"
            self.used_ids.add(ident)
            return (f'<h{level} id="{ident}">{text}'
                    f'<a class="anchor-link" href="#{ident}">¶</a></h{level}>\n')

    class PageExporter(HTMLExporter):
        used_ids: set  # heading ids given so far on the page; render_body resets it

        @jinja2.pass_context
        def markdown2html(self, context, source):
            # HTMLExporter.markdown2html of nbconvert 7.17, with PageRenderer.
            cell = context.get("cell", {})
            path = context.get("resources", {}).get("metadata", {}).get("path", "")
            renderer = PageRenderer(self.used_ids, escape=False,
                                    attachments=cell.get("attachments", {}),
                                    embed_images=self.embed_images, path=path,
                                    anchor_link_text=self.anchor_link_text)
            return MarkdownWithMath(renderer=renderer).render(source)

    config = Config()
    config.NbConvertBase.display_data_priority = HTML_PRIORITY
    config.HTMLExporter.exclude_input_prompt = True
    config.HTMLExporter.exclude_output_prompt = True
    config.HTMLExporter.embed_images = True
    loader = jinja2.DictLoader({"holo_cells.html.j2": CELLS_TEMPLATE})
    exporter = PageExporter(config=config, template_name="basic",
                            template_file="holo_cells.html.j2", extra_loaders=[loader])
    exporter.used_ids = set()
    return exporter


PAGE_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{page_title} – {site_title}</title>
<meta name="description" content="{meta_description}">
{stylesheets}
</head>
<body>
<header class="site-header"><a class="site-title" href="index.html">{site_title}</a></header>
<div class="site-body">
<nav class="sidebar" aria-label="Pages">
{sidebar}
</nav>
<main class="content">
<header id="title-block-header">
<h1 class="title">{page_title}</h1>
{description}
</header>
{body}
</main>
</div>
</body>
</html>
"""


def render_pages(pages: list[Page], project: dict, cache: Path, out_dir: Path) -> None:
    """Write one HTML file per page into `out_dir`, and the stylesheets they link."""
    exporter = make_html_exporter()
    site = project.get("website", {})
    sidebar_entries = site.get("sidebar", {}).get("contents", [])
    by_source = {p.source.name: p for p in pages}
    site_title = html.escape(str(site.get("title", "")))
    stylesheets = write_stylesheets(project, cache, out_dir)
    links = doc_link_map(pages, str(site.get("site-url", "")))
    for page in pages:
        try:
            body, description = render_body(page, exporter, cache)
        except Exception as exc:
            raise DocsError(f"rendering {page.source.name} from {relative(page.source)} failed: "
                            f"{one_line(exc)}") from exc
        text = PAGE_TEMPLATE.format(
            page_title=html.escape(page.title), site_title=site_title,
            meta_description=html.escape(page.description), stylesheets=stylesheets,
            sidebar=render_sidebar(sidebar_entries, by_source, page),
            description=description, body=body)
        (out_dir / page.html_name).write_text(localise_links(text, links), encoding="utf-8")


def render_body(page: Page, exporter, cache: Path) -> tuple[str, str]:
    "Return the HTML of the page's cells and of its description."
    exporter.used_ids = set()
    resources = {"metadata": {"path": str(cache)}}  # folder for markdown image paths
    body, _ = exporter.from_notebook_node(page.nb, resources=resources)
    description = ""
    if page.description:
        rendered = exporter.markdown2html({}, page.description)
        description = f'<div class="description">{rendered}</div>'
    return body, description


def render_sidebar(entries: list, by_source: dict, current: Page) -> str:
    """Render sidebar.yml `contents` (file names and `section` mappings) as nested lists."""
    items = []
    for entry in entries:
        if isinstance(entry, dict) and "section" in entry:
            title = html.escape(str(entry["section"]))
            if entry.get("href"):
                title = sidebar_link(entry["href"], by_source, current, title)
            inner = render_sidebar(entry.get("contents", []), by_source, current)
            items.append(f'<li class="sidebar-section"><span>{title}</span>{inner}</li>')
        else:
            href = entry.get("href") if isinstance(entry, dict) else entry
            items.append(f"<li>{sidebar_link(str(href), by_source, current)}</li>")
    return "<ul>\n" + "\n".join(items) + "\n</ul>"


def sidebar_link(entry: str, by_source: dict, current: Page, label: str | None = None) -> str:
    page = by_source.get(Path(entry).name)
    if page is None:
        raise DocsError(f"sidebar.yml entry {entry!r} is not a notebook in nbs/. build_docs.py "
                        "renders only nbs/*.ipynb, so build sites with other pages with "
                        "`make docs-quarto`")
    active = ' class="active" aria-current="page"' if page is current else ""
    return f'<a href="{page.html_name}"{active}>{label or html.escape(page.title)}</a>'


def doc_link_map(pages: list[Page], site_url: str) -> dict:
    "Map nbdev's absolute doc links (site-url + Quarto page name) to the local page names."
    if not site_url:
        return {}
    base = site_url if site_url.endswith("/") else site_url + "/"
    return {base + p.quarto_name: p.html_name for p in pages}


def localise_links(text: str, links: dict) -> str:
    """Point nbdev's links into this site (`https://doc_host/core.html#x`) at the local pages."""
    for remote, local in links.items():
        text = text.replace(f'href="{remote}#', f'href="{local}#')
        text = text.replace(f'href="{remote}"', f'href="{local}"')
    return text


def write_stylesheets(project: dict, cache: Path, out_dir: Path) -> str:
    """Write site.css, copy the `format.html.css` files, and return their <link> elements."""
    from pygments.formatters import HtmlFormatter

    highlight_css = HtmlFormatter(style="default").get_style_defs(".highlight")
    (out_dir / "site.css").write_text(SITE_CSS + highlight_css + "\n", encoding="utf-8")
    names = ["site.css"]
    css = project.get("format", {}).get("html", {}).get("css", [])
    for name in [css] if isinstance(css, str) else css:
        src = cache / name
        if not src.exists():
            raise DocsError(f"{relative(src)}, listed in _quarto.yml format.html.css, is missing")
        shutil.copy2(src, out_dir / name)
        names.append(name)
    return "\n".join(f'<link rel="stylesheet" href="{html.escape(n)}">' for n in names)


SITE_CSS = """/* Layout of the pages that tools/build_docs.py writes; styles.css loads after it. */
:root { --accent: #2780e3; --muted: #6c757d; --border: #dee2e6; --code-bg: #f8f9fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.6 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: #212529; background: #fff; }
a { color: var(--accent); }
.site-header { background: var(--accent); padding: 0.6rem 1.5rem; }
.site-title { color: #fff; font-size: 1.25rem; font-weight: 600; text-decoration: none; }
.site-body { display: flex; max-width: 1200px; margin: 0 auto; }
.sidebar { flex: 0 0 14rem; padding: 1.5rem 1rem; border-right: 1px solid var(--border); }
.sidebar ul { list-style: none; margin: 0; padding-left: 0; }
.sidebar ul ul { padding-left: 1rem; }
.sidebar li { margin: 0.25rem 0; }
.sidebar a { text-decoration: none; color: #343a40; }
.sidebar a.active { color: var(--accent); font-weight: 600; }
.content { flex: 1 1 auto; min-width: 0; padding: 1.5rem 2rem 4rem; }
.title { margin-top: 0; }
.cell { margin-bottom: 1rem; }
pre, code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
            font-size: 0.875rem; }
pre { background: var(--code-bg); padding: 0.75rem; overflow-x: auto; border-radius: 4px; }
.input_area pre, .highlight pre { margin: 0; }
.output_area { margin-top: 0.4rem; }
.output_area pre { background: none; border-left: 2px solid lightsalmon; border-radius: 0;
                   margin: 0 0 0 0.8rem; }
.output_area img { max-width: 100%; height: auto; }
.output_error pre { border-left-color: #dc3545; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid var(--border); padding: 0.3rem 0.6rem; text-align: left; }
.anchor-link { visibility: hidden; margin-left: 0.3rem; text-decoration: none; }
h1:hover .anchor-link, h2:hover .anchor-link, h3:hover .anchor-link,
h4:hover .anchor-link { visibility: visible; }
details.code-fold > summary { cursor: pointer; color: var(--muted); }
div[class^="callout"], div[class*=" callout"] { border-left: 4px solid var(--accent);
    background: #f3f8fe; padding: 0.2rem 1rem; margin: 1rem 0; }
@media (max-width: 768px) {
  .site-body { display: block; }
  .sidebar { border-right: none; border-bottom: 1px solid var(--border); }
}
"""


# --------------------------------------------------------------------------- README.md

# nbconvert's markdown template, with Quarto's code-fold as a <details> element.
README_TEMPLATE = r"""{%- extends 'markdown/index.md.j2' -%}
{% block input %}
{%- if cell.metadata.code_fold -%}
<details{{ ' open' if cell.metadata.code_fold == 'show' else '' }}>
<summary>{{ cell.metadata.code_summary }}</summary>

{{ super() }}

</details>

{% else -%}
{{ super() }}
{%- endif %}
{% endblock input %}
"""


def render_readme(page: Page, readme: Path) -> None:
    """Write README.md from the processed index page as GitHub-flavoured markdown.

    The layout follows `nbdev_readme`: `# title`, the description as a quote, then the cells.
    Figures are written to NAME_files/ beside README.md, as nbdev_readme copies them."""
    import jinja2
    from nbconvert import MarkdownExporter

    loader = jinja2.DictLoader({"holo_readme.md.j2": README_TEMPLATE})
    exporter = MarkdownExporter(template_file="holo_readme.md.j2", extra_loaders=[loader])
    stem = Path(page.html_name).stem
    resources = {"output_files_dir": f"{stem}_files", "unique_key": stem}
    try:
        body, resources = exporter.from_notebook_node(page.nb, resources=resources)
    except Exception as exc:
        raise DocsError(f"rendering README.md from {relative(page.source)} failed: "
                        f"{one_line(exc)}") from exc
    head = f"# {page.title}\n\n"
    if page.description:
        head += f"> {page.description}\n\n"
    text = re.sub(r"^[ \t]+$", "", head + body, flags=re.MULTILINE)  # nbconvert pads images
    text = re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
    readme.write_text(text, encoding="utf-8")
    for name, data in sorted(resources.get("outputs", {}).items()):
        path = readme.parent / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


# --------------------------------------------------------------------------- main

def build(cfg) -> tuple[int, Path]:
    """Process the notebooks, write the site and README.md, and return (pages, output folder)."""
    cache = process_notebooks(cfg)
    project = load_project(cache)
    pages = [load_page(nb, cache) for nb in notebooks_of(cfg)]
    # Render inside _proc/ as Quarto does, then replace the old site in one move like nbdev_docs.
    out_dir = cache / cfg.doc_path.name
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    render_pages(pages, project, cache, out_dir)
    index = [p for p in pages if p.source.name == cfg.readme_nb]
    if index:
        render_readme(index[0], cfg.config_path / "README.md")
    shutil.rmtree(cfg.doc_path, ignore_errors=True)
    shutil.move(str(out_dir), str(cfg.doc_path))
    return len(pages), cfg.doc_path


def main() -> int:
    start = time.perf_counter()
    os.chdir(ROOT)  # nbdev's get_config() finds settings.ini from the working directory
    # Document the package of this checkout; proc_nbs's spawned workers inherit sys.path.
    sys.path.insert(0, str(ROOT))
    from nbdev.config import get_config

    cfg = get_config()
    try:
        count, out_dir = build(cfg)
    except DocsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    took = time.perf_counter() - start
    print(f"docs: wrote {count} pages to {relative(out_dir)}/ and README.md in {took:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
