"""The `tovholder` command line (see CONTRACT.md)."""
