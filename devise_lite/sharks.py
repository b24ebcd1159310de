"""The paper's running example: sharks. What counts as a shark, and the shark photos.

ILSVRC-2012 has three shark classes (great white, tiger shark, hammerhead); the data
mirror has underwater photos of two of them (`datasets.SHARK_FOLDERS`). "A shark" is
`shark.n.01` or any synset below it in WordNet, decided here once for the label-space
check of chapter 2 and the zero-shot experiment of chapter 6.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from .datasets import IMAGE_SUFFIXES, SHARK_FOLDERS, locate
from .images import LabelledImage

SHARK = "shark.n.01"
GREAT_WHITE, TIGER_SHARK, HAMMERHEAD = "n01484850", "n01491361", "n01494475"
# ILSVRC-2012's shark classes; hammerhead.n.03 is the shark (n.01 is a dunce, n.02 the
# striking part of a hammer), which is why labels are synsets, never words.
SHARK_SPECIES = {
    GREAT_WHITE: "great white shark",
    TIGER_SHARK: "tiger shark",
    HAMMERHEAD: "hammerhead",
}


@functools.lru_cache(maxsize=1)
def _sharks() -> frozenset[str]:
    from .wordnet import wnid_of, wordnet

    shark = wordnet().synset(SHARK)
    below = shark.closure(lambda s: s.hyponyms() + s.instance_hyponyms())
    return frozenset({wnid_of(shark)} | {wnid_of(s) for s in below})


def is_shark(wnid: str) -> bool:
    """True for shark.n.01 and every synset below it."""
    return wnid in _sharks()


def shark_wnids(vocabulary: Iterable[str], species_only: bool = False) -> list[str]:
    """The sharks of `vocabulary`, in its order; `species_only` leaves out shark.n.01."""
    from .wordnet import wnid_of, wordnet

    top = wnid_of(wordnet().synset(SHARK))
    return [w for w in vocabulary if is_shark(w) and not (species_only and w == top)]


def shark_photos() -> dict[str, list[LabelledImage]]:
    """The underwater photos of the mirror's two species, keyed by wnid, sorted."""
    root = locate("sharks")
    photos = {}
    for species in SHARK_FOLDERS:
        folder = root / species.folder
        files = sorted(
            p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES
        )
        photos[species.wnid] = [
            LabelledImage(path, species.wnid, species.folder) for path in files
        ]
    return photos
