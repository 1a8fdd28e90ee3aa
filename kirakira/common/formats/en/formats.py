# The studio's staff type dates the Japanese way on the English pages too (2026/11/30), besides
# Django's English input formats; the rest is Django's own (FORMAT_MODULE_PATH).
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%Y/%m/%d", "%m/%d/%Y", "%m/%d/%y", "%b %d %Y", "%b %d, %Y", "%d %b %Y", "%d %b, %Y"]
