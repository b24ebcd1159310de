"""The stages of the book, as one table: what each builds, from which stages, reading
which parts of the config.

A stage's cache folder, `data/cache/<stage>-<key>/`, is keyed by what the stage reads
(`Stage.reads`) and by the keys of the stages it needs (`Stage.needs`), computed in one
place (`key`): change a setting and exactly the stages downstream of it rebuild. A
folder is written atomically and counts only once finished (`storage.cached_dir`), so
an interrupted stage leaves nothing a later run would trust, and what it had finished
(feature chunks, training epochs) waits in a checkpoint folder for the rerun.

`get(cfg, name)` returns a stage's artifact, building it and what it needs first; the
command line, the chapters and `predict` all go through it, and the accessors below
(`label_space(cfg)`, `trained_models(cfg)`, ...) are one line each. Under `torchrun`,
stages marked `distributed` run on every process (rank 0 writes the folder); the others
run on rank 0 while the rest wait.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from .config import Config, stage_key
from .ddp import SINGLE, Group, barrier, broadcast
from .storage import (
    checkpoint_dir,
    cached_dir,
    is_done,
    read_info,
    results_dir,
    stage_dir,
)

# ---------------------------------------------------------------- the mechanism


@dataclass(frozen=True)
class Stage:
    """One row of the table of stages."""

    name: str
    help: str
    needs: tuple[str, ...]  # the stages whose artifacts it reads
    reads: Callable[[Config], Any]  # what of the config (or the data) it depends on
    build: Callable[[Config, Path | None, Group], dict | None]  # fills the folder
    load: Callable[[Config, Path], Any] = lambda cfg, folder: folder
    results: tuple[str, ...] = ()  # files of the folder copied to data/results/
    distributed: bool = False  # runs on every torchrun process


def key(cfg: Config, name: str) -> str:
    """The cache key of a stage: a hash of what it reads and of its upstream keys."""
    stage = STAGES[name]
    upstream = [key(cfg, need) for need in stage.needs]
    return stage_key(name, stage.reads(cfg), *upstream)


def folder(cfg: Config, name: str) -> Path:
    return stage_dir(name, key(cfg, name))


def checkpoints(cfg: Config, name: str) -> Path:
    return checkpoint_dir(name, key(cfg, name))


def is_built(cfg: Config, name: str) -> bool:
    return is_done(folder(cfg, name))


def ensure(cfg: Config, name: str, group: Group = SINGLE) -> Path:
    """The stage's finished folder, built (after what it needs) if missing.

    Every decision that depends on the disk is rank 0's, broadcast, so all ranks of a
    torchrun take the same branch even while a shared file system catches up."""
    stage, target = STAGES[name], folder(cfg, name)
    if broadcast(is_done(target), group):
        return target
    for need in stage.needs:
        ensure(cfg, need, group)
    if stage.distributed:
        if group.is_main:
            cached_dir(target, lambda tmp: stage.build(cfg, tmp, group))
        else:
            stage.build(cfg, None, group)
    elif group.is_main:
        cached_dir(target, lambda tmp: stage.build(cfg, tmp, SINGLE))
    barrier(group)
    if group.is_main:
        shutil.rmtree(checkpoints(cfg, name), ignore_errors=True)
        publish(cfg, name)  # results are written where users look, once built
    return target


def get(cfg: Config, name: str, group: Group = SINGLE):
    """The stage's artifact (`Stage.load` of its folder), built first if needed."""
    return STAGES[name].load(cfg, ensure(cfg, name, group))


def info(cfg: Config, name: str) -> dict:
    """What the stage recorded about its run (`done.json`: sizes, seconds, ...)."""
    return read_info(ensure(cfg, name))


def publish(cfg: Config, name: str) -> list[Path]:
    """Copy the stage's result files to `data/results/`; returns their paths there."""
    source = folder(cfg, name)
    copied = []
    for file in STAGES[name].results:
        target = results_dir() / file
        shutil.copyfile(source / file, target)
        copied.append(target)
    return copied


def upstream(name: str) -> list[str]:
    """Every stage that `name` needs, directly or not, in build order, then itself."""
    order: list[str] = []

    def visit(stage: str) -> None:
        for need in STAGES[stage].needs:
            visit(need)
        if stage not in order:
            order.append(stage)

    visit(name)
    return order


def upstream_all(names: list[str]) -> list[str]:
    """The stages `names` need, and themselves, each once, in build order."""
    return list(dict.fromkeys(stage for name in names for stage in upstream(name)))


def missing_for(cfg: Config, name: str) -> list[str]:
    """The stages that still have to be built before `name` can load (nothing built)."""
    return [stage for stage in upstream(name) if not is_built(cfg, stage)]


def read_csv(path: Path):
    """A CSV of a stage folder as a DataFrame (pandas is imported only when needed:
    `predict` reads stage keys and answers without it)."""
    import pandas as pd

    return pd.read_csv(path)


# ---------------------------------------------------------------- language half


def text_source(cfg: Config) -> Path:
    from .datasets import locate

    return Path(cfg.text.path) if cfg.text.path else locate(cfg.text.dataset)


def label_vocabulary(cfg: Config) -> list[str]:
    """ImageNet-21K wnids plus the labels of the image datasets, in that order, without
    repeats."""
    from .images import caltech_mapping
    from .sharks import SHARK_SPECIES
    from .wordnet import imagenet21k_wnids

    if cfg.labels.vocabulary != "imagenet21k":
        raise ValueError(
            f"unknown label vocabulary {cfg.labels.vocabulary!r}; use 'imagenet21k'"
        )
    caltech = [w for w in caltech_mapping()["wnid"] if w]
    return list(dict.fromkeys(imagenet21k_wnids() + caltech + list(SHARK_SPECIES)))


def _build_corpus(cfg: Config, out: Path, _group: Group) -> dict:
    from .phrases import LabelLexicon, apply_phrases, write_lines
    from .text import read_documents, sentences
    from .wordnet import lemma_names, synset_of

    lexicon = LabelLexicon([], 0)
    if cfg.phrases.label_lexicon:
        lemmas = (
            lemma for w in label_vocabulary(cfg) for lemma in lemma_names(synset_of(w))
        )
        lexicon = LabelLexicon(lemmas)
    joined = out / "joined.txt"
    docs = read_documents(text_source(cfg), cfg.text.max_files)
    paragraphs = sentences(docs, cfg.text.min_sentence_tokens)
    n_par, n_tok = write_lines(
        (lexicon.join(s) for s in paragraphs), joined, desc="tokenise + label phrases"
    )
    if cfg.phrases.passes:
        apply_phrases(joined, out / "corpus.txt", cfg.phrases, total=n_par)
        joined.unlink()
    else:
        joined.rename(out / "corpus.txt")
    return {"paragraphs": n_par, "tokens": n_tok, "label_phrases": len(lexicon)}


def _build_word2vec(cfg: Config, out: Path, _group: Group) -> dict:
    from .language_model import train_skipgram

    model, report = train_skipgram(corpus(cfg), cfg.word2vec)
    model.wv.save(str(out / "vectors.kv"))
    return {
        "words": report.words,
        "train_seconds": round(report.seconds, 2),
        "words_per_second": round(report.words_per_second),
        "vocabulary": report.vocabulary,
    }


def _load_word2vec(_cfg: Config, done: Path):
    from gensim.models import KeyedVectors

    return KeyedVectors.load(str(done / "vectors.kv"), mmap="r")


def _build_labels(cfg: Config, out: Path, _group: Group) -> dict:
    from .labels import build_label_space

    space, missing = build_label_space(
        label_vocabulary(cfg), word_vectors(cfg), cfg.labels
    )
    space.save(out / "labels.npz")
    missing.to_csv(out / "missing.csv", index=False)
    return {"labels": len(space), "missing": len(missing)}


def _load_labels(_cfg: Config, done: Path):
    from .labels import LabelSpace

    return LabelSpace.load(done / "labels.npz")


def _build_shark_check(cfg: Config, out: Path, _group: Group) -> dict:
    from .neighbours import shark_neighbours

    table = shark_neighbours(label_space(cfg), k=9)
    table.to_csv(out / "shark_neighbours.csv", index=False)
    return {"species": int(table["query_wnid"].nunique())}


# ---------------------------------------------------------------- images and features


def image_split(cfg: Config):
    """The fixed split of the labelled image set over all its labels (chapter 3);
    `max_classes` picks a seeded subset of those labels. No word vector is involved:
    labels without a vector are dropped later, by `experiment_labels`."""
    from .imagefolders import folder_split, is_folder_dataset
    from .images import caltech_split

    if is_folder_dataset(cfg.images.dataset):  # the user's ImageNet-style folder
        return folder_split(cfg.images)
    return caltech_split(cfg.images)


def labelled_images(cfg: Config) -> list:
    """Every image the `features` stage extracts, in its row order: train, then test."""
    split = image_split(cfg)
    return split.train + split.test


def image_root(cfg: Config) -> Path:
    """The folder the labelled image set lies in (a mirror, the data root, or yours)."""
    from .datasets import locate
    from .imagefolders import is_folder_dataset

    if is_folder_dataset(cfg.images.dataset):
        return Path(cfg.images.dataset).expanduser()
    return locate(cfg.images.dataset)


def _image_list(cfg: Config) -> list[str]:
    """The features' key: the images' paths relative to their dataset, so a moved or
    re-mounted mirror finds its cache."""
    root = image_root(cfg)
    return [image.path.relative_to(root).as_posix() for image in labelled_images(cfg)]


def experiment_labels(cfg: Config) -> list[str]:
    """The labels every Table 1 model ranks: the image set's labels that have a vector
    (a label DeViSE cannot embed is dropped for every model, so all rows rank the same
    candidates)."""
    space = label_space(cfg)
    return [w for w in image_split(cfg).wnids if w in space]


def dropped_labels(cfg: Config) -> list[str]:
    """The image set's labels left out because they have no label vector."""
    space = label_space(cfg)
    return [w for w in image_split(cfg).wnids if w not in space]


@dataclass(frozen=True)
class Selection:
    """The experiment's images of one part, with their rows in the features array."""

    images: list  # LabelledImage, in feature-row order
    rows: np.ndarray  # row of each image in the features stage's array
    targets: np.ndarray  # class index of each image in `labels`
    labels: list[str]  # the experiment labels (class index i means labels[i])


def experiment_images(cfg: Config, part: str) -> Selection:
    """The "train" or "test" images of the experiment labels, computed in one place."""
    split = image_split(cfg)
    if part not in ("train", "test"):
        raise ValueError(f"part must be 'train' or 'test', got {part!r}")
    labels = experiment_labels(cfg)
    index = {w: i for i, w in enumerate(labels)}
    offset = 0 if part == "train" else len(split.train)
    chosen = [
        (offset + row, image)
        for row, image in enumerate(getattr(split, part))
        if image.wnid in index
    ]
    return Selection(
        images=[image for _, image in chosen],
        rows=np.array([row for row, _ in chosen], dtype=np.int64),
        targets=np.array([index[image.wnid] for _, image in chosen], dtype=np.int64),
        labels=labels,
    )


def visual_per_rank(cfg: Config, group: Group):
    """The visual config with this machine's CPU threads shared among its ranks (the
    threads are in no cache key, so the artifacts are those of the one-process run)."""
    threads = max(1, cfg.visual.num_threads // group.local_world)
    return replace(cfg.visual, num_threads=threads)


def _build_features(cfg: Config, out: Path | None, group: Group) -> dict:
    from .visual import extract_features

    images = labelled_images(cfg)
    stats = extract_features(
        [image.path for image in images],
        visual_per_rank(cfg, group),
        out / "features.npy" if out else None,
        checkpoints(cfg, "features"),
        group=group,
        desc=f"features {cfg.images.dataset}",
    )
    if out is not None:
        import pandas as pd

        table = {"image": _image_list(cfg), "wnid": [i.wnid for i in images]}
        pd.DataFrame(table).to_csv(out / "images.csv", index=False)
    return stats


def _load_features(_cfg: Config, done: Path) -> np.ndarray:
    # Memory-mapped: at paper scale the array is 21 GB, and the processes of a machine
    # share one copy through the page cache.
    return np.load(done / "features.npy", mmap_mode="r")


def image_features(cfg: Config, part: str) -> tuple[np.ndarray, np.ndarray]:
    """Cached backbone features of the experiment's "train" or "test" images, and their
    class indices into `experiment_labels(cfg)`."""
    selection = experiment_images(cfg, part)
    features = get(cfg, "features")
    return np.asarray(features[selection.rows]), selection.targets


# ---------------------------------------------------------------- phase 1, phase 2, Table 1


def _build_train(cfg: Config, out: Path | None, group: Group) -> dict:
    import pandas as pd
    import torch

    from .devise import hit_rate_monitor, train_projection, train_softmax
    from .evaluation import DEVISE, RANDOM, SOFTMAX, model_file
    from .labels import random_label_space

    labels = experiment_labels(cfg)
    space = label_space(cfg).subset(labels)
    vectors = {
        DEVISE: space.vectors,
        RANDOM: random_label_space(space, cfg.devise.seed).vectors,
    }
    x, y = image_features(cfg, "train")
    x_test, y_test = image_features(cfg, "test")
    saved = checkpoints(cfg, "train")
    saved.mkdir(parents=True, exist_ok=True)
    models, histories = {}, []
    for name, label_vectors in vectors.items():
        models[name], history = train_projection(
            x,
            y,
            label_vectors,
            cfg.devise,
            group=group,
            checkpoint=saved / model_file(name),
            monitor=hit_rate_monitor(x_test, y_test, label_vectors),
        )
        histories.append(history.assign(model=name))
    models[SOFTMAX], history = train_softmax(
        x,
        y,
        len(labels),
        cfg.devise,
        group=group,
        checkpoint=saved / model_file(SOFTMAX),
        monitor=hit_rate_monitor(x_test, y_test, None),
    )
    histories.append(history.assign(model=SOFTMAX))
    if out is not None:
        for name, model in models.items():
            torch.save(model.state_dict(), out / model_file(name))
        pd.concat(histories).to_csv(out / "history.csv", index=False)
    return {"train_images": len(y), "labels": len(labels), "world_size": group.world}


def _load_train(cfg: Config, done: Path) -> dict:
    import torch

    from .devise import Projection
    from .evaluation import DEVISE, RANDOM, SOFTMAX, model_file

    def state(name):
        return torch.load(done / model_file(name), weights_only=True)

    softmax = state(SOFTMAX)
    # From the weights, not the features: at paper scale those are 21 GB.
    n_labels, feature_dim = softmax["weight"].shape
    models = {}
    for name in (DEVISE, RANDOM):
        weights = state(name)
        models[name] = Projection(feature_dim, weights["linear.weight"].shape[0])
        models[name].load_state_dict(weights)
    models[SOFTMAX] = torch.nn.Linear(feature_dim, n_labels)
    models[SOFTMAX].load_state_dict(softmax)
    models["history"] = read_csv(done / "history.csv")
    return models


def phase2_enabled(cfg: Config) -> bool:
    return bool(cfg.devise.phase2_epochs) and cfg.devise.phase2_max_steps != 0


def _build_finetune(cfg: Config, out: Path | None, group: Group) -> dict:
    import time

    import torch

    from .devise import EndToEnd, fine_tune
    from .evaluation import DEVISE
    from .progress import progress_bar
    from .visual import (
        ImageFiles,
        LabelledImages,
        build_backbone,
        forward_images,
        image_transform,
        loader_workers,
        resolve_device,
        torch_threads,
    )

    if not phase2_enabled(cfg):
        if out is not None:
            np.save(out / "test_embeddings.npy", np.zeros((0, 0), np.float32))
        return {"skipped": "phase 2 is off in this preset"}
    visual = visual_per_rank(cfg, group)
    device = resolve_device(visual, group)
    train, test = experiment_images(cfg, "train"), experiment_images(cfg, "test")
    vectors = torch.as_tensor(label_space(cfg).subset(train.labels).vectors)
    saved = checkpoints(cfg, "finetune")
    saved.mkdir(parents=True, exist_ok=True)
    with torch_threads(visual.num_threads):
        model = EndToEnd(build_backbone(visual), trained_models(cfg)[DEVISE])
        paths = [image.path for image in train.images]
        dataset = LabelledImages(
            ImageFiles(paths, image_transform(visual, train=True)), train.targets
        )
        began = time.perf_counter()
        history = fine_tune(
            model,
            dataset,
            vectors,
            cfg.devise,
            visual.batch_size,
            group=group,
            workers=loader_workers(device),
            checkpoint=saved / "phase2.pt",
        )
        seconds = time.perf_counter() - began
        test_files = ImageFiles(
            [image.path for image in test.images][group.rank :: group.world],
            image_transform(visual),
        )
        with progress_bar(
            total=len(test_files),
            desc="embed test images (tuned net)",
            unit="img",
            progress=group.is_main,
        ) as bar:
            local = forward_images(model, test_files, visual, device, bar)
    from .ddp import gather_rows

    embeddings = gather_rows(local, len(test.images), group)
    if out is None:
        return {}
    np.save(out / "test_embeddings.npy", embeddings)
    history.to_csv(out / "history.csv", index=False)
    steps = int(history["steps"].iloc[-1]) if len(history) else 0
    return {
        "steps": steps,
        "batch_size": visual.batch_size,
        "device": f"{group.world} x {device.type}" if group.world > 1 else str(device),
        "train_seconds": round(seconds, 1),
        "seconds_per_step": round(seconds / max(steps, 1), 2),
        "world_size": group.world,
    }


def _build_table1(cfg: Config, out: Path, _group: Group) -> dict:
    from .evaluation import table1_rows

    test = image_features(cfg, "test")
    table = table1_rows(
        labels=experiment_labels(cfg),
        space=label_space(cfg),
        models=trained_models(cfg),
        test=test,
        tuned=fine_tuned_embeddings(cfg) if phase2_enabled(cfg) else None,
        seed=cfg.devise.seed,
    )
    table.to_csv(out / "table1.csv", index=False)
    return {"test_images": len(test[1])}


# ---------------------------------------------------------------- shark photos, ImageNet sample


def shark_images(cfg: Config) -> list:
    """The mirror's shark photos, both species, in the `shark_features` row order."""
    from .sharks import shark_photos

    return [image for photos in shark_photos().values() for image in photos]


def _relative(images: list, root: Path) -> list[str]:
    return [image.path.relative_to(root).as_posix() for image in images]


def _build_shark_features(cfg: Config, out: Path, group: Group) -> dict:
    import pandas as pd

    from .datasets import locate
    from .visual import extract_features

    images = shark_images(cfg)
    stats = extract_features(
        [image.path for image in images],
        cfg.visual,
        out / "features.npy",
        checkpoints(cfg, "shark_features"),
        desc="features shark photos",
    )
    table = {"image": _relative(images, locate("sharks")),
             "wnid": [image.wnid for image in images]}
    pd.DataFrame(table).to_csv(out / "images.csv", index=False)
    return stats


def shark_features(cfg: Config) -> dict:
    """{species wnid: (its photos, their backbone features)}."""
    features = np.load(ensure(cfg, "shark_features") / "features.npy")
    images = shark_images(cfg)
    wnids = np.array([image.wnid for image in images])
    return {
        w: ([i for i in images if i.wnid == w], features[wnids == w])
        for w in dict.fromkeys(wnids)
    }


def sample_images(cfg: Config) -> list:
    """The ImageNet sample: one photo of each ILSVRC class, in the classifier's order."""
    from .datasets import locate
    from .images import LabelledImage
    from .wordnet import imagenet1k_wnids

    root = locate(cfg.imagenet.sample)
    by_wnid = {p.name.split("_")[0]: p for p in sorted(root.glob("n*_*.*"))}
    return [LabelledImage(by_wnid[w], w, "imagenet_sample") for w in imagenet1k_wnids()]


def sample_views(cfg: Config) -> int:
    """How many augmented views of each sample photo are extracted (all models')."""
    return max(cfg.imagenet.views, *cfg.imagenet.view_ablation)


@dataclass(frozen=True)
class Sample:
    """The ImageNet sample's features: the centre crop and the augmented views."""

    wnids: list[str]  # one photo a class, the classifier's order
    centre: np.ndarray  # (1000, feature_dim)
    views: np.ndarray  # (views, 1000, feature_dim)
    classifier: object  # imagenet1k.Classifier: the backbone's own 1,000-way head


def _build_sample_features(cfg: Config, out: Path, group: Group) -> dict:
    import torch

    from .visual import build_backbone, extract_features

    photos = [image.path for image in sample_images(cfg)]
    work = checkpoints(cfg, "sample_features")
    stats = extract_features(photos, cfg.visual, out / "centre.npy", work / "centre",
                             desc="features imagenet sample")
    for view in range(sample_views(cfg)):
        # one seeded draw of random crops per view: a rerun repeats every view
        torch.manual_seed(cfg.imagenet.seed * 1000 + view)
        extract_features(photos, cfg.visual, out / f"view{view}.npy",
                         work / f"view{view}", augment=True,
                         desc=f"features imagenet sample, view {view + 1}")
    head = build_backbone(cfg.visual).imagenet_head
    np.savez(out / "classifier.npz", weight=head.weight.detach().numpy(),
             bias=head.bias.detach().numpy())
    return {**stats, "views": sample_views(cfg)}


def _load_sample(cfg: Config, done: Path) -> Sample:
    from .imagenet1k import Classifier
    from .wordnet import imagenet1k_wnids

    wnids = imagenet1k_wnids()
    views = [np.load(done / f"view{v}.npy") for v in range(sample_views(cfg))]
    with np.load(done / "classifier.npz") as head:
        classifier = Classifier(head["weight"], head["bias"], wnids)
    return Sample(wnids, np.load(done / "centre.npy"), np.stack(views), classifier)


def sample_features(cfg: Config) -> Sample:
    return get(cfg, "sample_features")


# ---------------------------------------------------------------- what each stage reads


def _reads_corpus(cfg: Config):
    from .text import text_fingerprint

    fingerprint = text_fingerprint(text_source(cfg), cfg.text.max_files)
    # the number of processes changes only the speed: the output is the same
    text = replace(cfg.text, processes=None)
    return fingerprint, text, cfg.phrases, cfg.labels.vocabulary


def _reads_photos(cfg: Config, images: list, root: Path):
    return cfg.visual.backbone, cfg.visual.image_size, _relative(images, root)


def _reads_features(cfg: Config):
    # Batch size, device and threads change only the speed (and float rounding).
    return cfg.images, cfg.visual.backbone, cfg.visual.image_size, _image_list(cfg)


# ---------------------------------------------------------------- the table

STAGES: dict[str, Stage] = {
    stage.name: stage
    for stage in [
        Stage(
            "corpus",
            "tokenise Wikipedia and join phrases",
            needs=(),
            reads=_reads_corpus,
            build=_build_corpus,
            load=lambda cfg, done: done / "corpus.txt",
        ),
        Stage(
            "word2vec",
            "train skip-gram word vectors",
            needs=("corpus",),
            reads=lambda cfg: cfg.word2vec,
            build=_build_word2vec,
            load=_load_word2vec,
        ),
        Stage(
            "labels",
            "embed the label vocabulary",
            needs=("word2vec",),
            reads=lambda cfg: cfg.labels,
            build=_build_labels,
            load=_load_labels,
        ),
        Stage(
            "sharks",
            "nearest labels of each shark species",
            needs=("labels",),
            reads=lambda cfg: None,
            build=_build_shark_check,
            load=lambda cfg, done: read_csv(done / "shark_neighbours.csv"),
            results=("shark_neighbours.csv",),
        ),
        Stage(
            "features",
            "backbone features of the labelled images (Caltech-101)",
            needs=(),
            reads=_reads_features,
            build=_build_features,
            load=_load_features,
            distributed=True,
        ),
        Stage(
            "train",
            "phase 1: DeViSE, random embeddings, softmax baseline",
            needs=("labels", "features"),
            reads=lambda cfg: cfg.devise,
            build=_build_train,
            load=_load_train,
            distributed=True,
        ),
        Stage(
            "finetune",
            "phase 2: the whole network, briefly on a CPU",
            needs=("train",),
            reads=lambda cfg: None,
            build=_build_finetune,
            load=lambda cfg, done: np.load(done / "test_embeddings.npy"),
            distributed=True,
        ),
        Stage(
            "evaluate",
            "Table 1",
            needs=("train", "finetune"),
            reads=lambda cfg: None,
            build=_build_table1,
            load=lambda cfg, done: read_csv(done / "table1.csv"),
            results=("table1.csv",),
        ),
    ]
}


# ---------------------------------------------------------------- accessors


def corpus(cfg: Config) -> Path:
    """Tokenised, phrase-joined Wikipedia text: one paragraph a line (the file)."""
    return get(cfg, "corpus")


def word_vectors(cfg: Config):
    """The skip-gram word vectors (gensim KeyedVectors, memory-mapped)."""
    return get(cfg, "word2vec")


def label_space(cfg: Config):
    """The label space over the vocabulary (a `labels.LabelSpace`)."""
    return get(cfg, "labels")


def missing_labels(cfg: Config):
    """The synsets without a usable word, and why (DataFrame: wnid, name, lemmas)."""
    return read_csv(ensure(cfg, "labels") / "missing.csv")


def shark_check(cfg: Config):
    """Each shark species' 9 nearest labels (`data/results/shark_neighbours.csv`)."""
    return get(cfg, "sharks")


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


def table1(cfg: Config):
    """The paper's Table 1 on the test images (`data/results/table1.csv`)."""
    return get(cfg, "evaluate")
