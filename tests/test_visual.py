"""The pretrained backbone on real photos, and the cached, resumable feature
extraction."""

import urllib.error

import numpy as np
import pytest
import torch
from conftest import mirror
from PIL import Image

from devise_lite.config import VisualConfig
from devise_lite.extraction import extract_features, features_of, resolve_device
from devise_lite.image_inputs import ImageFiles, UnreadableImageError, image_transform
from devise_lite.visual import (
    BackboneUnavailableError,
    VisualBackbone,
    architecture,
    build_backbone,
    head_check,
    head_verdict,
    imagenet_predict,
    parameter_count,
    untrained_backbone,
)

# Eager torch: the tests count the backbone's forward calls (batches).
SMALL = VisualConfig(
    image_size=128, batch_size=2, num_threads=2, device="cpu", engine="torch"
)
# ImageNet-1k classes a side view of an aeroplane may fairly get.
AIRCRAFT_WNIDS = {
    "n02690373": "airliner",
    "n04552348": "warplane",
    "n04592741": "wing",
    "n02692877": "airship",
    "n04266014": "space shuttle",
}
GREAT_WHITE_SHARK = "n01484850"


def caltech_images(n_classes: int = 4) -> list:
    root = mirror() / "caltech101" / "101_ObjectCategories"
    classes = [
        "airplanes",
        "Leopards",
        "Motorbikes",
        "accordion",
        "butterfly",
        "chair",
    ][:n_classes]
    return [sorted((root / c).glob("*.jpg"))[0] for c in classes]


@pytest.fixture
def data_root(tmp_path, monkeypatch):
    monkeypatch.setenv("DEVISE_DATA", str(tmp_path / "data"))
    return tmp_path / "data"


@pytest.fixture
def count_forward(monkeypatch):
    """Count VisualBackbone.forward calls (batches); optionally fail after `fail_after`
    of them."""
    calls = {"n": 0, "fail_after": None}
    original = VisualBackbone.forward

    def counting(self, images):
        if calls["fail_after"] is not None and calls["n"] >= calls["fail_after"]:
            raise KeyboardInterrupt("simulated interruption")
        calls["n"] += 1
        return original(self, images)

    monkeypatch.setattr(VisualBackbone, "forward", counting)
    return calls


def test_features_are_float32_per_image(data_root, count_forward):
    paths = caltech_images(4)
    out, work = data_root / "probe.npy", data_root / "probe-chunks"
    stats = extract_features(paths, SMALL, out, work, progress=False)
    features = np.load(out)
    assert features.shape == (4, 1280) and features.dtype == np.float32
    # EfficientNet-Lite's last activation is ReLU6, so pooled features lie in [0, 6].
    assert features.min() >= 0.0 and features.max() <= 6.0
    # Four photos of different classes give four clearly different feature vectors.
    distances = np.linalg.norm(features[:, None] - features[None], axis=-1)
    assert (
        distances[~np.eye(4, dtype=bool)].min()
        > 0.5 * np.linalg.norm(features, axis=1).min()
    )
    assert count_forward["n"] == 2  # 4 images in batches of 2
    assert stats["images_computed"] == 4 and stats["images_per_second"] > 0
    assert not work.exists()  # the chunks are gone once the file holds every row
    np.testing.assert_allclose(features_of(paths, SMALL), features, atol=1e-5)


def test_interrupted_extraction_resumes_from_finished_chunks(data_root, count_forward):
    paths = caltech_images(4)
    out, work = data_root / "resume.npy", data_root / "resume-chunks"
    count_forward["fail_after"] = 1  # the second chunk's batch is interrupted
    with pytest.raises(KeyboardInterrupt):
        extract_features(paths, SMALL, out, work, progress=False, chunk_images=2)
    assert not out.exists()
    chunks = [p.name for p in work.rglob("*.npy")]
    assert chunks == ["chunk-0000000.npy"]

    count_forward.update(n=0, fail_after=None)
    stats = extract_features(paths, SMALL, out, work, progress=False, chunk_images=2)
    assert count_forward["n"] == 1  # only the unfinished chunk was computed
    assert stats["images_computed"] == 2
    assert not work.exists()
    fresh_out = data_root / "fresh.npy"
    extract_features(paths, SMALL, fresh_out, data_root / "fresh", progress=False)
    np.testing.assert_allclose(np.load(out), np.load(fresh_out), rtol=1e-4, atol=1e-4)


def test_pretrained_weights_recognise_an_airplane_and_a_great_white_shark():
    cfg = VisualConfig(image_size=224)
    airplane = (
        mirror()
        / "caltech101"
        / "101_ObjectCategories"
        / "airplanes"
        / "image_0001.jpg"
    )
    shark = sorted((mirror() / "sharks" / "great_white_shark").glob("*.jpg"))[0]
    images = torch.stack(
        [image_transform(cfg)(Image.open(p).convert("RGB")) for p in (airplane, shark)]
    )
    backbone = build_backbone(cfg)
    plane_top, shark_top = imagenet_predict(backbone, images, top=3)
    assert plane_top[0][0] in AIRCRAFT_WNIDS, plane_top
    assert shark_top[0][0] == GREAT_WHITE_SHARK and shark_top[0][1] > 0.5, shark_top
    assert plane_top[0][1] >= plane_top[1][1] >= plane_top[2][1]


def test_lite_normalisation_is_pixel_minus_127_over_128():
    grey = Image.new("RGB", (300, 200), (127, 255, 0))
    x = image_transform(VisualConfig(image_size=64))(grey)
    assert x.shape == (3, 64, 64)
    np.testing.assert_allclose(
        x.mean(dim=(1, 2)).numpy(), [0.0, 1.0, -127 / 128], atol=1e-6
    )
    train = image_transform(VisualConfig(image_size=64), train=True)(grey)
    assert train.shape == (3, 64, 64)


def test_backbone_trains_end_to_end_but_not_its_imagenet_head():
    backbone = build_backbone(VisualConfig()).train()
    features = backbone(torch.randn(2, 3, 64, 64))
    assert features.shape == (2, backbone.feature_dim)
    features.square().mean().backward()
    assert backbone.net._conv_stem.weight.grad.abs().sum() > 0
    assert (
        backbone.imagenet_head.weight.grad is None
        and not backbone.imagenet_head.weight.requires_grad
    )


def test_bad_and_missing_image_files_are_named(data_root, tmp_path):
    broken = tmp_path / "not_a_photo.jpg"
    broken.write_bytes(b"this is text, not a JPEG")
    with pytest.raises(UnreadableImageError, match="not_a_photo.jpg"):
        extract_features(
            caltech_images(1) + [broken], SMALL, data_root / "x.npy", data_root / "x"
        )
    assert not (data_root / "x.npy").exists()
    with pytest.raises(FileNotFoundError, match="missing.jpg"):
        ImageFiles([tmp_path / "missing.jpg"], image_transform(SMALL))[0]


def test_torchvision_backbone_without_network_says_what_to_do(monkeypatch):
    import torchvision

    def offline(name, weights=None):
        raise urllib.error.URLError("[Errno -2] Name or service not known")

    monkeypatch.setattr(torchvision.models, "get_model", offline)
    with pytest.raises(BackboneUnavailableError, match="network.*efficientnet_lite0"):
        build_backbone(VisualConfig(backbone="alexnet"))


def test_torchvision_classifier_is_cut_to_the_penultimate_layer(monkeypatch):
    import torchvision

    real_get_model = torchvision.models.get_model
    monkeypatch.setattr(
        torchvision.models, "get_model", lambda name, weights=None: real_get_model(name)
    )
    backbone = build_backbone(
        VisualConfig(backbone="alexnet")
    )  # random weights: shapes only
    assert backbone.feature_dim == 4096 and backbone.imagenet_head.out_features == 1000
    assert backbone(torch.randn(1, 3, 224, 224)).shape == (1, 4096)


def test_unknown_backbone_and_device_are_refused():
    with pytest.raises(ValueError, match="unknown backbone 'lenet'"):
        build_backbone(VisualConfig(backbone="lenet"))
    assert resolve_device(VisualConfig(device="cpu")) == torch.device("cpu")
    if not torch.cuda.is_available():
        assert resolve_device(VisualConfig()) == torch.device("cpu")
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            resolve_device(VisualConfig(device="cuda"))


def test_head_check_on_an_airplane_and_a_great_white_shark():
    from devise_lite.images import LabelledImage

    root = mirror() / "caltech101" / "101_ObjectCategories" / "airplanes"
    shark = sorted((mirror() / "sharks" / "great_white_shark").glob("*.jpg"))[0]
    photos = [
        LabelledImage(root / "image_0001.jpg", "n02691156", "airplanes"),
        LabelledImage(shark, GREAT_WHITE_SHARK, "great_white_shark"),
    ]
    cfg = VisualConfig(image_size=224)
    checks = head_check(build_backbone(cfg), photos, cfg)
    assert list(checks["photo"]) == [
        "airplanes/image_0001.jpg",
        f"great_white_shark/{shark.name}",
    ]
    assert list(checks["label"]) == ["airplane.n.01", "great_white_shark.n.01"]
    # A warplane (this photo's usual answer) is no airplane in WordNet, an airliner is.
    plane, fish = checks["verdict"]
    assert plane.startswith("not in ImageNet-1K, top-1 ")
    assert fish == "ImageNet-1K class, top-1 correct"
    assert [len(top) for top in checks["top-3"]] == [3, 3]
    assert checks["probability"].iloc[1] == checks["top-3"].iloc[1][0][1] > 0.5


def test_untrained_alexnet_has_the_papers_shape_and_no_weights_to_download():
    alexnet = untrained_backbone("alexnet")
    assert alexnet.feature_dim == 4096 and alexnet.imagenet_head.out_features == 1000
    # AlexNet's 61,100,840 weights, less its 4096 x 1000 classifier and 1000 biases.
    assert parameter_count(alexnet.net) == 61_100_840 - (4096 * 1000 + 1000)
    assert parameter_count(torch.nn.Linear(3, 2)) == 3 * 2 + 2
    assert architecture(alexnet) == {
        "feature dimension": 4096,
        "weights below the classifier": 61_100_840 - 4_097_000,
        "weights of the classifier": 4_097_000,
    }


@pytest.mark.parametrize(
    "truth, top1, verdict",
    [
        ("n02110341", "n02110341", "ImageNet-1K class, top-1 correct"),  # dalmatian
        ("n02110341", "n02690373", "ImageNet-1K class, top-1 wrong"),  # an airliner
        ("n02691156", "n02690373", "not in ImageNet-1K, top-1 is a kind of it"),
        ("n02691156", "n02110341", "not in ImageNet-1K, top-1 is another"),
    ],
)
def test_head_verdict(truth, top1, verdict):
    mirror()  # WordNet comes from the mirror
    assert head_verdict(truth, top1) == verdict
