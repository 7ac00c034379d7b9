"""The one package the studio uses to talk to an engine: the protocol, the client and its transports, job specs,
the client's job book, and the typed records that cross the boundary (models, generations, bits; the install
events of `istar models install|download --events`). No torch, no Qt: it imports only the standard library,
engine.atomic and engine.file_hash, so a studio without torch (or pointed at a remote engine) has everything it
needs."""
