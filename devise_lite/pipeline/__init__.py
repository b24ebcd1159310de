"""The stages of the book, as one table: what each builds, from which stages, reading
which parts of the config; and the one-line accessors the chapters call.

`get(cfg, name)` returns a stage's artifact, building it and what it needs first
(`cache.Run`); the command line, the chapters and `predict` all go through it. Each
stage's builder lives beside the concept it builds: `language.py` (corpus, skip-gram,
labels), `features.py` (which images, their features), `caltech.py` (Table 1 and the
first zero-shot experiment), `imagenet1k.py` (the paper's setting's models),
`zeroshot.py` (Tables 2 and 3), `predictor.py`. Under `torchrun`, stages marked
`distributed` run on every process (rank 0 writes the folder); the others run on
rank 0 while the rest wait.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..config import Config
from ..ddp import SINGLE, Group
from ..storage import read_info
from . import caltech, features, imagenet1k, language, predictor, zeroshot
from .cache import Run, Stage, load_tables, read_csv
from .cache import upstream as _upstream

STAGES: dict[str, Stage] = {
    stage.name: stage
    for stage in [
        Stage(
            "corpus",
            "tokenise Wikipedia and join phrases",
            needs=(),
            reads=language.reads_corpus,
            build=language.build_corpus_stage,
            load=lambda run, done: done / "corpus.txt",
        ),
        Stage(
            "word2vec",
            "train skip-gram word vectors",
            needs=("corpus",),
            reads=lambda cfg: cfg.word2vec,
            build=language.build_word2vec,
            load=language.load_word2vec,
        ),
        Stage(
            "labels",
            "embed the label vocabulary",
            needs=("word2vec",),
            reads=lambda cfg: cfg.labels,
            build=language.build_labels,
            load=language.load_labels,
        ),
        Stage(
            "sharks",
            "nearest labels of each shark species",
            needs=("labels",),
            reads=lambda cfg: None,
            build=language.build_shark_check,
            load=lambda run, done: read_csv(done / "shark_neighbours.csv"),
            results=("shark_neighbours.csv",),
        ),
        Stage(
            "features",
            "backbone features of the labelled images (Caltech-101)",
            needs=(),
            reads=features.reads_features,
            build=features.build_features,
            load=features.load_array,
            distributed=True,
        ),
        Stage(
            "train",
            "phase 1: DeViSE, random embeddings, softmax baseline",
            needs=("labels", "features"),
            reads=lambda cfg: cfg.devise,
            build=caltech.build_train,
            load=caltech.load_train,
            distributed=True,
        ),
        Stage(
            "finetune",
            "phase 2: the whole network, briefly on a CPU",
            needs=("train",),
            reads=lambda cfg: None,
            build=caltech.build_finetune,
            load=caltech.load_finetune,
            distributed=True,
        ),
        Stage(
            "evaluate",
            "Table 1",
            needs=("train", "finetune"),
            reads=lambda cfg: None,
            build=caltech.build_table1,
            load=lambda run, done: read_csv(done / "table1.csv"),
            results=("table1.csv",),
        ),
        Stage(
            "table1_seeds",
            "Table 1's DeViSE and random control, retrained with more seeds",
            needs=("labels", "features", "train"),
            reads=caltech.reads_table1_seeds,
            build=caltech.build_table1_seeds,
            load=lambda run, done: read_csv(done / "table1_seeds.csv"),
            results=("table1_seeds.csv",),
        ),
        Stage(
            "sample_features",
            "features of the ImageNet sample (one photo a class) and its views",
            needs=(),
            reads=features.reads_sample,
            build=features.build_sample_features,
            load=features.load_sample,
        ),
        Stage(
            "shark_features",
            "features of the shark photos",
            needs=(),
            reads=features.reads_sharks,
            build=features.build_shark_features,
        ),
        Stage(
            "zeroshot_features",
            "features of the other zero-shot photo sets (Flowers-102, PACS, Food-101)",
            needs=(),
            reads=features.reads_zeroshot_photos,
            build=features.build_zeroshot_features,
            load=features.load_zeroshot_features,
        ),
        Stage(
            "imagenet1k",
            "DeViSE-1K: phase 1 on the ImageNet sample, and its ablations",
            needs=("labels", "sample_features"),
            reads=imagenet1k.reads_models,
            build=imagenet1k.build_imagenet1k,
            load=imagenet1k.load_projections,
        ),
        Stage(
            "shark_models",
            "DeViSE-1K without a shark species (the shark experiment's models)",
            needs=("labels", "sample_features", "shark_features"),
            reads=imagenet1k.reads_models,
            build=imagenet1k.build_shark_models,
            load=imagenet1k.load_projections,
        ),
        Stage(
            "zeroshot_caltech",
            "the first zero-shot experiment: seen labels from Caltech-101",
            needs=("labels", "features"),
            reads=lambda cfg: (cfg.zeroshot, cfg.devise),
            build=caltech.build_zeroshot_caltech,
            load=caltech.load_zeroshot_caltech,
        ),
        Stage(
            "zeroshot",
            "Tables 2 and 3: zero-shot labels, the paper's setting and the first",
            needs=(
                "imagenet1k",
                "zeroshot_caltech",
                "sample_features",
                "zeroshot_features",
            ),
            reads=lambda cfg: cfg.imagenet,
            build=zeroshot.build_zeroshot,
            load=load_tables,
            results=zeroshot.ZERO_SHOT_RESULTS,
        ),
        Stage(
            "zeroshot_sharks",
            "sharks never seen, labelled from the ones seen",
            needs=("shark_models", "sample_features", "shark_features"),
            reads=lambda cfg: cfg.imagenet.conse_t,
            build=zeroshot.build_zeroshot_sharks,
            load=load_tables,
            results=("sharks_zero_shot.csv", "sharks_zero_shot_top5.csv"),
        ),
        Stage(
            "predictor",
            "the models of `predict`, as arrays, and the backbone for ONNX Runtime",
            needs=("zeroshot", "train"),
            reads=lambda cfg: None,
            build=predictor.build_predictor,
        ),
    ]
}


def at(cfg: Config) -> Run:
    """The table seen through one configuration."""
    return Run(cfg, STAGES)


# ---------------------------------------------------------------- the mechanism, by
# configuration (see `cache.Run`)


def key(cfg: Config, name: str) -> str:
    return at(cfg).key(name)


def folder(cfg: Config, name: str) -> Path:
    return at(cfg).folder(name)


def is_built(cfg: Config, name: str) -> bool:
    return at(cfg).is_built(name)


def ensure(cfg: Config, name: str, group: Group = SINGLE) -> Path:
    return at(cfg).ensure(name, group)


def get(cfg: Config, name: str, group: Group = SINGLE):
    return at(cfg).get(name, group)


def info(cfg: Config, name: str) -> dict:
    return at(cfg).info(name)


def publish(cfg: Config, name: str) -> list[Path]:
    return at(cfg).publish(name)


def missing_for(cfg: Config, name: str) -> list[str]:
    return at(cfg).missing_for(name)


def upstream(name: str) -> list[str]:
    """Every stage that `name` needs, directly or not, in build order, then itself."""
    return _upstream(STAGES, [name])


def upstream_all(names: list[str]) -> list[str]:
    """The stages `names` need, and themselves, each once, in build order."""
    return _upstream(STAGES, names)


# ---------------------------------------------------------------- accessors: language


text_source = language.text_source
label_vocabulary = language.label_vocabulary


def corpus(cfg: Config) -> Path:
    """Tokenised, phrase-joined Wikipedia text: one paragraph a line (the file)."""
    return get(cfg, "corpus")


def word_vectors(cfg: Config):
    """The skip-gram word vectors (gensim KeyedVectors, memory-mapped)."""
    return get(cfg, "word2vec")


def label_space(cfg: Config):
    """The label space over the vocabulary (a `labels.LabelSpace`)."""
    return get(cfg, "labels")


def missing_labels(cfg: Config) -> pd.DataFrame:
    """The synsets without a usable word, and why (DataFrame: wnid, name, lemmas)."""
    return read_csv(ensure(cfg, "labels") / "missing.csv")


def shark_check(cfg: Config) -> pd.DataFrame:
    """Each shark species' 9 nearest labels (`data/results/shark_neighbours.csv`)."""
    return get(cfg, "sharks")


# ---------------------------------------------------------------- accessors: images,
# Table 1

image_split = features.image_split


def experiment_labels(cfg: Config) -> list[str]:
    return features.experiment_labels(at(cfg))


def dropped_labels(cfg: Config) -> list[str]:
    return features.dropped_labels(at(cfg))


def experiment_images(cfg: Config, part: str) -> features.Selection:
    return features.experiment_images(at(cfg), part)


def image_features(cfg: Config, part: str) -> tuple[np.ndarray, np.ndarray]:
    return features.image_features(at(cfg), part)


def trained_models(cfg: Config) -> dict:
    """Phase 1's three models by name, and "history" (a DataFrame of the curves)."""
    return get(cfg, "train")


def fine_tuned_embeddings(cfg: Config) -> np.ndarray:
    """Phase 2: unit embeddings of the test images under the tuned network."""
    return get(cfg, "finetune")


def phase2_info(cfg: Config) -> dict:
    done = ensure(cfg, "finetune")
    history = done / "history.csv"
    frame = read_csv(history) if history.exists() else None
    return {**read_info(done), "history": frame}


def table1(cfg: Config) -> pd.DataFrame:
    """The paper's Table 1 on the test images (`data/results/table1.csv`)."""
    return get(cfg, "evaluate")


def table1_seeds(cfg: Config) -> pd.DataFrame:
    """DeViSE and its random control over several seeds (`table1_seeds.csv`)."""
    return get(cfg, "table1_seeds")


# ---------------------------------------------------------------- accessors: zero-shot


def shark_features(cfg: Config) -> dict:
    return features.shark_features(at(cfg))


def sample_features(cfg: Config) -> features.Sample:
    return get(cfg, "sample_features")


def seen_1k(cfg: Config) -> list[str]:
    return imagenet1k.seen_1k(at(cfg))


def train_devise_1k(cfg: Config, views: int | None = None, **settings):
    return imagenet1k.train_devise_1k(at(cfg), views, **settings)


def caltech_zero_shot_data(cfg: Config):
    return caltech.caltech_zero_shot_data(at(cfg))


def zero_shot_photos(cfg: Config) -> zeroshot.TestPhotos:
    return zeroshot.zero_shot_photos(at(cfg))


def zero_shot_sets(cfg: Config) -> dict[str, list[str]]:
    return zeroshot.zero_shot_sets(at(cfg), seen_1k(cfg))


def placed_1k(cfg: Config, features_: np.ndarray, models: dict | None = None) -> dict:
    return zeroshot.placed_1k(at(cfg), features_, models or get(cfg, "imagenet1k"))


def zero_shot_test_labels(cfg: Config, names=("2-hop", "3-hop", "21k")):
    return zeroshot.zero_shot_test_labels(at(cfg), zero_shot_sets(cfg), names)


def score_zero_shot(cfg: Config, points: dict, candidate_set: str = "2-hop"):
    sets = zero_shot_sets(cfg)
    return zeroshot.score_zero_shot(at(cfg), points, sets, candidate_set)


def span_cases(cfg: Config) -> dict[str, tuple]:
    return zeroshot.span_cases(at(cfg))
