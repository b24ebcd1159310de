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
    cached_dir,
    checkpoint_dir,
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


def _load_tables(_cfg: Config, done: Path) -> dict:
    """A results stage's tables by name: {"table2_zero_shot": DataFrame, ...}."""
    return {path.stem: read_csv(path) for path in sorted(done.glob("*.csv"))}


def read_csv(path: Path):
    """A CSV of a stage folder as a DataFrame (pandas is imported only when needed:
    `predict` reads stage keys and answers without it)."""
    import pandas as pd

    # Only an empty cell is missing: the label named "nan" (the bread) is a name.
    return pd.read_csv(path, keep_default_na=False, na_values=[""])


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
    from .corpus import build_corpus
    from .wordnet import lemma_names, synset_of

    lemmas = []
    if cfg.phrases.label_lexicon:  # only then is WordNet needed
        vocabulary = label_vocabulary(cfg)
        lemmas = [lemma for w in vocabulary for lemma in lemma_names(synset_of(w))]
    return build_corpus(
        text_source(cfg), cfg.text, cfg.phrases, lemmas, out, cfg.text.processes
    )


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


def dataset_root(dataset: str) -> Path:
    """The folder an image dataset of the config lies in: the registry's (a mirror or
    the data root) for a registry name, else an ImageNet-style folder of yours (its
    path: the `paper` preset's $DEVISE_IMAGES, ILSVRC-2012's `train/`)."""
    from .datasets import locate
    from .imagefolders import is_folder_dataset

    if is_folder_dataset(dataset):
        return Path(dataset).expanduser()
    return locate(dataset)


def relative_paths(images: list, root: Path) -> list[str]:
    """The images' paths relative to their dataset, as the stages key and record them:
    a moved or re-mounted mirror finds its cache."""
    return [image.path.relative_to(root).as_posix() for image in images]


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

        paths = relative_paths(images, dataset_root(cfg.images.dataset))
        table = {"image": paths, "wnid": [i.wnid for i in images]}
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


# ---------------------------------------------------------------- phase 1, phase 2,
# Table 1


def _train_three(cfg: Config, x, y, vectors: dict, group: Group, saved=None, test=None):
    """DeViSE and its random control (`vectors`: name -> label vectors), then the
    softmax baseline, trained on the same rows; each resumes from the folder `saved`
    and reports hit rates on `test` (features, targets) when those are given. Returns
    ({name: model}, the training histories in one table)."""
    import pandas as pd

    from .devise import hit_rate_monitor, train_projection, train_softmax
    from .evaluation import SOFTMAX, model_file

    def options(name: str, label_vectors) -> dict:
        return {
            "group": group,
            "checkpoint": saved / model_file(name) if saved else None,
            "monitor": hit_rate_monitor(*test, label_vectors) if test else None,
        }

    models, histories = {}, []
    for name, label_vectors in vectors.items():
        models[name], history = train_projection(
            x, y, label_vectors, cfg.devise, **options(name, label_vectors)
        )
        histories.append(history.assign(model=name))
    n_labels = len(next(iter(vectors.values())))
    models[SOFTMAX], history = train_softmax(
        x, y, n_labels, cfg.devise, **options(SOFTMAX, None)
    )
    histories.append(history.assign(model=SOFTMAX))
    return models, pd.concat(histories)


def _save_models(models: dict, out: Path) -> None:
    import torch

    from .evaluation import model_file

    for name, model in models.items():
        torch.save(model.state_dict(), out / model_file(name))


def _load_models(done: Path) -> dict:
    """DeViSE, its random control and the softmax baseline as `_save_models` wrote
    them, each rebuilt from its weights' shape (at paper scale the features are 21 GB,
    the weights a few MB)."""
    import torch

    from .devise import Projection
    from .evaluation import DEVISE, RANDOM, SOFTMAX, model_file

    models = {}
    for name in (DEVISE, RANDOM, SOFTMAX):
        state = torch.load(done / model_file(name), weights_only=True)
        if name == SOFTMAX:
            models[name] = torch.nn.Linear(*reversed(state["weight"].shape))
        else:
            models[name] = Projection(*reversed(state["linear.weight"].shape))
        models[name].load_state_dict(state)
    return models


def _build_train(cfg: Config, out: Path | None, group: Group) -> dict:
    from .evaluation import DEVISE, RANDOM
    from .labels import random_label_space

    labels = experiment_labels(cfg)
    space = label_space(cfg).subset(labels)
    vectors = {
        DEVISE: space.vectors,
        RANDOM: random_label_space(space, cfg.devise.seed).vectors,
    }
    x, y = image_features(cfg, "train")
    saved = checkpoints(cfg, "train")
    saved.mkdir(parents=True, exist_ok=True)
    test = image_features(cfg, "test")
    models, history = _train_three(cfg, x, y, vectors, group, saved, test)
    if out is not None:
        _save_models(models, out)
        history.to_csv(out / "history.csv", index=False)
    return {"train_images": len(y), "labels": len(labels), "world_size": group.world}


def _load_train(cfg: Config, done: Path) -> dict:
    return {**_load_models(done), "history": read_csv(done / "history.csv")}


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
        feature_engine,
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
        tuned = feature_engine(visual, device, module=model.eval())
        with progress_bar(
            total=len(test_files),
            desc="embed test images (tuned net)",
            unit="img",
            progress=group.is_main,
        ) as bar:
            local = forward_images(tuned, test_files, visual, device, bar)
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


# ---------------------------------------------------------------- shark photos,
# ImageNet sample


def shark_images(cfg: Config) -> list:
    """The mirror's shark photos, both species, in the `shark_features` row order (the
    first `ImageNetConfig.shark_photos` of each, if set)."""
    from .sharks import shark_photos

    first = cfg.imagenet.shark_photos
    return [image for photos in shark_photos().values() for image in photos[:first]]


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
    table = {
        "image": relative_paths(images, locate("sharks")),
        "wnid": [image.wnid for image in images],
    }
    pd.DataFrame(table).to_csv(out / "images.csv", index=False)
    return stats


def shark_features(cfg: Config) -> dict:
    """{species wnid: (its photos, their backbone features)}."""
    features = np.load(get(cfg, "shark_features") / "features.npy")
    images = shark_images(cfg)
    wnids = np.array([image.wnid for image in images])
    return {
        w: ([i for i in images if i.wnid == w], features[wnids == w])
        for w in dict.fromkeys(wnids)
    }


def sample_images(cfg: Config) -> list:
    """DeViSE-1K's training photos, in the classifier's order of their labels: the
    sample's one photo of each ILSVRC class, or every photo of an ILSVRC-style folder
    (`<wnid>/*.JPEG`) whose label is an ILSVRC class."""
    from .imagefolders import class_folders, is_folder_dataset
    from .imagenet1k import seeded_subset
    from .images import LabelledImage
    from .wordnet import imagenet1k_wnids

    root, wnids = dataset_root(cfg.imagenet.sample), imagenet1k_wnids()
    if cfg.imagenet.sample_classes is not None:
        wnids = seeded_subset(wnids, cfg.imagenet.sample_classes, cfg.imagenet.seed)
    if is_folder_dataset(cfg.imagenet.sample):
        folders = class_folders(root)
        return [image for w in wnids for image in folders.get(w, [])]
    by_wnid = {p.name.split("_")[0]: p for p in sorted(root.glob("n*_*.*"))}
    return [LabelledImage(by_wnid[w], w, "imagenet_sample") for w in wnids]


def sample_views(cfg: Config) -> int:
    """How many augmented views of each sample photo are extracted (all models')."""
    return max(cfg.imagenet.views, *cfg.imagenet.view_ablation)


@dataclass(frozen=True)
class Sample:
    """The ImageNet sample's features: augmented views of each photo, and the
    backbone's own classifier."""

    wnids: list[str]  # one photo a class, in the classifier's order
    views: list  # one (photos, feature_dim) array per augmented view
    classifier: object  # imagenet1k.Classifier: the backbone's own 1,000-way head


def _build_sample_features(cfg: Config, out: Path, group: Group) -> dict:
    import torch

    from .visual import build_backbone, extract_features

    photos = [image.path for image in sample_images(cfg)]
    work = checkpoints(cfg, "sample_features")
    for view in range(sample_views(cfg)):
        # one seeded draw of random crops per view: a rerun repeats every view
        torch.manual_seed(cfg.imagenet.seed * 1000 + view)
        stats = extract_features(
            photos,
            cfg.visual,
            out / f"view{view}.npy",
            work / f"view{view}",
            augment=True,
            desc=f"features imagenet sample, view {view + 1}",
        )
    head = build_backbone(cfg.visual).imagenet_head
    np.savez(
        out / "classifier.npz",
        weight=head.weight.detach().numpy(),
        bias=head.bias.detach().numpy(),
    )
    return {**stats, "views": sample_views(cfg), "photos": len(photos)}


def _load_sample(cfg: Config, done: Path) -> Sample:
    from .imagenet1k import Classifier
    from .wordnet import imagenet1k_wnids

    # Memory-mapped, one array a view: at paper scale a view of ILSVRC's 1.28 M
    # training photos is 21 GB.
    views = [
        np.load(done / f"view{v}.npy", mmap_mode="r") for v in range(sample_views(cfg))
    ]
    with np.load(done / "classifier.npz") as head:
        classifier = Classifier(head["weight"], head["bias"], imagenet1k_wnids())
    wnids = [image.wnid for image in sample_images(cfg)]
    return Sample(wnids, views, classifier)


def sample_features(cfg: Config) -> Sample:
    return get(cfg, "sample_features")


# ---------------------------------------------------------------- zero-shot: the models


def devise_1k_config(cfg: Config):
    """Phase 1's settings for the DeViSE-1K models (`ImageNetConfig` overrides)."""
    i = cfg.imagenet
    return replace(
        cfg.devise,
        phase1_epochs=i.epochs,
        batch_size=i.batch_size,
        phase1_lr=i.lr,
        seed=i.seed,
    )


def _train_specs(cfg: Config, stage: str, specs: list, out: Path) -> dict:
    """Train each DeViSE-1K spec (resumable: a finished model waits in the stage's
    checkpoint folder) and save it as arrays in `out/models/`."""
    import json
    import time

    from .devise import train_projection
    from .evaluation import model_file
    from .imagenet1k import training_rows
    from .labels import random_label_space
    from .progress import progress_bar
    from .storage import atomic_path
    from .vectors import LinearProjection

    space, sample = label_space(cfg), sample_features(cfg)
    random_space = random_label_space(space, cfg.imagenet.seed)
    saved = checkpoints(cfg, stage)
    saved.mkdir(parents=True, exist_ok=True)
    (out / "models").mkdir()
    records = []
    for spec in progress_bar(specs, desc=f"{stage}: models", unit="model"):
        file = saved / model_file(spec.name).replace(".pt", ".npz")
        x, y = training_rows(sample.views, sample.wnids, spec.seen, spec.views)
        if spec.extra_species:
            x, y = _with_shark_photos(cfg, spec, x, y)
        if spec.shark_views > spec.views:
            x, y = _with_shark_views(cfg, spec, x, y, saved)
        began = time.perf_counter()
        if not file.exists():
            vectors = (random_space if spec.random_vectors else space).subset(spec.seen)
            model, _ = train_projection(
                x, y, vectors.vectors, devise_1k_config(cfg), progress=False
            )
            with atomic_path(file) as tmp:
                with open(tmp, "wb") as handle:
                    LinearProjection.of(model).save(handle)
        shutil.copyfile(file, out / "models" / file.name)
        records.append(
            {
                "name": spec.name,
                "file": file.name,
                "seen": list(spec.seen),
                "views": spec.views,
                "random_vectors": spec.random_vectors,
                "extra_species": spec.extra_species,
                "extra_photos": spec.extra_photos,
                "rows": len(y),
                "seconds": round(time.perf_counter() - began, 1),
            }
        )
    (out / "models.json").write_text(json.dumps(records, indent=1))
    return {
        "models": len(records),
        "train_seconds": round(sum(r["seconds"] for r in records), 1),
    }


def _with_shark_photos(cfg: Config, spec, x: np.ndarray, y: np.ndarray):
    """Training rows plus `spec.extra_photos` mirror photos of `spec.extra_species`
    (a seeded choice), labelled with that species."""
    _, features = shark_features(cfg)[spec.extra_species]
    rng = np.random.default_rng(cfg.imagenet.seed)
    chosen = np.sort(rng.permutation(len(features))[: spec.extra_photos])
    label = list(spec.seen).index(spec.extra_species)
    extra_y = np.full(len(chosen), label, dtype=np.int64)
    return np.concatenate([x, features[chosen]]), np.concatenate([y, extra_y])


def _with_shark_views(cfg: Config, spec, x: np.ndarray, y: np.ndarray, work: Path):
    """Training rows plus more augmented views of the seen sharks' sample photos, up to
    `spec.shark_views` in all (the views are extracted here once, seeded, and kept in
    `work` while the stage builds)."""
    import torch

    from .sharks import SHARK_SPECIES
    from .visual import extract_features

    photos = [
        i
        for i in sample_images(cfg)
        if i.wnid in SHARK_SPECIES and i.wnid in set(spec.seen)
    ]
    extra = []
    for view in range(spec.views, spec.shark_views):
        file = work / f"shark-view{view}.npy"
        if not file.exists():
            torch.manual_seed(cfg.imagenet.seed * 1000 + 500 + view)  # fresh crops
            extract_features(
                [p.path for p in photos],
                cfg.visual,
                file,
                work / f"shark-view{view}",
                augment=True,
                progress=False,
            )
        extra.append(np.load(file))
    labels = [list(spec.seen).index(p.wnid) for p in photos]
    extra_y = np.tile(np.array(labels, dtype=np.int64), len(extra))
    return np.concatenate([x, *extra]), np.concatenate([y, extra_y])


@dataclass(frozen=True)
class TrainedProjection:
    """A DeViSE-1K model as `_train_specs` saved it: what it saw, and its map."""

    name: str
    seen: list[str]
    views: int
    random_vectors: bool
    extra_species: str | None
    rows: int
    project: object  # vectors.LinearProjection


def _load_projections(_cfg: Config, done: Path) -> dict[str, TrainedProjection]:
    import json

    from .vectors import LinearProjection

    models = {}
    for r in json.loads((done / "models.json").read_text()):
        project = LinearProjection.load(done / "models" / r["file"])
        models[r["name"]] = TrainedProjection(
            r["name"],
            r["seen"],
            r["views"],
            r["random_vectors"],
            r["extra_species"],
            r["rows"],
            project,
        )
    return models


def seen_1k(cfg: Config) -> list[str]:
    """The seen labels of the paper's setting: the ILSVRC labels of the sample (all
    1,000 but in tests) that have a vector, in the classifier's order."""
    space = label_space(cfg)
    return [image.wnid for image in sample_images(cfg) if image.wnid in space]


def _build_imagenet1k(cfg: Config, out: Path, _group: Group) -> dict:
    from .imagenet1k import model_specs

    return _train_specs(cfg, "imagenet1k", model_specs(cfg.imagenet, seen_1k(cfg)), out)


def _build_shark_models(cfg: Config, out: Path, _group: Group) -> dict:
    from .sharks import shark_specs

    specs = shark_specs(cfg.imagenet, seen_1k(cfg), list(shark_features(cfg)))
    return _train_specs(cfg, "shark_models", specs, out)


def _build_zeroshot_caltech(cfg: Config, out: Path | None, group: Group) -> dict:
    """The Caltech experiment's models: trained on the seen Caltech labels only."""
    from .evaluation import DEVISE, RANDOM
    from .labels import random_label_space

    data = caltech_zero_shot_data(cfg)
    space = label_space(cfg)
    vectors = {
        DEVISE: space.subset(data.seen).vectors,
        RANDOM: random_label_space(space, cfg.zeroshot.seed).subset(data.seen).vectors,
    }
    x, y = data.train_features, data.train_targets
    models, _ = _train_three(cfg, x, y, vectors, group)
    if out is not None:
        _save_models(models, out)
    return {"seen": data.seen, "unseen": data.unseen, "train_images": len(y)}


def caltech_zero_shot_data(cfg: Config):
    """The Caltech experiment's data: a seeded share of the experiment labels held out
    (`splits.py`); training rows of the seen labels, test rows of the unseen ones."""
    from .splits import split_seen_unseen
    from .zeroshot import ZeroShotData, families, restrict_to_labels

    labels = experiment_labels(cfg)
    seen, unseen = split_seen_unseen(
        labels, cfg.zeroshot.unseen_share, cfg.zeroshot.seed, families(cfg, labels)
    )
    selected = {}
    for part, wanted in (("train", seen), ("test", unseen)):
        chosen = experiment_images(cfg, part)
        features, _ = image_features(cfg, part)
        x, y, mask = restrict_to_labels(features, chosen.targets, labels, wanted)
        paths = [i.path for i, m in zip(chosen.images, mask, strict=True) if m]
        selected[part] = (paths, x, y)
    (train_paths, x_train, y_train), (test_paths, x_test, y_test) = selected.values()
    return ZeroShotData(
        seen,
        unseen,
        train_paths,
        x_train,
        y_train,
        test_paths,
        x_test,
        [unseen[t] for t in y_test],
    )


def _load_zeroshot_caltech(cfg: Config, done: Path) -> dict:
    facts = read_info(done)
    return {"seen": facts["seen"], "unseen": facts["unseen"], **_load_models(done)}


# ---------------------------------------------------------------- zero-shot: the tables


@dataclass(frozen=True)
class TestPhotos:
    """Photos of labels no model of the paper's setting saw: the zero-shot test set."""

    images: list  # LabelledImage
    features: np.ndarray
    wnids: list[str]


def zero_shot_photos(cfg: Config) -> TestPhotos:
    """Every photo of the labelled image set (train and test part alike: none trains the
    1K models) whose label is not an ILSVRC label and has a vector."""
    from .wordnet import imagenet1k_wnids

    space, ilsvrc = label_space(cfg), set(imagenet1k_wnids())
    images = labelled_images(cfg)
    rows = [
        i for i, im in enumerate(images) if im.wnid not in ilsvrc and im.wnid in space
    ]
    features = np.asarray(get(cfg, "features")[rows])
    chosen = [images[i] for i in rows]
    return TestPhotos(chosen, features, [im.wnid for im in chosen])


def conse_name(top_t: int) -> str:
    return f"ConSE (T={top_t})"


def placed_1k(cfg: Config, features: np.ndarray, models: dict | None = None) -> dict:
    """Where DeViSE-1K, its random control and ConSE-1K (each T) put photos."""
    from .evaluation import DEVISE, DEVISE_1K, RANDOM, RANDOM_1K
    from .imagenet1k import conse_points, seen_columns
    from .labels import random_label_space
    from .zeroshot import Placed

    space, sample = label_space(cfg), sample_features(cfg)
    models = models or get(cfg, "imagenet1k")
    seen = models[DEVISE_1K].seen
    random_space = random_label_space(space, cfg.imagenet.seed)
    placed = {
        DEVISE: Placed(models[DEVISE_1K].project(features), space),
        RANDOM: Placed(models[RANDOM_1K].project(features), random_space),
    }
    logits = sample.classifier.logits(features)
    columns = seen_columns(sample.classifier, seen)
    seen_vectors = space.subset(seen).vectors
    for top_t in cfg.imagenet.conse_top_t:
        points = conse_points(logits, columns, seen_vectors, top_t)
        placed[conse_name(top_t)] = Placed(points, space)
    return placed


def zero_shot_sets(cfg: Config) -> dict[str, list[str]]:
    """The six candidate sets of the paper's setting (Tables 2 and 3): the published
    lists restricted to labels with a vector, the seen labels added for "+seen"."""
    from .candidates import standard_lists, standard_sets

    lists = standard_lists(cfg.imagenet.lists)
    return standard_sets(seen_1k(cfg), label_space(cfg).wnids, lists)


def zero_shot_test_labels(cfg: Config, names=("2-hop", "3-hop", "21k")):
    """The zero-shot test labels (`zeroshot.test_labels`), with their synset names:
    photos per label and the candidate sets that score them."""
    from .wordnet import synset_of
    from .zeroshot import test_labels

    table = test_labels(zero_shot_photos(cfg).wnids, zero_shot_sets(cfg), names)
    table.insert(1, "label", [synset_of(w).name() for w in table["wnid"]])
    return table.replace({True: "✓", False: ""})


def score_zero_shot(
    cfg: Config, points: dict[str, np.ndarray], candidate_set: str = "2-hop"
):
    """Table 2's row for your own placements of the zero-shot test photos
    (`points`: a name -> unit vectors, one per `zero_shot_photos(cfg)` row) on one
    candidate set of the paper's setting: flat hit@k per photo and per label."""
    from .zeroshot import Placed, zero_shot_tables

    space, test = label_space(cfg), zero_shot_photos(cfg)
    placed = {name: Placed(p, space) for name, p in points.items()}
    sets = {candidate_set: zero_shot_sets(cfg)[candidate_set]}
    table, _ = zero_shot_tables(placed, test.wnids, sets, None, None, progress=False)
    return table


def train_devise_1k(cfg: Config, views: int | None = None, **settings):
    """A DeViSE-1K map trained afresh on the cached sample views (seconds: nothing is
    cached), toward every seen label: the first `views` views of each photo (the
    preset's by default) and phase 1's settings with `settings` changed (`seed`,
    `phase1_epochs`, ...). Returns a `vectors.LinearProjection`."""
    from .devise import train_projection
    from .imagenet1k import training_rows
    from .vectors import LinearProjection

    sample, seen = sample_features(cfg), seen_1k(cfg)
    x, y = training_rows(sample.views, sample.wnids, seen, views or cfg.imagenet.views)
    devise = replace(devise_1k_config(cfg), **settings)
    vectors = label_space(cfg).subset(seen).vectors
    model, _ = train_projection(x, y, vectors, devise, progress=False)
    return LinearProjection.of(model)


def span_cases(cfg: Config) -> dict[str, tuple]:
    """For `zeroshot.span_summary`: DeViSE's points for the zero-shot test photos, the
    seen label vectors and the 2-hop candidates' vectors, in the first experiment
    (Caltech labels seen) and in the paper's setting (DeViSE-1K)."""
    from .candidates import hop_sets
    from .devise import embed
    from .evaluation import DEVISE, DEVISE_1K
    from .hierarchy import Hierarchy

    space = label_space(cfg)
    data, caltech = caltech_zero_shot_data(cfg), get(cfg, "zeroshot_caltech")
    two_hop = hop_sets(data.seen, space.wnids, Hierarchy.wordnet())["2-hop"]
    test, model = zero_shot_photos(cfg), get(cfg, "imagenet1k")[DEVISE_1K]
    return {
        "Caltech (first experiment)": (
            embed(caltech[DEVISE], data.test_features),
            space.subset(data.seen).vectors,
            space.subset(two_hop).vectors,
        ),
        "ILSVRC (paper's setting)": (
            model.project(test.features),
            space.subset(model.seen).vectors,
            space.subset(zero_shot_sets(cfg)["2-hop"]).vectors,
        ),
    }


def _build_zeroshot(cfg: Config, out: Path, _group: Group) -> dict:
    import json

    import pandas as pd

    from .candidates import standard_lists, standard_sets
    from .evaluation import DEVISE_1K
    from .hierarchy import Hierarchy
    from .imagenet1k import seen_columns
    from .zeroshot import Placed, zero_shot_tables

    space, sample = label_space(cfg), sample_features(cfg)
    models = get(cfg, "imagenet1k")
    seen = models[DEVISE_1K].seen
    lists = standard_lists(cfg.imagenet.lists)
    sets = standard_sets(seen, space.wnids, lists)
    test = zero_shot_photos(cfg)
    hierarchy = Hierarchy.wordnet()
    logits = sample.classifier.logits(test.features)
    softmax = (logits[:, seen_columns(sample.classifier, seen)], seen)
    placed = placed_1k(cfg, test.features, models)
    table2, table3 = zero_shot_tables(placed, test.wnids, sets, softmax, hierarchy)
    tables = [
        (
            table2.assign(seen_labels="imagenet1k"),
            table3.assign(seen_labels="imagenet1k"),
        )
    ]
    # the first experiment: seen labels from Caltech-101 itself
    caltech = get(cfg, "zeroshot_caltech")
    data = caltech_zero_shot_data(cfg)
    tables.append(_caltech_tables(cfg, caltech, data, hierarchy))
    table2 = pd.concat([t2 for t2, _ in tables], ignore_index=True)
    table3 = pd.concat([t3 for _, t3 in tables], ignore_index=True)
    table2.to_csv(out / "table2_zero_shot.csv", index=False)
    table3.to_csv(out / "table3_zero_shot_hp.csv", index=False)

    # what more views and more seen labels buy (flat hits only: no hierarchy)
    ablation = []
    for name, model in models.items():
        if name == DEVISE_1K or not model.random_vectors:
            view = {"DeViSE": Placed(model.project(test.features), space)}
            t2, _ = zero_shot_tables(view, test.wnids, sets, None, None, progress=False)
            ablation.append(
                t2[t2.model == "DeViSE"].assign(
                    model=name, views=model.views, n_seen=len(model.seen)
                )
            )
    pd.concat(ablation).to_csv(out / "zero_shot_ablation.csv", index=False)
    _seen_count_curve(cfg, models, test, sets, sample).to_csv(
        out / "zero_shot_seen_count.csv", index=False
    )
    _figure2(cfg, placed, test, sets, sample, hierarchy).to_csv(
        out / "zero_shot_gallery.csv", index=False
    )
    _write_candidate_sets(lists, out / "candidate_sets_imagenet1k.csv")
    _hop_rules(lists, space).to_csv(out / "hop_rules.csv", index=False)
    _seen_labels_table(cfg, models, caltech).to_csv(
        out / "seen_labels.csv", index=False
    )
    best = _best_model(table2, cfg.imagenet.conse_t)
    (out / "best_model.json").write_text(json.dumps(best))
    return {"test_photos": len(test.wnids), "seen": len(seen), **best}


def _caltech_tables(cfg: Config, models: dict, data, hierarchy):
    """Tables 2 and 3 of the first experiment: seen labels from Caltech-101 itself."""
    from .candidates import hop_sets
    from .conse import conse_embedding
    from .devise import embed, logits
    from .evaluation import DEVISE, RANDOM, SOFTMAX
    from .labels import random_label_space
    from .vectors import softmax, unit
    from .zeroshot import Placed, zero_shot_tables

    space = label_space(cfg)
    random_space = random_label_space(space, cfg.zeroshot.seed)
    scores = logits(models[SOFTMAX], data.test_features)
    seen_vectors = space.subset(data.seen).vectors
    conse = conse_embedding(softmax(scores), seen_vectors, cfg.zeroshot.conse_top_t)
    placed = {
        DEVISE: Placed(embed(models[DEVISE], data.test_features), space),
        RANDOM: Placed(embed(models[RANDOM], data.test_features), random_space),
        conse_name(cfg.zeroshot.conse_top_t): Placed(unit(conse), space),
    }
    sets = hop_sets(data.seen, space.wnids, hierarchy)
    t2, t3 = zero_shot_tables(
        placed, data.test_wnids, sets, (scores, data.seen), hierarchy
    )
    return t2.assign(seen_labels="caltech"), t3.assign(seen_labels="caltech")


def _seen_count_curve(cfg: Config, models: dict, test: TestPhotos, sets: dict, sample):
    """2-hop hit@5 against the number of seen labels: DeViSE-1K trained on seeded
    subsets of the seen labels, and ConSE over the same subsets; candidates and test
    photos fixed."""
    import pandas as pd

    from .evaluation import DEVISE
    from .imagenet1k import conse_points, seen_columns
    from .zeroshot import Placed, zero_shot_tables

    space, top_t = label_space(cfg), cfg.imagenet.conse_t
    curve = {
        k: m
        for k, m in models.items()
        if not m.random_vectors
        and m.views == cfg.imagenet.views
        and m.extra_species is None
    }
    rows = []
    two_hop = {"2-hop": sets["2-hop"]}
    for name, model in curve.items():
        logits = sample.classifier.logits(test.features)
        columns = seen_columns(sample.classifier, model.seen)
        points = conse_points(logits, columns, space.subset(model.seen).vectors, top_t)
        placed = {
            DEVISE: Placed(model.project(test.features), space),
            conse_name(top_t): Placed(points, space),
        }
        t2, _ = zero_shot_tables(
            placed, test.wnids, two_hop, None, None, progress=False
        )
        rows.append(
            t2.assign(n_seen=len(model.seen), source=name, experiment="imagenet1k")
        )
    table = pd.concat(rows, ignore_index=True)
    return table.sort_values(["n_seen", "model"], kind="stable")


def _figure2(
    cfg: Config, placed: dict, test: TestPhotos, sets: dict, sample, hierarchy
):
    """The paper's Figure 2 on our photos: for `GALLERY_LABELS` test labels of the
    2-hop set drawn with the seed, the label's first photo in split order, with
    DeViSE's top 5 over 21K+1K and the 1,000-way softmax's top 5; and, over every test
    photo, the WordNet hops from the true label to each model's top-1 answer, for those
    two and for two more that separate what the figure mixes: DeViSE over the seen
    labels only (the softmax's candidates, nearly) and ConSE over 21K+1K."""
    import pandas as pd

    from .evaluation import DEVISE, SOFTMAX
    from .hierarchy import hops_to
    from .vectors import cosine_scores, top_k
    from .wordnet import synset_of

    space = label_space(cfg)
    seen = [w for w in sets["2-hop+seen"] if w not in set(sets["2-hop"])]

    def top5(model: str, cands: list[str]) -> np.ndarray:
        scores = cosine_scores(placed[model].points, space.subset(cands).vectors)
        return np.asarray(cands, dtype=object)[top_k(scores, 5)]

    classes = np.asarray(sample.classifier.wnids, dtype=object)
    conse = conse_name(cfg.imagenet.conse_t)
    answers = [
        (DEVISE, "21k+seen", top5(DEVISE, sets["21k+seen"])),
        (
            SOFTMAX,
            "1,000 classes",
            classes[top_k(sample.classifier.logits(test.features), 5)],
        ),
        (SEEN_ONLY.format(DEVISE), "seen", top5(DEVISE, seen)),
        (conse, "21k+seen", top5(conse, sets["21k+seen"])),
    ]
    in_two_hop = sorted({w for w in test.wnids if w in set(sets["2-hop"])})
    order = np.random.default_rng(cfg.imagenet.seed).permutation(len(in_two_hop))
    shown, done = {in_two_hop[i] for i in order[:GALLERY_LABELS]}, set()
    # One walk per true label to all of its photos' answers, not one per photo.
    answered: dict[str, set[str]] = {}
    for i, true in enumerate(test.wnids):
        answered.setdefault(true, set()).update(top[i][0] for _, _, top in answers)
    hops = {true: hops_to(hierarchy, true, best) for true, best in answered.items()}
    rows = []
    for i, (image, true) in enumerate(zip(test.images, test.wnids, strict=True)):
        first = true in shown and true not in done
        done |= {true} if first else set()
        for model, candidates, top in answers:
            best = top[i][0]
            record = {
                "image": str(image.path),
                "true_wnid": true,
                "true": synset_of(true).name(),
                "model": model,
                "top1_correct": best == true,
                "top1_hops": hops[true].get(best),
                "gallery": first,
                "candidates": candidates,
            }
            if first:
                record["top5"] = ";".join(synset_of(w).name() for w in top[i])
            rows.append(record)
    return pd.DataFrame(rows)


SEEN_ONLY = "{}, seen labels only"  # a model ranking only the seen labels
GALLERY_LABELS = 6


def _write_candidate_sets(lists: dict, path: Path) -> None:
    """`candidate_sets_imagenet1k.csv`: the sets the tables use, before the restriction
    to labels with a vector (candidate_set, wnid)."""
    import pandas as pd

    from .candidates import CANDIDATE_SETS

    seen = lists["seen"]
    rows = []
    for name in CANDIDATE_SETS:
        base, _, plus = name.partition("+")
        members = [w for w in lists[base] if w not in set(seen)] + (
            seen if plus else []
        )
        rows += [{"candidate_set": name, "wnid": w} for w in members]
    pd.DataFrame(rows).to_csv(path, index=False)


def _hop_rules(lists: dict, space):
    """The paper's "within two (three) tree hops" read as rules over the ImageNet is-a
    tree: each rule's set sizes and overlaps with the published lists (the chapter
    prints the paper's counts beside them, from `paper.py`)."""
    import pandas as pd

    from .candidates import TREE_RULES, imagenet_tree, tree_hop_set
    from .wordnet import imagenet21k_wnids

    # ILSVRC's teddy bear (n04399382) is missing from the fall-2011 list: add the 1K.
    tree = imagenet_tree(set(imagenet21k_wnids()) | set(lists["seen"]))
    rows = []
    for rule in TREE_RULES:
        for hops in (1, 2, 3):
            found = tree_hop_set(tree, lists["seen"], hops, rule)
            row = {
                "rule": rule,
                "hops": hops,
                "size": len(found),
                "with a vector": sum(w in space for w in found),
            }
            for name in ("2-hop", "3-hop"):
                published = set(lists[name])
                row[f"in {name} list"] = len(found & published)
                row[f"{name} list not in rule"] = len(published - found)
            rows.append(row)
    return pd.DataFrame(rows)


def _seen_labels_table(cfg: Config, models: dict, caltech: dict):
    """`seen_labels.csv`: every label each model saw in training (model, wnid,
    seen_by): the projection's labels, the classifier's, the backbone's."""
    import pandas as pd

    from .evaluation import DEVISE_1K, RANDOM_1K
    from .wordnet import imagenet1k_wnids

    ilsvrc = imagenet1k_wnids()
    groups = [
        (DEVISE_1K, models[DEVISE_1K].seen, "projection"),
        (RANDOM_1K, models[RANDOM_1K].seen, "projection"),
        ("ConSE-1K", ilsvrc, "classifier"),
        ("DeViSE (Caltech, Table 1)", experiment_labels(cfg), "projection"),
        ("DeViSE (Caltech zero-shot)", caltech["seen"], "projection"),
        ("every model's backbone", ilsvrc, "backbone"),
    ]
    rows = [
        {"model": m, "wnid": w, "seen_by": by} for m, wnids, by in groups for w in wnids
    ]
    return pd.DataFrame(rows)


def _best_model(table2, conse_t: int) -> dict:
    """Of DeViSE-1K and ConSE-1K (T fixed in advance, `ImageNetConfig.conse_t`), the
    one with the better 2-hop hit@5 (per photo) in the paper's setting: `predict` and
    the explorer use it by default."""
    rows = table2[
        (table2.seen_labels == "imagenet1k")
        & (table2.candidate_set == "2-hop")
        & table2.model.str.startswith(("DeViSE", "ConSE"))
        & ~table2.model.str.contains("random")
    ]
    best = rows.loc[rows["hit@5"].idxmax()]
    return {"best_model": str(best.model), "best_hit@5": float(best["hit@5"])}


def _build_zeroshot_sharks(cfg: Config, out: Path, _group: Group) -> dict:
    from .sharks import shark_experiment

    summary, top5 = shark_experiment(
        space=label_space(cfg),
        classifier=sample_features(cfg).classifier,
        models=get(cfg, "shark_models"),
        photos=shark_features(cfg),
        conse_top_t=cfg.imagenet.conse_t,
    )
    summary.to_csv(out / "sharks_zero_shot.csv", index=False)
    top5.to_csv(out / "sharks_zero_shot_top5.csv", index=False)
    return {"directions": int(summary["held_out"].nunique())}


# ---------------------------------------------------------------- predict


def _build_predictor(cfg: Config, out: Path, _group: Group) -> dict:
    """Everything `predict` needs as arrays (see predict.py), and the backbone exported
    for ONNX Runtime."""
    import json

    from .candidates import hop_sets, standard_lists, standard_sets
    from .engines import make_engine
    from .evaluation import DEVISE, DEVISE_1K, model_file
    from .hierarchy import Hierarchy
    from .imagenet1k import seen_columns
    from .vectors import LinearProjection
    from .visual import build_backbone

    space, sample = label_space(cfg), sample_features(cfg)
    row = {w: i for i, w in enumerate(space.wnids)}
    np.savez(
        out / "space.npz",
        wnids=np.array(space.wnids),
        names=np.array(space.names),
        vectors=space.vectors,
    )
    models = get(cfg, "imagenet1k")
    seen = models[DEVISE_1K].seen
    lists = standard_lists(cfg.imagenet.lists)
    sets_1k = {"seen": seen, **standard_sets(seen, space.wnids, lists)}
    caltech = experiment_labels(cfg)
    sets_caltech = {
        "seen": caltech,
        **hop_sets(caltech, space.wnids, Hierarchy.wordnet()),
    }
    entries = {}

    def save(name: str, kind: str, arrays: dict, sets: dict, **facts) -> None:
        file = model_file(name).replace(".pt", ".npz")
        ranks = {
            f"set:{k}": np.array([row[w] for w in v], np.int32) for k, v in sets.items()
        }
        np.savez(out / file, **arrays, **ranks)
        entries[name] = {"kind": kind, "file": file, **facts}

    projection = models[DEVISE_1K].project
    save(
        "DeViSE-1K",
        "projection",
        {"weight": projection.weight, "bias": projection.bias},
        sets_1k,
    )
    classifier = sample.classifier
    save(
        "ConSE-1K",
        "conse",
        {
            "weight": classifier.weight,
            "bias": classifier.bias,
            "columns": seen_columns(classifier, seen),
        },
        sets_1k,
        top_t=cfg.imagenet.conse_t,
    )
    caltech_map = LinearProjection.of(trained_models(cfg)[DEVISE])  # phase 1
    save(
        "DeViSE-Caltech",
        "projection",
        {"weight": caltech_map.weight, "bias": caltech_map.bias},
        sets_caltech,
    )
    best = read_info(folder(cfg, "zeroshot"))["best_model"]
    default = "DeViSE-1K" if best == DEVISE else "ConSE-1K"
    engine = make_engine(cfg.visual, build_backbone(cfg.visual), "cpu", out / "engine")
    (out / "predictor.json").write_text(
        json.dumps({"models": entries, "default": default}, indent=1)
    )
    return {"default": default, "engine": engine.name}


# ---------------------------------------------------------------- what each stage reads


def _reads_corpus(cfg: Config):
    from .text import text_fingerprint

    fingerprint = text_fingerprint(text_source(cfg), cfg.text.max_files)
    # the number of processes changes only the speed: the output is the same
    text = replace(cfg.text, processes=None)
    return fingerprint, text, cfg.phrases, cfg.labels.vocabulary


def _reads_photos(cfg: Config, images: list, root: Path):
    return cfg.visual.backbone, cfg.visual.image_size, relative_paths(images, root)


def _reads_sample(cfg: Config):
    root = dataset_root(cfg.imagenet.sample)
    photos = _reads_photos(cfg, sample_images(cfg), root)
    return photos, cfg.imagenet.seed, sample_views(cfg)


def _reads_sharks(cfg: Config):
    from .datasets import locate

    return _reads_photos(cfg, shark_images(cfg), locate("sharks"))


ZERO_SHOT_RESULTS = (
    "table2_zero_shot.csv",
    "table3_zero_shot_hp.csv",
    "candidate_sets_imagenet1k.csv",
    "seen_labels.csv",
    "zero_shot_ablation.csv",
    "zero_shot_seen_count.csv",
    "zero_shot_gallery.csv",
    "hop_rules.csv",
)


def _reads_features(cfg: Config):
    # Batch size, device and threads change only the speed (and float rounding).
    images = relative_paths(labelled_images(cfg), dataset_root(cfg.images.dataset))
    return cfg.images, cfg.visual.backbone, cfg.visual.image_size, images


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
        Stage(
            "sample_features",
            "features of the ImageNet sample (one photo a class) and its views",
            needs=(),
            reads=_reads_sample,
            build=_build_sample_features,
            load=_load_sample,
        ),
        Stage(
            "shark_features",
            "features of the shark photos",
            needs=(),
            reads=_reads_sharks,
            build=_build_shark_features,
        ),
        Stage(
            "imagenet1k",
            "DeViSE-1K: phase 1 on the ImageNet sample, and its ablations",
            needs=("labels", "sample_features"),
            reads=lambda cfg: (devise_1k_config(cfg), cfg.imagenet),
            build=_build_imagenet1k,
            load=_load_projections,
        ),
        Stage(
            "shark_models",
            "DeViSE-1K without a shark species (the shark experiment's models)",
            needs=("labels", "sample_features", "shark_features"),
            reads=lambda cfg: (devise_1k_config(cfg), cfg.imagenet),
            build=_build_shark_models,
            load=_load_projections,
        ),
        Stage(
            "zeroshot_caltech",
            "the first zero-shot experiment: seen labels from Caltech-101",
            needs=("labels", "features"),
            reads=lambda cfg: (cfg.zeroshot, cfg.devise),
            build=_build_zeroshot_caltech,
            load=_load_zeroshot_caltech,
        ),
        Stage(
            "zeroshot",
            "Tables 2 and 3: zero-shot labels, the paper's setting and the first",
            needs=("imagenet1k", "zeroshot_caltech", "sample_features"),
            reads=lambda cfg: cfg.imagenet,
            build=_build_zeroshot,
            load=_load_tables,
            results=ZERO_SHOT_RESULTS,
        ),
        Stage(
            "zeroshot_sharks",
            "sharks never seen, labelled from the ones seen",
            needs=("shark_models", "sample_features", "shark_features"),
            reads=lambda cfg: cfg.imagenet.conse_t,
            build=_build_zeroshot_sharks,
            load=_load_tables,
            results=("sharks_zero_shot.csv", "sharks_zero_shot_top5.csv"),
        ),
        Stage(
            "predictor",
            "the models of `predict`, as arrays, and the backbone for ONNX Runtime",
            needs=("zeroshot", "train"),
            reads=lambda cfg: None,
            build=_build_predictor,
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
