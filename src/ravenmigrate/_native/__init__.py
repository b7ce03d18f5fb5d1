"""Compiled twins (built from ext/*.pyx). Never import directly: use ravenmigrate._twins.load."""
