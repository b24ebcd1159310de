"""The line each chapter prints first: its numbers' preset and, on `tiny`, why its
answers are rough, lest a reader take a test-sized run for the method (issue O)."""

from __future__ import annotations

from ..config import Config


def preset_note(cfg: Config) -> str:
    """ "preset: book", or for `tiny` what it is made of and what that costs."""
    if cfg.name != "tiny":
        return f"preset: {cfg.name}"
    files = (cfg.text.max_files or 0) + len(cfg.text.extra_files)
    return (
        f"preset: tiny, a test-sized run: {cfg.word2vec.vector_size}-d word vectors "
        f"from {files} Wikipedia files (about 1 M words, the paper read 5.4 B),\n"
        f"{len(cfg.images.labels or ())} Caltech labels, and one photo of each of "
        f"{cfg.imagenet.sample_classes} ILSVRC classes: its answers are rough. The "
        "rendered book runs the `book` preset."
    )
