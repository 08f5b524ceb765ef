"""Runs and sessions: what a run is (``RunSpec``) and the service that carries one out (``service``)."""

from quantdesk.runtime.spec import RunSpec

__all__ = ["RunSpec"]
