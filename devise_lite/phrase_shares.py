"""The corpus stage's step 2: gensim `Phrases` counts over shares of the corpus file's
blocks on several processes, merged exactly without moving the vocabularies (13 M keys
cost more to pickle than count); where gensim would prune (over 40 M), one process."""

from __future__ import annotations

import gc
import logging
import math
import multiprocessing
import os
import shutil
import time
from collections.abc import Iterable, Iterator, Mapping
from itertools import filterfalse, repeat
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .collocations import (
    count_sentences,
    end_words,
    phrase_candidates,
    phrases_model,
    score_phrases,
)
from .config import PhraseConfig
from .phrases import JOIN
from .progress import progress_bar

log = logging.getLogger(__name__)


class Block(NamedTuple):
    """Byte range [start, end) of one source unit's lines in a corpus file."""

    start: int
    end: int


def read_block(path: Path, block: Block) -> list[list[str]]:
    with open(path, "rb") as handle:
        handle.seek(block.start)
        text = handle.read(block.end - block.start).decode("utf-8")
    return [line.split() for line in text.split("\n")[:-1]]


def read_blocks(path: Path, blocks: list[Block], advance) -> Iterator[list[str]]:
    """The token lists of `blocks`, calling `advance(bytes)` after each block."""
    for block in blocks:
        yield from read_block(path, block)
        advance(block.end - block.start)


def split_blocks(blocks: list[Block], parts: int) -> list[list[Block]]:
    """Up to `parts` non-empty runs of the blocks in order, of about equal bytes."""
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
    """The least count a key totalling > min_count reaches in one of `parts` shares: if
    each held it at most h-1 times, parts*(h-1) >= min_count+1 (pigeonhole)."""
    return math.ceil((min_count + 1) / parts)


def key_parts(keys: Iterable[str], parts: int) -> list[list[str]]:
    """`keys` dealt into `parts` lists by length modulo `parts`: a rule every process
    computes alike (unlike str hashes, unless forked), at no cost."""
    dealt: list[list[str]] = [[] for _ in range(parts)]
    for key in keys:
        dealt[len(key) % parts].append(key)
    return dealt


def part_size(own: int, vocab: Mapping[str, int], others: list[list[str]]) -> int:
    """Distinct keys of a part over all shares: `own`, plus `others`' not in `vocab`."""
    extra: set[str] = set()
    for keys in others[:-1]:
        extra.update(filterfalse(vocab.__contains__, keys))
    last = others[-1] if others else []
    # The last list only needs counting: no set to grow (the only list, for 2 shares).
    unseen = filterfalse(extra.__contains__, filterfalse(vocab.__contains__, last))
    return own + len(extra) + len(list(unseen))


def known_counts(vocab: Mapping[str, int], heavy: int) -> dict[str, int]:
    """Sent unasked: multi-word keys counted >= `heavy` times, and their end words."""
    keys = {k: c for k, c in vocab.items() if c >= heavy and JOIN in k}
    return {**keys, **{w: vocab.get(w, 0) for w in end_words(keys)}}


def summed_counts(keys: Iterable[str], parts: Iterable[Mapping[str, int]]) -> dict:
    totals = dict.fromkeys(keys, 0)
    for counts in parts:
        for key, count in counts.items():
            totals[key] += count
    return totals


def settle_forked_worker() -> None:
    """Keep the garbage collector off what a forked worker inherited: its sweeps write
    to each object's header, copying pages shared with the parent (copy-on-write)."""
    gc.freeze()


class Counted(NamedTuple):
    """What a share's counting worker reports first."""

    words: int  # gensim's corpus_word_count of the share
    min_reduce: int  # 1 unless gensim pruned the share's counts
    known: dict[str, int]  # `known_counts`: candidates and their end words


def _count_worker(conn, index, shares, heavy, path, blocks, cfg, work) -> None:
    """Share `index` of step 2 in its own process: count `blocks`, write the keys' other
    parts to `work`, send `Counted`; on "size", size part `index` from the others' files
    (while the parent works out what it lacks), then send the size and asked counts."""
    settle_forked_worker()
    try:
        sentences = read_blocks(path, blocks, lambda n: conn.send(("progress", n)))
        model = count_sentences(sentences, cfg)
        vocab = model.vocab
        parts = key_parts(vocab, shares)
        for part, keys in enumerate(parts):
            if part != index:
                _part_file(work, index, part).write_text("\n".join(keys), "utf-8")
        known = known_counts(vocab, heavy)
        counted = Counted(model.corpus_word_count, model.min_reduce, known)
        conn.send(("counted", counted))
        conn.recv()  # "size": every part file is written
        others = []
        for other in range(shares):
            if other != index:
                text = _part_file(work, other, index).read_text(encoding="utf-8")
                others.append(text.split("\n") if text else [])
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
    # Freeing millions of keys one by one takes seconds; the OS takes them back at once.
    os._exit(0)


def _send_error(conn: Connection, err: BaseException) -> None:
    """Tell the parent what went wrong: the error itself, else its text."""
    for message in (err, RuntimeError(repr(err))):
        try:
            return conn.send(("error", message))
        except OSError:  # the parent is gone: nobody to tell
            return
        except Exception:  # noqa: BLE001 - it did not pickle: send its text instead
            pass


def _part_file(work: Path, share: int, part: int) -> Path:
    return work / f"keys-{share}-part-{part}.txt"


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
    """(FrozenPhrases, info) of a corpus file, counted in `processes` shares, exact
    without moving vocabularies: a key scoring (count > min_count) reaches `heavy_count`
    in some share, and every share is asked for those keys' and end words' counts; each
    share sizes one part of the keys (`key_parts`), so `len_vocab` is exact too."""
    model = phrases_model(cfg)
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
        start = time.perf_counter()
        whole = count_sentences(read_blocks(path, blocks, bar.update), cfg)
        seconds = {"count": time.perf_counter() - start}
        counts, words = whole.vocab, whole.corpus_word_count
        return _learnt(counts, len(counts), words, 1, model, cfg, start, seconds)


def _learnt(counts, vocabulary, words, shares, model, cfg, start, seconds):
    """A `FrozenPhrases` joining the phrases that score over `counts`, and its info."""
    phrasegrams = score_phrases(
        phrase_candidates(counts, cfg.min_count), counts, vocabulary, words, model
    )
    seconds["score"] = time.perf_counter() - start - sum(seconds.values())
    info = {"vocabulary": vocabulary, "shares": shares, "phrases": len(phrasegrams)}
    rounded = {step: round(value, 2) for step, value in seconds.items()}
    frozen = model.freeze()  # nothing to export: `model` has counted nothing
    frozen.phrasegrams = phrasegrams
    return frozen, {**info, "seconds": rounded}


def _learn_in_shares(path, shares, cfg, model, bar):
    """Step 2 on one process per share; None where gensim would have pruned."""
    context = multiprocessing.get_context()
    work = path.parent / f".{path.name}.counts"
    work.mkdir(exist_ok=True)
    workers, start = [], time.perf_counter()
    heavy = heavy_count(cfg.min_count, len(shares))
    try:
        for index, share in enumerate(shares):
            parent_end, child_end = context.Pipe()
            process = context.Process(
                target=_count_worker,
                args=(child_end, index, len(shares), heavy, path, share, cfg, work),
                daemon=True,
            )
            process.start()
            child_end.close()
            workers.append((parent_end, process))
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
    partial = [c.known for c in counted]
    for keys, (_, answer) in zip(asked, answers, strict=True):
        partial.append(dict(zip(keys, answer.tolist(), strict=True)))
    counts = summed_counts(wanted, partial)
    words = sum(c.words for c in counted)
    return _learnt(counts, vocabulary, words, len(shares), model, cfg, start, seconds)
