"""The ClutchCall runtime: hand-written library code beside the generated SDK (`clutchcall`)."""
