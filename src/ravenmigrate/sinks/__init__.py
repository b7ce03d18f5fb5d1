"""Where converted records go: a live 4.x server or an offline 4.x dump."""
