"""entraform: GitOps for Microsoft Entra ID."""

__version__ = "0.1.0"
