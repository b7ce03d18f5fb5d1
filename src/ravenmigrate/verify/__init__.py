"""Checking a 4.x database against its 3.x source.

``documents`` is ``ravenmigrate verify``: the converted source against the server's documents,
attachments, revisions, identities and indexes, through digests (``digests``); ``expected`` builds
the source's side, ``stream`` reads the server's. ``compare`` reads a
database's whole state and diffs two states (the differential tests against the server's own
import).
"""
