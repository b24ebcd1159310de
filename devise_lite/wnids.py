"""ImageNet's class ids (wnids) without WordNet: "n" + a WordNet 3.0 noun offset in 8
digits (n01491361 is tiger_shark.n.01), and the lists the PyPI package timm ships."""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

from .errors import UserError


def is_wnid(text: str) -> bool:
    """True for a WordNet noun id like 'n01491361'."""
    return len(text) == 9 and text[0] == "n" and text[1:].isdigit()


def imagenet21k_wnids() -> list[str]:
    """The 21,841 wnids of ImageNet's fall-2011 release, from the list `timm` ships."""
    return _timm_list("imagenet22k_synsets.txt")


def imagenet1k_wnids() -> list[str]:
    """The 1,000 ILSVRC-2012 wnids (the classes the pretrained backbone learnt)."""
    return _timm_list("imagenet_synsets.txt")


@functools.lru_cache(maxsize=4)
def _timm_list(name: str) -> list[str]:
    # Found without importing timm (it imports torch): `predict` answers without torch.
    spec = importlib.util.find_spec("timm")
    if spec is None or spec.origin is None:
        raise UserError(
            "the ImageNet synset lists come with the PyPI package timm: "
            "pip install timm"
        )
    path = Path(spec.origin).parent / "data" / "_info" / name
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]
