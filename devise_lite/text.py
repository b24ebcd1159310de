"""Reading Wikipedia text (WikiExtractor folders or XML dumps) an article at a time, and
tokenising it; a file that cannot be read raises `BadTextError` with fitting advice."""

from __future__ import annotations

import bz2
import re
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO
from xml.etree.ElementTree import ParseError

import regex

from .archives import Dataset, DatasetIntegrityError, unpack_folder
from .errors import BadInputError
from .progress import progress_bar
from .storage import DATA_ENV, MIRROR_ENV, data_root, mirror_root

# A token is a letter or digit of any script, then letters, digits or combining marks
# (vowels in Devanagari, stress in Russian, points in Hebrew: kept, but never first).
# "_" is no token character: WordNet lemma names join words with it (great_white_shark).
_TOKEN = regex.compile(r"[\p{L}\p{N}][\p{L}\p{N}\p{M}]*")
_DOC_START = re.compile(r'<doc id="[^"]*"(?: url="[^"]*")? title="([^"]*)">')
_BZ2_MAGIC = b"BZh"


class BadTextError(BadInputError):
    """A text source that cannot be read, or holds too little text to train on."""


@dataclass
class Document:
    title: str
    paragraphs: list[str]


def tokenize(text: str) -> list[str]:
    """NFKC-normalised, lower-cased runs of letters and digits of any script, for labels
    too: "T-shirt" -> t, shirt; "café" -> café. NFKC (not NFC) folds compatibility forms
    to their plain letters: "ﬁ" -> "fi", full-width "Ａ" -> "a", "²" -> "2"."""
    if not text.isascii():  # NFKC leaves ASCII as it is; most paragraphs are ASCII
        text = unicodedata.normalize("NFKC", text)
    return _TOKEN.findall(text.lower())


def refetch_advice(path: Path) -> str:
    """What a user can do about a bad text file: one in the read-only mirror cannot be
    deleted as a fix; one in the data root can, with its dataset folder, to refetch."""
    path = Path(path).resolve()
    mirror = mirror_root()
    if mirror is not None and path.is_relative_to(mirror.resolve()):
        local = data_root() / "datasets" / WIKIPEDIA.folder
        return (
            f"it is in the read-only mirror ${MIRROR_ENV}={mirror}: have the mirror "
            f"re-fetched from {WIKIPEDIA.url}, or unpack that archive's text/ folder "
            f"to {local} (read before the mirror), or set DEVISE_TEXT to intact text"
        )
    root = data_root().resolve()
    if path.is_relative_to(root):
        dataset = root / "datasets" / WIKIPEDIA.folder
        if path.is_relative_to(dataset):
            archive = root / "downloads" / WIKIPEDIA.archive
            return (
                f"delete {dataset} and {archive} and run again: the next run "
                f"downloads {WIKIPEDIA.url} anew (the data root ${DATA_ENV})"
            )
        return f"delete it and run again (it is in the data root ${DATA_ENV}={root})"
    return (
        "re-fetch or re-extract it, or set DEVISE_TEXT to other text (the package's "
        f"own Wikipedia text comes from {WIKIPEDIA.url})"
    )


def bad_file_error(path: Path, problem: str) -> BadTextError:
    """`BadTextError("<path> <problem>: <advice>")`, one line."""
    return BadTextError(f"{path} {problem}: {refetch_advice(path)}")


def check_bz2_header(path: Path) -> None:
    """Raise `BadTextError` if `path` is empty, or a `.bz2` without bzip2's magic bytes:
    3 bytes read, cheap enough for every file (a cut file is caught only when read)."""
    path = Path(path)
    if path.stat().st_size == 0:
        raise bad_file_error(path, "is empty (0 bytes)")
    if path.suffix == ".bz2":
        with open(path, "rb") as handle:
            if handle.read(len(_BZ2_MAGIC)) != _BZ2_MAGIC:
                raise bad_file_error(
                    path, "is not a bzip2 file (it does not start with 'BZh')"
                )


@contextmanager
def _reading(path: Path) -> Iterator[None]:
    """Check `path`'s header, then turn an error reading it into `BadTextError`."""
    check_bz2_header(path)
    try:
        yield
    except (EOFError, OSError) as err:  # bz2: truncated (EOF) or garbled (OSError)
        if path.suffix == ".bz2":
            problem = f"is not a complete bzip2 file (truncated or corrupt: {err})"
        else:
            problem = f"could not be read ({type(err).__name__}: {err})"
        raise bad_file_error(path, problem) from err


def verify_wikipedia(folder: Path) -> None:
    """The registry's check of a Wikipedia folder."""
    files = wikiextractor_files(folder)
    if not files:
        raise DatasetIntegrityError(
            f"{folder} holds no WikiExtractor files (wiki_00, wiki_00.bz2, ...)"
        )
    for path in files:  # 3 bytes each: an empty or non-bzip2 file names itself here
        check_bz2_header(path)
    with _reading(files[0]), open_text(files[0]) as handle:
        head = handle.read(200)
    if "<doc " not in head:
        raise DatasetIntegrityError(
            f"{files[0]} does not start with a WikiExtractor <doc ...> header"
        )


# The registry's entry (`datasets.REGISTRY`), here because the advice above names it.
WIKIPEDIA = Dataset(
    name="wikipedia",
    title="English Wikipedia text (2015 dump, WikiExtractor output)",
    url="https://github.com/jason-feng/wikiVisual/archive/"
    "1c0fac92f29f17c1603bfffbe864e0dfdff66897.zip",
    archive="wikiVisual-1c0fac92.zip",
    checksum=None,  # GitHub builds archives on demand and does not promise stable bytes
    folder="wikipedia/enwiki-2015-extracted",
    verify=verify_wikipedia,
    unpack=unpack_folder("text"),
    credit="Wikipedia contributors, CC BY-SA; extracted by jason-feng/wikiVisual",
)


def open_text(path: Path | str) -> TextIO:
    opener = bz2.open if Path(path).suffix == ".bz2" else open
    return opener(path, "rt", encoding="utf-8", errors="replace")


def wikiextractor_files(folder: Path | str, max_files: int | None = None) -> list[Path]:
    """The `wiki_NN[.bz2]` files under `folder`, in a stable order."""
    return sorted(p for p in Path(folder).rglob("wiki_*") if p.is_file())[:max_files]


def is_xml_dump(path: Path) -> bool:
    return path.is_file() and ".xml" in path.name


def text_files(
    source: Path | str, max_files: int | None = None, extra_files: tuple[str, ...] = ()
) -> list[Path]:
    """The files a read of `source` opens, in order: a file itself, or a folder's first
    `max_files` WikiExtractor files then its `extra_files`; `BadTextError` if none."""
    source = Path(source)
    if not source.exists():
        raise BadTextError(
            f"the text source {source} does not exist: set DEVISE_TEXT to a "
            "WikiExtractor folder, one wiki_NN[.bz2] file or a *.xml.bz2 dump"
        )
    if source.is_file():
        return [source]
    files = wikiextractor_files(source, max_files)
    for name in extra_files:
        extra = source / name
        if not extra.is_file():
            raise BadTextError(f"{extra} (in TextConfig.extra_files) does not exist")
        if extra not in files:
            files.append(extra)
    if not files:
        raise BadTextError(
            f"{source} holds no WikiExtractor files (wiki_NN or wiki_NN.bz2) "
            f"and is not an XML dump (*.xml or *.xml.bz2)"
        )
    return files


def text_fingerprint(
    source: Path | str, max_files: int | None = None, extra_files: tuple[str, ...] = ()
) -> list[tuple[str, int, int]]:
    """(relative name, bytes, mtime in ns) of each file read: a cache key that changes
    when a file is replaced, resized, touched or added, without reading any content."""
    source = Path(source)
    base = source.parent if source.is_file() else source
    return [
        (path.relative_to(base).as_posix(), stat.st_size, stat.st_mtime_ns)
        for path in text_files(source, max_files, extra_files)
        for stat in [path.stat()]
    ]


def read_wikiextractor_file(path: Path | str) -> Iterator[Document]:
    """The articles of one WikiExtractor file; BadTextError naming a file cut short."""
    path, title, paragraphs = Path(path), None, []
    with _reading(path), open_text(path) as handle:
        for line in handle:
            line = line.strip()
            if title is None:
                match = _DOC_START.match(line)
                if match:
                    title, paragraphs = match.group(1), []
            elif line == "</doc>":
                yield Document(
                    title, paragraphs[1:] if paragraphs[:1] == [title] else paragraphs
                )
                title = None
            elif line:
                paragraphs.append(line)


def xml_pages(path: Path | str) -> Iterator[tuple[str, str]]:
    """(title, wiki markup) of each article page (namespace 0) of a MediaWiki dump."""
    from gensim.corpora.wikicorpus import extract_pages  # seconds: XML dumps only

    path = Path(path)
    with _reading(path):
        try:
            with bz2.open(path) if path.suffix == ".bz2" else open(path, "rb") as f:
                for title, text, _pageid in extract_pages(f, filter_namespaces=("0",)):
                    yield title, text
        except ParseError as err:
            raise bad_file_error(path, f"is not a MediaWiki XML dump ({err})") from err


def page_documents(pages: Iterable[tuple[str, str]]) -> Iterator[Document]:
    """The articles of XML pages (title, markup), without markup; redirects skipped."""
    from gensim.corpora.wikicorpus import filter_wiki  # seconds: XML dumps only

    for title, markup in pages:
        if markup.lstrip().lower().startswith("#redirect"):
            continue
        paragraphs = [p.strip() for p in filter_wiki(markup).split("\n") if p.strip()]
        if paragraphs:
            yield Document(title, paragraphs)


def read_documents(
    source: Path | str, max_files: int | None = None, progress: bool = True
) -> Iterator[Document]:
    """Documents from a WikiExtractor folder, one WikiExtractor file, or an XML dump."""
    source = Path(source)
    if is_xml_dump(source):
        yield from page_documents(xml_pages(source))
        return
    files = text_files(source, max_files)
    bar = progress_bar(files, desc="read wikipedia", unit="file", progress=progress)
    for path in bar:
        yield from read_wikiextractor_file(path)


def sentences(
    documents: Iterable[Document], min_tokens: int = 3
) -> Iterator[list[str]]:
    """The token lists of the paragraphs with at least `min_tokens` tokens: paragraphs,
    not sentences, as the paper's window of 20 words runs across sentence ends."""
    for doc in documents:
        for paragraph in doc.paragraphs:
            tokens = tokenize(paragraph)
            if len(tokens) >= min_tokens:
                yield tokens
