"""The rendered book's JavaScript comes from its own `_static/`, never from a CDN.

Sphinx and MyST-NB point the pages at MathJax (jsDelivr), RequireJS (cdnjs) and the
ipywidgets HTML manager (jsDelivr): offline, math shows as raw TeX and the widgets'
saved state is blank. This Sphinx extension fetches those npm packages at pinned
versions (each tarball checked against the registry's sha512 integrity and kept in a
cache folder, so a build after the first needs no network), copies the files the pages
load into `_static/vendor/`, and points the configuration at them.

On each page it also emits every script once. Sphinx 7 registers an inline script added
after the builder started twice (once named None, once ""), and sphinx-thebe's inline
`const THEBE_JS_URL = ...` then threw "Identifier 'THEBE_JS_URL' has already been
declared" on every page. On a page with widgets it first tells the widget manager where
its fonts are (else it looks for them beside the page, and the console shows 404s).
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)

VENDOR = "vendor"  # the folder under _static/ that holds the fetched files


@dataclass(frozen=True)
class NpmPackage:
    """One npm package, the parts of it the pages load, and where they go."""

    name: str
    version: str
    integrity: str  # the registry's `dist.integrity` of the tarball
    # (pattern of paths in the tarball, folder under _static/vendor/): each file that
    # matches is copied with its path below the pattern's last fixed folder
    parts: tuple[tuple[str, str], ...]

    @property
    def spec(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def tarball_name(self) -> str:
        """npm's file name for the tarball: `@scope/name` becomes `scope-name`."""
        return f"{self.name.lstrip('@').replace('/', '-')}-{self.version}.tgz"


# MathJax 3 is what Sphinx's own default URL names (mathjax@3, tex-mml-chtml); its
# component loader fetches input extensions, fonts and the menu relative to the script,
# so their folders come too (the other combined bundles and the Node entry do not).
MATHJAX = NpmPackage(
    "mathjax",
    "3.2.2",
    "sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw==",
    (
        ("package/es5/tex-mml-chtml.js", "mathjax"),
        *(
            (f"package/es5/{folder}/*", f"mathjax/{folder}")
            for folder in ("input", "output/chtml", "ui", "a11y", "sre", "adaptors")
        ),
    ),
)
# The AMD loader the HTML manager runs under (MyST-NB's default, 2.3.4, from cdnjs).
REQUIREJS = NpmPackage(
    "requirejs",
    "2.3.8",
    "sha512-7/cTSLOdYkNBNJcDMWf+luFvMriVm7eYxp4BcFCsAX0wF421Vyce5SXP17c+Jd5otXKGNehIonFlyQXSowL6Mw==",
    (("package/require.js", ""),),
)
# ipywidgets 8's manager for saved widget state (base, controls and output widgets are
# bundled in). Its parts find Font Awesome's fonts relative to where RequireJS says they
# live: beside the bundle, and in the module folders below RequireJS's base URL (which
# WIDGET_PAGE_SETUP points at the bundle's folder). Chromium, Firefox and Safari take
# the woff2, woff or ttf file; the eot and svg ones are for older browsers.
FONT_FOLDERS = ("", "@jupyter-widgets", "@jupyter-widgets/html-manager/dist")
HTML_MANAGER = NpmPackage(
    "@jupyter-widgets/html-manager",
    "1.0.15",
    "sha512-5thBIV6ymNgmPVOHvzx+gGy8ZSKmSazhtGw4/c4xJDVzRhG9PTeQsRjF3FUTopvFi//SABeNz1yp47bCrJ3CQA==",
    (("package/dist/embed-amd.js", "html-manager"),)
    + tuple(
        (f"package/dist/*.{font}", f"html-manager/{folder}".rstrip("/"))
        for font in ("woff2", "woff", "ttf")
        for folder in FONT_FOLDERS
    ),
)
PACKAGES = (MATHJAX, REQUIREJS, HTML_MANAGER)

# What the pages load, relative to _static/.
MATHJAX_SCRIPT = f"{VENDOR}/mathjax/tex-mml-chtml.js"
WIDGET_SCRIPTS = (f"{VENDOR}/require.js", f"{VENDOR}/html-manager/embed-amd.js")
# Run before RequireJS and the manager, on a page with widgets: the manager's fonts come
# from its folder (a global it reads, and RequireJS's base URL), not from paths relative
# to the page, which do not exist. `data-content_root` is the theme's relative path from
# the page to the book's root.
WIDGET_PAGE_SETUP = (
    "(() => { const folder = new URL("
    f'"_static/{VENDOR}/html-manager/", '
    'new URL(document.documentElement.dataset.content_root || "./", '
    "document.baseURI)).href; "
    "window.__jupyter_widgets_assets_path__ = folder; "
    "window.require = {baseUrl: folder}; })();"
)


def cache_root() -> Path:
    """Where tarballs and unpacked files are kept between builds:
    $DEVISE_VENDOR_CACHE, else the user's cache folder."""
    if os.environ.get("DEVISE_VENDOR_CACHE"):
        return Path(os.environ["DEVISE_VENDOR_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "devise-lite" / "vendor"


def integrity_of(path: Path) -> str:
    """npm's integrity string (sha512, base64) of a file."""
    digest = hashlib.sha512(path.read_bytes()).digest()
    return "sha512-" + base64.b64encode(digest).decode()


def fetch(package: NpmPackage, folder: Path) -> Path:
    """The package's tarball in `folder`, fetched once: with `npm pack` where npm is
    installed, else straight from the registry. Either way its integrity must match
    the pinned one."""
    tarball = folder / package.tarball_name
    if tarball.is_file() and integrity_of(tarball) == package.integrity:
        return tarball
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as scratch:
        fetched = Path(scratch) / package.tarball_name
        try:
            if shutil.which("npm"):
                subprocess.run(
                    ["npm", "pack", package.spec, "--pack-destination", scratch],
                    cwd=scratch,
                    check=True,
                    capture_output=True,
                    text=True,
                    timeout=600,
                )
            else:
                registry = os.environ.get(
                    "npm_config_registry", "https://registry.npmjs.org/"
                )
                basename = package.name.rsplit("/", 1)[-1]
                url = f"{registry.rstrip('/')}/{package.name}/-/{basename}-"
                url += f"{package.version}.tgz"
                with urllib.request.urlopen(url, timeout=120) as answer:
                    fetched.write_bytes(answer.read())
        except (OSError, subprocess.SubprocessError) as error:
            detail = getattr(error, "stderr", "") or error
            raise ExtensionError(
                f"cannot fetch the npm package {package.spec}, which the rendered "
                f"pages serve from _static/ instead of a CDN: {detail}. Connect to "
                f"the npm registry once (npm's proxy settings apply), or put the "
                f"tarball {package.tarball_name} into {folder}."
            ) from error
        found = integrity_of(fetched)
        if found != package.integrity:
            raise ExtensionError(
                f"{package.spec}: the fetched tarball's integrity is {found}, not the "
                f"pinned {package.integrity}; not using it."
            )
        fetched.replace(tarball)
    return tarball


def unpack(package: NpmPackage, tarball: Path, target: Path) -> int:
    """Copy the package's parts from its tarball into `target` (a file matched by
    several parts goes to each of their folders); the number of files written."""
    copied = 0
    with tarfile.open(tarball) as archive:
        for member in archive.getmembers():
            parts = [p for p in package.parts if fnmatch.fnmatchcase(member.name, p[0])]
            if not member.isfile() or not parts:
                continue
            with archive.extractfile(member) as source:
                content = source.read()
            for pattern, folder in parts:
                # keep the path below the pattern's last fixed folder
                fixed = pattern.split("*", 1)[0].rsplit("/", 1)[0] + "/"
                destination = target / folder / member.name[len(fixed) :]
                destination.parent.mkdir(parents=True, exist_ok=True)
                destination.write_bytes(content)
                copied += 1
    if not copied:
        raise ExtensionError(f"{package.spec}: none of {package.parts} in its tarball")
    return copied


def vendored_static_folder(root: Path) -> Path:
    """A folder holding `vendor/...` with every package's parts, made once per set of
    pins (an unfinished one, from an interrupted build, is made again)."""
    pins = "".join(p.integrity + repr(p.parts) for p in PACKAGES)
    folder = root / f"static-{hashlib.sha256(pins.encode()).hexdigest()[:12]}"
    if (folder / "complete").is_file():
        return folder
    root.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(dir=root))
    try:
        for package in PACKAGES:
            count = unpack(package, fetch(package, root), scratch / VENDOR)
            logger.info(f"[offline_assets] {package.spec}: {count} files")
        (scratch / "complete").write_text(pins)
        if not (folder / "complete").is_file():  # another build may have made it
            shutil.rmtree(folder, ignore_errors=True)
            scratch.rename(folder)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return folder


def point_at_local_files(app: Sphinx, config: Config) -> None:
    """MathJax and the widget scripts from _static/vendor/ (no `crossorigin`: a page
    opened from disk would refuse the scripts as cross-origin)."""
    config.mathjax_path = MATHJAX_SCRIPT
    config.nb_ipywidgets_js = {script: {} for script in WIDGET_SCRIPTS}


def add_vendored_files(app: Sphinx) -> None:
    if app.builder.format != "html":
        return
    app.config.html_static_path.append(str(vendored_static_folder(cache_root())))


def finish_page_scripts(app, pagename, templatename, context, doctree) -> None:
    """Emit each script once (same file or inline body, attributes and priority), and
    on a page that loads the widget manager, set up its folder before it loads."""
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    names = [str(getattr(script, "filename", script)) for script in scripts]
    if any(name.endswith(WIDGET_SCRIPTS[-1]) for name in names):
        # before RequireJS, which MyST-NB adds at priority 500
        app.builder.add_js_file("", body=WIDGET_PAGE_SETUP, priority=499)
    seen, unique = set(), []
    for script in scripts:
        key = (
            getattr(script, "filename", script) or "",
            getattr(script, "priority", 500),
            tuple(sorted(getattr(script, "attributes", {}).items())),
        )
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", point_at_local_files)
    app.connect("builder-inited", add_vendored_files)
    # After every other handler has added its page scripts (MyST-NB adds the widget
    # scripts here).
    app.connect("html-page-context", finish_page_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
