import pytest

from devise_lite import language_model
from devise_lite.config import Word2VecConfig, get_preset
from devise_lite.language_model import (
    beside_paper,
    corpus_record,
    objective,
    paper_note,
    paper_skipgram,
)


def test_the_paper_skipgram_is_read_from_its_notes():
    # devise_2013_tables.md: "5.7 M Wikipedia documents, 5.4 B words, a lexicon of
    # about 155 K terms, hierarchical softmax, window 20, one pass; 500-d and 1000-d".
    assert paper_skipgram() == {
        "documents": 5.7e6,
        "words": 5.4e9,
        "vocabulary": 155e3,
        "objective": "hierarchical softmax",
        "window": 20,
        "passes": 1,
        "dimensions": [500, 1000],
    }


def test_the_paper_preset_trains_the_paper_skipgram():
    paper, preset = paper_skipgram(), get_preset("paper").word2vec
    assert objective(preset) == paper["objective"]
    assert (preset.window, preset.epochs) == (paper["window"], paper["passes"])
    assert preset.vector_size == paper["dimensions"][0]


def test_objective_names_hierarchical_softmax_or_the_noise_words():
    assert objective(Word2VecConfig(hs=1, negative=0)) == "hierarchical softmax"
    assert objective(Word2VecConfig(hs=0, negative=3)) == (
        "negative sampling (3 noise words)"
    )


def test_a_paper_note_is_one_line_and_a_missing_one_is_named():
    assert paper_note("Label vectors").startswith('Label vectors: "training the model')
    assert "\n" not in paper_note("Skip-gram")
    with pytest.raises(KeyError, match="Nothing"):
        paper_note("Nothing")


def test_a_note_that_lost_a_fact_says_which(monkeypatch):
    monkeypatch.setattr(language_model, "paper_note", lambda start: "window 20")
    with pytest.raises(ValueError, match="documents"):
        paper_skipgram()


def test_beside_paper_sets_our_run_beside_the_paper_skipgram():
    ours = Word2VecConfig(vector_size=500, window=7, hs=0, negative=3, epochs=2)
    table = beside_paper(ours, words=41_237_798, vocabulary=233_106)
    assert list(table.columns) == ["the paper", "ours"]
    assert table.loc["words of Wikipedia"].tolist() == ["5.4 B", "41.2 M"]
    assert table.loc["vocabulary (terms with a vector)"].tolist() == ["155 K", "233 K"]
    assert table.loc["objective"].tolist() == [
        "hierarchical softmax",
        "negative sampling (3 noise words)",
    ]
    assert table.loc["window (words each side)"].tolist() == [20, 7]
    assert table.loc["passes over the text"].tolist() == [1, 2]
    assert table.loc["vector size"].tolist() == ["500-d or 1000-d", "500-d"]


def test_corpus_record_keeps_the_counts_and_the_steps_not_their_parts():
    info = {
        "documents": 131,
        "paragraphs": 6808,
        "tokens": 452985,
        "tokens_before_phrases": 487597,
        "label_phrases": 21934,
        "phrase_passes": [{"phrases": 100}, {"phrases": 20}],
        "processes": 2,
        "step_seconds": {
            "tokenise": 5.0,
            "learn phrases (1/2)": 2.25,
            "learn phrases (1/2): count": 2.0,
            "apply phrases (1/2)": 1.0,
        },
        "seconds": 25.73,
    }
    record = corpus_record(info)
    assert record["tokens before phrases"] == "487,597"
    assert record["tokens after phrases"] == "452,985"
    assert record["phrases found by statistics"] == "120"
    assert record["processes"] == "2"
    steps = [name for name in record.index if name.startswith("seconds: ")]
    assert steps == [
        "seconds: tokenise",
        "seconds: learn phrases (1/2)",
        "seconds: apply phrases (1/2)",
    ]
    assert record["seconds: learn phrases (1/2)"] == "2.2"  # to one decimal
    assert record["seconds in all"] == "25.7"
