"""The corpus stage: Wikipedia text to one tokenised, phrase-joined paragraph a line, in
three steps spread over `processes` processes and written in source order (so
`corpus.txt` is the same bytes for any number): tokenise and label-join each file (or
batch of XML pages), learn phrases (`phrase_shares`), apply them block by block."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

try:
    import resource  # Unix: CPU seconds per step (`StepClock`)
except ImportError:  # Windows: seconds only
    resource = None

from .config import PhraseConfig, TextConfig
from .phrase_shares import Block, learn_phrases, read_block, settle_forked_worker
from .phrases import LabelLexicon
from .progress import progress_bar
from .text import (
    BadTextError,
    is_xml_dump,
    page_documents,
    read_wikiextractor_file,
    sentences,
    text_files,
    xml_pages,
)

# Under 100 k tokens skip-gram (min_count 5) keeps a few thousand words and hardly any
# label: training would "succeed" on nothing. The tiny preset has 490 k; a README 0.
MIN_CORPUS_TOKENS = 100_000

# Markup per XML work item: amortises the hand-over; in flight, a few hundred MB.
_XML_BATCH_CHARS = 4_000_000
_AHEAD = 2  # work items in flight per process: each worker has its next item ready


class Piece(NamedTuple):
    """A worker's result: lines as UTF-8, and what they hold."""

    text: bytes
    documents: int
    paragraphs: int
    tokens: int


def lines_bytes(sentences: Iterable[list[str]]) -> tuple[bytes, int, int]:
    """(space-separated lines, each ending in a newline, as UTF-8; lines; tokens)."""
    lines, tokens = [], 0
    for sentence in sentences:
        lines.append(" ".join(sentence) + "\n")
        tokens += len(sentence)
    return "".join(lines).encode("utf-8"), len(lines), tokens


def tokenise(
    item: Path | list[tuple[str, str]], lexicon: LabelLexicon, min_tokens: int
) -> Piece:
    """Step 1 for one WikiExtractor file, or a batch of XML pages (title, markup)."""
    read = read_wikiextractor_file if isinstance(item, Path) else page_documents
    documents = list(read(item))
    text, lines, tokens = lines_bytes(
        lexicon.join(s) for s in sentences(documents, min_tokens)
    )
    return Piece(text, len(documents), lines, tokens)


def page_batches(
    pages: Iterable[tuple[str, str]], chars: int = _XML_BATCH_CHARS
) -> Iterator[list[tuple[str, str]]]:
    """Consecutive pages, grouped until a group holds `chars` characters of markup."""
    batch, size = [], 0
    for page in pages:
        batch.append(page)
        size += len(page[1])
        if size >= chars:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def apply_block(job: tuple[Path, Block], frozen) -> Piece:
    """Step 3 for one (corpus file, block): its lines phrase-joined by `frozen`."""
    text, lines, tokens = lines_bytes(frozen[s] for s in read_block(*job))
    return Piece(text, 0, lines, tokens)


# A Pool worker's state, set by its initializer: a lexicon or a frozen model is too big
# to send with each of 250 tasks.
_WORKER_STATE: dict = {}


def _init_worker(state: dict) -> None:
    settle_forked_worker()
    _WORKER_STATE.update(state)


def _with_worker_state(fn: Callable, item):
    return fn(item, **_WORKER_STATE)


def ordered_map(fn: Callable, items: Iterable, processes: int, **state) -> Iterator:
    """`fn(item, **state)` in order, reading a stream of `items` only a few ahead."""
    if processes <= 1:
        yield from (fn(item, **state) for item in items)
        return
    with multiprocessing.get_context().Pool(
        processes, initializer=_init_worker, initargs=(state,)
    ) as pool:
        pending: deque = deque()
        for item in items:
            pending.append(pool.apply_async(_with_worker_state, (fn, item)))
            if len(pending) >= processes * _AHEAD:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()


def write_pieces(pieces: Iterable[Piece], path: Path, bar) -> tuple[list[Block], Piece]:
    """Write pieces in order; returns their blocks and the totals (text left empty)."""
    blocks, counts = [], [0, 0, 0]  # documents, paragraphs, tokens
    with open(path, "wb") as out:
        for piece in pieces:
            start = out.tell()
            out.write(piece.text)
            blocks.append(Block(start, start + len(piece.text)))
            counts = [total + n for total, n in zip(counts, piece[1:], strict=True)]
            bar.update(1)
    return blocks, Piece(b"", *counts)


def build_corpus(
    source: Path,
    text: TextConfig,
    phrases: PhraseConfig,
    lexicon_lemmas: Iterable[str],
    out_dir: Path,
    processes: int | None = None,
    *,
    min_corpus_tokens: int = MIN_CORPUS_TOKENS,
    progress: bool = True,
) -> dict:
    """Write `out_dir/corpus.txt`; `BadTextError` for unreadable or too little text."""
    processes = max(1, processes or os.cpu_count() or 1)
    source, out_dir = Path(source), Path(out_dir)
    work = out_dir / ".corpus-work"
    work.mkdir(parents=True, exist_ok=True)
    clock = StepClock()
    try:
        with clock.step("tokenise"):
            lexicon = LabelLexicon(lexicon_lemmas if phrases.label_lexicon else [])
            current = work / "joined.txt"
            blocks, totals = _tokenise(
                source, text, lexicon, current, processes, progress
            )
        if totals.tokens < min_corpus_tokens:
            raise _too_small(source, text, totals, min_corpus_tokens)
        learnt, final = [], totals
        for round_ in range(phrases.passes):
            label = f"({round_ + 1}/{phrases.passes})"
            learn, apply = f"learn phrases {label}", f"apply phrases {label}"
            with clock.step(learn):
                frozen, info = learn_phrases(
                    current, blocks, phrases, processes, progress, learn
                )
            for part, value in info.pop("seconds").items():
                clock.seconds[f"{learn}: {part}"] = value
            learnt.append(info)
            with clock.step(apply):
                target = work / f"pass{round_ + 1}.txt"
                with progress_bar(
                    total=len(blocks), desc=apply, unit="block", progress=progress
                ) as bar:
                    jobs = ((current, b) for b in blocks)
                    pieces = ordered_map(apply_block, jobs, processes, frozen=frozen)
                    blocks, final = write_pieces(pieces, target, bar)
                current.unlink()
                current = target
        os.replace(current, out_dir / "corpus.txt")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {
        "documents": totals.documents,
        "paragraphs": final.paragraphs,
        "tokens": final.tokens,
        "tokens_before_phrases": totals.tokens,
        "label_phrases": len(lexicon),
        "phrase_passes": learnt,
        "processes": processes,
        "step_seconds": clock.seconds,
        "step_cpu_seconds": clock.cpu,
    }


class StepClock:
    """Seconds per step, and CPU seconds of this process and its finished workers."""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self.cpu: dict[str, dict[str, float]] = {}

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        wall, cpu = time.perf_counter(), _cpu_seconds()
        yield
        self.seconds[name] = round(time.perf_counter() - wall, 2)
        if cpu is not None:
            now = zip(("own", "workers"), _cpu_seconds(), cpu, strict=True)
            self.cpu[name] = {key: round(end - begin, 2) for key, end, begin in now}


def _cpu_seconds() -> tuple[float, float] | None:
    """(this process's, its finished children's) user + system CPU seconds."""
    if resource is None:  # Windows
        return None
    own, children = map(
        resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def _tokenise(source, text, lexicon, joined, processes, progress):
    """Step 1: the source's paragraphs, tokenised and label-joined, into `joined`."""
    if is_xml_dump(source):
        # gensim's wikicorpus (`page_documents`) is loaded with gensim, before the fork.
        items, total, unit = page_batches(xml_pages(source)), None, "batch"
    else:
        items = text_files(source, text.max_files, text.extra_files)
        total, unit = len(items), "file"
    state = {"lexicon": lexicon, "min_tokens": text.min_sentence_tokens}
    with progress_bar(
        total=total, desc="tokenise + label phrases", unit=unit, progress=progress
    ) as bar:
        pieces = ordered_map(tokenise, items, processes, **state)
        return write_pieces(pieces, joined, bar)


def _too_small(
    source: Path, text: TextConfig, found: Piece, minimum: int
) -> BadTextError:
    kind = "XML dump" if is_xml_dump(source) else "WikiExtractor text"
    hint = (
        "it holds no articles: is it Wikipedia text (WikiExtractor <doc ...> blocks, "
        "or a MediaWiki *.xml.bz2 dump)?"
        if found.documents == 0
        else "use more of it (max_files) or a larger source"
    )
    return BadTextError(
        f"{source} ({kind}, max_files={text.max_files}) gave {found.tokens:,} tokens "
        f"in {found.paragraphs:,} paragraphs of {found.documents:,} articles, fewer "
        f"than the {minimum:,} a corpus needs to train word vectors on: {hint}"
    )
