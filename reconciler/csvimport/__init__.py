"""`import --from-csv`: an HR export merged into the desired-state YAML (mapping, rows, in-place edits)."""
