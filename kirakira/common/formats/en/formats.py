# The studio's staff type dates the Japanese way on the English pages too (2026/11/30), besides
# Django's English input formats; the rest is Django's own (FORMAT_MODULE_PATH).
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%Y/%m/%d", "%m/%d/%Y", "%m/%d/%y", "%b %d %Y", "%b %d, %Y", "%d %b %Y", "%d %b, %Y"]
# Times of day after the date, as staff type them (a consultation received at 2026/11/30 14:05).
DATETIME_INPUT_FORMATS = [
    f"{date} {time}" for date in DATE_INPUT_FORMATS for time in ("%H:%M:%S", "%H:%M")
] + DATE_INPUT_FORMATS
