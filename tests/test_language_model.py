import pytest

from devise_lite import language_model
from devise_lite.config import Word2VecConfig, get_preset
from devise_lite.language_model import objective, paper_note, paper_skipgram


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
