"""The three endpoints of a RavenDB 3.5 server that 4.x's live RavenFS migration calls, serving one
file system read by ravenmigrate: so the real 4.1 server's own ``Migrator_V3`` can run against it.

Behaviour from the 3.x source (ravendb v3.5): ``GET /build/version`` (BuildController);
``GET /fs/{name}/streams/files?pageSize=&etag=`` (``FilesStreamsController.StreamFilesGet``: the file
headers after the etag, in etag order, tombstones included, ``{"Results":[FileHeader...]}`` where a
FileHeader has ``FullPath`` = ``/`` + key, ``Metadata`` with ``ETag`` added by
``StorageActionsAccessor.ConvertToFile``, ``Etag``); ``GET /fs/{name}/files/{name}``
(``FilesController.Get``: 404 when the metadata holds ``Raven-Delete-Marker``; ``StorageStream.Reading``
throws FileNotFoundException, a 404, when the upload never completed; else the bytes).
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ravenmigrate.sources import open_source

BUILD = {"ProductVersion": "3.5.5-patch-35246", "BuildVersion": 35246}


class RavenFSEmulator:
    """Serves the file system at *path* as ``/fs/{name}`` on 127.0.0.1; use as a context manager."""

    def __init__(self, path, name: str = "fs") -> None:
        self.name = name
        self.source = open_source(path)
        files = [f for f in self.source.records() if f.etag is not None]
        self.files = sorted(files, key=lambda f: f.etag)
        self.by_key = {f.key: f for f in files}
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> RavenFSEmulator:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.source.close()

    def headers_after(self, etag: str, page_size: int) -> list[dict]:
        after = [f for f in self.files if f.etag > etag.upper()][:page_size]
        return [{"FullPath": "/" + f.key, "Metadata": {**f.metadata, "ETag": f.etag}, "Etag": f.etag} for f in after]

    def _handler(self):
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _json(self, value) -> None:
                body = json.dumps(value, ensure_ascii=False).encode()  # UTF-8, as Json.NET writes it (no \u escapes)
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                url = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                prefix = f"/fs/{emulator.name}/"
                if url.path == "/build/version":
                    return self._json(BUILD)
                if url.path == prefix + "streams/files":
                    return self._json({"Results": emulator.headers_after(query.get("etag", ""),
                                                                         int(query.get("pageSize", 1 << 30)))})
                if url.path.startswith(prefix + "files/"):
                    key = urllib.parse.unquote(url.path[len(prefix + "files/"):])
                    f = emulator.by_key.get(key)
                    if f is None or "Raven-Delete-Marker" in f.metadata or f.content is None:
                        self.send_response(404)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return None
                    self.send_response(200)
                    self.send_header("Content-Type", "application/octet-stream")
                    self.send_header("Content-Length", str(len(f.content)))
                    self.end_headers()
                    for chunk in f.content.chunks():
                        self.wfile.write(chunk)
                    return None
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None

        return Handler
