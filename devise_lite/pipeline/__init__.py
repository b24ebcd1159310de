"""The stages of the book as one table (what each builds, from which stages, reading
which parts of the config) and the accessors the chapters call. `get(cfg, name)` is a
stage's artifact, built after its needs (`cache.Run`). Under `torchrun`, `distributed`
stages run on every process (rank 0 writes), the others on rank 0 as the rest wait."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

import pandas as pd

from ..config import Config
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
            build=language.build_shark_check,
            load=lambda run, done: read_csv(done / "shark_neighbours.csv"),
            results=("shark_neighbours.csv",),
        ),
        Stage(
            "features",
            "backbone features of the labelled images (Caltech-101)",
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
            build=caltech.build_finetune,
            load=caltech.load_finetune,
            distributed=True,
        ),
        Stage(
            "evaluate",
            "Table 1",
            needs=("train", "finetune"),
            build=caltech.build_table1,
            load=lambda run, done: read_csv(done / "table1.csv"),
            results=("table1.csv",),
        ),
        Stage(
            "table1_seeds",
            "Table 1's DeViSE and random control, retrained with more seeds",
            needs=("labels", "features", "train"),
            reads=lambda cfg: cfg.table1_seeds,
            build=caltech.build_table1_seeds,
            load=lambda run, done: read_csv(done / "table1_seeds.csv"),
            results=("table1_seeds.csv",),
        ),
        Stage(
            "sample_features",
            "features of the ImageNet sample (one photo a class) and its views",
            reads=features.reads_sample,
            build=features.build_sample_features,
            load=features.load_sample,
        ),
        Stage(
            "shark_features",
            "features of the shark photos",
            reads=features.reads_sharks,
            build=features.build_shark_features,
        ),
        Stage(
            "zeroshot_features",
            "features of the other zero-shot photo sets (Flowers-102, PACS, Food-101)",
            reads=features.reads_zeroshot_photos,
            build=features.build_zeroshot_features,
            load=features.load_array,
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
            build=predictor.build_predictor,
        ),
    ]
}


def at(cfg: Config) -> Run:
    """The table seen through one configuration."""
    return Run(cfg, STAGES)


def by_config(function: Callable) -> Callable:
    """`function(run, ...)` as the chapters call it: `function(cfg, ...)`."""

    @wraps(function)
    def accessor(cfg: Config, *args, **kwargs):
        return function(at(cfg), *args, **kwargs)

    return accessor


def artifact(stage: str, doc: str) -> Callable:
    """The accessor of one stage's artifact, `get(cfg, stage)`: what `doc` says."""

    def accessor(cfg: Config):
        return get(cfg, stage)

    accessor.__doc__ = doc
    return accessor


key = by_config(Run.key)
folder = by_config(Run.folder)
is_built = by_config(Run.is_built)
ensure = by_config(Run.ensure)
get = by_config(Run.get)
info = by_config(Run.info)
publish = by_config(Run.publish)
missing_for = by_config(Run.missing_for)


def upstream(name: str) -> list[str]:
    """Every stage that `name` needs, directly or not, in build order, then itself."""
    return _upstream(STAGES, [name])


def upstream_all(names: list[str]) -> list[str]:
    """The stages `names` need, and themselves, each once, in build order."""
    return _upstream(STAGES, names)


text_source = language.text_source
label_vocabulary = language.label_vocabulary
corpus = artifact("corpus", "Tokenised Wikipedia: one paragraph a line (the file).")
word_vectors = artifact("word2vec", "The skip-gram vectors (gensim, memory-mapped).")
label_space = artifact("labels", "The label space over the vocabulary (`LabelSpace`).")
shark_check = artifact("sharks", "Each shark species' 9 nearest labels (a DataFrame).")


def missing_labels(cfg: Config, gloss: bool = False) -> pd.DataFrame:
    """The synsets without a usable lemma, and why (wnid, name, lemmas): those without
    a vector, or (`gloss`) those whose gloss and hypernyms gave one (chapter 2)."""
    report = read_csv(ensure(cfg, "labels") / "missing.csv")
    return report[report.pop("gloss") == gloss].reset_index(drop=True)


image_split = features.image_split
experiment_labels = by_config(features.experiment_labels)
dropped_labels = by_config(features.dropped_labels)
experiment_images = by_config(features.experiment_images)
image_features = by_config(features.image_features)
trained_models = artifact("train", 'Phase 1: the 3 models by name, "history" (curves).')
fine_tuned_embeddings = artifact("finetune", "Phase 2: the test images' embeddings.")
table1 = artifact("evaluate", "The paper's Table 1 on the test images (a DataFrame).")
table1_seeds = artifact("table1_seeds", "DeViSE and its random control over seeds.")


def phase2_info(cfg: Config) -> dict:
    done = ensure(cfg, "finetune")
    history = done / "history.csv"
    frame = read_csv(history) if history.exists() else None
    return {**read_info(done), "history": frame}


sample_features = artifact("sample_features", "The ImageNet sample's views (`Sample`).")
shark_features = by_config(features.shark_features)
seen_1k = by_config(imagenet1k.seen_1k)
train_devise_1k = by_config(imagenet1k.train_devise_1k)
caltech_zero_shot_data = by_config(caltech.caltech_zero_shot_data)
zero_shot_photos = by_config(zeroshot.zero_shot_photos)
zero_shot_sets = by_config(zeroshot.zero_shot_sets)
placed_1k = by_config(zeroshot.placed_1k)
zero_shot_test_labels = by_config(zeroshot.zero_shot_test_labels)
score_zero_shot = by_config(zeroshot.score_zero_shot)
span_cases = by_config(zeroshot.span_cases)
