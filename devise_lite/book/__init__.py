"""The book layer: what the chapters show beside the pipeline's results.

The paper's published tables and ours beside them, the claims and their verdicts, the
figures, chapter 7's explorer and its widget, chapter 6's views of the zero-shot
tables, and `source.show_source`, which shows the code a chapter teaches. The core
(data, language, vision, training, evaluation, zero-shot, predict) never imports it.
"""
