"""Loading into a live RavenDB 4.x server (docs/loading.md).

``client`` speaks HTTP to the server, ``smuggler`` (streamed import) and ``bulk_insert`` are the two
transports, ``streams`` runs them in parallel, ``loader`` routes records and checkpoints
(``checkpoint``), ``progress`` draws the live line and the summary, ``embedded`` starts the bundled
4.1 server when no ``--url`` is given.
"""
