"""The web face: the device, application and operator APIs, the notices and the people's portal,
one FastAPI app over the running hub (`create_app`)."""

from goodthings.web.app import create_app
from goodthings.web.deps import hub_of

__all__ = ["create_app", "hub_of"]
