"""The chapters' code display: a package object's own source as a fenced Markdown
output (highlighted by the rendered book and by JupyterLab), and resource excerpts."""

from IPython.core.formatters import format_display_data

from devise_lite.book.explorer import Explorer
from devise_lite.book.source import Listing, show_excerpt, show_source
from devise_lite.vectors import top_k, unit


def test_a_function_shows_as_a_fenced_python_block_and_as_plain_text():
    shown = show_source(unit)
    data, _ = format_display_data(shown)
    assert data["text/markdown"].startswith("```python\ndef unit(")
    assert data["text/markdown"].endswith("\n```\n")
    assert data["text/plain"].startswith("def unit(")  # the code itself, not a repr


def test_methods_are_dedented_and_several_objects_share_one_block():
    assert show_source(Explorer.answer).code.startswith("def answer(\n    self,")
    both = show_source(unit, top_k).code
    assert both.index("def unit(") < both.index("\n\n\ndef top_k(")


def test_the_fence_outgrows_backticks_in_the_code():
    fenced = Listing("x = '```'")._repr_markdown_()
    assert fenced.startswith("````python\n") and fenced.endswith("\n````\n")


def test_an_excerpt_of_a_resource_file_from_one_line_to_another():
    excerpt = show_excerpt("devise_2013_tables.md", "vectors unit-normed.", "1-3%")
    assert excerpt.language == "text"
    assert excerpt.code.startswith("Label vectors unit-normed.")  # the whole line
    assert excerpt.code.endswith("1-3% absolute.")
