import bz2

from conftest import mirror
from gensim.test.utils import datapath

from devise_lite.text import read_documents, sentences, tokenize, wikiextractor_files

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
    docs = read_documents(
        datapath("enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2")
    )
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
