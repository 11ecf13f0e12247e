"""The ingress's routes, one module per group, each a mixin of dam.serve.api.Api."""
