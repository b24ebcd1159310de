import hashlib
import os
import time
import zipfile
from dataclasses import replace

import pytest
from conftest import OFFLINE_ERROR, mirror

from devise_lite import datasets
from devise_lite.archives import DatasetIntegrityError, verify_checksum
from devise_lite.datasets import REGISTRY, DatasetUnavailableError, locate, photos_in
from devise_lite.wnids import imagenet1k_wnids


def test_every_dataset_names_a_real_download_location():
    for dataset in REGISTRY.values():
        assert dataset.url.startswith("https://"), dataset.name
        assert dataset.checksum is None or dataset.checksum.split(":")[0] in (
            "md5",
            "sha256",
        )


def test_missing_dataset_offline_without_mirror_raises_one_clear_error(
    monkeypatch, tmp_path, offline
):
    monkeypatch.delenv("DEVISE_MIRROR", raising=False)
    monkeypatch.setenv("DEVISE_DATA", str(tmp_path))
    with pytest.raises(DatasetUnavailableError) as err:
        locate("caltech101")
    message = str(err.value)
    assert "caltech101" in message and REGISTRY["caltech101"].url in message
    assert "DEVISE_MIRROR" in message and OFFLINE_ERROR in message
    assert offline == [REGISTRY["caltech101"].url]
    assert not (
        tmp_path / "datasets" / "caltech101"
    ).exists()  # nothing half-made is left


def test_mirror_is_used_and_verified_without_copying(monkeypatch, tmp_path, offline):
    root = mirror()  # skips where there is no mirror
    monkeypatch.setenv("DEVISE_DATA", str(tmp_path))
    for name in ("caltech101", "sharks", "wordnet", "wikipedia"):
        assert locate(name) == root / REGISTRY[name].folder
    assert not (tmp_path / "datasets").exists() and offline == []  # nothing fetched


def test_incomplete_mirror_folder_fails_its_check(monkeypatch, tmp_path):
    fake_mirror = tmp_path / "mirror"
    for cls in ("airplanes", "ant"):
        (fake_mirror / "caltech101" / "101_ObjectCategories" / cls).mkdir(parents=True)
    monkeypatch.setenv("DEVISE_MIRROR", str(fake_mirror))
    monkeypatch.setenv("DEVISE_DATA", str(tmp_path / "data"))
    with pytest.raises(DatasetIntegrityError, match="2 class folders, expected 102"):
        locate("caltech101")


def test_imagenet_sample_with_a_photo_too_many_fails_its_check_in_one_line(tmp_path):
    # every class present, one twice: no class is missing, and the check still says why
    wnids = imagenet1k_wnids()
    for number, wnid in enumerate(wnids + wnids[:1]):
        (tmp_path / f"{wnid}_{number}.JPEG").write_bytes(b"")
    with pytest.raises(DatasetIntegrityError, match="holds 1001 photos.*no photo of 0"):
        REGISTRY["imagenet_sample"].verify(tmp_path)


def test_corrupted_download_fails_its_checksum_and_is_set_aside(tmp_path):
    archive = tmp_path / "caltech-101.zip"
    archive.write_bytes(b"not the real archive")
    with pytest.raises(DatasetIntegrityError, match="checksum") as err:
        verify_checksum(archive, REGISTRY["caltech101"].checksum)
    assert "downloads it again" in str(err.value)
    assert not archive.exists() and (tmp_path / "caltech-101.zip.corrupt").exists()


def test_download_path_verifies_checksum_then_unpacks_atomically(monkeypatch, tmp_path):
    # A registry entry whose "download" is a local zip: the whole non-mirror path runs
    # for real.
    payload = tmp_path / "src.zip"
    with zipfile.ZipFile(payload, "w") as z:
        z.writestr("repo-abc/images/gw_1.jpg", b"x")
    good = "sha256:" + hashlib.sha256(payload.read_bytes()).hexdigest()

    def fake_download(url, target, timeout=30.0):
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(payload.read_bytes())
        return target

    def verify(folder):
        if not (folder / "great_white_shark" / "gw_1.jpg").exists():
            raise DatasetIntegrityError("no photo")

    monkeypatch.delenv("DEVISE_MIRROR", raising=False)
    monkeypatch.setenv("DEVISE_DATA", str(tmp_path / "data"))
    monkeypatch.setattr(datasets, "download", fake_download)
    entry = replace(REGISTRY["sharks"], checksum=good, verify=verify)
    monkeypatch.setitem(REGISTRY, "sharks", entry)
    folder = locate("sharks")
    assert folder == tmp_path / "data" / "datasets" / "sharks"
    assert (folder / "great_white_shark" / "gw_1.jpg").exists()

    # The same with a wrong checksum: an error, and no dataset folder.
    monkeypatch.setenv("DEVISE_DATA", str(tmp_path / "data2"))
    monkeypatch.setitem(
        REGISTRY, "sharks", replace(entry, checksum="sha256:" + "0" * 64)
    )
    with pytest.raises(DatasetIntegrityError, match="checksum"):
        locate("sharks")
    assert not (tmp_path / "data2" / "datasets" / "sharks").exists()


def test_unknown_dataset_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="known: "):
        locate("imagenet")


@pytest.mark.parametrize("settled", [True, False])
def test_a_folder_listed_again_shows_a_photo_added_since(tmp_path, settled):
    (tmp_path / "b.jpg").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("not a photo")
    if settled:  # an hour old: its listing is kept
        os.utime(tmp_path, (time.time() - 3600,) * 2)
    assert photos_in(tmp_path) == [tmp_path / "b.jpg"]
    (tmp_path / "b.jpg").unlink()
    assert photos_in(tmp_path) == []
    (tmp_path / "a.png").write_bytes(b"")
    assert photos_in(tmp_path) == [tmp_path / "a.png"]
