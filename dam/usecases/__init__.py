"""The use-case layer: one function per capability, called by the CLI (dam.cli) and by the HTTP
service (dam.serve.service) alike. Each takes the Library, returns pydantic results and raises
dam.errors; neither adapter rebuilds what a capability does."""
