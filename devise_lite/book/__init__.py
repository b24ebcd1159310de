"""The book layer: what the chapters show beside the pipeline's results (the paper's
tables beside ours, the claims, the figures, the explorer, the code a chapter teaches);
the core (data, models, training, evaluation, zero-shot, predict) never imports it."""
