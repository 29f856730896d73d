"""The open API: FastAPI over the service layer (``create_app``), served by ``embedfin serve``."""
