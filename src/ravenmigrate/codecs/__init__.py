"""Codecs: pure functions over bytes for the 3.x bundles (compression, encryption), BSON bodies
and JSON (:mod:`~ravenmigrate.codecs.jsonvalue` lenient values, :mod:`~ravenmigrate.codecs.jsonsplit` the splitter).

Entry points: :func:`ravenmigrate.codecs.document.decode_document` / ``encode_document``,
:class:`ravenmigrate.codecs.encryption.EncryptionSettings`, :func:`ravenmigrate.codecs.verification.verify_key`,
:mod:`ravenmigrate.codecs.options` (the 4.0 migration dialog options). See docs/bundles.md.
"""
