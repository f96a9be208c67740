from services.partners.models import Base
from services.shared.migrate import run_env

run_env(Base.metadata)
