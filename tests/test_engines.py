"""The inference engines against eager torch on real photos, the export cache, the
fallback to torch, and the torch-free preprocessing against torchvision."""

import copy
import subprocess
import sys
import warnings
from functools import partial

import numpy as np
import pytest
import torch
from conftest import REPO, mirror
from PIL import Image
from torchvision import transforms as T

from devise_lite import torch_engines
from devise_lite.config import VisualConfig
from devise_lite.devise import EndToEnd, Projection
from devise_lite.engines import (
    EVAL_RESIZE_RATIO,
    OnnxEngine,
    batches_read_ahead,
    eval_array,
    loader_workers,
    normalisation,
)
from devise_lite.image_inputs import ImageFiles, UnreadableImageError, image_transform
from devise_lite.torch_engines import MATCH_ATOL, TorchEngine, make_engine
from devise_lite.visual import build_backbone

pytest.importorskip("onnxruntime")

CPU = torch.device("cpu")
SIZES = (224, 128)  # the book's image size and the tiny preset's


def real_photos() -> list:
    """Eight real photos of different things: Caltech-101 (odd sizes, one greyscale),
    a shark, and ImageNet photos."""
    caltech = mirror() / "caltech101" / "101_ObjectCategories"
    picks = ["airplanes", "Leopards", "Motorbikes", "accordion", "car_side"]
    photos = [sorted((caltech / c).glob("*.jpg"))[0] for c in picks]
    photos.append(sorted((mirror() / "sharks" / "great_white_shark").glob("*.jpg"))[0])
    photos += sorted((mirror() / "imagenet_sample").glob("*.JPEG"))[:2]
    return photos


@pytest.fixture(scope="module")
def batches() -> dict:
    """Per image size: the photos through torchvision's eval transform, (8, 3, S, S)."""
    out = {}
    for size in SIZES:
        transform = image_transform(VisualConfig(image_size=size))
        out[size] = torch.stack(
            [transform(Image.open(p).convert("RGB")) for p in real_photos()]
        )
    return out


@pytest.fixture(scope="module")
def backbone() -> torch.nn.Module:
    """The pretrained backbone; same weights at every image size."""
    return build_backbone(VisualConfig())


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("onnx-cache")


def eager(module, batch: torch.Tensor) -> np.ndarray:
    """Today's path: the module in fp32 NCHW."""
    with torch.inference_mode():
        return module.eval()(batch).numpy()


@pytest.mark.parametrize("size", SIZES)
def test_onnx_features_match_eager_torch_on_real_photos(size, batches, backbone, cache):
    cfg = VisualConfig(image_size=size)
    engine = make_engine(cfg, backbone, CPU, cache)
    assert isinstance(engine, OnnxEngine)
    batch = batches[size]
    expected = eager(backbone, batch)
    features = engine(batch)
    assert features.shape == (len(batch), 1280) and features.dtype == np.float32
    assert np.abs(features - expected).max() <= MATCH_ATOL
    # One photo alone (as `predict` sends it) and a numpy batch give the same.
    np.testing.assert_allclose(engine(batch[:1].numpy()), expected[:1], atol=MATCH_ATOL)
    # Negative control: different photos differ by whole units, 10,000 times the
    # tolerance, so the match above is not a matter of all features being alike.
    gaps = np.abs(expected[:, None] - expected[None]).max(axis=-1)
    assert gaps[~np.eye(len(batch), dtype=bool)].min() > 1e4 * MATCH_ATOL


def test_a_batch_split_over_sessions_gives_one_sessions_features_to_the_bit(
    batches, backbone, cache
):
    engine = make_engine(VisualConfig(), backbone, CPU, cache)
    whole = OnnxEngine(engine.onnx_path, 2, split=False)
    split = OnnxEngine(engine.onnx_path, 2)
    batch = batches[224].numpy()
    for photos in (batch, batch[:5], batch[:1]):  # 8 and 5 split in two; 1 is not
        np.testing.assert_array_equal(split(photos), whole(photos))
    assert len(split.singles) == 2 and "split over 2 sessions" in split.name


def test_export_accepts_only_its_own_image_size(batches, backbone, cache):
    """The traced TF-'same' padding is that of the export size, so the file refuses
    any other size instead of computing wrong features."""
    engine = make_engine(VisualConfig(image_size=128), backbone, CPU, cache)
    with pytest.raises(Exception, match="(?i)invalid dimensions"):
        engine(batches[224])


def tiny_net() -> torch.nn.Module:
    """A small convolutional net: it exports in a blink, with the same code path."""
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, stride=2),
        torch.nn.BatchNorm2d(8),
        torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(),
    ).eval()


def test_export_cache_is_reused_and_invalidated_by_new_weights(
    batches, monkeypatch, tmp_path
):
    exports = []
    real_export = torch_engines.export_onnx
    monkeypatch.setattr(
        torch_engines, "export_onnx", lambda *a: exports.append(a) or real_export(*a)
    )
    net, cfg = tiny_net(), VisualConfig(image_size=128)
    batch = batches[128][:2]
    first = make_engine(cfg, net, CPU, tmp_path)
    again = make_engine(cfg, net, CPU, tmp_path)
    assert len(exports) == 1 and len(list(tmp_path.glob("*.onnx"))) == 1
    np.testing.assert_array_equal(again(batch), first(batch))

    tuned = copy.deepcopy(net)  # as phase 2 changes the weights
    with torch.no_grad():
        tuned[0].weight.mul_(1.1)
    engine = make_engine(cfg, tuned, CPU, tmp_path)
    assert len(exports) == 2 and len(list(tmp_path.glob("*.onnx"))) == 2
    assert np.abs(engine(batch) - eager(tuned, batch)).max() <= MATCH_ATOL
    assert np.abs(engine(batch) - eager(net, batch)).max() > 1e2 * MATCH_ATOL

    restatted = copy.deepcopy(net)  # training also moves batch-norm statistics
    restatted[1].running_mean.add_(0.5)
    make_engine(cfg, restatted, CPU, tmp_path)
    make_engine(VisualConfig(image_size=224), net, CPU, tmp_path)  # another size
    assert len(exports) == 4 and len(list(tmp_path.glob("*.onnx"))) == 4
    assert not list(tmp_path.glob(".*"))  # no temporary left behind


def test_without_onnxruntime_features_come_from_eager_torch(
    batches, backbone, monkeypatch, tmp_path
):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import fails
    cfg = VisualConfig(image_size=128)
    module = copy.deepcopy(backbone)  # channels_last re-lays out the module
    with pytest.warns(RuntimeWarning, match="eager torch") as caught:
        engine = make_engine(cfg, module, CPU, tmp_path)
    assert len(caught) == 1 and "\n" not in str(caught[0].message)
    assert isinstance(engine, TorchEngine) and engine.channels_last
    assert not list(tmp_path.iterdir())
    batch = batches[128][:3]
    assert np.abs(engine(batch) - eager(backbone, batch)).max() <= MATCH_ATOL
    with pytest.raises(ImportError):
        make_engine(cfg, module, CPU, tmp_path, engine="onnx")


def test_a_failed_export_falls_back_to_torch_in_one_warning(
    backbone, monkeypatch, tmp_path
):
    def broken(*args, **kwargs):
        raise RuntimeError("Unsupported: ONNX export of operator foo\nmore detail")

    monkeypatch.setattr(torch.onnx, "export", broken)
    with pytest.warns(RuntimeWarning, match=r"operator foo\); computing") as caught:
        engine = make_engine(
            VisualConfig(image_size=128), copy.deepcopy(backbone), CPU, tmp_path
        )
    assert len(caught) == 1 and "more detail" not in str(caught[0].message)
    assert isinstance(engine, TorchEngine)
    assert not list(tmp_path.rglob("*.onnx"))  # nothing half-written is left


def test_without_the_onnx_package_the_export_fails_into_one_warning(
    monkeypatch, tmp_path
):
    monkeypatch.setitem(sys.modules, "onnx", None)  # the exporter needs it
    with pytest.warns(RuntimeWarning, match="onnx is not installed") as caught:
        engine = make_engine(VisualConfig(image_size=128), tiny_net(), CPU, tmp_path)
    assert len(caught) == 1 and isinstance(engine, TorchEngine)


def test_a_phase_2_model_exports_with_its_projection(batches, tmp_path):
    """Phase 2 embeds test photos with the tuned network and the projection on top
    (a small network stands in for the backbone, whose export is tested above)."""
    model = EndToEnd(tiny_net(), Projection(8, 50)).eval()
    engine = make_engine(VisualConfig(image_size=128), model, CPU, tmp_path)
    assert isinstance(engine, OnnxEngine)
    batch = batches[128]
    embeddings = engine(batch)
    assert embeddings.shape == (len(batch), 50)
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1, atol=1e-5)
    assert np.abs(embeddings - eager(model, batch)).max() <= MATCH_ATOL


def test_torch_engine_is_what_was_asked_and_refuses_unknown_engines(backbone):
    cfg = VisualConfig(image_size=128)
    engine = make_engine(cfg, copy.deepcopy(backbone), CPU, None, engine="torch")
    assert isinstance(engine, TorchEngine) and "channels_last fp32" in engine.name
    with pytest.raises(ValueError, match="unknown engine 'tensorrt'"):
        make_engine(cfg, backbone, CPU, None, engine="tensorrt")
    with pytest.raises(ValueError, match="runs on the CPU"):
        make_engine(cfg, backbone, torch.device("cuda"), None, engine="onnx")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_cuda_engine_matches_the_cpu(batches, backbone):
    cuda = copy.deepcopy(backbone).cuda()
    engine = make_engine(VisualConfig(), cuda, torch.device("cuda"), None)
    assert isinstance(engine, TorchEngine) and "fp32" in engine.name
    batch = batches[224]
    assert np.abs(engine(batch) - eager(backbone, batch)).max() <= MATCH_ATOL


def odd_images(tmp_path) -> list:
    """Real photos, and copies in the modes and shapes a folder of photos may hold."""
    photos = real_photos()
    source = Image.open(photos[0]).convert("RGB")
    made = {
        "cmyk.jpg": source.convert("CMYK"),
        "grey.png": source.convert("L"),
        "palette.png": source.convert("P"),
        "rgba.png": source.convert("RGBA"),
        "tall-thin.jpg": source.resize((37, 301)),  # upscaled, odd sizes
        "exactly-resized.png": source.resize((292, 256)),  # shorter side already 256
    }
    for name, image in made.items():
        image.save(tmp_path / name)
    return photos + [tmp_path / name for name in made]


def torchvision_transform(cfg: VisualConfig, train: bool) -> T.Compose:
    """The reference: torchvision's own steps, ToTensor and Normalize included."""
    size, mean, std = cfg.image_size, *normalisation(cfg.backbone)
    if train:
        geometry = [T.RandomResizedCrop(size), T.RandomHorizontalFlip()]
    else:
        geometry = [T.Resize(round(size * EVAL_RESIZE_RATIO)), T.CenterCrop(size)]
    return T.Compose(geometry + [T.ToTensor(), T.Normalize(mean, std)])


@pytest.mark.parametrize("size", SIZES)
def test_eval_array_equals_torchvision(size, tmp_path):
    cfg = VisualConfig(image_size=size)
    transform = torchvision_transform(cfg, train=False)
    for path in odd_images(tmp_path):
        with Image.open(path) as image:
            expected = transform(image.convert("RGB")).numpy()
            array = eval_array(image, cfg)
        assert array.shape == (3, size, size) and array.dtype == np.float32
        assert np.array_equal(array, expected), path.name


@pytest.mark.parametrize("train", [False, True])
def test_image_transform_gives_torchvisions_bits_random_crops_included(train, tmp_path):
    # the stages' transform normalises in numpy: the same bits as ToTensor + Normalize,
    # and the random crops and flips drawn from torch's generator in the same order
    cfg = VisualConfig()
    images = []
    for path in odd_images(tmp_path):
        with Image.open(path) as image:
            images.append(image.convert("RGB"))
    torch.manual_seed(3)
    expected = [torchvision_transform(cfg, train)(image) for image in images]
    torch.manual_seed(3)
    ours = [image_transform(cfg, train)(image) for image in images]
    assert all(torch.equal(a, b) for a, b in zip(ours, expected, strict=True))


def test_a_saved_export_answers_without_importing_torch(batches, backbone, cache):
    """What `predict` needs: an exported file, eval_array and ONNX Runtime, no torch."""
    engine = make_engine(VisualConfig(), backbone, CPU, cache)
    photo = real_photos()[0]
    code = (
        "import sys; from pathlib import Path; import numpy as np; "
        "from PIL import Image; "
        "from devise_lite.config import VisualConfig; "
        "from devise_lite.engines import OnnxEngine, batches_read_ahead, eval_array, "
        "loader_workers; "
        f"x = eval_array(Image.open({str(photo)!r}), VisualConfig()); "
        "(batch,) = batches_read_ahead([x, x], 2); "
        f"features = OnnxEngine(Path({str(engine.onnx_path)!r}), 2)(batch); "
        "np.save(sys.argv[1], features); "
        "assert loader_workers('cuda', 4) == 3; "
        "assert 'torch' not in sys.modules, 'torch was imported'"
    )
    out = cache / "features-without-torch.npy"
    subprocess.run([sys.executable, "-c", code, str(out)], cwd=REPO, check=True)
    expected = eager(backbone, batches[224][:1])
    assert np.abs(np.load(out) - expected).max() <= MATCH_ATOL


def test_loader_workers_rule():
    # On CPUs a thread reads ahead instead (batches_read_ahead).
    assert loader_workers(CPU, 2) == loader_workers("cpu", 64) == 0
    assert loader_workers(torch.device("cuda", 1), 16) == 8
    assert loader_workers("cuda", 2) == 1
    assert loader_workers("cuda:0", None) == 1


def test_batches_read_ahead_keeps_order_and_names_a_bad_file(tmp_path):
    cfg = VisualConfig(image_size=64)
    paths = real_photos()[:5]
    images = ImageFiles(paths, partial(eval_array, cfg=cfg))
    batches = list(batches_read_ahead(images, 2))
    assert [len(b) for b in batches] == [2, 2, 1]
    expected = np.stack([eval_array(Image.open(p), cfg) for p in paths])
    np.testing.assert_array_equal(np.concatenate(batches), expected)
    assert list(batches_read_ahead([], 2)) == []

    broken = tmp_path / "not_a_photo.jpg"
    broken.write_bytes(b"this is text, not a JPEG")
    batches = batches_read_ahead(ImageFiles(paths[:2] + [broken], images.transform), 2)
    assert len(next(batches)) == 2
    with pytest.raises(UnreadableImageError, match="not_a_photo.jpg"):
        next(batches)


def test_no_warning_when_onnx_works(backbone, cache):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        make_engine(VisualConfig(image_size=128), backbone, CPU, cache)
