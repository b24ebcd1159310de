"""devise-lite: DeViSE (Frome et al., NIPS 2013) end to end on real data, on 2 cores.

The chapters of the book import the modules they teach; `pipeline` holds the cached
stages that the command line (`python -m devise_lite`) and the chapters call."""

__version__ = "0.1.0"
