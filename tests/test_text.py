import bz2
import os
import re
from pathlib import Path

import pytest
from conftest import mirror
from gensim.test.utils import datapath

from devise_lite.datasets import REGISTRY, locate
from devise_lite.errors import UserError
from devise_lite.text import (
    BadTextError,
    read_documents,
    sentences,
    text_files,
    text_fingerprint,
    tokenize,
    wikiextractor_files,
)

XML_DUMP = "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"

ARTICLE = """<doc id="1" url="https://en.wikipedia.org/wiki?curid=1" title="Shark">
Shark

Sharks are a group of elasmobranch fish. The great white shark is large.
Hammerhead sharks have T-shaped heads.
</doc>
<doc id="2" url="https://en.wikipedia.org/wiki?curid=2" title="Whale">
Whale

Whales are marine mammals.
</doc>
"""


def _write_folder(root, compress):
    (root / "AA").mkdir(parents=True)
    path = root / "AA" / ("wiki_00.bz2" if compress else "wiki_00")
    data = ARTICLE.encode()
    path.write_bytes(bz2.compress(data) if compress else data)
    return root


def test_tokenize_lowercases_and_splits_hyphens():
    assert tokenize("Great White-Shark's T-shirt, 1999!") == [
        "great",
        "white",
        "shark",
        "s",
        "t",
        "shirt",
        "1999",
    ]


def test_wikiextractor_plain_and_bz2_read_the_same(tmp_path):
    plain = list(
        read_documents(_write_folder(tmp_path / "plain", False), progress=False)
    )
    packed = list(
        read_documents(_write_folder(tmp_path / "packed", True), progress=False)
    )
    assert [d.title for d in plain] == ["Shark", "Whale"]
    assert plain == packed
    # The title line repeated as the first paragraph is dropped.
    assert plain[0].paragraphs == [
        "Sharks are a group of elasmobranch fish. The great white shark is large.",
        "Hammerhead sharks have T-shaped heads.",
    ]


def test_sentences_are_tokenised_paragraphs_with_a_minimum_length(tmp_path):
    docs = read_documents(_write_folder(tmp_path / "f", False), progress=False)
    out = list(sentences(docs, min_tokens=5))
    assert out[0][:4] == ["sharks", "are", "a", "group"]
    assert ["whales", "are", "marine", "mammals"] not in out  # 4 tokens < 5


def test_real_xml_dump_streams_articles_without_markup():
    docs = read_documents(datapath(XML_DUMP))
    first = next(docs)
    assert first.title == "Anarchism"
    assert "[[" not in " ".join(first.paragraphs) and "{{" not in " ".join(
        first.paragraphs
    )
    assert sum(len(tokenize(p)) for p in first.paragraphs) > 1000


def test_real_mirror_folder_reads_bz2_files():
    folder = mirror() / "wikipedia" / "enwiki-2015-extracted"
    files = wikiextractor_files(folder)
    assert len(files) == 250 and files[0].name == "wiki_00.bz2"
    first = next(read_documents(folder, max_files=1, progress=False))
    assert first.title == "Anarchism" and first.paragraphs


# ---------------------------------------------------------------- the tokeniser


def test_tokenize_keeps_letters_of_every_script_lower_cased_and_nfkc_normalised():
    assert tokenize("Café, Zürich and naïve") == ["café", "zürich", "and", "naïve"]
    # Decomposed accents (e + combining acute) come out composed, as NFKC makes them.
    assert tokenize("Cafe\u0301") == ["caf\u00e9"]
    assert tokenize("Ἀπόλλων and ΟΔΟΣ") == ["ἀπόλλων", "and", "οδος"]
    assert tokenize("ΟΔΟΣ")[0][-1] == "ς"  # str.lower() knows the final sigma
    assert tokenize("Москва, 1147 год") == ["москва", "1147", "год"]
    # Combining marks stay inside a word: Devanagari vowel signs, Russian stress.
    assert tokenize("सलमान रुशदी") == ["सलमान", "रुशदी"]
    assert tokenize("Серге́й") == ["серге́й"]
    # NFKC folds compatibility forms: a ligature, full-width letters, superscripts.
    assert tokenize("\ufb01le ＡＢＣ km² ½") == ["file", "abc", "km2", "1", "2"]
    assert tokenize("1999 ٣٤ 3.14") == ["1999", "٣٤", "3", "14"]


def test_tokenize_splits_label_names_as_before():
    assert tokenize("T-shirt") == ["t", "shirt"]
    assert tokenize("great_white_shark") == ["great", "white", "shark"]
    assert tokenize("Carcharodon_carcharias") == ["carcharodon", "carcharias"]
    assert tokenize("") == [] and tokenize("-- _ !") == []


OLD_TOKEN = re.compile(r"[a-z0-9]+")  # the tokeniser before letters of every script


def test_wordsim353_vocabulary_tokenises_as_before():
    rows = Path(datapath("wordsim353.tsv")).read_text().splitlines()
    words = {w for row in rows if not row.startswith("#") for w in row.split("\t")[:2]}
    assert len(words) > 400 and all(w.isascii() for w in words)
    assert all(tokenize(w) == OLD_TOKEN.findall(w.lower()) for w in words)


def test_wordnet_noun_lemmas_tokenise_as_before():
    from devise_lite.wordnet import wordnet

    names = list(wordnet().all_lemma_names("n"))
    assert len(names) > 100_000
    changed = [n for n in names if tokenize(n) != OLD_TOKEN.findall(n.lower())]
    assert changed == []  # WordNet 3.0 is ASCII: every label joins as it did


# ---------------------------------------------------------------- bad files


def _bz2_file(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _truncated() -> bytes:
    return bz2.compress(ARTICLE.encode() * 50)[:-40]


def _garbled() -> bytes:
    good = bz2.compress(ARTICLE.encode() * 50)
    return good[:10] + bytes(b ^ 0x5A for b in good[10:])


def _read_all(source):
    return list(read_documents(source, progress=False))


def _one_line(err) -> str:
    message = str(err.value)
    assert "\n" not in message and isinstance(err.value, UserError)
    return message


@pytest.mark.parametrize(
    "data, problem",
    [
        (_truncated(), "is not a complete bzip2 file (truncated or corrupt"),
        (_garbled(), "is not a complete bzip2 file (truncated or corrupt"),
        (b"", "is empty (0 bytes)"),
        (ARTICLE.encode(), "is not a bzip2 file"),
    ],
)
def test_a_bad_bz2_in_the_mirror_names_the_file_and_how_to_refetch_it(
    tmp_path, monkeypatch, data, problem
):
    fake_mirror = tmp_path / "mirror"
    monkeypatch.setenv("DEVISE_MIRROR", str(fake_mirror))
    folder = fake_mirror / REGISTRY["wikipedia"].folder
    _bz2_file(folder / "AA" / "wiki_00.bz2", bz2.compress(ARTICLE.encode()))
    bad = _bz2_file(folder / "AA" / "wiki_07.bz2", data)
    with pytest.raises(BadTextError) as err:
        _read_all(folder)
    message = _one_line(err)
    assert message.startswith(f"{bad} {problem}")
    assert REGISTRY["wikipedia"].url in message and "DEVISE_TEXT" in message
    assert "read-only mirror" in message and "delete" not in message


def test_a_bad_bz2_in_the_data_root_can_be_deleted_and_downloaded_again(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("DEVISE_DATA", str(tmp_path / "data"))
    dataset = tmp_path / "data" / "datasets" / REGISTRY["wikipedia"].folder
    bad = _bz2_file(dataset / "AA" / "wiki_00.bz2", _truncated())
    with pytest.raises(BadTextError) as err:
        _read_all(dataset)
    message = _one_line(err)
    assert message.startswith(f"{bad} is not a complete bzip2 file")
    assert (
        f"delete {dataset} and " in message and REGISTRY["wikipedia"].archive in message
    )


def test_a_bad_bz2_of_the_users_own_text_says_to_refetch_or_point_elsewhere(tmp_path):
    bad = _bz2_file(tmp_path / "mine" / "wiki_00.bz2", _truncated())
    with pytest.raises(BadTextError) as err:
        _read_all(bad)
    message = _one_line(err)
    assert message.startswith(f"{bad} is not a complete bzip2 file")
    assert "re-fetch" in message and "DEVISE_TEXT" in message


def test_a_truncated_xml_dump_names_itself(tmp_path):
    dump = Path(datapath(XML_DUMP))
    bad = _bz2_file(
        tmp_path / "cut.xml.bz2", dump.read_bytes()[: dump.stat().st_size // 2]
    )
    with pytest.raises(BadTextError) as err:
        _read_all(bad)
    assert _one_line(err).startswith(f"{bad} is not a complete bzip2 file")


@pytest.mark.parametrize("data", [b"", _truncated()])
def test_the_dataset_check_names_an_empty_or_cut_file(tmp_path, monkeypatch, data):
    fake_mirror = tmp_path / "mirror"
    monkeypatch.setenv("DEVISE_MIRROR", str(fake_mirror))
    monkeypatch.setenv("DEVISE_DATA", str(tmp_path / "data"))
    folder = fake_mirror / REGISTRY["wikipedia"].folder
    bad = _bz2_file(folder / "AA" / "wiki_00.bz2", data)
    _bz2_file(folder / "AA" / "wiki_01.bz2", bz2.compress(ARTICLE.encode()))
    if data:  # a file cut short starts well; make sure the check reads into the cut
        bad.write_bytes(bz2.compress(b"x" * 10)[:-10])
    with pytest.raises(BadTextError) as err:
        locate("wikipedia")
    assert _one_line(err).startswith(str(bad))
    assert not (tmp_path / "data" / "datasets").exists()  # nothing copied or made


def test_a_text_source_that_does_not_exist_is_one_clear_line(tmp_path):
    missing = tmp_path / "no" / "such" / "text"
    for read in (_read_all, text_files, text_fingerprint):
        with pytest.raises(BadTextError) as err:
            read(missing)
        assert _one_line(err).startswith(f"the text source {missing} does not exist")
        assert "DEVISE_TEXT" in str(err.value)


def test_a_folder_without_wikiextractor_files_says_so(tmp_path):
    with pytest.raises(BadTextError, match="holds no WikiExtractor files"):
        text_files(tmp_path)


# ---------------------------------------------------------------- fingerprints


def test_text_fingerprint_changes_with_the_content_read(tmp_path):
    root = _write_folder(tmp_path / "wiki", True)
    first = root / "AA" / "wiki_00.bz2"
    second = _bz2_file(root / "AB" / "wiki_00.bz2", bz2.compress(ARTICLE.encode()))
    base = text_fingerprint(root)
    assert [name for name, *_ in base] == ["AA/wiki_00.bz2", "AB/wiki_00.bz2"]
    assert base[0][1] == first.stat().st_size
    assert text_fingerprint(root) == base  # reading the same files: the same
    assert text_fingerprint(root, max_files=1) == base[:1]
    os.utime(second, ns=(1, 1))  # touched: a later modification time
    assert text_fingerprint(root)[1][2] == 1 and text_fingerprint(root)[0] == base[0]
    assert text_fingerprint(root, max_files=1) == base[:1]  # not among the files read
    first.write_bytes(bz2.compress(ARTICLE.encode() * 2))
    assert text_fingerprint(root)[0] != base[0]
    assert text_fingerprint(first) == [("wiki_00.bz2", *text_fingerprint(root)[0][1:])]
    # The same files elsewhere (a copied mirror) give the same names.
    assert [n for n, *_ in text_fingerprint(root)] == [
        "AA/wiki_00.bz2",
        "AB/wiki_00.bz2",
    ]
