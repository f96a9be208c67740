"""The gateway's routes, one module per area, each a class `Routes` of @route methods (gateway.http.route):
adding an area is adding a module here. GatewayService is made of them all."""
import importlib
import pkgutil

AREAS = tuple(importlib.import_module(f"{__name__}.{found.name}").Routes
              for found in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name))
