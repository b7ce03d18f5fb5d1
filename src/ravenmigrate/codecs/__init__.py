"""Pure functions over bytes: JSON values, bundle codecs (compression, encryption), BSON."""
