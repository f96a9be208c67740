"""How shop runs (services.shared.process): `python -m deploy.serve shop`."""
from services.shared.process import Process

PROCESS = Process("shop", "services.shop.service:ShopService", metrics_port=4)
