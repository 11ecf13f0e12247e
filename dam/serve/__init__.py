"""The Ray Serve application: FastAPI ingress and deployments over the same Library calls."""
