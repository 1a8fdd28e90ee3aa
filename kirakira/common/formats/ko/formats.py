# Dates as typed in Korea (2026.11.30, 2026-11-30, 2026/11/30, 2026년 11월 30일); the rest is
# Django's own for the language (FORMAT_MODULE_PATH).
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y년 %m월 %d일", "%Y년%m월%d일"]
# Times of day after the date, as staff type them (a consultation received at 2026/11/30 14:05).
DATETIME_INPUT_FORMATS = [
    f"{date} {time}" for date in DATE_INPUT_FORMATS for time in ("%H:%M:%S", "%H:%M")
] + DATE_INPUT_FORMATS
