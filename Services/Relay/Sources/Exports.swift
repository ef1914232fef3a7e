/// The relay's request and response bodies are ``JSON`` values from the shared library; re-exported so the relay's
/// own API (and its tests) speak of them without a second import.
@_exported import FairwayJSON
