"""Reading Wikipedia text in the two formats users have, streamed, and tokenising it.

- WikiExtractor output: folders `AA/wiki_00` ... (plain or `.bz2`), articles wrapped in
  `<doc id=... url=... title=...>` ... `</doc>`, one paragraph a line.
- MediaWiki XML dumps (`*.xml.bz2`): pages are streamed with gensim's `extract_pages` and their
  wiki markup stripped with gensim's `filter_wiki`.

Both yield `Document(title, paragraphs)` one article at a time; nothing holds the whole corpus.
"""

from __future__ import annotations

import bz2
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from .progress import progress_bar

_TOKEN = re.compile(r"[a-z0-9]+")
_DOC_START = re.compile(r'<doc id="[^"]*"(?: url="[^"]*")? title="([^"]*)">')


@dataclass
class Document:
    title: str
    paragraphs: list[str]


def tokenize(text: str) -> list[str]:
    """Lower-case alphanumeric runs. Labels go through the same function, so "T-shirt" -> t, shirt."""
    return _TOKEN.findall(text.lower())


def open_text(path: Path | str) -> TextIO:
    path = Path(path)
    if path.suffix == ".bz2":
        return bz2.open(path, "rt", encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace")


def wikiextractor_files(folder: Path | str, max_files: int | None = None) -> list[Path]:
    """The `wiki_NN[.bz2]` files under `folder`, in a stable order."""
    files = sorted(p for p in Path(folder).rglob("wiki_*") if p.is_file())
    return files[:max_files] if max_files is not None else files


def read_wikiextractor_file(path: Path | str) -> Iterator[Document]:
    title, paragraphs = None, []
    with open_text(path) as handle:
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


def read_xml_dump(path: Path | str) -> Iterator[Document]:
    """Articles of a MediaWiki XML dump, markup stripped, redirects and non-article pages skipped."""
    from gensim.corpora.wikicorpus import extract_pages, filter_wiki

    with (
        bz2.open(path, "rb")
        if str(path).endswith(".bz2")
        else open(path, "rb") as handle
    ):
        for title, text, _pageid in extract_pages(handle, filter_namespaces=("0",)):
            if text.lstrip().lower().startswith("#redirect"):
                continue
            plain = filter_wiki(text)
            paragraphs = [p.strip() for p in plain.split("\n") if p.strip()]
            if paragraphs:
                yield Document(title, paragraphs)


def is_xml_dump(path: Path) -> bool:
    return path.is_file() and ".xml" in path.name


def read_documents(
    source: Path | str, max_files: int | None = None, progress: bool = True
) -> Iterator[Document]:
    """Documents from a WikiExtractor folder, one WikiExtractor file, or an XML dump."""
    source = Path(source)
    if is_xml_dump(source):
        yield from read_xml_dump(source)
        return
    files = [source] if source.is_file() else wikiextractor_files(source, max_files)
    if not files:
        raise FileNotFoundError(
            f"{source} holds no WikiExtractor files (wiki_NN or wiki_NN.bz2) "
            f"and is not an XML dump (*.xml or *.xml.bz2)"
        )
    for path in progress_bar(
        files, desc="read wikipedia", unit="file", progress=progress
    ):
        yield from read_wikiextractor_file(path)


def sentences(
    documents: Iterable[Document], min_tokens: int = 3
) -> Iterator[list[str]]:
    """One token list per paragraph. Paragraphs, not sentences: the paper's window of 20 words
    runs across sentence ends, and a paragraph keeps that context."""
    for doc in documents:
        for paragraph in doc.paragraphs:
            tokens = tokenize(paragraph)
            if len(tokens) >= min_tokens:
                yield tokens


def text_fingerprint(source: Path | str, max_files: int | None = None) -> list:
    """What identifies the text's content: names, sizes and modification times."""
    source = Path(source)
    files = [source] if source.is_file() else wikiextractor_files(source, max_files)
    return [(p.name, p.stat().st_size, int(p.stat().st_mtime)) for p in files]
