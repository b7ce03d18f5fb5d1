"""The offline RavenDB 4.x ``.ravendbdump`` writer (docs/dump4.md).

``writer`` frames and deflates the sections, ``records`` encodes one 4.x element, ``metadata``
finds a document's own ``@metadata`` (pure twin of ``_native.dump4_metadata``), ``split`` cuts the
output into parts, ``convert`` drives a source through the converter into the writer, ``layout``
reads a 4.x dump back (tests and inspection).
"""
