"""Rules, one per module: ``checks/<family>/idlNNN_<name>.py``. Importing this package
imports every rule module, which registers its rule (``Rule.__init_subclass__``)."""

from __future__ import annotations

import importlib
import pkgutil


def _import_rules() -> None:
    for family in pkgutil.iter_modules(__path__):
        if not family.ispkg:
            continue
        package = importlib.import_module(f"{__name__}.{family.name}")
        for module in pkgutil.iter_modules(package.__path__):
            if module.name.startswith("idl"):
                importlib.import_module(f"{package.__name__}.{module.name}")


_import_rules()
