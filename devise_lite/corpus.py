"""The corpus stage's work: Wikipedia text to one tokenised, phrase-joined paragraph a
line, on every core.

`build_corpus` writes `corpus.txt` in three steps, each spread over `processes`
processes and each written in source order, so the file is byte-identical for any
number of processes (the tests compare 1 and 2 processes, and both with gensim run
the old way):

1. tokenise: each WikiExtractor file (or batch of XML pages) is read, tokenised and
   label-lexicon joined by a worker; the parent writes the results in file order into
   `joined.txt` and notes where each file's lines begin and end (a "block").
2. learn phrases: each worker counts gensim `Phrases` statistics over a contiguous share
   of the blocks. The counts are merged exactly without moving the ~13 M-key
   vocabularies between processes (pickling them cost more than counting): see
   `learn_phrases`. Where gensim would prune (a vocabulary over its `max_vocab_size`,
   40 M keys; the whole mirror has 13 M), the merge cannot be exact and the statistics
   are learnt in one process instead, with a warning.
3. apply phrases: each block is phrase-joined by a worker with the frozen model, and
   written in order. Steps 2 and 3 run `PhraseConfig.passes` times.

An XML dump is one bzip2 stream: the parent parses it (gensim's `extract_pages`) and
the workers do the rest (markup stripping, tokenising, joining) on batches of pages.
"""

from __future__ import annotations

import gc
import logging
import math
import multiprocessing
import os
import shutil
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from itertools import filterfalse, repeat
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .config import PhraseConfig, TextConfig
from .phrases import JOIN, LabelLexicon
from .progress import progress_bar
from .text import (
    BadTextError,
    is_xml_dump,
    page_document,
    paragraph_tokens,
    read_wikiextractor_file,
    text_files,
    xml_pages,
)

log = logging.getLogger(__name__)

# 100 k tokens: below it skip-gram keeps a few thousand words (min_count 5) and hardly
# any label, so training would "succeed" on nothing. The tiny preset's 3 mirror files
# give about 490 k tokens (5x the minimum); not-Wikipedia text (a README) gives 0.
MIN_CORPUS_TOKENS = 100_000

# Put into the corpus stage's cache key: it changes whenever the same text and config
# give another corpus. 2: letters of every script, NFKC (text.tokenize); 1 was [a-z0-9].
CORPUS_FORMAT = 2

# Markup per XML work item: big enough to amortise the hand-over, small enough that
# `processes` x `_AHEAD` items in flight stay a few hundred MB.
_XML_BATCH_CHARS = 4_000_000
_AHEAD = 2  # work items in flight per process: each worker has its next item ready


class Block(NamedTuple):
    """Byte range [start, end) of one source unit's lines in a corpus file."""

    start: int
    end: int


class Piece(NamedTuple):
    """A worker's result: lines as UTF-8, and what they hold."""

    text: bytes
    documents: int
    paragraphs: int
    tokens: int


# ---------------------------------------------------------------- pure parts


def lines_bytes(sentences: Iterable[list[str]]) -> tuple[bytes, int, int]:
    """(space-separated lines, each ending in a newline, as UTF-8; lines; tokens)."""
    lines, tokens = [], 0
    for sentence in sentences:
        lines.append(" ".join(sentence))
        tokens += len(sentence)
    text = "".join(line + "\n" for line in lines)
    return text.encode("utf-8"), len(lines), tokens


def tokenise_documents(
    documents: Iterable, lexicon: LabelLexicon, min_tokens: int
) -> Piece:
    """Step 1 for some documents: their paragraphs tokenised and label-joined."""
    count = 0

    def paragraphs():
        nonlocal count
        for doc in documents:
            count += 1
            yield from doc.paragraphs

    text, lines, tokens = lines_bytes(
        lexicon.join(t) for t in paragraph_tokens(paragraphs(), min_tokens)
    )
    return Piece(text, count, lines, tokens)


def tokenise_file(path: Path, lexicon: LabelLexicon, min_tokens: int) -> Piece:
    """Step 1 for one WikiExtractor file."""
    return tokenise_documents(read_wikiextractor_file(path), lexicon, min_tokens)


def tokenise_pages(
    pages: list[tuple[str, str]], lexicon: LabelLexicon, min_tokens: int
) -> Piece:
    """Step 1 for a batch of XML pages (title, wiki markup)."""
    documents = (page_document(title, markup) for title, markup in pages)
    return tokenise_documents(
        (d for d in documents if d is not None), lexicon, min_tokens
    )


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


def read_block(path: Path, block: Block) -> list[list[str]]:
    """The token lists of the lines in `block` of a corpus file."""
    with open(path, "rb") as handle:
        handle.seek(block.start)
        text = handle.read(block.end - block.start).decode("utf-8")
    return [line.split() for line in text.split("\n")[:-1]]


def split_blocks(blocks: list[Block], parts: int) -> list[list[Block]]:
    """At most `parts` runs of consecutive blocks, of about equal bytes, none empty.

    A block's run never comes before the previous block's, so the runs, joined, are the
    blocks in order."""
    if not blocks:
        return []
    total = blocks[-1].end - blocks[0].start
    runs: list[list[Block]] = [[] for _ in range(min(parts, len(blocks)))]
    for i, block in enumerate(blocks):
        # A block goes to the share its middle byte falls in, but never leaves a later
        # run empty: each of the remaining runs keeps at least one block.
        middle = (block.start + block.end) / 2 - blocks[0].start
        share = min(int(middle * len(runs) / max(total, 1)), len(runs) - 1)
        share = max(share, len(runs) - (len(blocks) - i))
        runs[share].append(block)
    return [run for run in runs if run]


def heavy_count(min_count: int, parts: int) -> int:
    """The least count a key must reach in one of `parts` shares to total > min_count.

    Pigeonhole: if every share counts at most h-1 and the total is at least min_count+1,
    then parts*(h-1) >= min_count+1; so h = ceil((min_count+1)/parts) is needed."""
    return math.ceil((min_count + 1) / parts)


def phrase_candidates(vocab: Mapping[str, int], min_count: int) -> dict[str, int]:
    """The multi-word keys that gensim's default scorer could rate above a threshold.

    `original_scorer` is (bigram - min_count) / (a * b) * len_vocab and gensim demands
    a positive threshold for it: a key counted min_count times or fewer never passes."""
    return {k: c for k, c in vocab.items() if c > min_count and JOIN in k}


def end_words(keys: Iterable[str]) -> set[str]:
    """The first and last words of multi-word keys: the counts their scores need."""
    words = set()
    for key in keys:
        first, _, rest = key.partition(JOIN)
        words.add(first)
        words.add(rest.rpartition(JOIN)[2])
    return words


def score_phrases(
    candidates: Mapping[str, int],
    counts: Mapping[str, int],
    len_vocab: int,
    corpus_word_count: int,
    model,
) -> dict[str, float]:
    """gensim's `Phrases.export_phrases`, over the candidate keys only.

    Line for line what `score_candidate` does for a vocabulary key: the key split at the
    delimiter, its first and last words' counts, the model's scorer, `> threshold`."""
    phrasegrams = {}
    for key, count in candidates.items():
        words = key.split(model.delimiter)
        word_a, word_b = counts.get(words[0], 0), counts.get(words[-1], 0)
        if word_a <= 0 or word_b <= 0 or count <= 0:
            continue
        score = model.scoring(
            worda_count=word_a,
            wordb_count=word_b,
            bigram_count=count,
            len_vocab=len_vocab,
            min_count=model.min_count,
            corpus_word_count=corpus_word_count,
        )
        if score > model.threshold:
            phrasegrams[key] = score
    return phrasegrams


def key_parts(keys: Iterable[str], parts: int) -> list[list[str]]:
    """`keys` dealt into `parts` lists by length modulo `parts`.

    Any rule that every process computes alike would do; a length is one (str hashes
    differ between processes unless forked) and costs nothing to compute."""
    dealt: list[list[str]] = [[] for _ in range(parts)]
    for key in keys:
        dealt[len(key) % parts].append(key)
    return dealt


def part_size(own: int, vocab: Mapping[str, int], others: list[list[str]]) -> int:
    """Distinct keys of one part over all shares: the `own` this share holds, and those
    of the other shares' lists that it does not hold, each counted once."""
    extra: set[str] = set()
    for keys in others[:-1]:
        extra.update(filterfalse(vocab.__contains__, keys))
    last = others[-1] if others else []
    # The last list only needs counting: no set to grow (the only list, for 2 shares).
    unseen = filterfalse(extra.__contains__, filterfalse(vocab.__contains__, last))
    return own + len(extra) + len(list(unseen))


def known_counts(vocab: Mapping[str, int], heavy: int) -> dict[str, int]:
    """A share's counts the parent gets unasked: its multi-word keys counted at least
    `heavy` times (the candidates), and the first and last words of those keys."""
    keys = {k: c for k, c in vocab.items() if c >= heavy and JOIN in k}
    return {**keys, **{w: vocab.get(w, 0) for w in end_words(keys)}}


def summed_counts(keys: Iterable[str], parts: Iterable[Mapping[str, int]]) -> dict:
    """Each key's count summed over the shares' (partial) count mappings."""
    totals = dict.fromkeys(keys, 0)
    for counts in parts:
        for key, count in counts.items():
            totals[key] += count
    return totals


# ---------------------------------------------------------------- gensim


def phrases_model(cfg: PhraseConfig):
    """An empty gensim `Phrases` with the config's settings, as the old stage made."""
    from gensim.models.phrases import ENGLISH_CONNECTOR_WORDS, Phrases

    return Phrases(
        None,
        min_count=cfg.min_count,
        threshold=cfg.threshold,
        delimiter=JOIN,
        connector_words=ENGLISH_CONNECTOR_WORDS,
    )


def frozen_phrases(phrasegrams: dict[str, float], cfg: PhraseConfig):
    """A gensim `FrozenPhrases` that joins exactly `phrasegrams`."""
    frozen = phrases_model(cfg).freeze()  # nothing to export: the vocabulary is empty
    frozen.phrasegrams = phrasegrams
    return frozen


def count_sentences(sentences: Iterable[list[str]], cfg: PhraseConfig):
    """gensim's own counting: a `Phrases` model that has seen `sentences`."""
    model = phrases_model(cfg)
    model.add_vocab(sentences)
    return model


def _check_default_scoring(model) -> None:
    from gensim.models.phrases import original_scorer

    if model.scoring is not original_scorer:  # phrase_candidates relies on its formula
        raise ValueError("the corpus stage scores phrases with gensim's default only")


# ---------------------------------------------------------------- pool workers

# What a Pool worker process was given when it started. Pool hands state to workers only
# through an initializer, and this state (a lexicon, a frozen model) is too big to send
# with each of 250 tasks. Only pool workers write or read it; the parent never does.
_WORKER_STATE: dict = {}


def _init_worker(state: dict) -> None:
    _settle_forked_worker()
    _WORKER_STATE.update(state)


def _settle_forked_worker() -> None:
    """Keep the garbage collector off the objects a forked worker inherited.

    Its sweeps would write to every inherited object's header, and each such write
    copies a page the worker shares with the parent (copy-on-write)."""
    gc.freeze()


def _with_worker_state(fn: Callable, item):
    return fn(item, **_WORKER_STATE)


def ordered_map(fn: Callable, items: Iterable, processes: int, **state) -> Iterator:
    """`fn(item, **state)` for each item, in order, on `processes` processes.

    Unlike `Pool.imap`, it reads `items` only a few ahead of the results, so a stream
    (an XML dump) is not read into memory whole. One process: no pool, `fn` in place."""
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
    blocks, documents, lines, tokens = [], 0, 0, 0
    with open(path, "wb") as out:
        for piece in pieces:
            start = out.tell()
            out.write(piece.text)
            blocks.append(Block(start, start + len(piece.text)))
            documents += piece.documents
            lines += piece.paragraphs
            tokens += piece.tokens
            bar.update(1)
    return blocks, Piece(b"", documents, lines, tokens)


# ---------------------------------------------------------------- learning phrases


class Counted(NamedTuple):
    """What a share's counting worker reports first."""

    words: int  # gensim's corpus_word_count of the share
    min_reduce: int  # 1 unless gensim pruned the share's counts
    known: dict[str, int]  # `known_counts`: candidates and their end words


def _count_worker(
    conn: Connection,
    index: int,
    path: Path,
    blocks: list[Block],
    cfg: PhraseConfig,
    work: Path,
) -> None:
    """Share `index` of step 2, in its own process: count, then answer the parent.

    Keys are dealt into as many parts as there are shares (`key_parts`); this worker
    sizes part `index` over all shares, the others write theirs to `work` for it.

    1. receive (shares, `heavy_count`); count the share with gensim; write the key
       parts other workers size; send `Counted`;
    2. once every share has written its parts, the parent says "size": size part
       `index` (while the parent works out which counts it still lacks);
    3. receive the keys whose counts the parent lacks from this share; send (the size
       of part `index`, those counts)."""
    _settle_forked_worker()
    try:
        shares, heavy = conn.recv()

        def sentences():
            for block in blocks:
                yield from read_block(path, block)
                conn.send(("progress", block.end - block.start))

        model = count_sentences(sentences(), cfg)
        vocab = model.vocab
        parts = key_parts(vocab, shares)
        for part, keys in enumerate(parts):
            if part != index:
                _part_file(work, index, part).write_text("\n".join(keys), "utf-8")
        known = known_counts(vocab, heavy)
        conn.send(
            ("counted", Counted(model.corpus_word_count, model.min_reduce, known))
        )
        conn.recv()  # "size": every part file is written
        others = [
            _read_keys(_part_file(work, other, index))
            for other in range(shares)
            if other != index
        ]
        size = part_size(len(parts[index]), vocab, others)
        del others
        asked = conn.recv()
        counts = np.fromiter(map(vocab.get, asked, repeat(0)), np.int64, len(asked))
        conn.send(("answered", (size, counts)))
    except EOFError:  # the parent stopped asking (it learns in one process instead)
        pass
    except BaseException as err:  # noqa: BLE001 - the parent re-raises it
        _send_error(conn, err)
    conn.close()
    # Freeing a vocabulary of millions of keys one by one takes seconds that the parent
    # would wait for; the operating system takes the memory back at once.
    os._exit(0)


def _send_error(conn: Connection, err: BaseException) -> None:
    """Tell the parent what went wrong: the error itself, else its text."""
    for message in (err, RuntimeError(repr(err))):
        try:
            conn.send(("error", message))
            return
        except OSError:  # the parent is gone: nobody to tell
            return
        except Exception:  # noqa: BLE001 - it did not pickle: send its text instead
            continue


def _part_file(work: Path, share: int, part: int) -> Path:
    return work / f"keys-{share}-part-{part}.txt"


def _read_keys(path: Path) -> list[str]:
    text = Path(path).read_text(encoding="utf-8")
    return text.split("\n") if text else []


def _gather(workers: list, kind: str, bar=None) -> list:
    """Each worker's next `kind` message, in worker order; progress moves `bar`."""
    results: dict[int, object] = {}
    while len(results) < len(workers):
        waiting = {id(c): i for i, (c, _) in enumerate(workers) if i not in results}
        for conn in wait([workers[i][0] for i in waiting.values()]):
            try:
                tag, value = conn.recv()
            except EOFError:
                raise RuntimeError(
                    "a phrase-counting worker process died (out of memory?)"
                ) from None
            if tag == "error":
                raise value
            if tag == "progress" and bar is not None:
                bar.update(value)
            elif tag == kind:
                results[waiting[id(conn)]] = value
    return [results[i] for i in range(len(workers))]


def learn_phrases(
    path: Path,
    blocks: list[Block],
    cfg: PhraseConfig,
    processes: int,
    progress: bool = True,
    desc: str = "learn phrases",
):
    """The frozen gensim phrase model of a corpus file, counted in `processes` shares.

    Exact without moving vocabularies: a key must count > min_count in all to score, so
    it reaches `heavy_count` in some share (pigeonhole); the parent collects those keys
    and asks every share for their counts and their end words' counts. The vocabulary
    size (the scorer's `len_vocab`) is counted exactly too: the keys are dealt into one
    part per share, and each worker sizes one part over every share's keys.
    Returns (FrozenPhrases, info)."""
    model = phrases_model(cfg)
    _check_default_scoring(model)
    shares = split_blocks(blocks, processes)
    total = blocks[-1].end - blocks[0].start if blocks else 0
    with progress_bar(
        total=total, desc=desc, unit="B", unit_scale=True, progress=progress
    ) as bar:
        if len(shares) > 1:
            learnt = _learn_in_shares(path, shares, cfg, model, bar)
            if learnt is not None:
                return learnt
            log.warning(
                "phrase statistics exceed gensim's max_vocab_size (%d keys), so gensim "
                "prunes them and counts from shares cannot be merged exactly: learning "
                "them in one process",
                model.max_vocab_size,
            )
            bar.reset()

        def sentences():
            for block in blocks:
                yield from read_block(path, block)
                bar.update(block.end - block.start)

        start = time.perf_counter()
        vocab = count_sentences(sentences(), cfg)
        seconds = {"count": time.perf_counter() - start}
        phrasegrams = score_phrases(
            phrase_candidates(vocab.vocab, cfg.min_count),
            vocab.vocab,
            len(vocab.vocab),
            vocab.corpus_word_count,
            model,
        )
        seconds["score"] = time.perf_counter() - start - seconds["count"]
    info = {"vocabulary": len(vocab.vocab), "shares": 1, "phrases": len(phrasegrams)}
    return frozen_phrases(phrasegrams, cfg), {**info, "seconds": _rounded(seconds)}


def _rounded(seconds: dict[str, float]) -> dict[str, float]:
    return {step: round(value, 2) for step, value in seconds.items()}


def _learn_in_shares(path, shares, cfg, model, bar):
    """Step 2 on one process per share; None where gensim would have pruned."""
    context = multiprocessing.get_context()
    work = path.parent / f".{path.name}.counts"
    work.mkdir(exist_ok=True)
    workers, start = [], time.perf_counter()
    try:
        for index, share in enumerate(shares):
            parent_end, child_end = context.Pipe()
            process = context.Process(
                target=_count_worker,
                args=(child_end, index, path, share, cfg, work),
                daemon=True,
            )
            process.start()
            child_end.close()
            workers.append((parent_end, process))
        for conn, _ in workers:
            conn.send((len(shares), heavy_count(cfg.min_count, len(shares))))
        counted: list[Counted] = _gather(workers, "counted", bar)
        seconds = {"count": time.perf_counter() - start}
        if any(c.min_reduce > 1 for c in counted):
            return None
        for conn, _ in workers:
            conn.send("size")
        # A candidate is heavy in some share, whose known counts hold its end words.
        wanted = set().union(*(c.known.keys() for c in counted))
        asked = [list(wanted.difference(c.known)) for c in counted]
        for (conn, _), keys in zip(workers, asked, strict=True):
            conn.send(keys)
        answers = _gather(workers, "answered")
        seconds["merge"] = time.perf_counter() - start - seconds["count"]
    finally:
        for conn, process in workers:
            conn.close()
            process.join(timeout=10)
            if process.is_alive():
                process.terminate()
        shutil.rmtree(work, ignore_errors=True)
    vocabulary = sum(size for size, _ in answers)  # the parts are disjoint
    if vocabulary > model.max_vocab_size:
        return None
    counts = summed_counts(
        wanted,
        [c.known for c in counted]
        + [
            dict(zip(keys, answer.tolist(), strict=True))
            for keys, (_, answer) in zip(asked, answers, strict=True)
        ],
    )
    phrasegrams = score_phrases(
        phrase_candidates(counts, cfg.min_count),
        counts,
        vocabulary,
        sum(c.words for c in counted),
        model,
    )
    seconds["score"] = time.perf_counter() - start - sum(seconds.values())
    info = {
        "vocabulary": vocabulary,
        "shares": len(shares),
        "phrases": len(phrasegrams),
    }
    return frozen_phrases(phrasegrams, cfg), {**info, "seconds": _rounded(seconds)}


# ---------------------------------------------------------------- the stage


def default_processes() -> int:
    return os.cpu_count() or 1


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
    """Write `out_dir/corpus.txt`: tokenised, phrase-joined text, one paragraph a line.

    The same bytes for any `processes` (default: every core). `lexicon_lemmas` (WordNet
    lemma names) are read only when `phrases.label_lexicon` is set. Raises
    `BadTextError` for an unreadable source or one giving under `min_corpus_tokens`
    tokens; then no `corpus.txt` is left. Returns counts, and seconds and CPU seconds
    (this process's, its worker processes') per step."""
    processes = max(1, processes or default_processes())
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
            with clock.step(f"learn phrases {label}"):
                frozen, info = learn_phrases(
                    current,
                    blocks,
                    phrases,
                    processes,
                    progress,
                    f"learn phrases {label}",
                )
            for part, value in info.pop("seconds").items():
                clock.seconds[f"learn phrases {label}: {part}"] = value
            learnt.append(info)
            with clock.step(f"apply phrases {label}"):
                target = work / f"pass{round_ + 1}.txt"
                with progress_bar(
                    total=len(blocks),
                    desc=f"apply phrases {label}",
                    unit="block",
                    progress=progress,
                ) as bar:
                    jobs = ((current, b) for b in blocks)
                    blocks, final = write_pieces(
                        ordered_map(apply_block, jobs, processes, frozen=frozen),
                        target,
                        bar,
                    )
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
    """Seconds per step, and CPU seconds of this process and of the worker processes
    that finished during the step (Unix; on Windows, seconds only)."""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self.cpu: dict[str, dict[str, float]] = {}

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        wall, cpu = time.perf_counter(), _cpu_seconds()
        yield
        self.seconds[name] = round(time.perf_counter() - wall, 2)
        if cpu is not None:
            (own, workers), (own_then, workers_then) = _cpu_seconds(), cpu
            self.cpu[name] = {
                "own": round(own - own_then, 2),
                "workers": round(workers - workers_then, 2),
            }


def _cpu_seconds() -> tuple[float, float] | None:
    """(this process's, its finished children's) user + system CPU seconds."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    own, children = map(
        resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def _tokenise(source, text, lexicon, joined, processes, progress):
    """Step 1: the source's paragraphs, tokenised and label-joined, into `joined`."""
    state = {"lexicon": lexicon, "min_tokens": text.min_sentence_tokens}
    if is_xml_dump(source):
        # Imported before the pool forks, so that its workers need not import it.
        from gensim.corpora import wikicorpus  # noqa: F401

        fn, items, total, unit = (
            tokenise_pages,
            page_batches(xml_pages(source)),
            None,
            "batch",
        )
    else:
        files = text_files(source, text.max_files)
        fn, items, total, unit = tokenise_file, files, len(files), "file"
    with progress_bar(
        total=total, desc="tokenise + label phrases", unit=unit, progress=progress
    ) as bar:
        return write_pieces(ordered_map(fn, items, processes, **state), joined, bar)


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
