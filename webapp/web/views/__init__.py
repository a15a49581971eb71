"""Pages, one blueprint per role."""
