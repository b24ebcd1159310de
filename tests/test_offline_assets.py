"""The book's Sphinx extension that serves MathJax and the widget manager from
`_static/vendor/` (`_ext/offline_assets.py`): which files of a tarball it copies where,
that it refuses a tarball whose hash is not the pinned one, and what it does to a page's
scripts. No network: tarballs are made here."""

import base64
import hashlib
import importlib.util
import io
import sys
import tarfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from sphinx.errors import ExtensionError

REPO = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location(
    "offline_assets", REPO / "_ext" / "offline_assets.py"
)
offline_assets = importlib.util.module_from_spec(_spec)
sys.modules["offline_assets"] = offline_assets  # its dataclass looks itself up there
_spec.loader.exec_module(offline_assets)


def tarball(path: Path, files: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return path


def integrity(content: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(content).digest()).decode()


def test_unpack_copies_each_matching_file_to_every_folder_of_its_parts(tmp_path):
    package = offline_assets.NpmPackage(
        "@scope/widgets",
        "1.0.0",
        "unused here",
        (
            ("package/dist/embed.js", "manager"),
            ("package/dist/*.woff2", "manager"),
            ("package/dist/*.woff2", "manager/@scope"),
            ("package/es5/input/*", "math/input"),
        ),
    )
    source = tarball(
        tmp_path / "widgets.tgz",
        {
            "package/dist/embed.js": b"js",
            "package/dist/font.woff2": b"font",
            "package/dist/font.eot": b"old font",
            "package/es5/input/tex/extensions/ams.js": b"ams",
            "package/README.md": b"readme",
        },
    )
    target = tmp_path / "vendor"
    assert offline_assets.unpack(package, source, target) == 4
    written = sorted(str(p.relative_to(target)) for p in target.rglob("*.*"))
    assert written == [
        "manager/@scope/font.woff2",
        "manager/embed.js",
        "manager/font.woff2",
        "math/input/tex/extensions/ams.js",
    ]


def test_a_tarball_is_used_only_with_its_pinned_hash(tmp_path, monkeypatch):
    content = b"the real tarball"
    pinned = offline_assets.NpmPackage("lib", "2.0.0", integrity(content), ())
    served = {"bytes": b"something else"}

    class Answer(io.BytesIO):
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(offline_assets.shutil, "which", lambda name: None)
    monkeypatch.setattr(
        offline_assets.urllib.request,
        "urlopen",
        lambda url, timeout: Answer(served["bytes"]),
    )
    with pytest.raises(ExtensionError, match="not the pinned"):
        offline_assets.fetch(pinned, tmp_path)
    assert not (tmp_path / "lib-2.0.0.tgz").exists()

    served["bytes"] = content
    fetched = offline_assets.fetch(pinned, tmp_path)
    assert fetched == tmp_path / "lib-2.0.0.tgz" and fetched.read_bytes() == content

    def no_network(url, timeout):
        raise OSError("offline")

    monkeypatch.setattr(offline_assets.urllib.request, "urlopen", no_network)
    assert offline_assets.fetch(pinned, tmp_path) == fetched  # kept: no fetch
    fetched.write_bytes(b"damaged")
    with pytest.raises(ExtensionError, match="cannot fetch the npm package lib@2.0.0"):
        offline_assets.fetch(pinned, tmp_path)


def script(filename, priority=500, **attributes):
    return SimpleNamespace(filename=filename, priority=priority, attributes=attributes)


def page_scripts(scripts):
    """Run the page hook on `scripts` as the HTML builder would; the scripts after."""
    builder = SimpleNamespace(
        add_js_file=lambda name, **kw: scripts.append(
            script(name, kw.pop("priority"), **kw)
        )
    )
    context = {"script_files": scripts}
    offline_assets.finish_page_scripts(
        SimpleNamespace(builder=builder), "page", "page.html", context, None
    )
    return context["script_files"]


def test_a_page_runs_each_script_once():
    thebe = "const THEBE_JS_URL = 'x'"
    scripts = page_scripts(
        [
            script("_static/doctools.js"),
            script(None, body=thebe),
            script("_static/sphinx-thebe.js", **{"async": "async"}),
            script("", body=thebe),  # the same inline script, registered twice
            script("_static/doctools.js"),
        ]
    )
    assert [(s.filename, s.attributes.get("body")) for s in scripts] == [
        ("_static/doctools.js", None),
        (None, thebe),
        ("_static/sphinx-thebe.js", None),
    ]


def test_only_a_page_with_widgets_gets_the_widget_setup():
    plain = page_scripts([script("_static/doctools.js")])
    assert len(plain) == 1
    manager = f"_static/{offline_assets.WIDGET_SCRIPTS[-1]}"
    with_widgets = page_scripts([script("_static/vendor/require.js"), script(manager)])
    setup = [s for s in with_widgets if s.attributes.get("body")]
    assert [s.attributes["body"] for s in setup] == [offline_assets.WIDGET_PAGE_SETUP]
    assert setup[0].priority < 500  # sorted before RequireJS and the manager
