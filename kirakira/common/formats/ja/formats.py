# Dates as typed in Japan: 2026-11-30, 2026/11/30, 2026.11.30, 2026年11月30日. Only the input
# formats are set here; everything else is Django's own for the language (FORMAT_MODULE_PATH).
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日"]
# Times of day after the date, as staff type them (a consultation received at 2026/11/30 14:05).
DATETIME_INPUT_FORMATS = [
    f"{date} {time}" for date in DATE_INPUT_FORMATS for time in ("%H:%M:%S", "%H:%M")
] + DATE_INPUT_FORMATS
