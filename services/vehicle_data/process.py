"""How vehicle data runs (services.shared.process): `python -m deploy.serve vehicle_data`."""
from services.shared.process import Process

PROCESS = Process("vehicle_data", "services.vehicle_data.service:VehicleDataService", metrics_port=3)
