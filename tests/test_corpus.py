import bz2
import logging
import multiprocessing
import random
from pathlib import Path

import pytest
from conftest import mirror
from gensim.models.phrases import ENGLISH_CONNECTOR_WORDS, Phrases
from gensim.test.utils import datapath

from devise_lite import collocations, corpus, phrase_shares
from devise_lite.collocations import (
    apply_phrases,
    end_words,
    phrase_candidates,
    phrases_model,
    score_phrases,
    write_lines,
)
from devise_lite.config import PhraseConfig, TextConfig
from devise_lite.corpus import (
    MIN_CORPUS_TOKENS,
    build_corpus,
    lines_bytes,
    ordered_map,
    page_batches,
    write_pieces,
)
from devise_lite.errors import UserError
from devise_lite.phrase_shares import (
    Block,
    heavy_count,
    key_parts,
    known_counts,
    learn_phrases,
    part_size,
    split_blocks,
    summed_counts,
)
from devise_lite.phrases import LabelLexicon
from devise_lite.progress import progress_bar
from devise_lite.storage import atomic_path
from devise_lite.text import BadTextError, read_documents, sentences

XML_DUMP = "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
LEMMAS = ["great_white_shark", "white_shark", "grand_piano", "New_York", "shark"]


def _doc(i: int, title: str, paragraphs: list[str]) -> str:
    url = f"https://en.wikipedia.org/wiki?curid={i}"
    body = "\n\n".join([title, *paragraphs])
    return f'<doc id="{i}" url="{url}" title="{title}">\n{body}\n</doc>\n'


def _wikiextractor(root: Path, files: list[str], compress: bool = True) -> Path:
    """A WikiExtractor folder: `files` are the texts of AA/wiki_00, AA/wiki_01, ..."""
    (root / "AA").mkdir(parents=True)
    for n, content in enumerate(files):
        name = f"wiki_{n:02d}" + (".bz2" if compress else "")
        data = content.encode()
        (root / "AA" / name).write_bytes(bz2.compress(data) if compress else data)
    return root


def _synthetic_files(n_files: int, docs: int, seed: int = 0) -> list[str]:
    """Text with phrases to find: collocations recur, connectors sit between words."""
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(400)]
    fixed = [
        "new york",
        "great white shark",
        "grand piano",
        "bank of america",
        "world war",
        "prime minister",
        "caf\u00e9 z\u00fcrich",
    ]
    files = []
    for f in range(n_files):
        articles = []
        for d in range(docs):
            paragraphs = []
            for _ in range(rng.randint(1, 4)):
                parts = []
                for _ in range(rng.randint(2, 30)):
                    r = rng.random()
                    if r < 0.15:
                        parts.append(rng.choice(fixed))
                    elif r < 0.35:
                        parts.append(rng.choice(["the", "of", "and", "a", "in"]))
                    else:
                        parts.append(rng.choice(words))
                paragraphs.append(" ".join(parts).capitalize() + ".")
            articles.append(_doc(f * 1000 + d, f"Article {f}-{d}", paragraphs))
        files.append("".join(articles))
    return files


def _old_way(source: Path, text: TextConfig, cfg: PhraseConfig, out: Path) -> bytes:
    """The corpus as the single-process stage made it (gensim's own Phrases)."""
    out.mkdir(parents=True, exist_ok=True)
    lexicon = LabelLexicon(LEMMAS if cfg.label_lexicon else [])
    docs = read_documents(source, text.max_files, progress=False)
    write_lines(
        (lexicon.join(s) for s in sentences(docs, text.min_sentence_tokens)),
        out / "joined.txt",
    )
    if not cfg.passes:
        return (out / "joined.txt").read_bytes()
    apply_phrases(out / "joined.txt", out / "corpus.txt", cfg)
    return (out / "corpus.txt").read_bytes()


def _build(source, text, cfg, out, processes, minimum=1000):
    info = build_corpus(
        source,
        text,
        cfg,
        LEMMAS,
        out,
        processes,
        min_corpus_tokens=minimum,
        progress=False,
    )
    return (out / "corpus.txt").read_bytes(), info


# ---------------------------------------------------------------- pure parts


def test_lines_bytes_ends_every_line_and_counts():
    assert lines_bytes([["a", "b"], ["caf\u00e9"]]) == (
        "a b\ncaf\u00e9\n".encode(),
        2,
        3,
    )
    assert lines_bytes([]) == (b"", 0, 0)


def test_split_blocks_makes_contiguous_runs_of_about_equal_bytes():
    blocks = [Block(0, 10), Block(10, 20), Block(20, 30), Block(30, 40)]
    assert split_blocks(blocks, 2) == [blocks[:2], blocks[2:]]
    assert split_blocks(blocks, 1) == [blocks]
    assert split_blocks(blocks, 9) == [[b] for b in blocks]  # at most one per block
    # One big block first: the rest still gets a run of its own.
    uneven = [Block(0, 100), Block(100, 101), Block(101, 102)]
    assert split_blocks(uneven, 2) == [uneven[:1], uneven[1:]]
    assert split_blocks([], 2) == []


@pytest.mark.parametrize("seed", range(20))
def test_split_blocks_keeps_every_block_in_order(seed):
    rng = random.Random(seed)
    ends = sorted(rng.sample(range(1, 10_000), rng.randint(1, 30)))
    blocks = [Block(a, b) for a, b in zip([0, *ends], ends, strict=False)]
    parts = rng.randint(1, 8)
    runs = split_blocks(blocks, parts)
    assert [b for run in runs for b in run] == blocks
    assert 1 <= len(runs) <= parts and all(runs)


def test_heavy_count_is_the_pigeonhole_bound():
    # Total > 5 over 2 shares: one share has at least 3 (2 + 2 = 4 is not > 5).
    assert heavy_count(5, 2) == 3
    assert heavy_count(5, 1) == 6
    assert heavy_count(3, 2) == 2
    assert heavy_count(5, 6) == 1


def test_candidates_and_their_end_words():
    vocab = {"new": 9, "york": 9, "new_york": 6, "of_the": 9, "bank_of_x": 5}
    assert phrase_candidates(vocab, 5) == {"new_york": 6, "of_the": 9}
    assert end_words(["new_york", "bank_of_america", "a_b_c"]) == {
        "new",
        "york",
        "bank",
        "america",
        "a",
        "c",
    }


def test_key_parts_deal_keys_by_length():
    keys = ["a", "bb", "cc", "ddd", "new_york"]
    assert key_parts(keys, 2) == [["bb", "cc", "new_york"], ["a", "ddd"]]
    assert key_parts(keys, 1) == [keys]
    assert key_parts([], 3) == [[], [], []]


def test_part_size_counts_each_key_of_the_part_once_over_all_shares():
    own = {"ab": 1, "cd": 2, "x": 5}  # this share's vocabulary; its part: ab, cd
    assert part_size(2, own, []) == 2
    assert part_size(2, own, [["ab", "ef"]]) == 3  # ef is new, ab is not
    assert part_size(2, own, [["ab", "ef"], ["ef", "gh", "cd"]]) == 4  # ef once
    assert part_size(0, {}, [[], ["ij"]]) == 1


def test_known_counts_are_the_candidates_and_their_end_words():
    vocab = {"new": 9, "york": 8, "new_york": 4, "of_the": 2, "a_of_b": 3, "a": 1}
    assert known_counts(vocab, 3) == {
        "new_york": 4,
        "a_of_b": 3,
        "new": 9,
        "york": 8,
        "a": 1,
        "b": 0,  # an end word this share never saw alone
    }


def test_summed_counts_add_the_shares_partial_counts():
    assert summed_counts(["a", "b", "c"], [{"a": 2, "b": 1}, {"a": 3}, {}]) == {
        "a": 5,
        "b": 1,
        "c": 0,
    }


def test_page_batches_group_consecutive_pages_by_markup_size():
    pages = [("a", "x" * 3), ("b", "x" * 3), ("c", "x" * 3)]
    assert list(page_batches(pages, chars=5)) == [pages[:2], pages[2:]]
    assert list(page_batches([], chars=5)) == []


@pytest.mark.parametrize("processes", [1, 2])
def test_ordered_map_keeps_order_and_reads_only_a_few_items_ahead(processes):
    read = []

    def items():
        for i in range(40):
            read.append(i)
            yield "x" * i

    results = ordered_map(len, items(), processes)
    assert next(results) == 0
    assert len(read) <= 2 * processes + 1  # a stream is not read ahead whole
    assert list(results) == list(range(1, 40))


def test_score_phrases_is_gensims_export_phrases():
    lines = [[f"went{i}", "to", "new", "york", f"in{i}"] for i in range(40)]
    lines += [[f"filler{i}", f"word{i}"] for i in range(200)]
    lines += [["bank", "of", "america"]] * 8 + [["great_white_shark", "swam"]] * 7
    # A label phrase is scored by its end words' own counts: gensim splits keys at "_".
    lines += [["great", "day"], ["shark", "fin"]]
    cfg = PhraseConfig(min_count=5, threshold=1.0)
    gensim_model = Phrases(
        lines,
        min_count=5,
        threshold=1.0,
        delimiter="_",
        connector_words=ENGLISH_CONNECTOR_WORDS,
    )
    expected = gensim_model.export_phrases()
    assert {"new_york", "bank_of_america", "great_white_shark"} <= set(expected)
    vocab = gensim_model.vocab
    assert (
        score_phrases(
            phrase_candidates(vocab, 5),
            vocab,
            len(vocab),
            gensim_model.corpus_word_count,
            phrases_model(cfg),
        )
        == expected
    )


# ---------------------------------------------------------------- learning phrases


def _corpus_file(tmp_path, lines_per_block):
    """A corpus file and its blocks, from lists of token lists."""
    path = tmp_path / "joined.txt"
    pieces = [corpus.Piece(lines_bytes(lines)[0], 0, 0, 0) for lines in lines_per_block]
    with progress_bar(progress=False) as bar:
        blocks, _ = write_pieces(pieces, path, bar)
    return path, blocks


def _synthetic_lines(seed=1, n=3000):
    """Random words, and 60 collocations (some around a connector) to find in them."""
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(300)] + ["of", "the"]
    pairs = [[f"a{i}", f"b{i}"] for i in range(40)]
    pairs += [[f"c{i}", "of", "the", f"d{i}"] for i in range(20)]
    lines = []
    for _ in range(n):
        line = [rng.choice(vocab) for _ in range(rng.randint(1, 12))]
        if rng.random() < 0.5:
            at = rng.randrange(len(line) + 1)
            line[at:at] = rng.choice(pairs)
        lines.append(line)
    return lines


@pytest.mark.parametrize("max_vocab_size", [40_000_000, 700])
def test_counts_are_gensims_pruning_included(monkeypatch, max_vocab_size):
    # connectors leading, trailing, in a row, alone, and a line of none
    lines = _synthetic_lines(seed=4, n=400) + [
        ["of", "the", "w1", "of", "w2", "the"],
        ["the", "of"],
        [],
        ["w3"],
    ]
    settings = dict(min_count=3, threshold=1.0, max_vocab_size=max_vocab_size)
    settings |= dict(delimiter="_", connector_words=ENGLISH_CONNECTOR_WORDS)
    monkeypatch.setattr(collocations, "phrases_model", lambda _: Phrases(**settings))
    gensims = Phrases(**settings)
    gensims.add_vocab(lines)
    ours = collocations.count_sentences(iter(lines), PhraseConfig())
    assert dict(ours.vocab) == gensims.vocab and "w1_of_w2" in ours.vocab
    assert ours.corpus_word_count == gensims.corpus_word_count
    assert (ours.min_reduce > 1) == (max_vocab_size == 700)


@pytest.mark.parametrize("processes", [2, 3])
def test_phrases_learnt_in_shares_are_gensims_in_one_process(tmp_path, processes):
    lines = _synthetic_lines()
    cfg = PhraseConfig(min_count=3, threshold=1.0)
    path, blocks = _corpus_file(
        tmp_path, [lines[i : i + 250] for i in range(0, 3000, 250)]
    )
    expected = (
        Phrases(
            lines,
            min_count=3,
            threshold=1.0,
            delimiter="_",
            connector_words=ENGLISH_CONNECTOR_WORDS,
        )
        .freeze()
        .phrasegrams
    )
    one, info_one = learn_phrases(path, blocks, cfg, 1, progress=False)
    many, info_many = learn_phrases(path, blocks, cfg, processes, progress=False)
    assert len(expected) > 50
    assert one.phrasegrams == expected and many.phrasegrams == expected
    assert info_many["shares"] == processes
    assert info_many["vocabulary"] == info_one["vocabulary"]
    assert not list(tmp_path.glob(".*.counts"))  # the key files are gone


def test_where_gensim_would_prune_phrases_are_learnt_in_one_process(
    tmp_path, monkeypatch, caplog
):
    lines = _synthetic_lines(seed=2)
    cfg = PhraseConfig(min_count=3, threshold=1.0)
    path, blocks = _corpus_file(
        tmp_path, [lines[i : i + 500] for i in range(0, 3000, 500)]
    )
    pruning = dict(
        min_count=3,
        threshold=1.0,
        delimiter="_",
        connector_words=ENGLISH_CONNECTOR_WORDS,
        max_vocab_size=2000,
    )

    def pruning_model(cfg):
        return Phrases(None, **pruning)

    for module in (phrase_shares, collocations):  # the shares' and the one process's
        monkeypatch.setattr(module, "phrases_model", pruning_model)
    expected = Phrases(lines, **pruning).freeze().phrasegrams
    with caplog.at_level(logging.WARNING, logger="devise_lite.phrase_shares"):
        frozen, info = learn_phrases(path, blocks, cfg, 2, progress=False)
    assert "max_vocab_size" in caplog.text
    assert info["shares"] == 1 and frozen.phrasegrams == expected


@pytest.mark.skipif(
    multiprocessing.get_start_method() != "fork",
    reason="the broken counter reaches the workers only by forking",
)
def test_an_error_in_a_counting_worker_reaches_the_parent(tmp_path, monkeypatch):
    lines = _synthetic_lines(seed=3, n=600)
    path, blocks = _corpus_file(
        tmp_path, [lines[i : i + 100] for i in range(0, 600, 100)]
    )

    def broken(sentences, cfg):
        raise ValueError("no counting today")

    monkeypatch.setattr(
        phrase_shares, "count_sentences", broken
    )  # forked workers see it
    with pytest.raises(ValueError, match="no counting today"):
        learn_phrases(path, blocks, PhraseConfig(), 2, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["joined.txt"]


# ---------------------------------------------------------------- build_corpus


ARTICLES = [
    _doc(
        1,
        "Shark",
        [
            "Sharks are a group of elasmobranch fish. The great white shark is large.",
            "Hammerhead sharks have T-shaped heads.",
        ],
    ),
    _doc(2, "Whale", ["Whales are marine mammals.", "Too short."]),
]


def test_counts_of_a_hand_made_corpus(tmp_path):
    source = _wikiextractor(tmp_path / "wiki", ARTICLES)
    cfg = PhraseConfig(passes=0)
    for processes in (1, 2):
        out = tmp_path / f"out{processes}"
        data, info = _build(source, TextConfig(), cfg, out, processes, minimum=1)
        # 13 tokens with great_white_shark as one; 6 (t, shaped); 4; "too short" < 3.
        assert data == (
            b"sharks are a group of elasmobranch fish the great_white_shark is large\n"
            b"hammerhead sharks have t shaped heads\n"
            b"whales are marine mammals\n"
        )
        assert info["documents"] == 2 and info["paragraphs"] == 3
        assert info["tokens"] == info["tokens_before_phrases"] == 11 + 6 + 4
        assert info["label_phrases"] == 4  # the multi-word lemmas of LEMMAS
        assert info["processes"] == processes
        assert set(info["step_seconds"]) == {"tokenise"}
        assert sorted(p.name for p in out.iterdir()) == ["corpus.txt"]


@pytest.mark.parametrize("passes", [1, 2])
def test_hand_made_files_give_the_same_corpus_on_1_and_2_processes(tmp_path, passes):
    source = _wikiextractor(tmp_path / "wiki", _synthetic_files(5, 40))
    text, cfg = TextConfig(), PhraseConfig(min_count=3, threshold=2.0, passes=passes)
    one, info_one = _build(source, text, cfg, tmp_path / "one", 1)
    two, info_two = _build(source, text, cfg, tmp_path / "two", 2)
    assert one == two == _old_way(source, text, cfg, tmp_path / "old")
    assert b"new_york" in one and "caf\u00e9_z\u00fcrich".encode() in one
    assert info_one["tokens"] == len(one.split()) == info_two["tokens"]
    assert info_one["paragraphs"] == one.count(b"\n")
    assert info_one["phrase_passes"] == [
        {**p, "shares": 1} for p in info_two["phrase_passes"]
    ]
    assert info_two["phrase_passes"][0]["shares"] == 2


@pytest.mark.slow
def test_real_mirror_files_give_the_same_corpus_on_1_and_2_processes(tmp_path):
    source = mirror() / "wikipedia" / "enwiki-2015-extracted"
    text, cfg = TextConfig(max_files=3), PhraseConfig(min_count=3, threshold=10.0)
    one, info_one = _build(source, text, cfg, tmp_path / "one", 1, MIN_CORPUS_TOKENS)
    two, info_two = _build(source, text, cfg, tmp_path / "two", 2, MIN_CORPUS_TOKENS)
    assert one == two == _old_way(source, text, cfg, tmp_path / "old")
    # The tiny preset's seven files clear the minimum comfortably.
    assert info_one["tokens_before_phrases"] > 4 * MIN_CORPUS_TOKENS
    assert info_one["tokens"] == len(one.split())


@pytest.mark.slow
def test_an_xml_dump_gives_the_same_corpus_on_1_and_2_processes(tmp_path, monkeypatch):
    monkeypatch.setattr(corpus, "_XML_BATCH_CHARS", 200_000)  # several batches
    source = Path(datapath(XML_DUMP))
    text, cfg = TextConfig(), PhraseConfig(min_count=3)
    one, info_one = _build(source, text, cfg, tmp_path / "one", 1)
    two, _ = _build(source, text, cfg, tmp_path / "two", 2)
    assert one == two == _old_way(source, text, cfg, tmp_path / "old")
    assert info_one["documents"] == len(list(read_documents(source)))


# ---------------------------------------------------------------- bad text


REPO = Path(__file__).resolve().parent.parent


def _refused(source, tmp_path, processes=1, **kwargs) -> str:
    """Build in an atomic stage folder as the cache does: the message; nothing left."""
    target = tmp_path / "cache" / "corpus-k"
    with pytest.raises(BadTextError) as err, atomic_path(target) as tmp:
        tmp.mkdir(parents=True)
        try:
            build_corpus(
                source, TextConfig(), PhraseConfig(), LEMMAS, tmp, processes, **kwargs
            )
        finally:
            assert not (tmp / "corpus.txt").exists()  # nothing a later run would trust
            assert list(tmp.iterdir()) == []
    assert not target.exists() and list(target.parent.iterdir()) == []
    assert isinstance(err.value, UserError) and "\n" not in str(err.value)
    return str(err.value)


def test_text_that_is_not_wikipedia_is_refused_as_too_small(tmp_path):
    readme = REPO / "README.md"
    message = _refused(readme, tmp_path, progress=False)
    assert message.startswith(f"{readme} (WikiExtractor text, max_files=None) gave 0")
    assert f"fewer than the {MIN_CORPUS_TOKENS:,}" in message
    assert "holds no articles" in message


def test_a_ten_word_corpus_is_refused_with_the_minimum_and_what_it_found(tmp_path):
    ten = _doc(1, "Ten", ["One two three four five six seven eight nine ten."])
    source = _wikiextractor(tmp_path / "wiki", [ten])
    message = _refused(source, tmp_path, processes=2, progress=False)
    assert "gave 10 tokens in 1 paragraphs of 1 articles" in message
    assert f"{MIN_CORPUS_TOKENS:,}" in message


def test_a_missing_source_is_one_clear_line(tmp_path):
    message = _refused(tmp_path / "nowhere", tmp_path, progress=False)
    assert message.startswith(f"the text source {tmp_path / 'nowhere'} does not exist")


def test_a_bad_file_read_by_a_worker_process_stops_the_build_with_its_name(tmp_path):
    files = _synthetic_files(4, 10)
    source = _wikiextractor(tmp_path / "wiki", files)
    bad = source / "AA" / "wiki_02.bz2"
    bad.write_bytes(bad.read_bytes()[:-30])
    message = _refused(source, tmp_path, processes=2, progress=False)
    assert message.startswith(f"{bad} is not a complete bzip2 file")
