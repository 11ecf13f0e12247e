"""Automated metadata enrichment: tags, classifications and a description per asset, each from a
small source (technical, picture, faces, speech, motion, clip) behind one interface."""
