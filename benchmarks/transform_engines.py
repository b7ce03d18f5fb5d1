"""Embedded JavaScript engines for ``--transform-script`` (``ravenmigrate.convert.transform``), side by side.

Runs the transform wrapper with a rename-and-skip script over the same 2 000 Northwind-like orders in
each installed engine (``quickjs``, the one ravenmigrate uses; ``mini-racer``, V8, if installed),
in batches of 1, 100 and 2 000 documents, and prints microseconds per document. Ratios between
engines measured in the same run are what count (the machine is shared).

    python benchmarks/transform_engines.py
"""

from __future__ import annotations

import json
import time

from ravenmigrate.convert.transform import _WRAPPER

SCRIPT = "if (this['@metadata']['@collection'] === 'Employees') throw 'skip'; this.Carrier = this.Freight; delete this.Freight;"


def documents(n: int = 2000) -> list[str]:
    line = {"Product": "products/11", "Quantity": 12, "PricePerUnit": 14.0, "Discount": 0.0}
    return [json.dumps({"Company": f"companies/{i % 91}", "Employee": "employees/5",
                        "OrderedAt": "1996-07-04T00:00:00.0000000", "Freight": 32.38, "Lines": [line] * 3,
                        "ShipTo": {"City": "Reims", "Country": "France"},
                        "@metadata": {"@collection": "Orders", "Raven-Clr-Type": "Orders.Order"}})
            for i in range(n)]


def engines() -> dict:
    out = {}
    try:
        import quickjs

        ctx = quickjs.Context()
        ctx.eval(_WRAPPER % SCRIPT)
        out["quickjs"] = ctx.get("__ravenmigrate_run")
    except ImportError:
        pass
    try:
        from py_mini_racer import MiniRacer

        v8 = MiniRacer()
        v8.eval(_WRAPPER % SCRIPT)
        out["mini-racer"] = lambda payload, v8=v8: v8.call("__ravenmigrate_run", payload)
    except ImportError:
        pass
    return out


def main() -> None:
    docs = documents()
    for name, run in engines().items():
        run("[" + ",".join(docs[:10]) + "]")  # warm up
        for batch in (1, 100, len(docs)):
            payloads = ["[" + ",".join(docs[i:i + batch]) + "]" for i in range(0, len(docs), batch)]
            started = time.perf_counter()
            for p in payloads:
                run(p)
            print(f"{name:<11} batch {batch:>5}: {(time.perf_counter() - started) * 1e6 / len(docs):8.1f} µs/document")


if __name__ == "__main__":
    main()
