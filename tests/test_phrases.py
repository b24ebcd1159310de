from devise_lite.collocations import apply_phrases, read_lines, write_lines
from devise_lite.config import PhraseConfig
from devise_lite.phrases import LabelLexicon, lemma_tokens, phrase_token


def test_lemma_tokens_and_phrase_token_follow_the_corpus_tokeniser():
    assert lemma_tokens("Great_White_Shark") == ["great", "white", "shark"]
    assert phrase_token("T-shirt") == "t_shirt"
    assert phrase_token("shark") == "shark"


def test_label_lexicon_joins_longest_match_first():
    lexicon = LabelLexicon(["great_white_shark", "white_shark", "tiger_shark", "shark"])
    assert len(lexicon) == 3  # single words are not phrases
    tokens = "the great white shark and a white shark met a tiger shark".split()
    assert lexicon.join(tokens) == [
        "the",
        "great_white_shark",
        "and",
        "a",
        "white_shark",
        "met",
        "a",
        "tiger_shark",
    ]
    assert lexicon.join(["shark"]) == ["shark"]
    assert lexicon.join(["tiger"]) == ["tiger"]  # a prefix alone is left alone


def test_gensim_phrases_join_frequent_collocations(tmp_path):
    source = tmp_path / "in.txt"
    # "new york" recurs in many contexts; its neighbours never recur together.
    lines = [[f"went{i}", "to", "new", "york", f"in{i}"] for i in range(40)]
    lines += [
        [f"filler{i}", f"word{i}"] for i in range(200)
    ]  # a realistic vocabulary size for the score
    lines += [["new", "ideas"], ["york", "minster"]]
    write_lines(lines, source)
    target = tmp_path / "out.txt"
    apply_phrases(source, target, PhraseConfig(min_count=5, threshold=1.0, passes=1))
    out = list(read_lines(target))
    assert out[0] == ["went0", "to", "new_york", "in0"]
    assert out[-2:] == [["new", "ideas"], ["york", "minster"]]
    assert len(out) == len(lines)
