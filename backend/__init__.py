"""Neural-network playground: a NumPy core (backend.core) and the HTTP service around it."""

__version__ = "0.1.0"
