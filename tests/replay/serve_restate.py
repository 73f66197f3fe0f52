"""Serve every Restate service found in the given folders' modules under hypercorn (h2c).

Run as ``python serve_restate.py PROTOCOL HOST:PORT DIR...`` (PROTOCOL: ``bidi`` or
``request_response``, where the SDK suspends at every await the journal cannot answer). A subprocess, so that a case blocking its event loop (``time.sleep``)
or leaking threads cannot disturb the test process.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path

import restate
from hypercorn.asyncio import serve
from hypercorn.config import Config

SERVICE_TYPES = (restate.Service, restate.VirtualObject, restate.Workflow)


def load_services(folders: list[Path], with_targets: bool) -> list[object]:
    import replay_targets  # the services the cases call (one module, imported once)

    services: list[object] = []
    if with_targets:
        services += [v for v in vars(replay_targets).values() if isinstance(v, SERVICE_TYPES)]
    for folder in folders:
        for path in sorted(folder.glob("*.py")):
            if path.name.startswith("_"):
                continue
            name = f"replay_case_{folder.name}_{path.stem}"
            spec = importlib.util.spec_from_file_location(name, path)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
            services.extend(v for v in vars(module).values() if isinstance(v, SERVICE_TYPES))
    return services


async def main() -> None:
    protocol, bind, *folders = sys.argv[1:]
    services = load_services([Path(f) for f in folders], with_targets=protocol == "bidi")
    app = restate.app(services, protocol=protocol)  # type: ignore[arg-type]
    config = Config()
    config.bind = [bind]
    config.h2_max_concurrent_streams = 2**31 - 1
    config.keep_alive_timeout = 2**31 - 1
    config.graceful_timeout = 1

    await serve(app, config, mode="asgi")  # type: ignore[arg-type]


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent / "cases"))
    asyncio.run(main())
