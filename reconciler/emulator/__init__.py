"""A Microsoft Graph v1.0 emulator (documented in the README). It imports nothing else of `reconciler`."""
