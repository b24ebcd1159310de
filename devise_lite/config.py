"""Typed configuration: one frozen dataclass per component, and named presets. Each
stage's cache key hashes only the parts of `Config` it reads (`stage_key`)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass, field, replace

from .errors import BadInputError

PRESET_ENV = "DEVISE_PRESET"


@dataclass(frozen=True)
class TextConfig:
    """Which Wikipedia text to read and how much of it."""

    # a registry name (datasets.py), or `path`: a folder or *.xml.bz2 dump of your own
    dataset: str = "wikipedia"
    path: str | None = None
    max_files: int | None = None  # WikiExtractor files to read; XML dumps ignore it
    # and these WikiExtractor files too (e.g. "AD/wiki_05.bz2"): the running examples'
    # articles for the tiny preset. Hashed only when set: other presets' keys stay.
    extra_files: tuple[str, ...] = field(default=(), metadata={"key_when_set": True})
    min_sentence_tokens: int = 3
    processes: int | None = None  # corpus stage processes; None: every core


@dataclass(frozen=True)
class PhraseConfig:
    """Multi-word phrases: gensim `Phrases` statistics plus the label lexicon."""

    min_count: int = 5
    threshold: float = 10.0
    passes: int = 1  # each pass can lengthen a phrase by one word
    label_lexicon: bool = True  # also join n-grams that are lemmas of the vocabulary


@dataclass(frozen=True)
class Word2VecConfig:
    """Skip-gram settings (gensim names)."""

    vector_size: int = 500
    window: int = 20
    hs: int = 1
    negative: int = 0
    epochs: int = 1
    min_count: int = 5
    sample: float = 1e-4
    alpha: float = 0.025
    workers: int = 2  # gensim's threads race: only 1 worker repeats itself exactly
    seed: int = 0


@dataclass(frozen=True)
class LabelConfig:
    """How label vectors are made and which synsets form the label vocabulary."""

    vocabulary: str = "imagenet21k"  # ImageNet fall-2011 synsets shipped by timm
    lemma_weighting: str = "mean"  # "mean" of usable lemmas, or the "first" usable
    head_weight: float = 2.0  # a compound's last word names its kind
    phrase_weight: float = 0.5  # phrase vector vs. words vector of a multi-word lemma
    center: bool = True  # subtract the label vectors' mean (labels.py, rule 5)
    # no lemma known: a vector from the synset's gloss and hypernyms (chapter 2)
    gloss_fallback: bool = True


@dataclass(frozen=True)
class ImageConfig:
    """The labelled image set and its fixed split."""

    # a registry name, or the path of an ImageNet-style folder (imagefolders.py)
    dataset: str = "caltech101"
    train_per_class: int | None = 30  # None: all (only for folders with their own val/)
    test_per_class: int | None = 50  # None: all remaining images
    max_classes: int | None = None  # a seeded subset of the labels
    labels: tuple[str, ...] | None = None  # or exactly these labels (wnids)
    seed: int = 0


@dataclass(frozen=True)
class VisualConfig:
    """The pretrained CNN whose classifier is cut off."""

    backbone: str = "efficientnet_lite0"  # or a torchvision name: "alexnet", ...
    image_size: int = 224
    batch_size: int = 32
    num_threads: int = 2
    device: str = "auto"  # "auto" picks CUDA when present
    engine: str = "auto"  # feature engine: "auto", "onnx" or "torch" (torch_engines.py)


@dataclass(frozen=True)
class DeviseConfig:
    """The projection and its two training phases."""

    margin: float = 0.1  # the paper's margin, a fraction of the unit norm
    loss: str = "truncated"  # "truncated" (paper) or "full" (all false labels)
    phase1_epochs: int = 60
    phase1_lr: float = 0.5
    phase1_momentum: float = 0.9
    batch_size: int = 64
    phase2_epochs: int = 1
    phase2_lr: float = 1e-3
    phase2_max_steps: int | None = None
    softmax_epochs: int = 60
    softmax_lr: float = 0.1
    seed: int = 0


@dataclass(frozen=True)
class ZeroShotConfig:
    """The zero-shot chapter's seen/unseen split among the Caltech labels."""

    unseen_share: float = 0.2
    # hold out one member per family of labels this close (splits.py); None: uniform
    family_hops: int | None = 2
    seed: int = 0
    conse_top_t: int = 10


@dataclass(frozen=True)
class ImageNetConfig:
    """The paper's zero-shot setting: the 1,000 ILSVRC-2012 labels are the seen ones."""

    sample: str = "imagenet_sample"  # one photo a class (datasets.py)
    sample_classes: int | None = None  # a seeded subset of the 1,000 classes (tests)
    shark_photos: int | None = None  # the first N mirror photos of each species (tests)
    lists: str = "imagenet_zsl_lists"  # the standard 2-hop / 3-hop / all lists
    # Augmented views of each sample photo that train DeViSE-1K: one photo a class is
    # little, and chapter 6 measures what 1 and 3 views give instead.
    views: int = 10
    view_ablation: tuple[int, ...] = (1, 3)
    # The paper's other levers, each changed alone on DeViSE-1K (chapter 6's second
    # ablation): (phase 1 setting, value). The word vectors' size and window, and
    # phase 2 on the sample, cost a skip-gram run or a fine-tuning each: not tried here.
    lever_ablation: tuple[tuple[str, object], ...] = (
        ("margin", 0.05),
        ("margin", 0.2),
        ("loss", "full"),
        ("phase1_epochs", 40),
    )
    # Phase 1 on the sample: 20 epochs of large batches (the learning rate scaled with
    # them) match 60 of batch 64 in quality at a third of the steps (chapter 6).
    epochs: int = 20
    batch_size: int = 256
    lr: float = 2.0
    conse_top_t: tuple[int, ...] = (1, 10, 1000)  # ConSE's T, as in its paper
    conse_t: int = 10  # "ConSE-1K": the T of predict, the explorer and the figures
    seen_counts: tuple[int, ...] = (50, 100, 250, 500)  # seeded subsets, the figure
    shark_extra_photos: int = 30  # held-in species' mirror photos in a variant
    shark_views: int = 30  # and in another, this many views of the seen sharks' photo
    seed: int = 0


@dataclass(frozen=True)
class ZeroShotPhotosConfig:
    """More zero-shot test photos: labelled sets mapped to WordNet (chapter 6)."""

    datasets: tuple[str, ...] = ("flowers102", "pacs", "food101")
    per_class: int | None = None  # the first N photos of each class (tests); None: all


@dataclass(frozen=True)
class Config:
    name: str = "book"
    text: TextConfig = field(default_factory=TextConfig)
    phrases: PhraseConfig = field(default_factory=PhraseConfig)
    word2vec: Word2VecConfig = field(default_factory=Word2VecConfig)
    labels: LabelConfig = field(default_factory=LabelConfig)
    images: ImageConfig = field(default_factory=ImageConfig)
    visual: VisualConfig = field(default_factory=VisualConfig)
    devise: DeviseConfig = field(default_factory=DeviseConfig)
    zeroshot: ZeroShotConfig = field(default_factory=ZeroShotConfig)
    imagenet: ImageNetConfig = field(default_factory=ImageNetConfig)
    zeroshot_photos: ZeroShotPhotosConfig = field(default_factory=ZeroShotPhotosConfig)
    # More seeds of DeViSE and its random control (Table 1's noise, chapter 5): each
    # retrains both maps with the seed (weights, batch order, random vectors).
    table1_seeds: tuple[int, ...] = (1, 2, 3)


TINY_LABELS = (
    "n02110341",  # dalmatian
    "n02127808",  # big cat
    "n02268443",  # dragonfly
    "n02709367",  # anchor
    "n02841315",  # binoculars
    "n03261776",  # earphone
    "n03271574",  # electric fan
    "n03642806",  # laptop
    "n04555897",  # watch
    "n05481095",  # brain
    "n11714853",  # water lily
    "n13393762",  # bill (banknote)
)


def _tiny() -> Config:
    # Seconds per stage, and every stage repeats itself exactly (one skip-gram worker).
    return Config(
        name="tiny",
        table1_seeds=(1,),
        # the first 3 files, and the mirror's 4 with the Shark, Great white shark, Whale
        # and Hammerhead shark articles: the chapters' running examples need those words
        text=TextConfig(
            max_files=3,
            extra_files=(
                "AC/wiki_59.bz2",
                "AD/wiki_05.bz2",
                "AD/wiki_06.bz2",
                "AB/wiki_07.bz2",
            ),
            processes=1,
        ),
        phrases=PhraseConfig(min_count=3, threshold=10.0),
        word2vec=Word2VecConfig(
            vector_size=50,
            window=5,
            hs=0,
            negative=5,
            # 1 M words want a high rate and few frequent words kept: with 3 passes,
            # sample 1e-3 and alpha 0.025 every cosine was near 0.97 and "shark"'s
            # neighbours were "electron, sum"; with these, "sharks, great_white,
            # whales", and "hammerhead"'s "oceanic_whitetip, scalloped" (issue O)
            epochs=5,
            alpha=0.1,
            min_count=3,
            sample=1e-4,
            workers=1,
        ),
        # 12 Caltech labels whose names occur in the first 3 files (most do not)
        images=ImageConfig(train_per_class=5, test_per_class=5, labels=TINY_LABELS),
        visual=VisualConfig(image_size=128),
        devise=DeviseConfig(
            phase1_epochs=20, phase2_max_steps=2, softmax_epochs=20, batch_size=16
        ),
        imagenet=ImageNetConfig(
            sample_classes=100,
            shark_photos=20,
            views=1,
            view_ablation=(2,),
            lever_ablation=(("margin", 0.2),),
            epochs=5,
            seen_counts=(50,),
            conse_top_t=(1, 10),
            shark_extra_photos=5,
            shark_views=2,
        ),
        zeroshot_photos=ZeroShotPhotosConfig(per_class=2),
    )


def _book() -> Config:
    # Adapted to 40 M words on 2 cores; the introduction and chapter 1 say what changed.
    return Config(
        name="book",
        # Negative sampling, 500 dimensions; 3 passes at sample 1e-5 cost what 2 at 1e-4
        # did and rank validation labels better over 3 draws; twice gensim's rate (0.025
        # under-trains). Both chosen on validation labels, never on the test (chapter 6)
        word2vec=Word2VecConfig(
            window=7, hs=0, negative=3, epochs=3, sample=1e-5, alpha=0.05
        ),
        devise=DeviseConfig(phase2_max_steps=12),
    )


def _paper() -> Config:
    # The user's own data (README, "Paper scale"), else the mirror's: $DEVISE_TEXT (a
    # Wikipedia dump or WikiExtractor folder), $DEVISE_IMAGES (an ImageNet-like folder).
    images, imagenet = ImageConfig(test_per_class=None), ImageNetConfig()
    if own := os.environ.get("DEVISE_IMAGES"):
        images = ImageConfig(dataset=own, train_per_class=None, test_per_class=None)
        # DeViSE-1K trains on ILSVRC-2012's training photos when they are given (one
        # view each: 1.28 M photos need no augmentation), else on the mirror's sample.
        train = os.path.join(own, "train")
        imagenet = ImageNetConfig(sample=train, views=1, view_ablation=())
    cores = os.cpu_count() or 2
    return Config(
        name="paper",
        text=TextConfig(path=os.environ.get("DEVISE_TEXT") or None),
        phrases=PhraseConfig(passes=2),
        word2vec=Word2VecConfig(workers=cores),  # the defaults are the paper's
        images=images,
        visual=VisualConfig(backbone="alexnet", batch_size=256, num_threads=cores),
        devise=DeviseConfig(phase2_epochs=10, phase2_max_steps=None, batch_size=128),
        imagenet=imagenet,
    )


PRESETS = {"tiny": _tiny, "book": _book, "paper": _paper}

# What each preset is for, and what a cold run costs (README, "Timings").
PRESET_HELP = {
    "tiny": "the tests: 7 Wikipedia files, 12 image labels; a few minutes cold",
    "book": "the rendered book on a 2-core CPU; 17 to 20 minutes cold, seconds warm",
    "paper": "the paper's settings, for GPUs and all of Wikipedia; days on a CPU",
}


def get_preset(name: str) -> Config:
    """The named preset; raises with the list of valid names otherwise."""
    try:
        return PRESETS[name]()
    except KeyError:
        raise BadInputError(
            f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}"
        ) from None


def preset_name(default: str = "book") -> str:
    """The preset $DEVISE_PRESET names (the chapters and the CLI), else `default`."""
    return os.environ.get(PRESET_ENV) or default


def preset_from_env(default: str = "book") -> Config:
    """The preset named by $DEVISE_PRESET, else `default`."""
    return get_preset(preset_name(default))


def with_overrides(cfg: Config, **parts) -> Config:
    """`with_overrides(cfg, word2vec={"epochs": 3})`: a copy, those fields changed."""
    changes = {name: replace(getattr(cfg, name), **v) for name, v in parts.items()}
    return replace(cfg, **changes)


def stage_key(*parts) -> str:
    """A short stable hash of config parts (dataclasses, strings, numbers, and lists or
    tuples of them, nested) for cache folder names."""

    def plain(obj):
        if dataclasses.is_dataclass(obj):
            return {
                f.name: plain(getattr(obj, f.name))
                for f in dataclasses.fields(obj)
                if not (
                    f.metadata.get("key_when_set") and getattr(obj, f.name) == f.default
                )
            }
        if isinstance(obj, (list, tuple)):
            return [plain(item) for item in obj]
        if isinstance(obj, dict):
            return {key: plain(value) for key, value in obj.items()}
        return obj

    blob = json.dumps(plain(parts), sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]
