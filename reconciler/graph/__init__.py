"""The only code that speaks HTTP to Microsoft Graph."""
