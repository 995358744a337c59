"""Desired state: YAML files → validated `DesiredState`."""
