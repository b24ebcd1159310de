"""The stages of the book, each cached under the data root and keyed by the config it reads.

A stage function returns its artifact, computing it only when its cache folder is missing. Cache
folders are written atomically, so an interrupted stage leaves nothing a later run would trust,
and a finished one makes the next call near-instant. Chapters and the command line call these.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from .config import Config, stage_key
from .storage import atomic_path, results_dir, stage_dir, write_csv_atomic


def _cached_dir(stage: str, key: str, build) -> Path:
    """The stage's cache folder, built by `build(tmp_folder)` if missing.

    Two processes asking for the same stage (a CLI run and a notebook, say) take turns on a lock
    file: the second waits, then finds the first one's result instead of building it again."""
    folder = stage_dir(stage, key)
    if (folder / "done.json").exists():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    with _stage_lock(folder.parent / f".{folder.name}.lock"):
        if not (folder / "done.json").exists():
            # A run killed outright (no exception to clean up after) leaves its temporary folder
            # behind; holding the lock, no live run can be using one.
            for stale in folder.parent.glob(f".{folder.name}.*.part"):
                shutil.rmtree(stale, ignore_errors=True)
            with atomic_path(folder) as tmp:
                tmp.mkdir(parents=True)
                start = time.perf_counter()
                info = build(tmp) or {}
                info["seconds"] = round(time.perf_counter() - start, 2)
                (tmp / "done.json").write_text(json.dumps(info, indent=2))
    return folder


@contextmanager
def _stage_lock(path: Path):
    """An exclusive advisory lock (POSIX `flock`); where there is none (Windows), no locking."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(
                f"[devise-lite] another process is building {path.name[1:-5]}; waiting for it",
                file=sys.stderr,
                flush=True,
            )
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def stage_info(folder: Path) -> dict:
    return json.loads((folder / "done.json").read_text())


# ---------------------------------------------------------------- language half


def text_source(cfg: Config) -> Path:
    from .datasets import locate

    return Path(cfg.text.path) if cfg.text.path else locate(cfg.text.dataset)


def label_vocabulary(cfg: Config) -> list[str]:
    """ImageNet-21K wnids plus the labels of the image datasets, in that order, without repeats."""
    from .images import GREAT_WHITE_WNID, HAMMERHEAD_WNID, caltech_mapping
    from .wordnet import imagenet21k_wnids

    if cfg.labels.vocabulary != "imagenet21k":
        raise ValueError(
            f"unknown label vocabulary {cfg.labels.vocabulary!r}; use 'imagenet21k'"
        )
    dataset_labels = [w for w in caltech_mapping()["wnid"].dropna() if w]
    return list(
        dict.fromkeys(
            imagenet21k_wnids() + dataset_labels + [GREAT_WHITE_WNID, HAMMERHEAD_WNID]
        )
    )


def corpus_key(cfg: Config) -> str:
    return stage_key("corpus", cfg.text, cfg.phrases, cfg.labels.vocabulary)


def corpus(cfg: Config) -> Path:
    """Tokenised, phrase-joined Wikipedia text: one paragraph a line. Returns the file."""
    from .phrases import LabelLexicon, apply_phrases, write_lines
    from .text import read_documents, sentences
    from .wordnet import lemma_names, synset_of

    def build(tmp: Path) -> dict:
        lexicon = LabelLexicon([], 0)
        if cfg.phrases.label_lexicon:
            lexicon = LabelLexicon(
                l for w in label_vocabulary(cfg) for l in lemma_names(synset_of(w))
            )
        joined = tmp / "joined.txt"
        docs = read_documents(text_source(cfg), cfg.text.max_files)
        n_par, n_tok = write_lines(
            (lexicon.join(s) for s in sentences(docs, cfg.text.min_sentence_tokens)),
            joined,
            desc="tokenise + label phrases",
        )
        if cfg.phrases.passes:
            apply_phrases(joined, tmp / "corpus.txt", cfg.phrases, total=n_par)
            joined.unlink()
        else:
            joined.rename(tmp / "corpus.txt")
        return {"paragraphs": n_par, "tokens": n_tok, "label_phrases": len(lexicon)}

    return _cached_dir("corpus", corpus_key(cfg), build) / "corpus.txt"


def word2vec_key(cfg: Config) -> str:
    return stage_key(corpus_key(cfg), cfg.word2vec)


def word_vectors(cfg: Config):
    """The skip-gram word vectors (gensim KeyedVectors), trained once per configuration."""
    from gensim.models import KeyedVectors

    from .language_model import train_skipgram

    def build(tmp: Path) -> dict:
        model, report = train_skipgram(corpus(cfg), cfg.word2vec)
        model.wv.save(str(tmp / "vectors.kv"))
        return {
            "words": report.words,
            "train_seconds": round(report.seconds, 2),
            "words_per_second": round(report.words_per_second),
            "vocabulary": report.vocabulary,
        }

    folder = _cached_dir("word2vec", word2vec_key(cfg), build)
    return KeyedVectors.load(str(folder / "vectors.kv"), mmap="r")


def word2vec_report(cfg: Config) -> dict:
    word_vectors(cfg)
    return stage_info(stage_dir("word2vec", word2vec_key(cfg)))


def labels_key(cfg: Config) -> str:
    return stage_key(word2vec_key(cfg), cfg.labels)


def label_space(cfg: Config):
    """The label space over the vocabulary; synsets without a usable word are in `missing_labels`."""
    from .labels import LabelSpace, build_label_space

    def build(tmp: Path) -> dict:
        space, missing = build_label_space(
            label_vocabulary(cfg), word_vectors(cfg), cfg.labels
        )
        space.save(tmp / "labels.npz")
        missing.to_csv(tmp / "missing.csv", index=False)
        return {"labels": len(space), "missing": len(missing)}

    return LabelSpace.load(_cached_dir("labels", labels_key(cfg), build) / "labels.npz")


def missing_labels(cfg: Config) -> pd.DataFrame:
    label_space(cfg)
    return pd.read_csv(stage_dir("labels", labels_key(cfg)) / "missing.csv")


def shark_check(cfg: Config) -> pd.DataFrame:
    """`data/results/shark_neighbours.csv`: each shark species' 9 nearest labels."""
    from .neighbours import shark_neighbours

    table = shark_neighbours(label_space(cfg), k=9)
    write_csv_atomic(table, results_dir() / "shark_neighbours.csv")
    return table


# ---------------------------------------------------------------- visual half


def image_split(cfg: Config):
    """The fixed Caltech-101 split of chapter 3, over all mapped labels (`max_classes` is applied
    by `experiment_labels`, among the labels that have a vector)."""
    from dataclasses import replace

    from .imagefolders import folder_split, is_folder_dataset
    from .images import caltech_split

    if is_folder_dataset(
        cfg.images.dataset
    ):  # the user's ImageNet-style folder (paper scale)
        return folder_split(replace(cfg.images, max_classes=None))
    return caltech_split(replace(cfg.images, max_classes=None))


def experiment_labels(cfg: Config) -> tuple[list[str], list[str]]:
    """(labels used by every model, dataset labels dropped because they have no label vector).

    A label DeViSE cannot embed is dropped for every model, so all rows of Table 1 rank the same
    candidates. A `max_classes` preset then takes a seeded subset of the rest."""
    from .images import choose_labels

    space = label_space(cfg)
    wnids = image_split(cfg).wnids
    usable = [w for w in wnids if w in space]
    return choose_labels(usable, cfg.images.max_classes, cfg.images.seed), [
        w for w in wnids if w not in space
    ]


def _images_of(cfg: Config, part: str):
    keep = set(experiment_labels(cfg)[0])
    return [i for i in getattr(image_split(cfg), part) if i.wnid in keep]


def image_features(cfg: Config, part: str):
    """Cached backbone features of the "train" or "test" images: (features, class indices)."""
    from .visual import extract_features

    images = _images_of(cfg, part)
    labels = experiment_labels(cfg)[0]
    index = {w: i for i, w in enumerate(labels)}
    features = extract_features(
        [i.path for i in images], cfg.visual, f"{cfg.images.dataset}-{part}"
    )
    return features, np.array([index[i.wnid] for i in images], dtype=np.int64)


def feature_stats(cfg: Config, part: str) -> dict | None:
    from .visual import extraction_stats

    return extraction_stats(
        [i.path for i in _images_of(cfg, part)],
        cfg.visual,
        f"{cfg.images.dataset}-{part}",
    )


def train_key(cfg: Config) -> str:
    return stage_key(
        labels_key(cfg),
        cfg.images,
        cfg.visual.backbone,
        cfg.visual.image_size,
        cfg.devise,
    )


def _monitor(cfg: Config, label_vectors):
    """Test hit@1/hit@5 after each epoch, for the training curves only: nothing is chosen by it
    (the number of epochs is fixed by the preset), so the test set stays a test set."""
    from .devise import embed, logits
    from .metrics import flat_hit_at_k, top_k

    features, targets = image_features(cfg, "test")

    def monitor(model):
        scores = (
            logits(model, features)
            if label_vectors is None
            else embed(model, features) @ label_vectors.T
        )
        hits = flat_hit_at_k(top_k(scores, 5), targets, (1, 5))
        return {"test hit@1": hits[1], "test hit@5": hits[5]}

    return monitor


def trained_models(cfg: Config) -> dict:
    """Phase 1 of DeViSE, the random-embedding control and the softmax baseline, on the same
    cached training features and budget. Returns {name: module} plus "history" (a DataFrame)."""
    import torch

    from .devise import Projection, train_projection, train_softmax
    from .labels import random_label_space

    key = train_key(cfg)
    labels = experiment_labels(cfg)[0]
    space = label_space(cfg).subset(labels)
    random_space = random_label_space(space, cfg.devise.seed)
    checkpoints = stage_dir("checkpoints", key)

    def build(tmp: Path) -> dict:
        x, y = image_features(cfg, "train")
        checkpoints.mkdir(parents=True, exist_ok=True)
        histories = []
        for name, vectors in (
            ("DeViSE", space.vectors),
            ("DeViSE, random embeddings", random_space.vectors),
        ):
            model, history = train_projection(
                x,
                y,
                vectors,
                cfg.devise,
                monitor=_monitor(cfg, vectors),
                checkpoint=checkpoints / f"{_slug(name)}.pt",
            )
            torch.save(model.state_dict(), tmp / f"{_slug(name)}.pt")
            histories.append(history.assign(model=name))
        model, history = train_softmax(
            x,
            y,
            len(labels),
            cfg.devise,
            monitor=_monitor(cfg, None),
            checkpoint=checkpoints / "softmax.pt",
        )
        torch.save(model.state_dict(), tmp / "softmax.pt")
        histories.append(history.assign(model="softmax baseline"))
        pd.concat(histories).to_csv(tmp / "history.csv", index=False)
        return {"train_images": len(y), "labels": len(labels)}

    folder = _cached_dir("train", key, build)
    shutil.rmtree(checkpoints, ignore_errors=True)
    # Read from the weights, not the features: at paper scale those are 21 GB.
    feature_dim = torch.load(folder / "softmax.pt")["weight"].shape[1]
    models = {}
    for name in ("DeViSE", "DeViSE, random embeddings"):
        models[name] = Projection(feature_dim, space.vectors.shape[1])
        models[name].load_state_dict(torch.load(folder / f"{_slug(name)}.pt"))
    models["softmax baseline"] = torch.nn.Linear(feature_dim, len(labels))
    models["softmax baseline"].load_state_dict(torch.load(folder / "softmax.pt"))
    models["history"] = pd.read_csv(folder / "history.csv")
    return models


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name.lower()).strip("_")


def phase2_key(cfg: Config) -> str:
    return stage_key(train_key(cfg), "phase2")


def fine_tuned_embeddings(cfg: Config) -> np.ndarray:
    """Phase 2: the whole visual net and the phase-1 projection trained together with Adagrad on
    the training images; returns the unit embeddings of the test images under the tuned net."""
    import torch
    from torch.utils.data import DataLoader

    from .devise import EndToEnd, fine_tune, rank_loss
    from .progress import progress_bar
    from .visual import (
        ImageFiles,
        build_backbone,
        forward_images,
        image_transform,
        resolve_device,
        torch_threads,
    )

    labels = experiment_labels(cfg)[0]
    vectors = torch.as_tensor(label_space(cfg).subset(labels).vectors)
    checkpoints = stage_dir("checkpoints", phase2_key(cfg))

    def build(tmp: Path) -> dict:
        device = resolve_device(cfg.visual)
        model = EndToEnd(build_backbone(cfg.visual), trained_models(cfg)["DeViSE"])
        train = _images_of(cfg, "train")
        _, targets = image_features(cfg, "train")
        images = ImageFiles(
            [i.path for i in train], image_transform(cfg.visual, train=True)
        )
        loader = DataLoader(
            _Indexed(images, targets),
            batch_size=cfg.visual.batch_size,
            shuffle=True,
            generator=torch.Generator().manual_seed(cfg.devise.seed),
        )
        checkpoints.mkdir(parents=True, exist_ok=True)
        with torch_threads(cfg.visual.num_threads):
            start = time.perf_counter()
            history = fine_tune(
                model,
                loader,
                rank_loss(cfg.devise, vectors.to(device)),
                cfg.devise,
                device=device,
                checkpoint=checkpoints / "phase2.pt",
            )
            train_seconds = time.perf_counter() - start
            test = ImageFiles(
                [i.path for i in _images_of(cfg, "test")], image_transform(cfg.visual)
            )
            with progress_bar(
                total=len(test), desc="embed test images (tuned net)", unit="img"
            ) as bar:
                embeddings = forward_images(model, test, cfg.visual, device, bar)
        np.save(tmp / "test_embeddings.npy", embeddings)
        history.to_csv(tmp / "history.csv", index=False)
        steps = int(history["steps"].iloc[-1]) if len(history) else 0
        return {
            "steps": steps,
            "batch_size": cfg.visual.batch_size,
            "device": str(device),
            "train_seconds": round(train_seconds, 1),
            "seconds_per_step": round(train_seconds / max(steps, 1), 2),
        }

    folder = _cached_dir("phase2", phase2_key(cfg), build)
    shutil.rmtree(checkpoints, ignore_errors=True)
    return np.load(folder / "test_embeddings.npy")


class _Indexed:
    """(image tensor, class index) pairs for a DataLoader."""

    def __init__(self, images, targets):
        self.images, self.targets = images, targets

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return self.images[i], int(self.targets[i])


def phase2_info(cfg: Config) -> dict:
    fine_tuned_embeddings(cfg)
    folder = stage_dir("phase2", phase2_key(cfg))
    return {**stage_info(folder), "history": pd.read_csv(folder / "history.csv")}


TABLE1_COLUMNS = [
    "model",
    "dim",
    "hit@1",
    "hit@2",
    "hit@5",
    "hit@10",
    "hit@20",
    "hp@2",
    "hp@5",
    "hp@10",
    "hp@20",
]


def table1(cfg: Config) -> pd.DataFrame:
    """The paper's Table 1 on the test images: every model ranks the same training labels.
    Written to `data/results/table1.csv`."""
    from .devise import embed, logits
    from .evaluation import chance_row, cosine_scores, ranking_row, results_table
    from .hierarchy import Hierarchy
    from .labels import random_label_space

    labels = experiment_labels(cfg)[0]
    space = label_space(cfg).subset(labels)
    random_vectors = random_label_space(space, cfg.devise.seed).vectors
    models = trained_models(cfg)
    features, targets = image_features(cfg, "test")
    true = [labels[t] for t in targets]
    h = Hierarchy.wordnet()
    scores = {
        "softmax baseline": logits(models["softmax baseline"], features),
        "DeViSE": cosine_scores(embed(models["DeViSE"], features), space.vectors),
        "DeViSE, random embeddings": cosine_scores(
            embed(models["DeViSE, random embeddings"], features), random_vectors
        ),
    }
    if cfg.devise.phase2_epochs and cfg.devise.phase2_max_steps != 0:
        scores["DeViSE + phase 2"] = cosine_scores(
            fine_tuned_embeddings(cfg), space.vectors
        )
    rows = {name: ranking_row(s, true, labels, h) for name, s in scores.items()}
    rows["chance"] = chance_row(true, labels, h)
    dim = space.vectors.shape[1]
    table = results_table(
        rows, dim={name: dim for name in rows if name.startswith("DeViSE")}
    )
    # hp@k for k beyond the number of candidates (tiny preset) is undefined: the column stays, empty.
    table = table.reindex(
        columns=TABLE1_COLUMNS + [c for c in table.columns if c not in TABLE1_COLUMNS]
    )
    write_csv_atomic(table, results_dir() / "table1.csv")
    return table


STAGES = {
    "corpus": ("tokenise Wikipedia and join phrases", corpus),
    "word2vec": ("train skip-gram word vectors", word_vectors),
    "labels": ("embed the label vocabulary", label_space),
    "sharks": (
        "nearest labels of each shark species -> data/results/shark_neighbours.csv",
        shark_check,
    ),
    "features": (
        "backbone features of the train and test images",
        lambda cfg: [image_features(cfg, part) for part in ("train", "test")],
    ),
    "train": ("phase 1: DeViSE, random embeddings, softmax baseline", trained_models),
    "finetune": ("phase 2: the whole network, briefly on a CPU", fine_tuned_embeddings),
    "evaluate": ("Table 1 -> data/results/table1.csv", table1),
}
