"""The book's explorer, built from the cached stages: the trained models of `predict`
(the best zero-shot model first), DeViSE-1K's random-embedding control, the label space,
the word vectors, and a gallery of the Caltech test photos and the shark photos."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import pipeline
from ..config import Config
from ..datasets import DatasetUnavailableError
from ..evaluation import RANDOM_1K
from ..labels import random_label_space
from ..predict import load_predictor
from ..sharks import SHARK_SPECIES
from .explorer import Explorer, GalleryImage, ModelView, UnknownQueryError

EXPLORER_SETS = ("seen", "2-hop", "3-hop", "21k", "21k+seen")


def explorer_for(cfg: Config) -> Explorer:
    """The book's explorer (see the module doc)."""
    space = pipeline.label_space(cfg)
    missing = pipeline.missing_labels(cfg)
    pipeline.ensure(cfg, "predictor")
    predictor = load_predictor(cfg)

    def view(name: str) -> ModelView:
        rows = predictor.models[name]["sets"]
        sets = {s: [predictor.wnids[r] for r in rows[s]] for s in EXPLORER_SETS}
        return ModelView(space, lambda f: predictor.points(name, f), sets=sets)

    models = {n: view(n) for n in dict.fromkeys([predictor.default, *predictor.models])}
    control = pipeline.get(cfg, "imagenet1k")[RANDOM_1K]
    models[RANDOM_1K] = ModelView(
        random_label_space(space, cfg.imagenet.seed),
        control.project,
        has_words=False,
        sets=models[predictor.default].sets,
    )
    test = pipeline.experiment_images(cfg, "test")
    features, _ = pipeline.image_features(cfg, "test")
    gallery = {
        f"test/{i.source}/{i.path.name}": GalleryImage(i.path, f, i.wnid)
        for i, f in zip(test.images, features, strict=True)
    }
    try:
        for wnid, (photos, rows) in pipeline.shark_features(cfg).items():
            for p, f in zip(photos, rows, strict=True):
                name = f"sharks/{p.source}/{p.path.name}"
                gallery[name] = GalleryImage(p.path, f, wnid)
    except DatasetUnavailableError:
        pass  # no shark photos here: the gallery holds Caltech only

    def featurize(paths: list[Path]) -> np.ndarray:
        """Backbone features of image files the gallery does not hold."""
        # torch loads only when a reader gives a file outside the gallery
        from ..extraction import features_of
        from ..image_inputs import UnreadableImageError

        try:
            return features_of(paths, cfg.visual)
        except UnreadableImageError as error:
            raise UnknownQueryError(str(error)) from None

    return Explorer(
        space,
        models[predictor.default].sets,
        models,
        words=pipeline.word_vectors(cfg),
        images=gallery,
        featurize=featurize,
        label_config=cfg.labels,
        featured=[w for w in SHARK_SPECIES if w in space] + list(test.labels),
        missing=dict(zip(missing["wnid"], missing["name"], strict=True)),
    )
