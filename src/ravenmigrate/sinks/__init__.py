"""Sinks: where converted records go (live 4.x server over bulk insert or the streamed import, with
checkpoints and verification; offline 4.x dumps)."""
