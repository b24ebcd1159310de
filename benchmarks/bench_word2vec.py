"""Skip-gram throughput: the project's streaming pipeline against gensim fed in memory.

Both train the same skip-gram settings on the same sentences (the first N paragraphs of
the `book` preset's phrase-joined corpus). "streaming" is what the package does
(`corpus_file=`: gensim's workers read the file themselves); the baseline is gensim
given a Python list of token lists.

    python benchmarks/bench_word2vec.py [--paragraphs 60000] [--preset book]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from dataclasses import replace
from itertools import islice
from pathlib import Path

from devise_lite import pipeline
from devise_lite.collocations import read_lines, write_lines
from devise_lite.config import get_preset
from devise_lite.language_model import skipgram_model, train_skipgram


def skipgram_speeds(cfg, paragraphs: int) -> dict:
    """Words/s of one skip-gram epoch on the first `paragraphs` of `cfg`'s corpus, both
    ways."""
    w2v = replace(cfg.word2vec, epochs=1)
    corpus = pipeline.corpus(cfg)

    with tempfile.TemporaryDirectory() as scratch:
        sample = Path(scratch) / "sample.txt"
        write_lines(islice(read_lines(corpus), paragraphs), sample, desc="sample")
        _, report = train_skipgram(sample, w2v, progress=False)
        streaming = report.words_per_second

        tracemalloc.start()
        sentences = list(read_lines(sample))
        held = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        model = skipgram_model(w2v)
        model.build_vocab(sentences)
        start = time.perf_counter()
        model.train(sentences, total_examples=len(sentences), epochs=1)
        in_memory = model.corpus_total_words / (time.perf_counter() - start)
    return {
        "streaming": streaming,
        "in_memory": in_memory,
        "words": model.corpus_total_words,
        "held_bytes": held,
        "word2vec": w2v,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paragraphs", type=int, default=60_000)
    parser.add_argument("--preset", default="book")
    args = parser.parse_args()
    speeds = skipgram_speeds(get_preset(args.preset), args.paragraphs)
    w2v, streaming, in_memory = (
        speeds["word2vec"],
        speeds["streaming"],
        speeds["in_memory"],
    )

    print(
        f"sample: {args.paragraphs:,} paragraphs, {speeds['words']:,} words, "
        f"skip-gram {w2v.vector_size}-d window {w2v.window}, {w2v.workers} workers"
    )
    print(
        f"in memory (baseline): {in_memory:10,.0f} words/s  (sentences held: "
        f"{speeds['held_bytes'] / 2**20:.0f} MiB)"
    )
    print(
        f"streaming corpus_file: {streaming:10,.0f} words/s  ratio "
        f"{streaming / in_memory:.2f}x"
    )


if __name__ == "__main__":
    main()
