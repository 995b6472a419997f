"""A package whose submodules are guarded through ``modules=``."""
