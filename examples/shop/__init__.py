"""A small shop on Restate, written the way first drafts often are (see README)."""
