"""A Microsoft Graph v1.0 emulator (SPEC §8). It imports nothing else of `reconciler`."""
