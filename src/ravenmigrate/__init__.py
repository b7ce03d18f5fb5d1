"""ravenmigrate: move RavenDB 3.x data into RavenDB 4.x, fast, losing nothing."""

__version__ = "0.1.0"
