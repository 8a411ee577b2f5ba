"""Paper stage: the run manifest, the paper's markdown fragments and figures, and its rendering to HTML and PDF."""
